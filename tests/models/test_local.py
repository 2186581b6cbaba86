import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.models import local
from distillscope.models.local import embedded_model_path
from distillscope.models.spec import build_backend
from distillscope.models.types import GenerateParams, ModelRequest

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
