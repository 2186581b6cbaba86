"""`rse run` and `rse matrix` from their settings: load the prompt sets, build the contestants and
the judge, and run. The CLI, the Python API and `study` all start here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distillscope.engine.run import RunContext
from distillscope.errors import UserError
from distillscope.judging.structured import check_mode
from distillscope.models.types import GenerateParams
from distillscope.naming import Naming, flag
from distillscope.results.rse import MatrixResult, RseResult
from distillscope.seeds import check_seed

if TYPE_CHECKING:
    from distillscope.rse.attribution.types import AttributionResult
from distillscope.rse.datasets import SHAREGPT_TURNS, SharegptTurns, load_datasets
from distillscope.rse.judging import OFFLINE, JudgeOptions, check_panel, split_judges
from distillscope.rse.types import MAX_JUDGE_CHARS


@dataclass
class RseCommon:
    """The settings `rse run` and `rse matrix` share."""

    datasets: dict[str, str] = field(default_factory=dict)  # name -> path, "builtin" or "hf:NAME"
    sample: int | None = None
    seed: int = 0
    judge: str = OFFLINE
    swap: bool = False
    judge_temperature: float = 0.0
    sharegpt_turns: str = "first"
    system_prompt: str | None = None
    max_tokens: int | None = None  # per answer
    temperature: float | None = None  # of the answering models (None: the model's own)
    allow_missing: bool = False  # replay files may lack answers: counted, not an error
    structured: str = "auto"  # LLM judge replies as structured output: auto, on or off
    judge_max_chars: int = MAX_JUDGE_CHARS  # offline judge: characters of each answer it reads
    judges: str | None = None  # a panel of LLM judges, "SPEC,SPEC,SPEC" (instead of `judge`)
    judge_reducer: str = "majority"  # how a panel's ratings combine: majority or mean
    encoder: str = "auto"  # the offline judge's sentence embeddings: embed.ENCODERS

    def validate(self, name: Naming = flag) -> None:
        """Every setting checked; an error names it as `name` does (the CLI's flag, the API's keyword)."""
        check_seed(self.seed, name("seed"))
        if self.sharegpt_turns not in SHAREGPT_TURNS:
            raise UserError(f"{name('sharegpt_turns')} must be 'first' or 'all', got '{self.sharegpt_turns}'")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise UserError(f"{name('max_tokens')} must be at least 1, got {self.max_tokens}")
        if self.temperature is not None and self.temperature < 0:
            raise UserError(f"{name('temperature')} must be at least 0, got {self.temperature}")
        if self.sample is not None and self.sample < 1:
            raise UserError(f"{name('sample')} must be at least 1, got {self.sample}")
        if not self.datasets and not self.prompts_elsewhere():
            raise UserError(
                f"give at least one {name('datasets', 'NAME=PATH')} (or {name('datasets', 'examples=builtin')})"
            )
        check_mode(self.structured, name)
        from distillscope.rse.offline.embed import ENCODERS
        from distillscope.rse.panel import REDUCERS

        if self.encoder not in ENCODERS:
            raise UserError(f"{name('encoder')} must be one of {', '.join(ENCODERS)}, got '{self.encoder}'")
        if self.judge_reducer not in REDUCERS:
            raise UserError(
                f"{name('judge_reducer')} must be one of {', '.join(REDUCERS)}, got '{self.judge_reducer}'"
            )
        if self.judges and self.judge != OFFLINE:
            raise UserError(f"give either {name('judge')} or {name('judges')}, not both")
        if self.judges:
            split_judges(self.judges, name)
        if self.judge_max_chars < 1:
            raise UserError(f"{name('judge_max_chars')} must be at least 1, got {self.judge_max_chars}")

    def prompts_elsewhere(self) -> bool:
        """Whether the prompts come from somewhere other than `datasets` (a bank's own prompts)."""
        return False

    @property
    def turns(self) -> SharegptTurns:
        return "all" if self.sharegpt_turns == "all" else "first"

    def params(self) -> GenerateParams:
        return GenerateParams(temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed)

    def judge_options(self) -> JudgeOptions:
        panel = split_judges(self.judges) if self.judges else ()
        return JudgeOptions(
            spec=self.judge if not panel else "panel", temperature=self.judge_temperature, seed=self.seed,
            swap=self.swap, structured=check_mode(self.structured), max_chars=self.judge_max_chars,
            panel=panel, reducer="mean" if self.judge_reducer == "mean" else "majority", encoder=self.encoder,
        )  # fmt: skip

    def record(self) -> dict[str, Any]:
        """What results.json and config.json say about these settings; `--encoder auto` is recorded
        as the encoder it resolves to here, so the settings fingerprint sees a change of encoder."""
        from distillscope.rse.offline.embed import resolve_encoder

        return {
            "datasets": self.datasets,
            "sample": self.sample,
            "seed": self.seed,
            "judge": self.judge,
            "swap": self.swap,
            "structured": self.structured,
            "judge_temperature": self.judge_temperature,
            "judge_max_chars": self.judge_max_chars,
            "judges": self.judges,
            "judge_reducer": self.judge_reducer,
            "encoder": resolve_encoder(self.encoder),
            "sharegpt_turns": self.turns,
            "system_prompt": self.system_prompt,
            "answer_params": self.params().model_dump(exclude_none=True),
            "allow_missing": self.allow_missing,
        }


@dataclass
class RseRunSettings(RseCommon):
    """Every flag of `rse run` but the run-wide ones (--out, --cache, budgets, ...)."""

    reference: str = ""
    tests: list[str] = field(default_factory=list)
    panel: list[str] = field(default_factory=list)  # extra independent models for the contrast
    foils: list[str] = field(default_factory=list)  # independent models to compare the reference with

    def validate(self, name: Naming = flag) -> None:
        if not self.reference:
            raise UserError(f"rse run needs a {name('reference')} model")
        if not self.tests:
            raise UserError(f"rse run needs at least one {name('tests')} model")
        super().validate(name)

    def record(self) -> dict[str, Any]:
        return {
            "reference": self.reference, "tests": self.tests, "panel": self.panel, "foils": self.foils,
            **super().record(),
        }  # fmt: skip


@dataclass
class RseMatrixSettings(RseCommon):
    """Every flag of `rse matrix` but the run-wide ones."""

    models: list[str] = field(default_factory=list)

    def validate(self, name: Naming = flag) -> None:
        if len(self.models) < 2:
            raise UserError(f"rse matrix needs at least two {name('models')}")
        super().validate(name)

    def record(self) -> dict[str, Any]:
        return {"models": self.models, **super().record()}


def _contestants(ctx: RunContext, specs: list[str], s: RseCommon) -> list[Any]:
    from distillscope.rse.runner import Contestant

    params = s.params()
    out = []
    for spec in specs:
        backend = ctx.model(spec, system_prompt=s.system_prompt, params=params)
        out.append(Contestant(backend.name, backend, params))
    return out


async def run_rse_stage(ctx: RunContext, s: RseRunSettings) -> RseResult:
    """`rse run` in `ctx.out`: answers, judgments, scores; writes and returns the result."""
    from distillscope.rse.runner import check_distinct_from_reference, check_replay_coverage, run_rse

    name = ctx.options.naming
    s.validate(name)
    datasets = load_datasets(
        s.datasets, sample=s.sample, seed=s.seed, sharegpt_turns=s.turns, name=ctx.options.naming
    )
    reference, *tests = _contestants(ctx, [s.reference, *s.tests], s)
    panel = _contestants(ctx, s.panel, s)
    foils = _contestants(ctx, s.foils, s)
    # bad input is refused before the directory is claimed for these settings
    check_replay_coverage(
        [reference, *tests, *panel, *foils], datasets, allow_missing=s.allow_missing, name=name
    )
    check_distinct_from_reference(reference, tests, [p for d in datasets for p in d.prompts], foils, panel)
    check_panel(ctx, s.judge_options())
    settings = s.record()
    ctx.write_config(settings)
    return await run_rse(
        ctx, reference=reference, tests=tests, panel=panel, foils=foils, datasets=datasets,
        judge_options=s.judge_options(), settings=settings, allow_missing=s.allow_missing,
    )  # fmt: skip


async def run_matrix_stage(ctx: RunContext, s: RseMatrixSettings) -> MatrixResult:
    """`rse matrix` in `ctx.out`: every pair of models judged, then clustered."""
    from distillscope.rse.matrix import run_matrix
    from distillscope.rse.runner import check_replay_coverage

    s.validate(ctx.options.naming)
    datasets = load_datasets(
        s.datasets, sample=s.sample, seed=s.seed, sharegpt_turns=s.turns, name=ctx.options.naming
    )
    models = _contestants(ctx, s.models, s)
    check_replay_coverage(models, datasets, allow_missing=s.allow_missing, name=ctx.options.naming)
    check_panel(ctx, s.judge_options())
    settings = s.record()
    ctx.write_config(settings)
    return await run_matrix(
        ctx, models=models, datasets=datasets, judge_options=s.judge_options(), settings=settings,
        allow_missing=s.allow_missing,
    )  # fmt: skip


@dataclass
class RseAttributeSettings(RseCommon):
    """Every flag of `rse attribute` but the run-wide ones. `families`: NAME -> the model specs whose
    answers define that family (two or more families)."""

    families: dict[str, list[str]] = field(default_factory=dict)
    tests: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)  # independent models: calibrate "distilled from"
    alpha: float = 0.05
    features: str = "word"
    bank: str | None = None  # a folder of published answers, or hf:NAME[:split] (rse/banks)
    bank_manifest: str | None = None  # YAML: placements, controls, models left out

    def prompts_elsewhere(self) -> bool:
        return bool(self.bank)

    def validate(self, name: Naming = flag) -> None:
        from distillscope.rse.attribution.features import FEATURE_SETS

        if self.bank is not None and not self.bank.strip():
            raise UserError(f"{name('bank')}: give a folder of published answers or hf:NAME[:split]")
        if self.bank_manifest and not self.bank:
            raise UserError(f"{name('bank_manifest')} needs {name('bank')}")
        if self.bank and self.datasets:
            raise UserError(f"{name('bank')} brings its own prompts: leave out {name('datasets')}")
        if len(self.families) < 2 and not self.bank:
            raise UserError(
                f"rse attribute needs at least two families ({name('families', 'NAME=SPEC')} or "
                f"{name('bank', 'SOURCE')}), got {len(self.families)}"
            )
        if not self.tests:
            raise UserError(f"rse attribute needs at least one {name('tests')} model")
        if not 0 < self.alpha < 1:
            raise UserError(f"{name('alpha')} must be between 0 and 1, got {self.alpha}")
        if self.features not in FEATURE_SETS:
            raise UserError(
                f"{name('features')} must be one of {', '.join(FEATURE_SETS)}, got '{self.features}'"
            )
        super().validate(name)

    def record(self) -> dict[str, Any]:
        return {
            "families": self.families, "tests": self.tests, "controls": self.controls, "alpha": self.alpha,
            "features": self.features, "bank": self.bank, "bank_manifest": self.bank_manifest,
            **super().record(),
        }  # fmt: skip


async def run_attribution_stage(ctx: RunContext, s: RseAttributeSettings) -> AttributionResult:
    """`rse attribute` in `ctx.out`: the families' and test models' answers, the cross-fitted classifier,
    the tests; writes and returns the result. With a bank, its models are the families (and
    controls), its prompts the dataset (rse/banks)."""
    from distillscope.rse.attribution.controls import MIN_CONTROLS
    from distillscope.rse.attribution.features import DEFAULT_FEATURES, FEATURE_SETS
    from distillscope.rse.attribution.runner import check_control_answers, check_roles, run_attribution
    from distillscope.rse.banks.types import model_key
    from distillscope.rse.runner import Contestant

    name = ctx.options.naming
    s.validate(name)
    # one family whatever the case or Unicode form it is typed in (`openai` and `OpenAI`, as bank
    # manifests and bank names are compared): two spellings split one family's members into two
    # classes, and a model like both was attributed to neither. The first spelling names it.
    spelled: dict[str, str] = {}
    groups: dict[str, list[Contestant]] = {}
    for family, specs in s.families.items():
        groups.setdefault(spelled.setdefault(model_key(family), family), []).extend(
            _contestants(ctx, specs, s)
        )
    tests = _contestants(ctx, s.tests, s)
    controls = _contestants(ctx, s.controls, s)
    bank_summary, notes = None, []
    if s.bank:
        bank, plan, manifest = _resolve_bank(ctx, s, tests)
        datasets = [bank.dataset]
        for family, models in plan.families.items():
            key = spelled.setdefault(model_key(family), family)
            groups.setdefault(key, []).extend(_bank_contestants(ctx, models, s))
        controls = [*controls, *_bank_contestants(ctx, plan.controls, s)]
        if plan.controls and len(controls) < MIN_CONTROLS and manifest is not None:
            # name where the lone control came from: the user gave no --control flag
            raise UserError.at(
                manifest.path or "manifest",
                f"one control ({plan.controls[0].name}) is too few for any test over models; list at least "
                f"{MIN_CONTROLS} (with {name('controls')} models), or none for family resemblance only",
                field="controls",
            )
        bank_summary, notes = plan.summary(bank, manifest), plan.warnings
        if len(groups) < 2:
            raise UserError(
                f"{name('bank', s.bank)}: the bank places its models in {len(groups)} family(ies) "
                f"({', '.join(groups) or 'none'}); attribution needs two or more "
                f"(place models with {name('bank_manifest')})"
            )
    else:
        datasets = load_datasets(
            s.datasets, sample=s.sample, seed=s.seed, sharegpt_turns=s.turns, name=ctx.options.naming
        )
    # bad roles and answerless controls are refused before the directory is claimed for these settings
    check_roles(groups, tests, controls, name)
    check_control_answers(controls, datasets, groups, tests, name)
    settings = s.record()
    ctx.write_config(settings)
    features = next((f for f in FEATURE_SETS if f == s.features), DEFAULT_FEATURES)
    return await run_attribution(
        ctx, families=groups, tests=tests, controls=controls, datasets=datasets, alpha=s.alpha,
        seed=s.seed, features=features, settings=settings, bank=bank_summary, notes=notes,
    )  # fmt: skip


def _resolve_bank(ctx: RunContext, s: RseAttributeSettings, tests: list[Any]) -> tuple[Any, Any, Any]:
    """(bank, plan, manifest) of `--bank`; bad input is refused before any call. A bank model is a
    test model when the names match (in any case or Unicode form) or the test replays the very file of the bank
    model's answers, or a byte-for-byte copy of it (`cp model_answer/gpt-4.jsonl mine.jsonl`)."""
    from distillscope.rse.banks import load_bank, load_manifest, plan_bank
    from distillscope.rse.banks.grouping import IS_TEST

    assert s.bank
    bank = load_bank(s.bank, work=ctx.out, sample=s.sample, seed=s.seed, name=ctx.options.naming)
    manifest = load_manifest(Path(s.bank_manifest).expanduser()) if s.bank_manifest else None
    replayed = [Path(t.backend.path) for t in tests if isinstance(getattr(t.backend, "path", None), Path)]
    names = {t.name for t in tests} | {m.name for m in bank.models if _same_file(m.path, replayed)}
    plan = plan_bank(bank, tests=names, manifest=manifest, naming=ctx.options.naming)
    both = [item.model for item in plan.left_out if item.reason == IS_TEST]
    if both:
        plan.warnings.append(
            f"left out of the bank, since they are test models (the same name, or the same answer file): "
            f"{', '.join(both)}"
        )
    return bank, plan, manifest


def _same_file(path: Path, replayed: list[Path]) -> bool:
    """`path` is one of the `replayed` files: the same file, or one of the same size and bytes."""
    import hashlib

    size, digest = path.stat().st_size, ""
    for other in replayed:
        if other.resolve() == path.resolve():
            return True
        if other.is_file() and other.stat().st_size == size:
            digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
            if hashlib.sha256(other.read_bytes()).hexdigest() == digest:
                return True
    return False


def _bank_contestants(ctx: RunContext, models: list[Any], s: RseCommon) -> list[Any]:
    from distillscope.rse.runner import Contestant

    params = s.params()
    out = []
    for model in models:
        backend = ctx.model(model.spec, name=model.name, system_prompt=s.system_prompt, params=params)
        out.append(Contestant(backend.name, backend, params))
    return out
