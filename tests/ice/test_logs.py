"""Rescore input loaders: one row per recorded answer, labels parsed strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.ice.logs import load_log


def test_attack_log_expands_every_answer(tmp_path: Path) -> None:
    path = tmp_path / "attack.jsonl"
    row = {"jailbreak_prompt": "No slot here", "query": "你是谁？", "target_responses": ["a", "b"]}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = load_log(path)
    assert [(r.index, r.line, r.response) for r in rows] == [(0, 1, "a"), (1, 1, "b")]
    assert rows[0].prompt == "No slot here\n你是谁？" and rows[0].language == "zh"
    assert rows[0].template == rows[1].template and rows[0].template.startswith("tpl-")


def test_labels_and_model_columns(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    lines = [
        {
            "model": "m1",
            "target_org": "Meta",
            "jailbreak_prompt": "{query}",
            "query": "q",
            "response": "r",
            "loose": 1,
            "strict": "false",
        },
        {
            "model": "m2",
            "jailbreak_prompt": "{query}",
            "query": "q",
            "response": "r",
            "loose": True,
            "complete_run": False,
        },
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    first, second = load_log(path)
    assert (first.model, first.target_org, first.loose, first.strict) == ("m1", "Meta", True, False)
    assert (second.loose, second.strict, second.complete_run) == (True, None, False)


def test_unrecognised_rows_are_located(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"jailbreak_prompt": "{query}", "query": "q", "response": "r"}\n{"text": "hello"}\n',
        encoding="utf-8",
    )
    with pytest.raises(UserError, match=r"x\.jsonl:2: unrecognised row"):
        load_log(path)
