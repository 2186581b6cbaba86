"""The RSE LLM judge's structured outputs: the rating schema in response_format, a server that
takes only llama.cpp's json_object form, one that refuses both, and malformed constrained replies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.engine.ledger import Ledger
from distillscope.engine.scheduler import Scheduler
from distillscope.models.spec import build_backend
from distillscope.rse.llm_judge import SCHEMA, LLMSimilarityJudge
from distillscope.rse.types import PairItem
from distillscope.testing.server import OpenAIServer


def rating(body: dict[str, Any]) -> str:
    """A bare object under response_format; the nonce-tagged line otherwise."""
    text = json.dumps({"style": 4, "logic": 3, "content": 2, "evidence": "close"})
    if "response_format" in body:
        return text
    prompt = body["messages"][1]["content"]
    nonce = prompt.split("<data-", 1)[1].split(">", 1)[0]
    return f"<verdict-{nonce}>{text}</verdict-{nonce}>"


def judge(tmp_path: Path, server: OpenAIServer, **kwargs: Any) -> LLMSimilarityJudge:
    scheduler = Scheduler(Ledger(tmp_path / "ledger.sqlite"))
    backend = build_backend(f"openai-compatible:judge@{server.url}", max_retries=0)
    return LLMSimilarityJudge(backend, scheduler, **kwargs)


PAIRS = [
    PairItem(prompt_id=f"p{i}", prompt="Why is the sky blue?", reference="Rayleigh scattering.", candidate=c)
    for i, c in enumerate(["Air scatters blue light.", "Because of the ocean.", "I do not know."])
]


async def test_schema_is_requested_and_answered(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(rating)
    j = judge(tmp_path, server)
    scores = await j.judge_many(PAIRS)
    assert all(s is not None and (s.style, s.logic, s.content) == (4.0, 3.0, 2.0) for s in scores)
    fmt = server.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA
    assert "Reply with only the JSON object" in server.bodies[0]["messages"][1]["content"]
    assert j.settings()["structured"] == "auto"


async def test_llama_cpp_python_form_after_one_refused_probe(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(rating, refuse_response_format=("json_schema",), refusal_status=422)
    j = judge(tmp_path, server)
    scores = await j.judge_many(PAIRS)
    assert all(s is not None for s in scores)
    assert server.refused == 1 and server.requests == 4
    assert server.bodies[-1]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert j.report()["structured_refused"] == 1


async def test_refused_everywhere_falls_back_to_the_tagged_reply(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(rating, refuse_response_format=("json_schema", "json_object"))
    scores = await judge(tmp_path, server).judge_many(PAIRS)
    assert all(s is not None for s in scores) and "response_format" not in server.bodies[-1]


async def test_malformed_constrained_reply_is_unjudged(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(lambda body: '{"style": 9, "logic": 3, "content": 2, "evidence": ""}')
    j = judge(tmp_path, server, structured="on")
    scores = await j.judge_many(PAIRS[:1])
    # the unreadable probe reply moves on from json_schema to json_object, then the one retry
    assert scores == [None] and j.report()["unjudged"] == 1 and server.requests == 1 + 2
