"""Reports on PostgreSQL, with two connections at once: the same history workbook imported
twice together is written once; two finance officers disclosing one year together give
one disclosure (the other is told it is already disclosed)."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.db import connection

from accounts.roles import Role
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, HistoryImport
from processes.services.audit import audit_verify
from processes.services.history import history_import
from reports.models import ReportDisclosure
from reports.services import report_disclose
from tests.reports.support import sheets, workbook

from ..factories import make_user
from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_workbook_imported_twice_at_once_is_written_once(district):
    assert connection.vendor == "postgresql"
    content = workbook(sheets())
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    outcomes: list = []

    results = together(
        [
            lambda o=o: outcomes.append(history_import(file=BytesIO(content), file_name="2019.xlsx", actor=o))
            for o in officers
        ]
    )

    assert results == [None, None], results
    assert sorted(r.created for r in outcomes) == [False, True]
    assert outcomes[0].history == outcomes[1].history
    assert HistoryImport.objects.count() == 1 and BudgetProject.objects.count() == 3
    assert AuditEvent.objects.filter(action="history_import").count() == 1
    assert audit_verify() is None


def test_one_disclosure_stands_when_two_officers_disclose_one_year_at_once(district):
    assert connection.vendor == "postgresql"
    history_import(file=BytesIO(workbook(sheets())), file_name="2019.xlsx", actor=district.finance)
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]

    results = together([lambda o=o: report_disclose(year=2019, actor=o) for o in officers])

    assert sorted(r is None for r in results) == [False, True], results
    refused = next(r for r in results if r is not None)
    assert isinstance(refused, ActionNotAllowed) and "已批准公开" in str(refused)
    assert ReportDisclosure.objects.count() == 1
    assert AuditEvent.objects.filter(action="disclose_report").count() == 1
    assert audit_verify() is None
