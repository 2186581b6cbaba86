"""Collecting answers: multi-turn conversations use the model's own earlier answer; replay by id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.engine.ledger import Ledger
from distillscope.engine.scheduler import Scheduler
from distillscope.models.spec import build_backend
from distillscope.models.types import GenerateParams
from distillscope.rse.datasets import load_dataset
from distillscope.rse.responses import collect_answers, items_of
from distillscope.testing.server import OpenAIServer


def numbered_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"answer {len(users)} to {users[-1]}"


def mt_file(tmp_path: Path) -> Path:
    path = tmp_path / "mt.jsonl"
    rows = [
        {"question_id": 1, "turns": ["Name a colour.", "Now another."]},
        {"question_id": 2, "turns": ["Count to two.", "Backwards."]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def test_second_turn_is_asked_after_the_models_own_first_answer(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(numbered_reply)
    prompts = load_dataset("mt", str(mt_file(tmp_path))).prompts
    scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
    answers = await collect_answers(
        scheduler,
        build_backend(f"openai-compatible:m@{server.url}"),
        prompts,
        params=GenerateParams(max_tokens=20),
    )
    assert [i.key for i in items_of(prompts)] == ["1", "1#t2", "2", "2#t2"]
    assert answers.text(("mt", "1#t2")) == "answer 2 to Now another."
    second_turn = [b for b in server.bodies if len(b["messages"]) == 3]
    assert len(second_turn) == 2
    assert {b["messages"][1]["content"] for b in second_turn} == {
        "answer 1 to Name a colour.",
        "answer 1 to Count to two.",
    }
    assert all(b["messages"][1]["role"] == "assistant" for b in second_turn)


async def test_replay_matches_ids_and_turns_and_reports_missing(tmp_path: Path) -> None:
    recorded = tmp_path / "model-x.jsonl"
    recorded.write_text(
        json.dumps({"question_id": 1, "choices": [{"index": 0, "turns": ["red", "blue"]}]}) + "\n",
        encoding="utf-8",
    )
    prompts = load_dataset("mt", str(mt_file(tmp_path))).prompts
    scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
    answers = await collect_answers(
        scheduler, build_backend(f"replay:{recorded}"), prompts, params=GenerateParams()
    )
    assert answers.name == "model-x"
    assert answers.text(("mt", "1")) == "red" and answers.text(("mt", "1#t2")) == "blue"
    missing = answers.missing()
    assert missing["count"] == 2 and missing["ids"] == {"mt": ["2", "2#t2"]}
    assert missing["reasons"] == {"no recorded answer": 1, "earlier turn has no answer": 1}
