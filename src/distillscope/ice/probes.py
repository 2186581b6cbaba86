"""Identity probes: questions that ask a model who built it, in several languages.

The shipped set (`data/probes.yaml`) holds 50 questions over five areas (team, company,
partners, platform, geography), each in English, Chinese and four more languages; ids expand
to `<question id>-<language>` (`team-03-zh`). Users can bring their own file: YAML, JSONL or CSV
whose rows have a `question` (and optionally `id`, `area`, `language`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from distillscope import fastyaml
from distillscope.errors import UserError, clip
from distillscope.naming import Naming, flag
from distillscope.records import check_file, read_records

AREAS = ("team", "company", "partners", "platform", "geography")
_CJK = re.compile(r"[\u3400-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class Probe:
    """One identity question in one language."""

    id: str
    area: str
    language: str
    question: str


def guess_language(text: str) -> str:
    """A language code from the script of `text` (for logs that do not record one): kana -> ja,
    hangul -> ko, Han -> zh, Cyrillic -> ru, plain ASCII -> en, anything else -> "other"."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if _CJK.search(text):
        return "zh"
    if _CYRILLIC.search(text):
        return "ru"
    return "en" if text.isascii() else "other"


def builtin_probes() -> list[Probe]:
    """The shipped probes, one per (question, language)."""
    text = resources.files("distillscope.ice").joinpath("data/probes.yaml").read_text("utf-8")
    data = fastyaml.safe_load(text)
    probes: list[Probe] = []
    for entry in data["probes"]:
        for language, question in entry["text"].items():
            probes.append(Probe(f"{entry['id']}-{language}", entry["area"], language, question))
    return probes


def load_probes(
    source: str | Path = "builtin", languages: Sequence[str] | None = None, name: Naming = flag
) -> list[Probe]:
    """Probes from `builtin` or a user file, keeping only `languages` when given; an error names
    that setting as `name` does (the CLI's flag, the API's keyword)."""
    probes = builtin_probes() if str(source) == "builtin" else read_probe_file(Path(source))
    if languages:
        wanted = {lang.strip().lower() for lang in languages if lang.strip()}
        kept = [p for p in probes if p.language.lower() in wanted]
        if not kept:
            have = ", ".join(sorted({p.language for p in probes}))
            raise UserError(
                f"{name('languages')}: no probe in those languages ({', '.join(sorted(wanted))}; have: {have})"
            )
        probes = kept
    return probes


def read_probe_file(path: Path) -> list[Probe]:
    """A user's probe file (YAML/JSON list, JSONL or CSV); errors name the file, line and field."""
    check_file(path, "probe file")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".yaml", ".yml", ".json"):
        raise UserError(f"{path}: unknown probe file type '{suffix}' (use .yaml, .jsonl, .json or .csv)")
    records = read_records(path, what="probe file", list_keys=("probes",))
    if suffix == ".csv" and "question" not in records[0].data:
        raise UserError.at(path, "CSV header needs a 'question' column", line=1, field="question")
    rows = [(r.line, r.data) for r in records]
    probes = [_probe_from_row(path, line, row, n) for n, (line, row) in enumerate(rows, start=1)]
    seen: dict[str, int | None] = {}
    asked: dict[str, tuple[int | None, Probe]] = {}  # each question (blanks squashed): its first row
    for number, ((line, _), probe) in enumerate(zip(rows, probes, strict=True), start=1):
        entry = "" if line is not None else f"probe {number}: "
        if probe.id in seen:
            raise UserError.at(path, f"{entry}duplicate probe id '{clip(probe.id)}'", line=line, field="id")
        seen[probe.id] = line
        # One question twice is one request: the ledger answers it once, and that answer was counted
        # in every score as two (a copied row doubled its weight and narrowed the intervals).
        question = " ".join(probe.question.split())
        if question in asked:
            first, other = asked[question]
            where = (
                f"line {first} (probe '{clip(other.id)}')"
                if first is not None
                else f"probe '{clip(other.id)}'"
            )
            raise UserError.at(
                path,
                f"{entry}the same question as {where}: it would be asked once and its answer counted twice; "
                "keep one",
                line=line,
                field="question",
            )
        asked[question] = (line, probe)
    return probes


def _probe_from_row(path: Path, line: int | None, row: Any, number: int) -> Probe:
    entry = "" if line is not None else f"probe {number}: "
    if not isinstance(row, dict):
        raise UserError.at(path, f"{entry}expected an object with a 'question'", line=line)
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise UserError.at(path, f"{entry}missing or empty question", line=line, field="question")
    for name in ("id", "area", "language"):
        value = row.get(name)
        if value is not None and not isinstance(value, str | int):
            raise UserError.at(path, f"{entry}expected text", line=line, field=name)
    language = str(row.get("language") or guess_language(question))
    return Probe(
        id=str(row.get("id") or f"probe-{number:03d}"),
        area=str(row.get("area") or "custom"),
        language=language,
        question=question.strip(),
    )
