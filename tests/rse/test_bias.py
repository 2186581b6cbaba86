"""Self-preference: a judge that is the reference model, or of its family, is flagged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.rse.bias import self_preference
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, judge_reply, read_results


def test_self_preference_names_the_judge_and_the_reference() -> None:
    same = self_preference("openai:gpt-4o", "replay:answers/GPT-4o.jsonl")
    assert same is not None and "reference model itself" in same
    family = self_preference("openai:gpt-4o", "openai-compatible:gpt-3.5-turbo@http://x/v1")
    assert family is not None and "OpenAI" in family
    assert self_preference("openai:gpt-4o", "openai-compatible:glm-4-plus@http://x/v1") is None


def test_rse_run_warns_when_the_judge_is_the_reference(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    def reply(body: dict[str, Any]) -> str:  # a judge when asked as one, else a plain answer
        return judge_reply(body) if len(body["messages"]) > 1 else "A plain answer."

    server = openai_server(reply)
    spec = f"openai-compatible:gpt-4o@{server.url}"
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", spec, "--test", f"openai-compatible:other@{server.url}",
        "--dataset", "ex=builtin", "--sample", "2", "--judge", spec, "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "self-preference" in result.output
    assert "reference model itself" in read_results(out)["warnings"][0]
