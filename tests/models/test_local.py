import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distillscope.errors import BackendError, UserError
from distillscope.models import local
from distillscope.models.local import embedded_model_path
from distillscope.models.spec import build_backend
from distillscope.models.types import GenerateParams, ModelRequest

from ..rse.conftest import invoke, read_results

pytestmark = pytest.mark.local_model


def test_embedded_gguf_is_found_through_package_metadata() -> None:
    path = embedded_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_smollm2_answers_deterministically_without_blocking_the_loop() -> None:
    backend = build_backend("local:smollm2")
    request = backend.prepare(
        ModelRequest.user("Name a colour.", params=GenerateParams(max_tokens=12, temperature=0.0))
    )

    async def go() -> tuple[list[str], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        answers = await asyncio.gather(backend.generate(request), backend.generate(request))
        task.cancel()
        return [a.text for a in answers], ticks

    started = time.monotonic()
    texts, ticks = asyncio.run(go())
    assert texts[0] == texts[1] and texts[0].strip()
    assert ticks >= (time.monotonic() - started) / 0.01 * 0.3  # the event loop kept running


def test_local_gguf_path_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        build_backend(f"local:{tmp_path}/missing.gguf")
    with pytest.raises(UserError, match="is a directory"):
        build_backend(f"local:{tmp_path}")


def test_loaded_models_are_closed_before_the_interpreter_shuts_down() -> None:
    """A process that used the embedded model exits without llama-cpp-python's shutdown traceback, and
    `close_models` (the atexit hook) frees the cache; the next call loads the model again."""
    code = (
        "import asyncio\n"
        "from distillscope.models.spec import build_backend\n"
        "from distillscope.models.types import GenerateParams, ModelRequest\n"
        "b = build_backend('local:smollm2')\n"
        "r = b.prepare(ModelRequest.user('Hi', params=GenerateParams(max_tokens=2)))\n"
        "print(bool(asyncio.run(b.generate(r)).text is not None))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr

    backend = build_backend("local:smollm2")
    request = backend.prepare(ModelRequest.user("Name a colour.", params=GenerateParams(max_tokens=4)))
    first = asyncio.run(backend.generate(request)).text
    assert local._MODELS
    local.close_models()
    assert not local._MODELS
    assert asyncio.run(backend.generate(request)).text == first  # loaded again, same answer


def other_checkpoint(weights: bytes) -> bytes:
    """The same model file with 64 KiB of its tensor data changed (same size, still loadable): the
    lowest bit of every even byte. Tensor data is 32-aligned and GGUF's block types keep their f16
    scales at even offsets, so an even byte is a quantised value or a scale's low mantissa byte,
    never a float's exponent: no value becomes inf or NaN."""
    changed = bytearray(weights)
    middle = len(changed) // 2 & ~31
    for i in range(middle, middle + 65536, 2):
        changed[i] ^= 1
    return bytes(changed)


def replace_in_place(path: Path, data: bytes) -> None:
    """Write other weights over a file, then set its modification time back, as a sync tool may."""
    stat = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_checkpoint_of_the_same_size_is_asked_again_and_a_copy_of_one_resumes(tmp_path: Path) -> None:
    """A second checkpoint written over the first (same name, size and modification time), with the
    ledger shared through --cache, is asked anew (was answered from the first's entries); the same
    weights copied elsewhere under another name are answered from the ledger with no call."""
    first = embedded_model_path().read_bytes()
    model = tmp_path / "ckpt" / "model.gguf"
    model.parent.mkdir()
    model.write_bytes(first)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a colour.\n", encoding="utf-8")

    def answer(path: Path, out: str) -> dict[str, int]:
        result = invoke(
            "models", "answer", f"local:{path}", "--prompts", str(prompts), "--out", str(tmp_path / out),
            "--cache", str(tmp_path / "ledger.db"), "--max-tokens", "4", "--quiet",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        totals: dict[str, int] = read_results(tmp_path / out)["run"]["totals"]
        return totals

    assert answer(model, "a")["calls_sent"] == 1
    replace_in_place(model, other_checkpoint(first))
    second = answer(model, "b")
    assert (second["calls_sent"], second["calls_cached"], second["calls_failed"]) == (1, 0, 0)
    copy = tmp_path / "elsewhere" / "renamed.gguf"
    copy.parent.mkdir()
    shutil.copy2(model, copy)
    third = answer(copy, "c")
    assert (third["calls_sent"], third["calls_cached"]) == (0, 1)
    rows = [json.loads(line) for line in (tmp_path / "c" / "responses.jsonl").read_text().splitlines()]
    assert [r["response"] for r in rows] == [
        json.loads(line)["response"] for line in (tmp_path / "b" / "responses.jsonl").read_text().splitlines()
    ]


def test_a_model_file_replaced_in_place_is_loaded_anew(tmp_path: Path) -> None:
    """The loaded-model cache does not serve the weights loaded before when the file is replaced by
    a checkpoint of the same size with its modification time set back (was keyed by path alone)."""
    model = tmp_path / "model.gguf"
    weights = embedded_model_path().read_bytes()
    model.write_bytes(weights)
    try:
        before, _ = local._load(model, 256)
        assert local._load(model, 256)[0] is before  # the same file: loaded once
        replace_in_place(model, other_checkpoint(weights))
        after, _ = local._load(model, 256)
        assert after is not before
        assert [k for k in local._MODELS if k[0] == str(model)] == [  # the old one freed
            (str(model), 256, local.weights_fingerprint(model))
        ]
    finally:
        local.close_models()


def fake_gguf(path: Path, n_tensors: int, size: int) -> list[int]:
    """A sparse GGUF-shaped file: a v3 header with a tokenizer array and `n_tensors` tensors of equal
    size; returns where each tensor's bytes start."""

    def text(b: bytes) -> bytes:
        return struct.pack("<Q", len(b)) + b

    tokens = b"".join(text(b"tok%d" % i) for i in range(1000))
    kv = text(b"general.architecture") + struct.pack("<I", 8) + text(b"llama")
    kv += text(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 1000) + tokens
    per = (size - (1 << 20)) // n_tensors // 32 * 32
    infos = b"".join(
        text(b"blk.%d.weight" % i) + struct.pack("<IQIQ", 1, per // 2, 1, i * per) for i in range(n_tensors)
    )
    header = b"GGUF" + struct.pack("<IQQ", 3, n_tensors, 2) + kv + infos
    start = -(-len(header) // 32) * 32
    with path.open("wb") as out:
        out.write(header)
        out.truncate(size)
    return [start + i * per for i in range(n_tensors)]


def test_weights_fingerprint_tells_one_changed_tensor_apart_and_follows_copies(tmp_path: Path) -> None:
    """Files past the whole-hash size are sampled per tensor: another checkpoint that differs in one
    tensor of 64 (same size, same name) has another fingerprint; a copy, a move, a touch do not."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    size = local.FULL_HASH_BYTES + (64 << 20)
    a, b = tmp_path / "a" / "model.gguf", tmp_path / "b" / "model.gguf"
    starts = fake_gguf(a, 64, size)
    fake_gguf(b, 64, size)
    assert local.weights_fingerprint(a) == local.weights_fingerprint(b)  # the same bytes
    with b.open("r+b") as f:  # tensor 37 trained: its values differ throughout
        f.seek(starts[37])
        f.write(os.urandom(starts[38] - starts[37]))
    assert b.stat().st_size == size
    assert local.weights_fingerprint(a) != local.weights_fingerprint(b)
    moved = tmp_path / "moved.gguf"
    shutil.copy2(b, tmp_path / "copy.gguf")
    (tmp_path / "copy.gguf").rename(moved)
    os.utime(moved)
    assert local.weights_fingerprint(moved) == local.weights_fingerprint(b)


def test_small_files_are_hashed_whole(tmp_path: Path) -> None:
    """Below FULL_HASH_BYTES one changed byte anywhere gives another fingerprint."""
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    data = bytes(range(256)) * 4096
    a.write_bytes(data)
    b.write_bytes(data[:777_777] + b"\x00" + data[777_778:])
    assert local.weights_fingerprint(a) != local.weights_fingerprint(b)


def test_a_model_file_replaced_during_a_run_is_refused_not_mixed(tmp_path: Path) -> None:
    """A backend answers with the weights its calls are keyed by: after the file is replaced by
    another checkpoint (same size and modification time), a call fails, non-retryable, instead of
    being answered by the new weights and recorded as the old ones'."""
    model = tmp_path / "model.gguf"
    weights = embedded_model_path().read_bytes()
    model.write_bytes(weights)
    backend = build_backend(f"local:{model}")
    identity = backend.ledger_identity()
    replace_in_place(model, other_checkpoint(weights))
    request = backend.prepare(ModelRequest.user("Hi", params=GenerateParams(max_tokens=2)))
    with pytest.raises(BackendError, match="replaced by other weights during the run") as caught:
        asyncio.run(backend.generate(request))
    assert not caught.value.retryable and backend.ledger_identity() == identity
