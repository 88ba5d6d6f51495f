"""The project stage machine as a table (DESIGN §3.1).

The table below is written out by hand, not read from the FSM, so the test checks the
declaration against the brief: every allowed move by the right role succeeds (stage,
audit row, notifications); every other (action, stage, person) raises and leaves no
trace — no stage change, no audit row, no notification, no e-mail.
"""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject
from processes.states import ProjectStage as S
from tests.conftest import District
from workflows.services import project_act

ACTIONS = ["submit", "approve", "send_back", "route_to_pre_assessment", "route_to_target_review", "withdraw", "cancel"]
STAGES = [S.DRAFT, S.SUBMITTED, S.DEPT_APPROVED, S.PRE_ASSESSMENT, S.TARGET_REVIEW, S.WITHDRAWN, S.CANCELLED]
PEOPLE = [p for p in District.PEOPLE if p != "leader_a2"]  # leader_a stands for both leaders

#: (action, from stage) -> (who may, to stage). Anything not listed is forbidden for everyone.
ALLOWED = {
    ("submit", S.DRAFT): ({"staff_a"}, S.SUBMITTED),
    ("approve", S.SUBMITTED): ({"leader_a"}, S.DEPT_APPROVED),
    ("send_back", S.SUBMITTED): ({"leader_a"}, S.DRAFT),
    ("route_to_pre_assessment", S.DEPT_APPROVED): ({"finance"}, S.PRE_ASSESSMENT),
    ("route_to_target_review", S.DEPT_APPROVED): ({"finance"}, S.TARGET_REVIEW),  # below threshold
    **{
        ("withdraw", s): ({"staff_a", "leader_a"}, S.WITHDRAWN)
        for s in (S.DRAFT, S.SUBMITTED, S.DEPT_APPROVED, S.PRE_ASSESSMENT, S.TARGET_REVIEW)
    },
    **{
        ("cancel", s): ({"finance"}, S.CANCELLED)
        for s in (S.DRAFT, S.SUBMITTED, S.DEPT_APPROVED, S.PRE_ASSESSMENT, S.TARGET_REVIEW)
    },
}


def _traces(project):
    return (
        BudgetProject.objects.get(pk=project.pk).stage,
        AuditEvent.objects.count(),
        Notification.objects.count(),
        len(mail.outbox),
    )


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("action", ACTIONS)
def test_transition_table_when_each_person_tries_each_action(district, action, stage):
    allowed_people, target = ALLOWED.get((action, stage), (set(), None))
    project = district.project(stage)
    for person in PEOPLE:
        if person in allowed_people:
            continue
        before = _traces(project)
        with pytest.raises((PermissionDenied, ActionNotAllowed)):
            project_act(project=project, actor=getattr(district, person), action=action, comment="理由")
        assert _traces(project) == before, f"{person} {action} from {stage} left a trace"

    for person in sorted(allowed_people):
        fresh = district.project(stage)
        project_rows = AuditEvent.objects.filter(object_type="processes.budgetproject")
        audit_before = project_rows.count()
        project_act(project=fresh, actor=getattr(district, person), action=action, comment="理由")
        fresh = BudgetProject.objects.get(pk=fresh.pk)
        assert fresh.stage == target
        # one row for the project's transition (the targets' own rows are theirs: opened
        # when routed, cancelled with the project), and it is the last one written
        last = AuditEvent.objects.order_by("sequence").last()
        assert project_rows.count() == audit_before + 1
        assert (last.action, last.from_state, last.to_state) == (action, stage, target)
        assert Notification.objects.filter(event_key=f"audit:{last.sequence}").exists()


@pytest.mark.parametrize(
    ("action", "stage", "person"),
    [
        ("send_back", S.SUBMITTED, "leader_a"),
        ("withdraw", S.DRAFT, "staff_a"),
        ("cancel", S.DEPT_APPROVED, "finance"),
    ],
)
def test_reason_is_required_when_transition_needs_one(district, action, stage, person):
    project = district.project(stage)
    before = _traces(project)
    with pytest.raises(ValidationError) as err:
        project_act(project=project, actor=getattr(district, person), action=action, comment="   ")
    assert "comment" in err.value.message_dict
    assert _traces(project) == before


@pytest.mark.parametrize(
    ("amount", "recurrence", "requires"),
    [
        (Decimal("4999999.99"), "one_off", False),
        (Decimal("5000000.00"), "one_off", True),
        (Decimal("3999999.99"), "recurring", False),
        (Decimal("4000000.00"), "recurring", True),
    ],
)
def test_target_review_is_refused_when_amount_reaches_threshold(district, amount, recurrence, requires):
    project = district.project(S.DEPT_APPROVED, amount=amount, recurrence=recurrence)
    assert project.requires_pre_assessment() is requires
    if requires:
        before = _traces(project)
        with pytest.raises(ActionNotAllowed, match="门槛"):
            project_act(project=project, actor=district.finance, action="route_to_target_review")
        assert _traces(project) == before
    else:
        project = project_act(project=project, actor=district.finance, action="route_to_target_review")
        assert project.stage == S.TARGET_REVIEW


def test_stage_cannot_be_set_by_hand_when_assigned_directly(district):
    project = district.project(S.DRAFT)
    with pytest.raises(AttributeError):
        project.stage = S.BUDGETED


def test_resubmission_starts_a_new_review_when_returned_project_is_submitted_again(district):
    project = district.project(S.SUBMITTED)
    project = project_act(project=project, actor=district.leader_a, action="send_back", comment="补充测算依据")
    assert project.stage == S.DRAFT
    project = project_act(project=project, actor=district.staff_a, action="submit")
    project = project_act(project=project, actor=district.leader_a2, action="approve")
    assert project.stage == S.DEPT_APPROVED


def test_duplicate_code_is_a_field_error_when_a_concurrent_save_took_it(district, monkeypatch):
    from processes.models import BudgetProject as Model
    from processes.services.projects import project_create

    taken = district.project(S.DRAFT)
    # full_clean passes (as it would for two simultaneous saves); the database refuses
    monkeypatch.setattr(Model, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(Model, "validate_unique", lambda self, exclude=None: None)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        project_create(
            actor=district.staff_a,
            fiscal_year=taken.fiscal_year,
            code=taken.code,
            name="重复",
            category="infrastructure",
            recurrence="one_off",
            requested_amount=Decimal("100"),
        )
    assert "code" in err.value.message_dict
    assert AuditEvent.objects.count() == before
