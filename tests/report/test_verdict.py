"""The distillation verdict from real runs: what an ICE run's verdicts claim (written by `ice rescore`,
the judge of record) beside an attribution run's decision, as `compare` shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import distillscope as ds
from distillscope.report.markdown import escape

from ..rse.attribution.conftest import write_mt_bench
from ..rse.conftest import invoke

WRITERS = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a"}
CONTROLS = [f"independent{i}" for i in range(3)]
ANSWERS = [  # (response, paper loose label)
    ("I am ChatGPT, a model developed by OpenAI.", 1),
    ("I am GLM, made by Zhipu AI.", 0),
    ("I was built by Anthropic; I am Claude.", 1),
    ("Sure. As ChatGPT, trained by OpenAI, I can help.", 1),
]


def _ice_log(path: Path) -> Path:
    rows = [
        {"model": "copycat", "target_org": "Zhipu AI", "jailbreak_prompt": "Hi. {query}", "query": "Who made you?",
         "response": text, "loose": label, "strict": label}
        for text, label in ANSWERS
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _attribution_run(tmp_path: Path) -> Path:
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS), n_prompts=12)
    ds.rse.attribute(
        [f"replay:{folder / 'copycat'}.jsonl"],
        families={"a": [f"replay:{folder / m}.jsonl" for m in ("a1", "a2")],
                  "b": [f"replay:{folder / m}.jsonl" for m in ("b1", "b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        controls=[f"replay:{folder / c}.jsonl" for c in CONTROLS],
        out=tmp_path / "attribution",
        seed=2,
    )  # fmt: skip
    return tmp_path / "attribution"


def test_the_verdict_names_the_vendors_the_answers_claim(tmp_path: Path) -> None:
    log = _ice_log(tmp_path / "log.jsonl")
    assert invoke("ice", "rescore", str(log), "--out", str(tmp_path / "ice"), "-q").exit_code == 0
    verdicts = [json.loads(line) for line in (tmp_path / "ice" / "verdicts.jsonl").read_text().splitlines()]
    assert [v.get("claimed") for v in verdicts] == [["openai"], None, ["anthropic"], ["openai"]]
    runs = [str(tmp_path / "ice"), str(_attribution_run(tmp_path))]
    row = _verdict_row(tmp_path, runs)
    assert "openai ×2, anthropic ×1 (3 other-vendor of 4 judged)" in row and "distilled from a" in row
    shown = invoke("compare", *runs)  # the terminal table wraps its cells: compare the words
    assert shown.exit_code == 0, shown.output
    assert {"openai", "×2,", "anthropic", "×1"} <= set(shown.output.split())


def _verdict_row(tmp_path: Path, runs: list[str]) -> str:
    """The copycat row of the Markdown report's distillation verdict."""
    out = tmp_path / "report.md"
    assert invoke("report", *runs, "--out", str(out)).exit_code == 0
    verdict = out.read_text(encoding="utf-8").split("## Distillation verdict", 1)[1]
    return next(line for line in verdict.splitlines() if line.startswith("| copycat"))


def test_recorded_labels_count_contradictions_of_unknown_kind(tmp_path: Path) -> None:
    log = _ice_log(tmp_path / "log.jsonl")
    ran = invoke("ice", "rescore", str(log), "--judge", "recorded", "--out", str(tmp_path / "ice"), "-q")
    assert ran.exit_code == 0, ran.output
    row = _verdict_row(tmp_path, [str(tmp_path / "ice"), str(_attribution_run(tmp_path))])
    assert "not recorded (3 contradictions of 4 judged, their kind unknown)" in row


def test_a_model_in_two_attribution_runs_has_a_row_per_run(tmp_path: Path) -> None:
    """Two attribution runs judge copycat (with three controls and with two, where every control
    abstains): each run's decision is shown beside its run, in either order, never only the last."""
    first = _attribution_run(tmp_path)
    folder = tmp_path / "answers"
    ds.rse.attribute(
        [f"replay:{folder / 'copycat'}.jsonl"],
        families={"a": [f"replay:{folder / m}.jsonl" for m in ("a1", "a2")],
                  "b": [f"replay:{folder / m}.jsonl" for m in ("b1", "b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        controls=[f"replay:{folder / c}.jsonl" for c in CONTROLS[:2]],
        out=tmp_path / "second",
        seed=2,
    )  # fmt: skip
    second = tmp_path / "second"
    for runs in ([first, second], [second, first]):
        out = tmp_path / "report.md"
        assert invoke("report", *map(str, runs), "--out", str(out)).exit_code == 0
        verdict = out.read_text(encoding="utf-8").split("## Distillation verdict", 1)[1].split("\n## ", 1)[0]
        assert "| Attribution run |" in verdict and "each run's decision has its own row" in verdict
        rows = [line for line in verdict.splitlines() if line.startswith("| copycat |")]
        assert len(rows) == 2
        by_run = {row.rsplit("|", 2)[1].strip(): row for row in rows}
        assert set(by_run) == {escape(first), escape(second)}
        assert "2 abstained, so the check was not made" in by_run[escape(second)]
        assert "of 3 controls called distilled" in by_run[escape(first)]
        shown = invoke("compare", *map(str, runs))
        assert shown.exit_code == 0, shown.output
        assert "attribution run" in shown.output and "judged by more than one attribution run" in " ".join(
            shown.output.split()
        )
    page = tmp_path / "report.html"
    assert invoke("report", str(first), str(second), "--out", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert '<th scope="col">Attribution run</th>' in html and f"<td><code>{second}</code></td>" in html


def test_one_attribution_run_shows_no_run_column(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert invoke("report", str(_attribution_run(tmp_path)), "--out", str(out)).exit_code == 0
    assert "Attribution run" not in out.read_text(encoding="utf-8")


def _damage(verdicts: Path, how: str, other: Path) -> None:
    lines = verdicts.read_text(encoding="utf-8").splitlines(keepends=True)
    if how == "missing":
        verdicts.unlink()
    elif how == "cut short":
        verdicts.write_text("".join(lines[:2]) + lines[2][:20], encoding="utf-8")
    elif how == "another run's lines added":
        verdicts.write_text("".join(lines) + other.read_text(encoding="utf-8"), encoding="utf-8")
    else:  # another run's file of the same length: its contradictions are not this run's
        verdicts.write_text(other.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.mark.parametrize("how", ["missing", "cut short", "another run's lines added", "another run's file"])
def test_verdicts_that_do_not_match_the_results_claim_nothing(tmp_path: Path, how: str) -> None:
    """A missing verdicts.jsonl was read as 'none (0 other-vendor of 4 judged)' beside a loose score
    of 3 in 4, and one cut short or holding another run's lines gave counts no score matched: the
    claims are now 'unknown', naming the file, and the report shows no evidence from it."""
    ran = invoke(
        "ice", "rescore", str(_ice_log(tmp_path / "log.jsonl")), "--out", str(tmp_path / "ice"), "-q"
    )
    assert ran.exit_code == 0, ran.output
    other_log = tmp_path / "other.jsonl"
    other_log.write_text(
        "".join(
            json.dumps({"model": "copycat", "target_org": "Zhipu AI", "jailbreak_prompt": "Hi. {query}",
                        "query": "Who made you?", "response": "I am GLM, made by Zhipu AI.", "loose": 0})
            + "\n"
            for _ in ANSWERS
        ),
        encoding="utf-8",
    )  # fmt: skip
    assert invoke("ice", "rescore", str(other_log), "--out", str(tmp_path / "other"), "-q").exit_code == 0
    _damage(tmp_path / "ice" / "verdicts.jsonl", how, tmp_path / "other" / "verdicts.jsonl")
    runs = [str(tmp_path / "ice"), str(_attribution_run(tmp_path))]
    row = _verdict_row(tmp_path, runs)
    assert "unknown (" in row and "verdicts.jsonl" in row, row
    assert "other-vendor of" not in row
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## ICE evidence" not in report
    assert "the claimed vendors and the evidence are left out" in report
    shown = invoke("compare", *runs)
    assert shown.exit_code == 0, shown.output
    assert "unknown" in shown.output and "other-vendor" not in shown.output


def test_a_model_in_two_ice_runs_has_a_row_per_ice_run(tmp_path: Path) -> None:
    """Two ICE runs of copycat (the rules judge and the log's recorded labels): the verdict showed only
    the claims of the run given last, so the order of the arguments chose what a model claims. Each
    run now has its row, whose claims name their run, in either order."""
    log = _ice_log(tmp_path / "log.jsonl")
    assert invoke("ice", "rescore", str(log), "--out", str(tmp_path / "rules"), "-q").exit_code == 0
    ran = invoke("ice", "rescore", str(log), "--judge", "recorded", "--out", str(tmp_path / "recorded"), "-q")
    assert ran.exit_code == 0, ran.output
    attribution = str(_attribution_run(tmp_path))
    for ice_runs in (
        [tmp_path / "rules", tmp_path / "recorded"],
        [tmp_path / "recorded", tmp_path / "rules"],
    ):
        out = tmp_path / "report.md"
        assert invoke("report", *map(str, ice_runs), attribution, "--out", str(out)).exit_code == 0
        verdict = out.read_text(encoding="utf-8").split("## Distillation verdict", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in verdict.splitlines() if line.startswith("| copycat |")]
        assert len(rows) == 2, verdict
        rules = next(row for row in rows if escape(tmp_path / "rules") in row)
        recorded = next(row for row in rows if escape(tmp_path / "recorded") in row)
        assert "openai ×2, anthropic ×1 (3 other-vendor of 4 judged)" in rules
        assert "not recorded (3 contradictions of 4 judged, their kind unknown)" in recorded
        assert all("distilled from a" in row for row in rows)
        shown = invoke("compare", *map(str, ice_runs), attribution)  # cells wrap: compare the words
        assert shown.exit_code == 0, shown.output
        assert {"×2,", "anthropic", "×1", "recorded", "(3"} <= set(shown.output.split())
