"""绩效目标审核 as a flow (DESIGN §3.3): the department files, its leader passes, the finance
section rates 优 / 良 / 中 / 差; change requests; the budget gate shared with pre-assessment."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.status import PROCESS

from notifications.models import Notification
from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, BudgetProject, TargetSet
from processes.services.audit import audit_verify
from processes.services.projects import project_system_transition
from processes.services.targets import target_draft_open, target_set_save
from processes.states import ProjectStage, TargetSetStatus
from tests.conftest import TARGET_ROWS
from workflows.flows import TargetReviewFlow
from workflows.models import ProjectProcess
from workflows.selectors import task_inbox_for
from workflows.services import (
    project_act,
    targets_change_request,
    targets_dept_review,
    targets_rate,
    targets_submit,
)


def inbox(user):
    return [t.flow_task for t in task_inbox_for(user)]


def filed(district, project, actor=None):
    """The department files the first version (complete) and submits it."""
    actor = actor or district.staff_a
    target_set = target_draft_open(project=project, actor=actor)
    target_set = target_set_save(target_set=target_set, actor=actor, overall_goal="按期完成建设", rows=TARGET_ROWS)
    return targets_submit(target_set=target_set, actor=actor)


def passed(district, project):
    return targets_dept_review(target_set=filed(district, project), actor=district.leader_a, approve=True)


def stage(project) -> str:
    return BudgetProject.objects.get(pk=project.pk).stage


@pytest.fixture
def project(district):
    return district.project(ProjectStage.TARGET_REVIEW)


def test_department_is_asked_for_targets_when_finance_routes_the_project(district, project):
    assert inbox(district.staff_a) == [TargetReviewFlow.fill]
    assert inbox(district.staff_b) == []  # another department's staff never see the task
    told = Notification.objects.get(recipient=district.staff_a, kind="task")
    assert told.params["task"] == "填报绩效目标" and told.params["due"]


def test_review_passes_leader_then_finance_and_budgets_the_project_when_rated_excellent(district, project):
    target_set = filed(district, project)
    assert inbox(district.staff_a) == []
    assert inbox(district.leader_a) == [TargetReviewFlow.leader_review]
    assert inbox(district.leader_b) == []
    assert Notification.objects.filter(
        recipient=district.leader_a, kind="task", params__task="部门审核绩效目标"
    ).exists()

    target_set = targets_dept_review(target_set=target_set, actor=district.leader_a2, approve=True, comment="同意")
    assert target_set.status == TargetSetStatus.DEPT_APPROVED
    assert inbox(district.leader_a) == []
    assert inbox(district.finance) == [TargetReviewFlow.finance_review]

    target_set = targets_rate(target_set=target_set, actor=district.finance, rating="excellent")
    assert target_set.status == TargetSetStatus.APPROVED and target_set.rating == "excellent"
    project.refresh_from_db()
    assert project.stage == ProjectStage.BUDGETED
    assert project.approved_amount == project.requested_amount
    assert ProjectProcess.objects.get(project=project, flow_class=TargetReviewFlow).status == PROCESS.DONE
    assert Notification.objects.filter(recipient=district.staff_a, kind="targets_rated", params__rating="优").exists()
    actions = list(
        AuditEvent.objects.filter(object_type="processes.targetset", object_id=str(target_set.pk))
        .order_by("sequence")
        .values_list("action", "to_state")
    )
    assert actions == [
        ("targets_open", "draft"),
        ("targets_edit", "draft"),
        ("targets_submit", "submitted"),
        ("targets_dept_approve", "dept_approved"),
        ("targets_rate", "approved"),
    ]
    assert AuditEvent.objects.filter(action="approve_targets", to_state=ProjectStage.BUDGETED).count() == 1
    assert audit_verify() is None


def test_agreed_edits_are_applied_and_kept_when_rated_good(district, project):
    target_set = passed(district, project)
    target_set = targets_rate(
        target_set=target_set,
        actor=district.finance,
        rating="good",
        comment="按商定意见调整渠道长度与权重",
        row_comments={1: "长度按设计批复", 3: "表述可再具体"},
        edits={1: {"target_value": "15", "weight": "45"}, 2: {"weight": "25"}},
    )
    assert target_set.status == TargetSetStatus.APPROVED and target_set.rating == "good"
    first, second, third = target_set.rows.order_by("position")
    assert (first.target_value, first.weight) == (Decimal("15"), Decimal("45"))
    assert first.edits == {"target_value": ["12.5000", "15"], "weight": ["40.00", "45"]}
    assert second.edits == {"weight": ["30.00", "25"]}
    assert third.edits == {} and third.review_comment == "表述可再具体"
    assert first.review_comment == "长度按设计批复"
    assert stage(project) == ProjectStage.BUDGETED
    rated = AuditEvent.objects.get(action="targets_rate")
    assert rated.detail["edits"]["1"]["target_value"] == ["12.5000", "15"]


@pytest.mark.parametrize(
    ("rating", "edits", "error"),
    [
        ("excellent", {1: {"target_value": "15"}}, "rating"),  # 优 approves as submitted
        ("good", {1: {"weight": "50"}}, "rows"),  # weights would sum to 110
        ("good", {1: {"name": "改名"}}, "rows.0.name"),  # only values, units and weights
        ("good", {1: {"target_value": "很多"}}, "rows.0.target_value"),
        ("good", {9: {"weight": "1"}}, "rows"),
        ("fair", {}, "comment"),  # 中 needs the reasons
        ("great", {}, "rating"),
    ],
)
def test_bad_rating_is_refused_and_nothing_changes_when_finance_rates(district, project, rating, edits, error):
    target_set = passed(district, project)
    comment = "" if rating in ("excellent", "fair") else "意见"
    with pytest.raises(ValidationError) as excinfo:
        targets_rate(target_set=target_set, actor=district.finance, rating=rating, comment=comment, edits=edits)
    assert error in excinfo.value.message_dict
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DEPT_APPROVED and target_set.rating == ""
    assert [r.weight for r in target_set.rows.order_by("position")] == [Decimal(40), Decimal(30), Decimal(30)]
    assert inbox(district.finance) == [TargetReviewFlow.finance_review]
    assert stage(project) == ProjectStage.TARGET_REVIEW


def test_department_revises_and_resubmits_when_rated_fair(district, project):
    target_set = passed(district, project)
    target_set = targets_rate(target_set=target_set, actor=district.finance, rating="fair", comment="指标值偏低")
    assert target_set.status == TargetSetStatus.RETURNED and target_set.rating == "fair"
    assert stage(project) == ProjectStage.TARGET_REVIEW
    assert inbox(district.staff_a) == [TargetReviewFlow.fill]
    assert Notification.objects.filter(recipient=district.staff_a, kind="targets_rated", params__rating="中").exists()

    raised = [dict(r) for r in TARGET_ROWS]
    raised[0]["target_value"] = "20"
    target_set = target_set_save(target_set=target_set, actor=district.staff_a, overall_goal="提高目标", rows=raised)
    target_set = targets_submit(target_set=target_set, actor=district.staff_a)
    target_set = targets_dept_review(target_set=target_set, actor=district.leader_a, approve=True)
    target_set = targets_rate(target_set=target_set, actor=district.finance, rating="excellent")
    assert target_set.status == TargetSetStatus.APPROVED and target_set.number == 1
    assert stage(project) == ProjectStage.BUDGETED


def test_project_is_rejected_and_the_review_ends_when_rated_poor(district, project):
    target_set = passed(district, project)
    targets_rate(target_set=target_set, actor=district.finance, rating="poor", comment="目标与项目内容不符")
    project.refresh_from_db()
    assert project.stage == ProjectStage.REJECTED
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.REJECTED
    assert not ProjectProcess.objects.filter(project=project, status=PROCESS.NEW).exists()
    assert inbox(district.staff_a) == inbox(district.finance) == []
    with pytest.raises(ActionNotAllowed):
        project_system_transition(project=project, actor=district.finance, name="approve_targets", role="")


def test_poor_targets_end_a_running_pre_assessment_when_rated(district):
    project = district.project(ProjectStage.PRE_ASSESSMENT, amount=Decimal("6000000.00"))
    from tests.factories import AgencyFactory
    from workflows.services import pre_assessment_begin

    pa = pre_assessment_begin(project=project, actor=district.finance, agency=AgencyFactory(), due_at=_in_days(7))
    target_set = passed(district, project)
    targets_rate(target_set=target_set, actor=district.finance, rating="poor", comment="不宜安排预算")
    pa.refresh_from_db()
    assert stage(project) == ProjectStage.REJECTED
    assert pa.status == "cancelled"
    assert not ProjectProcess.objects.filter(project=project, status=PROCESS.NEW).exists()


def test_leader_sends_targets_back_with_a_reason_when_not_satisfied(district, project):
    target_set = filed(district, project)
    with pytest.raises(ValidationError):
        targets_dept_review(target_set=target_set, actor=district.leader_a, approve=False, comment=" ")
    target_set = targets_dept_review(target_set=target_set, actor=district.leader_a, approve=False, comment="补充依据")
    assert target_set.status == TargetSetStatus.DRAFT and target_set.leader_comment == "补充依据"
    assert inbox(district.staff_a) == [TargetReviewFlow.fill]
    assert Notification.objects.filter(recipient=district.staff_a, kind="returned", params__reason="补充依据").exists()


@pytest.mark.parametrize(
    ("step", "person"),
    [
        ("submit", "staff_b"),
        ("submit", "leader_a"),
        ("review", "leader_b"),
        ("review", "staff_a"),
        ("review", "finance"),
        ("rate", "leader_a"),
        ("rate", "supervisor"),
        ("rate", "auditor"),
    ],
)
def test_wrong_person_is_refused_and_nothing_changes_when_acting(district, project, step, person):
    actor = getattr(district, person)
    if step == "submit":
        target_set = target_set_save(
            target_set=target_draft_open(project=project, actor=district.staff_a),
            actor=district.staff_a,
            overall_goal="x",
            rows=TARGET_ROWS,
        )
        call = lambda: targets_submit(target_set=target_set, actor=actor)  # noqa: E731
    elif step == "review":
        target_set = filed(district, project)
        call = lambda: targets_dept_review(target_set=target_set, actor=actor, approve=True)  # noqa: E731
    else:
        target_set = passed(district, project)
        call = lambda: targets_rate(target_set=target_set, actor=actor, rating="excellent")  # noqa: E731
    status, audit = target_set.status, AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        call()
    target_set.refresh_from_db()
    assert target_set.status == status and AuditEvent.objects.count() == audit


def test_second_decision_is_refused_when_two_leaders_act_on_one_version(district, project):
    target_set = filed(district, project)
    targets_dept_review(target_set=target_set, actor=district.leader_a, approve=True)
    notified = Notification.objects.count()
    with pytest.raises((ActionNotAllowed, Conflict)):
        targets_dept_review(target_set=target_set, actor=district.leader_a2, approve=False, comment="退回")
    assert Notification.objects.count() == notified
    assert TargetSet.objects.get(pk=target_set.pk).status == TargetSetStatus.DEPT_APPROVED


# -- change requests (变更) ----------------------------------------------------------------


def test_change_goes_through_the_same_review_and_every_version_stays_readable_when_approved(district):
    project = district.project(ProjectStage.BUDGETED)
    first = project.target_sets.get()
    with pytest.raises(ValidationError):
        targets_change_request(project=project, actor=district.staff_a, reason=" ")
    change = targets_change_request(project=project, actor=district.staff_a, reason="实施范围调整")
    assert change.number == 2 and change.status == TargetSetStatus.DRAFT
    assert [r.name for r in change.rows.order_by("position")] == [r["name"] for r in TARGET_ROWS]
    assert inbox(district.staff_a) == [TargetReviewFlow.fill]
    with pytest.raises(Conflict):  # one change at a time
        targets_change_request(project=project, actor=district.staff_a, reason="再改")

    rows = [dict(r) for r in TARGET_ROWS]
    rows[0]["target_value"] = "10"
    change = target_set_save(
        target_set=change, actor=district.staff_a, overall_goal="调整后目标", rows=rows, change_reason="实施范围调整"
    )
    change = targets_submit(target_set=change, actor=district.staff_a)
    first.refresh_from_db()
    assert first.status == TargetSetStatus.APPROVED  # in force until the change is approved
    change = targets_dept_review(target_set=change, actor=district.leader_a, approve=True)
    change = targets_rate(target_set=change, actor=district.finance, rating="excellent")

    first.refresh_from_db()
    assert (first.status, change.status) == (TargetSetStatus.SUPERSEDED, TargetSetStatus.APPROVED)
    assert first.rows.get(position=1).target_value == Decimal("12.5")  # the old version is kept as it was
    assert change.rows.get(position=1).target_value == Decimal("10")
    assert stage(project) == ProjectStage.BUDGETED  # a change never moves the project
    assert Notification.objects.filter(recipient=district.staff_a, verb__contains="变更审核结果").exists()


def test_refused_change_leaves_the_version_in_force_when_rated_poor(district):
    project = district.project(ProjectStage.BUDGETED)
    change = targets_change_request(project=project, actor=district.staff_a, reason="调减目标")
    change = targets_submit(target_set=change, actor=district.staff_a)
    change = targets_dept_review(target_set=change, actor=district.leader_a, approve=True)
    change = targets_rate(target_set=change, actor=district.finance, rating="poor", comment="理由不充分")
    assert change.status == TargetSetStatus.REJECTED
    assert project.target_sets.get(number=1).status == TargetSetStatus.APPROVED
    assert stage(project) == ProjectStage.BUDGETED


@pytest.mark.parametrize("where", [ProjectStage.TARGET_REVIEW, ProjectStage.DRAFT])
def test_change_is_refused_when_there_are_no_approved_targets(district, where):
    project = district.project(where)
    with pytest.raises(ActionNotAllowed):
        targets_change_request(project=project, actor=district.staff_a, reason="调整")
    assert not project.target_sets.filter(number=2).exists()


# -- the budget gate ----------------------------------------------------------------------


def test_project_without_approved_targets_cannot_be_budgeted_when_in_target_review(district, project):
    assert not project.has_approved_targets()
    with pytest.raises(ActionNotAllowed):
        project_system_transition(project=project, actor=district.finance, name="approve_targets", role="")
    assert stage(project) == ProjectStage.TARGET_REVIEW


def test_approved_targets_wait_for_the_pre_assessment_when_one_is_required(district):
    project = district.project(ProjectStage.PRE_ASSESSMENT, amount=Decimal("6000000.00"))
    assert project.requires_pre_assessment()
    district.approve_targets(project)
    project.refresh_from_db()
    assert project.stage == ProjectStage.PRE_ASSESSMENT  # approved targets alone do not budget it
    assert project.has_approved_targets() and not project.pre_assessment_settled()
    with pytest.raises(ActionNotAllowed):
        project_system_transition(
            project=project, actor=district.finance, name="confirm_pre_assessment", role="", approved_amount=1
        )


def test_withdrawal_ends_the_targets_review_when_the_department_withdraws(district, project):
    target_set = filed(district, project)
    project_act(project=project, actor=district.staff_a, action="withdraw", comment="合并申报")
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.CANCELLED
    assert not ProjectProcess.objects.filter(project=project, status=PROCESS.NEW).exists()
    assert inbox(district.leader_a) == []
    assert Notification.objects.filter(recipient=district.leader_a, kind="task_cancelled").exists()


def _in_days(days):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(days=days)
