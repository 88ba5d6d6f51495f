"""The embedded SQLite backend (config/sqlite): writers take turns, none starves, none
fails with "database is locked" under many concurrent writers, and a writer that cannot
get its turn within the timeout gets SQLite's own error."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from config.settings.base import sqlite_tuned


def _handler(path, timeout=20) -> ConnectionHandler:
    database = sqlite_tuned({"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)})
    database["OPTIONS"]["timeout"] = timeout
    return ConnectionHandler({"default": database})


@pytest.fixture
def db_file(tmp_path, django_db_blocker):
    """A database file of its own (the suite's database is in memory, where the backend
    leaves transactions as Django's does), with database access allowed."""
    path = tmp_path / "writers.sqlite3"
    with sqlite3.connect(path) as conn:
        # already in write-ahead logging, as `migrate` leaves every database of the embedded
        # default: twenty threads opening a file still in rollback-journal mode at once
        # race to switch it (each connection's init_command), and a switch waiting for the
        # exclusive lock while a writer waits to commit is a deadlock SQLite breaks with
        # "database is locked" — the first-connection race, not the writers' queue
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        conn.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
    with django_db_blocker.unblock():
        yield path


def test_tuned_settings_use_the_queueing_backend_in_wal_mode(tmp_path, django_db_blocker):
    path = tmp_path / "fresh.sqlite3"
    with sqlite3.connect(path) as conn:  # a new file, in SQLite's rollback-journal mode
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    with django_db_blocker.unblock():
        handler = _handler(path)
        connection = handler["default"]
        assert type(connection).__module__ == "config.sqlite.base"
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        handler.close_all()


def test_every_writer_gets_its_turn_when_many_write_at_once(db_file):
    """20 threads × 15 read-modify-write transactions, each holding its turn a while:
    no lost update, no "database is locked", and the longest wait is a queue's, not a
    starved writer's."""
    handler = _handler(db_file)
    errors: list[BaseException] = []
    waits: list[float] = []
    start = threading.Barrier(20)

    # transaction.atomic() looks connections up in django.db.connections, not in this
    # handler: the backend's hooks are driven as atomic() drives them
    def writer() -> None:
        connection = handler["default"]
        try:
            start.wait(timeout=30)
            for _ in range(15):
                asked = time.monotonic()
                connection.ensure_connection()
                connection._start_transaction_under_autocommit()
                waits.append(time.monotonic() - asked)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT n FROM counter WHERE id = 1")
                    n = cursor.fetchone()[0]
                    time.sleep(0.002)
                    cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
                connection.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT n FROM counter").fetchone()[0] == 20 * 15
    assert max(waits) < 5


def test_a_writer_is_told_the_database_is_locked_when_its_turn_does_not_come(db_file):
    first, second = _handler(db_file, timeout=0.3), _handler(db_file, timeout=0.3)
    holder = first["default"]
    holder.ensure_connection()
    holder._start_transaction_under_autocommit()
    # the turn is the lock file's, held for the whole transaction
    with open(f"{db_file}.writers", "rb") as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    failed: list[BaseException] = []

    def wait_for_turn() -> None:
        waiter = second["default"]  # this thread's connection
        try:
            waiter.ensure_connection()
            waiter._start_transaction_under_autocommit()
        except OperationalError as exc:
            failed.append(exc)
        finally:
            waiter.close()

    t = threading.Thread(target=wait_for_turn)
    t.start()
    t.join()
    assert failed and "database is locked" in str(failed[0])
    holder.rollback()
    with open(f"{db_file}.writers", "rb") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
        fcntl.flock(other, fcntl.LOCK_UN)
    # the turn is free again once the holder's transaction ended
    again = threading.Thread(target=wait_for_turn)
    failed.clear()
    again.start()
    again.join()
    assert failed == []
    holder.close()


def test_a_write_outside_a_transaction_takes_a_turn_and_a_read_does_not(db_file, monkeypatch):
    from config.sqlite.base import DatabaseWrapper

    turns: list[str] = []
    take = DatabaseWrapper._take_turn

    def counted(self):
        turns.append("taken")
        return take(self)

    monkeypatch.setattr(DatabaseWrapper, "_take_turn", counted)
    handler = _handler(db_file)
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM counter WHERE id = 1")
        assert turns == []
        cursor.execute("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n")
        assert cursor.fetchone()[0] == 1
        assert turns == ["taken"]
    assert not connection._turn_held  # given back after the statement
    with open(f"{db_file}.writers", "rb") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_UN)
    handler.close_all()
