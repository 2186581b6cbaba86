import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from distillscope.errors import BackendError, UserError
from distillscope.models.spec import build_backend
from distillscope.models.types import Message, ModelRequest
from distillscope.testing.server import OpenAIServer


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def ask(backend, request: ModelRequest) -> str:  # type: ignore[no-untyped-def]
    return asyncio.run(backend.generate(backend.prepare(request))).text


def test_fastchat_answers_by_question_id_and_turn(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "m.jsonl", [{"question_id": 81, "choices": [{"index": 0, "turns": ["first", "second"]}]}]
    )
    backend = build_backend(f"replay:{path}")
    assert backend.name == "m"
    assert ask(backend, ModelRequest.user("anything", prompt_id="81")) == "first"
    two_turns = ModelRequest(
        messages=(
            Message(role="user", content="a"),
            Message(role="assistant", content="first"),
            Message(role="user", content="b"),
        ),
        prompt_id="81",
    )
    assert ask(backend, two_turns) == "second"


def test_arena_hard_turn_objects(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"uid": "abc", "choices": [{"turns": [{"content": "ans", "token_len": 3}]}]}]
    )
    assert ask(build_backend(f"replay:{path}"), ModelRequest.user("p", prompt_id="abc")) == "ans"


def test_paper_attack_log_matches_full_prompt(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "log.jsonl",
        [
            {
                "jailbreak_prompt": "Pretend. {query}",
                "query": "Who made you?",
                "target_responses": ["I am GPT-4."],
            },
            {"jailbreak_prompt": "No slot here.", "query": "Who made you?", "target_responses": ["OpenAI."]},
        ],
    )
    backend = build_backend(f"replay:{path}")
    assert ask(backend, ModelRequest.user("Pretend. Who made you?")) == "I am GPT-4."
    assert ask(backend, ModelRequest.user("No slot here.\nWho made you?")) == "OpenAI."


def test_generic_prompt_response(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "g.jsonl",
        [
            {"prompt": "2+2?", "response": "4"},
            {"messages": [{"role": "user", "content": "hi"}], "response": "hello"},
        ],
    )
    backend = build_backend(f"replay:{path}")
    assert ask(backend, ModelRequest.user("2+2?")) == "4"
    assert ask(backend, ModelRequest.user("hi")) == "hello"


def test_messages_rows_with_an_id_answer_their_own_turn(tmp_path: Path) -> None:
    """Two rows of one conversation id (`models answer` on MT-bench): the row whose `messages` hold
    two user turns answers turn 2, by id and by text, and never replaces turn 1's answer."""
    turn1 = [{"role": "user", "content": "Q1"}]
    turn2 = [*turn1, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    path = write_jsonl(
        tmp_path / "g.jsonl",
        [
            {"id": "81", "messages": turn1, "prompt": "Q1", "response": "A1"},
            {"id": "81", "messages": turn2, "prompt": "Q2", "response": "A2"},
        ],
    )
    backend = build_backend(f"replay:{path}")
    second = ModelRequest(
        messages=tuple(Message(role=m["role"], content=m["content"]) for m in turn2),  # type: ignore[arg-type]
        prompt_id="81",
    )
    assert ask(backend, ModelRequest.user("asked otherwise", prompt_id="81")) == "A1"  # by id
    assert ask(backend, second) == "A2"
    assert ask(backend, ModelRequest.user("Q1")) == "A1"  # by text, no id
    assert ask(backend, second.model_copy(update={"prompt_id": None})) == "A2"


def test_missing_answer_is_an_error_naming_the_prompt(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", [{"prompt": "2+2?", "response": "4"}])
    with pytest.raises(BackendError, match="no recorded answer for id 'q-7'") as info:
        ask(build_backend(f"replay:{path}"), ModelRequest.user("3+3?", prompt_id="q-7"))
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('{"prompt": "a", "response": "b"}\n{broken\n', r"g.jsonl:2: invalid JSON"),
        ('{"prompt": "a"}\n', r"g.jsonl:1: field 'response'"),
        ("", "file is empty"),
        ("[1, 2]\n", r"g.jsonl:1: expected a JSON object"),
    ],
)
def test_bad_replay_files_name_file_and_line(tmp_path: Path, content: str, pattern: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=pattern):
        build_backend(f"replay:{path}")


def fastchat(qid: object, *turns: object) -> dict[str, object]:
    return {"question_id": qid, "choices": [{"index": 0, "turns": list(turns)}]}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [fastchat(81, "a", "b"), fastchat(82, "c"), fastchat(81, "a", "B")],
            "g.jsonl:3: field 'question_id': id '81' (turn 2) has two different answers, here and at line 1",
        ),
        (
            [{"instruction": "Say hi", "output": "hi"}, {"instruction": "Say  hi ", "output": "hello"}],
            "g.jsonl:2: field 'instruction': prompt 'Say hi' has two different answers, here and at line 1",
        ),
        (
            [{"prompt": "2+2?", "response": "4"}, {"prompt": "2+2?", "response": "5"}],
            "g.jsonl:2: field 'prompt': prompt '2+2?' has two different answers, here and at line 1",
        ),
        (
            [{"id": "q1", "prompt": "a", "response": "x"}, {"id": "q1", "prompt": "b", "response": "y"}],
            "g.jsonl:2: field 'id': id 'q1' has two different answers, here and at line 1",
        ),
        (
            [
                {
                    "uid": "u",
                    "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"}],
                },
                {
                    "uid": "u",
                    "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "y"}],
                },
            ],
            "g.jsonl:2: field 'uid': id 'u' has two different answers, here and at line 1",
        ),
    ],
    ids=["fastchat", "alpacaeval", "prompt", "id", "arena-hard-v2"],
)
def test_a_prompt_answered_twice_differently_is_an_error_at_the_second_line(
    tmp_path: Path, rows: list[dict], message: str
) -> None:
    """A FastChat file with question 81 twice (or an AlpacaEval file with one instruction twice)
    replayed the last of the two answers, silently: which answer a run scored depended on the
    file's order. Now it is an error at the second line naming the first."""
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    with pytest.raises(UserError) as refused:
        build_backend(f"replay:{path}")
    assert str(refused.value).startswith(f"{tmp_path}/{message}")


def test_the_same_answer_twice_and_one_text_under_two_ids_are_kept(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "g.jsonl",
        [
            fastchat(81, "a", "b"),
            fastchat(81, "a", "b"),  # a copy: harmless
            {"id": "x1", "prompt": "same", "response": "one"},
            {"id": "x2", "prompt": "same", "response": "two"},  # ids tell them apart
        ],
    )
    backend = build_backend(f"replay:{path}")
    assert ask(backend, ModelRequest.user("?", prompt_id="81")) == "a"
    assert ask(backend, ModelRequest.user("same", prompt_id="x1")) == "one"
    assert ask(backend, ModelRequest.user("same", prompt_id="x2")) == "two"


def test_turns_given_as_text_are_not_read_letter_by_letter(tmp_path: Path) -> None:
    """`"turns": "Hello"` replayed "H" as turn 1 and "e" as turn 2."""
    path = write_jsonl(
        tmp_path / "g.jsonl", [fastchat(81, "x"), {**fastchat(82), "choices": [{"turns": "Hello"}]}]
    )
    with pytest.raises(UserError, match=r"g.jsonl:2: field 'choices': expected choices\[0\].turns as a list"):
        build_backend(f"replay:{path}")


def test_non_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b'{"prompt": "\xff\xfe"}\n')
    with pytest.raises(UserError, match="not UTF-8"):
        build_backend(f"replay:{path}")
    with pytest.raises(UserError, match="not found"):
        build_backend(f"replay:{tmp_path}/nope.jsonl")


def test_mt_bench_answer_files(shared_data: Path) -> None:
    backend = build_backend(f"replay:{shared_data}/mt-bench/model_answer/vicuna-13b-v1.3.jsonl")
    assert backend.name == "vicuna-13b-v1.3"
    assert len(ask(backend, ModelRequest.user("ignored", prompt_id="81"))) > 50


# -- answers over the cap ----------------------------------------------------------------------------

CUT = (
    "warning: model 'big': 1 answer longer than max_answer_bytes (1,000,000 bytes) was cut there "
    "(finish_reason 'capped'); set a larger max_answer_bytes for the model in --config to keep answers whole"
)


def _replays_with_a_huge_answer(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A prompt file, a reference's answers and a model's answers, one of them 1,000,005 characters."""
    prompts = write_jsonl(
        tmp_path / "prompts.jsonl", [{"id": f"q{i}", "prompt": f"Explain topic {i}"} for i in range(3)]
    )
    ref = write_jsonl(
        tmp_path / "ref.jsonl",
        [
            {"id": f"q{i}", "prompt": f"Explain topic {i}", "response": f"Topic {i} has three parts."}
            for i in range(3)
        ],
    )
    big = write_jsonl(
        tmp_path / "big.jsonl",
        [{"id": f"q{i}", "prompt": f"Explain topic {i}", "response": "word " * 200_001 if i == 0 else f"Topic {i}."}
         for i in range(3)],
    )  # fmt: skip
    return prompts, ref, big


def test_a_replayed_answer_over_the_cap_is_cut_and_the_run_says_so(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """The answer was cut (finish_reason 'capped', counted in run.per_model) and nothing said so in
    the terminal: `rse run` scored the cut answer in silence."""
    from ..rse.conftest import invoke, judge_reply, read_results

    prompts, ref, big = _replays_with_a_huge_answer(tmp_path)
    judge = openai_server(judge_reply)
    out = tmp_path / "run"
    args = ["rse", "run", "--reference", f"replay:{ref}", "--test", f"replay:{big}", "--dataset",
            f"d={prompts}", "--judge", f"openai-compatible:judge@{judge.url}", "--out", out, "--quiet"]  # fmt: skip
    for _ in range(2):  # the run, then a rerun answered from the ledger: the same one warning
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert " ".join(result.output.split()).count(CUT) == 1, result.output
        data = read_results(out)
        assert data["warnings"] == [CUT.removeprefix("warning: ")]  # recorded, as the run's other warnings
        assert data["run"]["per_model"]["big"]["calls_capped"] == 1
    import distillscope as ds

    api = ds.rse.run(f"replay:{ref}", [f"replay:{big}"], {"d": str(prompts)}, judge=f"openai-compatible:judge@{judge.url}", out=tmp_path / "api")  # fmt: skip
    assert api.warnings == [CUT.removeprefix("warning: ").replace("--config", "config=")]  # the API's words


def test_a_run_that_records_no_warnings_says_it_on_stderr(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """`rse matrix` (its results hold no warnings) says it once, as a run's other notes."""
    from ..rse.conftest import invoke, judge_reply

    prompts, ref, big = _replays_with_a_huge_answer(tmp_path)
    judge = openai_server(judge_reply)
    result = invoke(
        "rse", "matrix", "--model", f"replay:{ref}", "--model", f"replay:{big}", "--dataset", f"d={prompts}",
        "--judge", f"openai-compatible:judge@{judge.url}", "--out", tmp_path / "m",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()).count(CUT) == 1, result.output


def test_a_study_prints_the_warnings_its_rse_stage_recorded(tmp_path: Path) -> None:
    """`distillscope study` printed none of its RSE stage's warnings: an answer cut at the cap was
    said in rse/results.json only."""
    from ..rse.conftest import invoke

    prompts, ref, big = _replays_with_a_huge_answer(tmp_path)
    study = tmp_path / "study.yaml"
    study.write_text(
        f'models:\n  ref: {{spec: "replay:{ref}"}}\n  big: {{spec: "replay:{big}"}}\n'
        f"targets: [big]\nreference: ref\nice: null\nrse: {{judge: offline, datasets: {{d: {prompts}}}}}\n",
        encoding="utf-8",
    )
    result = invoke("study", str(study), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()).count(f"warning: RSE: {CUT.removeprefix('warning: ')}") == 1


def test_ids_are_read_as_prompt_files_read_them(tmp_path: Path) -> None:
    """`"question_id": 81.0` (a file written by pandas) was the id "81.0", which matched no prompt:
    every answer of the file was missing. Ids are read as the prompt files' reader reads them."""
    path = write_jsonl(
        tmp_path / "m.jsonl",
        [
            {"question_id": 81.0, "choices": [{"index": 0, "turns": ["first"]}]},
            {"id": 7.0, "prompt": "p", "response": "seven"},
            {
                "uid": 9.0,
                "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "nine"}],
            },
        ],
    )
    backend = build_backend(f"replay:{path}")
    assert [ask(backend, ModelRequest.user("x", prompt_id=i)) for i in ("81", "7", "9")] == [
        "first",
        "seven",
        "nine",
    ]
    for field, value, kind in (("question_id", [81], "a list"), ("id", True, "true/false")):
        row = {field: value, "prompt": "p", "response": "r", "choices": [{"turns": ["a"]}]}
        if field == "id":
            del row["choices"]
        bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "prompt": "x", "response": "y"}, row])
        with pytest.raises(UserError) as err:
            build_backend(f"replay:{bad}")
        assert str(err.value) == f"{bad}:2: field '{field}': expected an id (text or a number), got {kind}"


def test_a_replay_file_under_the_home_folder_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`replay:~/answers/gpt4.jsonl` (the shell leaves a `~` after `replay:` as it is) was "file not
    found", while `local:~/m.gguf` and a study's `replay:~/...` were read from the home folder."""
    home = tmp_path / "home"
    write_jsonl((home / "answers").mkdir(parents=True) or home / "answers" / "gpt4.jsonl", [
        {"id": "a", "prompt": "hi", "response": "hello"}
    ])  # fmt: skip
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    backend = build_backend("replay:~/answers/gpt4.jsonl")
    assert backend.name == "gpt4"
    assert ask(backend, ModelRequest.user("hi", prompt_id="a")) == "hello"
