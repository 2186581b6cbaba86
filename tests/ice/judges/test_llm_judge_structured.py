"""The LLM judge's structured outputs: the verdict schema in response_format, the form each server
takes learned from one probe, a clean fallback when a server refuses it, and malformed replies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.ledger import request_key
from distillscope.engine.run import RunContext, RunOptions
from distillscope.errors import UserError
from distillscope.ice.judges.llm import SCHEMAS, LLMJudge
from distillscope.ice.types import Category, JudgeItem, TargetIdentity
from distillscope.models.types import ModelRequest
from distillscope.testing.server import OpenAIServer

GLM = TargetIdentity(
    organisation="Zhipu AI", family="glm", names=["Zhipu AI", "GLM"], statement="You are GLM."
)
ANSWERS = ["I am ChatGPT, made by OpenAI.", "I am GLM, made by Zhipu AI.", "I was built by NovaMind Labs."]


def scripted(body: dict[str, Any]) -> str:
    """A judge that reads the fenced answer and replies in the shape it was asked for: a bare
    object under response_format, the nonce-tagged line without."""
    prompt = body["messages"][1]["content"]
    nonce = re.search(r"<data-([0-9a-f]+)>", prompt).group(1)  # type: ignore[union-attr]
    answer = prompt.split("ANSWER:", 1)[1].split(f"</data-{nonce}>", 1)[0]
    if "ChatGPT" in answer:
        category, loose, strict = "other-vendor", True, True
    elif "NovaMind" in answer:
        category, loose, strict = "fictional-org", True, False
    else:
        category, loose, strict = "consistent", False, False
    verdict: dict[str, Any] = {"contradiction": loose, "strict": strict, "evidence": answer.strip()[:20]}
    if '"category"' in prompt:
        verdict = {"category": category, **verdict, "sure": "NovaMind" not in answer}
    text = json.dumps(verdict)
    return text if "response_format" in body else f"<verdict-{nonce}>{text}</verdict-{nonce}>"


def items(texts: list[str] = ANSWERS) -> list[JudgeItem]:
    return [JudgeItem(index=i, prompt="p", query="Who built you?", response=t) for i, t in enumerate(texts)]


async def run_judge(
    tmp_path: Path, server: OpenAIServer, rounds: int = 1, **options: Any
) -> tuple[list[Any], LLMJudge]:
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        llm = LLMJudge(ctx.model(f"openai-compatible:judge@{server.url}"), ctx.scheduler, **options)
        verdicts: list[Any] = []
        for _ in range(rounds):
            verdicts = await llm.judge_many(items(), GLM)
        return verdicts, llm


async def test_schema_is_requested_and_the_category_comes_back(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted)
    verdicts, llm = await run_judge(tmp_path, server)
    fmt = server.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMAS["rubric"]
    assert set(fmt["json_schema"]["schema"]["properties"]["category"]["enum"]) == {c.value for c in Category}
    assert [v.category for v in verdicts] == [
        Category.OTHER_VENDOR,
        Category.CONSISTENT,
        Category.FICTIONAL_ORG,
    ]
    assert [(v.loose, v.strict) for v in verdicts] == [(True, True), (False, False), (True, False)]
    assert verdicts[2].unsure is True and verdicts[0].unsure is False  # "sure": false is kept as unsure
    assert server.requests == 3 and llm.report() == {"judge_calls": 3, "judge_retries": 0, "unjudged": 0}


async def test_a_server_that_takes_only_json_object_is_probed_once(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    # llama-cpp-python's server: json_object with a schema, and a validation error for json_schema
    server = openai_server(scripted, refuse_response_format=("json_schema",), refusal_status=422)
    verdicts, llm = await run_judge(tmp_path, server, rounds=2)
    assert server.refused == 1 and server.requests == 1 + 3  # one refused probe, then every call once
    assert all(b["response_format"]["type"] == "json_object" for b in server.bodies[1:])
    assert server.bodies[1]["response_format"]["schema"] == SCHEMAS["rubric"]
    assert [v.category for v in verdicts] == [
        Category.OTHER_VENDOR,
        Category.CONSISTENT,
        Category.FICTIONAL_ORG,
    ]
    assert llm.report()["structured_refused"] == 1


async def test_a_500_naming_response_format_is_a_refusal_not_retried(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    # llama-cpp-python's server answers OpenAI's form with HTTP 500 and a validation error naming it
    server = openai_server(scripted, refuse_response_format=("json_schema",), refusal_status=500)
    verdicts, llm = await run_judge(tmp_path, server)
    assert server.requests == 1 + 3  # the probe was not retried (a 500 otherwise is, up to 6 times)
    assert llm.report()["structured_refused"] == 1 and all(v.judged for v in verdicts)


async def test_auto_falls_back_to_the_tagged_reply_and_remembers(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted, refuse_response_format=("json_schema", "json_object"))
    verdicts, llm = await run_judge(tmp_path, server, rounds=2, structured="auto")
    assert server.refused == 2  # each form refused once, by the probe; never again for this model
    assert "response_format" not in server.bodies[-1]
    assert "<verdict-" in server.bodies[-1]["messages"][1]["content"]  # the fenced-tag protocol instead
    assert [v.loose for v in verdicts] == [True, False, True]
    assert llm.report()["structured_fallback_calls"] == 6  # two rounds of three (the second from the ledger)


async def test_on_never_drops_the_schema_and_a_refusal_is_unjudged_not_negative(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted, refuse_response_format=("json_schema", "json_object"))
    verdicts, llm = await run_judge(tmp_path, server, structured="on")
    assert all("response_format" in b for b in server.bodies)
    assert all(v.loose is None and not v.judged for v in verdicts)
    assert llm.report()["unjudged"] == 3


async def test_off_sends_no_response_format(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted)
    verdicts, _ = await run_judge(tmp_path, server, structured="off")
    assert all("response_format" not in b for b in server.bodies)
    assert [v.category for v in verdicts] == [
        Category.OTHER_VENDOR,
        Category.CONSISTENT,
        Category.FICTIONAL_ORG,
    ]


@pytest.mark.parametrize(
    "reply",
    [
        '{"category": "other-vendor", "contradiction": true}',  # a required key missing
        '{"category": "nonsense", "contradiction": true, "strict": true, "sure": true, "evidence": ""}',
        '{"category": "other-vendor", "contradiction": "yes", "strict": true, "sure": true, "evidence": ""}',
        "not json at all",
        '[{"category": "other-vendor"}]',
        "",
    ],
)
async def test_malformed_structured_replies_are_retried_then_unjudged(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], reply: str
) -> None:
    server = openai_server(lambda body: reply)
    verdicts, llm = await run_judge(tmp_path, server, structured="on")
    assert all(v.loose is None and v.note == "judge reply unparseable after one retry" for v in verdicts)
    # the unreadable probe reply under json_schema moves on to json_object (with --structured on, the last form)
    assert server.requests == 1 + 6 and llm.report()["judge_retries"] == 3
    assert llm.report()["structured_ignored"] == 1
    assert all("response_format" in b for b in server.bodies)
    assert "previous reply could not be read" in server.bodies[-1]["messages"][-1]["content"]


async def test_a_server_that_ignores_the_json_schema_form_is_caught_by_the_probe(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    # llama-cpp-python's server takes {"type": "json_schema"} without complaint and applies no grammar
    def ignores_json_schema(body: dict[str, Any]) -> str:
        if body.get("response_format", {}).get("type") == "json_schema":
            return "Sure! The answer claims to be ChatGPT."
        return scripted(body)

    server = openai_server(ignores_json_schema)
    verdicts, llm = await run_judge(tmp_path, server, rounds=2)
    assert llm.report()["structured_ignored"] == 1 and server.requests == 1 + 3
    assert server.bodies[-1]["response_format"]["type"] == "json_object"
    assert [v.loose for v in verdicts] == [True, False, True]


async def test_paper_preset_asks_the_papers_questions_without_a_category(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted)
    verdicts, llm = await run_judge(tmp_path, server, preset="paper")
    assert server.bodies[0]["response_format"]["json_schema"]["schema"] == SCHEMAS["paper"]
    assert '"category"' not in server.bodies[0]["messages"][1]["content"]
    assert [(v.loose, v.category) for v in verdicts] == [(True, None), (False, None), (True, None)]
    assert llm.name.endswith(":paper")


async def test_rerun_is_answered_from_the_ledger(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(scripted, refuse_response_format=("json_schema",))
    await run_judge(tmp_path, server)
    before = server.requests
    verdicts, _ = await run_judge(tmp_path, server)  # a new process: the probe is the only new call
    assert server.requests == before + 1 and [v.loose for v in verdicts] == [True, False, True]


def test_response_format_is_part_of_the_request_key() -> None:
    plain = ModelRequest.user("hello")
    with_schema = plain.model_copy(update={"response_format": {"type": "json_object"}})
    identity = {"kind": "openai-compatible", "model": "m", "api": "chat"}
    assert request_key(identity, plain) != request_key(identity, with_schema)
    assert request_key(identity, plain) == request_key(identity, ModelRequest.user("hello", prompt_id="x"))


def test_bad_preset_and_mode_are_user_errors() -> None:
    from distillscope.ice.judges.llm import check_preset
    from distillscope.judging.structured import check_mode

    with pytest.raises(UserError, match="--judge-preset"):
        check_preset("strictest")
    with pytest.raises(UserError, match="--structured"):
        check_mode("maybe")
