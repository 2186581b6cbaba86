"""`rse run --foil`: similarity to the reference set against similarity to independent foils."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.rse.foils import foil_comparison
from distillscope.rse.responses import turn_key
from distillscope.rse.scoring import Judgment
from distillscope.rse.types import AspectScores
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, judge_reply, read_jsonl, read_results


def _j(model: str, key: str, overall: float | None) -> Judgment:
    if overall is None:
        return Judgment(model, "d", key, "unjudged", "j")
    s = AspectScores(style=overall, logic=overall, content=overall, overall=overall)
    return Judgment(model, "d", key, "judged", "j", scores=s)


def test_difference_is_paired_over_prompts() -> None:
    to_ref = {"m": [_j("m", "p1", 4.0), _j("m", "p2", 2.0), _j("m", "p3", 5.0)]}
    to_foils = {"m": {"f1": [_j("m", "p1", 3.0), _j("m", "p2", 1.0), _j("m", "p3", None)],
                      "f2": [_j("m", "p1", 1.0), _j("m", "p2", 1.0), _j("m", "p3", None)]}}  # fmt: skip
    block = foil_comparison(to_ref, to_foils, ["f1", "f2"])
    m = block["models"]["m"]
    assert m["difference"]["n"] == 2  # p3: no foil judged, left out on both sides
    assert m["difference"]["score"] == pytest.approx(((4 - 2) + (2 - 1)) / 2)
    assert m["reference"]["score"] == pytest.approx(3.0) and m["foils"]["score"] == pytest.approx(1.5)
    assert m["per_foil"]["f1"]["n"] == 2


def reference_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"Here is a careful answer about {users[-1].lower()} with three clear points."


def student_reply(body: dict[str, Any]) -> str:
    return reference_reply(body).replace("careful", "careful, detailed")


def foil_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"My view on {users[-1].lower()}: it depends, mostly on context and cost."


def run_with_foils(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], sample: int
) -> tuple[Any, Path]:
    """`rse run` of a student, its reference and one foil on `sample` built-in prompts: (CLI result, out)."""
    ref, student, foil, judge = (
        openai_server(f) for f in (reference_reply, student_reply, foil_reply, judge_reply)
    )
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}",
        "--test", f"openai-compatible:student@{student.url}", "--foil", f"openai-compatible:foil@{foil.url}",
        "--dataset", "ex=builtin", "--sample", str(sample), "--judge", f"openai-compatible:judge@{judge.url}",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result, out


def test_rse_run_with_foils(tmp_path: Path, openai_server: Callable[..., OpenAIServer]) -> None:
    result, out = run_with_foils(tmp_path, openai_server, 4)
    assert "closer to the reference than to the foils" in result.output
    data = read_results(out)
    block = data["foils"]["models"]["student"]
    assert data["foils"]["foils"] == ["foil"]
    assert block["difference"]["n"] == 4 and block["difference"]["score"] > 0
    lo, hi = block["difference"]["ci95"]
    assert lo <= block["difference"]["score"] <= hi
    rows = read_jsonl(out / "judgments.jsonl")
    assert sum(r.get("against") == "foil" for r in rows) == 4
    assert {r["role"] for r in read_jsonl(out / "responses.jsonl")} == {"reference", "test", "foil"}
    assert "Reference vs foils" in (out / "report.html").read_text(encoding="utf-8")
    assert "Reference vs foils" in (out / "report.md").read_text(encoding="utf-8")


def test_every_turn_of_a_multi_turn_prompt_counts() -> None:
    def turns(model: str, values: list[float]) -> list[Judgment]:
        out = []
        for i, v in enumerate(values):
            j = _j(model, turn_key(f"p{i // 2}", i % 2 + 1), v)
            j.turn = i % 2 + 1
            out.append(j)
        return out

    block = foil_comparison(
        {"m": turns("m", [4.0, 2.0, 5.0, 3.0])}, {"m": {"f": turns("m", [1.0] * 4)}}, ["f"]
    )
    m = block["models"]["m"]
    assert m["difference"]["n"] == 4 and m["difference"]["n_prompts"] == 2  # both turns of both prompts
    assert m["difference"]["score"] == pytest.approx((3 + 1 + 4 + 2) / 4)


def test_one_prompt_prints_its_n_and_the_wide_interval_of_one_value(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """A run on one prompt: the foil difference has nothing to resample. It printed a zero-width
    interval [x, x] and no n, then no interval; now n=1 and the distribution-free interval of one
    value on the difference's range -4..4 (97.5% of the way to each end)."""
    result, out = run_with_foils(tmp_path, openai_server, 1)
    difference = read_results(out)["foils"]["models"]["student"]["difference"]
    x = difference["score"]
    assert difference["n"] == 1
    assert difference["ci95"] == [
        pytest.approx(x - 0.975 * (x + 4), abs=1e-6),
        pytest.approx(x + 0.975 * (4 - x), abs=1e-6),
    ]
    text = " ".join(result.output.split())  # the terminal wraps long lines
    shown = text.split("closer to the reference than to the foils", 1)[1].split("difference ", 1)[1]
    assert shown.startswith(("+", "-")) and shown.split()[1].startswith("[") and "n=1" in shown.split()[:4]
