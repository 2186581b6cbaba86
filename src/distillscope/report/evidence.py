"""The evidence behind the numbers: contradicting ICE responses and extreme RSE pairs.

A 10,000-response run must still open fast, so each evidence list is split into a first page
that is rendered as HTML and the rest, which travels as inert JSON in the page and is turned
into DOM only when the reader asks for it (see `page_split` and the report's inline script).
All model text here is untrusted: it is only ever inserted escaped (jinja autoescape, or
`textContent` in the script).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.ice.logs import rescored_log
from distillscope.report.load import IceRun, RseRun, iter_jsonl, normalise_model_name, stream_jsonl
from distillscope.results.base import ROUNDING
from distillscope.results.rse import SCALE
from distillscope.textsafe import BIDI_CONTROLS, visible_bidi

FIRST_PAGE = 50  # evidence items rendered inline per section
# Items kept in the page per section; the rest are counted and pointed to (verdicts.jsonl). A cap
# that keeps a 100,000-response, 10-model rescore's page near 10 MB and its rendering small.
MAX_EMBEDDED = 1000

_PROMPT_KEYS = ("prompt", "full_prompt", "jailbreak_prompt", "input")
_RESPONSE_KEYS = ("response", "target_response", "target_responses", "answer", "output", "text")
_LINEAGE_KEYS = ("template", "template_id", "parent", "parents", "mutator", "generation", "slot_lost")
_PROBE_KEYS = ("probe", "probe_id", "query", "language", "area")


@dataclass
class IceEvidence:
    """One response that contradicted its target's identity."""

    target: str
    index: int
    level: str  # "hard", "strict" or "loose": the strongest it reached
    prompt: str
    response: str
    evidence: str
    judge: str
    lineage: dict[str, str] = field(default_factory=dict)
    probe: dict[str, str] = field(default_factory=dict)

    def highlighted(self) -> tuple[str, str, str]:
        return split_highlight(self.response, self.evidence)

    def as_dict(self) -> dict[str, Any]:
        before, mark, after = self.highlighted()
        return {
            "target": self.target,
            "index": self.index,
            "level": self.level,
            "prompt": self.prompt,
            "before": before,
            "mark": mark,
            "after": after,
            "evidence": self.evidence,
            "judge": self.judge,
            "lineage": self.lineage,
            "probe": self.probe,
        }


@dataclass
class RsePair:
    """A test answer beside the reference answer to the same prompt, with its scores."""

    model: str
    dataset: str
    prompt_id: str
    overall: float
    aspects: dict[str, float]
    prompt: str
    reference: str
    candidate: str
    judge: str
    evidence: str


@dataclass
class RsePairs:
    model: str
    most: list[RsePair]
    least: list[RsePair]


def split_highlight(text: str, span: str) -> tuple[str, str, str]:
    """(before, evidence, after): where the evidence span sits in the response.

    Exact match first, then case-insensitive; an evidence string that is not in the text (a
    judge's paraphrase) highlights nothing and is shown beside the response instead.
    """
    span = (span or "").strip()
    if not span or not text:
        return text, "", ""
    at = text.find(span)
    if at < 0:
        at = text.lower().find(span.lower())
        if at < 0 or len(text.lower()) != len(text):
            return text, "", ""
    return text[:at], text[at : at + len(span)], text[at + len(span) :]


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = row.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # e.g. the paper's `target_responses`
        return "\n\n".join(_text(v) for v in value)
    if isinstance(value, dict):
        return _text(_first(value, ("content", "text", "value")))
    return str(value)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested `lineage` / `probe` / `template` objects lifted to the top level."""
    flat = dict(row)
    for nested in ("lineage", "probe", "template"):
        value = row.get(nested)
        if not isinstance(value, dict):
            continue
        del flat[nested]
        for key, inner in value.items():
            flat.setdefault(f"{nested}_id" if key == "id" else key, inner)
    return flat


def _pick(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    picked: dict[str, str] = {}
    for key in keys:
        value = row.get(key)
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            value = " ← ".join(map(str, value)) if value else None
        if value is None or value is False or isinstance(value, dict | list):
            continue
        name = {"template_id": "template", "probe_id": "probe"}.get(key, key)
        picked.setdefault(name, str(value))
    return picked


def _level(verdict: dict[str, Any]) -> str | None:
    if verdict.get("hard") is True:
        return "hard"
    if verdict.get("strict") is True:
        return "strict"
    if verdict.get("loose") is True:
        return "loose"
    return None


def _response_target(row: dict[str, Any]) -> str | None:
    value = _first(row, ("target", "model", "target_model"))
    return str(value) if isinstance(value, str) else None


def _rescored_log(run: IceRun) -> Iterator[dict[str, Any]]:
    """An `ice rescore` run keeps no responses.jsonl: read the log it judged, if it is still there."""
    from distillscope.ice.logs import iter_log

    log_path = rescored_log(run.settings)
    if log_path is None or not log_path.is_file():
        return
    try:
        for row in iter_log(log_path):
            data = asdict(row)
            data.pop("loose", None)
            data.pop("strict", None)
            yield data
    except (UserError, OSError, ValueError):  # a log that no longer parses only costs the evidence its text
        return


_EVIDENCE_CACHE: OrderedDict[tuple[Any, ...], dict[str, list[IceEvidence]]] = OrderedDict()
_EVIDENCE_CACHE_SIZE = 32  # runs: a report renders HTML, then Markdown, of every run it holds


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def ice_evidence(run: IceRun) -> dict[str, list[IceEvidence]]:
    """`collect_ice_evidence`, read once per run and report: the HTML and the Markdown page both
    show it, and reading a large run's responses twice doubled the report's cost."""
    key = (
        str(run.path.resolve()),
        _stamp(run.path / "verdicts.jsonl"),
        _stamp(run.path / "responses.jsonl"),
        _stamp(log) if (log := rescored_log(run.settings)) is not None else None,  # a rescore's log
        tuple(str(r.target) for r in run.results),
    )
    found = _EVIDENCE_CACHE.get(key)
    if found is None:
        found = _EVIDENCE_CACHE[key] = collect_ice_evidence(run)
        while len(_EVIDENCE_CACHE) > _EVIDENCE_CACHE_SIZE:
            _EVIDENCE_CACHE.popitem(last=False)
    return found


def collect_ice_evidence(run: IceRun) -> dict[str, list[IceEvidence]]:
    """Per target: its contradicting responses, hard first, then strict, then loose.

    Verdicts and responses are streamed, and only the responses that contradict are kept, so a
    report on a 100,000-response rescore stays small in memory."""
    if run.verdicts_problem is not None:  # not this run's verdicts: no evidence rather than wrong evidence
        return {r.target: [] for r in run.results}
    positives: list[tuple[int, str, dict[str, Any]]] = []
    for position, verdict in enumerate(stream_jsonl(run.path / "verdicts.jsonl")):
        level = _level(verdict)
        if level is not None:
            given = verdict.get("index")
            positives.append((given if isinstance(given, int) else position, level, verdict))
    targets = [r.target for r in run.results]
    keys = {normalise_model_name(t): t for t in targets}
    rank = {"hard": 0, "strict": 1, "loose": 2}
    wanted = {index for index, _, _ in positives}
    names = [_response_target(v) for _, _, v in positives]
    if len(targets) == 1 or all(names):
        # Where the verdicts name their target, only what the page can embed needs its text.
        per_target: dict[str, list[tuple[int, int]]] = {}
        for (index, level, _), name in zip(positives, names, strict=True):
            target = keys.get(normalise_model_name(name), targets[0]) if name else targets[0]
            per_target.setdefault(target, []).append((rank[level], index))
        wanted = {index for items in per_target.values() for _, index in sorted(items)[:MAX_EMBEDDED]}
    by_index: dict[int, dict[str, Any]] = {}
    responses_file = run.path / "responses.jsonl"
    rows = stream_jsonl(responses_file) if responses_file.is_file() else _rescored_log(run)
    for position, row in enumerate(rows):
        row_index = row.get("index")
        index = row_index if isinstance(row_index, int) else position
        if index in wanted:
            by_index.setdefault(index, row)
    found: dict[str, list[IceEvidence]] = {t: [] for t in targets}
    for index, level, verdict in positives:
        row = _flat(by_index.get(index, {}))
        named = _response_target(verdict) or _response_target(row)
        target = keys.get(normalise_model_name(named), targets[0]) if named else targets[0]
        found.setdefault(target, []).append(
            IceEvidence(
                target=target,
                index=index,
                level=level,
                prompt=_text(_first(row, _PROMPT_KEYS)),
                response=_text(_first(row, _RESPONSE_KEYS)),
                evidence=_text(verdict.get("evidence")),
                judge=_text(verdict.get("judge")),
                lineage=_pick(row, _LINEAGE_KEYS),
                probe=_pick(row, _PROBE_KEYS),
            )
        )
    for items in found.values():
        items.sort(key=lambda e: (rank[e.level], e.index))
    return found


def _aspect_values(row: dict[str, Any]) -> dict[str, float]:
    pool = row.get("aspects") if isinstance(row.get("aspects"), dict) else row.get("scores")
    pool = pool if isinstance(pool, dict) else row
    values: dict[str, float] = {}
    for key in ("style", "logic", "content", "overall"):
        value = pool.get(key)
        if isinstance(value, dict):
            value = value.get("score")
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = float(value)
    if "overall" not in values:
        overall = row.get("overall", row.get("score"))
        if isinstance(overall, int | float) and not isinstance(overall, bool):
            values["overall"] = float(overall)
        elif all(a in values for a in ("style", "logic", "content")):
            values["overall"] = (values["style"] + values["logic"] + values["content"]) / 3
    return values


def _on_the_scale(values: dict[str, float]) -> bool:
    """Every similarity of a judgment on the judges' 1-5 scale: a row with a 9, a NaN or an Infinity
    (hand-edited; Python's JSON reader takes NaN) is left out as a malformed line is, not shown as
    the most similar answer."""
    lo, hi = SCALE
    return all(math.isfinite(v) and lo - ROUNDING <= v <= hi + ROUNDING for v in values.values())


def _answers(path: Path) -> tuple[dict[tuple[str, str, str], str], dict[tuple[str, str], str]]:
    """(model, dataset, prompt id) -> answer, and (dataset, prompt id) -> prompt text."""
    answers: dict[tuple[str, str, str], str] = {}
    prompts: dict[tuple[str, str], str] = {}
    for row in iter_jsonl(path):
        model = _first(row, ("model", "name"))
        pid = _first(row, ("prompt_id", "id", "question_id", "uid"))
        if model is None or pid is None:
            continue
        dataset = str(row.get("dataset") or "")
        answers[(normalise_model_name(str(model)), dataset, str(pid))] = _text(_first(row, _RESPONSE_KEYS))
        prompt = _text(_first(row, ("prompt", "question", "messages")))
        if prompt:
            prompts.setdefault((dataset, str(pid)), prompt)
    return answers, prompts


def rse_pairs(run: RseRun, k: int = 3) -> list[RsePairs]:
    """Per test model, its `k` most and `k` least similar answers beside the reference's."""
    judgments = iter_jsonl(run.path / "judgments.jsonl")
    if not judgments:
        return []
    answers, prompts = _answers(run.path / "responses.jsonl")
    ref_key = normalise_model_name(run.reference)
    by_model: dict[str, list[RsePair]] = {}
    for row in judgments:
        model = _first(row, ("model", "test", "candidate_model"))
        pid = _first(row, ("prompt_id", "id"))
        values = _aspect_values(row)
        if model is None or pid is None or "overall" not in values or not _on_the_scale(values):
            continue
        model, pid = str(model), str(pid)
        dataset = str(row.get("dataset") or "")
        mkey = normalise_model_name(model)
        by_model.setdefault(model, []).append(
            RsePair(
                model=model,
                dataset=dataset,
                prompt_id=pid,
                overall=values["overall"],
                aspects={a: values[a] for a in ("style", "logic", "content") if a in values},
                prompt=prompts.get((dataset, pid), _text(row.get("prompt"))),
                reference=answers.get((ref_key, dataset, pid), _text(row.get("reference"))),
                candidate=answers.get((mkey, dataset, pid), _text(_first(row, ("candidate", "response")))),
                judge=_text(row.get("judge")),
                evidence=_text(row.get("evidence"))
                if not isinstance(row.get("evidence"), dict)
                else json.dumps(row["evidence"], ensure_ascii=False),
            )
        )
    out: list[RsePairs] = []
    for model, pairs in by_model.items():
        ordered = sorted(pairs, key=lambda p: (-p.overall, p.dataset, p.prompt_id))
        most = ordered[:k]
        least = [p for p in reversed(ordered[-k:]) if p not in most] if len(ordered) > k else []
        out.append(RsePairs(model, most, least))
    return out


def page_split(items: list[Any]) -> tuple[list[Any], list[Any], int]:
    """(rendered now, kept for paging, left out): bounds the page however big the run."""
    first = items[:FIRST_PAGE]
    rest = items[FIRST_PAGE:MAX_EMBEDDED]
    return first, rest, max(0, len(items) - MAX_EMBEDDED)


def json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' can end the element.
    Its bidi controls become the visible escapes the page shows elsewhere (`\\u202e`, a backslash
    in the JSON string: the script's textContent shows them as text, not as a reordering)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = BIDI_CONTROLS.sub(lambda match: "\\" + visible_bidi(match.group()), text)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
