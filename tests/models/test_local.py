import asyncio
import time
from pathlib import Path

import pytest

from distillscope.errors import UserError
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
