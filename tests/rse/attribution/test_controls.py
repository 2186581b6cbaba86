"""The decision calibrated on controls: its statistics, its wording, and `rse attribute --control`
end to end (synthetic replay files), including the bad inputs it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from distillscope.rse.attribution.analysis import control_warnings
from distillscope.rse.attribution.contrasts import ContrastScores, fit_contrasts
from distillscope.rse.attribution.controls import (
    ControlTest,
    FalsePositiveCheck,
    decide,
    judge_against,
    prediction_pvalue,
    wording,
)
from distillscope.rse.attribution.types import FamilyProbability, ModelAttribution

from ..conftest import invoke, read_results
from .conftest import docs, write_mt_bench


def test_prediction_pvalue_accounts_for_the_spread_between_models() -> None:
    tight = [0.10, 0.11, 0.09, 0.10, 0.12, 0.08, 0.10]
    wide = [-0.20, 0.40, -0.10, 0.30, 0.10, -0.05, 0.25]
    p_tight = prediction_pvalue(tight)
    p_wide = prediction_pvalue(wide)
    assert p_tight is not None and p_wide is not None
    assert p_tight < 0.001 < 0.2 < p_wide  # the same mean contrast, judged by how far the controls differ
    assert prediction_pvalue([0.5]) is None  # one control: no spread to test against
    assert prediction_pvalue([0.5, 0.5]) is None


def test_prediction_pvalue_is_calibrated_when_the_contrasts_share_the_model() -> None:
    """d_i = u_X - u_i: every contrast shares X's own effect. The prediction test stays at its level;
    an ordinary one-sample t-test over the d_i (which ignores the shared effect) would not."""
    from scipy.stats import ttest_1samp

    rng = np.random.default_rng(0)
    effects = rng.normal(size=(4000, 8))
    d = effects[:, :1] - effects[:, 1:] + rng.normal(scale=0.1, size=(4000, 7))
    hits = sum((p := prediction_pvalue(list(row))) is not None and p < 0.05 for row in d)
    naive = sum(ttest_1samp(row, 0.0, alternative="greater").pvalue < 0.05 for row in d)
    assert 0.04 < hits / 4000 < 0.06
    assert naive / 4000 > 0.2


def _fits(values: dict[str, float], controls: list[str], n_prompts: int = 20) -> ContrastScores:
    """Contrast scores where every classifier gives model m the probability values[m] at every prompt."""
    prompts = [f"p{i}" for i in range(n_prompts)]
    sets = [frozenset([c]) for c in controls] + [
        frozenset([a, b]) for i, a in enumerate(controls) for b in controls[i + 1 :]
    ]
    by_fit = {
        ("a", e): {m: dict.fromkeys(prompts, v) for m, v in values.items() if m in e or len(e) == 1}
        for e in sets
    }
    return ContrastScores(["a"], controls, by_fit, n_fits=0)


def test_a_model_far_above_the_controls_is_distilled_and_one_among_them_is_not() -> None:
    controls = [f"c{i}" for i in range(6)]
    values = {c: 0.40 + 0.02 * i for i, c in enumerate(controls)} | {"x": 0.9, "y": 0.45}
    fits = _fits(values, controls)
    far, among = judge_against("x", controls, fits), judge_against("y", controls, fits)
    assert far.n_prompts == 20 and far.p_t["a"] is not None and far.p_t["a"] < 0.01
    assert far.score["a"] == pytest.approx(0.9) and len(far.contrasts["a"]) == 6
    yes = decide(far, resembles="a", n_controls=6, alpha=0.05)
    no = decide(among, resembles="a", n_controls=6, alpha=0.05)
    assert yes.status == "distilled" and yes.distilled_from == "a" and yes.n_controls == 6
    assert yes.scores == {"a": pytest.approx(0.9)}
    assert "1/(6+1)" in (yes.reason or "") and "5 df" in (yes.reason or "")
    assert wording(yes).startswith("distilled from a (p = ") and "against 6 independent controls" in wording(
        yes
    )
    assert no.status == "resembles" and no.distilled_from is None and no.resembles == "a"
    assert wording(no) == "resembles a, but no more than independent models do"
    # a control plays the test model against the other five, each contrast from a classifier without both
    own = judge_against("c5", controls[:5], fits)
    assert len(own.contrasts["a"]) == 5 and all(v > 0 for v in own.contrasts["a"])


def test_no_controls_makes_no_claim_and_too_little_abstains() -> None:
    none = decide(None, resembles="a", n_controls=0, alpha=0.05)
    assert none.status == "no-controls" and none.distilled_from is None and none.resembles == "a"
    few = ControlTest({"a": 1.0}, {"a": [0.9, 1.0]}, {"a": 0.001}, n_prompts=3)
    abstain = decide(few, resembles="a", n_controls=2, alpha=0.05)
    assert abstain.status == "abstain" and abstain.distilled_from is None
    assert wording(abstain).startswith("abstain (3 prompt(s)")
    one = decide(None, resembles="a", n_controls=1, alpha=0.05)
    assert one.status == "abstain" and one.distilled_from is None


def test_the_contrast_classifiers_learn_a_family_against_independent_writing() -> None:
    """Generated text: a copy of family a's style against independent writers that mix both styles.
    The copy is called distilled from a; a control playing the test model is not."""
    family = [d for m in ("a1", "a2", "b1", "b2") for d in docs(m, m[0], 24, seed=3, family=m[0])]
    controls = [f"independent{i}" for i in range(5)]
    control_docs = {c: docs(c, None, 24, seed=3) for c in controls}
    fits = fit_contrasts(family, control_docs, {"copycat": docs("copycat", "a", 24, seed=3)})
    assert fits.n_fits == 5 * 2 * (5 + 10)  # folds x families x (each control, each pair) left out
    copy = decide(judge_against("copycat", controls, fits), resembles="a", n_controls=5, alpha=0.05)
    assert copy.status == "distilled" and copy.distilled_from == "a" and copy.p_value is not None
    for c in controls:
        own = judge_against(c, [o for o in controls if o != c], fits)
        assert decide(own, resembles="a", n_controls=4, alpha=0.05).status != "distilled"


def _args(folder: Path, out: Path, tests: list[str], controls: list[str], *extra: str) -> list[str]:
    args = ["rse", "attribute", "--dataset", f"mt={folder / 'question.jsonl'}", "--out", str(out), "--quiet"]
    for family, name in (("a", "a1"), ("a", "a2"), ("b", "b1"), ("b", "b2")):
        args += ["--family", f"{family}=replay:{folder / name}.jsonl"]
    args += [x for name in tests for x in ("--test", f"replay:{folder / name}.jsonl")]
    args += [x for name in controls for x in ("--control", f"replay:{folder / name}.jsonl")]
    return [*args, *extra]


WRITERS = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a", "neutral": None}
CONTROLS = [f"independent{i}" for i in range(5)]


def test_attribute_with_controls_decides_against_them(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS), n_prompts=24)
    out = tmp_path / "run"
    result = invoke(*_args(folder, out, ["copycat", "neutral"], CONTROLS, "--seed", "1"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    data = read_results(out)
    copy, neutral = data["models"]["copycat"]["decision"], data["models"]["neutral"]["decision"]
    assert copy["distilled_from"] == "a" and copy["status"] == "distilled" and copy["n_controls"] == 5
    assert 0 <= copy["p_value"] < 0.05
    assert neutral["distilled_from"] is None and neutral["status"] in ("resembles", "independent")
    for decision in (copy, neutral):  # each family's score with its n (24 prompts) and 95% interval
        assert set(decision["score_ci95"]) == set(decision["scores"]) == set(decision["score_n"])
        for family, (lo, hi) in decision["score_ci95"].items():
            assert lo <= decision["scores"][family] <= hi and decision["score_n"][family] == 24
    assert "copycat: distilled from a (p = " in text and "against 5 independent controls" in text
    # every control judged with itself left out: the run's own false-positive check
    assert set(data["controls"]) == set(CONTROLS)
    assert all(c["decision"]["n_controls"] == 4 for c in data["controls"].values())
    called = [c for c, r in data["controls"].items() if r["decision"]["status"] == "distilled"]
    assert f"false-positive check: {len(called)} of 5 controls" in text
    assert any("can never go below 1/(5+1)" in w for w in data["warnings"])
    roles = {json.loads(line)["role"] for line in (out / "responses.jsonl").read_text().splitlines()}
    assert roles == {"family", "test", "control"}
    assert data["settings"]["controls"] and len(data["settings"]["controls"]) == 5


def test_without_controls_no_distilled_claim_and_a_warning(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS, n_prompts=16)
    out = tmp_path / "run"
    result = invoke(*_args(folder, out, ["copycat"], []))
    assert result.exit_code == 0, result.output
    data = read_results(out)
    decision = data["models"]["copycat"]["decision"]
    assert decision["status"] == "no-controls" and decision["distilled_from"] is None
    assert decision["resembles"] == "a" and data["controls"] == {}
    assert any("no control models (--control)" in w for w in data["warnings"])
    text = " ".join(result.output.split())
    assert "copycat: resembles a" in text and "copycat: distilled" not in text


@pytest.mark.parametrize(
    ("tests", "controls", "message"),
    [
        (["copycat"], ["a1", "independent0"], "--control a1: it is also a family member"),
        (["copycat"], ["copycat", "independent0"], "--control copycat: it is also a --test model"),
        (["copycat"], ["independent0"], "--control independent0: a single control is too few"),
        (["copycat"], ["independent0", "elsewhere"], "--control elsewhere:"),
        # a renamed copy of a family member's or a test's file passes the checks by name
        (["copycat"], ["independent0", "copy-of-a1"], "--control copy-of-a1: it gives the same answers as family member 'a1'"),
        (["copycat"], ["independent0", "copy-of-copycat"], "--control copy-of-copycat: it gives the same answers as --test model 'copycat'"),
        (["copycat"], ["independent0", "copy-of-independent0"], "--control copy-of-independent0: it gives the same answers as --control 'independent0'"),
        (["copycat"], ["independent0", "blank"], "--control blank: no answer for any of the 16 prompt turns (8 empty, 8 earlier turn has no answer)"),
        # a test model that is a family member's file by another name or path was attributed to that family
        (["copy-of-a1"], [], "--test copy-of-a1: it gives the same answers as family member 'a1'"),
        (["copycat", "link-to-b2"], ["independent0", "independent1"], "--test link-to-b2: it gives the same answers as family member 'b2'"),
    ],
)  # fmt: skip
def test_bad_controls_are_one_line_errors_and_write_no_result(
    tmp_path: Path, tests: list[str], controls: list[str], message: str
) -> None:
    folder = write_mt_bench(
        tmp_path / "answers", WRITERS | {"independent0": None, "independent1": None}, n_prompts=8
    )
    (folder / "link-to-b2.jsonl").symlink_to(folder / "b2.jsonl")
    other = write_mt_bench(tmp_path / "other", {"elsewhere": None}, n_prompts=3)
    rows = (other / "elsewhere.jsonl").read_text(encoding="utf-8").splitlines()
    shifted = [json.dumps(json.loads(r) | {"question_id": 1000 + i}) for i, r in enumerate(rows)]
    (folder / "elsewhere.jsonl").write_text(
        "\n".join(shifted) + "\n", encoding="utf-8"
    )  # answers other prompts
    for name in ("a1", "copycat", "independent0"):  # the same answers under another name (and other ids)
        rows = [
            json.loads(r) | {"answer_id": f"x{i}"} for i, r in enumerate((folder / f"{name}.jsonl").open())
        ]
        (folder / f"copy-of-{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    blank = [json.loads(r) for r in (folder / "independent0.jsonl").open()]
    (folder / "blank.jsonl").write_text(
        "".join(json.dumps(r | {"choices": [{"index": 0, "turns": ["", ""]}]}) + "\n" for r in blank)
    )  # a reply to every prompt, every one empty
    out = tmp_path / "run"
    result = invoke(*_args(folder, out, tests, controls))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in " ".join(result.output.split())
    assert not (out / "results.json").exists()


@pytest.mark.parametrize(
    ("family", "member", "message"),
    [
        # the same answers twice in one family: a1 left out was still in training as its twin
        ("a", "copy-of-a1", "family member 'copy-of-a1' (family a): it gives the same answers to the 8 selected prompts as family member 'a1' (family a)"),
        # one writer in two families
        ("b", "copy-of-a1", "family member 'copy-of-a1' (family b): it gives the same answers to the 8 selected prompts as family member 'a1' (family a)"),
        ("a", "link-to-b2", "family member 'b2' (family b): it gives the same answers to the 8 selected prompts as family member 'link-to-b2' (family a)"),
    ],
)  # fmt: skip
def test_a_family_member_giving_another_members_answers_is_refused(
    tmp_path: Path, family: str, member: str, message: str
) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS, n_prompts=8)
    (folder / "link-to-b2.jsonl").symlink_to(folder / "b2.jsonl")
    rows = [json.loads(r) | {"answer_id": f"x{i}"} for i, r in enumerate((folder / "a1.jsonl").open())]
    (folder / "copy-of-a1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    result = invoke(
        *_args(folder, out, ["copycat"], [], "--family", f"{family}=replay:{folder / member}.jsonl")
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in " ".join(result.output.split())
    assert not (out / "results.json").exists()


def test_beating_the_controls_for_several_families_names_none_without_a_lean() -> None:
    """A model unlike every independent control can beat them for two families at once: with no
    significant lean to one of them over prompts, no family is named, and the wording does not say
    'no more than independent models do'."""
    test = ControlTest(
        {"a": 0.9, "b": 0.8}, {"a": [0.5, 0.52, 0.48], "b": [0.4, 0.42, 0.38]}, {"a": 0.001, "b": 0.002}, 20
    )
    both = decide(test, resembles=None, n_controls=3, alpha=0.05)
    assert both.status == "several" and both.distilled_from is None and both.resembles is None
    assert "a p = " in (both.reason or "") and "b p = " in (both.reason or "")
    assert wording(both).startswith("less like the 3 independent controls than like several families (p = ")
    assert "no more than" not in wording(both)


def test_beating_the_controls_for_several_families_names_the_one_it_leans_to() -> None:
    """Assistant writing is shared across vendors: beating the controls for a and b, and leaning to a
    among the families, names a with a's own p-value; b is in the reason."""
    test = ControlTest(
        {"a": 0.9, "b": 0.8}, {"a": [0.5, 0.52, 0.48], "b": [0.4, 0.42, 0.38]}, {"a": 0.004, "b": 0.001}, 20
    )
    named = decide(test, resembles="a", n_controls=3, alpha=0.05)
    assert named.status == "distilled" and named.distilled_from == "a" and named.resembles == "a"
    assert named.p_value == 0.004  # a's own Holm-adjusted p (max(2 x 0.001, 0.004)), not b's 0.002
    assert "b p = 0.002" in (named.reason or "")
    assert wording(named).startswith("distilled from a (p = 0.004, against 3 independent controls)")
    # the call also rests on the per-prompt test that named a: its p-value is the larger of the two
    weaker = decide(test, resembles="a", n_controls=3, alpha=0.05, resembles_p=0.03)
    assert weaker.status == "distilled" and weaker.p_value == 0.03
    assert "(p = 0.03); the call needs both" in (weaker.reason or "")
    assert decide(test, resembles="a", n_controls=3, alpha=0.05, resembles_p=0.0001).p_value == 0.004


def test_the_rank_test_warning_counts_holm_over_the_families() -> None:
    """1/(n+1) must pass Holm's first step, alpha / k: with 3 families a rank test needs 60 controls."""
    probability = FamilyProbability(score=0.5, ci95=(0.4, 0.6), p_value=0.5, p_holm=0.5)
    control = ModelAttribution(
        predicted="a", probabilities={f: probability for f in "abc"}, n=10, n_prompts=10,
        decision=decide(None, resembles=None, n_controls=0, alpha=0.05),
    )  # fmt: skip
    for n, warned in ((7, True), (59, True), (60, False)):
        warnings = control_warnings({f"c{i}": control for i in range(n)})
        assert any("only with 60 or more controls" in w for w in warnings) is warned


def _control(status: str) -> ModelAttribution:
    decision = decide(None, resembles="a", n_controls=1, alpha=0.05)  # an abstention
    if status != "abstain":
        decision = decision.model_copy(update={"status": status, "p_value": 0.01, "n_controls": 3})
    probability = FamilyProbability(score=0.5, ci95=(0.4, 0.6), p_value=0.5, p_holm=0.5)
    return ModelAttribution(
        predicted="a", probabilities={"a": probability}, n=10, n_prompts=10, decision=decision
    )


def test_the_false_positive_check_counts_several_as_called_and_says_when_it_was_not_made() -> None:
    """A control beating the controls for several families is a false positive too; an abstaining
    control was not checked at all, which the summary and a warning say (one count for the terminal,
    the warnings and the reports)."""
    controls = {"c1": _control("several"), "c2": _control("distilled"), "c3": _control("resembles")}
    check = FalsePositiveCheck.of({c: m.decision for c, m in controls.items()})
    assert check.called == ["c1", "c2"] and check.abstained == []
    assert check.summary() == "2 of 3 controls called distilled (c1, c2), each judged with itself left out"
    assert any("2 of 3 controls, each left out of the controls, are called distilled (c1, c2)" in w
               for w in control_warnings(controls))  # fmt: skip
    some = {"c1": _control("resembles"), "c2": _control("abstain"), "c3": _control("resembles")}
    assert FalsePositiveCheck.of({c: m.decision for c, m in some.items()}).summary() == (
        "0 of 3 controls called distilled, each judged with itself left out; 1 abstained (c2), so the "
        "check was not made for them"
    )
    assert any(
        w.startswith("false-positive check not made for 1 of 3 controls (c2)") for w in control_warnings(some)
    )


def test_with_two_controls_the_check_is_not_made_and_the_run_says_so(tmp_path: Path) -> None:
    """Two controls: each, left out, is judged against one, so each abstains; the run does not
    claim a passed check, and a test model with some answers missing is named in a warning."""
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS[:2]), n_prompts=12)
    rows = (folder / "copycat.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "copycat.jsonl").write_text("\n".join(rows[:9]) + "\n", encoding="utf-8")  # 3 of 12 missing
    out = tmp_path / "run"
    result = invoke(*_args(folder, out, ["copycat"], CONTROLS[:2]))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "false-positive check: 0 of 2 controls called distilled, each judged with itself left out; "
        "2 abstained, so the check was not made" in text
    )
    data = read_results(out)
    assert all(c["decision"]["status"] == "abstain" for c in data["controls"].values())
    assert any(w.startswith("false-positive check not made for 2 of 2 controls") for w in data["warnings"])
    assert "--test copycat: no answer for 6 of its 24 prompt turns" in text
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "2 abstained, so the check was not made" in report


def test_control_has_no_short_flag_and_minus_c_stays_config() -> None:
    """`-c` was the short flag of both --control and --config (docs use it for --config)."""
    import typer

    from distillscope.cli.rse import app

    command = typer.main.get_command(app).commands["attribute"]  # type: ignore[attr-defined]
    flags = {p.name: p.opts for p in command.params}
    assert flags["control"] == ["--control"] and "-c" in flags["config"]
