"""The SQLite file behind the HTTP cache, made safe to reuse.

A cache is only ever a copy of what the API answers, so the rules are simple:

* a damaged file (not a database, truncated, bad pages) found when the client opens it is
  moved aside and a new one started, with a warning; nothing wrong is ever served from it;
* damage found later, in the middle of a load, stops the load with a :class:`CacheError`
  that names the file and says what to do;
* a file another program holds a write lock on makes the load wait until the file has
  seen no write for :data:`LOCK_WAIT` seconds, then raises :class:`CacheError`
  (requests-cache's own SQLite layer would retry forever); another process busy writing
  to the same file is waited for (up to :data:`LOCK_MAX`).

Two processes may share one file: SQLite's locking serialises their writes (WAL mode lets
readers go on meanwhile).

Besides requests-cache's ``responses`` table, the file keeps a ``frames`` table: the
finished DataFrame of a load, stored with the expiry of the earliest-expiring answer it was
built from. Re-running a notebook then costs one read per load instead of one per page plus
the parsing, and it can never outlive the answers behind it (see
:meth:`SafeSQLiteCache.save_frame`).
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict

from .exceptions import CacheError, CacheRebuiltWarning, warn

__all__ = ["LOCK_WAIT", "MAX_FRAMES_TOTAL", "MAX_FRAME_BYTES", "damaged", "open_cache"]

#: Seconds a cache write waits on a lock while nothing is written to the file.
LOCK_WAIT = 5.0
#: Seconds a cache write waits on a lock in all, even while others keep writing.
LOCK_MAX = 120.0
#: Frames larger than this (pickled) are not kept: SQLite refuses blobs over 1 GB, and the
#: page cache still spares every request of such a load.
MAX_FRAME_BYTES = 256 * 2**20
#: The kept frames' total size. Past it the oldest frames go first: they are copies, and
#: the pages they were built from still serve their loads.
MAX_FRAMES_TOTAL = 2**30


def _activity(db_path: Any) -> tuple[tuple[int, int] | None, ...]:
    """Size and modification time of the database and its WAL: they change while some
    process writes."""
    stamps: list[tuple[int, int] | None] = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(f"{db_path}{suffix}")
            stamps.append((st.st_size, st.st_mtime_ns))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def _advice(path: Path) -> str:
    return f"delete {path} (it only holds copies of API answers), or pass cache=None"


class _BoundedSQLiteDict(SQLiteDict):
    """requests-cache's SQLite table, with a deadline on the wait for the write lock."""

    @contextmanager
    def _acquire_sqlite_lock(self) -> Iterator[None]:
        with self._lock:
            con = self._connection
            assert con is not None  # opened by SQLiteDict.connection() before this runs
            # Another process writing to the same file is contention, not a stuck lock: its
            # writes change the database or its WAL. Give up only after LOCK_WAIT seconds
            # without any change (or LOCK_MAX in all).
            seen = _activity(self.db_path)
            started = idle_since = time.monotonic()
            while True:
                try:
                    con.execute("BEGIN IMMEDIATE")
                    self._active_transaction = True
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise CacheError(
                            f"the cache file {self.db_path} cannot be written ({exc}); "
                            + _advice(Path(self.db_path))
                        ) from None
                    now, activity = time.monotonic(), _activity(self.db_path)
                    if activity != seen:
                        seen, idle_since = activity, now
                    if now - idle_since > LOCK_WAIT or now - started > LOCK_MAX:
                        raise CacheError(
                            f"the cache file {self.db_path} has been locked by another program "
                            f"for {now - idle_since:.0f} s; close that program, or "
                            + _advice(Path(self.db_path))
                        ) from None
                    time.sleep(0.01)
            try:
                yield
                con.commit()
            except sqlite3.OperationalError:
                con.rollback()
            finally:
                self._active_transaction = False


class SafeSQLiteCache(SQLiteCache):
    """The SQLite backend of requests-cache with :class:`_BoundedSQLiteDict` tables."""

    def __init__(self, db_path: str, **kwargs: Any) -> None:
        # Not SQLiteCache.__init__: it would first open the unbounded tables, whose table
        # creation alone can wait forever on a locked file.
        BaseCache.__init__(self, cache_name=db_path, **kwargs)
        skwargs = {k: v for k, v in kwargs.items() if k != "serializer"}
        self.responses = _BoundedSQLiteDict(db_path, table_name="responses", **kwargs)
        self.redirects = _BoundedSQLiteDict(
            db_path, table_name="redirects", lock=self.responses._lock, serializer=None, **skwargs
        )
        self.frames = _BoundedSQLiteDict(
            db_path, table_name="frames", lock=self.responses._lock, serializer=None, **skwargs
        )

    def get_frame(self, key: str) -> pd.DataFrame | None:
        """The frame kept under ``key`` if it has not expired, else None."""
        table = self.frames
        # The table's lock: its one connection is shared by the threads of a client.
        with table._lock, table.connection() as con:
            row = con.execute("SELECT value, expires FROM frames WHERE key=?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        try:
            # The same trust as requests-cache's own answers, pickled in the same file.
            frame = pickle.loads(row[0])  # noqa: S301
        except Exception:  # written by another version of pandas, or damaged: a miss
            return None
        return frame if isinstance(frame, pd.DataFrame) else None

    def save_frame(self, key: str, frame: pd.DataFrame, expires: datetime | None) -> bool:
        """Keep ``frame`` under ``key`` until ``expires`` (None: forever).

        ``expires`` must be that of the earliest-expiring answer the frame was built from,
        so that a kept frame is never fresher than what the cache would serve page by page.
        Returns False (and keeps nothing) for frames over :data:`MAX_FRAME_BYTES`.
        """
        if int(frame.memory_usage(index=True, deep=False).sum()) > MAX_FRAME_BYTES:
            return False  # too large already, before the cost of pickling it
        blob = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        if len(blob) > MAX_FRAME_BYTES:
            return False
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        stamp = None if expires is None else int(expires.timestamp())
        table = self.frames
        with table.connection(commit=True) as con:
            con.execute(
                "DELETE FROM frames WHERE expires IS NOT NULL AND expires <= ?",
                (time.time(),),
            )
            con.execute(
                "INSERT OR REPLACE INTO frames (key, value, expires) VALUES (?,?,?)",
                (key, sqlite3.Binary(blob), stamp),
            )
            # Oldest first (a replaced frame takes a new rowid, so it counts as new).
            sizes = con.execute("SELECT rowid, length(value) FROM frames ORDER BY rowid").fetchall()
            excess = sum(n for _, n in sizes) - MAX_FRAMES_TOTAL
            drop = []
            for rowid, n in sizes:
                if excess <= 0:
                    break
                drop.append((rowid,))
                excess -= n
            con.executemany("DELETE FROM frames WHERE rowid = ?", drop)
        return True

    def info(self) -> dict[str, tuple[int, int, int, int]]:
        """Per table (``answers``, ``frames``): entries, bytes, never expiring, expired."""
        queries = {
            "answers": "SELECT COUNT(*), COALESCE(SUM(length(value)), 0), "
            "COUNT(*) - COUNT(expires), COUNT(CASE WHEN expires <= ? THEN 1 END) FROM responses",
            "frames": "SELECT COUNT(*), COALESCE(SUM(length(value)), 0), "
            "COUNT(*) - COUNT(expires), COUNT(CASE WHEN expires <= ? THEN 1 END) FROM frames",
        }
        out = {}
        for name, query in queries.items():
            table = self.responses if name == "answers" else self.frames
            with table._lock, table.connection() as con:
                row = con.execute(query, (time.time(),)).fetchone()
            out[name] = (int(row[0]), int(row[1]), int(row[2]), int(row[3]))
        return out

    def close(self) -> None:
        super().close()
        self.frames.close()

    def clear(self) -> None:
        super().clear()  # on failure it deletes the file and starts the tables again
        try:
            self.frames.clear()
        except sqlite3.Error:
            self.frames.init_db()


def _damage(path: Path) -> str | None:
    """Why the file at ``path`` is not a sound SQLite database, or None if it is."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=LOCK_WAIT)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        row = con.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # busy, not damaged: writes will wait (boundedly) for it
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        con.close()
    return None if row and row[0] == "ok" else str(row[0] if row else "no answer")


def open_cache(path: Path) -> SafeSQLiteCache:
    """Open (or create) the cache at ``path``, moving a damaged file aside first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        why = _damage(path)
        if why is not None:
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            path.replace(aside)
            for suffix in ("-wal", "-shm"):
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    extra.replace(aside.with_name(aside.name + suffix))
            warn(
                f"the cache file {path} was damaged ({why}); it was moved to {aside} and a new "
                "cache started (answers are fetched again)",
                CacheRebuiltWarning,
            )
    try:
        return SafeSQLiteCache(str(path), wal=True)
    except sqlite3.DatabaseError as exc:
        raise CacheError(
            f"the cache file {path} cannot be opened ({exc}); {_advice(path)}"
        ) from None


def damaged(path: Path | None, exc: sqlite3.Error) -> CacheError:
    """The error to raise when the cache fails mid-load."""
    where = path if path is not None else Path("the cache")
    return CacheError(f"the cache file {where} failed ({exc}); {_advice(where)}")
