"""The budget project's indexes on PostgreSQL (issue 20, camp4): every stage UPDATE (the
campaign moves 3,755 projects in one) writes an entry in each of them, so the table keeps
only the ones a query uses — no varchar_pattern_ops twin of the stage index (nothing asks
LIKE of the stage), no index of the department alone (the (department, fiscal_year, stage)
index serves ``department_id = …`` as its prefix) — and the pages' filters still find one."""

from __future__ import annotations

import pytest
from django.db import connection

from processes.models import BudgetProject
from processes.states import ProjectStage

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [BudgetProject._meta.db_table],
        )
        return dict(cursor.fetchall())


def _columns(definition: str) -> str:
    return definition[definition.index("(") + 1 : definition.rindex(")")].replace('"', "")


def test_the_stage_has_one_plain_index_and_no_pattern_ops_twin():
    definitions = _indexes().values()
    assert not [d for d in definitions if "pattern_ops" in d]
    assert [_columns(d) for d in definitions if _columns(d) == "stage"] == ["stage"]


def test_the_department_is_indexed_only_as_the_prefix_of_department_year_stage():
    columns = sorted(_columns(d) for d in _indexes().values())
    assert "department_id" not in columns
    assert "department_id, fiscal_year, stage" in columns


def test_a_stage_filter_and_a_department_filter_still_use_an_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for where, param in (("stage = %s", ProjectStage.BUDGETED), ("department_id = %s", 1)):
            cursor.execute(f"EXPLAIN SELECT id FROM {BudgetProject._meta.db_table} WHERE {where}", [param])
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan and "Seq Scan" not in plan, plan
