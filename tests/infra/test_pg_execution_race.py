"""Payments on PostgreSQL with two connections at once: two imports of overlapping months
leave exactly one row per (project, month), holding one of the two amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from accounts.roles import Role
from processes.models import AuditEvent, Payment
from processes.services.execution import PAYMENTS, Batch, import_rows
from processes.states import ProjectStage

from ..factories import make_user
from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_imports_of_overlapping_months_at_once_leave_one_row_per_project_and_month(district):
    assert connection.vendor == "postgresql"
    projects = [district.project(ProjectStage.EXECUTING, dept=d) for d in ("a", "b")]
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]

    def batch(amount: str, months) -> Batch:
        return Batch(
            [{"年度": 2021, "项目编码": p.code, "月份": m, "支付金额(元)": amount} for p in projects for m in months]
        )

    for _round in range(3):
        results = together(
            [
                lambda: import_rows(kind=PAYMENTS, actor=officers[0], batch=batch("100", range(1, 9))),
                lambda: import_rows(kind=PAYMENTS, actor=officers[1], batch=batch("200", range(5, 13))),
            ]
        )
        assert results == [None, None]
        for project in projects:
            rows = list(Payment.objects.filter(project=project).order_by("month").values_list("month", "amount"))
            assert [m for m, _a in rows] == list(range(1, 13))
            assert all(a in (Decimal("100.00"), Decimal("200.00")) for _m, a in rows)
        Payment.objects.all().delete()
    assert AuditEvent.objects.filter(action="payments_import").count() == 6
