"""The generated pages of the docs site: bench results, the CLI reference, the schemas, included files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()

RESULT = {
    "title": "Judge accuracy on unseen models",
    "command": "python bench/judge_agreement.py",
    "generated": "2026-12-06",
    "tables": [
        {
            "title": "leave one model out",
            "columns": ["model", "n", "loose accuracy", "95% CI"],
            "rows": [["model-a", 120, 0.9123456, "[0.85, 0.95]"], ["a|b", 7, None, "n/a"]],
        }
    ],
    "notes": ["In-sample figures are never called accuracy."],
}


def test_a_bench_result_renders_every_table_row_and_note(tmp_path: Path) -> None:
    (tmp_path / "judge.json").write_text(json.dumps(RESULT), encoding="utf-8")
    page = hooks.render_bench_results(tmp_path)
    assert "### Judge accuracy on unseen models" in page
    assert "`python bench/judge_agreement.py`" in page and "2026-12-06" in page
    assert "| model | n | loose accuracy | 95% CI |" in page
    assert "| model-a | 120 | 0.9123 | [0.85, 0.95] |" in page
    assert "| a\\|b | 7 | — | n/a |" in page  # a pipe in a cell does not split it; a missing value shows
    assert "- In-sample figures are never called accuracy." in page


def test_every_result_file_is_rendered_in_name_order(tmp_path: Path) -> None:
    for name in ("b", "a"):
        (tmp_path / f"{name}.json").write_text(
            json.dumps({**RESULT, "title": f"result {name}"}), encoding="utf-8"
        )
    page = hooks.render_bench_results(tmp_path)
    assert page.index("### result a") < page.index("### result b")


def test_no_results_yet_says_so(tmp_path: Path) -> None:
    assert "No bench results yet" in hooks.render_bench_results(tmp_path / "results")


def test_a_malformed_result_names_its_file(tmp_path: Path) -> None:
    bad = {**RESULT, "tables": [{"title": "t", "columns": ["a", "b"], "rows": [[1]]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json: table 't' has a row of 1 cells"):
        hooks.render_bench_results(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"title": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json: no 'command'"):
        hooks.render_bench_results(tmp_path)


def test_the_committed_bench_results_render() -> None:
    folder = REPO / "bench" / "results"
    page = hooks.render_bench_results(folder)
    for path in sorted(folder.glob("*.json")):
        assert f"### {json.loads(path.read_text(encoding='utf-8'))['title']}" in page


def test_cli_reference_names_every_command() -> None:
    page = hooks.render_cli_reference()
    paths = [" ".join(path) for path, _ in hooks.cli_commands()]
    expected = {"ice run", "ice rescore", "ice audit", "rse run", "rse attribute", "rse matrix"}
    expected |= {"study", "report", "compare", "models", "demo", "models check", "models answer"}
    assert expected <= set(paths)
    for path in paths:
        assert f"`{' '.join(['distillscope', path]).strip()}`" in page, (
            f"{path} is missing from the reference"
        )
    for path, command in hooks.cli_commands():
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and not param.hidden:
                assert f"`{param.opts[0]}`" in page, (path, param.opts)


def test_cli_reference_shows_examples_as_shell_blocks() -> None:
    page = hooks.render_cli_reference()
    assert "```bash\ndistillscope rse attribute " in page


def test_every_schema_gets_a_section() -> None:
    page = hooks.render_schemas(REPO / "docs" / "schema")
    for path in (REPO / "docs" / "schema").glob("*.schema.json"):
        kind = path.name.removesuffix(".schema.json")
        assert f"## `{kind}`" in page and f"(../schema/{path.name})" in page
    assert "| `schema_version` |" in page


def test_include_makes_repository_links_plain(tmp_path: Path) -> None:
    source = tmp_path / "x.md"
    source.write_text(
        "# Title\n\nSee [the data](data/x.jsonl), [`a.py`](a.py), [site](https://example.org) and ![i](i.png).\n",
        encoding="utf-8",
    )
    text = hooks.include(source)
    assert "# Title" not in text
    assert "the data (`data/x.jsonl`)" in text and "`a.py`," in text
    assert "[site](https://example.org)" in text and "![i](i.png)" in text


def test_unknown_marker_fails_the_build() -> None:
    with pytest.raises(ValueError, match="unknown docs marker"):
        hooks.expand("<!-- distillscope:nonsense -->")
    assert hooks.expand("plain text") == "plain text"


def test_see_links_a_page_only_once_it_exists(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    assert hooks.see_also("guides/judge.md", "guides/ice.md", tmp_path) == ""
    (tmp_path / "guides" / "judge.md").write_text("# The ICE judge\n\ntext\n", encoding="utf-8")
    assert hooks.see_also("guides/judge.md", "guides/ice.md", tmp_path) == (
        "See also: [The ICE judge](../guides/judge.md)."
    )
    assert (
        hooks.see_also("guides/judge.md", "trust.md", tmp_path)
        == "See also: [The ICE judge](guides/judge.md)."
    )


def test_unlisted_guides_join_the_nav(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    for name, title in (("ice.md", "ICE"), ("banks.md", "Reference banks")):
        (tmp_path / "guides" / name).write_text(f"# {title}\n", encoding="utf-8")
    nav: list[object] = [{"Home": "index.md"}, {"Guides": [{"ICE": "guides/ice.md"}]}]
    assert hooks.add_unlisted_guides(nav, tmp_path) == ["guides/banks.md"]
    assert nav[1] == {"Guides": [{"ICE": "guides/ice.md"}, {"Reference banks": "guides/banks.md"}]}
    assert hooks.add_unlisted_guides(nav, tmp_path) == []  # listed now
