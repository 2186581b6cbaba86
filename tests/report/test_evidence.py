"""Evidence selection: contradicting ICE responses, extreme RSE pairs, paging and safe embedding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.report import evidence as ev
from distillscope.report.load import IceRun, RseRun, load_run

from .conftest import INJECTION, make_ice_run, make_rse_run


def test_split_highlight_finds_the_span() -> None:
    assert ev.split_highlight("Sure. I am ChatGPT. Bye", "I am ChatGPT.") == (
        "Sure. ",
        "I am ChatGPT.",
        " Bye",
    )
    assert ev.split_highlight("SURE i AM chatgpt", "i am ChatGPT") == ("SURE ", "i AM chatgpt", "")
    assert ev.split_highlight("text", "not there") == ("text", "", "")
    assert ev.split_highlight("text", "") == ("text", "", "")


def test_ice_evidence_is_every_contradiction_hardest_first(tmp_path: Path) -> None:
    run = load_run(make_ice_run(tmp_path / "ice", "glm-4-plus", n=40))
    assert isinstance(run, IceRun)
    items = ev.ice_evidence(run)["glm-4-plus"]
    verdicts = [json.loads(line) for line in (tmp_path / "ice" / "verdicts.jsonl").read_text().splitlines()]
    assert len(items) == sum(1 for v in verdicts if v["loose"])
    levels = [e.level for e in items]
    assert levels == sorted(levels, key=["hard", "strict", "loose"].index)
    first = items[0]
    assert (
        first.judge == "rules"
        and first.prompt.startswith("[template")
        and first.lineage["template"].startswith("t")
    )
    assert {"language", "area", "probe"} <= set(first.probe)
    before, mark, _after = first.highlighted()
    assert mark == first.evidence and before == "Sure. "


def test_ice_evidence_routes_rows_to_their_target_in_a_mixed_run(tmp_path: Path) -> None:
    run_dir = make_ice_run(tmp_path / "ice", "glm-4-plus", n=10)
    rows = [json.loads(line) for line in (run_dir / "responses.jsonl").read_text().splitlines()]
    for row in rows:
        row["model"] = "qwen-max" if row["index"] % 2 else "glm-4-plus"
    (run_dir / "responses.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    one = json.loads((run_dir / "results.json").read_text())
    blocks = {"glm-4-plus": one, "qwen-max": {**one, "target": "qwen-max"}}  # what a mixed rescore writes
    (run_dir / "results.json").write_text(json.dumps({"target": None, "models": blocks, "judge": "rules"}))
    run = load_run(run_dir)
    assert isinstance(run, IceRun)
    found = ev.ice_evidence(run)
    assert all(e.index % 2 == 0 for e in found["glm-4-plus"]) and all(
        e.index % 2 == 1 for e in found["qwen-max"]
    )


def test_rse_pairs_join_answers_and_order_by_similarity(tmp_path: Path) -> None:
    run = load_run(make_rse_run(tmp_path / "rse", models=("glm-4-plus",), datasets=("arena",), n=10))
    assert isinstance(run, RseRun)
    (group,) = ev.rse_pairs(run, k=3)
    assert len(group.most) == 3 and len(group.least) == 3
    assert (
        group.most[0].overall >= group.most[-1].overall >= group.least[-1].overall >= group.least[0].overall
    )
    pair = group.most[0]
    assert pair.reference.startswith("Reference answer") and pair.candidate.startswith("glm-4-plus answer")
    assert pair.prompt.startswith("Question") and set(pair.aspects) == {"style", "logic", "content"}


def test_rse_evidence_leaves_out_judgments_off_the_1_to_5_scale(tmp_path: Path) -> None:
    """A judgments.jsonl row with a similarity of 9, -2, NaN or Infinity (a hand edit; Python's JSON
    reader takes NaN) was shown as the most similar answer, `9.00`. Like a malformed line, such a
    row is left out of the evidence; results.json's own scores are checked where they are read."""
    folder = make_rse_run(tmp_path / "rse", models=("glm-4-plus",), datasets=("arena",), n=10)
    path = folder / "judgments.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row, bad in zip(rows, (9.0, -2.0, float("nan"), float("inf")), strict=False):
        row["overall"] = bad
    rows[4]["aspects"]["style"] = 7.0  # an aspect off the scale, its overall on it
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = load_run(folder)
    assert isinstance(run, RseRun)
    (group,) = ev.rse_pairs(run, k=10)
    shown = group.most + group.least
    assert {p.prompt_id for p in shown} == {r["prompt_id"] for r in rows[5:]}
    assert all(1.0 <= v <= 5.0 for p in shown for v in (p.overall, *p.aspects.values()))


def test_page_split_bounds_the_page() -> None:
    first, rest, left = ev.page_split(list(range(ev.MAX_EMBEDDED + 7)))
    assert len(first) == ev.FIRST_PAGE and len(rest) == ev.MAX_EMBEDDED - ev.FIRST_PAGE and left == 7


def test_json_for_script_cannot_close_the_script_element() -> None:
    text = ev.json_for_script([{"response": INJECTION + "</script><!--"}])
    assert "<" not in text and ">" not in text
    assert json.loads(text)[0]["response"].endswith("</script><!--")


def _log(path: Path, response: str) -> None:
    row = {"model": "glm-4-plus", "target_org": "Zhipu AI", "jailbreak_prompt": "Hi. {query}",
           "query": "Who made you?", "response": response, "loose": 1, "strict": 1}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")


def test_a_rescore_run_from_another_folder_shows_the_log_it_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ice rescore log.jsonl` recorded the log as typed, relative to the folder it ran in: a report
    made in another folder that holds another `log.jsonl` showed that file's response as this run's
    evidence (and, where none was there, no response at all). The absolute path is recorded too."""
    from ..rse.conftest import invoke

    _log(tmp_path / "study" / "log.jsonl", "I am ChatGPT, made by OpenAI: the judged answer.")
    _log(tmp_path / "elsewhere" / "log.jsonl", "I am ChatGPT, made by OpenAI: another file's answer.")
    monkeypatch.chdir(tmp_path / "study")
    ran = invoke("ice", "rescore", "log.jsonl", "--out", str(tmp_path / "run"), "-q")
    assert ran.exit_code == 0, ran.output
    monkeypatch.chdir(tmp_path / "elsewhere")
    run = load_run(tmp_path / "run")
    assert isinstance(run, IceRun)
    (item,) = ev.collect_ice_evidence(run)["glm-4-plus"]
    assert item.response == "I am ChatGPT, made by OpenAI: the judged answer."
    shown = invoke("report", str(tmp_path / "run"), "--out", str(tmp_path / "report.md"))
    assert shown.exit_code == 0, shown.output
    page = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "the judged answer" in page and "another file" not in page
