"""`distillscope report` and `distillscope compare` (src/distillscope/cli/report.py) on run directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from distillscope.cli import _register_optional, app

from .conftest import make_ice_run, make_matrix_run, make_rse_run

_register_optional()
runner = CliRunner()


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        make_ice_run(tmp_path / "ice-glm", "glm-4-plus", seed=3),
        make_ice_run(tmp_path / "ice-llama", "llama-3-8b", seed=4),
        make_rse_run(tmp_path / "rse"),
        make_matrix_run(tmp_path / "matrix"),
    ]


def test_report_writes_each_format(runs: list[Path], tmp_path: Path) -> None:
    for name, marker in (
        ("study.html", "<!DOCTYPE html>"),
        ("study.md", "# distillscope report"),
        ("study.json", '"rankings"'),
    ):
        result = runner.invoke(app, ["report", *map(str, runs), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert f"wrote {tmp_path / name}" in result.output.replace("\n", "")
        assert marker in (tmp_path / name).read_text(encoding="utf-8")
    data = json.loads((tmp_path / "study.json").read_text())
    assert [r["kind"] for r in data["runs"]] == ["ice", "ice", "rse", "matrix"]
    assert {p["model"] for p in data["ice_rse_map"]} == {"glm-4-plus", "llama-3-8b"}


def test_report_format_flag_and_stdout(runs: list[Path]) -> None:
    result = runner.invoke(app, ["report", str(runs[2]), "--format", "md", "--out", "-"])
    assert result.exit_code == 0
    assert result.output.startswith("# distillscope report: RSE")


def test_report_user_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "no such directory" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["report", str(tmp_path), "--format", "pdf"])
    assert result.exit_code == 2 and "--format 'pdf'" in result.output


def test_compare_ranks_targets_by_each_score(runs: list[Path]) -> None:
    result = runner.invoke(app, ["compare", *map(str, runs)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for title in ("ICE loose", "ICE strict", "ICE hard", "RSE average vs gpt-4o", "RSE arena vs gpt-4o"):
        assert title in result.output
    glm = json.loads((runs[0] / "results.json").read_text())["scores"]["strict"]["score"]
    llama = json.loads((runs[1] / "results.json").read_text())["scores"]["strict"]["score"]
    strict = result.output.split("ICE strict")[1].split("ICE hard")[0]
    first, second = ("glm-4-plus", "llama-3-8b") if glm > llama else ("llama-3-8b", "glm-4-plus")
    assert strict.index(first) < strict.index(second)


def _partial_log_run(tmp_path: Path) -> Path:
    """A real `ice rescore --judge recorded` of a log that mixes a complete run and a partial one
    (`complete_run: false`, the paper's lost runs: only positives survive, so it scores 1.000)."""
    rows = [
        {"model": "whole", "target_org": "Meta", "loose": i < 2, "strict": False, "complete_run": True}
        for i in range(6)
    ] + [
        {"model": "partial", "target_org": "Google", "loose": True, "strict": False, "complete_run": False}
        for _ in range(3)
    ]
    log = tmp_path / "labels.jsonl"
    log.write_text(
        "".join(
            json.dumps({**r, "jailbreak_prompt": "{query}", "query": f"q{i}", "response": f"answer {i}"})
            + "\n"
            for i, r in enumerate(rows)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "paper"
    result = runner.invoke(app, ["ice", "rescore", str(log), "--judge", "recorded", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_compare_never_ranks_a_partial_log(tmp_path: Path) -> None:
    """A partial log's 1.000 is not comparable: `compare` lists it after the ranking, unnumbered, and says why."""
    run = _partial_log_run(tmp_path)
    result = runner.invoke(app, ["compare", str(run)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    loose = result.output.split("ICE loose")[1].split("ICE strict")[0]
    assert "│ 1 │ whole " in loose
    assert "│ — │ partial (not ranked) │ 1.000 │" in loose
    assert "not ranked: partial: the log holds only part of this model's run" in loose
    data = json.loads(runner.invoke(app, ["report", str(run), "--format", "json", "--out", "-"]).output)
    ranking = next(r for r in data["rankings"] if r["title"] == "ICE loose")
    assert [r["model"] for r in ranking["rows"]] == ["whole"]
    assert [(r["model"], r["score"]) for r in ranking["unranked"]] == [("partial", 1.0)]


def test_markdown_report_keeps_the_partial_log_note(tmp_path: Path) -> None:
    """report.md says what the terminal and the HTML say: a partial log's scores are not comparable."""
    run = _partial_log_run(tmp_path)
    result = runner.invoke(app, ["report", str(run), "--format", "md", "--out", "-"])
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.output.splitlines() if line.startswith("| partial")]
    assert "its scores are not comparable" in row
    (whole,) = [line for line in result.output.splitlines() if line.startswith("| whole")]
    assert "not comparable" not in whole


def test_report_size_is_the_files_bytes(tmp_path: Path) -> None:
    """The KiB printed is the file's size on disk, also when answers are CJK (3 bytes a character)."""
    log = tmp_path / "zh.jsonl"
    answer = "我是由OpenAI开发的语言模型。" * 40
    log.write_text(
        "".join(
            json.dumps(
                {"model": "m", "target_org": "Zhipu AI", "jailbreak_prompt": "{query}", "query": f"你是谁{i}",
                 "response": answer, "loose": True, "strict": True},
                ensure_ascii=False,
            ) + "\n"
            for i in range(30)
        ),
        encoding="utf-8",
    )  # fmt: skip
    run = tmp_path / "zh"
    assert (
        runner.invoke(
            app, ["ice", "rescore", str(log), "--judge", "recorded", "--out", str(run), "-q"]
        ).exit_code
        == 0
    )
    page = tmp_path / "zh.html"
    result = runner.invoke(app, ["report", str(run), "--out", str(page)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    size = page.stat().st_size
    assert len(page.read_text(encoding="utf-8")) < size - 1024  # characters and bytes differ here
    assert f"(html, {-(-size // 1024)} KiB)" in result.output


def _rescore(tmp_path: Path, model: str, judge: str) -> Path:
    """A real `ice rescore` of a small log whose recorded labels disagree with the rules judge."""
    claim, true = "I am ChatGPT, a model made by OpenAI.", "I am GLM, developed by Zhipu AI."
    design = [
        (claim, True, True, 10),
        (true, True, False, 5),
        (true, False, False, 5),
        (claim, False, False, 3),
    ]
    log = tmp_path / f"{model}.jsonl"
    log.write_text(
        "".join(
            json.dumps({"model": model, "target_org": "Zhipu AI", "jailbreak_prompt": "Hi {query}",
                        "query": "Who made you?", "response": text, "loose": loose, "strict": strict}) + "\n"
            for text, loose, strict, count in design for _ in range(count)
        ),
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / f"{model}-{judge}"
    result = runner.invoke(app, ["ice", "rescore", str(log), "--judge", judge, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_compare_never_ranks_ice_runs_of_different_judges_together(tmp_path: Path) -> None:
    """The rules judge gives glm 13/23 loose, the recorded labels give qwen 15/23: one table ranked qwen
    above glm though no judge saw both. Each judge gets its own table, and a warning names them."""
    rules, recorded = _rescore(tmp_path, "glm-4-plus", "rules"), _rescore(tmp_path, "qwen-max", "recorded")
    result = runner.invoke(app, ["compare", str(rules), str(recorded)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "these ICE runs were judged differently (rules; recorded)" in result.output
    assert "ICE loose, judge rules" in result.output and "ICE loose, judge recorded" in result.output
    tables = result.output.split("ICE ")[1:]
    loose_rules = next(t for t in tables if t.startswith("loose, judge rules"))
    assert "glm-4-plus" in loose_rules and "qwen-max" not in loose_rules
    # the report's JSON rankings are split the same way, each naming its judge
    out = tmp_path / "r.json"
    assert runner.invoke(app, ["report", str(rules), str(recorded), "--out", str(out)]).exit_code == 0
    ranked = json.loads(out.read_text(encoding="utf-8"))["rankings"]
    assert [(r["title"], r["judge"], [row["model"] for row in r["rows"]]) for r in ranked][:2] == [
        ("ICE loose, judge rules", "rules", ["glm-4-plus"]),
        ("ICE loose, judge recorded", "recorded", ["qwen-max"]),
    ]


def test_compare_ranks_ice_runs_of_one_judge_together(tmp_path: Path) -> None:
    one, two = _rescore(tmp_path, "glm-4-plus", "rules"), _rescore(tmp_path, "qwen-max", "rules")
    result = runner.invoke(app, ["compare", str(one), str(two)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "judged differently" not in result.output and "judge rules" not in result.output
    loose = result.output.split("ICE loose")[1].split("ICE strict")[0]
    assert "glm-4-plus" in loose and "qwen-max" in loose


def test_a_report_of_ice_runs_judged_differently_says_so(tmp_path: Path) -> None:
    rules, recorded = _rescore(tmp_path, "glm-4-plus", "rules"), _rescore(tmp_path, "qwen-max", "recorded")
    for fmt in ("md", "html"):
        out = tmp_path / f"r.{fmt}"
        assert runner.invoke(app, ["report", str(rules), str(recorded), "--out", str(out)]).exit_code == 0
        text = out.read_text(encoding="utf-8")
        assert "Judges differ:</strong>" in text or "**Judges differ:**" in text
        assert "judged differently (rules; recorded)" in text
    same = _rescore(tmp_path, "qwen-max", "rules")
    out = tmp_path / "same.md"
    assert runner.invoke(app, ["report", str(rules), str(same), "--out", str(out)]).exit_code == 0
    assert "Judges differ" not in out.read_text(encoding="utf-8")


def test_charts_and_maps_draw_each_ice_judge_apart(tmp_path: Path) -> None:
    """The ICE chart drew targets of different judges side by side, and the ICE × RSE map placed a
    target by whichever judge's run came first, silently; each judge now gets its own chart and map."""
    rules, recorded = _rescore(tmp_path, "glm-4-plus", "rules"), _rescore(tmp_path, "glm-4-plus", "recorded")
    rse = make_rse_run(tmp_path / "rse")
    html_out, md_out, json_out = (tmp_path / f"r.{fmt}" for fmt in ("html", "md", "json"))
    for out in (html_out, md_out, json_out):
        result = runner.invoke(app, ["report", str(rules), str(recorded), str(rse), "--out", str(out)])
        assert result.exit_code == 0, result.output
    html = html_out.read_text(encoding="utf-8")
    assert "ICE identity contradiction by target, judged by rules" in html
    assert "ICE identity contradiction by target, judged by recorded" in html
    assert "ICE × RSE: identity contradiction against response similarity, ICE judged by rules" in html
    assert "ICE × RSE: identity contradiction against response similarity, ICE judged by recorded" in html
    points = json.loads(json_out.read_text(encoding="utf-8"))["ice_rse_map"]
    assert sorted((p["model"], p["ice_judge"]) for p in points) == [
        ("glm-4-plus", "recorded"),
        ("glm-4-plus", "rules"),
    ]
    by_judge = {p["ice_judge"]: p["ice"]["strict"]["score"] for p in points}
    assert by_judge["rules"] != by_judge["recorded"]  # the two judges' rates, each kept
    assert "| ICE judge |" in md_out.read_text(encoding="utf-8")
    # one judge: one chart and one map, with no judge in their titles
    result = runner.invoke(app, ["report", str(rules), str(rse), "--out", str(html_out)])
    assert result.exit_code == 0, result.output
    html = html_out.read_text(encoding="utf-8")
    assert "judged by" not in html and html.count("ICE identity contradiction by target") >= 1


def _answers(path: Path, who: str) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {"id": str(i), "response": f"{who} explains topic {i}: it follows from the forces at work."}
            )
            + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    return path


def test_report_never_writes_over_a_replay_file_or_the_ledger_its_runs_used(tmp_path: Path) -> None:
    """`report RUN --out ref.jsonl` replaced the reference's answers (a `replay:` model of the run)
    with the report, and `--out cache.sqlite` the shared ledger of paid-for calls given as `--cache`,
    exit 0: the check read only the run's settings, where a model is a spec (`replay:PATH`) and the
    ledger is not, and never a study's stage runs. Each is refused by either path, unchanged."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": str(i), "prompt": f"Explain topic {i}"}) + "\n" for i in range(3))
    )
    ref, test = _answers(tmp_path / "ref.jsonl", "ref"), _answers(tmp_path / "mine.jsonl", "mine")
    cache = tmp_path / "cache.sqlite"
    run = tmp_path / "rse"
    made = runner.invoke(app, ["rse", "run", "--reference", f"replay:{ref}", "--test", f"replay:{test}", "--dataset", f"d={prompts}", "--judge", "offline", "--cache", str(cache), "--out", str(run), "--quiet"])  # fmt: skip
    assert made.exit_code == 0, made.output
    study = tmp_path / "study.yaml"
    study.write_text(
        'models:\n  ref: "replay:ref.jsonl"\n  mine: "replay:mine.jsonl"\ntargets: [mine]\nreference: ref\n'
        "ice: null\nrse: {judge: offline, datasets: {d: p.jsonl}}\n",
        encoding="utf-8",
    )
    assert (
        runner.invoke(app, ["study", str(study), "--out", str(tmp_path / "study"), "--quiet"]).exit_code == 0
    )
    before = {path: path.read_bytes() for path in (ref, test, cache)}
    for source, out, setting in (
        (run, ref, "reference"),
        (run, tmp_path / "rse" / ".." / "mine.jsonl", "tests[0]"),
        (run, cache, "ledger"),
        (tmp_path / "study", ref, "models.ref.path"),
    ):
        refused = runner.invoke(app, ["report", str(source), "--out", str(out), "--format", "md"])
        assert refused.exit_code == 2, refused.output
        assert f"is an input of the run {source} (its setting '{setting}')" in " ".join(
            refused.output.split()
        )
    assert {path: path.read_bytes() for path in before} == before
    other = runner.invoke(app, ["report", str(run), "--out", str(tmp_path / "r.md")])
    assert other.exit_code == 0, other.output


def test_an_out_that_is_a_symbolic_link_loop_is_one_line(runs: list[Path], tmp_path: Path) -> None:
    """`report RUN --out LOOP` (a link to itself, or a file in a folder that is one) was a traceback,
    exit 1: resolving the path raised RuntimeError ("Symlink loop")."""
    loop = tmp_path / "loop.html"
    loop.symlink_to(loop)
    folder = tmp_path / "loopdir"
    folder.symlink_to(folder)
    for out in (loop, folder / "report.html"):
        result = runner.invoke(app, ["report", str(runs[2]), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"error: {out}: a symbolic link that loops, or lies in a folder that does (--out); choose another file"
        ]
    assert loop.is_symlink() and folder.is_symlink()


def test_a_copy_of_a_run_given_beside_it_is_counted_once_with_a_note_naming_both(
    runs: list[Path], tmp_path: Path
) -> None:
    """`cp -r ice-glm ice-glm-copy` and `compare ice-glm ice-glm-copy ice-llama` ranked glm-4-plus twice
    (links to one run were already counted once, by path); a copy is known by its results.json and
    config.json, counted once, and a note names both. Two runs of one target are still two."""
    import shutil

    copy = tmp_path / "ice-glm-copy"
    shutil.copytree(runs[0], copy)
    other = make_ice_run(tmp_path / "ice-glm-again", "glm-4-plus", seed=5)
    result = runner.invoke(app, ["compare", str(runs[0]), str(copy), str(runs[1])], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said.count("glm-4-plus") == said.count("llama-3-8b") > 0  # one row per ranking each
    assert (
        f"note: {copy}: skipped, a copy of {runs[0]} (the same results.json and config.json): one run, counted once"
        in said
    )
    both = runner.invoke(app, ["compare", str(runs[0]), str(other)], env={"COLUMNS": "250"})
    assert both.exit_code == 0 and "a copy of" not in both.output
    assert " ".join(both.output.split()).count("glm-4-plus") == 2 * said.count("llama-3-8b")
    report = runner.invoke(app, ["report", str(runs[0]), str(copy), "--format", "json", "--out", "-"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.output[report.output.index("{") :])
    assert [r["path"] for r in data["runs"]] == [str(runs[0])]
