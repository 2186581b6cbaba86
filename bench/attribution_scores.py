"""How far apart are OpenAI-trained models and independent controls, in units of the controls' own spread?

A "distilled from F" decision over models (calibration.py) is a prediction t-test against n controls:
with n = 7 and n - 1 = 6 degrees of freedom, a model must lie t(0.95, 6) x sqrt(1 + 1/7) = 2.08 control
standard deviations above the controls' mean for one family, and t(1 - 0.05/3, 6) x sqrt(1 + 1/7) = 2.94 with
Holm over three families. This script measures that distance, z = (score - mean of controls) / sd of controls
(a control: against the other six), for several reasonable per-model scores on the shared MT-bench answers:

- `P(openai)`: the families classifier's mean cross-fitted P(openai) (what `predicted` ranks by);
- `sim(openai)`: mean TF-IDF cosine of a model's answer with gpt-4's and gpt-3.5-turbo's answers to the same
  prompt (writing tokens, or character 2-4-grams);
- `sim(openai) - sim(others)`: the same minus the mean similarity to claude-v1, claude-instant-v1 and palm-2.

Nothing is fitted to provenance.json: it is read to count, per split (the fixed split of
attribution_controls.py), how many OpenAI-trained models clear each distance, and how many controls do.

    python bench/attribution_scores.py
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, emit_skipped, machine_info
from attribution_controls import FAMILIES, split

OPENAI = FAMILIES["openai"]
OTHERS = [m for f, ms in FAMILIES.items() if f != "openai" for m in ms]


def answers(folder: Path, model: str) -> dict[str, str]:
    """Turn key ("question:turn") -> answer text."""
    out: dict[str, str] = {}
    with (folder / "model_answer" / f"{model}.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            for t, turn in enumerate(row["choices"][0]["turns"]):
                out[f"{row['question_id']}:{t}"] = turn
    return out


def family_probability(folder: Path, scored: list[str]) -> dict[str, float]:
    """Mean cross-fitted P(openai) per model from the families classifier (as `rse attribute` fits it)."""
    from distillscope.rse.attribution.crossfit import Doc, crossfit

    def docs(model: str, family: str | None) -> list[Doc]:
        return [Doc(model, k.split(":")[0], k, text, family) for k, text in answers(folder, model).items()]

    family_docs = [d for f, ms in FAMILIES.items() for m in ms for d in docs(m, f)]
    test = {m: docs(m, None) for m in scored}
    fit = crossfit(family_docs, [d for m in scored for d in test[m]])
    column = fit.families.index("openai")
    out, start = {}, len(family_docs)
    for m in scored:
        rows = fit.probabilities[start : start + len(test[m]), column]
        start += len(test[m])
        out[m] = float(np.mean(rows))
    return out


def similarities(folder: Path, scored: list[str], analyzer: str) -> tuple[dict[str, float], dict[str, float]]:
    """Per model: mean cosine with the OpenAI answers to the same prompt, and that minus the others'."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from distillscope.rse.attribution.features import writing_tokens

    models = [*scored, *OPENAI, *OTHERS]
    text = {m: answers(folder, m) for m in models}
    keys = sorted(set.intersection(*(set(t) for t in text.values())))
    if analyzer == "word":
        vec = TfidfVectorizer(
            tokenizer=writing_tokens,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            sublinear_tf=True,
        )
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vec.fit_transform([text[m][k] for m in models for k in keys])
    block = {m: matrix[i * len(keys) : (i + 1) * len(keys)] for i, m in enumerate(models)}

    def sim(a: str, refs: list[str]) -> float:
        return float(np.mean([np.asarray(block[a].multiply(block[r]).sum(axis=1)).mean() for r in refs]))

    plain = {m: sim(m, OPENAI) for m in scored}
    return plain, {m: plain[m] - sim(m, OTHERS) for m in scored}


def needed(n: int, families: int) -> float:
    """The distance, in control sds, a one-sided prediction t-test at 0.05 (Holm over `families`) needs."""
    from scipy.stats import t as student

    return float(student.ppf(1 - 0.05 / families, n - 1) * np.sqrt(1 + 1 / n))


def distances(score: Mapping[str, float], controls: list[str], tests: list[str]) -> dict[str, float]:
    """z of every test model against all controls, and of every control against the others."""
    out = {}
    for m in [*tests, *controls]:
        others = np.array([score[c] for c in controls if c != m])
        out[m] = float((score[m] - others.mean()) / others.std(ddof=1))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SHARED_DATA / "mt-bench")
    args = parser.parse_args()
    if not (args.source / "provenance.json").is_file():
        emit_skipped(f"no MT-bench answers at {args.source}")
        return 0
    provenance = json.loads((args.source / "provenance.json").read_text(encoding="utf-8"))
    models = sorted(p.stem for p in (args.source / "model_answer").glob("*.jsonl"))
    members = {m for ms in FAMILIES.values() for m in ms}
    controls = [
        m
        for m in models
        if m not in members and provenance.get(m, {}).get("trained_on_openai_outputs") is False
    ]
    tests = [m for m in models if m not in members and m not in controls]
    parts = split(tests, controls)
    scorers: dict[str, Callable[[], dict[str, float]]] = {
        "P(openai)": lambda: family_probability(args.source, [*tests, *controls]),
    }
    word, word_rel = similarities(args.source, [*tests, *controls], "word")
    char, char_rel = similarities(args.source, [*tests, *controls], "char")
    table: list[dict[str, Any]] = []
    scores = {"P(openai)": scorers["P(openai)"](), "sim(openai), words": word, "sim(openai), chars": char,
              "sim(openai) - sim(others), words": word_rel, "sim(openai) - sim(others), chars": char_rel}  # fmt: skip
    one, holm = needed(len(controls), 1), needed(len(controls), 3)
    print(f"distance needed (control sds): {one:.2f} for one family, {holm:.2f} with Holm over three")
    print(
        f"{'score':36} {'split':5} {f'OpenAI-trained >= {one:.2f} / {holm:.2f}':>30} {f'controls >= {one:.2f}':>18} {'median z':>9}"
    )
    for name, score in scores.items():
        z = distances(score, controls, tests)
        for part in ("A", "B"):
            trained = [
                m for m in parts[f"{part} tests"] if provenance[m]["trained_on_openai_outputs"] is True
            ]
            ctrl = parts[f"{part} controls"]
            row = {
                "score": name,
                "split": part,
                "openai_trained": len(trained),
                "beyond_one_family": sum(z[m] >= one for m in trained),
                "beyond_holm": sum(z[m] >= holm for m in trained),
                "controls": len(ctrl),
                "controls_beyond_one_family": sum(z[c] >= one for c in ctrl),
                "median_z_openai_trained": round(float(np.median([z[m] for m in trained])), 2),
            }
            table.append(row)
            print(
                f"{name:36} {part:5} {row['beyond_one_family']:>4} / {row['beyond_holm']} of {len(trained):<17}"
                f" {row['controls_beyond_one_family']:>6} of {len(ctrl):<9} {row['median_z_openai_trained']:>9}"
            )
    emit_json({"bench": "attribution_scores", "needed_one": round(one, 3), "needed_holm3": round(holm, 3),
               "rows": table, "machine": machine_info()})  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
