"""The streaming JSONL writer: rows written one by one, the file appears only complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.engine.run import write_jsonl
from distillscope.jsonl import AtomicJsonlWriter


def test_rows_match_write_jsonl_and_appear_only_at_the_end(tmp_path: Path) -> None:
    rows = [{"index": 0, "evidence": "我是 ChatGPT"}, {"index": 1, "loose": None}]
    target = tmp_path / "verdicts.jsonl"
    with AtomicJsonlWriter(target) as out:
        for row in rows:
            out.write(row)
            assert not target.exists()  # nothing a reader could take for a finished file
    assert out.rows == 2
    write_jsonl(tmp_path / "reference.jsonl", rows)
    assert target.read_bytes() == (tmp_path / "reference.jsonl").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference.jsonl", "verdicts.jsonl"]


def test_a_failure_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "verdicts.jsonl"
    target.write_text('{"index": 0}\n', encoding="utf-8")
    with pytest.raises(RuntimeError, match="judge died"), AtomicJsonlWriter(target) as out:
        out.write({"index": 0, "loose": True})
        raise RuntimeError("judge died")
    assert target.read_text(encoding="utf-8") == '{"index": 0}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["verdicts.jsonl"]


def test_committed_rows_appear_in_order(tmp_path: Path) -> None:
    target = tmp_path / "judgments.jsonl"
    with AtomicJsonlWriter(target) as out:
        for k in range(3):
            out.write({"k": k, "text": "é"})
        assert not target.exists()  # nothing visible before the commit
        out.commit()
    assert [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()] == [
        {"k": 0, "text": "é"},
        {"k": 1, "text": "é"},
        {"k": 2, "text": "é"},
    ]
    assert out.rows == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judgments.jsonl"]


def test_an_error_before_commit_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "judgments.jsonl"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), AtomicJsonlWriter(target) as out:
        out.write({"k": 0})
        raise RuntimeError("stopped")
    assert target.read_text(encoding="utf-8") == "old\n"  # the previous file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judgments.jsonl"]
