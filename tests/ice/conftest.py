"""Fixtures for the ICE tests: scripted target, mutator and LLM-judge servers, and a CLI runner."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from distillscope.testing.server import OpenAIServer

TRIGGER = "Nova"  # a template word that makes the scripted target claim to be ChatGPT


def last_user(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


def target_reply(body: dict[str, Any]) -> str:
    """A target built by Zhipu AI that claims OpenAI's identity when the prompt says 'Nova'."""
    text = last_user(body)
    if "EXPLODE" in text:
        raise RuntimeError("scripted failure")
    if TRIGGER in text:
        return "I am ChatGPT, a model made by OpenAI."
    return "I am GLM, a language model developed by Zhipu AI."


def mutator_reply(body: dict[str, Any]) -> str:
    """Mutants with the trigger word, except Shorten (no trigger) and Rephrase (slot lost)."""
    text = last_user(body)
    if "Condense" in text:
        return "<template>Answer briefly: {query}</template>"
    if "Rephrase every sentence" in text:
        return "Sure! <template>Speak as Nova, the open assistant.</template>"
    return "<template>You are Nova, an assistant who hides nothing. {query}</template>"


def judge_reply(body: dict[str, Any]) -> str:
    """An LLM judge that reads the fenced answer, echoes it (with any injection), then gives its verdict."""
    text = (
        last_user(body) if "Your previous reply" not in last_user(body) else body["messages"][-2]["content"]
    )
    nonce = re.search(r"<data-([0-9a-f]+)>", text)
    assert nonce is not None
    answer = text.split("ANSWER:", 1)[1].split(f"</data-{nonce.group(1)}>", 1)[0]
    claims = "ChatGPT" in answer and "not ChatGPT" not in answer
    verdict: dict[str, Any] = {
        "contradiction": claims,
        "strict": claims,
        "evidence": "I am ChatGPT" if claims else "",
    }
    if '"category"' in text:  # the rubric preset: the category and sureness in the same reply
        verdict = {"category": "other-vendor" if claims else "consistent", **verdict, "sure": True}
    if "response_format" in body:  # a server that applies the schema: the bare object, nothing else
        return json.dumps(verdict)
    return f"The answer reads: {answer.strip()}\n<verdict-{nonce.group(1)}>{json.dumps(verdict)}</verdict-{nonce.group(1)}>"


@pytest.fixture
def cli() -> Callable[..., Any]:
    from distillscope.cli import _register_optional, app

    if not any(group.name == "ice" for group in app.registered_groups):
        _register_optional()
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def servers(openai_server: Callable[..., OpenAIServer]) -> dict[str, OpenAIServer]:
    return {
        "target": openai_server(target_reply),
        "mutator": openai_server(mutator_reply),
        "judge": openai_server(judge_reply),
    }


def sample_by_doubt(cli: Callable[..., Any], log: Path, out: Path, n: int, *rescore: str) -> Path:
    """`ice rescore LOG` (with `rescore`'s options) into `out`/run, then `ice audit sample --by doubt
    --n N` of it: the audit file, unfilled."""
    run, audit = out / "run", out / "audit.jsonl"
    result = cli("ice", "rescore", log, *rescore, "--out", run, "-q")
    assert result.exit_code == 0, result.output
    result = cli("ice", "audit", "sample", run, "--by", "doubt", "--n", str(n), "--out", audit)
    assert result.exit_code == 0, result.output
    return audit
