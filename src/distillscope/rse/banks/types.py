"""What a reference bank holds, and what a run records about it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from distillscope.rse.datasets import Dataset


def model_key(name: str) -> str:
    """What tells two bank or test models apart: the name in any case and any Unicode form. `café`
    typed on a command line is NFC, the same name read from a folder made on macOS is NFD (`e` and a
    combining accent): compared as they were, they were two models, and a test model was kept in the
    bank as its own reference."""
    return unicodedata.normalize("NFKC", name).casefold()


@dataclass(frozen=True)
class BankModel:
    """One published model of a bank: its name and the file of its answers (read by `replay:`)."""

    name: str
    path: Path

    @property
    def spec(self) -> str:
        return f"replay:{self.path}"


@dataclass
class Bank:
    """A bank as read: its prompts (one dataset) and its models' answer files."""

    source: str
    layout: str  # "fastchat", "arena-hard-v2", "alpacaeval"
    dataset: Dataset
    models: list[BankModel]


class LeftOut(BaseModel):
    """A bank model not used, and why."""

    model_config = ConfigDict(extra="allow")

    model: str
    reason: str


class BankSummary(BaseModel):
    """results.json `bank`: where the families and controls of a `--bank` run came from. Unknown
    fields are kept, as in every results record."""

    # as results.base.Model does (importing it from here would be circular)
    model_config = ConfigDict(extra="allow")

    source: str = Field(description="the --bank SOURCE as given")
    layout: str = Field(description="fastchat, arena-hard-v2 or alpacaeval")
    manifest: str | None = Field(default=None, description="the --bank-manifest file, if any")
    models: int = Field(description="models found in the bank")
    families: dict[str, list[str]] = Field(
        description="family (organisation or family id) -> its bank models"
    )
    placed_by: dict[str, str] = Field(
        default_factory=dict, description="bank model -> 'registry' or 'manifest': who placed it"
    )
    controls: list[str] = Field(
        default_factory=list, description="bank models the manifest marks independent"
    )
    left_out: list[LeftOut] = Field(default_factory=list, description="bank models not used, and why")
