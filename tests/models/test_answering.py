"""`models answer` on every prompt format `rse run --dataset` reads: multi-turn prompts asked as
`rse run` asks them, and a recorded file that `rse run` replays with no call to the model. Real
parts only: the local OpenAI-compatible test server is the model (and the judge)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.testing.server import OpenAIServer, ScriptedReply

from ..rse.conftest import invoke, judge_reply, read_jsonl, read_results

QUESTIONS = [  # a FastChat / MT-bench question file: two turns each
    {"question_id": 81, "category": "writing", "turns": ["Write a haiku about rain.", "Now make it snow."]},
    {"question_id": 82, "category": "math", "turns": ["What is 3 times 4?", "Add 5 to that."]},
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def other_reply(body: dict[str, Any]) -> str:  # a second model, answering otherwise
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return f"My take on {users[-1].lower()} after {len(users)} questions."


def answer(model: str, prompts: Path, out: Path, *extra: str) -> Any:
    result = invoke(
        "models", "answer", model, "--prompts", str(prompts), "--out", str(out), "--quiet", *extra
    )
    assert result.exit_code == 0, result.output
    return result


def test_mt_bench_answers_both_turns_and_rse_replays_them_with_no_call(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    questions = write_jsonl(tmp_path / "question.jsonl", QUESTIONS)
    ref_server, test_server, judge = openai_server(), openai_server(other_reply), openai_server(judge_reply)
    ref_dir, test_dir = tmp_path / "ref", tmp_path / "other"
    answer(f"openai-compatible:ref@{ref_server.url}", questions, ref_dir)
    answer(f"openai-compatible:other@{test_server.url}", questions, test_dir)

    rows = read_jsonl(ref_dir / "responses.jsonl")
    assert [(r["id"], r["turn"], r["prompt_id"]) for r in rows] == [
        ("81", 1, "81"),
        ("81", 2, "81#t2"),
        ("82", 1, "82"),
        ("82", 2, "82#t2"),
    ]
    assert [r["response"] for r in rows] == [
        "echo: Write a haiku about rain.",
        "echo: Now make it snow.",
        "echo: What is 3 times 4?",
        "echo: Add 5 to that.",
    ]
    assert all(r["outcome"] == "ok" and r["ledger_key"] for r in rows)
    # turn 2 was asked after the model's own turn-1 answer, and the row holds what was sent
    assert ref_server.requests == 4
    sent = {b["messages"][-1]["content"]: b["messages"] for b in ref_server.bodies}
    assert sent["Now make it snow."] == [
        {"role": "user", "content": "Write a haiku about rain."},
        {"role": "assistant", "content": "echo: Write a haiku about rain."},
        {"role": "user", "content": "Now make it snow."},
    ]
    assert rows[1]["messages"] == sent["Now make it snow."]
    results = read_results(ref_dir)
    assert (results["n_prompts"], results["n_answered"], results["complete"]) == (4, 4, True)
    assert results["settings"]["format"] == "mt-bench" and results["run"]["totals"]["calls_sent"] == 4

    # rse run replays both files (one as --reference, one as --test): every turn found, no model call;
    # each DIR/responses.jsonl is named after its DIR, as `models answer` names the same replay
    before = (ref_server.requests, test_server.requests)
    out = tmp_path / "rse"
    ref_file, test_file = ref_dir / "responses.jsonl", test_dir / "responses.jsonl"
    replayed_answers = answer(f"replay:{ref_file}", questions, tmp_path / "again")
    assert "4/4 prompt turns answered" in replayed_answers.output
    assert read_results(tmp_path / "again")["model"] == "ref"
    result = invoke(
        "rse", "run", "--reference", f"replay:{ref_file}", "--test", f"replay:{test_file}",
        "--dataset", f"mt={questions}", "--judge", f"openai-compatible:judge@{judge.url}",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (ref_server.requests, test_server.requests) == before == (4, 4)
    data = read_results(out)
    assert data["reference"] == "ref" and list(data["models"]) == ["other"]
    assert data["missing"]["reference"]["count"] == 0 and data["missing"]["models"]["other"]["count"] == 0
    assert data["models"]["other"]["datasets"]["mt"]["n"] == 4  # 2 questions x 2 turns, all judged
    replayed = {(r["role"], r["prompt_id"]): r["response"] for r in read_jsonl(out / "responses.jsonl")}
    assert replayed[("reference", "81")] == "echo: Write a haiku about rain."
    assert replayed[("reference", "81#t2")] == "echo: Now make it snow."  # turn 2's own answer
    assert replayed[("test", "82#t2")] == "My take on add 5 to that. after 2 questions."
    assert len(replayed) == 8 and all(replayed.values())


def test_sharegpt_every_human_turn_with_the_recorded_history_replays(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    conversation = [
        {"from": "human", "value": "Name a fruit."},
        {"from": "gpt", "value": "A pear."},
        {"from": "human", "value": "Another one?"},
    ]
    prompts = tmp_path / "sharegpt.json"
    prompts.write_text(json.dumps([{"id": "c1", "conversations": conversation}]), encoding="utf-8")
    server, judge = openai_server(), openai_server(judge_reply)
    first = tmp_path / "first"
    answer(f"openai-compatible:m@{server.url}", prompts, first)
    assert [(r["id"], r["turn"]) for r in read_jsonl(first / "responses.jsonl")] == [("c1", 1)]
    every = tmp_path / "all"
    answer(f"openai-compatible:m@{server.url}", prompts, every, "--sharegpt-turns", "all")
    rows = read_jsonl(every / "responses.jsonl")
    assert [(r["id"], r["turn"], r["prompt_id"]) for r in rows] == [("c1", 1, "c1"), ("c1", 2, "c1#t2")]
    assert rows[1]["messages"][1] == {"role": "assistant", "content": "A pear."}  # the recorded history
    assert json.loads((every / "config.json").read_text())["sharegpt_turns"] == "all"
    sent = server.requests
    assert sent == 3  # each run directory has its own ledger: 1 call, then 2

    replay = tmp_path / "m.jsonl"
    replay.write_bytes((every / "responses.jsonl").read_bytes())
    chat = [
        {"role": "user" if t["from"] == "human" else "assistant", "content": t["value"]} for t in conversation
    ]
    other = write_jsonl(
        tmp_path / "other.jsonl",
        [
            {"id": "c1", "messages": chat[:1], "response": "A plum."},
            {"id": "c1", "messages": chat, "response": "A fig."},
        ],
    )
    out = tmp_path / "rse"
    result = invoke(
        "rse", "run", "--reference", f"replay:{replay}", "--test", f"replay:{other}",
        "--dataset", f"chat={prompts}", "--sharegpt-turns", "all",
        "--judge", f"openai-compatible:judge@{judge.url}", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.requests == sent
    replayed = {
        r["prompt_id"]: r["response"] for r in read_jsonl(out / "responses.jsonl") if r["role"] == "reference"
    }
    assert replayed == {"c1": "echo: Name a fruit.", "c1#t2": "echo: Another one?"}
    assert read_results(out)["missing"]["models"]["other"]["count"] == 0


def test_a_budget_stop_keeps_the_finished_turns_and_a_rerun_finishes(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    questions = write_jsonl(tmp_path / "question.jsonl", QUESTIONS)
    server = openai_server()
    out = tmp_path / "run"
    model = f"openai-compatible:m@{server.url}"
    answer(model, questions, out, "--max-calls", "2")  # turn 1 of both questions, no turn 2
    assert [(r["id"], r["turn"]) for r in read_jsonl(out / "responses.jsonl")] == [("81", 1), ("82", 1)]
    results = read_results(out)
    assert results["complete"] is False and "call budget of 2 reached" in results["stop_reason"]
    assert results["failed"] == [
        {"id": "81#t2", "error": "not sent: budget reached"},
        {"id": "82#t2", "error": "not sent: budget reached"},
    ]
    answer(model, questions, out)
    assert server.requests == 4  # the rerun sent only the two turn-2 calls
    assert [(r["id"], r["turn"]) for r in read_jsonl(out / "responses.jsonl")] == [
        ("81", 1),
        ("81", 2),
        ("82", 1),
        ("82", 2),
    ]
    assert read_results(out)["complete"] is True


def test_a_budget_stop_reads_back_every_turn_the_ledger_holds_as_a_full_run_walks_them(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """The read-back after a budget stop walks the turns as `collect_answers` does: turn 3 is found
    in the ledger by the history holding the model's own turns 1 and 2, and a conversation whose
    turn 1 was an empty reply has no later turn. Three-turn questions, one shared ledger (--cache)."""

    def reply(body: dict[str, Any]) -> str | ScriptedReply:
        users = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return ScriptedReply(None) if users[-1] == "Say nothing." else f"echo {len(users)}: {users[-1]}"

    three = [
        {"question_id": 1, "turns": ["One.", "Two.", "Three."]},
        {"question_id": 2, "turns": ["Say nothing.", "Then?", "And?"]},
    ]
    server, cache = openai_server(reply), tmp_path / "ledger.sqlite"
    model = f"openai-compatible:m@{server.url}"
    full = tmp_path / "full"
    answer(model, write_jsonl(tmp_path / "q.jsonl", three), full, "--cache", str(cache))
    assert server.requests == 4  # 3 turns of question 1, turn 1 of question 2
    more = write_jsonl(tmp_path / "more.jsonl", [*three, {"question_id": 3, "turns": ["A.", "B.", "C."]}])
    stopped = tmp_path / "stopped"
    answer(model, more, stopped, "--cache", str(cache), "--max-calls", "1")  # turn 1 of question 3 only
    assert server.requests == 5
    results = read_results(stopped)
    assert results["complete"] is False and "call budget of 1 reached" in results["stop_reason"]
    kept = read_jsonl(stopped / "responses.jsonl")
    assert kept[:4] == read_jsonl(full / "responses.jsonl")  # the rows of the full run, as they were
    assert [(r["prompt_id"], r["response"], r["outcome"]) for r in kept] == [
        ("1", "echo 1: One.", "ok"),
        ("1#t2", "echo 2: Two.", "ok"),
        ("1#t3", "echo 3: Three.", "ok"),
        ("2", "", "empty"),  # recorded, not an answer: no turn 2 was asked after it
        ("3", "echo 1: A.", "ok"),
    ]
    assert results["n_empty"] == 1 and results["failed"] == [
        {"id": "2#t2", "error": "not sent: budget reached"},
        {"id": "2#t3", "error": "not sent: budget reached"},
        {"id": "3#t2", "error": "not sent: budget reached"},
        {"id": "3#t3", "error": "not sent: budget reached"},
    ]


def test_plain_prompt_files_are_read_and_written_as_before(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """A 'prompt' file and a text file: the same rows and config as before multi-turn formats (a rerun
    of an old run directory resumes: its settings fingerprint is unchanged), ids from `id` or `uid`."""
    server = openai_server()
    text = tmp_path / "p.txt"
    text.write_text("What is 2+2?\n\nName a colour.\n", encoding="utf-8")
    rows = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "Hello there"}, {"prompt": "No id here"}])
    uid = write_jsonl(tmp_path / "arena.jsonl", [{"uid": "u1", "prompt": "Arena question"}])
    expected = {
        text: [("line-1", "What is 2+2?"), ("line-3", "Name a colour.")],
        rows: [("a", "Hello there"), ("line-2", "No id here")],
        # Arena-Hard's `uid` is its prompt's id, as in `rse run` (was line-1; ids are labels, not ledger keys)
        uid: [("u1", "Arena question")],
    }
    for path, pairs in expected.items():
        out = tmp_path / f"out-{path.name}"
        answer(f"openai-compatible:m@{server.url}", path, out)
        written = (out / "responses.jsonl").read_text(encoding="utf-8")
        keys = [json.loads(line)["ledger_key"] for line in written.splitlines()]
        assert written == "".join(
            json.dumps(
                {"id": pid, "prompt": prompt, "response": f"echo: {prompt}", "error": None,
                 "finish_reason": "stop", "outcome": "ok", "ledger_key": key},
                ensure_ascii=False,
            ) + "\n"
            for (pid, prompt), key in zip(pairs, keys, strict=True)
        )  # fmt: skip
        config = json.loads((out / "config.json").read_text())
        assert "format" not in config and "sharegpt_turns" not in config
        assert "format" not in read_results(out)["settings"]
    assert [b["messages"] for b in server.bodies][:2] == [
        [{"role": "user", "content": "What is 2+2?"}],
        [{"role": "user", "content": "Name a colour."}],
    ]


def test_prompt_ids_are_read_as_rse_run_reads_them(tmp_path: Path) -> None:
    """A blank `id` was an id (' '), and a `uid` of 1.0 was '1.0' where `rse run` reads '1': the two
    files' ids crossed, and replaying these answers gave Question A the answer to Question B."""
    from distillscope.models.answering import read_prompt_file
    from distillscope.rse.datasets import load_dataset

    rows = [
        {"id": " ", "uid": "1.0", "prompt": "Question A"},
        {"uid": 1.0, "prompt": "Question B"},
        {"uid": 7, "prompt": "Question C"},
        {"id": "i", "uid": "u", "prompt": "Question D"},
    ]
    path = write_jsonl(tmp_path / "arena.jsonl", rows)
    pairs = read_prompt_file(path)
    assert pairs == [("1.0", "Question A"), ("1", "Question B"), ("7", "Question C"), ("i", "Question D")]
    rse = load_dataset("arena", str(path)).prompts
    assert [(p.id, p.messages[-1].content) for p in rse] == pairs


def test_answer_refuses_an_id_rse_run_refuses(tmp_path: Path) -> None:
    """A list id was written as Python's text of it ("[1, 2]"), a NUL kept: `rse run` reads ids as
    the same function does, so a replay of the answers matches by the same ids."""
    for row, problem in (
        ('{"id": [1, 2], "prompt": "x"}', "field 'id': expected an id (text or a number), got a list"),
        ('{"id": "a\\u0000b", "prompt": "x"}', "field 'id': an id may not hold a control character (U+0000)"),
    ):
        prompts = tmp_path / "p.jsonl"
        prompts.write_text(row + "\n")
        out = tmp_path / "out"
        result = invoke(
            "models",
            "answer",
            "openai-compatible:m@http://127.0.0.1:9/v1",
            "--prompts",
            str(prompts),
            "--out",
            str(out),
        )
        assert result.exit_code == 2 and result.output.strip() == f"error: {prompts}:1: {problem}", (
            result.output
        )
        assert not (out / "responses.jsonl").exists()
