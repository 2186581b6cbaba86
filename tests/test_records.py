"""The one record reader: formats, BOMs, JSON arrays, located errors, duplicate YAML keys, depth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.records import (
    MAX_DEPTH,
    check_depth,
    iter_records,
    load_json,
    load_yaml,
    parse_json,
    read_records,
    yaml_error,
    yaml_line,
)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_every_format_gives_the_same_records(tmp_path: Path) -> None:
    expected = [{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "yo"}]
    files = {
        "r.jsonl": '{"id": "a", "prompt": "hi"}\n\n{"id": "b", "prompt": "yo"}\n',
        "r.json": '[{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "yo"}]',
        "d.json": '{"data": [{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "yo"}]}',
        "l.json": '{"id": "a", "prompt": "hi"}\n{"id": "b", "prompt": "yo"}\n',  # JSONL named .json
        "r.csv": "id,prompt\r\na,hi\r\nb,yo\r\n",
        "r.tsv": "id\tprompt\na\thi\nb\tyo\n",
        "r.yaml": "- {id: a, prompt: hi}\n- {id: b, prompt: yo}\n",
        "r.txt": '[{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "yo"}]',
    }
    for name, text in files.items():
        for prefix in ("", "\ufeff"):
            records = read_records(write(tmp_path, name, prefix + text))
            assert [r.data for r in records] == expected, name
    lines = [r.line for r in read_records(tmp_path / "r.jsonl")]
    assert lines == [1, 3]
    assert [r.line for r in read_records(tmp_path / "r.csv")] == [2, 3]
    assert read_records(tmp_path / "r.json")[1].where.endswith("r.json item 1")


def test_parquet(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "r.parquet"
    pd.DataFrame({"prompt": ["hi", "yo"]}).to_parquet(path)
    assert [r.data["prompt"] for r in read_records(path)] == ["hi", "yo"]


def test_scalars_and_list_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "templates:\n  - Hi {query}\n  - text: Yo {query}\n    id: y\n")
    records = read_records(path, list_keys=("templates",), scalar_key="text")
    assert [r.data for r in records] == [{"text": "Hi {query}"}, {"text": "Yo {query}", "id": "y"}]
    with pytest.raises(UserError, match=r"t.yaml item 0: expected a JSON object, got str"):
        read_records(path, list_keys=("templates",))
    with pytest.raises(UserError, match=r"expected a list of records \(or a mapping with 'data:'"):
        read_records(path)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.jsonl", '{"a": 1}\n{broken\n', r"a.jsonl:2: invalid JSON \(.+ at column 2\)$"),
        ("a.jsonl", '{"a": 1}\n[1, 2]\n', r"a.jsonl:2: expected a JSON object on each line"),
        ("a.jsonl", b'{"a": 1}\n{"a": "\xff"}\n', r"a.jsonl:2: not UTF-8 text \(byte 7 of the line\)"),
        ("a.jsonl", '{"a": "x\x00"}\n', r"a.jsonl:1: invalid JSON \(Invalid control character at column 9\)$"),
        ("a.jsonl", "\n\n", r"a.jsonl: file is empty"),
        ("a.json", '[{"a": 1}, 3]', r"a.json item 1: expected a JSON object, got int"),
        ("a.csv", "a,b\n1,2,3\n", r"a.csv:2: more values than header columns"),
        ("a.csv", "a,\n1,2\n", r"a.csv:1: the CSV header has an empty column name"),
        # a quoted cell whose quote is misplaced or never closed ran on over the next rows (merged)
        ("a.csv", 'a,b\n1,"x\n2,"y"\n', r"a.csv:2: malformed CSV \(',' expected after '\"' on line 3\): a quote not closed"),
        ("a.csv", 'a,b\n1,"x\n2,y\n', r"a.csv:2: malformed CSV \(unexpected end of data on line 3\)"),
        ("a.csv", b"a\n\xff\n", r"a.csv:\d: not UTF-8"),
        ("a.yaml", "- a: 1\n  b: 2\n  a: 3\n", r"a.yaml:3: malformed YAML: duplicate key 'a' \(lines 1 and 3\)"),
        ("a.yaml", "a: [1\n", r"a.yaml:2: malformed YAML"),
        ("a.yaml", b"- a\n- \xff\n", r"a.yaml:2: not UTF-8"),
    ],
)  # fmt: skip
def test_errors_are_located(tmp_path: Path, name: str, data: str | bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        read_records(write(tmp_path, name, data))


# A multi-line quoted cell (lines 2-4) before the row at fault: every CSV error names the line
# where the faulty record starts, the line a user opens the file at; row errors named the line
# where the row ended, while a malformed cell named the line where its record starts.
MULTI_LINE = 'id,text\n1,"first\nsecond\nthird"\n'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (MULTI_LINE + '2,"x\ny",extra\n', r"a.csv:5: more values than header columns$"),
        (MULTI_LINE + '2,"x\ny" z\n', r"a.csv:5: malformed CSV \(',' expected after '\"' on line 6\)"),
        (MULTI_LINE + '\n2,"never\nclosed\n', r"a.csv:6: malformed CSV \(unexpected end of data on line 7\)"),
    ],
)  # fmt: skip
def test_csv_errors_name_the_line_where_the_record_starts(tmp_path: Path, data: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        read_records(write(tmp_path, "a.csv", data))


def test_csv_records_are_located_at_their_first_line(tmp_path: Path) -> None:
    """A record's own checks (`record.error`, a template's empty text) name its first line too."""
    path = write(tmp_path, "a.csv", MULTI_LINE + '\n2,"two\nlines"\n3,\n')
    records = read_records(path)
    assert [(r.line, r.data["id"]) for r in records] == [(2, "1"), (6, "2"), (8, "3")]
    with pytest.raises(UserError, match=r"a.csv:8: field 'text': empty template$"):
        raise records[2].error("empty template", field="text")


def test_missing_and_directories(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.jsonl: file not found"):
        read_records(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="is a directory"):
        read_records(tmp_path)
    long = tmp_path / ("x" * 300 + ".jsonl")  # longer than a file name may be: an OSError, was a traceback
    with pytest.raises(UserError, match=r"\.jsonl: cannot read: File name too long$"):
        read_records(long)


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    data = load_yaml(write(tmp_path, "m.yaml", "base: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n"))
    assert data["m"] == {"x": 2}


def test_depth_is_bounded_without_recursion(tmp_path: Path) -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(UserError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_json(deep, "x.json")
    with pytest.raises(UserError, match=r"x\.json: nested more than"):
        parse_json("[" * 200_000 + "]" * 200_000, "x.json")
    path = write(tmp_path, "d.jsonl", '{"a": 1}\n{"b": ' + "[" * 10_000 + "]" * 10_000 + "}\n")
    records = iter_records(path)
    assert next(records).data == {"a": 1}  # streamed: the first row is read before the bad one
    with pytest.raises(UserError, match=r"d\.jsonl:2: nested more than"):
        next(records)
    nested: list[object] = []
    node = nested
    for _ in range(MAX_DEPTH - 1):
        child: list[object] = []
        node.append(child)
        node = child
    check_depth(nested, "ok")


def test_yaml_line_finds_a_field_for_errors_checked_after_parsing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        "\ufeffmodels:\n  qwen2.5: {spec: x}\n  qwen2: {spec: y}\ntargets:\n  - a\n  - b\nice: {budget: 3}\n",
    )
    assert yaml_line(path, "models.qwen2.5.spec") == 2  # the longest key that fits: names may hold dots
    assert yaml_line(path, "models.qwen2.spec") == 3
    assert yaml_line(path, "targets[1]") == 6
    assert yaml_line(path, "targets[7]") == 4  # not there: the deepest part that is
    assert yaml_line(path, "ice.budget") == 7 and yaml_line(path, "rse.datasets") is None
    assert yaml_line(tmp_path / "missing.yaml", "ice") is None
    assert str(yaml_error(path, "bad", field="targets[1]")) == f"{path}:6: field 'targets[1]': bad"


def refusal(read: Callable[[Path], object], path: Path) -> str:
    """The one-line error `read` gives for the file at `path`."""
    with pytest.raises(UserError) as refused:
        read(path)
    return str(refused.value)


def test_an_out_of_range_number_in_a_json_file_is_named_at_its_line(tmp_path: Path) -> None:
    """A JSON array (or a whole JSON file) with 2**70 in it named the field but no line."""
    path = write(
        tmp_path,
        "p.json",
        '[\n{"id": "a", "prompt": "x"},\n{"id": "b", "prompt": "y", "n": 1180591620717411303424}\n]\n',
    )
    assert refusal(read_records, path).startswith(f"{path}:3: field '1.n': number out of range")
    whole = write(tmp_path, "config.json", '{"command": "x",\n "budget":\n -Infinity}\n')
    assert refusal(load_json, whole).startswith(f"{whole}:3: field 'budget': number out of range")


def test_a_control_character_in_yaml_is_named_at_its_line(tmp_path: Path) -> None:
    """A NUL byte in YAML gave `malformed YAML: malformed YAML`, with no line."""
    path = write(tmp_path, "p.yaml", "- prompt: é\n- prompt: x\x00y\n")
    assert refusal(read_records, path).startswith(f"{path}:2: malformed YAML: a NUL byte")
    path = write(tmp_path, "q.yaml", "- prompt: x\n\n- prompt: x\x07y\n")
    assert refusal(read_records, path).startswith(f"{path}:3: malformed YAML: control character U+0007")


def test_a_key_given_twice_in_one_object_is_named_at_its_line(tmp_path: Path) -> None:
    """json kept the last of two `"response"`s (or `"prompt"`s) in a row without a word."""
    rows = '{"id": "a", "prompt": "x", "response": "yes"}\n{"id": "b", "response": "no", "response": "yes"}\n'
    path = write(tmp_path, "replay.jsonl", rows)
    message = refusal(read_records, path)
    assert message == f"{path}:2: field 'response': given twice in one object (only the last would be read, without a word): keep one value"  # fmt: skip
    array = '[\n {"instruction": "x", "output": "y"},\n {"instruction": "z",\n  "output": "a",\n  "output": "b"}\n]\n'
    path = write(tmp_path, "model_outputs.json", array)
    assert refusal(read_records, path).startswith(f"{path}:5: field 'output': given twice")
    # one key in several objects, nested or side by side, is no duplicate
    fine = write(tmp_path, "ok.jsonl", '{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}], "c": "\\"a\\": 1"}\n')
    assert [r.data["b"] for r in read_records(fine)] == [[{"a": 2}, {"a": 3}]]
    config = write(tmp_path, "config.json", '{"command": "x",\n "command": "y"}\n')
    assert refusal(load_json, config).startswith(f"{config}:2: field 'command': given twice")


def test_a_csv_column_named_twice_is_refused(tmp_path: Path) -> None:
    """`id,prompt,prompt`: each row's second cell was read and its first dropped, without a word."""
    path = write(tmp_path, "p.csv", "id,prompt,category,prompt\na,first,x,second\n")
    assert refusal(read_records, path) == (
        f"{path}:1: field 'prompt': the CSV header names this column twice (columns 2 and 4): keep one"
    )
    tsv = write(tmp_path, "p.tsv", "id\tprompt\tid\na\tx\tb\n")
    assert refusal(read_records, tsv).startswith(
        f"{tsv}:1: field 'id': the CSV header names this column twice"
    )
