"""`ice audit sample` and `ice audit score` through the CLI: a stratified draw with everything a
person needs to label it, the weighted scores of both judges, and one-line errors for bad files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import sample_by_doubt

CLAIM = "I am ChatGPT, a model made by OpenAI."
TRUE = "I am GLM, developed by Zhipu AI."
# (response, recorded loose, recorded strict, rows): the rules judge says yes exactly for CLAIM
DESIGN = [(CLAIM, True, True, 10), (TRUE, True, False, 5), (TRUE, False, False, 5), (CLAIM, False, False, 3)]
POPULATION = {"L11": 10, "L01": 5, "L00": 5, "L10": 3}  # L<rules><recorded>


def write_log(path: Path) -> None:
    rows = [
        {"model": "glm-4-plus", "target_org": "Zhipu AI", "jailbreak_prompt": "Hi {query}", "query": "Who made you?",
         "response": text, "loose": loose, "strict": strict}
        for text, loose, strict, count in DESIGN for _ in range(count)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fill(path: Path, rows: list[dict[str, Any]]) -> None:
    """A careful person's labels: the ChatGPT claim is a loose and strict contradiction, GLM is not."""
    for row in rows:
        row["label_loose"] = row["label_strict"] = row["response"] == CLAIM
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def rules_run(tmp_path: Path, cli: Callable[..., Any]) -> Path:
    log = tmp_path / "log.jsonl"
    write_log(log)
    out = tmp_path / "rules"
    result = cli("ice", "rescore", log, "--judge", "rules", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def test_sample_against_recorded_labels_then_score(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    result = cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", audit)
    assert result.exit_code == 0, result.output
    rows = read(audit)
    assert len(rows) == 8 and {r["stratum"] for r in rows} == set(POPULATION)
    assert all(sum(r["stratum"] == s for r in rows) == 2 for s in POPULATION)  # the same number per stratum
    row = rows[0]
    assert row["strata_pop"] == POPULATION and row["model_strata_pop"] == POPULATION
    assert row["label_loose"] is None and row["label_strict"] is None
    assert row["query"] == "Who made you?" and row["response"] in (CLAIM, TRUE)
    assert row["true_identity"]["organisation"] == "Zhipu AI"
    assert row["judges"]["a"]["judge"] == "rules" and row["judges"]["b"]["judge"] == "recorded"
    assert row["judges"]["a"]["loose"] == (row["response"] == CLAIM)
    assert row["stratum"] == f"L{int(row['judges']['a']['loose'])}{int(row['judges']['b']['loose'])}"
    # seeded: the same draw again
    again = tmp_path / "again.jsonl"
    assert (
        cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", again).exit_code
        == 0
    )
    assert read(again) == rows

    fill(audit, rows)
    figures = tmp_path / "figures.json"
    result = cli("ice", "audit", "score", audit, "--json", figures, "--resamples", "200")
    assert result.exit_code == 0, result.output
    assert "8 labelled rows weighted to 23 responses" in result.output
    rules, recorded = json.loads(figures.read_text(encoding="utf-8"))
    assert rules["judge"] == "rules" and rules["loose"]["accuracy"]["value"] == 1.0
    # the recorded labels are wrong on L01 and L10, right on L11 and L00: (10 + 5) / 23
    assert recorded["loose"]["accuracy"]["value"] == pytest.approx(15 / 23, abs=1e-6)
    assert recorded["loose"]["rate"]["value"] == pytest.approx(15 / 23, abs=1e-6)
    assert rules["loose"]["reference_rate"]["value"] == pytest.approx(13 / 23, abs=1e-6)
    assert rules["groups"][0]["group"] == "glm-4-plus"
    assert (
        "rules: loose accuracy 1.000" in result.output and "recorded: loose accuracy 0.652" in result.output
    )


def test_sample_against_another_run(tmp_path: Path, cli: Callable[..., Any], rules_run: Path) -> None:
    other = tmp_path / "recorded"
    log = tmp_path / "log.jsonl"
    assert cli("ice", "rescore", log, "--judge", "recorded", "--out", other, "-q").exit_code == 0
    audit = tmp_path / "audit.jsonl"
    result = cli(
        "ice", "audit", "sample", rules_run, "--against", other, "--n", "12", "--out", audit, "--seed", "3"
    )
    assert result.exit_code == 0, result.output
    rows = read(audit)
    assert len(rows) == 12 and rows[0]["strata_pop"] == POPULATION
    assert (
        sum(r["stratum"] == "L10" for r in rows) == 3
    )  # a stratum of 3 gives all it has; the rest is shared


def test_bad_and_half_filled_audit_files_are_one_line_errors(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    audit = _sample(tmp_path, cli, rules_run)
    rows = read(audit)

    def check(lines: list[str], message: str) -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        result = cli("ice", "audit", "score", bad)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1

    filled = [dict(r, label_loose=True, label_strict=False) for r in rows]
    as_lines = [json.dumps(r) for r in filled]
    check(
        [*as_lines[:3], json.dumps(rows[3]), *as_lines[4:]],
        "bad.jsonl:4: field 'label_loose': not labelled yet",
    )
    check([*as_lines[:2], "{not json", *as_lines[3:]], "bad.jsonl:3: not JSON")
    check(
        [json.dumps(dict(filled[0], label_loose=False, label_strict=True))],
        "field 'label_strict': true needs",
    )
    check([json.dumps(dict(filled[0], label_loose="maybe"))], "field 'label_loose': expected true or false")
    check(
        [as_lines[0], json.dumps(dict(filled[1], strata_pop={"L11": 1}))], "bad.jsonl:2: field 'strata_pop'"
    )
    check([json.dumps(dict(filled[0], stratum="L99"))], "field 'stratum': 'L99' is not one of")
    check(as_lines[:1], "rows in the run but no row in this file")  # one row cannot stand for every stratum
    check([], "no rows")


def test_sample_input_errors(tmp_path: Path, cli: Callable[..., Any], rules_run: Path) -> None:
    out = tmp_path / "a.jsonl"
    for args, message in [
        (["--n", "8"], "exactly one of --against"),
        (["--labels", "recorded", "--against", rules_run], "exactly one of --against"),
        (["--labels", "gold"], "--labels 'gold'"),
        (["--labels", "recorded", "--n", "2"], "at least 4 needed"),
    ]:
        result = cli("ice", "audit", "sample", rules_run, *args, "--out", out)
        assert result.exit_code == 2 and message in result.output, result.output
    result = cli("ice", "audit", "sample", tmp_path, "--labels", "recorded", "--out", out)
    assert result.exit_code == 2 and "not a run directory" in result.output


def test_sample_two_ice_runs_of_the_same_target(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, Any]
) -> None:
    """`ice run` directories: the texts come from responses.jsonl."""
    target = f"openai-compatible:glm-4-plus@{servers['target'].url}"
    common = ["ice", "run", "--target", target, "--mode", "grid", "--budget", "12", "--languages", "en", "-q"]
    assert cli(*common, "--out", tmp_path / "rules").exit_code == 0
    judge = f"openai-compatible:judge@{servers['judge'].url}"
    assert cli(*common, "--judge", judge, "--out", tmp_path / "llm").exit_code == 0
    audit = tmp_path / "audit.jsonl"
    result = cli(
        "ice",
        "audit",
        "sample",
        tmp_path / "rules",
        "--against",
        tmp_path / "llm",
        "--n",
        "6",
        "--out",
        audit,
    )
    assert result.exit_code == 0, result.output
    rows = read(audit)
    responses = {r["index"]: r for r in read(tmp_path / "rules" / "responses.jsonl")}
    assert rows and all(r["response"] == responses[r["index"]]["response"] for r in rows)
    assert all(r["judges"]["b"]["judge"] == "llm:judge" and r["model"] == "glm-4-plus" for r in rows)
    assert sum(rows[0]["strata_pop"].values()) == 12


def _one_line_error(cli: Callable[..., Any], path: Path, lines: list[str], message: str) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = cli("ice", "audit", "score", path, "--resamples", "200")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def _sample(tmp_path: Path, cli: Callable[..., Any], rules_run: Path) -> Path:
    """An audit sample of 8 rows of the rules run (labels as recorded), unfilled."""
    audit = tmp_path / "audit.jsonl"
    assert (
        cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", audit).exit_code
        == 0
    )
    return audit


def _labelled_sample(tmp_path: Path, cli: Callable[..., Any], rules_run: Path) -> list[dict[str, Any]]:
    """An audit sample of 8 rows of the rules run, labelled (a contradiction is the claim's answer)."""
    audit = _sample(tmp_path, cli, rules_run)
    return [
        dict(r, label_loose=r["response"] == CLAIM, label_strict=r["response"] == CLAIM) for r in read(audit)
    ]


def test_impossible_probabilities_are_refused_naming_line_and_field(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """A p outside [0, 1], NaN, true or text once moved the corrected rate (4.679 [4.642, 1.000]) or
    dropped it without a word; a missing strata_p on line 1 dropped it too."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    bad = tmp_path / "bad.jsonl"

    def edited(line: int, edit: Callable[[dict[str, Any]], None]) -> list[str]:
        copy = json.loads(json.dumps(rows))
        edit(copy[line - 1])
        return [json.dumps(r) for r in copy]

    def strata_p_five(r: dict[str, Any]) -> None:
        r["strata_p"]["L11"]["loose"] = 5.0

    _one_line_error(
        cli, bad, edited(1, strata_p_five), "bad.jsonl:1: field 'strata_p.L11.loose': expected a probability"
    )
    for value in (1.7, -3, float("nan"), True, "0.5", None):
        _one_line_error(
            cli, bad, edited(2, lambda r, v=value: r["judges"]["a"].__setitem__("p_loose", v)),
            "bad.jsonl:2: field 'judges.a.p_loose'",
        )  # fmt: skip
    _one_line_error(
        cli, bad, edited(3, lambda r: r["judges"]["a"].update(p_loose=0.1, p_strict=0.9)),
        "bad.jsonl:3: field 'judges.a.p_strict': 0.9 is above p_loose 0.1",
    )  # fmt: skip
    _one_line_error(
        cli, bad, edited(1, lambda r: r.pop("strata_p")), "bad.jsonl:2: field 'strata_p': differs"
    )
    _one_line_error(
        cli, bad, edited(4, lambda r: r.pop("strata_p")), "bad.jsonl:4: field 'strata_p': differs"
    )

    # an audit file without any probabilities (as `ice audit sample` wrote before them) still scores,
    # and says why it shows no corrected rate
    def older(r: dict[str, Any]) -> dict[str, Any]:
        r = json.loads(json.dumps(r))
        r.pop("strata_p")
        for verdict in r["judges"].values():
            verdict.pop("p_loose"), verdict.pop("p_strict"), verdict.pop("p_table", None)
        return r

    bad.write_text("".join(json.dumps(older(r)) + "\n" for r in rows), encoding="utf-8")
    result = cli("ice", "audit", "score", bad, "--resamples", "200")
    assert result.exit_code == 0, result.output
    assert "no rate corrected by the labels: the file records no strata_p" in result.output
    assert "rate corrected by the labels:" not in result.output.replace("no rate corrected", "")


def test_duplicate_and_surplus_rows_are_refused(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """The whole file twice once scored as n=16 of 23 with a narrower interval; a row repeated, an
    audit id twice, an index outside the run or more rows than a stratum's responses were counted."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    assert all(r["run_size"] == 23 for r in rows)
    lines = [json.dumps(r) for r in rows]
    bad = tmp_path / "bad.jsonl"
    _one_line_error(
        cli,
        bad,
        lines + lines,
        f"bad.jsonl:9: field 'index': response {rows[0]['index']} is already line 1's",
    )
    _one_line_error(cli, bad, [*lines, lines[4]], "bad.jsonl:9: field 'index'")
    _one_line_error(
        cli, bad, [*lines[:7], json.dumps(dict(rows[7], aid=rows[0]["aid"]))], "bad.jsonl:8: field 'aid'"
    )
    _one_line_error(
        cli, bad, [*lines[:7], json.dumps(dict(rows[7], index=999))],
        "bad.jsonl:8: field 'index': 999 is not a response of the run (its responses are 0 to 22)",
    )  # fmt: skip
    _one_line_error(
        cli, bad, [*lines[:7], json.dumps(dict(rows[7], index=True))], "bad.jsonl:8: field 'index'"
    )
    _one_line_error(
        cli, bad, [*lines[:7], json.dumps(dict(rows[7], inclusion_p="x"))], "bad.jsonl:8: field 'inclusion_p'"
    )
    # L10 has 3 responses in the run: a fourth row of it (responses not in the file) is one too many
    used = {r["index"] for r in rows}
    free = [i for i in range(23) if i not in used]
    l10 = next(r for r in rows if r["stratum"] == "L10")
    extra = [json.dumps(dict(l10, index=free[k], aid=f"x{k}")) for k in range(2)]
    _one_line_error(
        cli, bad, lines + extra, "bad.jsonl:10: field 'stratum': row 4 of stratum 'L10', which has 3"
    )
    _one_line_error(
        cli,
        bad,
        [json.dumps(dict(rows[0], strata_pop=dict(POPULATION, L11=True)))],
        "bad.jsonl:1: field 'strata_pop'",
    )


def test_an_audit_file_saved_with_a_byte_order_mark_reads(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    audit = _sample(tmp_path, cli, rules_run)
    fill(audit, read(audit))
    plain = cli("ice", "audit", "score", audit, "--resamples", "200")
    audit.write_bytes(b"\xef\xbb\xbf" + audit.read_bytes())
    result = cli("ice", "audit", "score", audit, "--resamples", "200")
    assert result.exit_code == 0, result.output
    assert result.output == plain.output


def test_recorded_labels_have_no_expected_rate_of_their_own(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """The recorded judge gives no probabilities: the doubt table's 0.05 / 0.95 place its answers in
    strata (marked `p_table`) and may serve the corrected rate, but their mean is no expected rate."""
    log = tmp_path / "log.jsonl"
    write_log(log)
    audit = sample_by_doubt(cli, log, tmp_path, 6, "--judge", "recorded")
    rows = read(audit)
    assert all(r["judges"]["a"]["p_table"] is True for r in rows)
    fill(audit, rows)
    figures = tmp_path / "figures.json"
    result = cli("ice", "audit", "score", audit, "--resamples", "200", "--json", figures)
    assert result.exit_code == 0, result.output
    assert "loose rate corrected by the labels" in result.output
    assert "expected rate" not in result.output.replace("no expected rate of the judge's own", "")
    corrected = json.loads(figures.read_text(encoding="utf-8"))[0]["corrected_rates"]
    assert [c["judge_expected"] for c in corrected] == [None, None]


def test_sample_out_is_refused_like_every_other_output(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """`--out` a directory was an IsADirectoryError traceback, and a missing folder was created on the
    way while `audit score --json` refused it; both are now the same one line, nothing left behind."""
    folder = tmp_path / "folder"
    folder.mkdir()
    result = cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", folder)
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == f"error: {folder}: cannot write: Is a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["folder", "log.jsonl", "rules"])
    missing = tmp_path / "no" / "such" / "audit.jsonl"
    result = cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", missing)
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == f"error: {missing}: cannot write: No such file or directory"
    assert not (tmp_path / "no").exists()
    audit = _sample(tmp_path, cli, rules_run)
    fill(audit, read(audit))
    scored = cli("ice", "audit", "score", audit, "--resamples", "200", "--json", tmp_path / "no" / "f.json")
    assert scored.exit_code == 2 and "cannot write: No such file or directory" in scored.output


def test_a_line_nested_too_deep_or_a_number_too_long_is_one_line(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """An audit line nested 100,000 deep was a RecursionError traceback, and one holding a number of
    5,000 digits a ValueError traceback (int's 4,300-digit limit), from `ice audit score`; a run's
    results.json nested too deep was the same traceback from `ice audit sample`."""
    first = json.dumps(_labelled_sample(tmp_path, cli, rules_run)[0])
    _one_line_error(
        cli,
        tmp_path / "deep.jsonl",
        [first, "[" * 100_000 + "]" * 100_000],
        "deep.jsonl:2: not JSON (nested too deep)",
    )
    long_number = first.replace('"index": ', '"index": ' + "9" * 5000 + ', "was_index": ', 1)
    _one_line_error(
        cli, tmp_path / "long.jsonl", [long_number], "long.jsonl:1: not JSON (a number of over 4,300 digits)"
    )
    (rules_run / "results.json").write_text(
        '{"judge": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8"
    )
    result = cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--out", tmp_path / "a.jsonl")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines() == [
        f"error: {rules_run / 'results.json'}: nested more than 100 levels deep"
    ]
    assert not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize("field", ["label_loose", "stratum", "index", "aid", "p_loose"])
def test_a_huge_value_is_cut_in_the_one_line_error(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path, field: str
) -> None:
    """A 100,000-character value in an audit file was echoed whole in its error: one line, but of
    100,000 characters. It is cut as every other reader cuts what it quotes."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    huge = "x" * 100_000
    if field == "p_loose":
        rows[0]["judges"]["a"]["p_loose"] = huge
    else:
        rows[0][field] = [huge] if field == "aid" else huge
    path = tmp_path / "huge.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = cli("ice", "audit", "score", path, "--resamples", "200")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output[:500]
    assert len(result.output.strip().splitlines()) == 1 and len(result.output) < 600, result.output[:500]
    assert "huge.jsonl:1:" in result.output and "x" * 50 in result.output and "..." in result.output


def test_model_strata_sizes_and_a_judge_without_verdicts_in_a_stratum_are_located(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """`model_strata_pop` weights the per-model figures: `"L11": 1000` (of 10) was taken, and a
    stratum not in the design, or judge b's verdicts set to null over a whole stratum, stopped the
    score with `stratum 'L11' has 10 rows but no labelled row with a verdict`, naming no file."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    bad = tmp_path / "bad.jsonl"

    def every_row(edit: Callable[[dict[str, Any]], None]) -> list[str]:
        copy = json.loads(json.dumps(rows))
        for row in copy:
            edit(row)
        return [json.dumps(r) for r in copy]

    _one_line_error(
        cli, bad, every_row(lambda r: r["model_strata_pop"].update(L11=1000)),
        "bad.jsonl:1: field 'model_strata_pop.L11': 1000 responses of stratum 'L11' for this model, but the "
        "stratum has 10",
    )  # fmt: skip
    _one_line_error(
        cli, bad, every_row(lambda r: r["model_strata_pop"].update(LX=3)),
        "bad.jsonl:1: field 'model_strata_pop': 'LX' is not one of the strata",
    )  # fmt: skip
    lines = every_row(lambda r: None)
    edited = json.loads(lines[1])
    edited["model_strata_pop"]["L00"] = 1
    _one_line_error(
        cli, bad, [lines[0], json.dumps(edited), *lines[2:]],
        "bad.jsonl:2: field 'model_strata_pop': differs from line 1's for model 'glm-4-plus'",
    )  # fmt: skip
    renamed = json.loads(lines[1])
    renamed["model"] = "another"  # its sizes are glm-4-plus's: two models, twice the run's responses
    _one_line_error(
        cli, bad, [lines[0], json.dumps(renamed), *lines[2:]],
        "bad.jsonl:2: field 'model_strata_pop.L11': the models' responses in stratum 'L11' add up to 20",
    )  # fmt: skip

    def no_verdict_of_b_in_l11(r: dict[str, Any]) -> None:
        if r["stratum"] == "L11":
            r["judges"]["b"].update(loose=None, strict=None)

    _one_line_error(
        cli, bad, every_row(no_verdict_of_b_in_l11),
        "bad.jsonl: judge b (recorded) has no verdict (loose null) on any row of stratum 'L11' (10 responses)",
    )  # fmt: skip


def test_a_verdicts_unsure_or_category_of_another_type_is_refused_not_guessed(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """`"unsure": "false"` was read by bool() as true: `ice audit calibrate` fitted the row into the
    unsure cell and `score` counted it unsure; a category that is not text became 'unknown'."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    bad = tmp_path / "bad.jsonl"
    for field, value in (("unsure", "false"), ("unsure", 0), ("category", ["other-vendor"])):
        copy = json.loads(json.dumps(rows))
        copy[2]["judges"]["a"][field] = value
        lines = [json.dumps(r) for r in copy]
        _one_line_error(cli, bad, lines, f"bad.jsonl:3: field 'judges.a.{field}': expected")
        result = cli("ice", "audit", "calibrate", bad, "--out", tmp_path / "cal.json")
        assert result.exit_code == 2 and f"bad.jsonl:3: field 'judges.a.{field}'" in result.output
        assert not (tmp_path / "cal.json").exists()


def test_a_key_given_twice_in_an_audit_row_is_refused(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """A label typed after the sampled `"label_loose": null` (`..., "label_loose": false}`) left two
    answers in one row, and json kept the last without a word: which label counted was luck."""
    rows = _labelled_sample(tmp_path, cli, rules_run)
    lines = [json.dumps(r) for r in rows]
    twice = json.dumps(dict(rows[1], label_loose=True, label_strict=False))[:-1] + ', "label_loose": false}'
    bad = tmp_path / "bad.jsonl"
    message = "bad.jsonl:2: field 'label_loose': given twice in one row"
    _one_line_error(cli, bad, [lines[0], twice, *lines[2:]], message)
    result = cli("ice", "audit", "calibrate", bad, "--out", tmp_path / "cal.json")
    assert result.exit_code == 2 and message in result.output, result.output


def test_sample_against_a_run_of_other_responses_is_refused(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """A second run over another log of as many rows (here the same rows in reverse order) has the
    same indices; it was taken, and each row paired the rules' verdict on one answer with judge b's
    on another (exit 0, strata of nothing)."""
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    reversed_log = tmp_path / "reversed.jsonl"
    reversed_log.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows)), encoding="utf-8")
    other = tmp_path / "other"
    assert cli("ice", "rescore", reversed_log, "--judge", "recorded", "--out", other, "-q").exit_code == 0
    audit = tmp_path / "audit.jsonl"
    result = cli("ice", "audit", "sample", rules_run, "--against", other, "--n", "8", "--out", audit)
    assert result.exit_code == 2, result.output
    assert f"{other}: response 3 is not {rules_run}'s (its response differs" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not audit.exists()


def test_sample_refuses_verdicts_that_are_not_the_runs(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """verdicts.jsonl cut short (15 of 23) was drawn from as the whole run, every weight wrong, and an
    index given twice (another run's line appended) kept the later verdict, both with exit 0; the
    check `report` makes of the file now refuses both, for the run and for --against."""
    verdicts = rules_run / "verdicts.jsonl"
    lines = verdicts.read_text(encoding="utf-8").splitlines()
    audit = tmp_path / "audit.jsonl"
    other = tmp_path / "recorded"
    assert (
        cli("ice", "rescore", tmp_path / "log.jsonl", "--judge", "recorded", "--out", other, "-q").exit_code
        == 0
    )
    for kept, says in (
        (lines[:15], "verdicts.jsonl: 15 verdicts for the 23 responses of results.json"),
        ([*lines, lines[22].replace('"index": 22', '"index": 0')], "verdicts.jsonl:24: index 0 again"),
    ):
        verdicts.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        for args in (
            [rules_run, "--labels", "recorded"],
            [other, "--against", rules_run],
        ):
            result = cli("ice", "audit", "sample", *args, "--n", "8", "--out", audit)
            assert result.exit_code == 2, result.output
            assert says in result.output and "not the verdicts behind" in result.output, result.output
            assert len(result.output.strip().splitlines()) == 1 and not audit.exists()


def test_no_audit_command_writes_over_a_labelled_audit_file(
    tmp_path: Path, cli: Callable[..., Any], rules_run: Path
) -> None:
    """`score a.jsonl --json a.jsonl`, `calibrate a.jsonl --out a.jsonl` and `sample` run again with
    the `--out` of the file just labelled replaced the person's labels with figures or an empty
    sample, exit 0. Each is now refused and the file is left byte for byte; an unlabelled sample
    may still be drawn again over itself."""
    audit = _sample(tmp_path, cli, rules_run)
    again = cli("ice", "audit", "sample", rules_run, "--labels", "recorded", "--n", "8", "--out", audit)
    assert again.exit_code == 0, again.output  # nothing labelled yet: drawn again
    fill(audit, read(audit))
    labelled = audit.read_bytes()
    for args in (
        ["score", audit, "--resamples", "200", "--json", audit],
        ["calibrate", audit, "--out", audit],
        ["sample", rules_run, "--labels", "recorded", "--n", "8", "--seed", "1", "--out", audit],
    ):
        result = cli("ice", "audit", *args)
        assert result.exit_code == 2, result.output
        assert f"{audit}: line 1 holds a filled-in label" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert audit.read_bytes() == labelled
