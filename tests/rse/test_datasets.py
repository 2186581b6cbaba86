"""Prompt loaders: every format, stable ids, duplicate and missing-column errors, seeded sampling."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from distillscope.errors import UserError
from distillscope.rse.datasets import builtin_answers, load_dataset, load_datasets, sample_prompts

from .conftest import invoke


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_arena_hard_uid_prompt(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "arena.jsonl",
        [{"uid": "u1", "cluster": "c", "prompt": "Write a poem."}, {"uid": "u2", "prompt": "Sort a list."}],
    )
    ds = load_dataset("arena", str(path))
    assert ds.format == "arena-hard"
    assert [p.id for p in ds.prompts] == ["u1", "u2"]
    assert ds.prompts[0].text == "Write a poem." and ds.prompts[0].meta["category"] == "c"
    assert ds.prompts[0].dataset == "arena"


def test_question_id_turns_single_and_multi(tmp_path: Path) -> None:
    single = write_jsonl(tmp_path / "a.jsonl", [{"question_id": 7, "turns": [{"content": "Hi there?"}]}])
    ds = load_dataset("a", str(single))
    assert ds.format == "arena-hard" and ds.prompts[0].id == "7" and ds.prompts[0].followups == ()
    multi = write_jsonl(
        tmp_path / "mt.jsonl", [{"question_id": 81, "category": "writing", "turns": ["One?", "Now shorter."]}]
    )
    ds = load_dataset("mt", str(multi))
    assert ds.format == "mt-bench"
    assert ds.prompts[0].text == "One?" and ds.prompts[0].followups == ("Now shorter.",)


def test_numinamath_sends_problem_not_solution(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "n.jsonl", [{"problem": "What is 2+2?", "solution": "4"}])
    ds = load_dataset("math", str(path))
    assert ds.format == "numinamath"
    assert [m.content for m in ds.prompts[0].messages] == ["What is 2+2?"]
    assert ds.prompts[0].id.startswith("h")  # no id column: a content hash


CONVERSATION = [
    {"from": "human", "value": "First question"},
    {"from": "gpt", "value": "First answer"},
    {"from": "human", "value": "Second question"},
    {"from": "gpt", "value": "Second answer"},
]


def test_sharegpt_json_list_first_turn(tmp_path: Path) -> None:
    path = tmp_path / "sg.json"
    path.write_text(json.dumps([{"id": "c1", "conversations": CONVERSATION}]), encoding="utf-8")
    ds = load_dataset("sg", str(path))
    assert ds.format == "sharegpt" and len(ds.prompts) == 1
    assert ds.prompts[0].id == "c1" and [m.content for m in ds.prompts[0].messages] == ["First question"]


def test_sharegpt_jsonl_all_turns_keeps_recorded_history(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "sg.jsonl", [{"conversations": CONVERSATION}])
    ds = load_dataset("sg", str(path), sharegpt_turns="all")
    first, second = ds.prompts
    assert second.id == f"{first.id}#t2"
    assert [(m.role, m.content) for m in second.messages] == [
        ("user", "First question"),
        ("assistant", "First answer"),
        ("user", "Second question"),
    ]
    assert second.meta["source_id"] == first.id


def test_generic_prompt_messages_csv_parquet(tmp_path: Path) -> None:
    messages = write_jsonl(
        tmp_path / "m.jsonl",
        [
            {
                "id": "m1",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hello?"},
                    {"role": "assistant", "content": "recorded"},
                ],
            }
        ],
    )
    ds = load_dataset("m", str(messages))
    assert ds.format == "messages"
    assert [m.role for m in ds.prompts[0].messages] == ["system", "user"]
    frame = pd.DataFrame({"id": ["a", "b"], "prompt": ["Alpha?", "Beta?"]})
    frame.to_csv(tmp_path / "p.csv", index=False)
    frame.to_parquet(tmp_path / "p.parquet")
    for name in ("p.csv", "p.parquet"):
        ds = load_dataset("p", str(tmp_path / name))
        assert ds.format == "prompt" and [(p.id, p.text) for p in ds.prompts] == [
            ("a", "Alpha?"),
            ("b", "Beta?"),
        ]


def test_content_ids_survive_reordering(tmp_path: Path) -> None:
    rows = [{"prompt": f"question {i}"} for i in range(20)]
    a = load_dataset("x", str(write_jsonl(tmp_path / "a.jsonl", rows)))
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    b = load_dataset("x", str(write_jsonl(tmp_path / "b.jsonl", shuffled)))
    assert {p.id: p.text for p in a.prompts} == {p.id: p.text for p in b.prompts}
    assert sample_prompts(a.prompts, 5, seed=3) == sorted(
        sample_prompts(b.prompts, 5, seed=3), key=lambda p: a.prompts.index(p)
    )


def test_sampling_is_seeded_stable_and_nested(tmp_path: Path) -> None:
    ds = load_dataset(
        "x", str(write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "prompt": f"q{i}"} for i in range(100)]))
    )
    s1 = [p.id for p in sample_prompts(ds.prompts, 10, seed=0)]
    assert s1 == [p.id for p in sample_prompts(ds.prompts, 10, seed=0)]
    assert len(s1) == 10 and s1 == sorted(s1, key=int)  # kept in file order
    assert s1 != [p.id for p in sample_prompts(ds.prompts, 10, seed=1)]
    assert set(s1) <= {p.id for p in sample_prompts(ds.prompts, 30, seed=0)}
    assert len(sample_prompts(ds.prompts, 1000, seed=0)) == 100


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (
            [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}],
            "d.jsonl:2: field 'id': duplicate id 'a', first seen at",
        ),
        ([{"prompt": "same"}, {"prompt": "same"}], "d.jsonl:2: field 'id': duplicate content"),
        ([{"question": "no prompt column"}], "d.jsonl:1: cannot tell the prompt format"),
        ([{"prompt": "ok"}, {"prompt": ""}], "d.jsonl:2: field 'prompt': missing or empty text"),
        ([{"turns": "not a list"}], "d.jsonl:1: field 'turns'"),
        ([{"conversations": [{"from": "alien", "value": "x"}]}], "field 'conversations'"),
    ],
)
def test_bad_rows_are_located_user_errors(tmp_path: Path, rows: list[dict[str, object]], needle: str) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(UserError) as err:
        load_dataset("d", str(path))
    assert needle in str(err.value)


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "  "}],
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": ""}],
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "\n"}, {"role": "assistant", "content": "x"}],
    ],
)  # fmt: skip
def test_a_messages_row_whose_question_is_blank_is_refused(tmp_path: Path, messages: list[object]) -> None:
    """A `prompt` of blanks was refused, but a `messages` row asking blanks was sent and its answer scored."""
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "messages": [{"role": "user", "content": "fine"}]}, {"id": "b", "messages": messages}])  # fmt: skip
    asked = max(i for i, m in enumerate(messages) if isinstance(m, dict) and m["role"] == "user") + 1
    with pytest.raises(UserError) as err:
        load_dataset("d", str(path))
    assert (
        str(err.value) == f"{path}:2: field 'messages': message {asked}, the user's question, is empty text"
    )


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        load_dataset("d", str(tmp_path / "nope.jsonl"))
    (tmp_path / "e.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="file is empty"):
        load_dataset("d", str(tmp_path / "e.jsonl"))
    (tmp_path / "b.jsonl").write_text('{"prompt": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"b.jsonl:2: invalid JSON"):
        load_dataset("d", str(tmp_path / "b.jsonl"))
    with pytest.raises(UserError, match="at least one --dataset"):
        load_datasets({})


def test_hf_only_when_installed() -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(UserError, match="Hugging Face datasets is not installed"):
            load_dataset("h", "hf:some/set:test")
    else:
        pytest.skip("Hugging Face datasets is installed; loading would need the network")


def test_builtin_examples_have_ids_and_answers() -> None:
    ds = load_dataset("examples", "builtin")
    assert len(ds.prompts) >= 5 and len({p.id for p in ds.prompts}) == len(ds.prompts)
    assert set(builtin_answers()) == {p.id for p in ds.prompts}


def test_real_shared_prompt_files(shared_data: Path) -> None:
    prompts = shared_data / "prompts"
    expected = {
        "arena-hard-v0.1-questions.jsonl": ("arena-hard", 500, "328c149ed45a41c0b9d6f14659e63599"),
        "numina-cot-1k.jsonl": ("numinamath", 1000, "AI-MO/NuminaMath-CoT-0"),
        "sharegpt-en-first-turn-1k.json": ("sharegpt", 1000, "wc1OQ5t_9"),
        "sharegpt-zh-multiturn-1k.jsonl": ("sharegpt", 1000, None),
    }
    for name, (fmt, count, first_id) in expected.items():
        ds = load_dataset("d", str(prompts / name))
        assert (ds.format, len(ds.prompts)) == (fmt, count), name
        assert all(p.text.strip() for p in ds.prompts)
        if first_id is not None:
            assert ds.prompts[0].id == first_id
    multi = load_dataset("zh", str(prompts / "sharegpt-zh-multiturn-1k.jsonl"), sharegpt_turns="all")
    assert len(multi.prompts) > 1000 and len({p.id for p in multi.prompts}) == len(multi.prompts)
    mt = load_dataset("mt", str(shared_data / "mt-bench" / "question.jsonl"))
    assert mt.format == "mt-bench" and len(mt.prompts) == 80
    assert all(len(p.followups) == 1 for p in mt.prompts) and mt.prompts[0].id == "81"


def test_jsonl_named_json_is_read(tmp_path: Path) -> None:
    path = tmp_path / "conv.json"
    path.write_text(
        json.dumps({"conversations": CONVERSATION})
        + "\n"
        + json.dumps({"id": "c2", "conversations": CONVERSATION[:1]})
        + "\n",
        encoding="utf-8",
    )
    ds = load_dataset("sg", str(path))
    assert ds.format == "sharegpt" and len(ds.prompts) == 2 and ds.prompts[1].id == "c2"
    (tmp_path / "broken.json").write_text('[{"prompt": "a"},', encoding="utf-8")
    with pytest.raises(UserError, match=r"broken\.json:1: invalid JSON"):
        load_dataset("b", str(tmp_path / "broken.json"))


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ('{"id": [1, 2], "prompt": "x"}', "field 'id': expected an id (text or a number), got a list"),
        ('{"uid": {"a": 1}, "prompt": "x"}', "field 'uid': expected an id (text or a number), got an object"),
        ('{"id": true, "prompt": "x"}', "field 'id': expected an id (text or a number), got true/false"),
        ('{"id": "a\\u0000b", "prompt": "x"}', "field 'id': an id may not hold a control character (U+0000)"),
        (
            '{"id": "a\\nb", "prompt": "x"}',
            "field 'id': an id may not hold a control character (U+000A, a line break)",
        ),
    ],
)
def test_an_id_that_is_no_text_or_holds_a_control_character_is_refused(
    tmp_path: Path, row: str, problem: str
) -> None:
    """A list id was kept as Python's text of it ("[1, 2]"), a NUL or a line break as it was."""
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "ok", "prompt": "fine"}\n' + row + "\n")
    with pytest.raises(UserError) as refused:
        load_dataset("d", str(path))
    assert str(refused.value) == f"{path}:2: {problem}"


def test_an_id_that_names_another_prompts_later_turn_is_refused(tmp_path: Path) -> None:
    """MT-bench prompt '1' has a second turn, keyed `1#t2`; a prompt whose own id is `1#t2` shared
    that key: `rse run` scored 4 turns as n=3, one answer lost without a word."""
    rows = [
        {"question_id": "1", "turns": ["Tell me about cats.", "And dogs?"]},
        {"question_id": "1#t2", "turns": ["Tell me about fish.", "And birds?"]},
    ]
    path = write_jsonl(tmp_path / "q.jsonl", rows)
    with pytest.raises(UserError) as refused:
        load_dataset("mt", str(path))
    assert str(refused.value) == (
        f"{path}:2: field 'id': '1#t2' is also the name of turn 2 of prompt '1' ({path}:1); "
        "give this prompt another id"
    )
    single = write_jsonl(
        tmp_path / "one-turn.jsonl", [{"id": "1", "prompt": "a"}, {"id": "1#t2", "prompt": "b"}]
    )
    assert [p.id for p in load_dataset("d", str(single)).prompts] == ["1", "1#t2"]  # no turn 2: no clash


def test_one_prompt_set_given_as_two_datasets_is_refused(tmp_path: Path) -> None:
    """The same file by two paths (or a copy with other ids, in another order) was two datasets: every
    prompt scored twice, and the average's n doubled and its interval too narrow."""
    rows = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(5)]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    copy = write_jsonl(tmp_path / "copy.jsonl", [r | {"id": f"other-{r['id']}"} for r in reversed(rows)])
    for twin in (f"{tmp_path}/./p.jsonl", str(copy)):
        with pytest.raises(UserError) as err:
            load_datasets({"d": str(path), "e": twin}, sample=3)
        assert str(err.value) == (
            f"--dataset e={twin}: the same 5 prompts as dataset 'd' ({path}); each would be scored twice and "
            "counted twice in the average: give each prompt set once"
        )
    with pytest.raises(
        UserError, match="--dataset b=examples: the same 8 prompts as dataset 'a' \\(builtin\\)"
    ):
        load_datasets({"a": "builtin", "b": "examples"})
    # prompt sets that share some prompts are two datasets (the shared ones are the first's only)
    other = write_jsonl(tmp_path / "other.jsonl", [*rows[:4], {"id": "new", "prompt": "another question"}])
    assert [len(d.prompts) for d in load_datasets({"d": str(path), "o": str(other)})] == [5, 1]


def test_a_prompt_two_datasets_share_is_scored_in_the_first_only(tmp_path: Path) -> None:
    """Datasets that shared some prompts scored them twice: counted twice in the average over datasets,
    and in attribution a prompt trained on in one fold could be scored in another."""
    rows = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(6)]
    first = write_jsonl(tmp_path / "first.jsonl", rows)
    # the same questions under other ids, in another order, and two of its own
    later_rows = [{"id": f"x{i}", "prompt": f"question {i}"} for i in (4, 1)] + [
        {"id": "own1", "prompt": "a question of its own"},
        {"id": "own2", "prompt": "another question of its own"},
    ]
    later = write_jsonl(tmp_path / "later.jsonl", later_rows)
    a, b = load_datasets({"a": str(first), "b": str(later)})
    assert [p.id for p in a.prompts] == [f"q{i}" for i in range(6)]
    assert [p.id for p in b.prompts] == ["own1", "own2"]
    assert b.summary()["left_out_as_in"] == {"a": 2} and "left_out_as_in" not in a.summary()
    assert b.warning() == (
        "dataset 'b': 2 of its prompts are also selected from an earlier dataset (2 in dataset 'a'); they are "
        "scored there only, so no prompt counts twice"
    )
    assert a.warning() is None
    # only what the earlier dataset selected is left out
    a, b = load_datasets({"a": str(first), "b": str(later)}, sample=2, seed=7)
    chosen = {p.messages[-1].content for p in a.prompts}
    assert not chosen & {p.messages[-1].content for p in b.prompts}
    # a dataset whose every prompt is already selected is refused, naming it
    subset = write_jsonl(tmp_path / "subset.jsonl", [{"id": "s", "prompt": "question 3"}])
    with pytest.raises(UserError) as err:
        load_datasets({"a": str(first), "s": str(subset)})
    assert str(err.value) == (
        f"--dataset s={subset}: every one of its 1 prompts is already selected from an earlier dataset "
        "(1 in dataset 'a'); each would be scored twice: give each prompt once"
    )


def test_rse_run_records_the_prompts_a_dataset_left_to_an_earlier_one(tmp_path: Path) -> None:
    prompts = write_jsonl(
        tmp_path / "p.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(4)]
    )
    more = write_jsonl(
        tmp_path / "m.jsonl", [{"id": "m0", "prompt": "question 0"}, {"id": "m1", "prompt": "question 9"}]
    )
    answers = [{"id": f"q{i}", "response": f"answer {i}"} for i in range(4)] + [
        {"id": "m1", "response": "answer 9"}
    ]
    ref = write_jsonl(tmp_path / "a.jsonl", answers)
    test = write_jsonl(tmp_path / "b.jsonl", [r | {"response": r["response"] + "."} for r in answers])
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{ref}", "--test", f"replay:{test}", "--dataset", f"p={prompts}",
        "--dataset", f"m={more}", "--judge", "offline", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dataset 'm': 1 of its prompts are also selected from an earlier dataset" in result.output
    datasets = json.loads((out / "results.json").read_text(encoding="utf-8"))["datasets"]
    assert datasets["m"]["prompts"] == 1 and datasets["m"]["left_out_as_in"] == {"p": 1}
    assert datasets["p"]["prompts"] == 4
    warnings = json.loads((out / "results.json").read_text(encoding="utf-8"))["warnings"]
    assert any(w.startswith("dataset 'm': 1 of its prompts") for w in warnings), warnings


def test_rse_run_refuses_one_prompt_file_as_two_datasets_before_anything_is_written(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(3)])
    answers = write_jsonl(
        tmp_path / "a.jsonl", [{"id": f"q{i}", "response": f"answer {i}"} for i in range(3)]
    )
    other = write_jsonl(tmp_path / "b.jsonl", [{"id": f"q{i}", "response": f"reply {i}"} for i in range(3)])
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{answers}", "--test", f"replay:{other}", "--dataset", f"d={path}",
        "--dataset", f"e={tmp_path}/../{tmp_path.name}/p.jsonl", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "the same 3 prompts as dataset 'd'" in result.output and len(result.output.strip().splitlines()) == 1
    )
    assert not out.exists()
