"""`distillscope study STUDY.yaml --out DIR`: the paper's study in one command.

ICE for every target, RSE of every target against the reference (one RSE run, the foils as its
contrast panel), all through one ledger (DIR/ledger.sqlite), so a study interrupted and rerun
repeats no finished call. Writes

    DIR/ice-<target>/   one ICE run directory per target
    DIR/rse/            the RSE run directory
    DIR/attribution/    with an `attribution:` section: `rse attribute` of every target against the
                        families (or a bank), the decision calibrated on the section's controls
    DIR/results.json    a StudyResult: one entry per target with its ICE and RSE results
    DIR/report.html     one report with every target (and report.md)

The file's `models:` is exactly the --config format; the file itself serves as the config.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import os
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distillscope import jsonsafe
from distillscope.engine.ownership import claim_directory
from distillscope.engine.run import (
    DirectoryLock,
    RunContext,
    RunOptions,
    entry_names,
    missing_dirs,
    own_ledger,
    prepare_out_dir,
    release_directory,
    remove_made_dirs,
)
from distillscope.errors import BudgetExhausted, UserError, clip
from distillscope.ice.runner import DEFAULT_FUZZ_BUDGET, IceRunSettings, run_ice
from distillscope.models.spec import ModelCatalog, check_one_ledger, parse_inline
from distillscope.records import bool_problem, check_file, field_suffix, load_yaml, yaml_error
from distillscope.results.ice import IceResult
from distillscope.results.rse import RseResult
from distillscope.results.study import StudyResult, StudyTarget
from distillscope.rse.attribution.types import AttributionResult
from distillscope.rse.judging import OFFLINE
from distillscope.rse.stage import (
    RseAttributeSettings,
    RseRunSettings,
    run_attribution_stage,
    run_rse_stage,
)

if TYPE_CHECKING:
    from distillscope.rse.datasets import Dataset

TOP_KEYS = ("models", "targets", "reference", "foils", "ice", "rse", "attribution")
# The ice section's settings that name a file: like the datasets, relative to the study file.
ICE_FILES = ("templates", "probes", "identities", "judge_calibration", "judge_weights")
NOT_JUDGE_MODELS = ("rules", "recorded")


@dataclass
class StudySpec:
    """A validated study file."""

    path: Path
    catalog: ModelCatalog
    targets: list[str]
    reference: str | None
    foils: list[str]
    ice: dict[str, Any] | None  # IceRunSettings fields but `target`
    rse: dict[str, Any] | None  # RseRunSettings fields but `reference`, `tests`, `panel`
    attribution: dict[str, Any] | None = None  # RseAttributeSettings fields but `tests` (the targets)

    def ice_settings(self, target: str) -> IceRunSettings:
        return IceRunSettings(target=target, **(self.ice or {}))

    def attribution_settings(self) -> RseAttributeSettings:
        assert self.attribution is not None
        return RseAttributeSettings(tests=self.targets, **self.attribution)

    def rse_settings(self) -> RseRunSettings:
        assert self.reference is not None
        return RseRunSettings(
            reference=self.reference, tests=self.targets, panel=self.foils, **(self.rse or {})
        )


def _fields(cls: type, exclude: tuple[str, ...]) -> dict[str, Any]:
    return {f.name: f for f in dataclasses.fields(cls) if f.name not in exclude}


def _section(path: Path, raw: Any, name: str, cls: type, exclude: tuple[str, ...]) -> dict[str, Any] | None:
    """A settings section, its keys checked against the settings class and its values typed."""
    from pydantic import TypeAdapter, ValidationError

    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise yaml_error(path, "expected a mapping of settings", field=name)
    known = _fields(cls, exclude)
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in known:
            raise yaml_error(path, f"unknown key (known: {', '.join(known)})", field=f"{name}.{key}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        wrong = jsonsafe.bool_for_number(hints[key], value)
        if wrong is not None:  # lax validation reads `sample: yes` (a YAML boolean) as 1
            raise yaml_error(path, bool_problem(wrong[1]), field=f"{name}.{key}{field_suffix(wrong[0])}")
        try:
            out[key] = TypeAdapter(hints[key]).validate_python(value, strict=False)
        except ValidationError as exc:
            raise yaml_error(path, exc.errors()[0]["msg"], field=f"{name}.{key}") from None
        # `ratio: nan` is the text "nan" to YAML, which the lax check reads as a float
        found = jsonsafe.locate_bad_number(out[key])
        if found is not None:
            message = str(jsonsafe.NumberOutOfRange("", found[1]))
            raise yaml_error(path, message, field=f"{name}.{key}{field_suffix(found[0])}")
    return out


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file: unknown keys and models that are not defined are errors that
    name the file and field."""
    path = Path(path)
    check_file(path, "study file")
    catalog = _model_files(path, ModelCatalog.load(path))  # the models: section, as a --config file
    _check_one_ledger(path, catalog)
    data = load_yaml(path, "study file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of study settings (models:, targets:, ...)")
    for key in data:
        if key not in TOP_KEYS:
            raise yaml_error(path, f"unknown key (known: {', '.join(TOP_KEYS)})", field=str(key))
    targets = data.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise yaml_error(path, "expected a list of model names", field="targets")
    if len(set(targets)) != len(targets):
        raise yaml_error(path, "a target is listed twice", field="targets")
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise yaml_error(path, f"expected a model name, got {type(reference).__name__}", field="reference")
    foils = data.get("foils") or []
    if not isinstance(foils, list):
        raise yaml_error(path, "expected a list of model names", field="foils")
    for i, foil in enumerate(foils):
        if not isinstance(foil, str):
            raise yaml_error(path, f"expected a model name, got {type(foil).__name__}", field=f"foils[{i}]")
    named = [(f"targets[{i}]", t) for i, t in enumerate(targets)] + [
        (f"foils[{i}]", f) for i, f in enumerate(foils)
    ]
    if reference is not None:
        named.append(("reference", reference))
    for where, name in named:
        if str(name) not in catalog.models:
            raise _no_model(path, str(name), catalog, where)
    ice = _section(path, data.get("ice", {}), "ice", IceRunSettings, ("target",))
    if ice is not None:  # its files are relative to the study file, as datasets are
        for key in ICE_FILES:
            value = ice.get(key)
            if isinstance(value, str) and value.strip() and value != "builtin":
                ice[key] = _relative(path, value)
    rse = _section(path, data.get("rse"), "rse", RseRunSettings, ("reference", "tests", "panel"))
    if rse is not None and reference is None:
        raise yaml_error(path, "RSE settings need a reference model", field="reference")
    if rse is not None:
        _check_roles(path, targets, reference, foils)
    if rse is not None and not rse.get("datasets"):
        raise yaml_error(
            path, "give at least one dataset (NAME: PATH, or NAME: builtin)", field="rse.datasets"
        )
    if rse is not None:  # dataset paths are relative to the study file
        rse["datasets"] = _dataset_files(path, "rse.datasets", rse["datasets"])
    _check_judges(path, catalog, ice, rse)
    attribution = _section(path, data.get("attribution"), "attribution", RseAttributeSettings, ("tests",))
    if ice is None and rse is None and attribution is None:
        raise yaml_error(
            path,
            "nothing to run: give ice settings (or leave `ice:` out), an `rse:` or an `attribution:` section",
            field="ice",
        )
    if attribution is not None:
        _check_attribution(path, attribution, catalog, targets)
    spec = StudySpec(path, catalog, targets, reference, [str(f) for f in foils], ice, rse, attribution)
    if ice is not None:
        _validate(path, "ice", ice, lambda: spec.ice_settings(targets[0]).validate())
    if rse is not None:
        _validate(path, "rse", rse, lambda: spec.rse_settings().validate())
    if attribution is not None:
        _validate(path, "attribution", attribution, lambda: spec.attribution_settings().validate())
    return spec


def _check_roles(path: Path, targets: list[str], reference: str | None, foils: list[Any]) -> None:
    """The roles the RSE run refuses, refused when the file is read: a reference that is also a
    target or a foil, a foil that is also a target or listed twice. The run refused them only when its RSE
    stage started (after every ICE stage), naming neither the file nor the field, and `--dry-run`
    planned them."""
    if reference is not None and reference in targets:
        raise yaml_error(
            path,
            f"'{clip(reference)}' is also a target; the targets are compared with the reference",
            field="reference",
        )
    for i, foil in enumerate(foils):
        if reference is not None and str(foil) == reference:  # its perfect 5 joined the panel's median
            raise yaml_error(
                path,
                f"'{clip(reference)}' is the reference; the foils are the other models every target's "
                "similarity is set against: give it in one role only",
                field=f"foils[{i}]",
            )
    _one_role(path, [str(f) for f in foils], targets, lambda i: f"foils[{i}]")


def _one_role(
    path: Path,
    names: list[str],
    targets: list[str],
    field: Callable[[int], str],
    members: frozenset[str] = frozenset(),
) -> None:
    """Each of `names` (foils, controls) in one role only: not a family member, not a target, not
    listed twice; an error names the file and `field(i)` of the name at i."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in members:
            raise yaml_error(
                path,
                f"'{clip(name)}' is also a family member; a control must be independent of every family",
                field=field(i),
            )
        if name in targets:
            raise yaml_error(
                path, f"'{clip(name)}' is also a target; give it in one role only", field=field(i)
            )
        if name in seen:
            raise yaml_error(path, f"'{clip(name)}' is listed twice", field=field(i))
        seen.add(name)


def _validate(path: Path, name: str, section: dict[str, Any], check: Callable[[], None]) -> None:
    """A section's own checks, which speak of flags (`--budget must be at least 1`), located in
    the file: at the key the flag names when the section gives it (`ice.budget`), else the section."""
    try:
        check()
    except UserError as exc:
        flag = re.match(r"--([a-z][a-z0-9-]*)", str(exc))
        key = flag[1].replace("-", "_") if flag else None
        field = f"{name}.{key}" if key in section else name
        raise yaml_error(path, str(exc), field=field, value=section) from None


def _check_attribution(
    path: Path, section: dict[str, Any], catalog: ModelCatalog, targets: list[str]
) -> None:
    """The attribution section's models are defined under models:, its dataset paths are made
    relative to the study file."""
    named = [
        (f"attribution.families.{family}", str(m))
        for family, members in (section.get("families") or {}).items()
        for m in members
    ]
    named += [(f"attribution.controls[{i}]", str(c)) for i, c in enumerate(section.get("controls") or [])]
    for where, name in named:
        if name not in catalog.models:
            raise _no_model(path, name, catalog, where)
    _check_members(path, section, targets)
    _check_controls(path, section, targets)
    from distillscope.rse.banks.load import check_bank_source

    written = {key: section.get(key) for key in ("bank", "bank_manifest")}  # as the file has them
    for key in ("bank", "bank_manifest"):  # files are relative to the study file
        if section.get(key):
            section[key] = _relative(path, str(section[key]))
    try:  # checked when read: --dry-run and the run (after its other stages) named neither file nor field
        if section.get("bank"):
            check_bank_source(section["bank"])
    except UserError as exc:
        raise yaml_error(path, str(exc), field="attribution.bank", value=written["bank"]) from None
    if section.get("bank_manifest"):
        try:
            check_file(Path(section["bank_manifest"]).expanduser(), "bank manifest")
        except UserError as exc:
            raise yaml_error(
                path, str(exc), field="attribution.bank_manifest", value=written["bank_manifest"]
            ) from None
    if not section.get("datasets") and not section.get("bank"):
        raise yaml_error(
            path, "give at least one dataset (NAME: PATH) or a bank", field="attribution.datasets"
        )
    section["datasets"] = _dataset_files(path, "attribution.datasets", section.get("datasets") or {})


def _model_refs(ice: dict[str, Any] | None, rse: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(field, model) for every model the ice and rse settings call besides the targets, reference
    and foils: the mutator, the judges (`rules`, `hybrid`, `offline`... name no model)."""
    from distillscope.ice.judges import JUDGES
    from distillscope.rse.judging import SIMILARITY_JUDGES, split_judges

    refs: list[tuple[str, str]] = []
    ice = ice or {}
    for key in ("mutator", "judge_model"):
        if ice.get(key):
            refs.append((f"ice.{key}", str(ice[key]).strip()))
    judge = str(ice.get("judge") or "").strip()
    name, _, arg = judge.partition(":")
    if name == "hybrid" and arg:
        refs.append(("ice.judge", arg))
    elif judge and not (name in JUDGES and not arg):
        refs.append(("ice.judge", judge))
    rse = rse or {}
    if rse.get("judge") and str(rse["judge"]).strip() not in SIMILARITY_JUDGES:
        refs.append(("rse.judge", str(rse["judge"]).strip()))
    if rse.get("judges"):
        refs += [("rse.judges", spec) for spec in split_judges(str(rse["judges"]))]
    return refs


def _check_judges(
    path: Path, catalog: ModelCatalog, ice: dict[str, Any] | None, rse: dict[str, Any] | None
) -> None:
    """Every judge and mutator model is defined under models: or is an inline spec, checked when
    the file is read: `--dry-run` planned calls to an undefined `judge: gpt4` and the run then
    failed naming neither the file nor the field."""
    try:
        refs = _model_refs(ice, rse)
    except UserError as exc:  # a malformed `judges:` panel
        raise yaml_error(path, str(exc), field="rse.judges", value=(rse or {}).get("judges")) from None
    name, _, arg = str((ice or {}).get("judge") or "").strip().partition(":")
    if name == "hybrid" and not arg.strip() and not (ice or {}).get("judge_model"):
        # the run refused it only when it built the judge, naming the flag, after --dry-run planned it
        raise yaml_error(
            path,
            "hybrid needs an LLM for the unsure cases: give hybrid:MODEL, or judge_model: MODEL",
            field="ice.judge",
        )
    for where, spec in refs:
        if spec in catalog.models:
            continue
        if ":" in spec:
            try:
                parse_inline(spec)
            except UserError as exc:
                raise yaml_error(path, str(exc), field=where, value=spec) from None
            continue
        raise _no_model(path, spec, catalog, where)


def _no_model(path: Path, name: str, catalog: ModelCatalog, where: str) -> UserError:
    """`name` (at `where`) is not defined under models:; the names are cut (`clip`), as any value
    a message shows: a 2 MB name in the file made a 2 MB error line."""
    defined = ", ".join(clip(m) for m in sorted(catalog.models)) or "nothing"
    return yaml_error(
        path, f"no model '{clip(name)}' under models: (defined: {clip(defined, 300)})", field=where
    )


def _check_members(path: Path, section: dict[str, Any], targets: list[str]) -> None:
    """Each family member once, and never a target (the targets are what is attributed to the
    families). `--dry-run` planned both, and the run refused them only when its attribution stage
    started (after every ICE and RSE stage), in `rse attribute`'s words ("two family models are
    named 'c1' (replay: models are named after their file stem ...); rename a file"), naming
    neither the study file nor the field."""
    seen: dict[str, str] = {}  # member -> its family
    for family, members in (section.get("families") or {}).items():
        where = f"attribution.families.{family}"
        for member in members:
            name = str(member)
            if name in targets:
                raise yaml_error(
                    path,
                    f"'{clip(name)}' is also a target; the targets are attributed to the families, so a "
                    "target cannot be a family member",
                    field=where,
                )
            if name in seen:
                also = "" if seen[name] == family else f" (also in family '{clip(seen[name])}')"
                raise yaml_error(
                    path,
                    f"'{clip(name)}' is listed twice{also}: place each model in one family, once",
                    field=where,
                )
            seen[name] = family


def _check_controls(path: Path, section: dict[str, Any], targets: list[str]) -> None:
    """The checks `rse attribute` makes of its controls' roles (attribution/runner.check_controls),
    made when the file is read, so that `--dry-run` refuses what the run would, and the run refuses
    before it writes anything; each error names the file and field."""
    from distillscope.rse.attribution.controls import MIN_CONTROLS

    controls = [str(c) for c in section.get("controls") or []]
    members = frozenset(str(m) for ms in (section.get("families") or {}).values() for m in ms)
    where = "attribution.controls"
    _one_role(path, controls, targets, lambda _: where, members)
    if len(controls) == 1 and not section.get("bank"):  # a bank may bring controls of its own
        raise yaml_error(
            path,
            f"'{clip(controls[0])}' is the only control: a single control is too few for any test over models "
            f"(its spread cannot be estimated from one model); give at least {MIN_CONTROLS}, or none "
            "for family resemblance only",
            field=where,
        )


def _relative(study: Path, source: str) -> str:
    """A file the study names, relative to the study file, as an absolute path: the stages record
    it in their settings, so it must not depend on the working directory or on how the study file
    was named (`study.yaml`, `./study.yaml`, `/abs/study.yaml`), else a rerun from elsewhere is
    refused as a run with other settings."""
    from distillscope.rse.datasets import BUILTIN, HF_PREFIX

    # `~/data/p.jsonl` is the home folder's, as everywhere a path is read (`--dataset`, `replay:~/...`):
    # it was joined to the study's folder (`/studies/~/data/p.jsonl: file not found`)
    source = os.path.expanduser(source) if source.startswith("~") else source
    if source in BUILTIN or source.startswith(HF_PREFIX) or Path(source).is_absolute():
        return source
    return os.path.abspath(study.parent / source)


def _model_files(study: Path, catalog: ModelCatalog) -> ModelCatalog:
    """The files the models: section names (`replay:` answers, `local:` GGUF weights) relative to
    the study file, as its datasets are, and there: they were read relative to the working
    directory, so a study run from another folder failed after writing its directory (or replayed
    another file of the same name), and `--dry-run` planned it."""
    from distillscope.models.local import EMBEDDED

    for name, config in catalog.models.items():
        source = config.path or config.model
        if config.kind not in ("replay", "local") or (config.kind == "local" and source in EMBEDDED):
            continue
        # (`ModelCatalog.load` read it relative to the study file: made absolute here, so the stages'
        # settings do not depend on the working directory)
        resolved = os.path.abspath(source)
        what = "replay file" if config.kind == "replay" else "GGUF model file"
        try:
            check_file(Path(resolved), what)
        except UserError as exc:
            # (the text as written, `model`, cut where echoed: not the path made from it)
            raise yaml_error(study, str(exc), field=f"models.{name}", value=config.model) from None
        catalog.models[name] = config.model_copy(update={"path": resolved})
    return catalog


def _check_one_ledger(study: Path, catalog: ModelCatalog) -> None:
    """No two models of the study that its one ledger cannot tell apart (`models.spec.check_one_ledger`)."""
    check_one_ledger(study, catalog, ledger="the study's one ledger")


def _dataset_files(study: Path, where: str, datasets: dict[str, Any]) -> dict[str, str]:
    """The datasets' sources relative to the study file; a file that is not there is an error at
    its field, as every other bad value of the file is (the run's reader names only the file)."""
    from distillscope.rse.datasets import BUILTIN, HF_PREFIX

    out: dict[str, str] = {}
    first: dict[str, str] = {}  # one prompt set (a file however reached, the examples) -> its first dataset
    shown: dict[str, str] = {}  # a name as the report shows it (no spaces around it) -> the dataset's name
    for name, source in datasets.items():
        if not name.strip():  # the CLI refuses `--dataset =PATH`; a study file ran it, named ""
            raise yaml_error(study, "a dataset without a name: give each one as NAME: PATH", field=where)
        twin = shown.setdefault(name.strip(), name)
        if twin != name:  # 'a ' and 'a': two datasets, one name in every table of the report
            raise yaml_error(
                study,
                f"the name {clip(name)!r} differs from dataset {clip(twin)!r} only by spaces around it: the "
                "report would show two datasets of one name; give each dataset its own name",
                field=f"{where}.{name}",
            )
        out[name] = _relative(study, str(source))
        if out[name].startswith(HF_PREFIX):
            continue
        if out[name] not in BUILTIN:
            try:  # not there, a directory, a name too long for the file system
                check_file(Path(out[name]))
            except UserError as exc:
                raise yaml_error(study, str(exc), field=f"{where}.{name}", value=source) from None
        same = first.setdefault("builtin" if out[name] in BUILTIN else str(Path(out[name]).resolve()), name)
        if same != name:  # each prompt counted twice (`load_datasets` refuses a copy, when it reads them)
            raise yaml_error(
                study,
                f"the same prompts as dataset '{clip(same)}' (one file, or the examples, twice): each would be "
                "scored twice and counted twice in the average; give each prompt set once",
                field=f"{where}.{name}",
                value=source,
            )
    return out


def stage_dir(target: str) -> str:
    """The ICE stage directory of a target: `ice-<name>` when the name is safe as it stands, else
    the sanitised name plus a short hash of the real one, so that no two targets ("a/b", "a_b",
    "a b") share a directory."""
    safe = re.sub(r"[^0-9A-Za-z._-]+", "_", target).strip(".") or "target"
    if safe == target:
        return f"ice-{safe}"
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"ice-{safe}-{digest}"


# ---------------------------------------------------------------------------------- plan
@dataclass
class PlanRow:
    model: str
    stage: str
    calls: int  # at most


@dataclass
class StudyPlan:
    rows: list[PlanRow] = field(default_factory=list)

    def per_model(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.model] = out.get(row.model, 0) + row.calls
        return out


def _is_model_judge(judge: str) -> str | None:
    """The model an ICE judge calls, if any."""
    if judge in NOT_JUDGE_MODELS:
        return None
    return judge.removeprefix("hybrid:")


def _turns(datasets: Sequence[Dataset]) -> int:
    """Calls a model gets for `datasets`: one per turn (an MT-bench prompt has two), as
    `collect_answers` asks them."""
    return sum(1 + len(p.followups) for d in datasets for p in d.prompts)


def plan_study(spec: StudySpec) -> StudyPlan:
    """The most calls each model can receive (a rerun answers finished calls from the ledger)."""
    from distillscope.ice.probes import load_probes
    from distillscope.ice.templates import load_templates
    from distillscope.rse.datasets import load_datasets

    plan = StudyPlan()
    if spec.ice is not None:
        for target in spec.targets:
            s = spec.ice_settings(target)
            if s.mode == "fuzz":
                queries = s.budget or DEFAULT_FUZZ_BUDGET
            else:
                probes = len(load_probes(s.probes, s.languages))
                combos = (
                    probes
                    if s.mode == "plain"
                    else probes * len(s.template_ids or load_templates(s.templates))
                )
                queries = min(combos, s.budget) if s.budget else combos
            plan.rows.append(PlanRow(target, f"ice {target}: answers", queries))
            if s.mode == "fuzz":
                mutants = math.ceil(queries / s.probes_per_mutant)
                plan.rows.append(PlanRow(s.mutator or target, f"ice {target}: mutations", mutants))
            spec_judge = s.judge.strip()  # as the run reads it: ' rules' calls no model
            judge = (
                _is_model_judge(s.judge_model or spec_judge)
                if spec_judge.startswith("hybrid")
                else _is_model_judge(spec_judge)
            )
            if judge:
                plan.rows.append(PlanRow(judge, f"ice {target}: judging", 2 * queries))
    if spec.rse is not None:
        r = spec.rse_settings()
        sets = load_datasets(r.datasets, sample=r.sample, seed=r.seed, sharegpt_turns=r.turns)
        n = _turns(sets)
        for model in [r.reference, *r.tests, *r.panel]:
            plan.rows.append(PlanRow(model, "rse: answers", n))
        if r.judge != OFFLINE:
            pairs = n * (len(r.tests) + len(r.panel)) * (2 if r.swap else 1)
            plan.rows.append(PlanRow(r.judge, "rse: judging", 2 * pairs))  # one retry each, at most
    if spec.attribution is not None:
        a = spec.attribution_settings()
        if a.bank and not a.bank.startswith("hf:"):
            from distillscope.rse.banks import load_bank

            n = _turns([load_bank(a.bank, sample=a.sample, seed=a.seed).dataset])
        else:
            sets = (
                load_datasets(a.datasets, sample=a.sample, seed=a.seed, sharegpt_turns=a.turns)
                if a.datasets
                else []
            )
            n = _turns(sets)
        members = [m for ms in a.families.values() for m in ms]
        for model in dict.fromkeys([*members, *a.tests, *a.controls]):
            plan.rows.append(PlanRow(model, "attribution: answers", n))
    return plan


# ---------------------------------------------------------------------------------- run
@dataclass
class StudyOptions:
    """The run-wide options of a study (budgets apply to each stage)."""

    concurrency: int | None = None
    max_calls: int | None = None
    max_tokens_total: int | None = None
    quiet: bool = True


async def run_study(spec: StudySpec, out: Path, options: StudyOptions | None = None) -> StudyResult:
    """Every stage, then DIR/results.json and DIR/report.html."""
    options = options or StudyOptions()
    made = missing_dirs(Path(out))  # a refused study leaves DIR as it found it, as a refused run does
    out = prepare_out_dir(Path(out))
    found = frozenset() if made else entry_names(out)
    try:
        lock = DirectoryLock(out)  # held while the study runs: no other command may use DIR meanwhile
    except UserError:
        remove_made_dirs(made)
        raise
    refused = False
    config = out / "config.json"
    claimed = not (config.exists() or config.is_symlink())  # the claim below writes it
    try:
        claim_directory(out, "study", {"study": str(spec.path)}, STUDY_HINT)
        return await _run_stages(spec, out, options)
    except UserError:
        refused = True
        if claimed:
            _take_back_claim(out, found)
        raise
    finally:
        release_directory(lock, out, made, found, refused=refused)


def _take_back_claim(out: Path, found: frozenset[str]) -> None:
    """A study refused before any stage wrote anything (a model whose key variable is not set, a
    server that refuses the first call) takes back the config.json its claim wrote, so that
    `release_directory` gives DIR back as it was found, as for any refused run: the claim was
    left behind, with the lock, in a directory the refused study had made."""
    created = entry_names(out) - found
    if created <= {".lock", "run.log", "config.json"}:
        with contextlib.suppress(OSError):
            (out / "config.json").unlink()


STUDY_HINT = "choose another --out for the study"


async def _run_stages(spec: StudySpec, out: Path, options: StudyOptions) -> StudyResult:
    from distillscope.report import write_run_report

    ledger = own_ledger(out)

    def stage(command: str, directory: str) -> RunContext:
        return RunContext(
            RunOptions(
                command=command, out=out / directory, cache=ledger, config=spec.path, catalog=spec.catalog,
                concurrency=options.concurrency, max_calls=options.max_calls,
                max_tokens=options.max_tokens_total, quiet=options.quiet,
                fresh_start_hint=f"{STUDY_HINT}, or remove {out / directory} to start that stage afresh",
            )
        )  # fmt: skip

    entries: dict[str, StudyTarget] = {}
    complete = True
    stop: str | None = None
    for target in spec.targets:
        ice: IceResult | None = None
        if spec.ice is not None:
            async with stage("study-ice", stage_dir(target)) as ctx:
                ice = await run_ice(ctx, spec.ice_settings(target))
            complete = complete and ice.complete
            stop = stop or ice.stop_reason if not ice.complete else stop
        entries[target] = StudyTarget(model=target, ice=ice, ice_dir=stage_dir(target) if ice else None)
    rse: RseResult | None = None
    if spec.rse is not None:
        try:
            async with stage("study-rse", "rse") as ctx:
                rse = await run_rse_stage(ctx, spec.rse_settings())
        except BudgetExhausted as exc:  # raised before the RSE runner could record it
            complete, stop = False, stop or str(exc)
        if rse is not None:
            complete = complete and rse.complete
            stop = stop or (rse.stop_reason if not rse.complete else None)
            for target, entry in entries.items():
                entry.rse = rse.models.get(target)
    attribution: AttributionResult | None = None
    if spec.attribution is not None:
        try:
            async with stage("study-attribution", "attribution") as ctx:
                attribution = await run_attribution_stage(ctx, spec.attribution_settings())
        except BudgetExhausted as exc:
            complete, stop = False, stop or str(exc)
        if attribution is not None:
            complete = complete and attribution.complete
            stop = stop or (attribution.stop_reason if not attribution.complete else None)
            names = list(attribution.models)  # in the order of the targets
            for (target, entry), name in zip(entries.items(), names, strict=False):
                entry.attribution = attribution.models.get(name) or attribution.models.get(target)
    result = StudyResult(
        reference=spec.reference, foils=spec.foils, targets=entries, rse=rse, rse_dir="rse" if rse else None,
        attribution=attribution, attribution_dir="attribution" if attribution else None,
        complete=complete, stop_reason=stop,
        settings={"study": str(spec.path), "targets": spec.targets, "reference": spec.reference,
                  "foils": spec.foils, "ice": spec.ice, "rse": spec.rse, "attribution": spec.attribution},
    )  # fmt: skip
    result.write(out)
    write_run_report(out)
    return result
