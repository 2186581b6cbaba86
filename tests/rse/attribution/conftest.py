"""Synthetic families for attribution tests: writers with a house style, and writers with none.

A writer answers a prompt with the prompt's topic words, neutral filler, and the markers of its
house style (an opener, a closer, pet words, a list shape). Family "a" and family "b" have
different markers of the same shape (so that neither is easier to recognise); a `neutral` writer uses each family's markers equally often (so it is, by
construction, no more like one family than the other); a `copy_of` writer uses one family's.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from distillscope.rse.attribution.crossfit import Doc

TOPICS = [
    "rivers", "tax", "python", "poems", "sleep", "stars", "bread", "chess", "trains", "rain",
    "music", "debt", "cells", "maps", "salt", "glass", "bees", "wind", "clay", "ink",
]  # fmt: skip
FILLER = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "is",
    "that",
    "it",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "can",
    "by",
    "or",
    "at",
    "from",
]
STYLE = {
    "a": {
        "opener": ["Certainly! Here is", "Certainly! Here's"],
        "words": ["delve", "crucial", "comprehensive", "furthermore", "notably"],
        "closer": "In summary, I hope this helps.",
        "list": "\n1. ",
    },
    "b": {
        "opener": ["Absolutely! There is", "Absolutely! There's"],
        "words": ["honestly", "basically", "pretty", "really", "kinda"],
        "closer": "To conclude, I trust this works.",
        "list": "\n2) ",
    },
}


def answer(rng: random.Random, topic: str, style: str | None) -> str:
    """One answer in a family's style, or (style None) mixing both families' markers at random."""
    pick = style or rng.choice(["a", "b"])
    s = STYLE[pick]
    words = [*rng.choices(FILLER, k=18), *([topic] * 3)]
    for _ in range(4):
        source = STYLE[style or rng.choice(["a", "b"])]["words"]
        words.insert(rng.randrange(len(words)), rng.choice(source))
    body = s["list"].join(" ".join(words[i : i + 6]) for i in range(0, len(words), 6))
    closer = STYLE[style or rng.choice(["a", "b"])]["closer"]
    return f"{rng.choice(s['opener'])} {topic}:{s['list']}{body}\n\n{closer}"


def prompts(n: int) -> list[str]:
    return [f"{TOPICS[i % len(TOPICS)]}{i // len(TOPICS) or ''}" for i in range(n)]


def docs(model: str, style: str | None, n_prompts: int, seed: int, family: str | None = None) -> list[Doc]:
    """A writer's answers to prompts 0..n-1 (prompt id = group)."""
    rng = random.Random(f"{model}-{seed}")
    return [
        Doc(model, f"p{i}", f"p{i}", answer(rng, topic, style), family)
        for i, topic in enumerate(prompts(n_prompts))
    ]


def write_mt_bench(folder: Path, writers: dict[str, str | None], n_prompts: int, seed: int = 0) -> Path:
    """A FastChat-format question file and one answer file per writer (two turns each)."""
    folder.mkdir(parents=True, exist_ok=True)
    topics = prompts(n_prompts)
    with (folder / "question.jsonl").open("w", encoding="utf-8") as fh:
        for i, topic in enumerate(topics):
            row = {"question_id": i + 1, "turns": [f"Tell me about {topic}.", f"More on {topic}, please."]}
            fh.write(json.dumps(row) + "\n")
    for name, style in writers.items():
        rng = random.Random(f"{name}-{seed}")
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, topic in enumerate(topics):
                turns = [answer(rng, topic, style), answer(rng, topic, style)]
                fh.write(json.dumps({"question_id": i + 1, "choices": [{"index": 0, "turns": turns}]}) + "\n")
    return folder
