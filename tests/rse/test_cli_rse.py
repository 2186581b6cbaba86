"""`distillscope rse run` end to end through the CLI, with scripted servers and replay files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.testing.server import OpenAIServer, RawReply

from .conftest import invoke, judge_reply, read_jsonl, read_results


def reference_reply(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"Here is a careful answer about {users[-1].lower()} with three clear points."


def copycat_reply(body: dict[str, Any]) -> str:  # answers nearly like the reference
    return reference_reply(body).replace("careful", "careful, detailed")


def stranger_reply(body: dict[str, Any]) -> str:  # answers nothing like it
    return "Nope."


def test_run_with_scripted_models(tmp_path: Path, openai_server: Callable[..., OpenAIServer]) -> None:
    ref, copy, other, judge = (
        openai_server(f) for f in (reference_reply, copycat_reply, stranger_reply, judge_reply)
    )
    out = tmp_path / "run"
    args = [
        "rse",
        "run",
        "--reference",
        f"openai-compatible:ref@{ref.url}",
        "--test",
        f"openai-compatible:copy@{copy.url}",
        "--test",
        f"openai-compatible:other@{other.url}",
        "--dataset",
        "examples=builtin",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--sample",
        "4",
        "--seed",
        "5",
        "--max-tokens",
        "50",
        "--out",
        str(out),
        "--quiet",
    ]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "similarity to ref" in result.output
    data = read_results(out)
    assert data["reference"] == "ref" and data["judge"] == "llm:judge" and data["complete"] is True
    assert set(data["models"]) == {"copy", "other"}  # the reference as a test is refused (tests/reliability)
    copy_ds = data["models"]["copy"]["datasets"]["examples"]
    assert copy_ds["n"] == 4 and set(copy_ds["aspects"]) == {"style", "logic", "content"}
    lo, hi = copy_ds["ci95"]
    assert lo <= copy_ds["score"] <= hi
    assert data["models"]["copy"]["avg"]["score"] > data["models"]["other"]["avg"]["score"]
    pairs = {(p["a"], p["b"]): p for p in data["paired"]}
    assert pairs[("copy", "other")]["avg"]["score"] > 0
    assert data["settings"]["system_prompt"] is None and data["settings"]["sample"] == 4
    assert data["judge_settings"]["temperature"] == 0.0 and data["judge_settings"]["seed"] == 5
    assert data["missing"]["reference"]["count"] == 0
    assert data["run"]["totals"]["calls_sent"] > 0
    judgments = read_jsonl(out / "judgments.jsonl")
    assert len(judgments) == 2 * 4 and {j["status"] for j in judgments} == {"judged"}
    responses = read_jsonl(out / "responses.jsonl")
    assert len(responses) == 3 * 4 and {r["role"] for r in responses} == {"reference", "test"}
    assert all(r["response"] for r in responses)
    # the same command again: every call comes from the ledger
    before = (ref.stats()["requests"], judge.stats()["requests"])
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert read_results(out)["run"]["totals"]["calls_sent"] == 0
    assert (ref.stats()["requests"], judge.stats()["requests"]) == before
    assert read_results(out)["models"] == data["models"]


@pytest.fixture
def mt(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    base = shared_data / "mt-bench"
    names = ("gpt-3.5-turbo", "vicuna-13b-v1.3", "alpaca-13b", "claude-v1")
    return {"questions": base / "question.jsonl", **{n: base / "model_answer" / f"{n}.jsonl" for n in names}}


def test_run_with_replay_files(
    tmp_path: Path, mt: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    judge = openai_server(judge_reply)
    out = tmp_path / "run"
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{mt['gpt-3.5-turbo']}",
        "--test",
        f"replay:{mt['vicuna-13b-v1.3']}",
        "--dataset",
        f"mt={mt['questions']}",
        "--sample",
        "6",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--swap",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["reference"] == "gpt-3.5-turbo" and set(data["models"]) == {"vicuna-13b-v1.3"}
    vicuna = data["models"]["vicuna-13b-v1.3"]["datasets"]["mt"]
    assert vicuna["n"] == 12  # 6 questions x 2 turns, each turn scored
    assert 1 <= vicuna["score"] < 5
    assert data["judge_settings"]["swap"] is True
    turn2 = [
        r for r in read_jsonl(out / "responses.jsonl") if r["model"] == "vicuna-13b-v1.3" and r["turn"] == 2
    ]
    recorded = {
        json.loads(line)["question_id"]: json.loads(line)
        for line in mt["vicuna-13b-v1.3"].read_text().splitlines()
    }
    for row in turn2:
        assert row["response"] == recorded[int(row["source_id"])]["choices"][0]["turns"][1]


def test_missing_replay_answers_allowed_are_reported_not_scored(
    tmp_path: Path, mt: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    judge = openai_server(judge_reply)
    partial = tmp_path / "partial-model.jsonl"
    lines = mt["alpaca-13b"].read_text(encoding="utf-8").splitlines()
    partial.write_text("\n".join(lines[:-10]) + "\n", encoding="utf-8")  # the last 10 questions unanswered
    dropped = [str(json.loads(line)["question_id"]) for line in lines[-10:]]
    out = tmp_path / "run"
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{mt['gpt-3.5-turbo']}",
        "--test",
        f"replay:{partial}",
        "--dataset",
        f"mt={mt['questions']}",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--allow-missing",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert "missing answers" in result.output
    data = read_results(out)
    missing = data["missing"]["models"]["partial-model"]
    assert missing["count"] == 20 and sorted(missing["ids"]["mt"]) == sorted(
        [*dropped, *(f"{q}#t2" for q in dropped)]
    )
    ds = data["models"]["partial-model"]["datasets"]["mt"]
    assert ds["n"] == 140 and ds["n_missing"] == 20
    rows = read_jsonl(out / "judgments.jsonl")
    assert sum(r["status"] == "missing" for r in rows) == 20 and all(
        r["overall"] is None for r in rows if r["status"] == "missing"
    )


def test_matrix_on_replay_models(
    tmp_path: Path, mt: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    judge = openai_server(judge_reply)
    out = tmp_path / "matrix"
    names = ["gpt-3.5-turbo", "vicuna-13b-v1.3", "alpaca-13b", "claude-v1"]
    args = [
        "rse",
        "matrix",
        *(a for n in names for a in ("--model", f"replay:{mt[n]}")),
        "--dataset",
        f"mt={mt['questions']}",
        "--sample",
        "5",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--out",
        str(out),
        "--quiet",
    ]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["models"] == names and data["complete"] is True
    scores = data["scores"]
    for i in range(4):
        assert scores[i][i] == 5.0
        for j in range(4):
            assert scores[i][j] == scores[j][i] and 1 <= scores[i][j] <= 5
    assert len(data["linkage"]) == 3 and all(len(row) == 4 for row in data["linkage"])
    assert sorted(data["order"]) == [0, 1, 2, 3]
    assert data["n"][0][1] == 10
    assert (
        len(read_jsonl(out / "judgments.jsonl")) == 10 * 10
    )  # 10 unordered pairs with the diagonal, 10 items each


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--dataset", "d={dupes}"], "dupes.jsonl:2: field 'id': duplicate id 'a'"),
        (["--dataset", "d={nocol}"], "nocol.jsonl:1: cannot tell the prompt format"),
        (
            ["--dataset", "d={prompts}", "--sharegpt-turns", "some"],
            "--sharegpt-turns must be 'first' or 'all'",
        ),
        (["--dataset", "nopath"], "expected NAME=PATH"),
        # a 100,000-character value was echoed whole in the one line
        (["--dataset", "x" * 100_000], f"--dataset '{'x' * 57}...': expected NAME=PATH"),
        (["--dataset", "d={prompts}", "--sample", "0"], "--sample must be at least 1"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, extra: list[str], needle: str) -> None:
    files = {
        "dupes": '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n',
        "nocol": '{"question": "x"}\n',
        "prompts": '{"id": "a", "prompt": "x"}\n',
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.jsonl"
        paths[name].write_text(text, encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"id": "a", "prompt": "x", "response": "y"}\n', encoding="utf-8")
    args = [
        "rse",
        "run",
        "--reference",
        f"replay:{answers}",
        "--test",
        f"replay:{answers}",
        *(a.format(**paths) for a in extra),
        "--out",
        str(tmp_path / "run"),
    ]
    result = invoke(*args)
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output


def test_replay_file_with_no_matching_answer_is_an_error(tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "x"}\n', encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"id": "zzz", "prompt": "other", "response": "y"}\n', encoding="utf-8")
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{answers}",
        "--test",
        f"replay:{answers}",
        "--dataset",
        f"d={prompts}",
        "--out",
        str(tmp_path / "run"),
    )
    assert result.exit_code == 2
    assert "no recorded answer for 1 of the 1 selected prompts (first: d/a)" in result.output


def test_duplicate_test_names_are_refused(tmp_path: Path, mt: dict[str, Path]) -> None:
    copy_dir = tmp_path / "elsewhere"
    copy_dir.mkdir()
    shutil.copy(mt["alpaca-13b"], copy_dir / "alpaca-13b.jsonl")
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{mt['gpt-3.5-turbo']}",
        "--test",
        f"replay:{mt['alpaca-13b']}",
        "--test",
        f"replay:{copy_dir / 'alpaca-13b.jsonl'}",
        "--dataset",
        f"mt={mt['questions']}",
        "--out",
        str(tmp_path / "r"),
    )
    assert result.exit_code == 2 and "two test models are named 'alpaca-13b'" in result.output


def test_budget_stop_writes_incomplete_results(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    ref, judge = openai_server(reference_reply), openai_server(judge_reply)
    out = tmp_path / "run"
    args = [
        "rse",
        "run",
        "--reference",
        f"openai-compatible:ref@{ref.url}",
        "--test",
        f"openai-compatible:ref2@{ref.url}",
        "--dataset",
        "examples=builtin",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--out",
        str(out),
        "--quiet",
    ]
    result = invoke(*args, "--max-calls", "3")
    assert result.exit_code == 0, result.output
    assert "incomplete" in result.output
    data = read_results(out)
    assert data["complete"] is False and "budget" in data["stop_reason"]
    finished = invoke(*args)  # resume without the budget
    assert finished.exit_code == 0 and read_results(out)["complete"] is True


def test_a_run_with_failed_answer_calls_is_incomplete_and_a_rerun_retries_them(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """A test model's failed call (its pair missing, never scored) left `"complete": true`; the run
    is incomplete now, says how many calls failed and that the same command retries them, and the
    rerun against a healthy server asks only that call again and is complete."""
    down = {"now": True, "failed": 0}

    def flaky(body: dict[str, Any]) -> Any:
        if down["now"] and down["failed"] == 0:
            down["failed"] += 1
            return RawReply(b'{"error": {"message": "server overloaded"}}', status=400)
        return copycat_reply(body)

    ref, test, judge = openai_server(reference_reply), openai_server(flaky), openai_server(judge_reply)
    out = tmp_path / "run"
    args = [
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test",
        f"openai-compatible:copy@{test.url}", "--dataset", "examples=builtin", "--judge",
        f"openai-compatible:judge@{judge.url}", "--sample", "3", "--seed", "5", "--out", str(out),
    ]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["missing"]["models"]["copy"]["count"] == 1 and data["complete"] is False
    assert data["stop_reason"].startswith("1 of 6 model calls failed (first error: ")
    assert "rerun the same command to retry them" in data["stop_reason"]
    said = " ".join(result.output.split())
    assert "incomplete: 1 of 6 model calls failed" in said and said.count("rerun the same command") == 1
    asked = test.requests
    down["now"] = False
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    data = read_results(out)
    assert data["complete"] is True and data["missing"]["models"]["copy"]["count"] == 0
    assert test.requests == asked + 1 and "incomplete" not in again.output


def test_offline_run_with_contrast(tmp_path: Path, mt: dict[str, Path]) -> None:
    out = tmp_path / "run"
    # a near-copy of the reference (each answer with one sentence added) is the positive control: the
    # reference itself as a test is refused (tests/reliability/test_answers.py)
    copy = tmp_path / "gpt-3.5-turbo-copy.jsonl"
    rows = [json.loads(line) for line in mt["gpt-3.5-turbo"].read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["choices"][0]["turns"] = [t + " I hope this helps." for t in row["choices"][0]["turns"]]
    copy.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    mt = {**mt, "gpt-3.5-turbo-copy": copy}
    tests = ["gpt-3.5-turbo-copy", "vicuna-13b-v1.3", "alpaca-13b", "claude-v1"]
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{mt['gpt-3.5-turbo']}",
        *(a for n in tests for a in ("--test", f"replay:{mt[n]}")),
        "--dataset",
        f"mt={mt['questions']}",
        "--sample",
        "8",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["judge"] == "offline" and data["complete"] is True
    for name in tests[1:]:
        block = data["models"][name]["datasets"]["mt"]
        assert block["n"] == 16 and 1.0 <= block["score"] < 5.0
    contrast = data["contrast"]["models"]
    assert set(contrast) == set(tests)
    assert contrast["gpt-3.5-turbo-copy"]["score"] > max(contrast[n]["score"] for n in tests[1:])
    assert len(data["paired"]) == 6
    rows = read_jsonl(out / "judgments.jsonl")
    assert all(r["judge"] == "offline" and r["evidence"] for r in rows)


def test_offline_matrix_is_symmetric_with_5_on_the_diagonal(
    tmp_path: Path, mt: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table's cells unwrapped
    out = tmp_path / "matrix"
    names = ["gpt-3.5-turbo", "vicuna-13b-v1.3", "alpaca-13b"]
    result = invoke(
        "rse",
        "matrix",
        *(a for n in names for a in ("--model", f"replay:{mt[n]}")),
        "--dataset",
        f"mt={mt['questions']}",
        "--sample",
        "6",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["judge"] == "offline"
    scores = data["scores"]
    assert [scores[i][i] for i in range(3)] == [5.0, 5.0, 5.0]
    assert all(
        scores[i][j] == scores[j][i] and scores[i][j] < 5.0 for i in range(3) for j in range(3) if i != j
    )
    assert len(data["linkage"]) == 2 and sorted(data["order"]) == [0, 1, 2]
    # every cell carries its 95% interval over the 6 prompts and its n, in results.json, the terminal and
    # the report (the diagonal too: an answer against itself is 5.0 on every prompt)
    lo, hi = data["ci95"][0][1]
    assert lo <= scores[0][1] <= hi and data["n"][0][1] == 12 and data["ci95"][0][1] == data["ci95"][1][0]
    for aspect in ("style", "logic", "content"):  # each aspect's cell has its interval too
        a_lo, a_hi = data["aspects_ci95"][aspect][0][1]
        assert a_lo <= data["aspects"][aspect][0][1] <= a_hi
        assert data["aspects_ci95"][aspect][0][1] == data["aspects_ci95"][aspect][1][0]
    cell = f"{scores[0][1]:.2f} [{lo:.2f}, {hi:.2f}] n=12"
    assert f"{scores[0][1]:.2f}" in result.output and f"[{lo:.2f}, {hi:.2f}]" in result.output
    report = invoke("report", str(out), "--format", "md", "--out", "-")
    assert report.exit_code == 0 and cell in report.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert cell in html and "95% interval over prompts" in html


def test_panel_models_give_contrast_for_one_test_model(
    tmp_path: Path, mt: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    judge = openai_server(judge_reply)
    out = tmp_path / "run"
    result = invoke(
        "rse",
        "run",
        "--reference",
        f"replay:{mt['gpt-3.5-turbo']}",
        "--test",
        f"replay:{mt['vicuna-13b-v1.3']}",
        "--panel",
        f"replay:{mt['alpaca-13b']}",
        "--panel",
        f"replay:{mt['claude-v1']}",
        "--dataset",
        f"mt={mt['questions']}",
        "--sample",
        "4",
        "--judge",
        f"openai-compatible:judge@{judge.url}",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert list(data["models"]) == ["vicuna-13b-v1.3"] and set(data["panel"]) == {"alpaca-13b", "claude-v1"}
    assert data["paired"] is None
    assert set(data["contrast"]["models"]) == {"vicuna-13b-v1.3"}
    assert data["contrast"]["panel"] == ["alpaca-13b", "claude-v1", "vicuna-13b-v1.3"]
    roles = {r["model"]: r["role"] for r in read_jsonl(out / "responses.jsonl")}
    assert roles == {
        "gpt-3.5-turbo": "reference",
        "vicuna-13b-v1.3": "test",
        "alpaca-13b": "panel",
        "claude-v1": "panel",
    }


def test_two_turn_prompts_are_counted_and_resampled_as_prompts(
    tmp_path: Path, mt: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """MT-bench's prompts have two turns: every score counts both, its interval resamples the 6
    prompts (a prompt's turns are not independent answers), and the terminal and report say so."""
    monkeypatch.setenv("COLUMNS", "160")  # the table's cells unwrapped
    out = tmp_path / "run"
    tests = ["vicuna-13b-v1.3", "alpaca-13b", "claude-v1"]
    result = invoke(
        "rse", "run", "--reference", f"replay:{mt['gpt-3.5-turbo']}",
        *(a for n in tests for a in ("--test", f"replay:{mt[n]}")),
        "--dataset", f"mt={mt['questions']}", "--sample", "6", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "n=12 (6 prompts)" in result.output  # the terminal's table
    data = read_results(out)
    for name in tests:
        for block in (data["models"][name]["datasets"]["mt"], data["models"][name]["avg"]):
            assert (block["n"], block["n_prompts"]) == (12, 6)
    for pair in data["paired"]:
        assert (pair["avg"]["n"], pair["avg"]["n_prompts"]) == (12, 6)  # both turns of each prompt
    for measure in data["contrast"]["models"][tests[0]]["measures"].values():
        assert (measure["n"], measure["n_prompts"]) == (12, 6)
    report = invoke("report", str(out), "--format", "md", "--out", "-")
    assert report.exit_code == 0, report.output
    assert "n=12 (6 prompts)" in report.output
    compare = invoke("compare", str(out))
    assert compare.exit_code == 0 and "12 (6 prompts)" in compare.output


def test_a_judge_call_that_fails_leaves_the_pair_unjudged_without_naming_a_false_cause(
    tmp_path: Path, mt: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    """A judge answering HTTP 400: every pair is unjudged (never scored low), and the note does not
    say the reply was unreadable, since no reply came."""
    judge = openai_server(lambda body: RawReply(b'{"error": {"message": "bad request"}}', status=400))
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{mt['gpt-3.5-turbo']}", "--test", f"replay:{mt['vicuna-13b-v1.3']}",
        "--dataset", f"mt={mt['questions']}", "--sample", "2", "--judge", f"openai-compatible:judge@{judge.url}",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out / "judgments.jsonl")
    assert rows and all(r["status"] == "unjudged" and r["overall"] is None for r in rows)
    assert all(r["evidence"].startswith("no rating after one retry: the judge call failed: ") for r in rows)
    assert all("400" in r["evidence"] and "unreadable" not in r["evidence"] for r in rows)
    assert read_results(out)["models"]["vicuna-13b-v1.3"]["datasets"]["mt"]["n"] == 0


def server_error(body: dict[str, Any]) -> RawReply:
    return RawReply(b'{"error": {"message": "judge overloaded"}}', status=500)


def unreadable(body: dict[str, Any]) -> str:
    return "They look fairly similar to me, maybe a 4."


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (server_error, "the judge call failed: "),
        (unreadable, "the judge's reply was unreadable"),
    ],
)
def test_an_unjudged_pair_names_its_cause_a_failed_call_or_an_unreadable_reply(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], reply: Callable[..., Any], cause: str
) -> None:
    """A judge answering HTTP 500 (one retry of the scheduler, then the judge's own retry) and a judge
    whose replies cannot be read: every pair unjudged, its note saying which of the two it was."""
    ref, other, judge = openai_server(reference_reply), openai_server(stranger_reply), openai_server(reply)
    config = tmp_path / "models.yaml"
    config.write_text(
        f"models:\n  judge:\n    spec: openai-compatible:judge@{judge.url}\n    max_retries: 1\n"
        "    retry_base_s: 0\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:other@{other.url}",
        "--dataset", "ex=builtin", "--sample", "2", "--judge", "judge", "--config", str(config),
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out / "judgments.jsonl")
    assert len(rows) == 2 and all(r["status"] == "unjudged" and r["overall"] is None for r in rows)
    notes = {r["evidence"] for r in rows}
    assert all(n.startswith(f"no rating after one retry: {cause}") for n in notes), notes
    if reply is server_error:
        assert all("500" in n and "judge overloaded" in n and "(after 2 attempts)" in n for n in notes), notes
        assert judge.requests == 2 * 2 * 2  # 2 pairs x (first ask + the judge's retry) x 2 attempts each
    else:
        assert judge.requests >= 2 * 2  # (the structured-output probe adds its own calls)
    assert read_results(out)["n_unjudged"] == 2


@pytest.mark.parametrize("typed_twice", ["prompts", "answers"])
def test_a_prompt_or_answer_typed_twice_in_one_row_is_one_line_exit_2(
    tmp_path: Path, typed_twice: str
) -> None:
    """json kept the last `"prompt"` / `"response"` of a hand-edited row: one of the two was scored silently."""
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "y"}\n', encoding="utf-8")
    answers = {name: tmp_path / f"{name}.jsonl" for name in ("ref", "test")}
    for name, path in answers.items():
        rows = [f'{{"id": "{i}", "response": "{name} {i}"}}' for i in ("a", "b")]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    hand_edited = prompts if typed_twice == "prompts" else answers["test"]
    field = "prompt" if typed_twice == "prompts" else "response"
    lines = hand_edited.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1] + f', "{field}": "typed again"}}'
    hand_edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{answers['ref']}", "--test", f"replay:{answers['test']}",
        "--dataset", f"d={prompts}", "--judge", "offline", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: {hand_edited}:2: field '{field}': given twice in one object (only the last would be read, "
        "without a word): keep one value"
    ]
    assert not (out / "results.json").exists()
