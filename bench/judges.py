"""Judges: how fast the offline judges decide, on one core.

1. ICE default judge (`rules`: signals -> scorer -> calibration): responses judged per second, on
   the paper's 8,673 judged responses (../shared/data/paper-ice-labels.jsonl), cycled to
   --responses; beside it the rule reader alone (the signals, i.e. what the judge did before the
   scorer), the time to load the shipped weights, and one 972 KB answer repeating
   "GPT, Claude, Gemini, " (issue 24: 104 s when reading it was quadratic).
2. RSE offline similarity judge: response pairs (MT-Bench first-turn answers of two models to the
   same question, ../shared/data/mt-bench) scored per second, with lexical content similarity
   only, and with sentence embeddings too (when the `embed` extra is installed).
3. Sentence embeddings (all-MiniLM-L6-v2 on CPU): sentences of those answers embedded per second.

Rates are per CPU-second of this process (`time.process_time`), so other work on a shared
machine does not lower them; the wall-clock rate is printed beside. A part whose code or data
is not present is reported as skipped, with the reason.

    python bench/judges.py --responses 20000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, machine_info, print_table

LABELS = SHARED_DATA / "paper-ice-labels.jsonl"
MT_BENCH = SHARED_DATA / "mt-bench"


def timed(work: Callable[[], int]) -> dict[str, Any]:
    """Run `work` (returns how many items it did): items per CPU-second and per wall-second."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    n = work()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "items": n,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "per_cpu_s": round(n / max(cpu, 1e-9), 1),
        "per_wall_s": round(n / max(wall, 1e-9), 1),
    }


def paper_rows(limit: int | None = None) -> list[dict[str, Any]]:
    rows = []
    with LABELS.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def bench_rules(responses: int) -> dict[str, Any]:
    """ICE RulesJudge.judge_one over the paper's responses, cycled to `responses` items."""
    try:
        from distillscope.ice.identity import IdentityRegistry
        from distillscope.ice.judges.rules import RulesJudge
        from distillscope.ice.templates import fill_template
        from distillscope.ice.types import JudgeItem
    except ImportError as exc:
        return {"skipped": f"ICE rules judge not importable ({exc})"}
    if not LABELS.exists():
        return {"skipped": f"{LABELS} not present"}
    rows = paper_rows()
    registry = IdentityRegistry.builtin()
    judge = RulesJudge(registry)
    targets = {org: registry.resolve(org=org) for org in {r["target_org"] for r in rows}}
    corpus = [
        (
            JudgeItem(
                index=i,
                prompt=fill_template(r["jailbreak_prompt"], r["query"]),
                query=r["query"],
                response=r["response"],
            ),
            targets[r["target_org"]],
        )
        for i, r in enumerate(rows)
    ]
    for item, target in corpus[:200]:  # warm-up: compile patterns, build per-target views
        judge.judge_one(item, target)

    def work() -> int:
        done = 0
        while done < responses:
            for item, target in corpus[: responses - done]:
                judge.judge_one(item, target)
            done += min(len(corpus), responses - done)
        return done

    figures = timed(work)
    reader = judge.reader

    def read_only() -> int:
        done = 0
        while done < responses:
            for item, target in corpus[: responses - done]:
                reader.read(item, target)
            done += min(len(corpus), responses - done)
        return done

    figures["reader_only"] = timed(read_only)
    figures["scorer_share_of_time"] = round(
        1 - figures["reader_only"]["cpu_s"] / max(figures["cpu_s"], 1e-9), 3
    )
    from distillscope.ice.judges.weights import builtin_weights

    builtin_weights.cache_clear()
    t0 = time.perf_counter()
    RulesJudge(registry)
    figures["load_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    huge = JudgeItem(index=0, prompt="Hi ChatGPT", query="q", response="GPT, Claude, Gemini, " * 46_300)
    figures["huge_answer_kb"] = round(len(huge.response.encode()) / 1000)

    def judge_huge() -> int:
        judge.judge_one(huge, corpus[0][1])
        return 1

    figures["huge_answer_s"] = timed(judge_huge)["cpu_s"]
    figures["corpus_rows"] = len(corpus)
    figures["mean_response_chars"] = round(sum(len(i.response) for i, _ in corpus) / len(corpus), 1)
    return figures


def mt_bench_answers(limit_models: int = 6) -> list[list[str]]:
    """First-turn answers of a few MT-Bench models to the same 80 questions (aligned by question id)."""
    folder = MT_BENCH / "model_answer"
    files = sorted(folder.glob("*.jsonl"))[:limit_models]
    per_model: list[dict[int, str]] = []
    for path in files:
        answers = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                answers[int(row["question_id"])] = str(row["choices"][0]["turns"][0])
        per_model.append(answers)
    shared = sorted(set.intersection(*(set(a) for a in per_model))) if per_model else []
    return [[a[q] for q in shared] for a in per_model]


def bench_rse_offline(pairs: int, embeddings: bool) -> dict[str, Any]:
    """RSE OfflineJudge.score: (reference answer, candidate answer) pairs scored per second.

    A fresh judge for each pass over the corpus, so its per-text memo starts empty: every text
    is measured (profiled, outlined, embedded) once per pass, as in a real run where each
    reference answer meets every test model's answer."""
    try:
        from distillscope.rse.offline import embed
        from distillscope.rse.offline.judge import OfflineJudge
        from distillscope.rse.types import PairItem
    except ImportError as exc:
        return {"skipped": f"RSE offline judge not importable ({exc})"}
    if not (MT_BENCH / "model_answer").is_dir():
        return {"skipped": f"{MT_BENCH} not present"}
    if embeddings and not embed.available():
        return {"skipped": embed.missing_reason()}
    models = mt_bench_answers()
    reference, others = models[0], models[1:]
    corpus = [
        PairItem(prompt_id=str(i), prompt="", reference=reference[i], candidate=other[i])
        for other in others
        for i in range(len(reference))
    ]
    OfflineJudge(embeddings=embeddings).score(corpus[:4])  # warm-up: imports, model load

    def work() -> int:
        done = 0
        while done < pairs:
            batch = corpus[: pairs - done]
            encoder = embed.Encoder() if embeddings else None  # empty vector cache
            if encoder is not None:
                encoder._model = embed.shared_encoder()._load()  # the loaded model, not its cache
            OfflineJudge(embeddings=embeddings, encoder=encoder).score(batch)
            done += len(batch)
        return done

    figures = timed(work)
    figures["corpus_pairs"] = len(corpus)
    figures["content"] = "embedding + lexical" if embeddings else "lexical only"
    return figures


def bench_embeddings(sentences: int) -> dict[str, Any]:
    """Sentence embeddings as RSE's content similarity computes them (MiniLM on CPU)."""
    try:
        from distillscope.rse.offline import embed
    except ImportError as exc:
        return {"skipped": f"RSE embedder not importable ({exc})"}
    if not embed.available():
        return {"skipped": embed.missing_reason()}
    if not (MT_BENCH / "model_answer").is_dir():
        return {"skipped": f"{MT_BENCH} not present"}
    pool = [
        s.strip()
        for answers in mt_bench_answers()
        for text in answers
        for s in re.split(r"(?<=[.!?])\s+|\n+", text)
        if len(s.strip()) >= 20
    ]
    pool = list(dict.fromkeys(pool))
    model = embed.shared_encoder()._load()  # load time is not embedding time

    def work() -> int:
        done = 0
        while done < sentences:
            encoder = embed.Encoder()  # empty vector cache: every sentence goes through the model
            encoder._model = model
            batch = pool[: sentences - done]
            encoder.encode(batch)
            done += len(batch)
        return done

    figures = timed(work)
    figures["model"] = embed.MODEL_NAME
    figures["mean_sentence_chars"] = round(sum(map(len, pool)) / len(pool), 1)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--responses", type=int, default=20_000, help="ICE rules judge: responses to judge")
    parser.add_argument("--pairs", type=int, default=5_000, help="RSE offline judge: pairs to score")
    parser.add_argument(
        "--embedded-pairs", type=int, default=100, help="RSE offline judge with embeddings: pairs"
    )
    parser.add_argument("--sentences", type=int, default=300, help="embeddings: sentences to embed")
    parser.add_argument(
        "--no-embeddings", action="store_true", help="skip the parts that load the embedding model"
    )
    args = parser.parse_args(argv)
    if min(args.responses, args.pairs, args.embedded_pairs, args.sentences) < 1:
        parser.error("--responses, --pairs, --embedded-pairs and --sentences must be at least 1")

    machine = machine_info()
    rules = bench_rules(args.responses)
    rse = bench_rse_offline(args.pairs, embeddings=False)
    skip = {"skipped": "--no-embeddings"}
    rse_emb = skip if args.no_embeddings else bench_rse_offline(args.embedded_pairs, embeddings=True)
    emb = skip if args.no_embeddings else bench_embeddings(args.sentences)

    def rate(part: dict[str, Any]) -> Any:
        return part.get("per_cpu_s", part.get("skipped", "-"))

    figures = {
        "rules_responses_per_second": rules.get("per_cpu_s"),
        "rules_target": 3000,
        "rules_meets_target": rules.get("per_cpu_s", 0) >= 3000 if "per_cpu_s" in rules else None,
        "rse_offline_pairs_per_second": rse.get("per_cpu_s"),
        "rse_offline_with_embeddings_pairs_per_second": rse_emb.get("per_cpu_s"),
        "embedding_sentences_per_second": emb.get("per_cpu_s"),
        "rules": rules,
        "rse_offline": rse,
        "rse_offline_with_embeddings": rse_emb,
        "embeddings": emb,
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
        "python_loop_ms": machine["python_loop_ms"],
    }
    print_table(
        "judges: items per CPU-second of one process (wall-clock rate in the detail)",
        [
            ("ICE default judge (rules), responses/s (target 3,000)", rate(rules)),
            ("  wall-clock responses/s", rules.get("per_wall_s", "-")),
            ("  rule reader alone (signals only), responses/s", rate(rules.get("reader_only", {}))),
            ("  share of the time in features + scorer", rules.get("scorer_share_of_time", "-")),
            ("  load of the shipped weights, ms", rules.get("load_ms", "-")),
            (
                f"  one {rules.get('huge_answer_kb', '-')} KB answer of names, CPU s",
                rules.get("huge_answer_s", "-"),
            ),
            ("RSE offline judge (lexical content), pairs/s", rate(rse)),
            ("  wall-clock pairs/s", rse.get("per_wall_s", "-")),
            ("RSE offline judge (+ embeddings), pairs/s", rate(rse_emb)),
            ("  wall-clock pairs/s", rse_emb.get("per_wall_s", "-")),
            ("embeddings, sentences/s", rate(emb)),
            ("  wall-clock sentences/s", emb.get("per_wall_s", "-")),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
            ("  fixed 1,000,000-step Python loop, ms (lower: a faster CPU now)", machine["python_loop_ms"]),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
