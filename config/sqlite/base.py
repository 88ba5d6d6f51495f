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
is locked". Statements outside a transaction, and in-memory databases (the tests), are
as Django's backend leaves them.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


def _turn_of(path: str) -> threading.Lock:
    with _turns_guard:
        return _turns.setdefault(path, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _turn_fd: int | None = None
    _turn_held = False

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
