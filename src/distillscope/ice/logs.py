"""Input loaders for `ice rescore`: existing logs become rows to judge again.

Accepted (detected per row or from the CSV header):
* the paper's attack JSONL: `jailbreak_prompt`, `query`, `target_responses` (a list: one row each);
* JSONL or CSV with `jailbreak_prompt`, `query`, `response` (or `target_responses`) and optional
  recorded labels `loose`, `strict` (a CSV `label` column is the strict label when the file name
  says "strict", otherwise the loose one), `model`, `target_org`, `complete_run`;
* distillscope's own `responses.jsonl` (`prompt`, `query`, `response`, `template_id`, ...).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillscope.errors import UserError, clip
from distillscope.ice.probes import guess_language
from distillscope.ice.templates import fill_template
from distillscope.models.types import answer_outcome
from distillscope.records import iter_records
from distillscope.textsafe import has_visible

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


@dataclass
class LogRow:
    """One recorded response to (re)judge. `response` None: the recorded call had failed."""

    index: int
    line: int
    prompt: str
    query: str
    response: str | None
    model: str | None = None
    target_org: str | None = None
    loose: bool | None = None
    strict: bool | None = None
    complete_run: bool | None = None
    template: str | None = None
    language: str | None = None
    area: str | None = None
    mutator: str | None = None
    generation: int | None = None
    probe_id: str | None = None
    outcome_field: str | None = None  # a distillscope responses.jsonl `outcome`

    @property
    def outcome(self) -> str:
        """ "error" (no response), "empty", "filtered" (not answers: never judged) or "ok"."""
        if self.response is None:
            return "error"
        if self.outcome_field in ("empty", "filtered"):
            return self.outcome_field
        return answer_outcome(self.response, None)

    def breakdown_keys(self) -> dict[str, Any]:
        return {
            "language": self.language, "area": self.area, "template": self.template,
            "mutator": self.mutator, "generation": self.generation,
        }  # fmt: skip


def rescored_log(settings: dict[str, Any]) -> Path | None:
    """The log an `ice rescore` run judged, from its recorded settings: `log_resolved` (its absolute
    path), else `log` as it was typed (runs made before `log_resolved` was recorded).

    `log` is relative to the folder the rescore ran in, so a report or an audit made from another
    folder found no log (the evidence showed no response), or another file of that name, whose
    responses it showed as this run's evidence."""
    for key in ("log_resolved", "log"):
        value = settings.get(key)
        if isinstance(value, str) and value:
            return Path(value)
    return None


def parse_label(path: Path, line: int, name: str, value: Any) -> bool | None:
    """A recorded label: booleans, 0/1, or yes/no/true/false text; blank is no label."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UserError.at(
        path, f"expected a 0/1 or true/false label, got {clip(repr(value))}", line=line, field=name
    )


def _template_id(template: str) -> str:
    return "tpl-" + hashlib.sha1(template.encode("utf-8")).hexdigest()[:8]


def load_log(path: Path) -> list[LogRow]:
    """Every response in a log, in file order."""
    out = list(iter_log(path))
    if not out:
        raise UserError(f"{path}: no responses in the log")
    return out


def iter_log(path: Path, *, details: bool = True) -> Iterator[LogRow]:
    """The responses of a log one at a time, in file order, so that a log larger than memory can be
    judged. Bad input raises the same located errors as `load_log`, when its row is reached.
    `details=False` checks every row just as strictly but leaves out what only judging and
    breakdowns need (`prompt` is the bare template; no template id, no language): a cheap first
    pass over a large log."""
    start = 0
    seen = False
    label_name = "strict" if "strict" in path.stem.casefold() else "loose"
    is_csv = path.suffix.lower() in (".csv", ".tsv")
    for record in iter_records(path):
        seen = True
        obj = record.data
        if is_csv and "label" in obj and label_name not in obj:
            # a CSV `label` column is the strict label when the file name says so, else the loose one
            obj = {**obj, label_name: obj["label"]}
            del obj["label"]
        line = record.line if record.line is not None else record.index + 1
        for name in ("jailbreak_prompt", "query", "response", "prompt"):
            if name in record.missing:  # a short CSV row is no empty answer (JSONL refuses it too)
                raise UserError.at(
                    path,
                    "no cell: the row has fewer values than the header has columns",
                    line=line,
                    field=name,
                )
        rows = _rows_of(path, line, obj, start=start, details=details)
        start += len(rows)
        yield from rows
    if not seen and (not is_csv or not path.read_bytes().strip()):
        raise UserError(f"{path}: file is empty")


def _text(path: Path, line: int, obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise UserError.at(path, "missing or non-text value", line=line, field=name)
    return value


def _tag(path: Path, line: int, obj: dict[str, Any], name: str) -> str | int | float | None:
    """A label of a row (model, target_org, area, mutator, probe_id, template_id, language): text or
    a number, or None when absent or blank. A list or object was passed through and stopped the
    tally that groups rows by these labels with a traceback (unhashable); a blank `target_org` was
    taken as the target's organisation (every answer naming the real maker became a contradiction)."""
    value = obj.get(name)
    if value is None or (isinstance(value, str) and not has_visible(value)):
        return None
    if isinstance(value, str | int | float):
        return value
    raise UserError.at(path, f"expected text or a number, got {clip(repr(value))}", line=line, field=name)


def _text_tag(path: Path, line: int, obj: dict[str, Any], name: str) -> str | None:
    value = _tag(path, line, obj, name)
    return None if value is None else str(value)


def _rows_of(path: Path, line: int, obj: dict[str, Any], start: int, details: bool = True) -> list[LogRow]:
    common: dict[str, Any] = {
        "model": _text_tag(path, line, obj, "model"),
        "target_org": _text_tag(path, line, obj, "target_org"),
        "loose": parse_label(path, line, "loose", obj.get("loose")),
        "strict": parse_label(path, line, "strict", obj.get("strict")),
        "complete_run": parse_label(path, line, "complete_run", obj.get("complete_run")),
    }
    if "jailbreak_prompt" in obj:
        template = _text(path, line, obj, "jailbreak_prompt")
        query = _text(path, line, obj, "query")
        prompt = fill_template(template, query) if details else template
        answers: Any = obj.get("response", obj.get("target_responses"))
        if isinstance(answers, str):
            answers = [answers]
        if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
            raise UserError.at(
                path,
                "expected the answer as text or a list of texts",
                line=line,
                field="target_responses" if "target_responses" in obj else "response",
            )
        return [
            LogRow(
                index=start + i,
                line=line,
                prompt=prompt,
                query=query,
                response=answer,
                template=_template_id(template) if details else None,
                language=guess_language(query) if details else None,
                **common,
            )
            for i, answer in enumerate(answers)
        ]
    if "prompt" in obj and "response" in obj:  # distillscope's responses.jsonl, or generic prompt/response
        prompt = _text(path, line, obj, "prompt")
        response = obj.get("response")
        if response is not None and not isinstance(response, str):
            raise UserError.at(path, "expected text or null", line=line, field="response")
        query = str(obj["query"]) if isinstance(obj.get("query"), str) else prompt
        generation = obj.get("generation")
        area, mutator = _tag(path, line, obj, "area"), _tag(path, line, obj, "mutator")
        probe_id, template_id = _tag(path, line, obj, "probe_id"), _text_tag(path, line, obj, "template_id")
        language = _text_tag(path, line, obj, "language")
        return [
            LogRow(
                index=start,
                line=line,
                prompt=prompt,
                query=str(query),
                response=response,
                template=(template_id or _template_id(prompt)) if details else None,
                language=(language or guess_language(str(query))) if details else None,
                area=None if area is None else str(area),
                mutator=None if mutator is None else str(mutator),
                generation=generation if isinstance(generation, int) else None,
                probe_id=None if probe_id is None else str(probe_id),
                outcome_field=obj["outcome"] if isinstance(obj.get("outcome"), str) else None,
                **common,
            )
        ]
    raise UserError.at(
        path,
        "unrecognised row: expected 'jailbreak_prompt' + 'query' + 'response'/'target_responses', or 'prompt' + 'response'",
        line=line,
    )
