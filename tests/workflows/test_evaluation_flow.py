"""绩效自评 and 复核 (DESIGN §3.5) through the services and SelfEvaluationFlow: launching a
year's campaign (once, for that year only), the whole self-evaluation path as real role
users with returns by the leader and the finance section, and the re-check chain (random
sample with a replayable seed, manual sample, agency rescoring, department feedback,
final score beside the self-score), with the wrong roles refused and nothing changed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from accounts.models import Agency
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import (
    AuditEvent,
    BudgetProject,
    EvaluationCampaign,
    Recheck,
    RecheckSample,
    SelfEvaluation,
)
from processes.services import evaluation
from processes.services.findings import finding_add, findings_of
from processes.states import Grade, ProjectStage, RecheckStatus, SampleMethod, SelfEvaluationStatus
from tests.factories import AgencyFactory, make_user
from workflows.flows import SelfEvaluationFlow
from workflows.models import ProjectProcess
from workflows.selectors import task_inbox_for
from workflows.services import (
    campaign_launch,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
)

pytestmark = pytest.mark.django_db

D = Decimal


def due(days=20):
    return timezone.now() + timedelta(days=days)


def launch(district, year=2021, **kw):
    return campaign_launch(actor=district.finance, fiscal_year=year, due_at=kw.pop("due_at", due()), **kw)


def inbox(user):
    return [t.flow_task for t in task_inbox_for(user)]


def entries(evaluation_, *, executed="1200000", gte="12.5", lte="280", band="achieved", band_pct="100", explained=True):
    """The sheet of TARGET_ROWS: ≥12.5 km, ≤300 天, qualitative; by default full marks."""
    lines = []
    for row in evaluation.approved_rows(evaluation_.project):
        item = {"target_row": row.pk, "deviation_reason": "", "measure": ""}
        if row.direction == "qualitative":
            item.update(band=band, band_pct=band_pct)
        else:
            item["actual"] = gte if row.direction == "gte" else lte
        if explained:
            item.update(deviation_reason="征地滞后", measure="加快进度")
        lines.append(item)
    return {"executed": executed, "lines": lines, "summary": "总体完成"}


def task_process(se) -> int:
    return Task.objects.filter(flow_task=SelfEvaluationFlow.fill, process__data__self_evaluation=se.pk).values_list(
        "process_id", flat=True
    )[0]


def filled(district, se, **kw):
    return evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, **entries(se, **kw))


def accepted(district, se, staff=None, leader=None, **kw):
    staff = staff or district.staff_a
    leader = leader or district.leader_a
    se = evaluation.self_evaluation_save(evaluation=se, actor=staff, **entries(se, **kw))
    se = self_evaluation_submit(evaluation=se, actor=staff)
    se = self_evaluation_dept_review(evaluation=se, actor=leader, approve=True)
    return self_evaluation_review(evaluation=se, actor=district.finance, accept=True)


@pytest.fixture
def agency(district):
    agency = AgencyFactory(name="广州某会计师事务所")
    district.agency_staff.agency = agency
    district.agency_staff.save(update_fields=["agency"])
    return agency


# -- the campaign ----------------------------------------------------------------------------


def test_campaign_gives_each_project_one_self_evaluation_and_its_department_one_task_when_launched(district):
    a1 = district.project(ProjectStage.EXECUTING)
    a2 = district.project(ProjectStage.EXECUTING)
    b1 = district.project(ProjectStage.EXECUTING, dept="b")
    budgeted = district.project(ProjectStage.BUDGETED)  # not executing: not in the campaign
    when = due(15)

    launched = launch(district, due_at=when)

    assert {se.project_id for se in launched.created} == {a1.pk, a2.pk, b1.pk}
    assert launched.campaign.fiscal_year == 2021 and launched.campaign.due_at == when
    assert set(BudgetProject.objects.filter(pk__in=[a1.pk, a2.pk, b1.pk]).values_list("stage", flat=True)) == {
        ProjectStage.EVALUATING
    }
    assert BudgetProject.objects.get(pk=budgeted.pk).stage == ProjectStage.BUDGETED
    assert inbox(district.staff_a) == [SelfEvaluationFlow.fill, SelfEvaluationFlow.fill]
    assert inbox(district.staff_b) == [SelfEvaluationFlow.fill]
    assert inbox(district.leader_a) == [] and inbox(district.finance) == []
    task = task_inbox_for(district.staff_b).get()
    assert task.data["due_at"] == when.isoformat()
    assert task.process.data == {"self_evaluation": SelfEvaluation.objects.get(project=b1).pk}
    # one notice per department member for the whole campaign, with the department's count
    notice = Notification.objects.get(recipient=district.staff_a, object_type="processes.evaluationcampaign")
    assert notice.params["count"] == 2
    assert Notification.objects.get(recipient=district.leader_b, object_type="processes.evaluationcampaign")
    assert AuditEvent.objects.filter(action="start_evaluation").count() == 3
    assert AuditEvent.objects.filter(action="campaign_launch").count() == 1


def test_launching_twice_creates_nothing_twice(district):
    district.project(ProjectStage.EXECUTING)
    district.project(ProjectStage.EXECUTING, dept="b")
    first = launch(district)
    counts = (
        SelfEvaluation.objects.count(),
        Task.objects.count(),
        ProjectProcess.objects.count(),
        Notification.objects.count(),
        EvaluationCampaign.objects.count(),
        AuditEvent.objects.filter(action="start_evaluation").count(),
    )

    again = launch(district)

    assert again.campaign == first.campaign and again.created == [] and again.already == 2
    assert (
        SelfEvaluation.objects.count(),
        Task.objects.count(),
        ProjectProcess.objects.count(),
        Notification.objects.count(),
        EvaluationCampaign.objects.count(),
        AuditEvent.objects.filter(action="start_evaluation").count(),
    ) == counts


def test_project_of_2021_is_never_launched_in_a_2022_campaign(district):
    old = district.project(ProjectStage.EXECUTING)
    new = district.project(ProjectStage.EXECUTING, fiscal_year=2022, code="2022-00001")

    launched = launch(district, year=2022)

    assert [se.project_id for se in launched.created] == [new.pk]
    assert not SelfEvaluation.objects.filter(project=old).exists()
    assert BudgetProject.objects.get(pk=old.pk).stage == ProjectStage.EXECUTING
    assert inbox(district.staff_a) == [SelfEvaluationFlow.fill]


def test_campaign_is_refused_when_launched_by_a_department_or_with_a_past_due_date(district):
    district.project(ProjectStage.EXECUTING)
    for user in (district.staff_a, district.leader_a, district.supervisor, district.agency_staff):
        with pytest.raises(PermissionDenied):
            campaign_launch(actor=user, fiscal_year=2021, due_at=due())
    with pytest.raises(ValidationError) as excinfo:
        evaluation.campaign_check(actor=district.finance, fiscal_year=2021, due_at=due(-1))
    assert "due_at" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        evaluation.campaign_check(actor=district.finance, fiscal_year=2030, due_at=due())
    assert "fiscal_year" in excinfo.value.message_dict
    assert not EvaluationCampaign.objects.exists() and not SelfEvaluation.objects.exists()


# -- the self-evaluation path ---------------------------------------------------------------


def test_self_evaluation_is_accepted_after_returns_by_the_leader_and_the_finance_section(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]

    se = filled(district, se, gte="10", explained=False)  # a draft may be incomplete or unexplained
    assert se.status == SelfEvaluationStatus.ISSUED and se.score is not None
    with pytest.raises(ValidationError) as excinfo:  # 10 of 12.5 km: reason and measure needed
        self_evaluation_submit(evaluation=se, actor=district.staff_a)
    assert any(key.endswith(".deviation_reason") for key in excinfo.value.message_dict)
    se = filled(district, se, gte="10")
    se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
    assert se.status == SelfEvaluationStatus.SUBMITTED
    assert inbox(district.staff_a) == [] and inbox(district.leader_a) == [SelfEvaluationFlow.leader_review]

    with pytest.raises(ValidationError):  # a return needs its reason
        self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=False, comment="")
    se = self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=False, comment="执行数有误")
    assert (se.status, se.leader_comment) == (SelfEvaluationStatus.ISSUED, "执行数有误")
    assert inbox(district.staff_a) == [SelfEvaluationFlow.fill]
    returned = Notification.objects.filter(recipient=district.staff_a, kind="returned").latest("pk")
    assert returned.params["reason"] == "执行数有误"

    se = filled(district, se, executed="1100000", gte="6")
    se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
    se = self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True, comment="同意")
    assert se.status == SelfEvaluationStatus.DEPT_APPROVED
    assert inbox(district.leader_a) == [] and inbox(district.finance) == [SelfEvaluationFlow.finance_review]

    se = self_evaluation_review(evaluation=se, actor=district.finance, accept=False, comment="佐证不足")
    assert (se.status, se.review_comment) == (SelfEvaluationStatus.ISSUED, "佐证不足")
    assert inbox(district.finance) == [] and inbox(district.staff_a) == [SelfEvaluationFlow.fill]
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATING

    se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
    se = self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
    se = self_evaluation_review(evaluation=se, actor=district.finance, accept=True, comment="")

    assert se.status == SelfEvaluationStatus.ACCEPTED and se.accepted_by == district.finance
    project.refresh_from_db()
    assert project.stage == ProjectStage.EVALUATED
    assert project.executed_amount == D("1100000.00")
    assert se.grade == Grade.GOOD and D(80) <= se.score < D(90)
    assert inbox(district.staff_a) == inbox(district.leader_a) == inbox(district.finance) == []
    process = ProjectProcess.objects.get(project=project, pk=task_process(se))
    assert process.status == PROCESS.DONE
    actions = list(
        AuditEvent.objects.filter(object_type="processes.selfevaluation", object_id=str(se.pk))
        .exclude(action="self_evaluation_edit")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "self_evaluation_submit",
        "self_evaluation_dept_return",
        "self_evaluation_submit",
        "self_evaluation_dept_approve",
        "self_evaluation_return",
        "self_evaluation_submit",
        "self_evaluation_dept_approve",
        "self_evaluation_accept",
    ]
    assert AuditEvent.objects.filter(action="complete_evaluation", object_id=str(project.pk)).count() == 1
    notice = Notification.objects.filter(recipient=district.staff_a, kind="approved").latest("pk")
    assert notice.params["score"] == str(se.score)
    rec = evaluation.recommendation_for(project)
    assert (rec.grade, rec.source, rec.action) == (Grade.GOOD, "self", "keep")


def test_wrong_roles_are_refused_at_each_step_and_nothing_changes(district):
    district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    outsiders = (district.staff_b, district.leader_b, district.expert, district.agency_staff, district.supervisor)

    for user in (*outsiders, district.leader_a, district.finance):
        with pytest.raises(PermissionDenied):
            evaluation.self_evaluation_save(evaluation=se, actor=user, **entries(se))
    se.refresh_from_db()
    assert se.sheet is None and se.revision == 1
    se = filled(district, se)
    for user in (*outsiders, district.leader_a, district.finance):
        with pytest.raises(PermissionDenied):
            self_evaluation_submit(evaluation=se, actor=user)
    se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
    with pytest.raises(ActionNotAllowed):  # submitted: no longer editable
        filled(district, se)
    for user in (*outsiders, district.staff_a, district.finance):
        with pytest.raises(PermissionDenied):
            self_evaluation_dept_review(evaluation=se, actor=user, approve=True)
    se = self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
    for user in (*outsiders, district.staff_a, district.leader_a):
        with pytest.raises(PermissionDenied):
            self_evaluation_review(evaluation=se, actor=user, accept=True)
    with pytest.raises(ActionNotAllowed):  # the leader cannot decide twice
        self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.DEPT_APPROVED
    assert inbox(district.finance) == [SelfEvaluationFlow.finance_review]


# -- re-checks -------------------------------------------------------------------------------


@pytest.fixture
def graded(district):
    """Four accepted self-evaluations: three of department A, one of B."""
    for dept in ("a", "a", "a", "b"):
        district.project(ProjectStage.EXECUTING, dept=dept)
    out = []
    for se in launch(district).created:
        if se.project.department_id == district.dept_a.pk:
            out.append(accepted(district, se))
        else:
            out.append(accepted(district, se, staff=district.staff_b, leader=district.leader_b, gte="10"))
    return out


def test_random_sample_replays_to_the_same_ids_when_drawn_with_a_seed(district, agency, graded):
    campaign = graded[0].campaign
    sample = evaluation.recheck_sample(
        actor=district.finance, campaign=campaign, agency=agency, due_at=due(), size=2, seed=20210601
    )

    assert sample.method == SampleMethod.RANDOM and sample.seed == 20210601
    chosen = sorted(sample.rechecks.values_list("self_evaluation_id", flat=True))
    assert len(chosen) == 2
    assert evaluation.replay_sample(sample) == chosen
    assert evaluation.draw_sample(sample.pool, 2, 20210601) == chosen
    assert sample.pool == sorted(se.pk for se in graded)
    # a department filter narrows the pool to that department
    pool_b = list(evaluation.recheck_pool(campaign, departments=[district.dept_b.pk]).values_list("pk", flat=True))
    assert pool_b == ([] if graded[3].pk in chosen else [graded[3].pk])
    told = Notification.objects.filter(recipient=district.agency_staff, object_type="processes.recheck_sample")
    assert told.count() <= 1  # the agency is told once for the whole sample
    assert Notification.objects.filter(recipient=district.agency_staff).exists()


def test_manual_sample_refuses_what_is_not_in_the_pool(district, agency, graded):
    campaign = graded[0].campaign
    sample = evaluation.recheck_sample(
        actor=district.finance,
        campaign=campaign,
        agency=agency,
        due_at=due(),
        self_evaluation_ids=[graded[0].pk, graded[3].pk],
    )
    assert sample.method == SampleMethod.MANUAL and sample.seed is None
    assert sorted(sample.rechecks.values_list("self_evaluation_id", flat=True)) == [graded[0].pk, graded[3].pk]
    with pytest.raises(ValidationError) as excinfo:  # already sampled
        evaluation.recheck_sample(
            actor=district.finance, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[graded[0].pk]
        )
    assert "self_evaluations" in excinfo.value.message_dict
    for user in (district.staff_a, district.leader_a, district.supervisor, district.agency_staff):
        with pytest.raises(PermissionDenied):
            evaluation.recheck_sample(
                actor=user, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[graded[1].pk]
            )
    assert RecheckSample.objects.count() == 1 and Recheck.objects.count() == 2


def test_recheck_goes_from_rescoring_through_feedback_to_a_final_score_beside_the_self_score(district, agency, graded):
    campaign = graded[0].campaign
    se = graded[0]
    other_agency = AgencyFactory(name="另一机构")
    other = make_user("agency_staff", username="agency2", agency=other_agency)
    sample = evaluation.recheck_sample(
        actor=district.finance, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[se.pk]
    )
    recheck = sample.rechecks.get()
    assert (recheck.status, recheck.self_score, recheck.self_grade) == (RecheckStatus.ASSIGNED, se.score, se.grade)
    lines = entries(se, gte="10")["lines"]

    for user in (other, district.finance, district.staff_a, district.leader_b, district.expert):
        with pytest.raises(PermissionDenied):
            evaluation.recheck_save(recheck=recheck, actor=user, lines=lines)
    recheck.refresh_from_db()
    assert recheck.sheet is None

    recheck = evaluation.recheck_save(recheck=recheck, actor=district.agency_staff, lines=lines)
    assert recheck.sheet.total < se.score  # 10 of 12.5 km
    assert SelfEvaluation.objects.get(pk=se.pk).sheet.total == se.score  # the department's sheet is kept
    with pytest.raises(ValidationError):
        evaluation.recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="")
    with pytest.raises(PermissionDenied):
        evaluation.recheck_submit(recheck=recheck, actor=other, opinion="意见")
    recheck = evaluation.recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="实际完成长度不足")
    assert recheck.status == RecheckStatus.RESCORED

    for user in (district.staff_b, district.leader_b, district.agency_staff, district.finance):
        with pytest.raises(PermissionDenied):
            evaluation.recheck_feedback(recheck=recheck, actor=user, comment="有异议")
    with pytest.raises(ActionNotAllowed):
        evaluation.recheck_finalize(recheck=recheck, actor=district.agency_staff)
    recheck = evaluation.recheck_feedback(recheck=recheck, actor=district.leader_a, comment="")
    assert (recheck.status, recheck.department_comment) == (RecheckStatus.FED_BACK, "")

    finding = finding_add(source=recheck, actor=district.agency_staff, problem="台账不全", requirement="补齐台账")
    assert list(findings_of(recheck)) == [finding]
    with pytest.raises(PermissionDenied):
        finding_add(source=recheck, actor=other, problem="x", requirement="y")

    for user in (other, district.finance, district.staff_a):
        with pytest.raises(PermissionDenied):
            evaluation.recheck_finalize(recheck=recheck, actor=user)
    recheck = evaluation.recheck_finalize(recheck=recheck, actor=district.agency_staff)

    assert recheck.status == RecheckStatus.FINAL
    assert recheck.final_score == recheck.sheet.total and recheck.self_score == se.score
    assert recheck.difference == recheck.final_score - se.score < 0
    assert Notification.objects.filter(recipient=district.finance, object_type="processes.recheck").exists()
    rec = evaluation.recommendation_for(se.project)
    assert (rec.source, rec.score) == ("recheck", recheck.final_score)
    with pytest.raises(PermissionDenied):  # final: the agency records no more findings
        finding_add(source=recheck, actor=district.agency_staff, problem="x", requirement="y")
    assert set(Agency.objects.values_list("name", flat=True)) == {"广州某会计师事务所", "另一机构"}
