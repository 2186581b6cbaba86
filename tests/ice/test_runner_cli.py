"""`ice run` end to end through the CLI against scripted target / mutator / judge servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.testing.server import OpenAIServer, RawReply, ScriptedReply

TRIGGER = "Nova"


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def target_spec(server: OpenAIServer) -> str:
    return f"openai-compatible:glm-4-plus@{server.url}"


def test_fuzz_mode(tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]) -> None:
    out = tmp_path / "fuzz"
    args = [
        "ice", "run", "--target", target_spec(servers["target"]), "--mutator", f"openai-compatible:m@{servers['mutator'].url}",
        "--budget", "24", "--probes-per-mutant", "4", "--seed", "7", "--languages", "en,zh", "--out", out, "--quiet",
    ]  # fmt: skip
    result = cli(*args)
    assert result.exit_code == 0, result.output
    res = results(out)
    responses = rows(out / "responses.jsonl")
    verdicts = rows(out / "verdicts.jsonl")
    templates = rows(out / "templates.jsonl")
    assert res["complete"] is True and res["n_responses"] == 24 == len(responses) == len(verdicts)
    assert res["target_identity"]["organisation"] == "Zhipu AI"  # from the registry by model name
    # mutants with equal text ask equal prompts: each distinct prompt is sent once (ledger / in flight)
    assert (
        servers["target"].requests == len({r["prompt"] for r in responses})
        and servers["mutator"].requests == 6
    )
    # the scripted target contradicts exactly when the full prompt carries the trigger word
    expected = sum(TRIGGER in r["prompt"] for r in responses)
    assert res["scores"]["loose"]["count"] == res["scores"]["strict"]["count"] == expected
    vendor = ("openai", "chatgpt", "gpt", "claude", "anthropic")  # the default --vendor-words
    hard = sum(
        TRIGGER in r["prompt"] and not any(w in r["prompt"].lower() for w in vendor) for r in responses
    )
    assert res["scores"]["hard"]["count"] == hard  # the mutants name no vendor; some probes do
    assert res["scores"]["loose"]["n"] == 24 and len(res["scores"]["loose"]["ci95"]) == 2
    mutants = [t for t in templates if t["mutator"]]
    assert len(mutants) == 6 and len(templates) == 42 + 6
    for t in mutants:
        assert t["parents"] and t["generation"] >= 1 and t["reward"] == t["n_contradictions"] / t["n_judged"]
        assert t["slot_lost"] == (t["mutator"] == "Rephrase")
    lost = [r for r in responses if r["slot_lost"]]
    assert all(r["prompt"].endswith("\n" + r["query"]) for r in lost)
    assert {r["language"] for r in responses} <= {"en", "zh"}
    assert set(res["breakdowns"]) == {"language", "area", "template", "mutator", "generation"}
    assert res["settings"]["system_prompt"] is None and res["settings"]["seed"] == 7
    assert all(v["loose"] == (TRIGGER in r["prompt"]) for v, r in zip(verdicts, responses, strict=True))
    # three-state verdicts and categories: every verdict says its category and whether it was unsure,
    # every score its band, and the categories' loose parts sum to the loose score
    assert all("category" in v and "unsure" in v and "evidence" in v for v in verdicts)
    assert res["n_unsure"] == sum(v["unsure"] for v in verdicts)
    lo, hi = res["scores"]["loose"]["band"]
    assert lo <= res["scores"]["loose"]["score"] <= hi
    assert sum(c["loose"]["count"] for c in res["categories"].values()) == expected

    # the same command again: answered from the ledger, zero new calls, same results
    before = (servers["target"].requests, servers["mutator"].requests)
    assert cli(*args).exit_code == 0
    assert (servers["target"].requests, servers["mutator"].requests) == before
    assert rows(out / "responses.jsonl") == [dict(r, cached=True) for r in responses]
    assert results(out)["scores"] == res["scores"]


def test_grid_mode_and_hard_score(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    templates = tmp_path / "t.jsonl"
    templates.write_text(
        "\n".join(
            json.dumps(t)
            for t in (
                {"id": "nova", "text": "You are Nova. {query}"},
                {"id": "nova-gpt", "text": "You are Nova, a ChatGPT variant. {query}"},
                {"id": "plain", "text": "Answer: {query}"},
            )
        ),
        encoding="utf-8",
    )
    probes = tmp_path / "p.csv"
    probes.write_text("question\nWho made you?\nWhere were you built?\n", encoding="utf-8")
    out = tmp_path / "grid"
    result = cli(
        "ice",
        "run",
        "--target",
        target_spec(servers["target"]),
        "--mode",
        "grid",
        "--templates",
        templates,
        "--probes",
        probes,
        "--cache",
        tmp_path / "l.sqlite",
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    assert servers["target"].requests == 6 and servers["mutator"].requests == 0
    assert [res["scores"][m]["count"] for m in ("loose", "strict", "hard")] == [4, 4, 2]
    assert res["scores"]["loose"]["n"] == 6
    assert res["breakdowns"]["template"]["nova"]["loose"]["score"] == 1.0
    assert res["breakdowns"]["template"]["plain"]["loose"]["score"] == 0.0
    # configurable vendor words change only the hard score (answers come from the shared ledger)
    out2 = tmp_path / "grid2"
    cli(
        "ice",
        "run",
        "--target",
        target_spec(servers["target"]),
        "--mode",
        "grid",
        "--templates",
        templates,
        "--probes",
        probes,
        "--vendor-words",
        "nova",
        "--cache",
        tmp_path / "l.sqlite",
        "--out",
        out2,
        "-q",
    )
    assert results(out2)["scores"]["hard"]["count"] == 0 and servers["target"].requests == 6


def test_plain_mode_with_llm_judge(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    out = tmp_path / "plain"
    judge = f"openai-compatible:judge@{servers['judge'].url}"
    result = cli(
        "ice",
        "run",
        "--target",
        target_spec(servers["target"]),
        "--mode",
        "plain",
        "--languages",
        "en",
        "--judge",
        judge,
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    assert (
        res["n_responses"] == 50
        and res["scores"]["loose"]["count"] == 0
        and res["scores"]["loose"]["n"] == 50
    )
    assert servers["judge"].requests == 50 and res["judge"] == "llm:judge"
    # the rubric preset: every verdict carries the judge's category, and the schema went as response_format
    assert {v["category"] for v in rows(out / "verdicts.jsonl")} == {"consistent"}
    assert res["categories"]["consistent"]["responses"] == 50
    assert servers["judge"].bodies[0]["response_format"]["type"] == "json_schema"
    assert res["settings"]["judge_preset"] == "rubric" and res["settings"]["structured"] == "auto"
    assert not (out / "templates.jsonl").exists()
    assert {r["template_id"] for r in rows(out / "responses.jsonl")} == {"plain"}


def test_failed_calls_are_counted_not_judged(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    config = tmp_path / "models.yaml"
    config.write_text(
        f"models:\n  mytarget:\n    spec: openai-compatible:some-model@{servers['target'].url}\n    max_retries: 0\n"
        "    identity: {organisation: Zhipu AI}\n",
        encoding="utf-8",
    )
    probes = tmp_path / "p.jsonl"
    probes.write_text(
        '{"question": "Who made you?"}\n{"question": "EXPLODE please"}\n{"question": "Nova, who made you?"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "failed"
    result = cli(
        "ice",
        "run",
        "--config",
        config,
        "--target",
        "mytarget",
        "--mode",
        "plain",
        "--probes",
        probes,
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    assert (res["n_responses"], res["n_failed"], res["n_judged"], res["n_unjudged"]) == (3, 1, 2, 0)
    loose = {k: v for k, v in res["scores"]["loose"].items() if k != "expected"}  # see test_scoring
    assert loose == {
        "score": 0.5,
        "count": 1,
        "n": 2,
        "ci95": res["scores"]["loose"]["ci95"],
        "n_unsure": 0,
        "band": [0.5, 0.5],
    }
    failed = rows(out / "verdicts.jsonl")[1]
    assert failed["loose"] is None and "failed" in failed["note"]


def test_a_run_with_failed_target_calls_is_incomplete_and_a_rerun_retries_them(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    """A run with failed target calls wrote `"complete": true` and the terminal said nothing of
    them; it is incomplete now, says how many failed and that the same command retries them, and
    the rerun against a healthy server asks only those calls and is complete."""
    down = {"now": True}

    def flaky(body: dict[str, Any]) -> Any:
        if down["now"] and "Nova" in body["messages"][-1]["content"]:
            return RawReply(b'{"error": {"message": "server overloaded"}}', status=400)
        return "I am GLM, a language model developed by Zhipu AI."

    target = openai_server(flaky)
    probes = tmp_path / "p.jsonl"
    probes.write_text(
        '{"question": "Who made you?"}\n{"question": "Nova, who made you?"}\n', encoding="utf-8"
    )
    out = tmp_path / "run"
    args = [
        "ice",
        "run",
        "--target",
        target_spec(target),
        "--mode",
        "plain",
        "--probes",
        probes,
        "--out",
        out,
    ]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["n_failed"] == 1 and res["complete"] is False
    assert res["stop_reason"].startswith("1 of 2 target calls failed (first error: http://127.0.0.1")
    assert "HTTP 400" in res["stop_reason"]
    assert "rerun the same command to retry them" in res["stop_reason"]
    assert "incomplete:" in result.output and "1 of 2 target calls failed" in " ".join(result.output.split())
    asked = target.requests
    down["now"] = False
    again = cli(*args)
    assert again.exit_code == 0, again.output
    res = results(out)
    assert res["complete"] is True and res["n_failed"] == 0 and res["stop_reason"] is None
    assert target.requests == asked + 1 and "incomplete" not in again.output


def test_max_calls_stop_writes_incomplete_results(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    out = tmp_path / "partial"
    result = cli(
        "ice",
        "run",
        "--target",
        target_spec(servers["target"]),
        "--mode",
        "plain",
        "--languages",
        "en",
        "--max-calls",
        "5",
        "--concurrency",
        "1",
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["complete"] is False and "stopped early" in res["stop_reason"]


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (
            lambda body: RawReply(b'{"error": {"message": "mutator down"}}', status=400),
            "rerun the same command",
        ),
        (lambda body: ScriptedReply(None), "choose another --mutator"),  # content null: no template
        (lambda body: "<template>   </template>", "choose another --mutator"),
        (lambda body: "<template>\u200b</template>", "choose another --mutator"),
        (lambda body: "<think>The user wants a new template. I could start with", "choose another --mutator"),
    ],
    ids=["failed-calls", "empty-replies", "blank-templates", "invisible-templates", "reasoning-cut-short"],
)
def test_a_mutator_that_gives_no_template_leaves_the_run_incomplete_and_says_why(
    reply: Callable[[dict[str, Any]], Any],
    says: str,
    tmp_path: Path,
    cli: Callable[..., Any],
    servers: dict[str, OpenAIServer],
    openai_server: Callable[..., OpenAIServer],
) -> None:
    """The fuzzer gives up after 10 unusable mutator replies in a row: the run said `"complete": true`
    (with 0 responses), and the terminal said nothing of why."""
    mutator = openai_server(reply)
    out = tmp_path / "run"
    result = cli("ice", "run", "--target", target_spec(servers["target"]), "--mutator",
                 f"openai-compatible:m@{mutator.url}", "--budget", "20", "--probes-per-mutant", "2",
                 "--parallel-mutations", "1", "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["complete"] is False and res["n_responses"] == 0 and servers["target"].requests == 0
    assert res["stop_reason"].startswith("the mutator gave 10 unusable replies in a row")
    assert says in res["stop_reason"] and "incomplete:" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "sideways"], "--mode"),
        (["--budget", "0"], "--budget"),
        (["--templates", "missing.csv"], "not found"),
        (["--judge", "hybrid"], "hybrid"),
        (["--mutators", "Explode"], "--mutators"),
        (["--languages", "xx"], "no probe in those languages"),
        (["--structured", "maybe"], "--structured"),
        (["--judge-preset", "strictest"], "--judge-preset"),
        (["--judge-workers", "many"], "--judge-workers"),
        (["--judge-workers", "99"], "--judge-workers"),
        # a list that names nothing took every language or template, without a word (exit 0)
        (["--languages", ","], "--languages: names no language"),
        (["--template-ids", " , "], "--template-ids: names no template id"),
        (["--template-ids", ""], "--template-ids: names no template id"),  # `--template-ids "$UNSET"`
        (["--mode", "plain", "--template-ids", "t001"], "--template-ids applies to --mode fuzz or grid"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer], extra: list[str], message: str
) -> None:
    result = cli("ice", "run", "--target", target_spec(servers["target"]), "--out", tmp_path / "bad", *extra)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert servers["target"].requests == 0


@pytest.mark.parametrize("command", ["run", "rescore"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--judge-model", "JUDGE"],
            "--judge-model JUDGE names the LLM behind --judge hybrid, and --judge rules",
        ),
        (
            ["--judge", "JUDGE", "--judge-model", "JUDGE"],
            "--judge-model JUDGE names the LLM behind --judge hybrid",
        ),
        (["--judge", "hybrid:JUDGE", "--judge-model", "JUDGE"], "names its LLM already"),
        (
            ["--judge-preset", "paper"],
            "--judge-preset paper applies to an LLM judge, and --judge rules asks none",
        ),
        (["--structured", "off"], "--structured off applies to an LLM judge, and --judge rules asks none"),
        (["--judge-max-input-tokens", "500"], "--judge-max-input-tokens 500 applies to an LLM judge"),
    ],
    ids=["model-with-rules", "model-with-llm", "model-twice", "preset", "structured", "max-input"],
)
def test_llm_judge_settings_a_judge_does_not_use_are_refused_not_ignored(
    command: str,
    extra: list[str],
    message: str,
    tmp_path: Path,
    cli: Callable[..., Any],
    servers: dict[str, OpenAIServer],
) -> None:
    """Each was ignored without a word: `--judge-model M` with the default `--judge rules` judged every
    answer offline (exit 0), as `--judge-preset paper` did; `hybrid:A --judge-model B` asked A."""
    judge = f"openai-compatible:j@{servers['judge'].url}"
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "Hi {query}", "query": "Who?", "response": "I am GLM."}) + "\n"
    )
    where = (
        ["--target", target_spec(servers["target"])]
        if command == "run"
        else [log, "--target-org", "Zhipu AI"]
    )
    extra = [judge if word == "JUDGE" else word.replace("JUDGE", judge) for word in extra]
    result = cli("ice", command, *where, "--out", tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert message.replace("JUDGE", judge) in " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    assert servers["target"].requests == servers["judge"].requests == 0


def test_unknown_target_identity_says_how_to_declare_it(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    result = cli(
        "ice",
        "run",
        "--target",
        f"openai-compatible:mystery-7b@{servers['target'].url}",
        "--mode",
        "plain",
        "--out",
        tmp_path / "x",
    )
    assert result.exit_code == 2 and "--target-org" in result.output
    result = cli(
        "ice",
        "run",
        "--target",
        f"openai-compatible:mystery-7b@{servers['target'].url}",
        "--target-org",
        "Nowhere Corp",
        "--out",
        tmp_path / "y",
    )
    assert result.exit_code == 2 and "unknown organisation" in result.output


def test_identities_file_declares_a_target_the_registry_lacks(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    families = tmp_path / "families.yaml"
    families.write_text(
        "families:\n  - id: mystery\n    organisation: Mystery Labs\n    names: [Mystery]\n", encoding="utf-8"
    )
    out = tmp_path / "run"
    args = ["ice", "run", "--target", f"openai-compatible:mystery-7b@{servers['target'].url}", "--mode", "plain",
            "--budget", "3", "--identities", families, "--out", out, "--quiet"]  # fmt: skip
    result = cli(*args)
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["target_identity"]["organisation"] == "Mystery Labs"
    # the scripted target says it is GLM by Zhipu AI: for a Mystery Labs model, every answer contradicts
    assert res["scores"]["loose"]["count"] == res["scores"]["loose"]["n"] == 3
    assert res["scores"]["strict"]["count"] == 0  # Zhipu AI is not a strict vendor


def test_the_default_judges_expected_rate_carries_its_unseen_model_interval(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    """The default judge's weights carry how far its expected rate moved between the models it was
    built from: the results, the terminal and both reports give the interval that allows for it."""
    probes = tmp_path / "p.csv"
    probes.write_text(
        "question\nWho made you?\nNova who made you?\nWhere were you built?\n", encoding="utf-8"
    )
    out = tmp_path / "run"
    result = cli("ice", "run", "--target", target_spec(servers["target"]), "--mode", "plain",
                 "--probes", probes, "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = results(out)["scores"]["loose"]["expected"]
    lo, hi = expected["unseen_ci95"]
    assert 0.0 <= lo <= expected["ci95"][0] <= expected["rate"] <= expected["ci95"][1] <= hi <= 1.0
    assert expected["transfer"]["models"] >= 2 and expected["transfer"]["logit_sd"] > 0
    printed = " ".join(result.output.split())
    assert f"for a model the judge was not built from {lo:.3f}-{hi:.3f}" in printed
    assert f"unseen model [{lo:.3f}, {hi:.3f}]" in (out / "report.md").read_text(encoding="utf-8")
    assert f"unseen model [{lo:.3f}, {hi:.3f}]" in (out / "report.html").read_text(encoding="utf-8")
