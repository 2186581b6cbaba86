"""`distillscope.load`: typed results by `kind`, files of distillscope 0.1 by shape, schema files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from typer.testing import CliRunner

import distillscope as ds
from distillscope.errors import UserError
from distillscope.results import (
    KINDS,
    AnswersResult,
    IceResult,
    MatrixResult,
    Result,
    RseResult,
    register,
)
from distillscope.results.schema import schemas

V01 = Path(__file__).parent / "data" / "v0_1"
REPO = Path(__file__).resolve().parents[2]


def test_reads_every_0_1_results_file() -> None:
    ice = ds.load(V01 / "ice-run")
    assert isinstance(ice, IceResult) and ice.schema_version == "0.1" and ice.mode == "grid"
    assert ice.scores is not None and (ice.scores.loose.k, ice.scores.loose.n) == (5, 12)
    assert ice.target_identity is not None and ice.target_identity.organisation == "Zhipu AI"
    assert set(ice.breakdowns) == {"language", "area", "template", "generation"}
    assert ice.breakdowns["template"]["nova"].loose.rate == 1.0

    multi = ds.load(V01 / "ice-rescore-multi")
    assert isinstance(multi, IceResult) and multi.target is None and multi.scores is None
    assert [(t.target, t.scores.loose.count) for t in multi.targets] == [("glm-4-plus", 3), ("qwen-max", 1)]

    rse = ds.load(V01 / "rse")
    assert (
        isinstance(rse, RseResult) and rse.reference == "ref" and list(rse.models) == ["copy", "glm-4-plus"]
    )
    avg = rse.models["copy"].avg
    assert avg is not None and avg.score == 4.0 and avg.aspects["style"].n == 5
    assert rse.missing is not None and rse.missing.reference.count == 0

    matrix = ds.load(V01 / "matrix")
    assert isinstance(matrix, MatrixResult) and matrix.models == ["ref", "copy", "glm-4-plus"]
    assert matrix.scores[0][1] == 4.0 and matrix.order == [2, 0, 1]

    answers = ds.load(V01 / "answers")
    assert isinstance(answers, AnswersResult) and (answers.n_prompts, answers.n_answered) == (2, 2)


def test_0_1_stopped_becomes_stop_reason(tmp_path: Path) -> None:
    data = json.loads((V01 / "rse" / "results.json").read_text())
    data.update(complete=False, stopped="call budget of 3 reached")
    (tmp_path / "results.json").write_text(json.dumps(data))
    result = ds.load(tmp_path)
    assert result.complete is False and result.stop_reason == "call budget of 3 reached"


def holds(new: object, old: object) -> bool:
    """`new` says everything `old` said (it may add fields)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and holds(new[k], v) for k, v in old.items())
    if isinstance(old, list):
        return isinstance(new, list) and len(new) == len(old) and all(map(holds, new, old))
    return new == old


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    for name in ("ice-run", "ice-rescore-multi", "rse", "matrix", "answers"):
        old = json.loads((V01 / name / "results.json").read_text())
        result = ds.load(V01 / name)
        (tmp_path / name).mkdir()
        result.write(tmp_path / name)
        again = json.loads((tmp_path / name / "results.json").read_text())
        assert again["kind"] == result.kind and holds(again, old), name
        assert ds.load(tmp_path / name) == result.model_copy(
            update={"schema_version": again["schema_version"]}
        )


def test_to_frame_gives_the_verdicts_and_judgments() -> None:
    frame = ds.load(V01 / "ice-rescore").to_frame()
    assert list(frame["index"]) == list(range(6)) and frame["loose"].sum() == 3
    judgments = ds.load(V01 / "rse").to_frame()
    assert {"model", "dataset", "prompt_id", "overall", "aspects.style"} <= set(judgments.columns)
    assert len(judgments) == 10


def test_unknown_kinds_and_bad_fields_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"kind": "nope"}')
    with pytest.raises(UserError, match=r"field 'kind': unknown result kind 'nope'"):
        ds.load(tmp_path)
    (tmp_path / "results.json").write_text('{"kind": "matrix", "models": ["a"], "scores": "x"}')
    with pytest.raises(UserError, match=r"results.json: field 'scores'"):
        ds.load(tmp_path)
    with pytest.raises(UserError, match="no such file or directory"):
        ds.load(tmp_path / "absent")
    log = tmp_path / "log.jsonl"  # a log of answers given where a run was meant: said so, not "invalid JSON"
    log.write_text('{"response": "a"}\n{"response": "b"}\n')
    with pytest.raises(
        UserError, match=r"log.jsonl: not a results file; give a run directory or its results.json"
    ):
        ds.load(log)


def _long_key(data: dict[str, object]) -> None:
    data["models"] = {"m" * 100_000: {"avg": {"score": "high"}}}


def _edited_run_is_refused(
    tmp_path: Path, run: str, edit: Callable[[dict[str, object]], None], message: str
) -> str:
    """Copy `run`, apply `edit` to its results.json, and check `ds.load` and `compare` both refuse it
    (`message` in the error; compare: exit 2, one line, no traceback). Returns compare's output."""
    from distillscope.cli import _register_optional, app

    shutil.copytree(V01 / run, tmp_path / "run")
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    edit(data)
    (tmp_path / "run" / "results.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match=rf"run/results.json: {message}"):
        ds.load(tmp_path / "run")
    _register_optional()
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "run")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    return str(result.output)


@pytest.mark.parametrize(
    ("run", "edit", "message"),
    [
        ("rse", lambda d: d.update(kind="ice"), r"field 'kind': 'ice', but its fields are those of the 'rse' kind "
         r"\(read as 'ice': field 'models.copy.target_identity': Field required\)"),
        ("ice-run", lambda d: d.update(kind="rse"), r"field 'kind': 'rse', but its fields are those of the 'ice' kind"),
        ("matrix", lambda d: d.update(kind="answers"), r"field 'kind': 'answers', but its fields are those of the "
         r"'matrix' kind"),
        ("rse", lambda d: d.update(kind="study"), r"field 'kind': 'study', but its fields are those of the 'rse' kind$"),
        ("ice-run", lambda d: d.update(kind="study"), r"field 'kind': 'study', but its fields are those of the 'ice' "
         r"kind$"),
        ("rse", lambda d: d.update(kind=["rse"]), r"field 'kind': expected the result kind as text \(answers, "
         r".*\), got list \['rse'\]"),
        ("rse", lambda d: d.update(kind="k" * 100_000), r"field 'kind': unknown result kind 'k{57}\.\.\.'"),
        ("rse", _long_key, r"field 'models.m{57}\.\.\..avg.score': Input should be a valid number"),
    ],
)  # fmt: skip
def test_a_kind_of_another_command_or_a_long_value_is_one_short_clear_line(
    tmp_path: Path, run: str, edit: Callable[[dict[str, object]], None], message: str
) -> None:
    """An RSE results.json marked `"kind": "ice"` said only `field 'models.copy.target_identity':
    Field required`; a `kind` that is a list was shown as `unknown result kind '['rse']'`; and a
    100,000-character kind, version or key was echoed whole, one line of 100,000 characters. The
    line now says which kind the fields are, and every echoed value or key is cut to 60 characters."""
    output = _edited_run_is_refused(tmp_path, run, edit, message)
    assert len(output) < 400 + len(str(tmp_path))


def test_a_new_kind_plugs_into_load(tmp_path: Path) -> None:
    @register
    class ExampleResult(Result):
        kind: Literal["example-kind"] = "example-kind"
        value: int

    try:
        ExampleResult(value=3).write(tmp_path)
        loaded = ds.load(tmp_path)
        assert isinstance(loaded, ExampleResult) and loaded.value == 3 and loaded.path == tmp_path
    finally:
        KINDS.pop("example-kind")


def test_committed_schema_files_match_the_models() -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "docs" / "schema").glob("*.json")}
    assert committed == schemas(), "regenerate with: python -m distillscope.results.schema docs/schema"


def test_fixtures_are_untouched_0_1_files(tmp_path: Path) -> None:
    copy = tmp_path / "ice"
    shutil.copytree(V01 / "ice-run", copy)
    assert "kind" not in json.loads((copy / "results.json").read_text())


def test_a_newer_major_schema_version_is_refused_with_its_field(tmp_path: Path) -> None:
    data = json.loads((V01 / "answers" / "results.json").read_text())
    data.update(kind="answers", schema_version="9.0")
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(
        UserError, match=r"results.json: field 'schema_version': version 9.0 .* newer distillscope"
    ):
        ds.load(tmp_path)
    data["schema_version"] = "banana"
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"field 'schema_version': expected MAJOR.MINOR"):
        ds.load(tmp_path)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("\u00b2.0", r"expected MAJOR.MINOR \(e.g. '1.0'\), got '\u00b2.0'"),  # '²'.isdigit() is True
        ("9" * 5000 + ".0", r"version 9{57}\.\.\. was written by a newer distillscope"),
        ("0001.3", None),  # leading zeros: still major 1
    ],
)
def test_a_schema_version_int_cannot_read_is_a_one_line_error(
    tmp_path: Path, version: str, message: str | None
) -> None:
    """`"schema_version": "².0"` (a digit to `str.isdigit`, not to `int`) and a major of 5,000
    digits (over Python's 4,300-digit limit) were a ValueError traceback from `report`, `compare`
    and `ds.load`; they are one line naming the field, the long version cut to 60 characters."""
    from distillscope.cli import _register_optional, app

    data = json.loads((V01 / "answers" / "results.json").read_text())
    data.update(kind="answers", schema_version=version)
    (tmp_path / "results.json").write_text(json.dumps(data))
    if message is None:
        assert ds.load(tmp_path).schema_version == version
        return
    with pytest.raises(UserError, match=rf"results.json: field 'schema_version': {message}"):
        ds.load(tmp_path)
    _register_optional()
    result = CliRunner().invoke(app, ["compare", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and len(result.output) < 300 + len(str(tmp_path))


def test_a_newer_minor_schema_version_is_read_and_its_new_fields_kept(tmp_path: Path) -> None:
    data = json.loads((V01 / "answers" / "results.json").read_text())
    data.update(kind="answers", schema_version="1.7", added_in_1_7={"x": 1})
    (tmp_path / "results.json").write_text(json.dumps(data))
    result = ds.load(tmp_path)
    assert isinstance(result, AnswersResult) and result.schema_version == "1.7"
    assert result.model_dump()["added_in_1_7"] == {"x": 1}


def test_unknown_fields_are_kept_in_nested_records_too(tmp_path: Path) -> None:
    from distillscope.rse.attribution.types import AttributionResult, FamilyProbability, ModelAttribution
    from distillscope.rse.banks.types import BankSummary, LeftOut

    prob = FamilyProbability(score=0.6, ci95=(0.5, 0.7), p_value=0.01, p_holm=0.02)
    attribution = AttributionResult(
        families=["a", "b"],
        members={"a": ["m1"], "b": ["m2"]},
        models={"t": ModelAttribution(predicted="a", probabilities={"a": prob, "b": prob}, n=4, n_prompts=2)},
        bank=BankSummary(
            source="bank", layout="fastchat", models=3, families={"a": ["m1"], "b": ["m2"]},
            left_out=[LeftOut(model="m3", reason="why")],
        ),
    )  # fmt: skip
    (tmp_path / "attr").mkdir()
    attribution.write(tmp_path / "attr")
    data = json.loads((tmp_path / "attr" / "results.json").read_text())
    data["models"]["t"]["new_model_field"] = 1
    data["models"]["t"]["probabilities"]["a"]["new_probability_field"] = 2
    data["bank"]["new_bank_field"] = 3
    data["bank"]["left_out"][0]["new_left_out_field"] = 4
    (tmp_path / "attr" / "results.json").write_text(json.dumps(data))
    again = ds.load(tmp_path / "attr").model_dump(mode="json")
    assert again["models"]["t"]["new_model_field"] == 1
    assert again["models"]["t"]["probabilities"]["a"]["new_probability_field"] == 2
    assert again["bank"]["new_bank_field"] == 3 and again["bank"]["left_out"][0]["new_left_out_field"] == 4

    ice = json.loads((V01 / "ice-run" / "results.json").read_text())
    ice["target_identity"]["new_identity_field"] = 5
    (tmp_path / "results.json").write_text(json.dumps(ice))
    assert ds.load(tmp_path).model_dump(mode="json")["target_identity"]["new_identity_field"] == 5


def test_a_result_keeps_its_run_directory_when_the_working_directory_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ds.load("runs/x")` (or a run written to a relative `out=`) remembered the relative path: after
    `os.chdir` its `to_frame()` read `runs/x` of the new folder, another run's records, or failed."""
    for folder, fixture in (("a", "ice-rescore"), ("b", "ice-run")):
        shutil.copytree(V01 / fixture, tmp_path / folder / "runs" / "x")
    monkeypatch.chdir(tmp_path / "a")
    loaded = ds.load("runs/x")
    written = ds.load("runs/x")
    Path("runs/y").mkdir()
    written.write(Path("runs/y"))
    shutil.copy(Path("runs/x/verdicts.jsonl"), Path("runs/y/verdicts.jsonl"))
    expected = loaded.to_frame()
    monkeypatch.chdir(tmp_path / "b")  # holds runs/x too: ice-run's 12 verdicts, not these 6
    for result in (loaded, written):
        assert result.to_frame().equals(expected)
        assert result.path is not None and result.path.is_absolute()


def test_a_linked_results_file_reads_the_records_beside_the_file_it_links_to(tmp_path: Path) -> None:
    """`ds.load(link)` of a link to a run's results.json took the link's folder as the run directory:
    `to_frame()` read the verdicts.jsonl lying there (another run's) or found none."""
    shutil.copytree(V01 / "ice-rescore", tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(V01 / "ice-run" / "verdicts.jsonl", elsewhere / "verdicts.jsonl")
    (elsewhere / "link.json").symlink_to(tmp_path / "run" / "results.json")
    linked = ds.load(elsewhere / "link.json")
    assert linked.path == (tmp_path / "run").resolve()
    assert linked.to_frame().equals(ds.load(tmp_path / "run").to_frame())


@pytest.mark.parametrize(
    ("run", "edit", "message"),
    [
        ("ice-run", lambda d: d.update(complete="no"),
         r"field 'complete': Input should be a valid boolean, got text 'no'"),
        ("ice-run", lambda d: d.update(n_judged="6"), r"field 'n_judged': Input should be a valid integer, got text '6'"),
        ("ice-run", lambda d: d["scores"]["loose"].update(n="6"),
         r"field 'scores.loose.n': Input should be a valid integer, got text '6'"),
        ("ice-run", lambda d: d["scores"]["loose"].update(score="0.5"),
         r"field 'scores.loose.score': Input should be a valid number, got text '0.5'"),
        ("rse", lambda d: d.update(complete="true"), r"field 'complete': Input should be a valid boolean, got text"),
    ],
)  # fmt: skip
def test_numbers_and_yes_no_given_as_text_are_refused_naming_the_field(
    tmp_path: Path, run: str, edit: Callable[[dict[str, object]], None], message: str
) -> None:
    """Lax validation read a hand-edited `"complete": "no"` as false and `"n": "6"` as 6, so a file
    that no run wrote was shown as if one had. It is exit 2 with one line naming the file and field."""
    assert "results.json: field '" in _edited_run_is_refused(tmp_path, run, edit, message)


def test_a_key_given_twice_in_results_json_is_refused_at_its_line(tmp_path: Path) -> None:
    shutil.copytree(V01 / "ice-run", tmp_path / "run")
    file = tmp_path / "run" / "results.json"
    text = file.read_text()
    file.write_text(text.replace('"n_responses": ', '"n_responses": 1, "n_responses": ', 1))
    with pytest.raises(UserError, match=r"results.json:\d+: field 'n_responses': given twice"):
        ds.load(tmp_path / "run")
