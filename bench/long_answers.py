"""The offline RSE judge on very long answers: seconds per pair as answers grow.

Step matching was quadratic (every step of one answer against every step of the other: a
4,000-sentence pair took 20 s); it now uses a prefix-filter index, and the judge reads at most
`max_chars` characters of each answer (default 100,000) and matches at most `MAX_STEPS` (500)
steps of each, so a 60 MB answer costs what a 100 kB one does. The table gives, per answer
length, the step matching as first written (all steps, all pairs, up to `--all-pairs-max`
sentences) and as now (indexed, capped), then the whole judge (embeddings off).

    python bench/long_answers.py --sentences 500,1000,2000,4000 --huge-mb 60
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table
from distillscope.rse.offline.judge import OfflineJudge
from distillscope.rse.offline.structure import MATCH_JACCARD, _lis_length, order_similarity, outline
from distillscope.rse.types import PairItem


def all_pairs(a: tuple[frozenset[str], ...], b: tuple[frozenset[str], ...]) -> float:
    """The step matching before the index: every unused step of `b` for each step of `a`."""
    matches: list[int] = []
    used: set[int] = set()
    for step in a:
        best, best_j = MATCH_JACCARD, -1
        for j, other in enumerate(b):
            if j not in used and (jac := len(step & other) / len(step | other)) >= best:
                best, best_j = jac, j
        if best_j >= 0:
            used.add(best_j)
            matches.append(best_j)
    return _lis_length(matches) / max(len(a), len(b))


def answer(rng: random.Random, sentences: int) -> str:
    """English-like text: Zipf-distributed words from a 5,000-word vocabulary, 8-20 per sentence."""
    vocab = [f"w{i}" for i in range(5_000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    return " ".join(
        " ".join(rng.choices(vocab, weights, k=rng.randint(8, 20))).capitalize() + "."
        for _ in range(sentences)
    )


def seconds(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", default="500,1000,2000,4000", help="answer lengths, in sentences")
    parser.add_argument("--all-pairs-max", type=int, default=2000, help="longest answer timed the old way")
    parser.add_argument("--huge-mb", type=float, default=60.0, help="size of the runaway answer, MB")
    args = parser.parse_args()
    rng = random.Random(0)
    judge = OfflineJudge(embeddings=False)
    rows: list[tuple[str, object]] = []
    figures: dict[str, object] = {"machine": machine_info(), "max_chars": judge.max_chars}
    for n in (int(x) for x in args.sentences.split(",")):
        a, b = answer(rng, n), answer(rng, n)
        oa, ob = outline(a), outline(b)
        indexed = seconds(order_similarity, oa.steps, ob.steps)
        old = seconds(all_pairs, oa.steps, ob.steps) if n <= args.all_pairs_max else None
        whole = seconds(judge.score, [PairItem(prompt_id="p", prompt="q", reference=a, candidate=b)])
        rows.append((f"{n} sentences ({len(a) // 1000} kB): all-pairs / indexed / judge s", f"{'-' if old is None else f'{old:.3f}'} / {indexed:.3f} / {whole:.3f}"))  # fmt: skip
        figures[f"s{n}"] = {"chars": len(a), "all_pairs_s": old, "indexed_s": round(indexed, 4), "judge_s": round(whole, 4)}  # fmt: skip
    unit = answer(rng, 200)
    huge = unit * max(1, int(args.huge_mb * 1e6 / len(unit)))
    huge_s = seconds(
        judge.score, [PairItem(prompt_id="p", prompt="q", reference=answer(rng, 300), candidate=huge)]
    )
    rows.append((f"judge, one answer of {len(huge) / 1e6:.0f} MB", f"{huge_s:.3f} s"))
    figures["huge"] = {"chars": len(huge), "judge_s": round(huge_s, 4)}
    print_table("offline RSE judge on long answers (embeddings off)", rows)
    emit_json(figures)


if __name__ == "__main__":
    main()
