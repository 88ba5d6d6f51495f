"""The self-evaluation campaign, score sheets, re-checks, findings and the results
recommendation, through processes.services.evaluation (and the workflow wrappers that
complete the flow tasks)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Agency
from notifications.models import Notification
from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, BudgetProject, Recheck, SelfEvaluation
from processes.services.audit import audit_verify
from processes.services.evaluation import (
    approved_rows,
    campaign_check,
    recheck_feedback,
    recheck_finalize,
    recheck_sample,
    recheck_save,
    recheck_submit,
    recommendation_for,
    replay_sample,
    self_evaluation_save,
)
from processes.services.findings import finding_add, finding_remove, findings_of
from processes.states import ProjectStage, SelfEvaluationStatus
from workflows.services import (
    campaign_launch,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
)


def due(days=30):
    return timezone.now() + timedelta(days=days)


def launch(district, year=2021):
    return campaign_launch(actor=district.finance, fiscal_year=year, due_at=due())


def lines_for(project, *, km="12.5", days="300", band="achieved", pct="90", explain=True):
    """Entries for TARGET_ROWS: ≥12.5 km (40), ≤300 days (30), qualitative (30)."""
    rows = approved_rows(project)
    reason = {"deviation_reason": "汛期停工", "measure": "优化施工组织"} if explain else {}
    return [
        {"target_row": rows[0].pk, "actual": km, **reason},
        {"target_row": rows[1].pk, "actual": days, **reason},
        {"target_row": rows[2].pk, "band": band, "band_pct": pct, **reason},
    ]


def accepted(district, project, **kw):
    """Take the project's self-evaluation through to accepted with the real services."""
    se = SelfEvaluation.objects.get(project=project)
    staff = district.staff_a if project.department_id == district.dept_a.pk else district.staff_b
    leader = district.leader_a if project.department_id == district.dept_a.pk else district.leader_b
    se = self_evaluation_save(evaluation=se, actor=staff, lines=lines_for(project, **kw), executed="1080000")
    se = self_evaluation_submit(evaluation=se, actor=staff)
    se = self_evaluation_dept_review(evaluation=se, actor=leader, approve=True)
    return self_evaluation_review(evaluation=se, actor=district.finance, accept=True)


@pytest.fixture
def agency(district):
    agency = Agency.objects.create(name="广州某绩效评价事务所", credit_code="91440101MA59PJ0012")
    district.agency_staff.agency = agency
    district.agency_staff.save(update_fields=["agency"])
    return agency


# -- the campaign ---------------------------------------------------------------------------


def test_campaign_gives_every_executing_project_of_the_year_one_self_evaluation_when_launched(district):
    a1 = district.project(ProjectStage.EXECUTING)
    b1 = district.project(ProjectStage.EXECUTING, dept="b")
    budgeted = district.project(ProjectStage.BUDGETED)
    later = district.project(ProjectStage.EXECUTING, fiscal_year=2022, code="2022-00001")
    launched = launch(district)
    assert {e.project_id for e in launched.created} == {a1.pk, b1.pk}
    assert BudgetProject.objects.get(pk=a1.pk).stage == ProjectStage.EVALUATING
    assert BudgetProject.objects.get(pk=budgeted.pk).stage == ProjectStage.BUDGETED
    assert BudgetProject.objects.get(pk=later.pk).stage == ProjectStage.EXECUTING
    # every stage change is in the audit chain, and the chain holds
    moved = AuditEvent.objects.filter(action="start_evaluation", object_type="processes.budgetproject")
    assert sorted(int(e.object_id) for e in moved) == sorted([a1.pk, b1.pk])
    assert all(e.actor_id == district.finance.pk and e.to_state == "evaluating" for e in moved)
    assert audit_verify() is None


def test_campaign_creates_nothing_twice_when_launched_again(district):
    district.project(ProjectStage.EXECUTING)
    launch(district)
    counts = (SelfEvaluation.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
    again = launch(district)
    assert again.created == [] and again.already == 1
    assert SelfEvaluation.objects.count() == counts[0]
    assert Notification.objects.count() == counts[2]  # nobody told twice
    assert AuditEvent.objects.filter(action="campaign_extend").count() == 1


def test_project_is_not_launched_in_another_years_campaign_when_it_belongs_to_2021(district):
    p2021 = district.project(ProjectStage.EXECUTING)
    with pytest.raises(ValidationError) as exc:
        campaign_check(actor=district.finance, fiscal_year=2022, due_at=due())
    assert "fiscal_year" in exc.value.message_dict
    launched = launch(district, year=2022)
    assert launched.created == []
    assert not SelfEvaluation.objects.filter(project=p2021).exists()
    launch(district, year=2021)
    assert SelfEvaluation.objects.get(project=p2021).campaign.fiscal_year == 2021


def test_campaign_costs_the_same_statements_whatever_the_number_of_projects(district):
    for _ in range(2):
        district.project(ProjectStage.EXECUTING)
    with CaptureQueriesContext(connection) as small:
        launch(district, year=2021)
    for i in range(6):
        district.project(ProjectStage.EXECUTING, fiscal_year=2022, code=f"2022-{i:05d}", dept="ab"[i % 2])
    with CaptureQueriesContext(connection) as large:
        launch(district, year=2022)
    assert SelfEvaluation.objects.filter(campaign__fiscal_year=2022).count() == 6
    assert len(large) == len(small)


def test_campaign_is_refused_when_not_finance_or_due_in_the_past(district):
    district.project(ProjectStage.EXECUTING)
    with pytest.raises(PermissionDenied):
        campaign_launch(actor=district.staff_a, fiscal_year=2021, due_at=due())
    with pytest.raises(ValidationError) as exc:
        campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() - timedelta(hours=1))
    assert "due_at" in exc.value.message_dict
    assert not SelfEvaluation.objects.exists()


# -- the score sheet ------------------------------------------------------------------------


def test_sheet_scores_and_grades_when_saved(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    se = self_evaluation_save(evaluation=se, actor=district.staff_a, lines=lines_for(project), executed="1080000")
    sheet = se.sheet
    # execution 1,080,000 ÷ 1,200,000 = 90 % → 9 points; outputs 50 split 40:30; the
    # qualitative row takes all 30 outcome points (no satisfaction row: its 10 go to the
    # indicator sections pro rata: outputs 50/80 × 90, outcomes 30/80 × 90).
    assert sheet.execution_rate == Decimal("90.00")
    assert sheet.execution_score == Decimal("9.00")
    assert sheet.output_score == Decimal("56.25")
    assert sheet.outcome_score == Decimal("30.38")  # 33.75 × 90 %
    assert se.score == Decimal("95.63") and se.grade == "excellent"
    assert [line.score for line in sheet.lines.order_by("position")] == [
        Decimal("32.14"),
        Decimal("24.11"),
        Decimal("30.38"),
    ]


def test_sheet_refuses_bad_entries_and_changes_nothing(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    rows = approved_rows(project)
    bad = [
        {"target_row": rows[0].pk, "actual": "十二"},
        {"target_row": rows[2].pk, "band": "great"},
        {"target_row": 999999, "actual": "1"},
    ]
    with pytest.raises(ValidationError) as exc:
        self_evaluation_save(evaluation=se, actor=district.staff_a, lines=bad, executed="-5")
    keys = set(exc.value.message_dict)
    assert {"executed", f"lines.{rows[0].pk}.actual", f"lines.{rows[2].pk}.band", "lines"} <= keys
    se.refresh_from_db()
    assert se.sheet is None and se.revision == 1


def test_submit_needs_every_indicator_and_reasons_for_shortfalls(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    rows = approved_rows(project)
    se = self_evaluation_save(evaluation=se, actor=district.staff_a, lines=[{"target_row": rows[0].pk, "actual": "6"}])
    with pytest.raises(ValidationError) as exc:
        self_evaluation_submit(evaluation=se, actor=district.staff_a)
    assert {f"lines.{rows[1].pk}.actual", f"lines.{rows[2].pk}.band"} <= set(exc.value.message_dict)
    se = self_evaluation_save(
        evaluation=se, actor=district.staff_a, lines=lines_for(project, km="6", explain=False), executed="1200000"
    )
    with pytest.raises(ValidationError) as exc:
        self_evaluation_submit(evaluation=se, actor=district.staff_a)
    assert f"lines.{rows[0].pk}.deviation_reason" in exc.value.message_dict
    assert SelfEvaluation.objects.get(pk=se.pk).status == SelfEvaluationStatus.ISSUED


def test_save_is_refused_for_another_department_and_a_stale_revision(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    with pytest.raises(PermissionDenied):
        self_evaluation_save(evaluation=se, actor=district.staff_b, lines=lines_for(project))
    se = self_evaluation_save(evaluation=se, actor=district.staff_a, lines=lines_for(project), revision=1)
    with pytest.raises(Conflict):
        self_evaluation_save(evaluation=se, actor=district.staff_a, lines=lines_for(project), revision=1)


def test_accepting_records_the_executed_amount_and_completes_the_projects_evaluation(district):
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    project.refresh_from_db()
    assert se.status == SelfEvaluationStatus.ACCEPTED
    assert project.stage == ProjectStage.EVALUATED
    assert project.executed_amount == Decimal("1080000.00")
    with pytest.raises(ActionNotAllowed):
        self_evaluation_review(evaluation=se, actor=district.finance, accept=True)


# -- re-check -------------------------------------------------------------------------------


def test_random_sample_is_replayable_from_its_seed_and_filters(district, agency):
    projects = [district.project(ProjectStage.EXECUTING, dept="ab"[i % 2]) for i in range(5)]
    campaign = launch(district).campaign
    for p in projects:
        accepted(district, p)
    sample = recheck_sample(
        actor=district.finance,
        campaign=campaign,
        agency=agency,
        due_at=due(10),
        size=2,
        seed=20211231,
        departments=[district.dept_a.pk],
    )
    chosen = sorted(sample.rechecks.values_list("self_evaluation_id", flat=True))
    assert len(chosen) == 2 and replay_sample(sample) == chosen
    assert all(r.project.department_id == district.dept_a.pk for r in sample.rechecks.all())
    assert sample.seed == 20211231 and len(sample.pool) == 3
    # a re-checked self-evaluation is not sampled again; too large a sample is refused
    with pytest.raises(ValidationError) as exc:
        recheck_sample(
            actor=district.finance,
            campaign=campaign,
            agency=agency,
            due_at=due(10),
            size=2,
            departments=[district.dept_a.pk],
        )
    assert "size" in exc.value.message_dict


def test_manual_sample_refuses_self_evaluations_not_accepted(district, agency):
    p1, p2 = district.project(ProjectStage.EXECUTING), district.project(ProjectStage.EXECUTING)
    campaign = launch(district).campaign
    accepted(district, p1)
    open_one = SelfEvaluation.objects.get(project=p2)
    with pytest.raises(ValidationError) as exc:
        recheck_sample(
            actor=district.finance, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[open_one.pk]
        )
    assert "self_evaluations" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        recheck_sample(
            actor=district.agency_staff, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[1]
        )
    assert not Recheck.objects.exists()


def test_recheck_keeps_both_scores_and_the_difference(district, agency):
    project = district.project(ProjectStage.EXECUTING)
    campaign = launch(district).campaign
    se = accepted(district, project)
    sample = recheck_sample(
        actor=district.finance, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[se.pk]
    )
    recheck = sample.rechecks.get()
    rows = approved_rows(project)
    with pytest.raises(PermissionDenied):
        recheck_save(recheck=recheck, actor=district.finance, lines=[])
    recheck = recheck_save(
        recheck=recheck, actor=district.agency_staff, lines=[{"target_row": rows[0].pk, "actual": "10"}]
    )
    assert recheck.sheet.pk != se.sheet.pk  # the agency's own sheet, copied from the department's
    with pytest.raises(ValidationError):
        recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="")
    recheck = recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="产出数量未达标")
    with pytest.raises(PermissionDenied):
        recheck_feedback(recheck=recheck, actor=district.staff_b, comment="异议")
    recheck = recheck_feedback(recheck=recheck, actor=district.staff_a, comment="渠道长度含在建部分")
    recheck = recheck_finalize(recheck=recheck, actor=district.agency_staff)
    se.refresh_from_db()
    assert recheck.self_score == se.score == Decimal("95.63")
    assert recheck.final_score == Decimal("89.20") and recheck.final_grade == "good"
    assert recheck.difference == Decimal("-6.43")
    assert se.sheet.lines.get(target_row=rows[0]).actual_value == Decimal("12.5")  # the self-score stands


# -- findings and the recommendation ---------------------------------------------------------


def test_findings_are_recorded_by_finance_with_problem_and_requirement(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    with pytest.raises(PermissionDenied):
        finding_add(source=se, actor=district.staff_a, problem="p", requirement="r")
    with pytest.raises(ValidationError) as exc:
        finding_add(source=se, actor=district.finance, problem=" ", requirement="")
    assert set(exc.value.message_dict) == {"problem", "requirement"}
    finding = finding_add(
        source=se, actor=district.finance, problem="绩效目标不够细化", basis="财预〔2020〕10号", requirement="细化指标"
    )
    assert finding.department_id == project.department_id and finding.project_id == project.pk
    assert list(findings_of(se)) == [finding]
    finding_remove(finding=finding, actor=district.finance)
    assert not findings_of(se).exists()
    assert AuditEvent.objects.filter(action__in=["finding_add", "finding_remove"]).count() == 2


@pytest.mark.parametrize(
    ("km", "band", "pct", "grade", "text"),
    [
        ("12.5", "achieved", "100", "excellent", "优先保障"),
        ("7", "partly", "60", "fair", "压减预算 10%"),
    ],
)
def test_graded_project_shows_the_settings_recommendation(district, km, band, pct, grade, text):
    project = district.project(ProjectStage.EXECUTING)
    assert recommendation_for(project) is None
    launch(district)
    accepted(district, project, km=km, band=band, pct=pct)
    recommendation = recommendation_for(project)
    assert recommendation.grade == grade and recommendation.source == "self"
    assert recommendation.text == text


def test_recheck_steps_wait_in_the_inbox_of_whoever_moves_next(district, agency, client):
    from processes.selectors import evaluation_work_for

    project = district.project(ProjectStage.EXECUTING)
    campaign = launch(district).campaign
    se = accepted(district, project)
    sample = recheck_sample(
        actor=district.finance, campaign=campaign, agency=agency, due_at=due(), self_evaluation_ids=[se.pk]
    )
    recheck = sample.rechecks.get()
    assert [w.step for w in evaluation_work_for(district.agency_staff)] == ["复核评分"]
    assert evaluation_work_for(district.staff_a) == []
    recheck = recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="复核意见")
    assert evaluation_work_for(district.agency_staff) == []
    assert [w.step for w in evaluation_work_for(district.staff_a)] == ["反馈复核意见"]
    assert evaluation_work_for(district.staff_b) == [] and evaluation_work_for(district.expert) == []
    client.force_login(district.staff_a)
    page = client.get("/")
    assert page.status_code == 200
    assert f"/evaluations/rechecks/{recheck.pk}/" in page.content.decode()
    client.force_login(district.staff_b)
    assert f"/evaluations/rechecks/{recheck.pk}/" not in client.get("/").content.decode()


def test_latecomers_get_the_due_date_of_the_launch_that_adds_them(district):
    from viewflow.workflow.models import Task

    from workflows.flows import SelfEvaluationFlow
    from workflows.nodes import task_due

    first = district.project(ProjectStage.EXECUTING)
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=due(10))
    late = district.project(ProjectStage.EXECUTING)
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=due(20))
    dues = {
        t.process.projectprocess.project_id: task_due(t).date()
        for t in Task.objects.filter(flow_task=SelfEvaluationFlow.instance.fill).select_related(
            "process__projectprocess"
        )
    }
    assert dues == {first.pk: due(10).date(), late.pk: due(20).date()}


def test_launch_reports_its_progress_phase_by_phase(district):
    from processes.services.jobs import NoProgress

    class Recorded(NoProgress):
        def __init__(self):
            super().__init__()
            self.seen = []

        def start(self, phase, total):
            super().start(phase, total)
            self.seen.append((phase, total, 0))

        def advance(self, n=1):
            super().advance(n)
            self.seen.append((self.phase, self.total, self.done))

    for dept in "ab":
        district.project(ProjectStage.EXECUTING, dept=dept)
    progress = Recorded()
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=due(), progress=progress)
    assert progress.seen == [
        ("生成绩效自评", 2, 0),
        ("生成绩效自评", 2, 2),
        ("项目转入评价中并记录审计", 2, 0),
        ("项目转入评价中并记录审计", 2, 2),
        ("派发填报任务", 2, 0),
        ("派发填报任务", 2, 2),
    ]
