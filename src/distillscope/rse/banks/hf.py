"""`--bank hf:NAME[:split]`: a bank from a Hugging Face dataset of AlpacaEval-shaped rows
(`instruction`, `output`, `generator`), only when the user asks for it and `datasets` is installed.
The rows are written once, one AlpacaEval file per generator, into `folder` (inside the run
directory) so that the answers replay like any other bank's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distillscope.errors import UserError
from distillscope.naming import Naming, flag

HF_PREFIX = "hf:"


def _rows(spec: str, setting: Naming) -> list[dict[str, Any]]:
    bank = setting("bank", spec)
    name, _, split = spec[len(HF_PREFIX) :].partition(":")
    if not name:
        raise UserError(f"{bank}: expected hf:NAME[:split]")
    try:
        import datasets as hf_datasets  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise UserError(
            f"{bank}: Hugging Face datasets is not installed (pip install 'distillscope[hf]'); "
            "or give a folder of published answers"
        ) from None
    try:
        table = hf_datasets.load_dataset(name, split=split or "train")
    except Exception as exc:  # network, missing dataset, bad split
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{bank}: cannot load: {first}") from None
    return [dict(r) for r in table]


def materialise_hf(spec: str, folder: Path, name: Naming = flag) -> Path:
    """The dataset's rows as `folder/<generator>/model_outputs.json` files; returns `folder`.
    Errors name the setting as `name` does."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(_rows(spec, name)):
        generator = row.get("generator")
        if not isinstance(generator, str) or not isinstance(row.get("instruction"), str):
            raise UserError(
                f"{name('bank', spec)} row {i}: expected AlpacaEval rows (text 'instruction', 'output', 'generator')"
            )
        by_model.setdefault(generator, []).append(
            {k: row.get(k) for k in ("instruction", "output", "generator", "dataset")}
        )
    if not by_model:
        raise UserError(f"{name('bank', spec)}: no rows")
    for index, (_, rows) in enumerate(sorted(by_model.items())):
        target = folder / f"{index:04d}" / "model_outputs.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return folder
