"""Verdict probabilities: the default table, calibration files (and their bad forms), and fitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distillscope.errors import UserError
from distillscope.ice.probability import (
    CALIBRATION_FORMAT,
    DEFAULT,
    Calibration,
    doubt_p,
    fit_calibration,
    load_calibration,
)
from distillscope.ice.types import Verdict

probability = st.floats(min_value=0.0, max_value=1.0)
table = st.fixed_dictionaries({k: probability for k in ("yes_sure", "yes_unsure", "no_sure", "no_unsure")})


@given(table, table, st.booleans(), st.booleans(), st.booleans())
def test_probabilities_agree_with_the_booleans(
    loose_t: dict[str, float], strict_t: dict[str, float], loose: bool, strict: bool, sure: bool
) -> None:
    strict = strict and loose
    p_loose, p_strict = Calibration(loose_t, strict_t).probabilities(loose, strict, sure)
    assert (p_loose >= 0.5) == loose and (p_strict >= 0.5) == strict
    assert 0.0 <= p_strict <= p_loose <= 1.0
    Verdict(loose=loose, strict=strict, judge="t", p_loose=p_loose, p_strict=p_strict)  # within the contract


def test_unsure_answers_sit_nearer_one_half_than_sure_ones() -> None:
    assert abs(DEFAULT.probabilities(True, True, False)[0] - 0.5) < abs(
        DEFAULT.probabilities(True, True, True)[0] - 0.5
    )
    assert doubt_p(Verdict(loose=True, strict=False, judge="r", unsure=True)) == 0.6
    assert doubt_p(Verdict(loose=None, strict=None, judge="r")) == 0.5
    assert doubt_p(Verdict(loose=False, strict=False, judge="r", p_loose=0.2, p_strict=0.1)) == 0.2


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_fitted_calibration_round_trips_through_its_file(tmp_path: Path) -> None:
    # 10 sure yes answers, 8 of them right; 4 unsure no answers, 2 of them wrong (weight 1 each)
    rows = [(True, True, True, i < 8, i < 8, 1.0) for i in range(10)]
    rows += [(False, False, False, i < 2, False, 1.0) for i in range(4)]
    calibration, counts = fit_calibration(rows)
    assert calibration.loose["yes_sure"] == pytest.approx((8 + 0.95) / 11)
    assert calibration.loose["no_unsure"] == pytest.approx((2 + 0.4) / 5)
    assert counts["loose"]["yes_sure"] == 10
    path = write(tmp_path / "cal.json", calibration.to_json(judge="llm:x", n=counts))
    loaded = load_calibration(path)
    assert loaded.loose == calibration.loose and loaded.calibrated


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": CALIBRATION_FORMAT, "version": 2, "loose": {}, "strict": {}}, "version 2"),
        # true == 1 in Python: a file that says "version": true is not version 1
        (
            {"format": CALIBRATION_FORMAT, "version": True, "loose": DEFAULT.loose, "strict": DEFAULT.strict},
            "version True",
        ),
        ({"format": "something-else", "version": 1}, "not a judge calibration"),
        (
            {"format": CALIBRATION_FORMAT, "version": 1, "loose": {"yes_sure": 0.9}, "strict": {}},
            "field 'loose'",
        ),
        (
            {
                "format": CALIBRATION_FORMAT,
                "version": 1,
                "loose": {"yes_sure": 1.5, "yes_unsure": 0.6, "no_sure": 0.1, "no_unsure": 0.4},
                "strict": DEFAULT.strict,
            },
            "loose.yes_sure",
        ),
    ],
)
def test_bad_calibration_files_name_the_file(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path / "cal.json", data)
    with pytest.raises(UserError, match=message) as err:
        load_calibration(path)
    assert str(path) in str(err.value)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match=r"corrupt\.json: the judge calibration is not JSON"):
        load_calibration(corrupt)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
        (
            '{"format": "distillscope.judge-calibration", "version": ' + "1" * 5000 + "}",
            "a number of over 4,300 digits",
        ),
    ],
)
def test_a_calibration_nested_too_deep_or_with_a_number_too_long_is_one_line(
    tmp_path: Path, text: str, says: str
) -> None:
    """`--judge-calibration` with a file nested 100,000 deep was a RecursionError traceback, and one
    with a 5,000-digit number a ValueError traceback; both are now exit 2 and one line naming the
    file, before the run directory is made or any call sent."""
    from typer.testing import CliRunner

    from distillscope.cli import _register_optional, app

    _register_optional()
    path = tmp_path / "cal.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=rf"cal\.json: the judge calibration is not JSON \({says}\)"):
        load_calibration(path)
    log = tmp_path / "log.jsonl"
    log.write_text(
        json.dumps({"jailbreak_prompt": "{query}", "query": "Who?", "response": "I am GLM."}) + "\n"
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["ice", "rescore", str(log), "--target-org", "Zhipu AI", "--judge", "openai-compatible:j@http://127.0.0.1:9/v1",
              "--judge-calibration", str(path), "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines() == [
        f"error: {path}: the judge calibration is not JSON ({says})"
    ]
    assert not out.exists()


def test_a_calibration_cell_given_twice_is_refused(tmp_path: Path) -> None:
    """`"yes_sure": 0.9, ..., "yes_sure": 0.2` in a hand-edited calibration: json kept the last value
    without a word, so which probability the judge's sure yes answers got was luck."""
    text = json.dumps(
        {"format": CALIBRATION_FORMAT, "version": 1, "loose": DEFAULT.loose, "strict": DEFAULT.strict}
    )
    path = tmp_path / "cal.json"
    path.write_text(text.replace('"yes_unsure"', '"yes_sure": 0.2, "yes_unsure"', 1), encoding="utf-8")
    with pytest.raises(UserError, match=r"cal\.json: field 'yes_sure': given twice"):
        load_calibration(path)
