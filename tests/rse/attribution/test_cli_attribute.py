"""`distillscope rse attribute` end to end on replay files (synthetic, and MT-bench when present)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from distillscope.rse.attribution.types import AttributionResult
from distillscope.testing.server import OpenAIServer

from ..conftest import invoke, read_jsonl, read_results
from .conftest import answer, write_mt_bench


def _args(
    folder: Path, out: Path, families: dict[str, list[str]], tests: list[str], *extra: str
) -> list[str]:
    args = ["rse", "attribute", "--dataset", f"mt={folder / 'question.jsonl'}", "--out", str(out), "--quiet"]
    for family, names in families.items():
        for name in names:
            args += ["--family", f"{family}=replay:{folder / name}.jsonl"]
    for name in tests:
        args += ["--test", f"replay:{folder / name}.jsonl"]
    return [*args, *extra]


def test_attribute_on_synthetic_replay_files(tmp_path: Path) -> None:
    writers = {"a1": "a", "a2": "a", "b1": "b", "copycat": "a", "neutral": None}
    folder = write_mt_bench(tmp_path / "answers", writers, n_prompts=30)
    out = tmp_path / "run"
    args = _args(folder, out, {"a": ["a1", "a2"], "b": ["b1"]}, ["copycat", "neutral"], "--seed", "3")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "attribution" in result.output and "copycat" in result.output
    data = read_results(out)
    parsed = AttributionResult.model_validate(data)  # the typed shape
    assert data["kind"] == "attribution" and data["schema_version"] == "1.0"
    assert data["families"] == ["a", "b"] and data["members"] == {"a": ["a1", "a2"], "b": ["b1"]}
    copy = data["models"]["copycat"]
    assert (
        copy["predicted"] == "a" and copy["significant"] is True and copy["n"] == 60
    )  # 30 prompts x 2 turns
    assert set(copy["probabilities"]["a"]) >= {"score", "ci95", "p_value"}
    # the neutral writer resembles one family most (predicted is always the argmax), but not significantly
    neutral = data["models"]["neutral"]
    assert neutral["significant"] is False
    assert neutral["predicted"] == max(
        neutral["probabilities"], key=lambda f: neutral["probabilities"][f]["score"]
    )
    assert f"{neutral['predicted']} (n.s.)" in result.output
    assert parsed.settings["alpha"] == 0.05 and data["complete"] is True
    # the members of a (two) are each attributed by classifiers that never saw them; b1 is b's only one
    left_out = {m: r["predicted"] for m, r in data["held_out_members"].items() if r["significant"]}
    assert left_out == {"a1": "a", "a2": "a"}
    # no --control: the only warning names what a "distilled from" claim would need
    assert len(data["warnings"]) == 1 and data["warnings"][0].startswith("no control models (--control)")
    assert copy["decision"]["status"] == "no-controls" and copy["decision"]["distilled_from"] is None
    # per-answer probabilities with their folds (one per repeat); the turns of a prompt share them
    rows = read_jsonl(out / "probabilities.jsonl")
    assert len(rows) == 5 * 60
    folds: dict[str, set[tuple[int, ...]]] = {}
    for row in rows:
        assert len(row["folds"]) == 3
        folds.setdefault(row["prompt_group"], set()).add(tuple(row["folds"]))
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-6
    assert all(len(f) == 1 for f in folds.values())
    assert json.loads((out / "features.json").read_text(encoding="utf-8"))["a"]
    assert "Attribution" in (out / "report.html").read_text(encoding="utf-8")
    assert "P(a)" in (out / "report.md").read_text(encoding="utf-8")
    # a rerun is answered from the ledger (replay has no cost, but nothing is asked twice)
    again = invoke(*args)
    assert again.exit_code == 0
    assert read_results(out)["models"] == data["models"]


def test_families_that_cannot_be_told_apart_are_flagged(tmp_path: Path) -> None:
    writers = {"a1": "a", "a2": "a", "x": None}
    folder = write_mt_bench(tmp_path / "answers", writers, n_prompts=20)
    out = tmp_path / "run"
    result = invoke(*_args(folder, out, {"one": ["a1"], "two": ["a2"]}, ["x"]))
    assert result.exit_code == 0, result.output
    assert "hard to tell apart" in " ".join(result.output.split())
    assert read_results(out)["warnings"]


def test_bad_family_flags_are_one_line_errors(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", {"a1": "a", "x": None}, n_prompts=4)
    one = invoke(*_args(folder, tmp_path / "r1", {"a": ["a1"]}, ["x"]))
    assert one.exit_code == 2 and "at least two families" in one.output
    bad = invoke("rse", "attribute", "--family", "nospec", "--test", "x", "--dataset", "d=builtin")
    assert bad.exit_code == 2 and "NAME=SPEC" in bad.output
    same = invoke(*_args(folder, tmp_path / "r2", {"a": ["a1"], "b": ["x"]}, ["x"]))
    assert same.exit_code == 2 and "named 'x'" in same.output


def test_attribute_on_mt_bench(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "mt-bench"
    answers = folder / "model_answer"
    out = tmp_path / "mt"
    args = ["rse", "attribute", "--dataset", f"mt={folder / 'question.jsonl'}", "--out", str(out), "--quiet"]
    for name in ("gpt-4", "gpt-3.5-turbo"):
        args += ["--family", f"openai=replay:{answers / name}.jsonl"]
    for name in ("claude-v1", "palm-2-chat-bison-001"):
        args += ["--family", f"other=replay:{answers / name}.jsonl"]
    for name in ("vicuna-13b-v1.3", "llama-13b"):
        args += ["--test", f"replay:{answers / name}.jsonl"]
    result = invoke(*args, "--sample", "40")
    assert result.exit_code == 0, result.output
    data = read_results(out)
    vicuna, llama = data["models"]["vicuna-13b-v1.3"], data["models"]["llama-13b"]
    assert vicuna["n"] == 80  # 40 questions x 2 turns
    # trained on ChatGPT conversations vs not instruction-tuned at all
    assert vicuna["probabilities"]["openai"]["score"] > llama["probabilities"]["openai"]["score"]
    assert llama["predicted"] != "openai"


def test_a_served_model_answers_through_the_ledger(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """A test model behind an HTTP endpoint: answered once, then from the ledger on a rerun."""
    folder = write_mt_bench(tmp_path / "answers", {"a1": "a", "b1": "b"}, n_prompts=12)
    rng = random.Random(0)
    server = openai_server(lambda body: answer(rng, body["messages"][0]["content"].split()[-1], "a"))
    out = tmp_path / "run"
    args = [
        *_args(folder, out, {"a": ["a1"], "b": ["b1"]}, []),
        "--test",
        f"openai-compatible:served@{server.url}",
    ]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    data = read_results(out)
    assert data["models"]["served"]["n"] == 24 and data["run"]["totals"]["calls_sent"] == 3 * 24
    assert data["models"]["served"]["predicted"] == "a"
    again = invoke(*args)
    assert again.exit_code == 0
    assert read_results(out)["run"]["totals"]["calls_sent"] == 0  # every answer from the ledger


def test_terminal_gives_every_score_its_interval_and_n(tmp_path: Path) -> None:
    """Control rows carry their interval and p like test rows; n is the prompts the interval
    resamples (the report's n) with the answers beside it; the held-out check says its n."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    writers = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a", "c1": None, "c2": None}
    folder = write_mt_bench(tmp_path / "answers", writers, n_prompts=20)
    args = _args(folder, tmp_path / "run", {"a": ["a1", "a2"], "b": ["b1", "b2"]}, ["copycat"], "--seed", "1")
    args = [a for a in args if a != "--quiet"]
    for control in ("c1", "c2"):
        args += ["--control", f"replay:{folder / control}.jsonl"]
    _register_optional()
    result = CliRunner().invoke(app, args, env={"COLUMNS": "250"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = read_results(tmp_path / "run")
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.startswith("│")}
    for name, entry in (("copycat", data["models"]["copycat"]), ("c1 (control)", data["controls"]["c1"])):
        a = entry["probabilities"]["a"]
        assert f"{a['score']:.3f} [{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}] p={a['p_holm']:.3g}" in rows[name]
        assert rows[name].rstrip(" │").endswith(f"{entry['n_prompts']} ({entry['n']})")
    assert entry["n_prompts"] == 20 and entry["n"] == 40  # 20 prompts of two turns
    held = data["held_out"]["a"]
    lo, hi = held["ci95"]
    assert lo <= held["accuracy"] <= hi and held["n_prompts"] == 20  # two models x two turns a prompt
    own_lo, own_hi = held["mean_own_probability_ci95"]  # every figure of the check has its interval
    assert own_lo < held["mean_own_probability"] < own_hi
    a = data["models"]["copycat"]["probabilities"]["a"]
    assert a["lean_ci95"][0] <= a["lean"] <= a["lean_ci95"][1]
    line = f"a {held['accuracy']:.2f} [{lo:.2f}, {hi:.2f}] of {held['n']} answers (20 prompts)"
    assert line in " ".join(result.output.split())


def test_a_family_named_in_two_cases_is_one_family(tmp_path: Path) -> None:
    """`--family openai=... --family OpenAI=...` made two families of one: its members split into two
    classes, and a model writing like both resembled neither more than the others."""
    writers = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a"}
    folder = write_mt_bench(tmp_path / "answers", writers, n_prompts=8)
    out = tmp_path / "run"
    families = {"openai": ["a1"], "OpenAI": ["a2"], "meta": ["b1", "b2"]}
    result = invoke(*_args(folder, out, families, ["copycat"]))
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["families"] == ["openai", "meta"] and set(data["models"]["copycat"]["probabilities"]) == {
        "openai",
        "meta",
    }
    assert data["models"]["copycat"]["decision"]["resembles"] == "openai"
    one = invoke(*_args(folder, tmp_path / "r2", {"meta": ["b1"], "META": ["b2"]}, ["copycat"]))
    assert one.exit_code == 2 and "at least two families" in one.output and "got 1" in one.output
