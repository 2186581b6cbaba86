"""The page in a real browser (headless Chromium): it runs without console errors, pages its
evidence, and draws something on laptop and phone screens, light and dark."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from distillscope.report import build_report, render

from .conftest import make_ice_run

pytestmark = pytest.mark.browser

Chromium = Callable[..., subprocess.CompletedProcess[str]]


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


@pytest.fixture
def page(tmp_path: Path, study: Callable[..., list[Path]]) -> Path:
    out = tmp_path / "study.html"
    out.write_text(render(build_report(study()), "html"), encoding="utf-8")
    return out


def test_page_runs_without_console_errors(page: Path, chromium: Chromium) -> None:
    done = chromium(page, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    root = re.search(r"<html[^>]*>", done.stdout)
    assert root is not None
    assert 'data-report-ready="1"' in root.group(0), "the page's script did not finish"
    assert "data-report-errors" not in root.group(0), root.group(0)
    assert console_lines(done.stderr) == []
    assert "<script>window.__pwned" not in done.stdout  # hostile model text stayed text


def test_evidence_pages_in_from_embedded_data(tmp_path: Path, chromium: Chromium) -> None:
    run = make_ice_run(tmp_path / "ice", "glm-4-plus", n=400, seed=5)
    total = sum(1 for line in (run / "verdicts.jsonl").read_text().splitlines() if json.loads(line)["loose"])
    assert total > 100
    out = tmp_path / "ice.html"
    out.write_text(render(build_report([run]), "html"), encoding="utf-8")
    first = chromium(out, "--dump-dom")
    assert first.stdout.count('<article class="ev">') == 50
    assert re.search(r"Show 50 more \(\d+ left\)", first.stdout)
    expanded = chromium(out, "--dump-dom", fragment="#all-evidence")
    assert expanded.stdout.count('<article class="ev">') == total
    assert expanded.stdout.count("<mark>") == total
    assert console_lines(expanded.stderr) == []


@pytest.mark.parametrize(
    ("size", "extra"),
    [("1280,2000", ()), ("390,1600", ()), ("1280,2000", ("--force-dark-mode",))],
    ids=["laptop", "phone", "dark"],
)
def test_screenshot_is_not_blank(
    page: Path, chromium: Chromium, tmp_path: Path, size: str, extra: tuple[str, ...]
) -> None:
    shot = tmp_path / "shot.png"
    done = chromium(page, f"--screenshot={shot}", f"--window-size={size}", *extra)
    assert shot.is_file(), done.stderr[-2000:]
    pixels = imread(str(shot))[..., :3]
    width, height = (int(v) for v in size.split(","))
    assert pixels.shape[:2] == (height, width)
    assert float(pixels.std()) > 0.05, "screenshot looks blank"
    # ink in the top, middle and bottom thirds: the page is laid out, not one stray line
    for third in np.array_split(pixels, 3, axis=0):
        assert float(third.std()) > 0.02


def test_the_error_check_would_catch_a_failing_script(page: Path, chromium: Chromium, tmp_path: Path) -> None:
    """Guard for the tests above: a page whose script throws is reported (marker and console)."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("</body>", "<script>missingFunction();</script></body>"), encoding="utf-8")
    done = chromium(broken, "--dump-dom")
    root = re.search(r"<html[^>]*>", done.stdout)
    assert root is not None and 'data-report-errors="1"' in root.group(0)
    assert any("missingFunction" in line for line in console_lines(done.stderr))
