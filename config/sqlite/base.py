"""SQLite (the embedded default) for concurrent requests: writers take turns in a queue.

SQLite has one write lock per database. A transaction that cannot take it waits in
SQLite's busy handler, which sleeps and retries — after the first few tries, every
100 ms. The lock is then often free with nobody taking it, and a writer that has waited
long loses it to one that just arrived: under 20 clients completing tasks, the slowest
twentieth waited five seconds (docs/performance.md).

Here a transaction first takes its turn: a lock of this process (threads queue on it and
are woken the moment it is released), then an exclusive ``flock`` on a file beside the
database (one thread per process waits on it, retrying every millisecond, so a turn
passes between processes within about one). Only then does it BEGIN, so SQLite's lock
is free when it asks. The turn ends with the transaction (commit, rollback or close).
Waiting longer than the database's ``timeout`` option is SQLite's own error, "database
is locked". A write statement outside a transaction (autocommit: an e-mail claim, a
queryset update) takes a turn of its own for that statement: left to SQLite's retries it
lost the lock to the queue again and again, and under 50 clients one waited past the
timeout. Reads need no turn (write-ahead logging), and in-memory databases (the tests)
are as Django's backend leaves them.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


def _turn_of(path: str) -> threading.Lock:
    with _turns_guard:
        return _turns.setdefault(path, threading.Lock())


class _Cursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor; a write outside a transaction waits for its turn."""

    owner: DatabaseWrapper

    def execute(self, query, params=None):
        if self.owner._statement_needs_turn(query):
            with self.owner._turn():
                return super().execute(query, params)
        return super().execute(query, params)

    def executemany(self, query, param_list):
        if self.owner._statement_needs_turn(query):
            with self.owner._turn():
                return super().executemany(query, param_list)
        return super().executemany(query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    _turn_fd: int | None = None
    _turn_held = False

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.owner = self
        return cursor

    def _statement_needs_turn(self, query: str) -> bool:
        return (
            not self._turn_held
            and not self.connection.in_transaction
            and not self.is_in_memory_db()
            and query.lstrip()[:7].upper().startswith(_WRITES)
        )

    @contextmanager
    def _turn(self):
        self._take_turn()
        try:
            yield
        finally:
            self._end_turn()

    def _lock_path(self) -> str:
        return f"{self.settings_dict['NAME']}.writers"

    def _take_turn(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        turn = _turn_of(self._lock_path())
        if not turn.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            if self._turn_fd is None:
                self._turn_fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    fcntl.flock(self._turn_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError("database is locked") from None
                    time.sleep(0.001)
        except BaseException:
            turn.release()
            raise
        self._turn_held = True

    def _end_turn(self) -> None:
        if not self._turn_held:
            return
        self._turn_held = False
        if self._turn_fd is not None:
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)
        _turn_of(self._lock_path()).release()

    def _start_transaction_under_autocommit(self):
        if self.is_in_memory_db():
            return super()._start_transaction_under_autocommit()  # type: ignore[misc]
        self._take_turn()
        try:
            return super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _commit(self):
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _rollback(self):
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _close(self):
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._end_turn()
            if self._turn_fd is not None:
                os.close(self._turn_fd)
                self._turn_fd = None
