"""The HTML page: valid, self-contained, escaped, with each section its data allows, and fast."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import html5lib
import pytest

from distillscope.report import build_report, render, write_run_report
from distillscope.report.evidence import FIRST_PAGE, json_for_script

from .conftest import make_ice_run, make_matrix_run, make_rse_run

ALL_SECTIONS = (
    "summary",
    "ice-chart",
    "rse",
    "map",
    "matrix",
    "evidence-ice",
    "evidence-rse",
    "breakdowns",
    "costs",
    "settings",
)


def assert_valid_html(page: str) -> None:
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)  # raises on the first parse error
    assert not parser.errors


def sections(page: str) -> set[str]:
    return set(re.findall(r'data-section="([a-z-]+)"', page))


def test_full_study_has_every_section_and_is_valid(study: Callable[..., list[Path]]) -> None:
    page = render(build_report(study()), "html")
    assert_valid_html(page)
    assert sections(page) == set(ALL_SECTIONS)
    assert page.count("<figure>") == 4  # ICE bars, RSE aspects, ICE x RSE map, matrix
    assert page.count("<svg") == 5  # the RSE figure: a panel (an SVG) per dataset, two here
    assert "<mark>I am ChatGPT, a model made by OpenAI.</mark>" in page
    assert "Zhipu AI" in page and "calls sent" in page and "estimated cost (USD)" in page


def test_sections_follow_the_data(study: Callable[..., list[Path]]) -> None:
    ice_only = render(build_report(study(rse=False, matrix=False)), "html")
    assert_valid_html(ice_only)
    assert sections(ice_only) == {"summary", "ice-chart", "evidence-ice", "breakdowns", "costs", "settings"}
    matrix_only = render(build_report(study(ice=False, rse=False)), "html")
    assert_valid_html(matrix_only)
    assert sections(matrix_only) == {"summary", "matrix", "settings"}


def test_model_text_is_escaped_and_only_the_page_script_may_run(study: Callable[..., list[Path]]) -> None:
    page = render(build_report(study()), "html")
    assert "window.__pwned" in page  # the hostile text is shown...
    assert (
        "<script>window.__pwned" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    )  # ...as text
    assert "&lt;script&gt;window.__pwned" in page
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and "default-src 'none'" in page


def test_page_needs_no_network(study: Callable[..., list[Path]]) -> None:
    page = render(build_report(study()), "html")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page


def test_incomplete_run_is_flagged(tmp_path: Path) -> None:
    page = render(build_report([make_ice_run(tmp_path / "ice", complete=False)]), "html")
    assert "Incomplete run" in page


def test_ten_thousand_responses_stay_fast_and_paged(tmp_path: Path) -> None:
    run = make_ice_run(tmp_path / "big", "glm-4-plus", n=10_000, seed=9)
    started = time.perf_counter()
    page = render(build_report([run]), "html")
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"rendering 10,000 responses took {elapsed:.1f}s"
    assert page.count('<article class="ev">') == FIRST_PAGE
    assert 'data-source="ice-ev-data-0"' in page
    assert len(page) < 8_000_000


def test_write_run_report_writes_html_and_markdown(tmp_path: Path) -> None:
    run = make_rse_run(tmp_path / "rse")
    write_run_report(run)
    assert_valid_html((run / "report.html").read_text(encoding="utf-8"))
    assert (run / "report.md").read_text(encoding="utf-8").startswith("# distillscope report: RSE")


def test_demo_style_folder_of_runs(tmp_path: Path) -> None:
    make_ice_run(tmp_path / "demo" / "ice")
    make_matrix_run(tmp_path / "demo" / "matrix")
    write_run_report(tmp_path / "demo")
    assert sections((tmp_path / "demo" / "report.html").read_text()) >= {"ice-chart", "matrix"}


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_render_formats(study: Callable[..., list[Path]], fmt: str) -> None:
    """Every format carries every run's models and every headline score with its interval."""
    dirs = study()
    text = render(build_report(dirs), fmt)
    ice = [json.loads((d / "results.json").read_text()) for d in dirs[:2]]
    rse = json.loads((dirs[2] / "results.json").read_text())
    matrix = json.loads((dirs[3] / "results.json").read_text())
    if fmt == "json":
        data = json.loads(text)
        assert [r["kind"] for r in data["runs"]] == ["ice", "ice", "rse", "matrix"]
        for run, res in zip(data["runs"][:2], ice, strict=True):
            (target,) = run["targets"]
            assert target["target"] == res["target"]
            for level in ("loose", "strict", "hard"):
                got, want = target["scores"][level], res["scores"][level]
                assert (got["score"], got["ci95"], got["n"]) == (want["score"], want["ci95"], want["n"])
        assert data["runs"][2]["reference"] == "gpt-4o"
        assert {m["model"]: m["avg"]["score"] for m in data["runs"][2]["models"]} == {
            name: block["avg"]["score"] for name, block in rse["models"].items()
        }
        assert data["runs"][3]["models"] == matrix["models"]
        assert {p["model"] for p in data["ice_rse_map"]} == {"glm-4-plus", "llama-3-8b"}
        return
    for name in ("glm-4-plus", "llama-3-8b", "gpt-4o", "qwen-max"):
        assert name in text, name
    for res in ice:
        for level in ("loose", "strict", "hard"):
            s = res["scores"][level]
            assert f"{s['score']:.3f}" in text and f"[{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]" in text
    for block in rse["models"].values():
        for s in [*block["datasets"].values(), block["avg"]]:
            assert f"{s['score']:.2f}" in text and f"[{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}]" in text


def test_hostile_model_names_stay_text(tmp_path: Path) -> None:
    name = '<img src=x onerror=alert(1)>"&$x$'
    ice = make_ice_run(tmp_path / "ice", name)
    rse = make_rse_run(tmp_path / "rse", models=(name,), datasets=("arena",))
    page = render(build_report([ice, rse]), "html")
    assert_valid_html(page)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'data-section="map"' in page  # the same hostile name still pairs ICE with RSE


def test_bidi_controls_in_model_names_do_not_reorder_the_page(tmp_path: Path) -> None:
    """A target named with U+202E (RIGHT-TO-LEFT OVERRIDE) showed reversed in report.html, with the
    rest of its line; the terminal and report.md showed it as `\\u202e`. Every bidi control the
    page shows (in text, attributes, the figures and the paged evidence) is written so."""
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    name = "glm\u202e-4-plus" + controls
    ice = make_ice_run(tmp_path / "ice", name)
    rse = make_rse_run(tmp_path / "rse", models=(name,), datasets=("arena",))
    page = render(build_report([ice, rse]), "html")
    assert_valid_html(page)
    assert not set(controls) & set(page), sorted(hex(ord(c)) for c in set(controls) & set(page))
    assert "glm\\u202e-4-plus\\u202a\\u202b" in page  # still the name, recognisable
    assert 'data-section="map"' in page  # the name still pairs ICE with RSE
    rows = json.loads(json_for_script([{"response": "I am \u202eIPAnepO\u202c"}]))
    assert rows == [{"response": "I am \\u202eIPAnepO\\u202c"}]  # textContent shows the escape


def test_contrast_is_a_table_not_raw_data(study: Callable[..., list[Path]]) -> None:
    page = render(build_report(study(ice=False, matrix=False)), "html")
    section = page.split("Contrast with an independent panel", 1)[1].split("</table>", 1)[0]
    head = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', section)]
    assert head == ["Model", "Overall", "Style", "Logic", "Content", "embedding (raw)"]
    assert '<th scope="row">glm-4-plus</th><td class="num"><strong>0.330</strong>' not in section  # 2 digits
    assert '<th scope="row">glm-4-plus</th><td class="num"><strong>0.33</strong>' in section
    assert "[0.10, 0.53]" in section and "n=24" in section
    assert ">measures<" not in section and ">in_panel<" not in section  # no dump of the raw block
