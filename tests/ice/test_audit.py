"""The weighted audit computation: the README figures of ice-gold, and the weighting on synthetic designs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.ice.audit import AuditSample, Estimate, Judged, LabelledRow, audit_judge, load_gold

BASELINE = Path(__file__).parent / "data" / "rules-0.1.0-ice-gold.json"


@pytest.fixture
def gold(shared_data: Path):  # type: ignore[no-untyped-def]
    return load_gold(shared_data / "ice-gold")


def test_paper_labels_reproduce_the_readme(gold) -> None:  # type: ignore[no-untyped-def]
    audit = audit_judge(gold.sample(), gold.paper(), judge="paper")
    assert round(audit.loose.accuracy.value, 3) == 0.890
    assert round(audit.strict.accuracy.value, 3) == 0.951
    assert round(audit.loose.rate.value, 3) == 0.275  # (1011 + 1187) / 8000: the paper's own rate
    assert round(audit.loose.reference_rate.value, 3) == 0.251  # the gold rate
    assert audit.n == 290 and audit.population == 8000
    assert audit.strict.extra_n == 30  # the S rows are reported apart, not weighted
    low, high = audit.loose.accuracy.low, audit.loose.accuracy.high
    assert low < audit.loose.accuracy.value < high
    assert audit.category_confusion["other-vendor"] == {"unknown": pytest.approx(1274.0, abs=1)}


def test_rules_0_1_0_reproduce_the_readme(gold) -> None:  # type: ignore[no-untyped-def]
    recorded = json.loads(BASELINE.read_text(encoding="utf-8"))["verdicts"]
    verdicts = {
        int(k): Judged(loose, strict, None, unsure) for k, (loose, strict, unsure) in recorded.items()
    }
    # the baseline's loose verdicts are the second digit of the strata it defined
    for row in gold.rows:
        if row.stratum != "S":
            assert verdicts[row.line].loose == (row.stratum[2] == "1")
    audit = audit_judge(gold.sample(), verdicts, judge="rules-0.1.0")
    assert round(audit.loose.accuracy.value, 3) == 0.870
    assert round(audit.strict.accuracy.value, 3) == 0.939
    assert round(audit.loose.rate.value, 3) == 0.160  # (95 + 1187) / 8000


def test_per_model_estimates_use_each_models_own_strata(gold) -> None:  # type: ignore[no-untyped-def]
    audit = audit_judge(gold.sample(), gold.paper(), judge="paper")
    groups = {g.group: g for g in audit.groups}
    assert sum(g.population for g in groups.values()) == 8000
    # a judge that defines the strata has its exact per-model rate as estimate
    line_strata = gold.strata_by_line
    for model, g in groups.items():
        mine = [i for i, s in enumerate(line_strata) if s and gold.labels[i]["model"] == model]
        exact = sum(bool(gold.labels[i]["loose"]) for i in mine) / len(mine)
        assert g.loose_rate.value == pytest.approx(exact, abs=1e-6)
    assert "L11" in groups["qwen2.5-7b-instruct"].borrowed  # 25 L11 rows, none sampled


def test_weighting_and_bootstrap_on_a_synthetic_design() -> None:
    # stratum A: 900 rows, 10 sampled, judge right on 9; stratum B: 100 rows, 10 sampled, right on 5
    rows = [LabelledRow(key=i, stratum="A", loose=False, strict=False) for i in range(10)]
    rows += [LabelledRow(key=10 + i, stratum="B", loose=True, strict=False) for i in range(10)]
    verdicts = {i: Judged(i == 0, False) for i in range(10)}
    verdicts |= {10 + i: Judged(i < 5, False) for i in range(10)}
    sample = AuditSample(rows, {"A": 900, "B": 100})
    audit = audit_judge(sample, verdicts, judge="j", resamples=500, seed=3)
    assert audit.loose.accuracy.value == pytest.approx((900 * 0.9 + 100 * 0.5) / 1000)
    assert audit.loose.rate.value == pytest.approx((900 * 0.1 + 100 * 0.5) / 1000)
    assert audit.loose.reference_rate.value == pytest.approx(0.1)
    # every labelled row of each stratum agrees, so the bootstrap's replicates are all 0.1; 10 rows of
    # 900 cannot pin stratum A's rate to 0, so the interval keeps the smoothed normal floor's width
    ref = audit.loose.reference_rate
    assert ref.low == 0.0 and 0.15 < ref.high < 0.3
    assert audit.strict.accuracy.value == 1.0 and audit.strict.accuracy.low < 0.95
    assert audit.loose.confusion.fp == pytest.approx(90) and audit.loose.confusion.fn == pytest.approx(50)
    assert audit.loose.confusion_sample.fp == 1
    assert audit.strict.accuracy.value == 1.0
    again = audit_judge(sample, verdicts, judge="j", resamples=500, seed=3)
    assert again == audit  # seeded
    other = audit_judge(sample, verdicts, judge="j", resamples=500, seed=4)
    assert other.loose.accuracy.low != audit.loose.accuracy.low


def test_a_stratum_labelled_whole_adds_no_width_and_a_bigger_sample_narrows_it() -> None:
    def audit(n: int, size: int) -> Estimate:
        rows = [LabelledRow(key=i, stratum="A", loose=False, strict=False) for i in range(n)]
        verdicts = {i: Judged(False, False) for i in range(n)}  # all right: the bootstrap has no spread
        return audit_judge(AuditSample(rows, {"A": size}), verdicts, judge="j", resamples=200).loose.accuracy

    whole, few, many = audit(20, 20), audit(20, 400), audit(200, 400)
    assert whole.low == whole.high == 1.0  # the population itself: nothing is left to guess
    assert few.value == many.value == 1.0 and few.high == many.high == 1.0
    assert few.low is not None and many.low is not None and few.low < many.low < 1.0


def test_unjudged_rows_are_left_out_not_negatives() -> None:
    rows = [LabelledRow(key=i, stratum="A", loose=True, strict=True) for i in range(4)]
    verdicts = {0: Judged(True, True), 1: Judged(True, True), 2: Judged(None, None)}
    audit = audit_judge(AuditSample(rows, {"A": 40}), verdicts, judge="j", resamples=100)
    assert audit.unjudged == 2 and audit.n == 2
    assert audit.loose.accuracy.value == 1.0


def test_a_stratum_without_labelled_rows_is_an_error() -> None:
    rows = [LabelledRow(key=0, stratum="A", loose=True, strict=False)]
    with pytest.raises(UserError, match="stratum 'B'"):
        audit_judge(AuditSample(rows, {"A": 5, "B": 5}), {0: Judged(True, False)}, judge="j")


def test_kappa_precision_recall_and_gap_never_claim_certainty_from_a_sample() -> None:
    """Two strata drawn by the judge's verdict, where every labelled row agrees with the judge: the
    bootstrap's replicates are all equal, yet 10 rows of 500 cannot pin kappa to one value. Each
    statistic of the confusion cells keeps the delta method's width (the cells' smoothed proportions)."""
    rows = [LabelledRow(key=i, stratum="yes", loose=True, strict=False) for i in range(10)]
    rows += [LabelledRow(key=10 + i, stratum="no", loose=False, strict=False) for i in range(10)]
    verdicts = {i: Judged(True, False) for i in range(10)} | {10 + i: Judged(False, False) for i in range(10)}
    audit = audit_judge(AuditSample(rows, {"yes": 100, "no": 400}), verdicts, judge="j", resamples=300)
    loose = audit.loose
    assert loose.kappa.value == 1.0 and loose.precision.value == 1.0 and loose.recall.value == 1.0
    for est in (loose.kappa, loose.precision, loose.recall):
        assert est.low is not None and est.high == 1.0 and est.low < 0.95
    assert loose.rate_gap.value == 0.0 and loose.rate_gap.low is not None and loose.rate_gap.high is not None
    assert loose.rate_gap.low < 0.0 < loose.rate_gap.high
    whole = audit_judge(AuditSample(rows, {"yes": 10, "no": 10}), verdicts, judge="j", resamples=300).loose
    assert whole.kappa.low == whole.kappa.high == 1.0  # labelled whole: nothing is left to guess


def test_the_floor_of_a_share_is_the_smoothed_normal_interval() -> None:
    """One stratum of 100 rows, 10 labelled, 7 right: the floor is 0.7 +- 1.96 sqrt(p(1-p)/10 x 0.9)
    with p = 7.5 / 11, and the delta method over the confusion cells gives the same for accuracy."""
    import math

    import numpy as np

    from distillscope.ice.audit import _cells, _cells_floor, _floor

    rows = [LabelledRow(key=i, stratum="A", loose=i < 4, strict=False) for i in range(10)]
    judge = np.array([i < 4 or i in (4, 5, 6) for i in range(10)])  # right on 7 of 10
    ref = np.array([r.loose for r in rows])
    cells, _ = _cells(rows, {"A": 100})
    p = 7.5 / 11
    half = 1.959963984540054 * math.sqrt(p * (1 - p) / 10 * 0.9)
    assert _floor(cells, (ref == judge).astype(float), 0.7) == pytest.approx((0.7 - half, 0.7 + half))
    parts = np.stack([ref & judge, ~ref & judge, ref & ~judge, ~ref & ~judge], axis=1).astype(float)
    point = parts.mean(axis=0)
    floor = _cells_floor(cells, parts, lambda c: float(c[0] + c[3]), point, (0.0, 1.0))
    assert floor == pytest.approx((0.7 - half, 0.7 + half))


def test_per_model_gap_and_category_figures_never_claim_certainty_from_a_sample() -> None:
    """Every labelled row agrees with the judge, and each category sits in one stratum: the
    bootstrap's replicates of a model's rate gap and of each category's figures are all equal, yet
    10 rows of 100 (or 400) pin none of them. They keep the floors the whole audit's figures have
    (on the paper's gold, qwen2.5-72b-instruct's gap was -0.003 [-0.003, -0.003] and vendor-policy's
    accuracy 1.000 [1.000, 1.000] from 2 rows)."""
    rows = [
        LabelledRow(
            key=i, stratum="yes", loose=True, strict=False, category="other-vendor", group=f"m{i % 2}"
        )
        for i in range(10)
    ]
    rows += [
        LabelledRow(
            key=10 + i, stratum="no", loose=False, strict=False, category="consistent", group=f"m{i % 2}"
        )
        for i in range(10)
    ]
    verdicts = {i: Judged(True, False) for i in range(10)} | {10 + i: Judged(False, False) for i in range(10)}
    per_model = {m: {"yes": 50, "no": 200} for m in ("m0", "m1")}
    audit = audit_judge(
        AuditSample(rows, {"yes": 100, "no": 400}, per_model), verdicts, judge="j", resamples=300
    )
    for g in audit.groups:
        gap = g.loose_gap
        assert gap.value == 0.0 and gap.low is not None and gap.high is not None
        assert gap.low < 0.0 < gap.high
    categories = {c.category: c for c in audit.categories}
    for c in categories.values():
        for est in (c.loose_accuracy, c.strict_accuracy):
            assert est.value == 1.0 and est.low is not None and est.low < 0.95 and est.high == 1.0
        assert c.population.low is not None and c.population.high is not None
        assert c.population.low < c.population.value < c.population.high  # type: ignore[operator]
    flagged = categories["consistent"].judge_loose
    assert flagged.value == 0.0 and flagged.high is not None and flagged.high > 0.05
    whole = audit_judge(AuditSample(rows, {"yes": 10, "no": 10}), verdicts, judge="j", resamples=300)
    assert {(c.loose_accuracy.low, c.loose_accuracy.high) for c in whole.categories} == {(1.0, 1.0)}


def test_a_borrowed_stratum_is_not_taken_as_labelled_whole() -> None:
    """m0 has 30 rows in stratum B and none of them sampled, so B's rows labelled for m1 stand in
    (`borrowed`). They are not m0's rows: m0's B is entirely unlabelled, and its figures must not
    read as known (40 borrowed rows for 30 of its own made the floor's 1 - n/N zero: 1.000 [1.000,
    1.000] for a model of which 5 rows in 35 were ever labelled)."""
    rows = [LabelledRow(key=i, stratum="A", loose=True, strict=False, group="m0") for i in range(5)]
    rows += [LabelledRow(key=10 + i, stratum="B", loose=False, strict=False, group="m1") for i in range(40)]
    verdicts = {r.key: Judged(r.loose, False) for r in rows}
    per_model = {"m0": {"A": 5, "B": 30}, "m1": {"B": 40}}
    audit = audit_judge(AuditSample(rows, {"A": 5, "B": 70}, per_model), verdicts, judge="j", resamples=300)
    groups = {g.group: g for g in audit.groups}
    m0, m1 = groups["m0"], groups["m1"]
    assert m0.borrowed == ["B"] and m0.loose_accuracy.value == 1.0
    assert m0.loose_accuracy.low is not None and m0.loose_accuracy.low < 0.98
    assert m0.loose_rate.low is not None and m0.loose_rate.high is not None
    assert m0.loose_rate.low < m0.loose_rate.value < m0.loose_rate.high  # type: ignore[operator]
    assert m1.loose_accuracy.low == m1.loose_accuracy.high == 1.0  # m1's B is labelled whole: known
