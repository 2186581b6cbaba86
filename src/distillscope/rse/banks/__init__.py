"""Reference banks: published answers of many known models to one prompt set, used as the families
(and controls) of `rse attribute --bank SOURCE`.

types.py      what a bank holds (`Bank`, `BankModel`) and what the run records (`BankSummary`)
fastchat.py   FastChat / Arena-Hard layout: `question.jsonl` + `model_answer/<model>.jsonl`
alpaca.py     AlpacaEval layout: one `model_outputs.json` per model
hf.py         `hf:NAME[:split]` through Hugging Face `datasets` (only when asked and installed)
manifest.py   the optional YAML that places models, adds unknown ones and marks controls
grouping.py   bank models -> families by organisation (identity registry), controls, left out
load.py       SOURCE -> Bank (picks the layout)
"""

from distillscope.rse.banks.grouping import BankPlan, plan_bank
from distillscope.rse.banks.load import load_bank
from distillscope.rse.banks.manifest import Manifest, load_manifest
from distillscope.rse.banks.types import Bank, BankModel, BankSummary

__all__ = [
    "Bank",
    "BankModel",
    "BankPlan",
    "BankSummary",
    "Manifest",
    "load_bank",
    "load_manifest",
    "plan_bank",
]
