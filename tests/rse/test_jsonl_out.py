"""AtomicJsonl: rows stream to a temporary file that becomes the target only on commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.rse.jsonl_out import AtomicJsonl


def test_committed_rows_appear_in_order(tmp_path: Path) -> None:
    target = tmp_path / "judgments.jsonl"
    with AtomicJsonl(target) as out:
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
    with pytest.raises(RuntimeError), AtomicJsonl(target) as out:
        out.write({"k": 0})
        raise RuntimeError("stopped")
    assert target.read_text(encoding="utf-8") == "old\n"  # the previous file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judgments.jsonl"]
