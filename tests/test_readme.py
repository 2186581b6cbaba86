"""The README's "From Python" examples run as written (against the shared data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def python_blocks(section: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_from_python_examples_run(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks("From Python")
    assert blocks, "the README has no From Python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        namespace: dict[str, object] = {}
        exec(compile(code.replace("../shared/data", str(shared_data)), "README.md", "exec"), namespace)
    assert (tmp_path / "runs" / "paper" / "results.json").is_file()
    assert (tmp_path / "runs" / "paper.html").is_file()
    paper = namespace["paper"]
    names = [t.target for t in paper.targets]  # type: ignore[attr-defined]
    assert {"glm-4-plus", "qwen-max-0919"} <= set(names)
