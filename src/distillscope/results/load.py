"""`load(DIR)`: a run directory's results.json as its typed result, whatever distillscope wrote it.

Files since schema 1.0 say what they are (`kind`); files of distillscope 0.1 do not and are
recognised once, here, by their shape, and lifted to the current models (`stopped` became
`stop_reason`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from distillscope.errors import UserError, clip, clip_echoes, clip_field
from distillscope.records import parse_json, read_text
from distillscope.results.base import SCHEMA_VERSION, Result
from distillscope.results.registry import KINDS
from distillscope.textsafe import may_hold_surrogates

ICE_LEVELS = ("loose", "strict", "hard")
# the errors of a number or a yes/no given as text, which strict validation refuses (lax read "no" as false)
_STRICT_TYPES = {"int_type", "float_type", "bool_type"}


def _legacy_kind(data: dict[str, Any]) -> str | None:
    """The kind of a 0.1 results.json, from the fields only that kind wrote."""
    if isinstance(data.get("models"), list) and isinstance(data.get("scores"), list):
        return "matrix"
    if "reference" in data and isinstance(data.get("models"), dict):
        return "rse"
    if "n_prompts" in data and "n_answered" in data:
        return "answers"
    scores = data.get("scores")
    if isinstance(scores, dict) and any(level in scores for level in ICE_LEVELS):
        return "ice"
    models = data.get("models")
    if (
        isinstance(models, dict)
        and models
        and all(isinstance(m, dict) and "scores" in m for m in models.values())
    ):
        return "ice"  # a rescore of a log that mixed models
    return None


def _upgrade(data: dict[str, Any], kind: str) -> dict[str, Any]:
    data = {**data, "kind": kind, "schema_version": "0.1"}
    if "stopped" in data:  # rse run / matrix of 0.1
        data.setdefault("stop_reason", data.pop("stopped"))
    if kind == "matrix" and isinstance(data.get("missing"), dict):
        data["missing"] = {k: v for k, v in data["missing"].items() if isinstance(v, dict)}
    return data


def _check_version(data: dict[str, Any], source: Path | str) -> None:
    """A file of a newer major schema may mean anything by the fields it shares with this one, so it is
    refused rather than misread; a newer minor version only adds fields (kept, see `Model`).

    Only ASCII digits count (`str.isdigit` takes '²', which `int` then refused with a ValueError
    traceback), and a major of thousands of digits is newer without being converted (`int` refuses
    more than 4,300 digits, another traceback)."""
    version = data.get("schema_version")
    if version is None or not isinstance(version, str):
        return  # absent: the model's default; not text: the model names the field
    match = re.fullmatch(r"([0-9]+)(?:\.[0-9]+)?", version)
    if match is None:
        raise UserError(
            f"{source}: field 'schema_version': expected MAJOR.MINOR (e.g. '{SCHEMA_VERSION}'), got '{clip(version)}'"
        )
    major = match.group(1).lstrip("0") or "0"
    current = int(SCHEMA_VERSION.partition(".")[0])
    if len(major) > len(str(current)) or int(major) > current:
        raise UserError(
            f"{source}: field 'schema_version': version {clip(version)} was written by a newer distillscope; "
            f"this one reads versions up to {current}.x (upgrade distillscope to read it)"
        )


def _shape_kind(data: dict[str, Any]) -> str | None:
    """The kind whose fields a file holds, whatever its `kind` says (None: no kind's alone)."""
    if isinstance(data.get("families"), list) and isinstance(data.get("members"), dict):
        return "attribution"
    if isinstance(data.get("targets"), dict) and "scores" not in data:
        return "study"
    return _legacy_kind(data)


def parse(data: Any, source: Path | str = "results.json", *, text: str | None = None) -> Result:
    """A results object (already decoded JSON) as its typed result.

    Every value and key a message quotes is cut to 60 characters (a 100,000-character `kind` made a
    100,000-character line), and a file whose `kind` names another command's results than its
    fields are says so, where pydantic's first complaint alone (`field 'models.copy.target_identity':
    Field required` for an RSE file marked `"kind": "ice"`) did not say why."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: not a distillscope results file (expected a JSON object)")
    kind = data.get("kind")
    if kind is None:
        text = None  # the data are upgraded below: validated as they are then
        kind = _legacy_kind(data)
        if kind is None:
            raise UserError(f"{source}: not an ICE, RSE, matrix, answers or study results file")
        data = _upgrade(data, kind)
    _check_version(data, source)
    if kind == "attribution" and kind not in KINDS:  # its model lives with its command (scikit-learn)
        import distillscope.rse.attribution.types  # noqa: F401
    known = ", ".join(sorted(KINDS))
    if not isinstance(kind, str):
        raise UserError(
            f"{source}: field 'kind': expected the result kind as text ({known}), got {type(kind).__name__} "
            f"{clip(repr(kind))}"
        )
    cls = KINDS.get(kind)
    if cls is None:
        raise UserError(f"{source}: field 'kind': unknown result kind '{clip(kind)}' (known: {known})")
    try:
        # strict, as JSON: a number or a yes/no given as text (`"n": "6"`, `"complete": "no"`) is
        # refused where lax validation read "no" as false; JSON mode still takes a list for a tuple
        # and an integer for a float, as every file distillscope writes has them
        # (from the file's own text where the data are what it holds: not encoded again)
        result = cls.model_validate_json(json.dumps(data) if text is None else text, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = clip_field(".".join(str(p) for p in err["loc"])) or "(top level)"
        problem = f"field '{where}': {clip_echoes(err['msg'], err.get('input'))}"
        if err["type"] in _STRICT_TYPES and isinstance(err.get("input"), str):
            problem += f", got text {clip(repr(err['input']))} (write numbers and true/false without quotes)"
        shape = _shape_kind(data)
        if shape is not None and shape != kind:
            raise UserError(
                f"{source}: field 'kind': '{kind}', but its fields are those of the '{shape}' kind "
                f"(read as '{kind}': {problem})"
            ) from None
        raise UserError(f"{source}: {problem}") from None
    shape = _shape_kind(data)
    if kind == "study" and shape not in (None, "study"):
        # every field of a study is optional, so another command's file marked "study" validated and
        # then reported nothing ("no ICE, RSE or matrix results to report")
        raise UserError(f"{source}: field 'kind': 'study', but its fields are those of the '{shape}' kind")
    return result


def load(path: str | Path) -> Result:
    """The result of a run directory (or of a results.json file given directly)."""
    path = Path(path)
    given_a_directory = path.is_dir()
    file = path / "results.json" if given_a_directory else path
    if not file.is_file():
        if not path.exists():
            raise UserError(f"{path}: no such file or directory")
        raise UserError(f"{path}: no results.json (not a finished distillscope run directory)")
    if file.suffix.lower() != ".json":  # a log or answers file (.jsonl, .csv) read as one JSON value
        raise UserError(f"{path}: not a results file; give a run directory or its results.json")
    text = read_text(file, "results file")
    if not text.strip():
        raise UserError(f"{file}: results file is empty")
    data = parse_json(text, file)  # the one reader: BOM, nesting depth, duplicate keys, located errors
    # a results.json named directly may be a link: the run's other files lie beside the file it
    # leads to, not beside the link (whose folder's verdicts.jsonl `to_frame` read, another run's)
    root = path if given_a_directory else file.resolve().parent
    # a text whose strings hold lone surrogates was repaired in `data` only: validated from `data`
    result = parse(data, file, text=None if may_hold_surrogates(text) else text).at(root)
    _locate_children(result, result.path or root)
    return result


def _locate_children(result: Result, root: Path) -> None:
    """A study's nested results remember their own run directories (for `to_frame`)."""
    from distillscope.results.study import StudyResult

    if isinstance(result, StudyResult):
        for entry in result.targets.values():
            if entry.ice is not None and entry.ice_dir:
                entry.ice.at(root / entry.ice_dir)
        if result.rse is not None and result.rse_dir:
            result.rse.at(root / result.rse_dir)
