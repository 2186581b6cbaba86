"""The digest caches beside the ledger (`ledger.features.sqlite`, `ledger.embeddings.sqlite`) left
unreadable by a power cut or a hand edit: one line naming the file and what to do (a `UserError`, exit 2
through the CLI), never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distillscope.digest_store import DigestStore
from distillscope.errors import UserError

from .rse.attribution.conftest import write_mt_bench


def store(path: Path) -> DigestStore:
    return DigestStore(path, table="blobs", kind="kind", value="value")


def test_a_file_that_is_not_sqlite_is_one_user_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.features.sqlite"
    garbage = bytes(range(256)) * 80  # as a crash mid-copy or a wrong file might leave it
    path.write_bytes(garbage)
    with pytest.raises(UserError, match="the cache is damaged") as caught:
        store(path)
    assert str(path) in str(caught.value) and "delete it and rerun" in str(caught.value)
    assert path.read_bytes() == garbage  # left for the user to look at


def test_damaged_pages_are_one_user_error_on_read_and_write(tmp_path: Path) -> None:
    path = tmp_path / "ledger.features.sqlite"
    cache = store(path)
    items = [(i.to_bytes(8, "big"), b"v" * 2000) for i in range(300)]
    cache.put_blobs("k", items)
    assert cache.get_blobs("k", [items[0][0]]) == {items[0][0]: items[0][1]}
    cache.close()
    with path.open("r+b") as fh:  # zero every page past the schema's (the cache is one table)
        fh.seek(2 * 4096)
        fh.write(b"\0" * (path.stat().st_size - 2 * 4096))
    reopened = store(path)
    with pytest.raises(UserError, match="the cache is damaged"):
        reopened.get_blobs("k", [d for d, _ in items])
    with pytest.raises(UserError, match="the cache is damaged"):
        reopened.put_blobs("k", [(b"new", b"value")])
    reopened.close()


def test_attribute_on_a_damaged_feature_cache_exits_2_with_one_line(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", {"a1": "a", "b1": "b", "copycat": "a"}, n_prompts=12)
    out = tmp_path / "run"
    out.mkdir()
    (out / "ledger.features.sqlite").write_bytes(b"not a database " * 400)
    args = [
        sys.executable,
        "-m",
        "distillscope",
        "rse",
        "attribute",
        "--dataset",
        f"mt={folder / 'question.jsonl'}",
    ]
    args += ["--family", f"a=replay:{folder / 'a1'}.jsonl", "--family", f"b=replay:{folder / 'b1'}.jsonl"]
    args += ["--test", f"replay:{folder / 'copycat'}.jsonl", "--out", str(out), "--quiet"]

    result = subprocess.run(args, capture_output=True, text=True, timeout=300)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ledger.features.sqlite: the cache is damaged" in lines[0], lines


def test_opening_while_another_connection_holds_the_file_waits_for_it(tmp_path: Path) -> None:
    """Two processes opening fresh caches at one moment: the switch to WAL answered "database is
    locked" at once (SQLite's busy handler does not wait there) and the run failed, about 1 in 300.
    The store retries as the ledger does (one shared helper), so it opens once the lock is gone."""
    import sqlite3
    import threading

    path = tmp_path / "ledger.features.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # a fresh file, its write lock held as another process opening
    holder.execute("CREATE TABLE other (x)")  # it holds it while it writes its schema
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        cache = store(path)
    finally:
        release.join()
        holder.close()
    cache.put_blobs("k", [(b"d", b"v")])
    assert cache.get_blobs("k", [b"d"]) == {b"d": b"v"}
    cache.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
