"""The scorer: a logistic regression over an answer's signals and hashed n-grams, one head for
loose and one for strict, each followed by its calibration. Plain Python at inference (sums of a few
hundred weights; an ICE run loads no numpy); the weights were fitted with scikit-learn by
`distillscope.ice.judges.training`."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

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

    def logit(self, f: Features, text: _Picker | None = None, template: _Picker | None = None) -> float:
        """The raw logit; `text` / `template` pick the blocks' weights (made once for both heads)."""
        z: float = self.intercept + sum(map(operator.mul, self.signals, f.signals))
        if f.text:
            picked = (text or _picker(f.text))(self.text)
            z += sum(picked) / math.sqrt(max(len(f.text), self.floor))
        if f.template:
            picked = (template or _picker(f.template))(self.template)
            z += sum(picked) / math.sqrt(max(len(f.template), self.floor))
        return z


_Picker = Callable[[list[float]], tuple[float, ...]]


def _picker(buckets: tuple[int, ...]) -> _Picker:
    """A function giving the buckets' weights in order (a lookup in C: an answer has a few hundred
    buckets); made once per answer, used by both heads."""
    if len(buckets) == 1:
        (only,) = buckets
        return lambda weights: (weights[only],)
    return operator.itemgetter(*buckets)


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
        if not f.signals[STRICT_MENTIONS]:
            return platt(loose.logit(f), *loose.platt), 0.0
        text = _picker(f.text) if f.text else None
        template = _picker(f.template) if f.template else None
        p_loose = platt(loose.logit(f, text, template), *loose.platt)
        strict = self._heads[1]
        return p_loose, min(platt(strict.logit(f, text, template), *strict.platt), p_loose)
