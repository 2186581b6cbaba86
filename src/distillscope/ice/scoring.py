"""ICE scores: loose, strict and hard = positives / judged responses, each with a Wilson 95% interval.

A judge may be unsure: its best guess is the point estimate, and each score also carries the band
it could move in (`band`: [score if every unsure case is a no, score if every one is a yes]) and
`n_unsure`. `categories` breaks loose and strict down by the rubric category of each verdict
(`unknown` where the judge names none, e.g. recorded labels), so the parts sum to the score.

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
from distillscope.ice.types import Category, Verdict
from distillscope.stats.intervals import proportion

UNKNOWN_CATEGORY = "unknown"  # a verdict that names no category (recorded labels, an older judge)

METRICS = ("loose", "strict", "hard")
BREAKDOWNS = ("language", "area", "template", "mutator", "generation")


@dataclass(frozen=True)
class Outcome:
    """The three labels of one response (None: not judged on that metric), whether the judge was
    unsure (the labels are then its best guess), what category it gave, and whether the prompt
    names a vendor (an unsure case can only be a hard yes where it does not)."""

    loose: bool | None
    strict: bool | None
    hard: bool | None
    unsure: bool = False
    category: str | None = None
    vendor_prompt: bool = False


def outcome(
    verdict: Verdict | None, prompt: str, vendor_words: Sequence[str] = DEFAULT_VENDOR_WORDS
) -> Outcome:
    if verdict is None:
        return Outcome(None, None, None)
    strict = verdict.strict
    if strict is None and verdict.loose is False:
        strict = False
    vendor = names_vendor(prompt, vendor_words)
    hard = None if strict is None else bool(strict and not vendor)
    category = str(verdict.category) if verdict.category is not None else None
    unsure = verdict.unsure and verdict.loose is not None
    return Outcome(verdict.loose, strict, hard, unsure, category, vendor)


def _could_be_yes(o: Outcome, metric: str) -> bool:
    """An unsure case that the upper end of the band counts as a yes on this metric."""
    return o.unsure and not (metric == "hard" and o.vendor_prompt)


def scores(outcomes: Sequence[Outcome]) -> dict[str, dict[str, object]]:
    """Per metric: the proportion with its Wilson interval (best guesses for unsure cases), plus
    `n_unsure` and `band` [every unsure a no, every unsure a yes]."""
    out: dict[str, dict[str, object]] = {}
    for metric in METRICS:
        judged = [o for o in outcomes if getattr(o, metric) is not None]
        count = sum(bool(getattr(o, metric)) for o in judged)
        n = len(judged)
        sure_yes = sum(bool(getattr(o, metric)) for o in judged if not o.unsure)
        maybe = sum(_could_be_yes(o, metric) for o in judged)
        entry = proportion(count, n)
        entry["n_unsure"] = sum(o.unsure for o in judged)
        entry["band"] = [round(sure_yes / n, 6), round((sure_yes + maybe) / n, 6)] if n else [None, None]
        out[metric] = entry
    return out


def _category_order(name: str) -> tuple[int, str]:
    order = [c.value for c in Category]
    return (order.index(name), name) if name in order else (len(order), name)


def categories(outcomes: Sequence[Outcome]) -> dict[str, dict[str, object]]:
    """Loose and strict broken down by the verdicts' category: each category's positives over all
    judged responses (Wilson intervals), so the loose parts sum to the loose score; `responses` is
    how many judged responses got that category (zero categories included)."""
    judged = [o for o in outcomes if o.loose is not None]
    n = len(judged)
    names = sorted({o.category or UNKNOWN_CATEGORY for o in judged}, key=_category_order)
    out: dict[str, dict[str, object]] = {}
    for name in names:
        mine = [o for o in judged if (o.category or UNKNOWN_CATEGORY) == name]
        out[name] = {
            "responses": len(mine),
            "contradiction": Category(name).contradicts if name in Category._value2member_map_ else None,
            "loose": proportion(sum(bool(o.loose) for o in mine), n),
            "strict": proportion(sum(bool(o.strict) for o in mine), n),
            "n_unsure": sum(o.unsure for o in mine),
        }
    return out


def n_unsure(outcomes: Sequence[Outcome]) -> int:
    return sum(o.unsure for o in outcomes if o.loose is not None)


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
