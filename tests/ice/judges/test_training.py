"""Leave-one-model-out: a model's probabilities come from a build that never saw any of its rows,
so its own labels cannot move them; `every_row` scores its whole run with the same build."""

from __future__ import annotations

import dataclasses

from distillscope.ice.judges.training import Example, leave_one_model_out, synthetic_examples

MODELS = ("model-a", "model-b", "model-c", "model-d")


def _examples() -> list[Example]:
    """The composed statements dealt to four models; every fourth row of each model audited."""
    out = []
    for k, ex in enumerate(synthetic_examples()):
        model = MODELS[k % len(MODELS)]
        gold = (k // len(MODELS)) % 4 == 0
        stratum = ("L11" if ex.loose else "L00") if gold else None
        out.append(dataclasses.replace(ex, line=k, model=model, gold=gold, stratum=stratum, source="test"))
    return out


POP = {"L00": 600, "L11": 400}


def test_a_models_probabilities_do_not_depend_on_its_own_labels() -> None:
    examples = _examples()
    flipped = [
        dataclasses.replace(ex, loose=not ex.loose, strict=False) if ex.model == "model-b" else ex
        for ex in examples
    ]
    plain = leave_one_model_out(examples, POP)
    other = leave_one_model_out(flipped, POP)
    assert set(plain) == set(MODELS)
    assert plain["model-b"] == other["model-b"]  # left out: its labels never reached its build
    assert plain["model-a"] != other["model-a"]  # model-b's labels do train the others' builds


def test_every_row_scores_the_whole_run_with_the_same_build() -> None:
    examples = _examples()
    gold_only = leave_one_model_out(examples, POP)
    every = leave_one_model_out(examples, POP, every_row=True)
    for model in MODELS:
        lines = {ex.line for ex in examples if ex.model == model}
        gold = {ex.line for ex in examples if ex.model == model and ex.gold}
        assert set(gold_only[model]) == gold
        assert set(every[model]) == lines
        assert all(every[model][line] == gold_only[model][line] for line in gold)
        assert all(0.0 <= p_strict <= p_loose <= 1.0 for p_loose, p_strict in every[model].values())
