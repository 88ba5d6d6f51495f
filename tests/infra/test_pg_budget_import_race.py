"""The budget-preparation import on PostgreSQL, with two connections at once: two officers
import the same 项目库 together (each project is created once, the loser writes nothing
and is told to import again), and an import that updates a draft races the department
submitting it (either the import wins and the submitted project has its amount, or the
submission wins and the import writes nothing — never a draft changed after it left)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from accounts.roles import Role
from notifications.models import Notification
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject
from processes.services import budget_import as svc
from processes.services.audit import audit_verify
from processes.states import ProjectStage
from workflows.services import project_act

from ..factories import make_user
from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

YEAR = 2022


def rows(amount="1200000", n=6):
    return [
        {
            "department": "A01" if i % 2 else "B01",
            "code": f"2022-R-{i:03d}",
            "name": f"竞态项目{i}",
            "category": "基建工程",
            "recurrence": "一次性项目",
            "requested_amount": amount,
        }
        for i in range(n)
    ]


def test_each_project_is_created_once_when_two_officers_import_the_same_library_at_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    results = together(
        [lambda o=o: svc.budget_import(actor=o, fiscal_year=YEAR, rows=rows(), first_row=1) for o in officers]
    )
    errors = [r for r in results if r is not None]
    assert len(errors) == 1 and isinstance(errors[0], ActionNotAllowed), results
    assert exception_handler(errors[0], {}).status_code == 409
    assert BudgetProject.objects.filter(fiscal_year=YEAR).count() == 6
    assert AuditEvent.objects.filter(action="create").count() == 6
    assert AuditEvent.objects.filter(action="budget_import").count() == 1
    assert Notification.objects.filter(recipient=district.staff_a).count() == 1  # told once, not twice
    assert audit_verify() is None


def test_draft_is_never_changed_after_it_left_draft_when_an_import_races_its_submission(district):
    assert connection.vendor == "postgresql"
    svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows(), first_row=1)
    for attempt in range(3):
        project = BudgetProject.objects.get(code=f"2022-R-{2 * attempt + 1:03d}")  # department A's
        amount = Decimal(2_000_000 + attempt)
        drafts = set(BudgetProject.objects.filter(stage=ProjectStage.DRAFT).values_list("code", flat=True))
        changed = [r for r in rows(amount=str(amount)) if r["code"] in drafts]  # the earlier winners left draft
        unchanged_amount = project.requested_amount
        results = together(
            [
                lambda changed=changed: svc.budget_import(
                    actor=district.finance, fiscal_year=YEAR, rows=changed, first_row=1
                ),
                lambda project=project: project_act(project=project, actor=district.staff_a, action="submit"),
            ]
        )
        project.refresh_from_db()
        assert results[1] is None, results  # the submission always goes through
        assert project.stage == ProjectStage.SUBMITTED
        if results[0] is None:  # the import came first: the draft had its amount when submitted
            assert project.requested_amount == amount
        else:  # the submission came first: the import refused it and wrote nothing at all
            assert isinstance(results[0], ActionNotAllowed | svc.BudgetImportRejected), results
            assert project.requested_amount == unchanged_amount
            assert not BudgetProject.objects.filter(requested_amount=amount).exists()
        # afterwards the same change is refused, naming the stage
        with pytest.raises(svc.BudgetImportRejected) as refused:
            svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows(amount="3000000"), first_row=1)
        assert any("已离开草稿" in e.message for e in refused.value.errors)
    assert audit_verify() is None
