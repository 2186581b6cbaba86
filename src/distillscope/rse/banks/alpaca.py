"""AlpacaEval layout: one `model_outputs.json` per model (`results/<model>/model_outputs.json`, as
AlpacaEval publishes them), or a folder of such files. Rows are `{instruction, output, generator,
dataset}`; a model is named by its `generator` (else its folder, else its file), and a file whose
rows name two generators is refused (it would replay as one model). The bank's prompts
are the instructions, in the order first seen; answers are matched to them by text.
"""

from __future__ import annotations

from pathlib import Path

from distillscope.errors import UserError
from distillscope.records import iter_records
from distillscope.rse.banks.types import Bank, BankModel, model_key
from distillscope.rse.datasets import Dataset, Row, read_prompts

OUTPUTS = "model_outputs.json"


def output_files(source: Path) -> list[Path]:
    """`source` itself (a file), or its `*/model_outputs.json` and its `*.json` files (the suffix
    in any case). Both kinds are read: a `gpt-4.json` beside `claude/model_outputs.json` is a
    model of the bank, and was left out without a word when a nested file was there."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        return []
    nested = source.glob(f"*/{OUTPUTS}")
    flat = (p for p in source.iterdir() if p.suffix.lower() == ".json" and not p.is_dir())
    return sorted([*nested, *flat])


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _shown(generator: str | None) -> str:
    return f"generator '{generator}'" if generator is not None else "no generator"


def load_alpaca(source: Path, name: str) -> Bank:
    files = output_files(source)
    if not files:
        raise UserError(
            f"{source}: no model answers in the bank (expected <model>/{OUTPUTS} files, *.json AlpacaEval "
            "outputs, or question.jsonl with model_answer/<model>.jsonl)"
        )
    rows: dict[str, Row] = {}
    models: list[BankModel] = []
    seen: dict[str, Path] = {}
    for path in files:
        model: str | None = None
        first_generator: str | None = None
        count = 0
        for record in iter_records(path, what="AlpacaEval outputs"):
            instruction, output = record.data.get("instruction"), record.data.get("output")
            if not isinstance(instruction, str) or not instruction.strip():
                raise record.error("expected the prompt as text 'instruction'", "instruction")
            if not isinstance(output, str):
                raise record.error("expected the answer as text 'output'", "output")
            generator = record.data.get("generator")
            named = generator if isinstance(generator, str) and generator.strip() else None
            if model is None:
                fallback = path.parent.name if path.name == OUTPUTS else path.stem
                model, first_generator = named or fallback, named
            elif named != first_generator:
                # the file replays as one model: another generator's answers would silently join it
                raise record.error(
                    f"{_shown(named)} differs from {_shown(first_generator)} earlier in this file; a bank "
                    "file holds one model's outputs (split it into one file per generator)",
                    "generator",
                )
            key = _normalised(instruction)
            if key not in rows:
                category = record.data.get("dataset")
                data = {"prompt": instruction, "category": category if isinstance(category, str) else ""}
                rows[key] = Row(record.where, record.line, data)
            count += 1
        if model is None or not count:
            raise UserError(f"{path}: bank model '{model or path.stem}' has no answers")
        if model_key(model) in seen:
            raise UserError(
                f"{path}: duplicate model name '{model}' in the bank (also {seen[model_key(model)]})"
            )
        seen[model_key(model)] = path
        models.append(BankModel(model, path))
    _fmt, prompts = read_prompts(rows.values(), name)
    dataset = Dataset(name=name, source=str(source), format="alpacaeval", prompts=prompts, total=len(prompts))
    return Bank(str(source), "alpacaeval", dataset, models)
