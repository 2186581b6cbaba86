"""Seed context templates: jailbreak-style framings that ask the target to drop its script.

A template holds `{query}` where the identity question goes (`fill_template` appends the
question when a template has no slot, as the paper did). The shipped set is written by this
project; loaders read the GPTFuzzer CSV (`id`, `text` with `[INSERT PROMPT HERE]`) and
EasyJailbreak JSON (a list of strings or objects with `{query}`) so users can start from the
standard seeds. Whether a template names a vendor or model is computed (`names_vendor`), since
the hard score leaves such prompts out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from distillscope import fastyaml
from distillscope.errors import UserError
from distillscope.models.replay import QUERY_SLOT

DEFAULT_VENDOR_WORDS = ("openai", "chatgpt", "gpt", "claude", "anthropic")
GPTFUZZER_SLOT = "[INSERT PROMPT HERE]"
AUTODAN_SLOT = "[PROMPT]"  # EasyJailbreak's AutoDAN seeds


def names_vendor(text: str, vendor_words: Sequence[str] = DEFAULT_VENDOR_WORDS) -> bool:
    """Whether `text` mentions any vendor word (case-insensitive substring, as the paper's hard score)."""
    lowered = text.casefold()
    return any(word.casefold() in lowered for word in vendor_words if word)


def normalise_slot(text: str) -> str:
    """GPTFuzzer's `[INSERT PROMPT HERE]` becomes our `{query}` slot."""
    return text.replace(GPTFUZZER_SLOT, QUERY_SLOT)


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
    if not path.exists():
        raise UserError(f"{path}: template file not found (--templates)")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected a template file (--templates)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            templates = read_gptfuzzer_csv(path)
        elif suffix == ".json":
            templates = read_easyjailbreak_json(path)
        elif suffix == ".jsonl":
            templates = _read_jsonl(path)
        elif suffix in (".yaml", ".yml"):
            templates = _read_yaml(path)
        else:
            raise UserError(
                f"{path}: unknown template file type '{suffix}' (use .csv, .json, .jsonl or .yaml)"
            )
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not templates:
        raise UserError(f"{path}: no templates in file")
    ids = [t.id for t in templates]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise UserError(f"{path}: duplicate template id '{dup}'")
    return templates


def read_gptfuzzer_csv(path: Path) -> list[Template]:
    """GPTFuzzer's seed file: columns `id`, `text`; `[INSERT PROMPT HERE]` marks the slot."""
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "text" not in reader.fieldnames:
            raise UserError.at(
                path, "CSV header needs a 'text' column (GPTFuzzer format: id,text)", line=1, field="text"
            )
        out: list[Template] = []
        for number, row in enumerate(reader, start=1):
            text = (row.get("text") or "").strip()
            if not text:
                raise UserError.at(path, "empty template", line=reader.line_num, field="text")
            out.append(Template(f"gptfuzzer-{row.get('id') or number}", "gptfuzzer", normalise_slot(text)))
    return out


def read_easyjailbreak_json(path: Path) -> list[Template]:
    """EasyJailbreak JSON: its `seed_template.json` shape (`{"attack": {"METHOD": [template, ...]}}`,
    nested mappings of lists; empty strings skipped; AutoDAN's `[PROMPT]` is a slot too), or a plain
    list of template strings / objects with `text` (optionally `id`, `kind`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError.at(path, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
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
                out.append(Template(ident, t.kind, t.text.replace(AUTODAN_SLOT, QUERY_SLOT)))

    walk(data, "easyjailbreak")
    return out


def _read_jsonl(path: Path) -> list[Template]:
    out: list[Template] = []
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError.at(path, f"invalid JSON ({exc.msg})", line=line) from None
            out.append(_template_from(path, line, len(out) + 1, item, "custom"))
    return out


def _read_yaml(path: Path) -> list[Template]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError.at(path, "invalid YAML", line=mark.line + 1 if mark else None) from None
    if isinstance(data, dict):
        data = data.get("templates")
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of templates (or a mapping with 'templates:')")
    return [_template_from(path, None, i, item, "custom") for i, item in enumerate(data, start=1)]


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
