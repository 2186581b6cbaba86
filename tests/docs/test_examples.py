"""Every code block of the README and the guides runs as written, where it can run offline.

A page's blocks run in order in one scratch folder (a later block may read what an earlier one wrote),
with `../shared/data` pointing at the shared data. A comment line just before a block says how to treat it:

    <!-- example: online: WHY -->       needs a server, a key or a model: skipped, saying why
    <!-- example: skip: WHY -->         not a runnable example (installs, a person's labels): skipped
    <!-- example: requires: CMD --OPT -->   runs once `distillscope CMD --help` lists --OPT, skipped until then
    <!-- example: file: NAME -->        the block is a file the next blocks use: written as NAME

`python` blocks are executed, `bash` blocks run in bash with `distillscope` as this interpreter's
`python -m distillscope`, `yaml` blocks must parse; other blocks (output, layouts) are text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(
    r"(?:<!-- example: (?P<how>[a-z]+): (?P<arg>.*?) -->\n)?^```(?P<lang>[a-z]*)\n(?P<code>.*?)^```$",
    re.S | re.M,
)


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    how: str | None
    arg: str | None


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, m.start("lang")) + 1, m["lang"], m["code"], m["how"], m["arg"])
        for m in FENCE.finditer(text)
    ]


def option_exists(requirement: str) -> bool:
    """`requires: rse attribute --control`: whether that command's --help lists the option."""
    *command, option = requirement.split()
    result = subprocess.run(
        [sys.executable, "-m", "distillscope", *command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    return result.returncode == 0 and re.search(rf"{re.escape(option)}\b", result.stdout) is not None


def run_block(block: Block, cwd: Path, shared: Path) -> None:
    where = f"{block.page.relative_to(REPO)}:{block.line}"
    code = block.code.replace("../shared/data", str(shared))
    if block.lang == "python":
        exec(compile(code, where, "exec"), {"__name__": "__example__"})
    elif block.lang == "bash":
        script = f'set -euo pipefail\ndistillscope() {{ "{sys.executable}" -m distillscope "$@"; }}\n{code}'
        env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": os.pathsep.join(sys.path)}
        result = subprocess.run(
            ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
        )
        assert result.returncode == 0, (
            f"{where} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    elif block.lang == "yaml":
        assert yaml.safe_load(code) is not None, f"{where}: empty YAML"


def page_id(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def test_blocks_are_found_and_every_marker_is_known() -> None:
    found = [b for page in PAGES for b in blocks(page)]
    assert any(b.page.name == "README.md" and b.lang == "python" for b in found)
    for block in found:
        assert block.how in (None, "online", "skip", "requires", "file"), (block.page, block.line)
        if block.how in ("online", "skip"):
            assert block.arg and len(block.arg) > 10, f"{block.page}:{block.line}: say why it does not run"


def test_fence_parser_reads_markers() -> None:
    text = "x\n<!-- example: online: needs a server -->\n```bash\necho hi\n```\n\n```python\nprint(1)\n```\n"
    page = REPO / "page.md"
    found = [(b.lang, b.how, b.arg, b.code) for m in [text] for b in _parse(text, page)]
    assert found == [("bash", "online", "needs a server", "echo hi\n"), ("python", None, None, "print(1)\n")]


def _parse(text: str, page: Path) -> list[Block]:
    return [
        Block(page, text.count("\n", 0, m.start("lang")) + 1, m["lang"], m["code"], m["how"], m["arg"])
        for m in FENCE.finditer(text)
    ]


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=page_id)
def test_page_examples_run(
    page: Path, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran, skipped = [], []
    for block in blocks(page):
        if block.how in ("online", "skip"):
            skipped.append(f"line {block.line}: {block.how}: {block.arg}")
            continue
        if block.how == "requires" and not option_exists(block.arg or ""):
            skipped.append(f"line {block.line}: not in this build yet: distillscope {block.arg}")
            continue
        if block.how == "file":
            (tmp_path / (block.arg or "")).write_text(
                block.code.replace("../shared/data", str(shared_data)), encoding="utf-8"
            )
            continue
        if block.lang not in ("python", "bash", "yaml"):
            continue
        run_block(block, tmp_path, shared_data)
        ran.append(block.line)
    if not ran:
        pytest.skip(f"{page_id(page)}: no block runs offline here ({'; '.join(skipped) or 'text only'})")
