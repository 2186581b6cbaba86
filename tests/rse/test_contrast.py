"""Contrast: similarity to the reference beyond the panel's typical similarity."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from distillscope.rse.contrast import contrast_from_judgments, contrast_matrix, contrast_scores, roc_auc
from distillscope.rse.offline.judge import OfflineJudge
from distillscope.rse.scoring import Judgment
from distillscope.rse.types import AspectScores, PairItem
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, judge_reply, read_results

TOPICS = [
    (
        "tea",
        [
            "boil fresh water",
            "warm the pot",
            "add two spoons of leaves",
            "steep four minutes",
            "pour and serve",
        ],
    ),
    (
        "bike",
        ["flip the bike", "remove the wheel", "find the puncture", "patch the tube", "refit and inflate"],
    ),
    (
        "email",
        [
            "state the purpose",
            "give the deadline",
            "attach the report",
            "ask for feedback",
            "thank the reader",
        ],
    ),
    (
        "garden",
        ["choose a sunny spot", "loosen the soil", "mix in compost", "sow the seeds", "water every morning"],
    ),
    (
        "resume",
        ["list recent jobs", "quantify results", "trim old roles", "add key skills", "proofread twice"],
    ),
    (
        "budget",
        [
            "track spending",
            "sort into categories",
            "set monthly limits",
            "automate savings",
            "review each week",
        ],
    ),
]


def reference_style(topic: str, steps: list[str]) -> str:
    """The reference's idiosyncratic house style: an opener, a bold heading, bullets, a closer."""
    body = "\n".join(f"- **Step {i}:** {s.capitalize()}." for i, s in enumerate(steps, 1))
    return f"Certainly! Here is a guide to {topic}.\n\n**Steps**\n\n{body}\n\nI hope this helps!"


def prose(topic: str, steps: list[str], voice: int) -> str:
    """A plain, correct answer in prose; `voice` varies the wording a little between panel models."""
    joiners = [", then ", "; next, ", " and after that "]
    lead = ["To handle", "For", "When it comes to"][voice % 3]
    return f"{lead} {topic}, you should " + joiners[voice % 3].join(steps) + "."


def copied_style(topic: str, steps: list[str]) -> str:
    """Trained on the reference's outputs: its house style, its steps, looser wording."""
    body = "\n".join(
        f"- **Step {i}:** {s.split()[0].capitalize()} it carefully ({s.split()[-1]})."
        for i, s in enumerate(steps, 1)
    )
    return f"Certainly! Here is a guide to {topic}.\n\n**Steps**\n\n{body}\n\nI hope this helps!"


def scored_models() -> dict[str, dict[str, AspectScores | None]]:
    judge = OfflineJudge(embeddings=False)
    models = {f"panel-{v}": (lambda t, s, v=v: prose(t, s, v)) for v in range(4)}
    models["merely-good"] = lambda t, s: prose(t, s, 0) + " That covers every step."
    models["copied-style"] = copied_style
    sim: dict[str, dict[str, AspectScores | None]] = {}
    for name, answer in models.items():
        items = [
            PairItem(prompt_id=t, prompt=t, reference=reference_style(t, s), candidate=answer(t, s))
            for t, s in TOPICS
        ]
        sim[name] = dict(zip([t for t, _ in TOPICS], judge.score(items), strict=True))
    return sim


def test_contrast_ranks_copied_style_above_merely_good() -> None:
    sim = scored_models()
    # the merely good model says every step the reference says, as plainly as the panel does
    assert all(s is not None and s.raw["lexical"] > 0.1 for s in sim["merely-good"].values())
    results = contrast_scores(sim)  # panel: every model, leave-one-out
    good, copied = results["merely-good"], results["copied-style"]
    assert copied.score is not None and good.score is not None
    assert copied.score > good.score
    assert copied.score > 0.5
    assert abs(good.score) < 0.5  # as similar as a typical panel model
    lo, hi = copied.measures["overall"]["ci95"]
    assert lo <= copied.score <= hi and lo > 0
    assert copied.measures["overall"]["n"] == len(TOPICS)
    assert {"style", "logic", "content", "overall", "lexical"} <= set(copied.measures)


def test_contrast_matrix_is_leave_one_out_median() -> None:
    sim = {"a": {"p": 4.0, "q": 2.0}, "b": {"p": 3.0, "q": 2.0}, "c": {"p": 1.0, "q": 2.0}, "d": {"p": 2.0}}
    out = contrast_matrix(sim)
    assert out["a"]["p"] == 4.0 - np.median([3.0, 1.0, 2.0])
    assert out["d"]["p"] == 2.0 - np.median([4.0, 3.0, 1.0])
    assert "q" not in out["d"]  # d did not answer q
    assert out["a"]["q"] == 0.0
    # a model outside the panel is compared with the whole panel
    ext = contrast_matrix(sim, panel=["b", "c"])
    assert "p" not in ext["b"]  # only one other panel member on p: too few
    assert ext["a"]["p"] == 4.0 - 2.0


def test_standardised_contrast_divides_by_panel_spread() -> None:
    sim = {"x": {"p": 5.0}, "a": {"p": 1.0}, "b": {"p": 2.0}, "c": {"p": 3.0}, "d": {"p": 4.0}}
    plain = contrast_matrix(sim, ["a", "b", "c", "d"])["x"]["p"]
    std = contrast_matrix(sim, ["a", "b", "c", "d"], standardised=True)["x"]["p"]
    iqr = np.percentile([1, 2, 3, 4], 75) - np.percentile([1, 2, 3, 4], 25)
    assert std == pytest.approx(plain / (iqr / 1.349))


def test_contrast_from_judgments_feeds_results_json() -> None:
    sim = scored_models()
    judgments = {
        m: [
            Judgment(model=m, dataset="demo", key=k, status="judged", judge="offline", scores=s)
            for k, s in rows.items()
        ]
        for m, rows in sim.items()
    }
    tests = {m: judgments[m] for m in ("merely-good", "copied-style")}
    panel = {m: v for m, v in judgments.items() if m.startswith("panel")}
    block = contrast_from_judgments(tests, panel, seed=1)
    json.dumps(block)
    assert set(block["models"]) == {"merely-good", "copied-style"}
    assert len(block["panel"]) == 6
    assert block["models"]["copied-style"]["score"] > block["models"]["merely-good"]["score"]


def test_roc_auc_is_mann_whitney() -> None:
    assert roc_auc([3, 4], [1, 2]) == 1.0
    assert roc_auc([1], [2]) == 0.0
    assert roc_auc([1, 3], [2, 2]) == 0.5
    with pytest.raises(ValueError):
        roc_auc([], [1])


# Reached on MT-bench first turns with content lexical only (bench/rse_provenance.py --no-embed):
# naive style 0.882, contrast style 0.888, naive overall 0.829. Floors leave a margin of 0.03.
AUC_FLOORS = {("contrast", "style"): 0.85, ("naive", "style"): 0.85, ("contrast", "overall"): 0.80}


def test_mt_bench_provenance_auc_floor(shared_data: Path) -> None:
    folder = shared_data / "mt-bench"
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    ref_name = "gpt-3.5-turbo"

    def first_turns(path: Path) -> dict[str, str]:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        return {str(r["question_id"]): r["choices"][0]["turns"][0] for r in rows}

    ref = first_turns(folder / "model_answer" / f"{ref_name}.jsonl")
    judge = OfflineJudge(embeddings=False)
    sim: dict[str, dict[str, AspectScores | None]] = {}
    for path in sorted((folder / "model_answer").glob("*.jsonl")):
        if path.stem == ref_name:
            continue
        answers = first_turns(path)
        items = [
            PairItem(prompt_id=k, prompt="", reference=ref[k], candidate=answers[k])
            for k in sorted(ref)
            if k in answers
        ]
        sim[path.stem] = dict(zip([i.prompt_id for i in items], judge.score(items), strict=True))
    labels = {m: v["trained_on_openai_outputs"] for m, v in provenance.items() if m in sim}
    contrast = contrast_scores(sim, measures=["style", "overall"])

    def auc(kind: str, measure: str) -> float:
        if kind == "naive":
            score = {m: float(np.mean([getattr(s, measure) for s in sim[m].values() if s])) for m in sim}
        else:
            score = {m: float(contrast[m].measures[measure]["score"]) for m in sim}
        pos = [score[m] for m in sim if labels[m] is True]
        neg = [score[m] for m in sim if labels[m] is False]
        return roc_auc(pos, neg)

    for (kind, measure), floor in AUC_FLOORS.items():
        value = auc(kind, measure)
        assert not math.isnan(value)
        assert value >= floor, f"{kind} {measure}: AUC {value:.3f} < {floor}"


def test_a_contrast_interval_is_cut_to_the_range_of_a_difference_of_ratings() -> None:
    """Three prompts: Student's t reached past 4, a contrast no 1-5 rating less a 1-5 median can
    have; cut there. A raw measure's range is unknown, so its interval is left as it is."""

    def rated(value: float) -> AspectScores:
        return AspectScores(style=value, logic=value, content=value, overall=value, raw={"cosine": value})

    sim = {
        "copy": {"p1": rated(5.0), "p2": rated(5.0), "p3": rated(1.0)},
        **{m: {p: rated(1.0) for p in ("p1", "p2", "p3")} for m in ("a", "b", "c")},
    }
    results = contrast_scores(sim, measures=["overall", "cosine"])
    overall, raw = results["copy"].measures["overall"], results["copy"].measures["cosine"]
    assert overall["score"] == raw["score"] == pytest.approx(8 / 3, abs=1e-6)
    assert overall["ci95"][1] == 4.0 and overall["ci95"][0] < 0
    assert raw["ci95"][1] > 4.0  # Student's t over three prompts, not cut


@pytest.mark.parametrize("judge", ["llm", "llm-swap", "panel"])
def test_counts_of_how_a_rating_was_made_are_no_contrast_measure(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], judge: str
) -> None:
    """An LLM judge's `orders` (0 for identical texts) and a panel's `judges_answered` are shared by
    every rating: they were contrast measures, shown as `orders (raw)` with [0.000, 0.000] intervals."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"q {i}"}) + "\n" for i in range(4)))
    words = [f"w{i}" for i in range(30)]
    files = []
    for k, name in enumerate(("ref", "a", "b", "c")):
        rows = [
            {"id": f"q{i}", "response": " ".join(words[(k * 5 + i + w) % 30] for w in range(8))}
            for i in range(4)
        ]
        files.append(tmp_path / f"{name}.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in rows))
    one, two = openai_server(judge_reply), openai_server(judge_reply)
    how = {
        "llm": ["--judge", f"openai-compatible:j1@{one.url}"],
        "llm-swap": ["--judge", f"openai-compatible:j1@{one.url}", "--swap"],
        "panel": [
            "--judges",
            f"openai-compatible:j1@{one.url},openai-compatible:j2@{two.url}",
            "--judge-reducer",
            "mean",
        ],
    }[judge]
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{files[0]}", *(x for f in files[1:] for x in ("--test", f"replay:{f}")),
        "--dataset", f"d={prompts}", *how, "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    measures = read_results(out)["contrast"]["models"]["a"]["measures"]
    assert {"overall", "style", "logic", "content"} <= set(measures)
    assert not set(measures) & {"orders", "judges_answered", "panel"}
    report = tmp_path / "report.md"
    assert invoke("report", str(out), "--out", str(report)).exit_code == 0
    assert "orders (raw)" not in report.read_text() and "judges_answered (raw)" not in report.read_text()
