"""Scripted servers for RSE tests: a judge that rates by word overlap, models that answer by rule."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import distillscope.cli as cli_module

DATA = re.compile(
    r"<data-([0-9a-f]{16})>\nQUESTION:\n(.*?)\n\nANSWER A:\n(.*?)\n\nANSWER B:\n(.*?)\n</data-\1>", re.S
)


def overlap_rating(a: str, b: str) -> int:
    """1-5 from the Jaccard overlap of the two answers' words (a stand-in for a judge model)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    jaccard = len(wa & wb) / max(1, len(wa | wb))
    return 1 + round(4 * jaccard)


def judge_reply(body: dict[str, Any]) -> str:
    """A judge model: finds the fenced answers in its prompt and rates them, in the required form."""
    prompt = body["messages"][1]["content"]
    match = DATA.search(prompt)
    assert match is not None, "judge prompt without a fence"
    nonce, _question, first, second = match.groups()
    score = overlap_rating(first, second)
    verdict = {"style": score, "logic": score, "content": score, "evidence": "word overlap"}
    if "response_format" in body:  # a server that applies the schema: the bare object, nothing else
        return json.dumps(verdict)
    return f"<verdict-{nonce}>{json.dumps(verdict)}</verdict-{nonce}>"


_registered: list[bool] = []


def invoke(*args: str) -> Any:
    """Run the CLI in this process (fast); returns typer's Result."""
    if not _registered:
        cli_module._register_optional()
        _registered.append(True)
    return CliRunner().invoke(cli_module.app, [str(a) for a in args], catch_exceptions=False)


def read_results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
