"""The offline judge: style, logical structure and content similarity measured directly, no API.

Each aspect is a raw similarity in [0, 1] (see style.py, structure.py, content.py), mapped to the
paper's 1-5 scale by `scale.to_scale` with a per-measure floor (the raw similarity of unrelated
answers). Content is the mean of the embedding score and the lexical score when the `embed` extra
is installed (and neither text is mostly CJK, see content.py), else the lexical score alone, and
the evidence says so. Overall is the mean of the
three aspects. A candidate identical to its reference scores 5 on every aspect.

All raw measurements are kept in `AspectScores.raw` (style, logic, lexical, embedding when
present) for the contrast score and for evidence.

Memory: per-text features (style profile, outline, n-gram counts) are memoised in bounded LRU
caches (`MEMO_SIZE` texts each), not for every text of the run: the n-gram counters of 10,000
answers alone took ~250 MiB. A reference answer is reused across test models, so it stays cached.
Pairs are scored `CHUNK` at a time on one dedicated worker thread, so the encoder's scratch
memory is bounded by a chunk and reused by one thread (one malloc arena) rather than spread over
the event loop's thread pool.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from distillscope.rse.offline import embed
from distillscope.rse.offline.content import lexical_similarity, mostly_cjk, ngram_counts, tokens
from distillscope.rse.offline.scale import FLOORS, to_scale
from distillscope.rse.offline.structure import outline, structure_similarity
from distillscope.rse.offline.style import profile, style_differences, style_similarity
from distillscope.rse.types import MAX_JUDGE_CHARS, AspectScores, PairItem, SimilarityJudge

T = TypeVar("T")


MEMO_SIZE = 2048  # texts per feature cache
MAX_CHARS = MAX_JUDGE_CHARS  # characters of each answer the judge reads (a runaway answer stays linear)
CHUNK = 256  # pairs scored per step

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="distillscope-offline-judge")


def _memo(fn: Callable[[str], T], maxsize: int = MEMO_SIZE) -> Callable[[str], T]:
    return functools.lru_cache(maxsize=maxsize)(fn)


class OfflineJudge(SimilarityJudge):
    """Similarity without a model call. `embeddings=None` uses them when installed."""

    name = "offline"

    def __init__(
        self,
        embeddings: bool | None = None,
        encoder: embed.Encoder | None = None,
        max_chars: int = MAX_CHARS,
    ) -> None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.max_chars = max_chars
        if embeddings and encoder is None and not embed.available():
            raise ImportError(embed.missing_reason())
        self.use_embeddings = (encoder is not None or embed.available()) if embeddings is None else embeddings
        self.encoder = (
            encoder if encoder is not None else (embed.shared_encoder() if self.use_embeddings else None)
        )
        self._profile = _memo(profile)
        self._outline = _memo(outline)
        self._counts = _memo(lambda t: ngram_counts(tokens(t)))
        self._cjk = _memo(mostly_cjk)

    @property
    def settings(self) -> dict[str, object]:
        return {
            "judge": self.name,
            "content": f"embedding ({self.encoder.name}) + lexical"
            if self.encoder is not None
            else "lexical only",
            "floors": dict(FLOORS),
            "max_chars": self.max_chars,
        }

    async def judge_many(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        loop = asyncio.get_running_loop()
        out: list[AspectScores | None] = []
        for begin in range(0, len(items), CHUNK):
            out.extend(await loop.run_in_executor(_WORKER, self._score_chunk, items[begin : begin + CHUNK]))
        return out

    def score(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        """Synchronous scoring of many pairs, `CHUNK` at a time (vectorised within a chunk)."""
        out: list[AspectScores | None] = []
        for begin in range(0, len(items), CHUNK):
            out.extend(self._score_chunk(items[begin : begin + CHUNK]))
        return out

    def _score_chunk(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        if not items:
            return []
        refs = [i.reference[: self.max_chars] for i in items]
        cands = [i.candidate[: self.max_chars] for i in items]
        cut = [len(i.reference) > self.max_chars or len(i.candidate) > self.max_chars for i in items]
        style_raw = style_similarity([self._profile(t) for t in refs], [self._profile(t) for t in cands])
        logic_raw = np.array(
            [
                structure_similarity(self._outline(r), self._outline(c))
                for r, c in zip(refs, cands, strict=True)
            ]
        )
        lexical_raw = np.array(
            [lexical_similarity(self._counts(r), self._counts(c)) for r, c in zip(refs, cands, strict=True)]
        )
        embedding_raw: np.ndarray | None = None
        if self.encoder is not None:
            vectors = self.encoder.encode(list(dict.fromkeys(refs + cands)))
            index = {t: i for i, t in enumerate(dict.fromkeys(refs + cands))}
            a = vectors[[index[t] for t in refs]]
            b = vectors[[index[t] for t in cands]]
            embedding_raw = np.clip((a * b).sum(axis=1), -1.0, 1.0)
        style = to_scale(style_raw, FLOORS["style"])
        logic = to_scale(logic_raw, FLOORS["logic"])
        lexical = to_scale(lexical_raw, FLOORS["lexical"])
        use_embedding = np.zeros(len(items), dtype=bool)
        content = lexical
        if embedding_raw is not None:
            use_embedding = np.array(
                [not (self._cjk(r) or self._cjk(c)) for r, c in zip(refs, cands, strict=True)]
            )
            both = 0.5 * (lexical + to_scale(embedding_raw, FLOORS["embedding"]))
            content = np.where(use_embedding, both, lexical)
        out: list[AspectScores | None] = []
        for k, (ref, cand) in enumerate(zip(refs, cands, strict=True)):
            if items[k].reference == items[k].candidate:
                s, lg, ct = 5.0, 5.0, 5.0
            else:
                s, lg, ct = float(style[k]), float(logic[k]), float(content[k])
            raw = {
                "style": float(style_raw[k]),
                "logic": float(logic_raw[k]),
                "lexical": float(lexical_raw[k]),
            }
            if embedding_raw is not None:
                raw["embedding"] = float(embedding_raw[k])
            out.append(
                AspectScores(
                    style=s,
                    logic=lg,
                    content=ct,
                    overall=(s + lg + ct) / 3,
                    raw={key: round(v, 6) for key, v in raw.items()},
                    evidence=self._evidence(ref, cand, raw, embedding_raw is not None, bool(use_embedding[k]))
                    + (f"; only the first {self.max_chars} characters read" if cut[k] else ""),
                )
            )
        return out

    def _evidence(self, ref: str, cand: str, raw: dict[str, float], embedded: bool, used: bool) -> str:
        diffs = style_differences(self._profile(ref), self._profile(cand))
        parts = [
            f"style {raw['style']:.2f}" + (f" (differs in {', '.join(diffs)})" if diffs else ""),
            f"structure {raw['logic']:.2f}",
            f"lexical {raw['lexical']:.2f}",
            (
                f"embedding cosine {raw['embedding']:.2f}"
                if used
                else f"embedding cosine {raw['embedding']:.2f} not used (CJK text, English-centric model): content is lexical only"
            )
            if embedded
            else "no embedding model: content is lexical only",
        ]
        return "; ".join(parts)
