"""Opening an SQLite file that another process may be opening at the same moment.

Switching a file to WAL (`PRAGMA journal_mode=WAL`) or writing its schema while another connection
holds a write lock can fail at once with "database is locked": SQLite's busy handler does not wait
there (it would risk a deadlock between two lock upgrades). Two runs started together then failed
about 1 in 300. The ledger and the digest caches beside it open through `open_retrying`, which
closes the connection and starts again until a deadline.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

RETRY_PAUSE_S = 0.05


def is_lock_conflict(exc: sqlite3.OperationalError) -> bool:
    """Whether an error is another connection's lock: "database is locked", "... table is locked", busy."""
    text = str(exc)
    return "locked" in text or "busy" in text


def open_retrying(
    connect: Callable[[], sqlite3.Connection],
    setup: Callable[[sqlite3.Connection], None],
    *,
    deadline: float,
) -> sqlite3.Connection:
    """`connect()`, then `setup(db)` (journal mode, schema); a lock conflict in either closes the
    connection and tries again until `deadline` (a `time.monotonic()` value), then raises it.
    Any other error closes the connection and is raised at once."""
    while True:
        db = connect()
        try:
            setup(db)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if not is_lock_conflict(exc) or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_PAUSE_S)
        except BaseException:
            db.close()
            raise
