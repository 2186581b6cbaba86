"""The README is a front door: short, the two setup commands (the test one exactly as CI runs it), and its
"From Python" example runs as written (against the shared data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def python_blocks(section: str) -> list[str]:
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_readme_is_short_and_holds_both_setup_commands() -> None:
    assert len(README.splitlines()) <= 250
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.search(r"^readme_command='(.*)'$", ci, re.M)
    assert test_command, ".ci/run names no README command"
    lines = README.splitlines()
    assert test_command.group(1) in lines, "the README's test command is not the one .ci/run runs"
    assert "docs]" in test_command.group(1), (
        "the test install must include the docs extra (mkdocs build runs after it)"
    )
    demo = [
        line for line in lines if line.startswith("python3 -m venv") and line.endswith("distillscope demo")
    ]
    assert len(demo) == 1, "the README's demo command is missing"
    assert "mkdocs build --strict" in ci


def test_getting_started_repeats_the_same_setup_commands() -> None:
    page = (REPO / "docs" / "getting-started.md").read_text(encoding="utf-8").splitlines()
    setup = [line for line in README.splitlines() if line.startswith("python3 -m venv")]
    assert setup and all(line in page for line in setup)


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
