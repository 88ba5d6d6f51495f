"""The open processes' index (workflows/0005): present, partial, and what the inbox's
join to its processes can read on either database."""

from django.db import connection


def test_open_processes_have_a_partial_index_when_migrated(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'viewflow_process_open'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'viewflow_process_open'")
        [definition] = [row[0] for row in cursor.fetchall()]
    assert "viewflow_process" in definition and "WHERE" in definition.upper() and "'NEW'" in definition


def test_the_planner_reads_open_processes_from_the_index_when_asked_for_them(db):
    sql = "SELECT id FROM viewflow_process WHERE status = 'NEW'"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "viewflow_process_open" in plan
