"""The verdicts writer: rows written one by one, the file appears only complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillscope.engine.run import write_jsonl
from distillscope.ice.atomic_lines import AtomicJsonlWriter


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
