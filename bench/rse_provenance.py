"""Does offline response similarity find the models trained on the reference's outputs?

On MT-bench (../shared/data/mt-bench: 30 models answering 80 prompts, labels in provenance.json)
with gpt-3.5-turbo as the reference, every model's answers are scored by the offline judge against
the reference's, and each per-model score is used to rank the labelled models: ROC AUC for
"trained on OpenAI outputs" (true) against the rest (false); unknown / same-vendor models (null)
and the reference are left out of the AUC but stay in the unlabelled panel. Nothing is fitted to
the labels: the contrast panel is all 30 models, leave-one-out.

Attribution (`rse attribute`, --attribution): families openai = gpt-3.5-turbo + gpt-4 and foils =
claude-v1 + claude-instant-v1 + palm-2-chat-bison-001; every other model is a test model, ranked
by its mean cross-fitted P(openai) (both turns; the family models are left out of the AUC since
their answers train the classifier). No test label is used. Each family member is also left out
of training in turn and attributed like a test model (`held_out_members`). Also: the false-positive rate of
`predicted == "openai"` on the models labelled false, the true-positive rate on those labelled
true, and the AUC when each model gives only 10, 20, 40, 80 or 160 answers (5 random prompt
subsets each below 160: the whole run, families included, uses those prompts only).

Prints a table (naive mean per granularity, then contrast, then attribution) and, last, one JSON
object.

    python bench/rse_provenance.py [--turns 1|2|both] [--no-embed] [--no-attribution]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, emit_skipped, machine_info, print_table
from distillscope.rse.attribution.analysis import attribute
from distillscope.rse.attribution.crossfit import Doc
from distillscope.rse.contrast import contrast_scores, roc_auc
from distillscope.rse.offline.judge import OfflineJudge
from distillscope.rse.types import AspectScores, PairItem

REFERENCE = "gpt-3.5-turbo"
MEASURES = ("style", "logic", "content", "lexical", "embedding", "overall")
LABELS = {
    "style": "style",
    "logic": "logic (structure)",
    "content": "content (1-5)",
    "lexical": "lexical overlap",
    "embedding": "embedding cosine (naive)",
    "overall": "combined (overall)",
}


def load_answers(folder: Path, turns: list[int]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """model -> "qid/turn" -> answer text, and qid -> question (first turn)."""
    questions = {}
    for line in (folder / "question.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions[str(row["question_id"])] = row["turns"][0]
    answers: dict[str, dict[str, str]] = {}
    for path in sorted((folder / "model_answer").glob("*.jsonl")):
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        answers[path.stem] = {
            f"{r['question_id']}/{t}": r["choices"][0]["turns"][t - 1]
            for r in rows
            for t in turns
            if len(r["choices"][0]["turns"]) >= t
        }
    return answers, questions


def score_all(
    judge: OfflineJudge,
    answers: dict[str, dict[str, str]],
    questions: dict[str, str],
    reference: str = REFERENCE,
) -> dict[str, dict[str, AspectScores | None]]:
    ref = answers[reference]
    items: list[tuple[str, PairItem]] = []
    for model, rows in answers.items():
        if model == reference:
            continue
        for key, text in rows.items():
            if key in ref:
                items.append(
                    (
                        model,
                        PairItem(
                            prompt_id=key,
                            prompt=questions[key.split("/")[0]],
                            reference=ref[key],
                            candidate=text,
                        ),
                    )
                )
    scores = judge.score([i for _, i in items])
    out: dict[str, dict[str, AspectScores | None]] = {}
    for (model, item), s in zip(items, scores, strict=True):
        out.setdefault(model, {})[item.prompt_id] = s
    return out


def value(s: AspectScores, measure: str) -> float | None:
    return (
        float(getattr(s, measure))
        if measure in ("style", "logic", "content", "overall")
        else s.raw.get(measure)
    )


def aucs(per_model: dict[str, float | None], labels: dict[str, bool]) -> float | None:
    pos = [v for m, v in per_model.items() if labels.get(m) is True and v is not None]
    neg = [v for m, v in per_model.items() if labels.get(m) is False and v is not None]
    return round(roc_auc(pos, neg), 3) if pos and neg else None


FAMILIES = {
    "openai": ["gpt-3.5-turbo", "gpt-4"],
    "foil": ["claude-v1", "claude-instant-v1", "palm-2-chat-bison-001"],
}
SIZES = (10, 20, 40, 80, 160)
REPEATS = 5


def attribution_docs(folder: Path) -> dict[str, list[Doc]]:
    """Every model's answers to both turns, one prompt group per question."""
    family_of = {m: f for f, ms in FAMILIES.items() for m in ms}
    out: dict[str, list[Doc]] = {}
    for path in sorted((folder / "model_answer").glob("*.jsonl")):
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        out[path.stem] = [
            Doc(
                path.stem,
                f"mt/{r['question_id']}",
                f"mt/{r['question_id']}#t{t}",
                text,
                family_of.get(path.stem),
            )
            for r in rows
            for t, text in enumerate(r["choices"][0]["turns"][:2], start=1)
        ]
    return out


def attribution_bench(folder: Path, labels: dict[str, bool], alpha: float = 0.05) -> dict[str, Any]:
    import random

    docs = attribution_docs(folder)
    family_of = {m: f for f, ms in FAMILIES.items() for m in ms}
    groups = sorted({d.group for d in docs["gpt-4"]})
    tests = [m for m in docs if m not in family_of]

    def one(keep: set[str], seed: int, check: bool = False) -> tuple[float | None, dict[str, Any]]:
        family = [d for m in family_of for d in docs[m] if d.group in keep]
        test = {m: [d for d in docs[m] if d.group in keep] for m in tests}
        found = attribute(family, test, alpha=alpha, seed=seed, check_members=check)
        scores = {m: r.probabilities["openai"].score for m, r in found.models.items()}
        return aucs(scores, labels), {"found": found, "scores": scores}

    start = time.perf_counter()
    full_auc, full = one(set(groups), 0, check=True)
    seconds = time.perf_counter() - start
    found = full["found"]
    negatives = [m for m in tests if labels.get(m) is False]
    positives = [m for m in tests if labels.get(m) is True]
    false_pos = [m for m in negatives if found.models[m].predicted == "openai"]
    true_pos = [m for m in positives if found.models[m].predicted == "openai"]
    curve: dict[int, Any] = {}
    for size in SIZES:
        n_prompts = size // 2
        if n_prompts >= len(groups):
            curve[size] = {"auc": full_auc, "repeats": 1}
            continue
        values = []
        for r in range(REPEATS):
            keep = set(random.Random(f"{size}-{r}").sample(groups, n_prompts))
            auc, _ = one(keep, r)
            if auc is not None:
                values.append(auc)
        curve[size] = {
            "auc": round(sum(values) / len(values), 3),
            "min": min(values),
            "max": max(values),
            "repeats": len(values),
        }
    return {
        "auc": full_auc,
        "fpr_predicted": round(len(false_pos) / len(negatives), 3),
        "false_positives": false_pos,
        "tpr_predicted": round(len(true_pos) / len(positives), 3),
        "n_true": len(positives),
        "n_false": len(negatives),
        "abstained": sorted(m for m in tests if found.models[m].predicted is None),
        "predicted_foil": sorted(m for m in tests if found.models[m].predicted == "foil"),
        "held_out_accuracy": {f: c.accuracy for f, c in found.held_out.items()},
        "held_out_members": {
            m: {"predicted": r.predicted, "score": r.probabilities[family_of[m]].score}
            for m, r in found.held_out_members.items()
        },
        "auc_by_answers": curve,
        "seconds_full_run": round(seconds, 1),
        "alpha": alpha,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "mt-bench")
    parser.add_argument("--turns", choices=["1", "2", "both"], default="1")
    parser.add_argument(
        "--no-embed", action="store_true", help="lexical content only (as without the embed extra)"
    )
    parser.add_argument("--no-attribution", action="store_true", help="skip the attribution rows")
    parser.add_argument("--encoder", choices=("auto", "minilm", "minilm-onnx", "wordllama"), default="auto")
    args = parser.parse_args()
    if not (args.data / "provenance.json").is_file():
        emit_skipped(f"no MT-bench data at {args.data} (needs ../shared/data/mt-bench)")
        return 0
    turns = [1, 2] if args.turns == "both" else [int(args.turns)]
    provenance = json.loads((args.data / "provenance.json").read_text(encoding="utf-8"))
    labels = {
        m: v["trained_on_openai_outputs"]
        for m, v in provenance.items()
        if m != REFERENCE and v["trained_on_openai_outputs"] is not None
    }
    answers, questions = load_answers(args.data, turns)

    if args.no_embed:
        judge = OfflineJudge(embeddings=False)
    else:
        from distillscope.rse.offline.embed import make_encoder

        judge = OfflineJudge(encoder=make_encoder(args.encoder))
    if judge.encoder is not None:
        judge.encoder.encode(["warm-up: load the model"])  # model load is not scoring time
    start, cpu_start = time.perf_counter(), time.process_time()
    sim = score_all(judge, answers, questions)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    n_pairs = sum(len(r) for r in sim.values())
    models = sorted(sim)

    naive = {}
    for measure in MEASURES:
        per_model: dict[str, float | None] = {}
        for m in models:
            vals = [v for s in sim[m].values() if s is not None and (v := value(s, measure)) is not None]
            per_model[m] = sum(vals) / len(vals) if vals else None
        naive[measure] = aucs(per_model, labels)

    contrast: dict[str, dict[str, float | None]] = {}
    for standardised in (False, True):
        results = contrast_scores(sim, models, standardised=standardised)
        key = "standardised" if standardised else "plain"
        contrast[key] = {}
        for measure in MEASURES:
            per_model = {m: r.measures.get(measure, {}).get("score") for m, r in results.items()}
            contrast[key][measure] = aucs(per_model, labels)

    # rse run --foil: similarity to the reference minus the mean similarity to the foils, per prompt
    foils = FAMILIES["foil"]
    to_foil = {f: score_all(judge, answers, questions, reference=f) for f in foils}
    foil_models = [m for m in models if m not in foils]
    foil_auc: dict[str, float | None] = {}
    naive_same: dict[str, float | None] = {}
    for measure in ("style", "overall", "embedding"):
        diff: dict[str, float | None] = {}
        plain: dict[str, float | None] = {}
        for m in foil_models:
            values, refs = [], []
            for key, s_ref in sim[m].items():
                v_ref = value(s_ref, measure) if s_ref is not None else None
                v_foils = [
                    v
                    for f in foils
                    if (s_f := to_foil[f].get(m, {}).get(key)) is not None
                    and (v := value(s_f, measure)) is not None
                ]
                if v_ref is not None and v_foils:
                    values.append(v_ref - sum(v_foils) / len(v_foils))
                    refs.append(v_ref)
            diff[m] = sum(values) / len(values) if values else None
            plain[m] = sum(refs) / len(refs) if refs else None
        foil_auc[measure] = aucs(diff, labels)
        naive_same[measure] = aucs(plain, labels)

    n_pos = sum(1 for m in models if labels.get(m) is True)
    n_neg = sum(1 for m in models if labels.get(m) is False)
    rows: list[tuple[str, Any]] = [(f"naive mean: {LABELS[m]}", naive[m]) for m in MEASURES]
    rows += [(f"contrast: {LABELS[m]}", contrast["plain"][m]) for m in MEASURES]
    rows += [(f"contrast standardised: {LABELS[m]}", contrast["standardised"][m]) for m in MEASURES]
    rows += [
        (
            f"foils (same 24 models): naive {LABELS[m]} / minus mean to the 3 foils",
            f"{naive_same[m]} / {foil_auc[m]}",
        )
        for m in foil_auc
    ]
    rows += [
        ("labelled models (true / false)", f"{n_pos} / {n_neg}"),
        (
            f"scoring time, {len(models)} models x {len(questions)} prompts x {len(turns)} turn(s)",
            f"{seconds:.1f} s wall, {cpu_seconds:.1f} s CPU",
        ),
        ("content", judge.settings["content"]),
    ]
    attribution = None if args.no_attribution else attribution_bench(args.data, labels)
    if attribution is not None:
        rows += [
            ("attribution: mean P(openai), families openai vs foils (both turns)", attribution["auc"]),
            *(
                (f"attribution AUC with {size} answers per model", entry["auc"])
                for size, entry in attribution["auc_by_answers"].items()
            ),
            (
                "attribution: predicted openai on models labelled false (FPR)",
                f"{attribution['fpr_predicted']} ({len(attribution['false_positives'])}/{attribution['n_false']})",
            ),
            ("attribution: predicted openai on models labelled true (TPR)", attribution["tpr_predicted"]),
            (
                "attribution: abstained / predicted foil (test models)",
                f"{len(attribution['abstained'])} / {len(attribution['predicted_foil'])}",
            ),
            *(
                (
                    f"attribution: family member {m} left out of training: predicted / mean P(own family)",
                    f"{v['predicted']} / {v['score']}",
                )
                for m, v in attribution["held_out_members"].items()
            ),
            (
                "attribution: full run (5 folds x 3 repeats, 26 test models, 5 members left out in turn)",
                f"{attribution['seconds_full_run']} s",
            ),
        ]
    print_table(f"ROC AUC, trained on OpenAI outputs, reference {REFERENCE}", rows)
    emit_json(
        {
            "reference": REFERENCE,
            "turns": args.turns,
            "n_models": len(models),
            "n_pairs": n_pairs,
            "n_true": n_pos,
            "n_false": n_neg,
            "embeddings": judge.encoder is not None,
            "auc_naive": naive,
            "auc_contrast": contrast["plain"],
            "auc_contrast_standardised": contrast["standardised"],
            "naive_cosine_auc": naive["embedding"],
            "auc_foil_difference": foil_auc,
            "auc_naive_without_foils": naive_same,
            "attribution": attribution,
            "scoring_seconds": round(seconds, 1),
            "scoring_cpu_seconds": round(cpu_seconds, 1),
            "machine": machine_info(),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
