"""结果应用 that acts (issue 18 item 3, decision 0025): at next year's intake the grade of
record proposes the figure (中 cut 10 % exactly, 差 flagged with 0, 优 优先保障 unless an
unverified rectification blocks it); the finance officer accepts or overrides with a reason
through the transition engine; the decision caps the approved amount when budgeted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, Rectification, ResultsDecision
from processes.results_ledger import ledger, proposal_for
from processes.services.results import results_decide
from processes.states import ProjectStage, RectificationStatus
from tests.processes.test_results_application import earlier, self_graded

pytestmark = pytest.mark.django_db


def continuing(district, grade, *, code="RA-001", amount="1234567.89", stage=ProjectStage.DEPT_APPROVED, dept="a"):
    """Department ``dept``'s 2021 project ``code`` graded ``grade``, and its 2022 request in ``stage``."""
    past = earlier(district, year=2021, code=code, recurrence="recurring", dept=dept)
    self_graded(district, past, grade)
    project = district.project(
        stage, fiscal_year=2022, code=code, recurrence="recurring", amount=Decimal(amount), dept=dept
    )
    return past, project


def open_rectification(district, project, *, title="资金使用不规范整改", status=RectificationStatus.ACKNOWLEDGED):
    deadline = timezone.now() + timedelta(days=20)
    return Rectification.objects.create(
        department=project.department,
        project=project,
        title=title,
        status=status,
        deadline=deadline,
        original_deadline=deadline,
        issued_by=district.finance,
    )


# -- proposals per grade ----------------------------------------------------------------------


def test_fair_proposal_cuts_ten_percent_half_up_to_the_fen_when_graded_fair(district):
    _, project = continuing(district, "fair", amount="1234567.89")

    proposal = proposal_for(project)

    # 1234567.89 × 0.9 = 1111111.101 → 1111111.10 (half-up to the fen)
    assert proposal.proposed_amount == Decimal("1111111.10")
    assert proposal.cut == Decimal("123456.79")
    assert proposal.text == "压减预算 10%" and not proposal.priority and not proposal.flagged


def test_fair_proposal_rounds_half_up_not_half_even_when_the_fen_is_a_tie(district):
    _, project = continuing(district, "fair", amount="0.45")
    assert proposal_for(project).proposed_amount == Decimal("0.41")  # 0.405 → 0.41


def test_poor_proposal_is_flagged_for_cancellation_with_zero_when_graded_poor(district):
    _, project = continuing(district, "poor")
    proposal = proposal_for(project)
    assert proposal.flagged and proposal.proposed_amount == Decimal("0.00")
    assert proposal.text == "取消或调整用途"


@pytest.mark.parametrize(("grade", "text"), [("excellent", "优先保障"), ("good", "保持预算规模")])
def test_proposal_keeps_the_request_when_graded_excellent_or_good(district, grade, text):
    _, project = continuing(district, grade)
    proposal = proposal_for(project)
    assert proposal.proposed_amount == project.requested_amount and proposal.text == text
    assert proposal.priority is (grade == "excellent") and proposal.block is None


def test_no_proposal_when_the_project_continues_nothing_graded(district):
    project = district.project(ProjectStage.DEPT_APPROVED, fiscal_year=2022, code="RA-NEW")
    assert proposal_for(project) is None


def test_excellent_proposal_is_blocked_when_a_rectification_is_unverified(district):
    past, project = continuing(district, "excellent")
    rect = open_rectification(district, past)

    proposal = proposal_for(project)

    assert not proposal.priority and not proposal.acceptable
    assert "资金使用不规范整改" in proposal.block.text and f"{rect.deadline:%Y-%m-%d}" in proposal.block.text
    with pytest.raises(ActionNotAllowed, match="不能采纳优先保障建议"):
        results_decide(project=project, actor=district.finance, accept=True)
    assert not ResultsDecision.objects.exists()


def test_excellent_proposal_is_not_blocked_when_the_rectification_is_verified(district):
    past, project = continuing(district, "excellent")
    open_rectification(district, past, status=RectificationStatus.VERIFIED)
    assert proposal_for(project).priority


def test_blocked_excellent_may_be_overridden_with_a_reason_but_never_with_priority(district):
    past, project = continuing(district, "excellent", amount="500000.00")
    open_rectification(district, past)

    decision = results_decide(
        project=project, actor=district.finance, accept=False, amount="500000", reason="整改已基本完成，维持规模"
    )

    assert decision.status == "overridden" and decision.priority is False and decision.blocked_by_id


# -- accept and override --------------------------------------------------------------------


def test_accept_records_the_proposal_as_decided_and_audits_it_when_the_officer_accepts(district):
    _, project = continuing(district, "fair", amount="1000000.00")

    decision = results_decide(project=project, actor=district.finance, accept=True)

    decision.refresh_from_db()
    assert (decision.status, decision.decided_amount, decision.proposed_amount) == (
        "accepted",
        Decimal("900000.00"),
        Decimal("900000.00"),
    )
    assert decision.decided_by == district.finance and decision.decided_at is not None
    event = AuditEvent.objects.get(action="results_accept")
    assert event.actor == district.finance and event.actor_role == "finance_officer"
    assert event.detail["proposed_amount"] == "900000.00" and event.detail["decided_amount"] == "900000.00"


def test_override_needs_a_reason_and_writes_nothing_when_it_is_missing(district):
    _, project = continuing(district, "fair")

    with pytest.raises(ValidationError) as exc:
        results_decide(project=project, actor=district.finance, accept=False, amount="1000", reason="  ")

    assert "reason" in exc.value.message_dict
    assert not ResultsDecision.objects.exists() and not AuditEvent.objects.filter(action="results_override").exists()


def test_override_records_amount_and_reason_when_the_officer_overrides(district):
    _, project = continuing(district, "fair", amount="1000000.00")

    decision = results_decide(
        project=project, actor=district.finance, accept=False, amount="950000.00", reason="民生刚性支出，仅核减5%"
    )

    assert (decision.status, decision.decided_amount, decision.reason) == (
        "overridden",
        Decimal("950000.00"),
        "民生刚性支出，仅核减5%",
    )
    event = AuditEvent.objects.get(action="results_override")
    assert event.comment == "民生刚性支出，仅核减5%"


@pytest.mark.parametrize("amount", ["-1", "abc", "1000000.01", ""])
def test_override_refuses_an_amount_when_it_is_bad_or_above_the_request(district, amount):
    _, project = continuing(district, "fair", amount="1000000.00")
    with pytest.raises(ValidationError) as exc:
        results_decide(project=project, actor=district.finance, accept=False, amount=amount, reason="理由")
    assert "amount" in exc.value.message_dict and not ResultsDecision.objects.exists()


def test_decision_is_refused_when_taken_twice_by_the_wrong_role_or_at_the_wrong_stage(district):
    _, project = continuing(district, "fair")
    with pytest.raises(PermissionDenied):
        results_decide(project=project, actor=district.staff_a, accept=True)
    results_decide(project=project, actor=district.finance, accept=True)
    with pytest.raises(ActionNotAllowed, match="已经决定"):
        results_decide(project=project, actor=district.finance, accept=True)

    _, draft = continuing(district, "fair", code="RA-002", stage=ProjectStage.DRAFT)
    with pytest.raises(ActionNotAllowed, match="财政受理后"):
        results_decide(project=draft, actor=district.finance, accept=True)


def test_decided_amount_caps_the_approved_budget_when_the_targets_are_approved(district):
    _, project = continuing(district, "fair", amount="1000000.00", stage=ProjectStage.TARGET_REVIEW)
    results_decide(project=project, actor=district.finance, accept=True)

    district.approve_targets(project)

    project.refresh_from_db()
    assert project.stage == ProjectStage.BUDGETED and project.approved_amount == Decimal("900000.00")


def test_approved_budget_is_the_request_when_no_decision_was_taken(district):
    _, project = continuing(district, "fair", amount="1000000.00", stage=ProjectStage.TARGET_REVIEW)
    district.approve_targets(project)
    project.refresh_from_db()
    assert project.approved_amount == Decimal("1000000.00")


def test_department_is_told_of_the_decision(district):
    from notifications.models import Notification

    _, project = continuing(district, "fair", amount="1000000.00")
    results_decide(project=project, actor=district.finance, accept=False, amount="980000", reason="特殊情况")
    told = Notification.objects.filter(recipient=district.staff_a, kind="results_decided")
    assert told.count() == 1


# -- the ledger -------------------------------------------------------------------------------


def test_ledger_rows_and_totals_are_computed_from_the_decisions(district):
    _, fair = continuing(district, "fair", code="L-1", amount="1000000.00")
    _, poor = continuing(district, "poor", code="L-2", amount="300000.00")
    _, good = continuing(district, "good", code="L-3", amount="200000.00")
    _, other = continuing(district, "fair", code="L-4", amount="500000.00", dept="b")
    results_decide(project=fair, actor=district.finance, accept=True)
    results_decide(project=poor, actor=district.finance, accept=False, amount="100000", reason="调整用途为社区服务")

    year = ledger(2022)

    assert [r.project.code for r in year.rows] == ["L-1", "L-2", "L-3", "L-4"]
    assert year.projects == 4 and year.decided_count == 2 and year.overridden_count == 1
    assert year.cut == Decimal("100000.00") + Decimal("200000.00") and year.cut_count == 2
    assert year.proposed == Decimal("900000.00") + Decimal("0.00") + Decimal("200000.00") + Decimal("450000.00")
    assert [r.project.code for r in ledger(2022, department=district.dept_b.pk).rows] == ["L-4"]
    assert [r.project.code for r in ledger(2022, grade="fair").rows] == ["L-1", "L-4"]
    assert BudgetProject.objects.filter(fiscal_year=2022).count() == 4


def test_ledger_takes_a_fixed_number_of_queries_when_rows_grow(district):
    _, p = continuing(district, "fair", code="Q-0")
    results_decide(project=p, actor=district.finance, accept=True)
    with CaptureQueriesContext(connection) as few:
        assert ledger(2022).projects == 1
    for n in range(1, 6):
        _, p = continuing(district, ("fair", "poor", "excellent")[n % 3], code=f"Q-{n}")
        open_rectification(district, BudgetProject.objects.get(fiscal_year=2021, code=f"Q-{n}"))
        if n % 2:
            results_decide(project=p, actor=district.finance, accept=False, amount="1", reason="理由")
    with CaptureQueriesContext(connection) as many:
        assert ledger(2022).projects == 6
    assert len(many.captured_queries) == len(few.captured_queries) <= 8


@pytest.fixture
def review(district):
    from tests.processes.test_pre_assessment import Review

    return Review(district)


def test_decided_amount_caps_a_confirmed_pre_assessment_when_the_experts_support_it_in_full(review):
    """The pre-assessment path: 中 last year, the request accepted at 90 %; the panel supports
    the full request; the project is budgeted at the decided 90 %."""
    from processes.services import pre_assessment as svc
    from processes.states import Conclusion
    from tests.processes.test_pre_assessment import REQUESTED

    district, project = review.d, review.project
    self_graded(district, earlier(district, year=2020, code=project.code, recurrence="recurring"), "fair")
    results_decide(project=project, actor=district.finance, accept=True)
    district.approve_targets(project)

    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa, recommendation=Conclusion.SUPPORT, amount=str(REQUESTED))
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="支持"
    )
    svc.pre_assessment_confirm(pre_assessment=pa, actor=district.finance)

    project.refresh_from_db()
    assert project.stage == ProjectStage.BUDGETED
    assert project.approved_amount == (REQUESTED * Decimal("0.9")).quantize(Decimal("0.01"))
