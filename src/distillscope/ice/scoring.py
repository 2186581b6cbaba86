"""ICE scores: loose, strict and hard = positives / judged responses, each with a Wilson 95% interval.

hard = strict and the full prompt names none of the vendor words (default openai, chatgpt, gpt,
claude, anthropic; case-insensitive substring), which reproduces the paper's hard scores: a
prompt that says "you are ChatGPT" makes a "ChatGPT" answer unsurprising.
Unjudged responses and failed calls are left out of n, never counted as negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distillscope.ice.templates import DEFAULT_VENDOR_WORDS, names_vendor
from distillscope.ice.types import Verdict
from distillscope.stats.intervals import proportion

METRICS = ("loose", "strict", "hard")
BREAKDOWNS = ("language", "area", "template", "mutator", "generation")


@dataclass(frozen=True)
class Outcome:
    """The three labels of one response (None: not judged on that metric)."""

    loose: bool | None
    strict: bool | None
    hard: bool | None


def outcome(
    verdict: Verdict | None, prompt: str, vendor_words: Sequence[str] = DEFAULT_VENDOR_WORDS
) -> Outcome:
    if verdict is None:
        return Outcome(None, None, None)
    strict = verdict.strict
    if strict is None and verdict.loose is False:
        strict = False
    hard = None if strict is None else bool(strict and not names_vendor(prompt, vendor_words))
    return Outcome(verdict.loose, strict, hard)


def scores(outcomes: Sequence[Outcome]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for metric in METRICS:
        values = [getattr(o, metric) for o in outcomes if getattr(o, metric) is not None]
        out[metric] = proportion(sum(bool(v) for v in values), len(values))
    return out


def breakdowns(keys: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Scores per value of each breakdown key (language, area, template, mutator, generation);
    a key no row has is left out."""
    out: dict[str, dict[str, Any]] = {}
    for name in BREAKDOWNS:
        groups: dict[str, list[Outcome]] = {}
        for row, result in zip(keys, outcomes, strict=True):
            value = row.get(name)
            if value is None:
                continue
            groups.setdefault(str(value), []).append(result)
        if groups:
            out[name] = {value: scores(group) for value, group in sorted(groups.items())}
    return out
