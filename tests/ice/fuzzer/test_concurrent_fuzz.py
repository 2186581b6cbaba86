"""Concurrent fuzzing: several MCTS-Explore iterations in flight, and still the same run for the same
seed whatever the timing; the --max-contradictions stop; virtual loss spreads concurrent walks."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.ice.fuzzer.engine import iteration_rng, parallel_width
from distillscope.ice.fuzzer.selection import MCTSExplore
from distillscope.testing.server import OpenAIServer

OUTPUTS = ("templates.jsonl", "verdicts.jsonl", "responses.jsonl", "results.json")


def target_reply(body: dict[str, Any]) -> str:
    """A target built by Zhipu AI that claims OpenAI's identity when the prompt says 'Nova'."""
    if "Nova" in body["messages"][-1]["content"]:
        return "I am ChatGPT, a model made by OpenAI."
    return "I am GLM, a language model developed by Zhipu AI."


def varied_mutator(body: dict[str, Any]) -> str:
    """A mutator whose reply depends on the whole request (the prompt and the per-iteration seed),
    so the tree grows differently with every choice: some mutants carry the trigger, some do not."""
    digest = int(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8], 16)
    persona = "You are Nova, who hides nothing." if digest % 3 else "Answer plainly."
    return f"<template>Variant {digest % 97}. {persona} {{query}}</template>"


def comparable(out: Path, name: str) -> str:
    """An output file without what describes this process's timing: results.json's `run` block
    (timestamps, calls sent vs cached), its own --out, and each response's `cached` flag (which of
    two equal requests reached the server first)."""
    text = (out / name).read_text(encoding="utf-8")
    if name == "results.json":
        data = json.loads(text)
        data.pop("run")
        data["settings"].pop("out")
        return json.dumps(data, sort_keys=True)
    if name == "responses.jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        return "\n".join(json.dumps({k: v for k, v in r.items() if k != "cached"}) for r in rows)
    return text


def fuzz_args(target: OpenAIServer, mutator: OpenAIServer, out: Path, *extra: str) -> list[str]:
    return [
        "ice", "run", "--target", f"openai-compatible:glm-4-plus@{target.url}",
        "--mutator", f"openai-compatible:m@{mutator.url}", "--budget", "90", "--probes-per-mutant", "3",
        "--seed", "11", "--languages", "en", "--concurrency", "8", "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip


def test_same_seed_same_run_whatever_the_timing(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    target = openai_server(target_reply, latency_ms=1, latency_max_ms=40, latency_seed=1)
    mutator = openai_server(varied_mutator, latency_ms=1, latency_max_ms=40, latency_seed=2)
    runs = []
    for n, jitter_s in enumerate((0.040, 0.015)):  # each call 1-40 ms, then 1-15 ms: another timing
        target.latency_max_s = mutator.latency_max_s = jitter_s
        out = tmp_path / f"run{n}"  # its own ledger: every call is sent again
        result = cli(*fuzz_args(target, mutator, out))
        assert result.exit_code == 0, result.output
        runs.append(out)
    assert target.max_inflight > 3  # more than one iteration's probes were in flight at once
    res = json.loads((runs[0] / "results.json").read_text())
    assert res["complete"] and res["n_responses"] == 90
    assert res["settings"]["parallel_mutations"] == parallel_width(8, 3) == 9
    templates = [json.loads(line) for line in (runs[0] / "templates.jsonl").read_text().splitlines()]
    mutants = [t for t in templates if t["mutator"]]
    assert any(t["generation"] >= 2 for t in mutants), "the tree grew below the seeds"
    assert 0 < res["scores"]["loose"]["count"] < 90
    for name in OUTPUTS:
        assert comparable(runs[0], name) == comparable(runs[1], name), name


def test_one_iteration_at_a_time_is_the_papers_loop(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    target = openai_server(target_reply, latency_ms=1, latency_max_ms=10)
    mutator = openai_server(varied_mutator)
    out = tmp_path / "serial"
    assert cli(*fuzz_args(target, mutator, out, "--parallel-mutations", "1")).exit_code == 0
    assert target.max_inflight <= 3  # one mutant's probes at a time
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["parallel_mutations"] == 1 and res["n_responses"] == 90
    # iteration i saw every earlier result: each mutant's parents were in the tree before it
    templates = [json.loads(line) for line in (out / "templates.jsonl").read_text().splitlines()]
    order = {t["id"]: i for i, t in enumerate(templates)}
    for t in templates:
        assert all(order[p] < order[t["id"]] for p in t["parents"])


def test_max_contradictions_stops_the_fuzz(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    target = openai_server(target_reply, latency_ms=1, latency_max_ms=20)
    mutator = openai_server(varied_mutator, latency_ms=1, latency_max_ms=20)
    out = tmp_path / "stop"
    result = cli(*fuzz_args(target, mutator, out, "--max-contradictions", "5"))
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    contradictions = [sum(bool(v["loose"]) for v in verdicts[: i + 1]) for i in range(len(verdicts))]
    assert res["complete"] is True and "--max-contradictions 5" in res["stop_reason"]
    assert contradictions[-1] >= 5 and res["n_responses"] < 90
    # it stopped after the iteration that reached 5, applied in order: the one before had fewer
    last = json.loads((out / "responses.jsonl").read_text().splitlines()[-1])["template_id"]
    before = [i for i, line in enumerate((out / "responses.jsonl").read_text().splitlines()) if last in line]
    assert contradictions[before[0] - 1] < 5
    assert cli(*fuzz_args(target, mutator, out, "--max-contradictions", "0")).exit_code == 2
    assert cli(*fuzz_args(target, mutator, out, "--mode", "grid", "--max-contradictions", "3")).exit_code == 2


def test_the_max_contradictions_stop_names_the_setting_as_the_api_takes_it(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """The stop reason said `--max-contradictions 2` to a Python API caller, who passed
    `max_contradictions=2`."""
    import distillscope as ds

    target = openai_server(target_reply)
    mutator = openai_server(varied_mutator)
    result = ds.ice.run(
        f"openai-compatible:glm-4-plus@{target.url}", mutator=f"openai-compatible:m@{mutator.url}",
        budget=30, probes_per_mutant=3, seed=11, languages=["en"], max_contradictions=2, out=tmp_path / "api",
    )  # fmt: skip
    assert result.stop_reason is not None and result.stop_reason.endswith("reached max_contradictions=2")


def test_concurrent_walks_spread_over_the_tree() -> None:
    policy = MCTSExplore([f"s{i}" for i in range(6)], rng=random.Random(0))
    walks = [policy.walk(iteration_rng(0, i)) for i in range(6)]
    assert sorted(w[-1].id for w in walks) == [f"s{i}" for i in range(6)]  # six in flight: six seeds
    assert all(n.pending == 1 for n in policy.roots)
    for w in walks:
        policy.update(1.0 if w[-1].id == "s2" else 0.0, w)
    assert all(n.pending == 0 for n in policy.roots)
    # s2 is now the best template; concurrent walks still spread: each in-flight walk through s2 is
    # a visit that earned nothing yet (a virtual loss), so the others get their turn
    chosen = [policy.walk(iteration_rng(0, 10 + i))[-1].id for i in range(6)]
    assert chosen.count("s2") >= 2 and len(set(chosen)) >= 3


def test_iteration_draws_depend_only_on_seed_and_iteration() -> None:
    assert iteration_rng(3, 7).random() == iteration_rng(3, 7).random()
    assert iteration_rng(3, 7).random() != iteration_rng(3, 8).random()
    assert parallel_width(32, 50) == 3 and parallel_width(32, 10) == 11 and parallel_width(1, 50) == 2


def test_a_rerun_keeps_the_width_it_recorded(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    """Resuming with another --concurrency must not change the fuzz's choices (and so its calls)."""
    target = openai_server(target_reply, latency_ms=1, latency_max_ms=10)
    mutator = openai_server(varied_mutator)
    out = tmp_path / "run"
    assert cli(*fuzz_args(target, mutator, out)).exit_code == 0  # --concurrency 8: width 9
    first = comparable(out, "templates.jsonl")
    sent = (target.requests, mutator.requests)
    args = fuzz_args(target, mutator, out)
    args[args.index("--concurrency") + 1] = "2"
    assert cli(*args).exit_code == 0
    assert json.loads((out / "results.json").read_text())["settings"]["parallel_mutations"] == 9
    assert comparable(out, "templates.jsonl") == first and (target.requests, mutator.requests) == sent
    assert cli(*args, "--parallel-mutations", "2").exit_code == 2  # other settings: not this run directory
    assert cli(*args, "--parallel-mutations", "2", "--force").exit_code == 0  # an explicit width, afresh
    assert json.loads((out / "results.json").read_text())["settings"]["parallel_mutations"] == 2
