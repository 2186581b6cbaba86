"""Rescore input loaders: one row per recorded answer, labels parsed strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.ice.logs import iter_log, load_log


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


def test_iter_log_streams_and_reports_a_bad_row_when_it_is_reached(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    good = json.dumps({"jailbreak_prompt": "Hi {query}", "query": "Who are you?", "response": "I am GLM."})
    path.write_text(good + "\n" + good + "\n{not json\n", encoding="utf-8")
    rows = iter_log(path)
    first = next(rows)  # read before the bad line is parsed
    assert (first.index, first.line, first.prompt) == (0, 1, "Hi Who are you?")
    assert next(rows).index == 1
    with pytest.raises(UserError, match=r"big\.jsonl:3: invalid JSON"):
        next(rows)


def test_iter_log_without_details_checks_as_strictly(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    row = {
        "model": "m",
        "jailbreak_prompt": "Hi {query}",
        "query": "你是谁？",
        "target_responses": ["a", "b"],
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    light = list(iter_log(path, details=False))
    full = load_log(path)
    assert [(r.index, r.model, r.response) for r in light] == [(r.index, r.model, r.response) for r in full]
    assert light[0].template is None and light[0].language is None and full[0].language == "zh"
    path.write_text(
        '{"jailbreak_prompt": "x", "query": "q", "response": "r", "loose": "maybe"}\n', encoding="utf-8"
    )
    with pytest.raises(UserError, match="field 'loose'"):
        list(iter_log(path, details=False))


def test_empty_inputs_keep_their_messages(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(UserError, match="file is empty"):
        load_log(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("jailbreak_prompt,query,response\n", encoding="utf-8")
    with pytest.raises(UserError, match="no responses in the log"):
        load_log(header_only)
    with pytest.raises(UserError, match="file not found"):
        load_log(tmp_path / "missing.jsonl")
