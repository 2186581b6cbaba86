"""`--bank SOURCE` -> a `Bank`: the layout is read from what the folder holds."""

from __future__ import annotations

from pathlib import Path

from distillscope.errors import UserError
from distillscope.naming import Naming, flag
from distillscope.rse.banks.alpaca import load_alpaca
from distillscope.rse.banks.fastchat import is_fastchat, load_fastchat
from distillscope.rse.banks.hf import HF_PREFIX, materialise_hf
from distillscope.rse.banks.types import Bank
from distillscope.rse.datasets import sample_prompts


def bank_name(source: str) -> str:
    """The dataset name of a bank's prompts: its folder's name (`hf:` banks: the dataset's)."""
    if source.startswith(HF_PREFIX):
        return source[len(HF_PREFIX) :].split(":")[0].replace("/", "-") or "bank"
    path = Path(source).expanduser()
    return (path.stem if path.is_file() else path.resolve().name) or "bank"


def check_bank_source(source: str, name: Naming = flag) -> None:
    """A local bank (not `hf:`) is there: what `load_bank` checks first, for a study file to check
    when it is read."""
    if not source.startswith(HF_PREFIX):
        _check_exists(Path(source).expanduser(), source, name)


def _check_exists(path: Path, source: str, name: Naming) -> None:
    """The bank folder is there. A symbolic link that loops (or leads nowhere) is named as such: `resolve`
    on it raised a RuntimeError traceback; so is a name too long for the file system (an OSError)."""
    try:
        if path.exists():
            return
    except OSError as exc:
        raise UserError(f"{name('bank', source)}: cannot read: {exc.strerror or exc}") from None
    if path.is_symlink():
        raise UserError(f"{name('bank', source)}: a symbolic link that loops or leads nowhere, not a folder")
    raise UserError(f"{name('bank', source)}: no such folder")


def load_bank(
    source: str, *, work: Path | None = None, sample: int | None = None, seed: int = 0, name: Naming = flag
) -> Bank:
    """Read the bank at `source` (a folder, a file of AlpacaEval outputs, or `hf:NAME[:split]`,
    which is written under `work` first); `sample` prompts are chosen as `--sample` does. Errors
    name the setting as `name` does (`--bank SOURCE`, `bank='SOURCE'`)."""
    check_bank_source(source, name)
    dataset = bank_name(source)
    if source.startswith(HF_PREFIX):
        if work is None:
            raise UserError(
                f"{name('bank', source)}: a Hugging Face bank needs a run directory to unpack into"
            )
        bank = load_alpaca(materialise_hf(source, work / "bank", name), dataset)
        bank.source = source
    else:
        path = Path(source).expanduser()
        bank = (
            load_fastchat(path, dataset)
            if path.is_dir() and is_fastchat(path)
            else load_alpaca(path, dataset)
        )
    bank.dataset.prompts = sample_prompts(bank.dataset.prompts, sample, seed)
    return bank
