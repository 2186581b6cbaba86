"""Seed context templates: jailbreak-style framings that ask the target to drop its script.

A template holds `{query}` where the identity question goes (`fill_template` appends the
question when a template has no slot, as the paper did). The shipped set is written by this
project; loaders read the GPTFuzzer CSV (`id`, `text` with `[INSERT PROMPT HERE]`) and
EasyJailbreak JSON (a list of strings or objects with `{query}`) so users can start from the
standard seeds. Whether a template names a vendor or model is computed (`names_vendor`), since
the hard score leaves such prompts out.
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
from distillscope.records import Record, check_file, load_json, read_records

QUERY_SLOT = "{query}"
DEFAULT_VENDOR_WORDS = ("openai", "chatgpt", "gpt", "claude", "anthropic")
GPTFUZZER_SLOT = "[INSERT PROMPT HERE]"
AUTODAN_SLOT = "[PROMPT]"  # EasyJailbreak's AutoDAN seeds


def names_vendor(text: str, vendor_words: Sequence[str] = DEFAULT_VENDOR_WORDS) -> bool:
    """Whether `text` mentions any vendor word (case-insensitive substring, as the paper's hard score)."""
    lowered = text.casefold()
    return any(word.casefold() in lowered for word in vendor_words if word)


def fill_template(template: str, query: str, slot: str = QUERY_SLOT) -> str:
    """The paper's rule: put the question in the slot, or append it when the slot was lost.
    A template's markers are made `{query}` where it is read (`normalise_slot`), so this matches
    that one form: it also rebuilds the prompts recorded in attack logs, which must stay as sent."""
    if slot in template:
        return template.replace(slot, query)
    return f"{template}\n{query}"


# The question's place as a user or a mutator writes it, in any case: a hand-typed
# `[insert prompt here]` or `{Query}` means the slot as much as GPTFuzzer's `[INSERT PROMPT HERE]`
# (it was kept as text, and the question appended after the template instead).
_SLOT_MARKERS = re.compile(r"\{query\}|\[insert prompt here\]", re.IGNORECASE)
_AUTODAN_MARKER = re.compile(re.escape(AUTODAN_SLOT), re.IGNORECASE)


def normalise_slot(text: str, *, autodan: bool = False) -> str:
    """Every slot marker in `text`, in any case, becomes our `{query}`: GPTFuzzer's
    `[INSERT PROMPT HERE]`, our own, and with `autodan` (EasyJailbreak's seed files) `[PROMPT]`.
    Every template is read through this (files, mutants), so the slot checks and the filling,
    which look for `{query}`, agree on which templates have a slot."""
    text = _SLOT_MARKERS.sub(lambda _: QUERY_SLOT, text)
    return _AUTODAN_MARKER.sub(lambda _: QUERY_SLOT, text) if autodan else text


@dataclass(frozen=True)
class Template:
    """One context template; `names_vendor` is computed from the text."""

    id: str
    kind: str
    text: str

    @property
    def names_vendor(self) -> bool:
        return names_vendor(self.text)

    @property
    def has_slot(self) -> bool:
        return QUERY_SLOT in self.text


def builtin_templates() -> list[Template]:
    text = resources.files("distillscope.ice").joinpath("data/templates.yaml").read_text("utf-8")
    return [Template(t["id"], t["kind"], t["text"]) for t in fastyaml.safe_load(text)["templates"]]


def load_templates(source: str | Path = "builtin") -> list[Template]:
    """Templates from `builtin` or a file: GPTFuzzer CSV, EasyJailbreak JSON, or our YAML/JSONL."""
    if str(source) == "builtin":
        return builtin_templates()
    path = Path(source)
    check_file(path, "template file")
    suffix = path.suffix.lower()
    lines: list[int | None] = []
    if suffix == ".csv":
        records = read_records(path, what="template file")
        templates = _gptfuzzer_templates(path, records)
        lines = [r.line for r in records]
    elif suffix == ".json":
        templates = read_easyjailbreak_json(path)
    elif suffix in (".jsonl", ".yaml", ".yml"):
        records = read_records(path, what="template file", list_keys=("templates",), scalar_key="text")
        templates = [
            _template_from(path, r.line, i, r.data, "custom") for i, r in enumerate(records, start=1)
        ]
        lines = [r.line for r in records]
    else:
        raise UserError(f"{path}: unknown template file type '{suffix}' (use .csv, .json, .jsonl or .yaml)")
    if not templates:
        raise UserError(f"{path}: no templates in file")
    _check_unique_ids(path, templates, lines)
    return templates


def _check_unique_ids(path: Path, templates: list[Template], lines: list[int | None]) -> None:
    """Ids name templates in results and `--template-ids`: two of one id are refused at the second's
    line, naming the first's (the error named neither: in a 77-row CSV, a search by hand)."""
    located = len(lines) == len(templates) and all(line is not None for line in lines)
    first: dict[str, int] = {}
    for number, template in enumerate(templates, start=1):
        line = lines[number - 1] if located else None
        if template.id not in first:
            first[template.id] = line if line is not None else number
            continue
        where = f"line {first[template.id]}" if located else f"template {first[template.id]}"
        entry = "" if located else f"template {number}: "
        raise UserError.at(
            path, f"{entry}duplicate template id '{clip(template.id)}' (also {where})", line=line, field="id"
        )


def read_gptfuzzer_csv(path: Path) -> list[Template]:
    """GPTFuzzer's seed file: columns `id`, `text`; `[INSERT PROMPT HERE]` marks the slot."""
    return _gptfuzzer_templates(path, read_records(path, what="template file"))


def _gptfuzzer_templates(path: Path, records: list[Record]) -> list[Template]:
    if "text" not in records[0].data:
        raise UserError.at(
            path, "CSV header needs a 'text' column (GPTFuzzer format: id,text)", line=1, field="text"
        )
    out: list[Template] = []
    for number, record in enumerate(records, start=1):
        text = (record.data.get("text") or "").strip()
        if not text:
            raise record.error("empty template", field="text")
        out.append(
            Template(f"gptfuzzer-{record.data.get('id') or number}", "gptfuzzer", normalise_slot(text))
        )
    return out


def read_easyjailbreak_json(path: Path) -> list[Template]:
    """EasyJailbreak JSON: its `seed_template.json` shape (`{"attack": {"METHOD": [template, ...]}}`,
    nested mappings of lists; empty strings skipped; AutoDAN's `[PROMPT]` is a slot too), or a plain
    list of template strings / objects with `text` (optionally `id`, `kind`)."""
    data = load_json(path, "template file")
    if isinstance(data, list):
        return [_template_from(path, None, i, item, "easyjailbreak") for i, item in enumerate(data, start=1)]
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON list of templates or a mapping of method -> templates")
    out: list[Template] = []

    def walk(node: Any, method: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, str(key))
        elif isinstance(node, list):
            for i, item in enumerate(node, start=1):
                if isinstance(item, str) and not item.strip():
                    continue
                t = _template_from(path, None, i, item, method)
                ident = t.id if isinstance(item, dict) and item.get("id") is not None else f"{method}-{i}"
                out.append(Template(ident, t.kind, normalise_slot(t.text, autodan=True)))

    walk(data, "easyjailbreak")
    return out


def _template_from(path: Path, line: int | None, number: int, item: Any, default_kind: str) -> Template:
    where = line if line is not None else None
    text: Any
    tid: Any = None
    kind: Any = None
    if isinstance(item, str):
        text = item
    elif isinstance(item, dict):
        text = item.get("text", item.get("template", item.get("jailbreak_prompt")))
        tid, kind = item.get("id"), item.get("kind")
    else:
        raise UserError.at(path, f"template {number}: expected text or an object with 'text'", line=where)
    if not isinstance(text, str) or not text.strip():
        raise UserError.at(path, f"template {number}: missing or empty text", line=where, field="text")
    return Template(
        str(tid) if tid is not None else f"t{number:03d}",
        str(kind or default_kind),
        normalise_slot(text.strip()),
    )
