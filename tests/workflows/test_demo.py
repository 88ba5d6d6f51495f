"""`manage.py load_demo`: the Liwan demo district, loaded through the real services, idempotently."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from viewflow.workflow.models import Process, Task

from accounts.models import Agency, Department, DeputyProfile, ExpertProfile, User
from accounts.roles import Role, separated_role_conflict
from notifications.models import Notification
from processes.models import (
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    DeliverableScore,
    ExpertSuggestion,
    Finding,
    FrameworkCommission,
    Indicator,
    IndicatorProgress,
    MonitoringReport,
    MonitoringRound,
    Recheck,
    ResultsDecision,
    SelfEvaluation,
    TargetRow,
    TargetSet,
)
from processes.services import agencies
from processes.services.audit import audit_verify
from processes.states import Disposal, Grade, Light, ProjectStage, ReportStatus
from reports.figures import annual_report, pre_assessment_summary
from workflows import demo, demo_evaluation

pytestmark = pytest.mark.django_db

REPORT_PROJECTS = {
    "碧道建设工程": "区农水局",
    "东沙涌综合整治工程": "区农水局",
    "城市更新基础数据调查费用": "区住房建设局",
}


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module (its output returned) inside a transaction that
    is rolled back at the end; each test runs in a savepoint within it, as with ``db``.
    After-commit work (deliveries) does not run, as in any test's transaction."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _savepoint(demo_loaded, db):
    """Order matters: the module's demo first, then the test's savepoint (``db``)."""


def load(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict:
    """Everything the demo writes, by table: counts plus the rows' fingerprints."""
    return {
        "departments": list(Department.objects.values_list("code", "name", "parent__code").order_by("code")),
        "agencies": list(Agency.objects.values_list("credit_code", "name")),
        "users": list(User.objects.values_list("username", "password", "department__code", "is_staff").order_by("pk")),
        "roles": list(User.groups.through.objects.values_list("user__username", "group__name").order_by("pk")),
        "experts": list(ExpertProfile.objects.values_list("user__username", "specialties").order_by("pk")),
        "expert_conflicts": ExpertProfile.conflicts.through.objects.count(),
        "deputies": list(DeputyProfile.objects.values_list("user__username", "delegation").order_by("pk")),
        "projects": list(
            BudgetProject.objects.values_list(
                "code", "stage", "version", "updated_at", "adjusted_amount", "executed_amount", "execution_hold"
            ).order_by("pk")
        ),
        "indicators": list(Indicator.objects.values_list("code", "updated_at").order_by("pk")),
        "targets": list(TargetSet.objects.values_list("pk", "status", "revision", "updated_at").order_by("pk")),
        "target_rows": list(TargetRow.objects.values_list("pk", "target_value", "weight").order_by("pk")),
        "rounds": list(MonitoringRound.objects.values_list("pk", "fiscal_year", "end_month", "due_at").order_by("pk")),
        "reports": list(
            MonitoringReport.objects.values_list(
                "pk", "project__code", "status", "light", "revision", "updated_at", "amount_after"
            ).order_by("pk")
        ),
        "progress": list(IndicatorProgress.objects.values_list("pk", "value", "progress", "light").order_by("pk")),
        "self_evaluations": list(
            SelfEvaluation.objects.values_list("pk", "status", "score", "revision", "updated_at").order_by("pk")
        ),
        "rechecks": list(Recheck.objects.values_list("pk", "status", "final_score", "revision").order_by("pk")),
        "evaluations": list(
            CommissionedEvaluation.objects.values_list("pk", "status", "score", "revision", "updated_at").order_by("pk")
        ),
        "frameworks": list(FrameworkCommission.objects.values_list("fiscal_year", "agency_id", "updated_at")),
        "quality_scores": list(
            DeliverableScore.objects.values_list("pk", "kind", "score", "revision", "scored_at").order_by("pk")
        ),
        "suggestions": ExpertSuggestion.objects.count(),
        "findings": Finding.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "processes": Process.objects.count(),
        "tasks": list(Task.objects.values_list("pk", "status", "owner_id").order_by("pk")),
        "results_decisions": list(
            ResultsDecision.objects.values_list("project__code", "status", "decided_amount", "revision").order_by("pk")
        ),
    }


def test_load_demo_creates_nothing_when_run_a_second_time():
    first = snapshot()

    out = load()

    assert snapshot() == first
    assert f"0 created, {len(demo.PROJECTS)} already present" in out
    assert "this load: 0 reports created, 0 moved on" in out


def test_load_demo_runs_the_reports_three_projects_through_pre_assessment_to_a_1200_wan_cut():
    projects = BudgetProject.objects.filter(fiscal_year=demo.FISCAL_YEAR, name__in=REPORT_PROJECTS)
    assert {p.name: p.department.name for p in projects} == REPORT_PROJECTS
    assert sum(p.requested_amount for p in projects) == Decimal("79200000.00")
    for p in projects:
        assert p.stage == ProjectStage.EXECUTING
        assert p.approved_amount == demo.REPORT_CONCLUSIONS[p.code][1]
        assert p.requires_pre_assessment()  # above the one-off threshold, so no other route was open
        actions = list(
            AuditEvent.objects.filter(object_type="processes.budgetproject", object_id=str(p.pk))
            .order_by("sequence")
            .values_list("action", "actor_username")
        )
        staff, leader = actions[1][1], actions[2][1]
        # targets approved before the review was confirmed: the confirmation budgets it;
        # targets approved after it: the project waited in target review (either order)
        budgeted_by = (
            ["await_targets", "approve_targets"]
            if demo.TARGETS[p.code].after_pre_assessment
            else ["confirm_pre_assessment"]
        )
        # then issued into execution, and a monitoring disposal that adjusts the budget shows too
        plan = demo.MONITORING.get(p.code)  # not listed: its report is still with the department
        disposed = [f"dispose_{plan.disposal}"] if plan and plan.disposal not in ("", Disposal.NO_ACTION) else []
        assert [a for a, _ in actions] == [
            "create",
            "submit",
            "approve",
            "route_to_pre_assessment",
            *budgeted_by,
            "start_execution",
            *disposed,
        ]
        assert p.target_sets.get(status="approved").rating == demo.TARGETS[p.code].rating
        assert User.objects.get(username=staff).has_role(Role.DEPT_STAFF)
        assert User.objects.get(username=leader).has_role(Role.DEPT_LEADER)
    # The year summary, computed from the confirmed pre-assessments: the report's §一 figures.
    summary = pre_assessment_summary(demo.FISCAL_YEAR)
    assert (summary.projects, summary.requested, summary.reduction) == (
        3,
        Decimal("79200000.00"),
        Decimal("12000000.00"),
    )
    assert summary.reduction_rate == Decimal("15.15")  # a percent, two places
    assert summary.by_conclusion == {"support": 2, "partial": 1}


def test_load_demo_leaves_projects_at_every_intake_stage_and_in_execution_with_their_open_tasks():
    stages = set(
        BudgetProject.objects.filter(fiscal_year=demo.FISCAL_YEAR, policy__isnull=True).values_list("stage", flat=True)
    )  # the demo's major policy is adopted (budgeted): test_load_demo_pre_assesses_a_major_policy...
    assert stages == {
        ProjectStage.DRAFT,
        ProjectStage.SUBMITTED,
        ProjectStage.DEPT_APPROVED,
        ProjectStage.TARGET_REVIEW,
        ProjectStage.EXECUTING,  # every budgeted project was issued
        ProjectStage.WITHDRAWN,
    }
    open_tasks = {
        (t.process.projectprocess.project.stage, t.owner_permission)
        for t in Task.objects.filter(
            flow_task_type="HUMAN", status="NEW", process__projectprocess__project__fiscal_year=demo.FISCAL_YEAR
        ).select_related("process")
    }
    assert open_tasks == {
        (ProjectStage.SUBMITTED, "processes.review_project"),
        (ProjectStage.DEPT_APPROVED, "processes.intake_project"),
        (ProjectStage.TARGET_REVIEW, "processes.submit_targets"),  # 公共绿化管养: rated 中, to revise
        (ProjectStage.EXECUTING, "processes.rate_targets"),  # “羊城家政”: a change waiting for finance
        (ProjectStage.EXECUTING, "processes.fill_monitoring"),  # 城市更新基础数据调查费用: its report unfilled
    }
    # the sent-back draft carries its reason in the submitter's notification
    returned = Notification.objects.get(kind="returned")
    assert returned.recipient.username == "chengguan_staff"
    assert "测算依据" in returned.params["reason"]


def test_load_demo_gives_every_account_one_role_within_separation_of_duties():
    users = User.objects.filter(username__in=[u.username for u in demo.USERS])
    assert users.count() == len(demo.USERS)
    for user in users:
        roles = set(user.groups.values_list("name", flat=True))
        assert len(roles) == 1, user.username
        assert not separated_role_conflict(roles)
        assert not user.is_superuser
        assert user.check_password(demo.PASSWORD)
    sysadmin = users.get(username="sysadmin")
    assert sysadmin.is_staff and sysadmin.has_role(Role.SYSADMIN)
    for dept in Department.objects.all():
        assert set(dept.users.values_list("groups__name", flat=True)) == {Role.DEPT_STAFF, Role.DEPT_LEADER}
    assert all(u.agency_id for u in users.filter(groups__name=Role.AGENCY_STAFF))
    assert ExpertProfile.objects.count() == len([u for u in demo.USERS if u.role == Role.EXPERT])
    assert DeputyProfile.objects.count() == len([u for u in demo.USERS if u.role == Role.DEPUTY])


def test_load_demo_leaves_an_intact_audit_chain():
    load()

    assert AuditEvent.objects.exists()
    assert audit_verify() is None


def test_load_demo_prints_the_password_and_a_login_per_account(demo_loaded):
    out = demo_loaded

    assert demo.PASSWORD in out
    for u in demo.USERS:
        assert u.username in out
    assert "requested 7,920.00 万元" in out and "cut 1,200.00 万元, rate 15.15 %" in out
    assert "2021 年 1—7 月绩效运行监控: 5 reports by light — red 1, yellow 1, green 2, blue 0, none 1;" in out


def test_load_demo_loads_the_library_and_reviews_targets_at_every_rating_through_the_real_services():
    library = Indicator.objects.filter(status="approved")
    assert library.filter(scope="general").count() == 225
    assert library.filter(scope="department").count() > 450
    # every department-specific indicator belongs to a demo department
    codes = {d.code for d in demo.DEPARTMENTS}
    assert set(library.filter(scope="department").values_list("department__code", flat=True)) <= codes

    versions = {
        (t.project.code, t.number): (t.status, t.rating)
        for t in TargetSet.objects.filter(project__fiscal_year=demo.FISCAL_YEAR)
        .select_related("project")
        .order_by("project__code", "number")
    }
    assert versions == {
        ("2021-LW101-001", 1): ("approved", "excellent"),
        ("2021-LW101-002", 1): ("approved", "good"),
        ("2021-LW102-001", 1): ("approved", "excellent"),
        ("2021-LW103-001", 1): ("approved", "good"),
        ("2021-LW103-001", 2): ("dept_approved", ""),
        ("2021-LW104-002", 1): ("approved", "excellent"),
        ("2021-LW108-002", 1): ("returned", "fair"),
    }
    edited = TargetRow.objects.get(target_set__project__code="2021-LW101-002", target_set__number=1, position=2)
    assert edited.target_value == Decimal("52000") and edited.edits == {"target_value": ["48000.0000", "52000"]}
    # a library row keeps its library link; a fresh row has none
    yangcheng = TargetSet.objects.get(project__code="2021-LW103-001", number=1).rows.order_by("position")
    assert yangcheng[0].indicator.code == "LW103-0007" and yangcheng[3].indicator is None
    assert audit_verify() is None


def test_load_demo_runs_a_monitoring_round_through_every_light_and_a_budget_adjustment():
    round_ = MonitoringRound.objects.get(fiscal_year=demo.FISCAL_YEAR, start_month=1, end_month=7)
    reports = {r.project.code: r for r in round_.reports.select_related("project")}
    executing = set(BudgetProject.objects.filter(stage=ProjectStage.EXECUTING).values_list("code", flat=True))
    assert set(reports) == executing and len(executing) == 5
    assert {code: (r.status, r.light) for code, r in reports.items()} == {
        "2021-LW101-001": (ReportStatus.CLEARED, Light.GREEN),
        "2021-LW101-002": (ReportStatus.DISPOSED, Light.RED),
        "2021-LW102-001": (ReportStatus.ISSUED, Light.NONE),  # still with its department
        "2021-LW103-001": (ReportStatus.CLEARED, Light.YELLOW),
        "2021-LW104-002": (ReportStatus.CLEARED, Light.GREEN),
    }
    # on pace in spending; its cumulative indicators at 120 % of the pace or more (blue), its
    # rates read against the targets themselves (green: 97.8 % of ≥ 95 % is 102.95 %)
    progress = IndicatorProgress.objects.filter(report__round=round_, report__project__code="2021-LW104-002")
    lights_by_row = dict(progress.values_list("target_row__position", "light"))
    assert lights_by_row == {
        1: Light.BLUE,
        2: Light.BLUE,
        3: Light.GREEN,
        4: Light.GREEN,
        5: Light.GREEN,
        6: Light.GREEN,
    }
    assert progress.get(target_row__position=3).rate == Decimal("102.95")
    assert reports["2021-LW104-002"].spending_light == Light.GREEN
    assert progress.get(target_row__position=1).rate == Decimal("125.71")
    # the warned report was disposed by adjusting the budget: 2,240 万 → 1,600 万
    disposed = reports["2021-LW101-002"]
    project = BudgetProject.objects.get(pk=disposed.project_id)
    assert (disposed.disposal, disposed.amount_before, disposed.amount_after) == (
        Disposal.ADJUST,
        Decimal("22400000.00"),
        Decimal("16000000.00"),
    )
    assert (project.approved_amount, project.adjusted_amount, project.executed_amount) == (
        Decimal("22400000.00"),
        Decimal("16000000.00"),
        Decimal("5226000.00"),
    )
    adjusted = AuditEvent.objects.get(
        object_type="processes.budgetproject", object_id=str(project.pk), action="dispose_adjust"
    )
    assert (adjusted.detail["amount_before"], adjusted.detail["amount_after"]) == ("22400000.00", "16000000.00")
    assert Notification.objects.filter(kind="report_disposed", recipient__username="nongshui_staff").exists()
    # the flows: the reviewed ones ended, the unfilled one waits at its department's 填报 task
    open_monitoring = Task.objects.filter(process__flow_class__endswith="MonitoringFlow", status="NEW")
    assert [(t.process.projectprocess.project.code, t.owner_permission) for t in open_monitoring] == [
        ("2021-LW102-001", "processes.fill_monitoring")
    ]
    # one round-opening notice per department member, not one per report
    opened = AuditEvent.objects.get(
        object_type="processes.monitoringround", object_id=str(round_.pk), action="round_open"
    )
    told = Notification.objects.filter(event_key=f"audit:{opened.sequence}")
    assert told.get(recipient__username="nongshui_staff").params["count"] == 2
    assert told.get(recipient__username="zhujian_staff").params["count"] == 1

    first = snapshot()
    load()
    assert snapshot() == first


def test_load_demo_runs_the_evaluation_year_with_every_grade_a_recheck_and_commissioned_evaluations():
    year = demo_evaluation.YEAR
    evaluations = SelfEvaluation.objects.filter(campaign__fiscal_year=year).select_related("project")
    assert evaluations.count() == len(demo_evaluation.PROJECTS)
    accepted = evaluations.filter(status="accepted")
    assert set(accepted.values_list("grade", flat=True)) == {"excellent", "good", "fair", "poor"}
    assert {e.project.code: e.status for e in evaluations.exclude(status="accepted")} == {
        "2020-LW106-001": "submitted",
        "2020-LW108-001": "issued",
    }
    # every accepted project is 已评价 (or moved on to 整改中 / 已关闭 by a rectification);
    # the others are still 评价中
    after_acceptance = {ProjectStage.EVALUATED, ProjectStage.RECTIFYING, ProjectStage.CLOSED}
    for e in evaluations:
        if e.status == "accepted":
            assert e.project.stage in after_acceptance, e.project.code
        else:
            assert e.project.stage in (ProjectStage.EVALUATING, ProjectStage.RECTIFYING), e.project.code
    # one re-check final (both scores kept), one waiting for the department's feedback
    final = Recheck.objects.get(status="final")
    assert final.final_score < final.self_score and final.difference == final.final_score - final.self_score
    assert Recheck.objects.get(status="rescored").project.code == "2020-LW105-001"
    # the key evaluation is published with its panel's suggestions, the department's is final
    key = CommissionedEvaluation.objects.get(kind="key")
    department = CommissionedEvaluation.objects.get(kind="department")
    assert key.status == "published" and key.published_at is not None and key.grade
    assert department.status == "final" and department.budget and department.executed
    assert ExpertSuggestion.objects.filter(evaluation=key).count() == 2 * key.panel.count()
    assert key.findings.count() == 2
    assert audit_verify() is None

    # The year run through the real flows reports through the same code as an imported one.
    report = annual_report(year)
    assert not report.imported
    assert report.self_evaluation.grades == {g: accepted.filter(grade=g).count() for g in Grade.values}
    assert report.self_evaluation.projects == accepted.count()
    assert [(r.project_code, r.score, r.grade) for r in report.recheck.rows] == [
        (final.project.code, final.final_score, final.final_grade)
    ]
    assert [(r.project_code, r.score) for r in report.key_evaluation.rows] == [(key.project.code, key.score)]
    # each suggestion once, in panel order (members repeat each other: issue 21)
    assert report.key_evaluation.rows[0].suggestions == list(
        dict.fromkeys(
            ExpertSuggestion.objects.filter(evaluation=key)
            .order_by("member__seat", "position", "pk")
            .values_list("text", flat=True)
        )
    )
    assert report.key_evaluation.rows[0].findings == list(key.findings.order_by("pk").values_list("problem", flat=True))
    assert [(r.department, r.budget, r.score) for r in report.department_evaluation.rows] == [
        (department.department.name, department.budget, department.score)
    ]
    assert (
        report.expert_suggestions
        == ExpertSuggestion.objects.filter(
            evaluation__fiscal_year=year, evaluation__status__in=["final", "published"]
        ).count()
    )
    # issue 19: the panels' participation, and each member told the result beside their own
    from notifications.models import Notification as Told
    from processes.models import EvaluationPanelMember, PanelMember
    from processes.notices.commissioned import FINALIZED_MEMBER

    for kind, figures in report.participation.items():
        pa_seats = PanelMember.objects.filter(kind=kind, pre_assessment__project__fiscal_year=year).exclude(
            pre_assessment__status="cancelled"
        )
        ev_seats = EvaluationPanelMember.objects.filter(kind=kind, evaluation__fiscal_year=year)
        assert (figures.pre_assessment_seats, figures.evaluation_seats) == (pa_seats.count(), ev_seats.count())
    assert report.participation["deputy"].evaluation_seats >= 1
    for member in key.panel.all():
        [note] = Told.objects.filter(recipient_id=member.user_id, verb=FINALIZED_MEMBER, object_id=str(key.pk))
        assert f"{member.suggestions.count()} 条" in note.text_in("zh-hans")


def test_load_demo_contracts_the_evaluation_year_and_scores_its_agency_so_the_ratings_show_a_rating(client):
    year = demo_evaluation.YEAR
    framework = FrameworkCommission.objects.get(fiscal_year=year)
    agency = User.objects.get(username="agency1").agency
    assert framework.agency == agency and framework.contract_no
    key = CommissionedEvaluation.objects.get(kind="key", fiscal_year=year)
    assert sorted(DeliverableScore.objects.filter(evaluation=key).values_list("kind", flat=True)) == [
        "draft",
        "final",
        "plan",
    ]
    final = Recheck.objects.get(status="final", sample__campaign__fiscal_year=year)
    assert DeliverableScore.objects.filter(recheck=final, kind="recheck").count() == 1
    assert final.report.name.startswith("evaluations/rechecks/")  # the re-check report, uploaded when finished
    # plan 92, draft 85, final report 88 (weight 2), re-check 80: (92 + 85 + 176 + 80) / 5
    [row] = agencies.agency_ratings(year)
    assert (row["agency"], str(row["rating"]), row["grade"]) == (agency, "86.60", Grade.GOOD)
    url = f"/evaluations/agency-ratings/?fiscal_year={year}"
    for username in ("finance1", "agency1"):
        client.force_login(User.objects.get(username=username))
        page = client.get(url).content.decode()
        assert agency.name in page and "86.60" in page, username


def test_load_demo_leaves_rectifications_closed_extended_due_soon_overdue_and_on_time():
    from django.utils import timezone

    from processes.models import Rectification

    now = timezone.now()
    notices = list(Rectification.objects.filter(project__fiscal_year=demo_evaluation.YEAR).order_by("pk"))
    assert len(notices) == 5
    closed = [r for r in notices if r.status == "verified"]
    extended = [r for r in notices if r.deadline != r.original_deadline]
    overdue = [r for r in notices if r.is_open and r.deadline < now]
    soon = [r for r in notices if r.is_open and now < r.deadline < now + timedelta(days=3)]
    on_time = [r for r in notices if r.is_open and r.deadline > now + timedelta(days=3) and r not in extended]
    assert len(closed) == len(extended) == len(overdue) == len(soon) == 1 and on_time
    assert extended[0].extensions.get().status == "granted"
    first = list(Rectification.objects.values_list("pk", "status", "deadline", "revision"))
    load()
    assert list(Rectification.objects.values_list("pk", "status", "deadline", "revision")) == first


def test_demo_2020_report_tells_its_narrative_from_its_records_when_loaded():
    """Issue 19: the demo's 2020 shows every part of the report's narrative, each figure
    computed from the records the demo moved through the services."""
    from django.db.models import Q

    from processes.models import Finding, MonitoringReport, Rectification
    from reports.figures import report_json

    year = demo_evaluation.YEAR
    report = report_json(annual_report(year))

    # 取得的成绩: the accepted sheets' 年度工作量完成数 (the re-checked project at the
    # agency's 90, not its own 100): 90 + 90 + 100 + 75 + 50 + 95; the % rows never added.
    assert report["achievements"]["district"] == [
        {"indicator": "年度工作量完成数", "unit": "项", "total": "500", "projects": 6}
    ]
    nongshui = next(d for d in report["achievements"]["departments"] if d["department"] == "区农水局")
    assert nongshui["items"] == [{"indicator": "年度工作量完成数", "unit": "项", "total": "180", "projects": 2}]

    # 存在的问题: every category used, counted as recorded; every aspect given
    problems = report["problems"]
    recorded = Finding.objects.filter(Q(project__fiscal_year=year) | Q(evaluation__fiscal_year=year))
    assert problems["findings"] == recorded.count() and problems["uncategorised"] == 0
    for row in problems["by_category"]:
        assert row["count"] == recorded.filter(category=row["category"]).count() > 0, row
        assert row["examples"]
    aspects = problems["suggestions"]["by_aspect"]
    assert aspects["unstated"] == 0 and all(aspects[a] > 0 for a in ("implementation", "finance", "performance"))
    assert problems["suggestions"]["total"] == report["expert_suggestions"]

    # monitoring: the January–July round's two reports, one budget cut 245万 → 200万
    (round_,) = report["monitoring"]["rounds"]
    handed_in = MonitoringReport.objects.filter(round__fiscal_year=year)
    assert round_["reports"] == handed_in.count() == 2
    assert round_["lights"] == {
        light: handed_in.filter(light=light).count() for light in ("red", "yellow", "green", "blue", "none")
    }
    assert report["monitoring"]["adjusted"] == {
        "projects": 1,
        "before": "2450000.00",
        "after": "2000000.00",
        "change": "-450000.00",
    }

    # target review and rectification
    assert report["target_review"]["ratings"]["excellent"] == len(demo_evaluation.PROJECTS)
    rectification = report["rectification"]
    assert rectification["issued"] == Rectification.objects.filter(project__fiscal_year=year).count() > 0
    assert (rectification["verified"], rectification["on_time"], rectification["overdue"]) == (1, 1, 1)
    assert report["narrative_missing"] == []


def test_load_demo_closes_the_years_evaluated_projects_that_have_nothing_left_open(demo_loaded):
    from processes.models import AuditEvent, BudgetProject
    from processes.services.closeout import close_blockers

    year = demo_evaluation.YEAR
    closed_out = AuditEvent.objects.filter(object_type="processes.budgetproject", action="close_out")
    assert closed_out.exists() and {e.actor_role for e in closed_out} == {"finance_officer"}
    # what stays evaluated or rectifying has a reason, and the year's stages add up
    left = BudgetProject.objects.filter(fiscal_year=year, stage__in=[ProjectStage.EVALUATED, ProjectStage.RECTIFYING])
    assert all(close_blockers(left.values_list("pk", flat=True)).values())
    assert "year close-out:" in demo_loaded
    before = closed_out.count()
    load()
    assert closed_out.count() == before  # loading again closes nothing twice


def test_load_demo_pre_assesses_a_major_policy_through_the_one_flow_when_loaded():
    from processes.models import Policy, PreAssessment
    from reports.figures import annual_report, report_json
    from workflows import demo_policy

    policy = Policy.objects.select_related("project", "department").get(name=demo_policy.NAME)
    assert policy.department.name == "区农水局"
    assert [d.code for d in policy.co_departments.all()] == list(demo_policy.CO)
    assert policy.project.stage == ProjectStage.BUDGETED
    assert policy.project.approved_amount == demo_policy.APPROVED
    pa = PreAssessment.objects.get(project=policy.project)
    assert pa.status == "confirmed" and pa.conclusion == "partial"
    assert {m.kind for m in pa.panel.filter(active=True)} == {"expert", "deputy"}
    assert [
        a
        for a in AuditEvent.objects.filter(object_type="processes.budgetproject", object_id=str(policy.project.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    ] == ["register_policy", "adopt_policy"]
    data = report_json(annual_report(demo.FISCAL_YEAR))
    assert data["policy_pre_assessment"]["policies"] == 1
    assert data["policy_pre_assessment"]["reduction"] == "9000000.00"
    assert data["policy_pre_assessment"]["reduction_rate"] == "15.00"
    assert data["pre_assessment"]["projects"] == 3  # the projects' figures are the report's still


def test_load_demo_keeps_a_results_application_ledger_with_accepted_and_overridden_proposals():
    from processes.results_ledger import ledger
    from workflows import demo_results

    book = ledger(demo_results.YEAR)
    rows = {r.project.code: r for r in book.rows}

    assert set(rows) == demo_results.CODES
    assert {code: (r.grade, r.status_label) for code, r in rows.items()} == {
        "2020-LW105-001": ("excellent", "采纳建议"),
        "2020-LW101-001": ("good", "采纳建议"),  # self 优, re-checked 良: the re-check is of record
        "2020-LW101-002": ("good", "采纳建议"),
        "2020-LW103-001": ("fair", "采纳建议"),
        "2020-LW107-001": ("poor", "调整建议"),
        "2020-LW102-001": ("good", "待决定"),  # the key evaluation's grade
    }
    fair = rows["2020-LW103-001"]
    assert fair.proposed == fair.decided == Decimal("2211110.10")  # 2,456,789 less 10 %, half-up
    assert rows["2020-LW105-001"].decision.priority
    assert rows["2020-LW107-001"].overridden and "调整用于社区长者饭堂" in rows["2020-LW107-001"].reason
    assert book.cut == (fair.requested - fair.decided) + Decimal("540000.00")
    assert AuditEvent.objects.filter(action__in=["results_accept", "results_override"]).count() == 5


def test_load_demo_works_a_committee_opinion_through_with_one_item_accepted_one_responded_one_open():
    from processes.models import CommitteeOpinion
    from workflows import demo_committee

    opinion = CommitteeOpinion.objects.get(fiscal_year=demo_committee.YEAR)
    states = list(opinion.items.order_by("position").values_list("department__code", "status"))
    assert states == [(None, "accepted"), ("LW102", "responded"), ("LW107", "assigned")]
    accepted = opinion.items.get(position=1)
    assert accepted.accepted_by.username == "finance1" and accepted.evidence.count() == 1
    congress = User.objects.get(username="congress1")
    assert congress.role_names == {Role.CONGRESS_READER}
    first = list(opinion.items.values_list("pk", "status", "revision"))
    load()
    assert CommitteeOpinion.objects.count() == 1
    assert list(opinion.items.values_list("pk", "status", "revision")) == first
