"""The scorer: a logistic regression over an answer's signals and hashed n-grams, one head for
loose and one for strict, each followed by its calibration. Plain Python at inference (sums of a few
hundred weights; an ICE run loads no numpy); the weights were fitted with scikit-learn by
`distillscope.ice.judges.training`."""

from __future__ import annotations

import math
import operator

from distillscope.ice.judges.calibration import platt
from distillscope.ice.judges.signals.features import STRICT_MENTIONS, Features
from distillscope.ice.judges.weights import HEADS, Head, ScorerWeights


class _Linear:
    """One head's weights laid out for lookup: a dense list per block (bucket -> weight)."""

    def __init__(self, head: Head, text_bits: int, template_bits: int, floor: int) -> None:
        self.intercept = head.intercept
        self.signals = list(head.signals)
        self.text = [0.0] * (1 << text_bits)
        for i, w in zip(head.text_index, head.text_weight, strict=True):
            self.text[i] = w
        self.template = [0.0] * (1 << template_bits)
        for i, w in zip(head.template_index, head.template_weight, strict=True):
            self.template[i] = w
        self.floor = floor
        self.platt = head.platt

    def logit(self, f: Features) -> float:
        z: float = self.intercept + sum(map(operator.mul, self.signals, f.signals))
        if f.text:
            z += _total(self.text, f.text) / math.sqrt(max(len(f.text), self.floor))
        if f.template:
            z += _total(self.template, f.template) / math.sqrt(max(len(f.template), self.floor))
        return z


def _total(weights: list[float], buckets: tuple[int, ...]) -> float:
    """The sum of the buckets' weights (looked up in C: an answer has a few hundred buckets)."""
    if len(buckets) == 1:
        return weights[buckets[0]]
    picked: tuple[float, ...] = operator.itemgetter(*buckets)(weights)
    return sum(picked)


class Scorer:
    """Raw logits and calibrated probabilities of one answer's `Features`."""

    def __init__(self, weights: ScorerWeights) -> None:
        cfg = weights.config
        self.weights = weights
        self._heads = [
            _Linear(weights.heads[name], cfg.text_bits, cfg.template_bits, cfg.norm_floor) for name in HEADS
        ]

    def logits(self, f: Features) -> tuple[float, float]:
        """(loose, strict) raw logits."""
        return self._heads[0].logit(f), self._heads[1].logit(f)

    def probabilities(self, f: Features) -> tuple[float, float]:
        """Calibrated (p_loose, p_strict); p_strict is at most p_loose (strict implies loose), and 0
        for an answer that names no OpenAI or Anthropic family (strict is a claim to be one)."""
        loose = self._heads[0]
        p_loose = platt(loose.logit(f), *loose.platt)
        if not f.signals[STRICT_MENTIONS]:
            return p_loose, 0.0
        strict = self._heads[1]
        return p_loose, min(platt(strict.logit(f), *strict.platt), p_loose)
