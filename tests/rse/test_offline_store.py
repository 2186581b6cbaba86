"""The disk cache of embeddings and the WordLlama encoder (offline, from its wheel)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from distillscope.rse.offline import embed
from distillscope.rse.offline.store import EmbeddingStore, store_path
from distillscope.testing.server import OpenAIServer

from .conftest import invoke, read_results

needs_wordllama = pytest.mark.skipif(
    not embed.wordllama_available(), reason="wordllama not installed (extra fast-embed)"
)


def test_store_round_trip_by_encoder_and_digest(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path / "e.sqlite")
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    store.put_many("enc", [b"a" * 16, b"b" * 16], vectors)
    store.put_many("enc", [b"a" * 16], vectors[1:])  # a second write of a key keeps the first
    got = store.get_many("enc", [b"a" * 16, b"b" * 16, b"c" * 16])
    assert set(got) == {b"a" * 16, b"b" * 16}
    assert np.array_equal(got[b"a" * 16], vectors[0])
    assert store.get_many("other", [b"a" * 16]) == {}
    assert store_path(Path("runs/x/ledger.sqlite")) == Path("runs/x/ledger.embeddings.sqlite")


@needs_wordllama
def test_wordllama_loads_from_its_wheel_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = embed.WordLlamaEncoder()
    vectors = encoder.encode(["How do I bake bread?", "Bread baking, step by step", "Tax law in Peru"])
    assert vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # it carries meaning
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*"))  # nothing fetched


@needs_wordllama
def test_a_second_encoder_reads_the_disk_cache(tmp_path: Path) -> None:
    texts = [f"answer number {i} about bread" for i in range(50)]
    first = embed.WordLlamaEncoder(store=EmbeddingStore(tmp_path / "e.sqlite"))
    a = first.encode(texts)
    assert first.encoded == 50
    second = embed.WordLlamaEncoder(store=EmbeddingStore(tmp_path / "e.sqlite"))
    b = second.encode([*texts, "one new text"])
    assert second.encoded == 1  # only the new text went through the model
    assert np.array_equal(a, b[:50])


def answerer(prefix: str) -> Callable[[dict[str, Any]], str]:
    def reply(body: dict[str, Any]) -> str:
        return f"{prefix} {body['messages'][-1]['content']} - with some detail."

    return reply


@needs_wordllama
def test_rse_run_with_wordllama_caches_embeddings_beside_the_ledger(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    ref, other = openai_server(answerer("Answer:")), openai_server(answerer("Reply:"))
    shared = tmp_path / "shared.sqlite"
    args = [
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:o@{other.url}",
        "--dataset", "ex=builtin", "--sample", "3", "--encoder", "wordllama", "--cache", str(shared), "--quiet",
    ]  # fmt: skip
    result = invoke(*args, "--out", str(tmp_path / "one"))
    assert result.exit_code == 0, result.output
    data = read_results(tmp_path / "one")
    assert "wordllama" in data["judge_settings"]["content"]
    cache = tmp_path / "shared.embeddings.sqlite"
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 6
    assert invoke(*args, "--out", str(tmp_path / "two")).exit_code == 0
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 6  # nothing new to encode
    assert read_results(tmp_path / "two")["models"] == data["models"]
    bad = invoke(*args[:-1], "--encoder", "nope", "--out", str(tmp_path / "three"))
    assert bad.exit_code == 2 and "--encoder must be one of" in bad.output


@needs_wordllama
def test_a_finished_run_closes_its_embedding_cache(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """The cache beside the ledger was left open when the run ended: its `-wal` and `-shm` files
    stayed in the run directory (SQLite removes them when the last connection closes)."""
    ref, other = openai_server(answerer("Answer:")), openai_server(answerer("Reply:"))
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:o@{other.url}",
        "--dataset", "ex=builtin", "--sample", "2", "--encoder", "wordllama", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "ledger.embeddings.sqlite").is_file()
    assert sorted(p.name for p in out.glob("*.sqlite-*")) == []


@needs_wordllama
def test_wordllama_leaves_the_terminal_free_of_log_lines(tmp_path: Path) -> None:
    """Importing wordllama set up the root logger (logging.basicConfig), so `rse run --encoder
    wordllama` printed distillscope's log on the terminal: `INFO:distillscope:wrote .../report.html`.
    A fresh process, as a user runs it: the log stays in run.log."""
    import subprocess
    import sys

    ref = OpenAIServer(answerer("Answer:")).start()
    other = OpenAIServer(answerer("Reply:")).start()
    args = [
        sys.executable, "-m", "distillscope", "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}",
        "--test", f"openai-compatible:o@{other.url}", "--dataset", "ex=builtin", "--sample", "2",
        "--encoder", "wordllama", "--out", str(tmp_path / "run"),
    ]  # fmt: skip
    try:
        run = subprocess.run(args, capture_output=True, text=True, timeout=300)
    finally:
        ref.stop()
        other.stop()
    assert run.returncode == 0, run.stderr
    assert "distillscope:" not in run.stderr and "report.html" in (tmp_path / "run" / "run.log").read_text()
