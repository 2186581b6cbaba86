"""An answer must be an answer: empty (`content: null` or blank) and content-filtered replies are their
own outcome, recorded in the ledger, counted in results and reports and never judged; missing replay
answers and a test model that is the reference are errors; every RSE pair not scored is counted.

Everything runs through the CLI (in-process, typer's CliRunner) against the real local test server."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

import distillscope.cli as cli_module
from distillscope.testing.server import OpenAIServer, ScriptedReply

cli_module._register_optional()

Server = Callable[..., OpenAIServer]


def cli(*args: object) -> Result:
    return CliRunner().invoke(cli_module.app, [str(a) for a in args])


def results(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "results.json").read_text(encoding="utf-8")))


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def statuses(ledger: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT status, COUNT(*) FROM calls GROUP BY status").fetchall())
    finally:
        db.close()


def scripted(body: dict[str, Any]) -> str | ScriptedReply:
    """`content: null` for questions with EMPTY, a content-filter stop for FILTER, blank text for BLANK."""
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    text = users[-1] if users else ""
    if "EMPTY" in text:
        return ScriptedReply(None)
    if "FILTER" in text:
        return ScriptedReply("I cannot", finish_reason="content_filter")
    if "BLANK" in text:
        return ScriptedReply("  \n ")
    return f"I am Nova, made by OpenAI. You asked: {text}"


def probe_file(tmp_path: Path) -> Path:
    path = tmp_path / "probes.jsonl"
    questions = [
        ("p1", "Who made you?"),
        ("p2", "EMPTY: who trained you?"),
        ("p3", "FILTER: which company are you from?"),
        ("p4", "BLANK: who are you?"),
        ("p5", "What is your name?"),
    ]
    path.write_text(
        "".join(
            json.dumps({"id": i, "question": q, "language": "en", "area": "team"}) + "\n"
            for i, q in questions
        ),
        encoding="utf-8",
    )
    return path


def test_ice_empty_and_filtered_replies_are_counted_never_judged(
    tmp_path: Path, openai_server: Server
) -> None:
    server = openai_server(scripted)
    out = tmp_path / "ice"
    args = [
        "ice", "run", "--target", f"openai-compatible:glm-4-plus@{server.url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--probes", probe_file(tmp_path), "--out", out, "--quiet",
    ]  # fmt: skip
    result = cli(*args)
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["n_responses"] == 5 and res["n_empty"] == 2 and res["n_filtered"] == 1 and res["n_failed"] == 0
    assert res["n_judged"] == 2 and res["scores"]["loose"]["n"] == 2  # only the two real answers
    assert res["n_unjudged"] == 0
    verdicts = {v["index"]: v for v in rows(out / "verdicts.jsonl")}
    answers = rows(out / "responses.jsonl")
    assert [a["outcome"] for a in answers] == ["ok", "empty", "filtered", "empty", "ok"]
    for answer in answers[1:4]:
        verdict = verdicts[answer["index"]]
        assert verdict["loose"] is None and verdict["judge"] is None and "not judged" in verdict["note"]
    assert statuses(out / "ledger.sqlite") == {"ok": 2, "empty": 2, "filtered": 1}
    assert res["run"]["totals"]["calls_empty"] == 2 and res["run"]["totals"]["calls_filtered"] == 1
    for name in ("report.md", "report.html"):
        report = (out / name).read_text(encoding="utf-8")
        assert "empty answers (not judged)" in report and "content-filtered answers (not judged)" in report

    # a rerun does not retry them: they are the model's real replies, final like an answer
    before = server.requests
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert server.requests == before and results(out)["n_empty"] == 2


def test_rescore_of_a_run_keeps_empty_and_filtered_unjudged(tmp_path: Path, openai_server: Server) -> None:
    server = openai_server(scripted)
    run = tmp_path / "ice"
    ran = cli(
        "ice", "run", "--target", f"openai-compatible:glm-4-plus@{server.url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--probes", probe_file(tmp_path), "--out", run, "--quiet",
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    out = tmp_path / "rescore"
    result = cli(
        "ice", "rescore", run / "responses.jsonl", "--target-org", "Zhipu AI", "--out", out, "--quiet"
    )
    assert result.exit_code == 0, result.output
    res = results(out)
    assert (res["n_empty"], res["n_filtered"], res["n_judged"]) == (2, 1, 2)


def rse_prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    items = [
        ("a", "Explain tides."),
        ("b", "EMPTY explain rain."),
        ("c", "FILTER explain wind."),
        ("d", "Explain snow."),
    ]
    path.write_text("".join(json.dumps({"id": i, "prompt": p}) + "\n" for i, p in items), encoding="utf-8")
    return path


def reference_reply(body: dict[str, Any]) -> str:
    return "A careful answer: " + str(body["messages"][-1]["content"])


def judge_reply(body: dict[str, Any]) -> str:
    import re

    nonce = re.search(r"<data-([0-9a-f]{16})>", body["messages"][1]["content"])
    assert nonce is not None
    verdict = {"style": 4, "logic": 4, "content": 4, "evidence": "close"}
    return f"<verdict-{nonce.group(1)}>{json.dumps(verdict)}</verdict-{nonce.group(1)}>"


def test_rse_empty_and_filtered_test_answers_are_skipped_and_counted(
    tmp_path: Path, openai_server: Server
) -> None:
    ref, test, judge = openai_server(reference_reply), openai_server(scripted), openai_server(judge_reply)
    out = tmp_path / "rse"
    result = cli(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:t@{test.url}",
        "--judge", f"openai-compatible:judge@{judge.url}", "--dataset", f"d={rse_prompts(tmp_path)}",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["n_empty"] == 1 and res["n_filtered"] == 1
    assert res["not_answers"]["t"]["ids"] == {"empty": ["d/b"], "filtered": ["d/c"]}
    cell = res["models"]["t"]["datasets"]["d"]
    assert cell["n"] == 2 and cell["n_empty"] == 1 and cell["n_filtered"] == 1 and cell["n_missing"] == 0
    assert res["skipped"]["t"] == {"missing": 0, "empty": 1, "filtered": 1, "unjudged": 0, "total": 2}
    assert res["missing"]["models"]["t"]["count"] == 0  # not answers, but not missing either
    judged = {j["prompt_id"]: j["status"] for j in rows(out / "judgments.jsonl")}
    assert judged == {"a": "judged", "b": "empty", "c": "filtered", "d": "judged"}
    assert judge.requests == 2  # never judged: the judge saw only the two real pairs
    assert "replies that are not answers" in result.output
    for name in ("report.md", "report.html"):
        report = (out / name).read_text(encoding="utf-8")
        assert "empty answers (not judged)" in report and "pairs skipped" in report


def test_rse_unjudged_pairs_are_counted_as_skipped(tmp_path: Path, openai_server: Server) -> None:
    ref = openai_server(reference_reply)
    test = openai_server(lambda body: "Quite another reply to " + body["messages"][-1]["content"])
    judge = openai_server(lambda body: "no verdict here")
    out = tmp_path / "rse"
    result = cli(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:t@{test.url}",
        "--judge", f"openai-compatible:judge@{judge.url}", "--dataset", f"d={rse_prompts(tmp_path)}",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    skipped = results(out)["skipped"]["t"]
    assert skipped == {"missing": 0, "empty": 0, "filtered": 0, "unjudged": 4, "total": 4}
    assert results(out)["n_unjudged"] == 4


def write_replay(path: Path, ids: list[str]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": i, "prompt": f"q {i}", "response": f"answer {i} by {path.stem}"}) + "\n"
            for i in ids
        ),
        encoding="utf-8",
    )
    return path


def test_missing_replay_answers_are_an_error_naming_file_count_and_ids(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"q q{i}"}) + "\n" for i in range(10)), encoding="utf-8"
    )
    ref = write_replay(tmp_path / "ref.jsonl", [f"q{i}" for i in range(10)])
    partial = write_replay(tmp_path / "partial.jsonl", ["q0", "q1"])
    out = tmp_path / "rse"
    args = ["rse", "run", "--reference", f"replay:{ref}", "--test", f"replay:{partial}", "--dataset", f"d={prompts}", "--out", out, "--quiet"]  # fmt: skip
    refused = cli(*args)
    assert refused.exit_code == 2
    line = refused.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert (
        f"{partial}: no recorded answer for 8 of the 10 selected prompts (first: d/q2, d/q3, d/q4, d/q5, d/q6)"
        in line
    )
    assert not (out / "results.json").exists() and not (out / "config.json").exists()

    allowed = cli(*args, "--allow-missing")
    assert allowed.exit_code == 0, allowed.output
    res = results(out)
    assert res["missing"]["models"]["partial"]["count"] == 8 and res["skipped"]["partial"]["missing"] == 8
    assert res["models"]["partial"]["datasets"]["d"]["n"] == 2
    assert "missing answers" in (out / "report.md").read_text(encoding="utf-8")


def test_matrix_refuses_missing_replay_answers_unless_allowed(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "q q0"}\n{"id": "q1", "prompt": "q q1"}\n', encoding="utf-8")
    a = write_replay(tmp_path / "a.jsonl", ["q0", "q1"])
    b = write_replay(tmp_path / "b.jsonl", ["q0"])
    args = ["rse", "matrix", "--model", f"replay:{a}", "--model", f"replay:{b}", "--dataset", f"d={prompts}", "--out", tmp_path / "m", "--quiet"]  # fmt: skip
    result = cli(*args)
    assert result.exit_code == 2 and f"{b}: no recorded answer for 1 of the 2" in result.output
    allowed = cli(*args, "--allow-missing")
    assert allowed.exit_code == 0, allowed.output
    skipped = results(tmp_path / "m")["skipped"]
    assert skipped["a vs b"]["missing"] == 1 and skipped["a vs a"]["total"] == 0


def test_the_reference_as_a_test_model_is_an_error(tmp_path: Path, openai_server: Server) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "q q0"}\n{"id": "q1", "prompt": "q q1"}\n', encoding="utf-8")
    ref = write_replay(tmp_path / "ref.jsonl", ["q0", "q1"])
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(ref.read_bytes())  # another name, the same answers
    for test in (f"replay:{ref}", f"replay:{copy}"):
        out = tmp_path / f"rse-{Path(test).stem}"
        result = cli("rse", "run", "--reference", f"replay:{ref}", "--test", test, "--dataset", f"d={prompts}", "--out", out, "--quiet")  # fmt: skip
        assert result.exit_code == 2 and "gives the same answers as the reference" in result.output, (
            result.output
        )
        assert not (out / "results.json").exists()
    server = openai_server(reference_reply)  # the same served model under the same spec, twice
    spec = f"openai-compatible:m@{server.url}"
    result = cli("rse", "run", "--reference", spec, "--test", spec, "--dataset", f"d={prompts}", "--out", tmp_path / "srv", "--quiet")  # fmt: skip
    assert result.exit_code == 2 and "gives the same answers as the reference" in result.output
    assert server.requests == 0  # refused before any call


def test_a_renamed_copy_of_the_references_answers_is_refused_as_a_test_or_a_foil(tmp_path: Path) -> None:
    """A copy of the reference's file that differs in its bytes (rows in another order, another model
    name, a row for a prompt not selected) passed the check by bytes and scored 5.00, measuring nothing;
    as a foil it made the contrast with the reference nothing."""
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "q q0"}\n{"id": "q1", "prompt": "q q1"}\n', encoding="utf-8")
    ref = write_replay(tmp_path / "ref.jsonl", ["q0", "q1"])
    rows = [json.loads(line) | {"model": "mine"} for line in ref.read_text(encoding="utf-8").splitlines()]
    mine = tmp_path / "mine.jsonl"
    extra = {"id": "q9", "prompt": "q q9", "response": "not asked"}
    mine.write_text("".join(json.dumps(r) + "\n" for r in [extra, *reversed(rows)]), encoding="utf-8")
    other = write_replay(tmp_path / "other.jsonl", ["q0", "q1"])
    for role, models in (("test", ["--test", f"replay:{mine}"]), ("foil", ["--test", f"replay:{other}", "--foil", f"replay:{mine}"])):  # fmt: skip
        out = tmp_path / f"rse-{role}"
        result = cli("rse", "run", "--reference", f"replay:{ref}", *models, "--dataset", f"d={prompts}", "--out", out, "--quiet")  # fmt: skip
        assert result.exit_code == 2, result.output
        assert f"{role} model 'mine' gives the same answers as the reference 'ref'" in " ".join(
            result.output.split()
        )
        assert not (out / "results.json").exists()


def test_the_reference_or_a_copy_of_its_answers_in_the_panel_is_refused(tmp_path: Path) -> None:
    """A panel model answering as the reference scores itself 5 against it, and that 5 entered the
    panel's median every contrast subtracts: `rse run --panel REF` (a study's `foils: [its
    reference]`) ran with exit 0 and every model's contrast pushed below zero."""
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "q q0"}\n{"id": "q1", "prompt": "q q1"}\n', encoding="utf-8")
    ref = write_replay(tmp_path / "ref.jsonl", ["q0", "q1"])
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(ref.read_bytes())  # another name, the same answers
    a, b = (write_replay(tmp_path / f"{n}.jsonl", ["q0", "q1"]) for n in ("a", "b"))
    for panel in (ref, copy):
        out = tmp_path / f"rse-{panel.stem}"
        result = cli("rse", "run", "--reference", f"replay:{ref}", "--test", f"replay:{a}", "--test", f"replay:{b}", "--panel", f"replay:{panel}", "--dataset", f"d={prompts}", "--out", out, "--quiet")  # fmt: skip
        assert result.exit_code == 2, result.output
        message = " ".join(result.output.split())
        assert f"panel model '{panel.stem}' gives the same answers as the reference 'ref'" in message
        assert not (out / "results.json").exists()


def test_recorded_strict_without_loose_is_an_error_naming_the_line(tmp_path: Path) -> None:
    log = tmp_path / "labels.jsonl"
    good = {
        "jailbreak_prompt": "Q: {query}",
        "query": "who are you?",
        "response": "I am GPT",
        "loose": 1,
        "strict": 1,
    }
    bad = {**good, "loose": 0, "strict": 1}
    log.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    result = cli("ice", "rescore", log, "--judge", "recorded", "--target-org", "Zhipu AI", "--out", tmp_path / "r", "--quiet")  # fmt: skip
    assert result.exit_code == 2
    assert f"{log}:2: field 'strict': recorded strict label is true but loose is false" in result.output
    assert not (tmp_path / "r" / "results.json").exists()
