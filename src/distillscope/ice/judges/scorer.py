"""The scorer: a logistic regression over an answer's signals and hashed n-grams, one head for
loose and one for strict, each followed by its calibration. Pure numpy at inference (the weights
were fitted with scikit-learn by `distillscope.ice.judges.training`)."""

from __future__ import annotations

import math

import numpy as np

from distillscope.ice.judges.calibration import apply_platt
from distillscope.ice.judges.signals.features import STRICT_MENTIONS, Features
from distillscope.ice.judges.weights import HEADS, ScorerWeights


class Scorer:
    """Raw logits and calibrated probabilities of one answer's `Features`."""

    def __init__(self, weights: ScorerWeights) -> None:
        cfg = weights.config
        self.weights = weights
        heads = [weights.heads[name] for name in HEADS]
        self._intercept = np.array([h.intercept for h in heads])
        self._signals = np.stack([h.signals.astype(np.float64) for h in heads])  # (2, S)
        self._text = np.zeros((1 << cfg.text_bits, 2))  # bucket -> (loose, strict) weight
        self._template = np.zeros((1 << cfg.template_bits, 2))
        for k, h in enumerate(heads):
            self._text[h.text_index.astype(np.int64), k] = h.text_weight
            self._template[h.template_index.astype(np.int64), k] = h.template_weight
        self._platt = [h.platt for h in heads]
        self._floor = cfg.norm_floor

    def logits(self, f: Features) -> np.ndarray:
        """(loose, strict) raw logits."""
        z = self._intercept + self._signals @ f.signals
        if f.text.size:
            z = z + self._text[f.text].sum(axis=0) / math.sqrt(max(f.text.size, self._floor))
        if f.template.size:
            z = z + self._template[f.template].sum(axis=0) / math.sqrt(max(f.template.size, self._floor))
        return np.asarray(z)

    def probabilities(self, f: Features) -> tuple[float, float]:
        """Calibrated (p_loose, p_strict); p_strict is at most p_loose (strict implies loose), and 0
        for an answer that names no OpenAI or Anthropic family (strict is a claim to be one)."""
        z = self.logits(f)
        p_loose = float(apply_platt(z[0], *self._platt[0]))
        if not f.signals[STRICT_MENTIONS]:
            return p_loose, 0.0
        p_strict = float(apply_platt(z[1], *self._platt[1]))
        return p_loose, min(p_strict, p_loose)
