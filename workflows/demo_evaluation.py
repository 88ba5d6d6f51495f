"""Demo data of the evaluation year (DESIGN §3.5) for `manage.py load_demo`.

The reference report describes the 2020 year's evaluation: the departments self-evaluated
their projects, the bureau re-checked a sample, key-evaluated some projects and evaluated
two departments as a whole, and experts made suggestions. The demo gives fiscal year 2020
a small district of its own:

- eight executing projects;
- the year's campaign, with the self-evaluations at every stage and all four grades;
- two re-checks: one final with its difference, one waiting for the department's feedback;
- a key evaluation, published, with its panel's suggestions and findings;
- a department overall evaluation, final;
- a January–July monitoring round: one report cleared (green), one warned (red) and its
  budget adjusted;
- findings with their categories and suggestions with their aspects (the report's
  narrative, issue 19).

Everything is moved through the real services. The projects, scores and texts are
invented; only the shape follows the report. The amounts stay below the pre-assessment
threshold, so the projects go straight to target review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Agency, Department, User
from processes.models import (
    BudgetProject,
    CommissionedEvaluation,
    Deliverable,
    DeliverableScore,
    EvaluationCampaign,
    FrameworkCommission,
    MonitoringReport,
    MonitoringRound,
    ProjectCategory,
    Recheck,
    Recurrence,
    SelfEvaluation,
)
from processes.services import agencies as agency_services
from processes.services import commissioned as commissioned_services
from processes.services.evaluation import (
    approved_rows,
    recheck_feedback,
    recheck_finalize,
    recheck_sample,
    recheck_save,
    recheck_submit,
    self_evaluation_save,
)
from processes.services.findings import finding_add
from processes.services.monitoring import approved_rows as approved_monitoring_rows
from processes.services.monitoring import report_save
from processes.services.projects import project_create
from processes.services.targets import target_draft_open, target_set_save
from processes.states import EvaluationKind, EvaluationStatus, RecheckStatus, SelfEvaluationStatus

from .services import (
    campaign_launch,
    monitoring_dept_review,
    monitoring_dispose,
    monitoring_review,
    monitoring_round_open,
    monitoring_submit,
    project_act,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
    targets_dept_review,
    targets_rate,
    targets_submit,
)

YEAR = 2020
CAMPAIGN_DUE_DAYS = 30
C = ProjectCategory


@dataclass(frozen=True)
class Entry:
    """What the department reports at year end, as ratios of the targets: the work done
    (≥ 100), the share finished on time (≥ 100 %), the qualitative band and the percentage
    chosen in it, the satisfaction survey (≥ 90 %), and the share of the budget spent."""

    work: str
    on_time: str
    band: str
    band_pct: str
    satisfaction: str
    spent: str  # share of the budget executed, e.g. "0.98"


@dataclass(frozen=True)
class DemoEvaluationProject:
    code: str
    department: str  # DemoDepartment.key
    name: str
    category: str
    amount: Decimal
    entry: Entry | None  # None: the self-evaluation is left 待自评
    until: str = SelfEvaluationStatus.ACCEPTED  # how far the self-evaluation goes


PROJECTS = [
    DemoEvaluationProject(
        "2020-LW101-001",
        "nongshui",
        "荔湾碧道（一期）建设",
        C.INFRASTRUCTURE,
        Decimal("3860000.00"),
        Entry("100", "100", "achieved", "90", "95", "0.98"),  # 优 96.80
    ),
    DemoEvaluationProject(
        "2020-LW101-002",
        "nongshui",
        "高标准农田水利设施维护",
        C.INFRASTRUCTURE,
        Decimal("960000.00"),
        Entry("90", "100", "partly", "70", "88", "0.95"),  # 良 86.94
    ),
    DemoEvaluationProject(
        "2020-LW102-001",
        "zhujian",
        "老旧小区微改造",
        C.INFRASTRUCTURE,
        Decimal("3200000.00"),
        Entry("100", "100", "achieved", "95", "93", "0.99"),  # 优 98.40
    ),
    DemoEvaluationProject(
        "2020-LW103-001",
        "renshe",
        "职业技能提升培训补贴",
        C.EDUCATION,
        Decimal("2800000.00"),
        Entry("75", "80", "partly", "65", "81", "0.80"),  # 中 74.83
    ),
    DemoEvaluationProject(
        "2020-LW107-001",
        "minzheng",
        "居家养老服务补贴",
        C.CIVIL_AFFAIRS,
        Decimal("2450000.00"),
        Entry("50", "60", "not_achieved", "40", "72", "0.60"),  # 差 52.67
    ),
    DemoEvaluationProject(
        "2020-LW105-001",
        "jiaoyu",
        "中小学课后服务",
        C.EDUCATION,
        Decimal("1600000.00"),
        Entry("95", "100", "achieved", "85", "92", "0.97"),  # 优 93.53 → re-checked
    ),
    DemoEvaluationProject(
        "2020-LW106-001",
        "weijian",
        "基层医疗卫生机构能力提升",
        C.HEALTH,
        Decimal("2200000.00"),
        Entry("100", "95", "achieved", "88", "91", "0.93"),
        until=SelfEvaluationStatus.SUBMITTED,  # waiting for the leader
    ),
    DemoEvaluationProject(
        "2020-LW108-001", "chengguan", "生活垃圾分类收运", C.URBAN, Decimal("1500000.00"), entry=None
    ),
]

#: The targets every demo evaluation project was approved with (weights 40 + 20 + 25 + 15).
TARGET_ROWS = [
    {
        "level1": "output",
        "level2": "quantity",
        "name": "年度工作量完成数",
        "direction": "gte",
        "target_value": "100",
        "unit": "项",
        "weight": "40",
    },
    {
        "level1": "output",
        "level2": "timeliness",
        "name": "按期完成率",
        "direction": "gte",
        "target_value": "100",
        "unit": "%",
        "weight": "20",
    },
    {
        "level1": "effect",
        "level2": "social",
        "name": "服务对象获得感",
        "direction": "qualitative",
        "target_text": "明显提升",
        "weight": "25",
    },
    {
        "level1": "satisfaction",
        "level2": "satisfaction",
        "name": "服务对象满意度",
        "direction": "gte",
        "target_value": "90",
        "unit": "%",
        "weight": "15",
    },
]

REASON = {"deviation_reason": "部分任务受疫情防控影响延后实施。", "measure": "结转任务已纳入下年度计划，按月调度。"}

#: The re-checks: (project, the agency's corrections as row index → entry, the
#: department's feedback, finalize?).
RECHECKS = [
    ("2020-LW101-001", {0: {"actual": "90"}, 2: {"band": "partly", "band_pct": "70"}}, "对复核结果无异议。", True),
    ("2020-LW105-001", {0: {"actual": "85"}}, None, False),
]

KEY_PROJECT = "2020-LW102-001"
KEY_FRAMEWORK = {"decision": "15", "process": "20", "output": "35", "outcome": "30"}
KEY_SCORES = {"decision": "13.5", "process": "16", "output": "31", "outcome": "26.5"}
DEPARTMENT_KEY = "nongshui"
DEPARTMENT_FRAMEWORK = {"decision": "20", "process": "20", "output": "30", "outcome": "30"}
DEPARTMENT_SCORES = {"decision": "17", "process": "16.5", "output": "26", "outcome": "25"}
#: Each with the aspect it concerns, as the report groups them (项目实施 / 财务管理 / 绩效情况).
SUGGESTIONS = [
    {"text": "建议将居民议事会意见征集纳入改造方案论证的必经程序。", "aspect": "implementation"},
    {"text": "建议对已改造小区建立长效管养机制，明确管养经费来源。", "aspect": "finance"},
    {"text": "建议细化绩效目标，增加加装电梯、雨污分流等可量化指标。", "aspect": "performance"},
    {"text": "建议加强工程结算审核，防止超概算。", "aspect": "finance"},
]
#: (problem, basis, requirement, category of settings FINDING_CATEGORIES).
FINDINGS = [
    (
        "绩效目标设置偏笼统，部分效益指标难以量化考核。",
        "《项目支出绩效评价管理办法》（财预〔2020〕10号）",
        "下年度申报时细化量化绩效指标。",
        "targets",
    ),
    ("个别小区改造后管养主体未落实。", "区老旧小区微改造实施方案", "2021 年底前明确管养主体和经费。", "implementation"),
]


def _pdf(title: str) -> SimpleUploadedFile:
    """A small, valid one-page PDF standing in for an agency's report."""
    text = title.encode("ascii", "replace")
    content = b"BT /F1 14 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"{title}.pdf", out, content_type="application/pdf")


def _entries(project: BudgetProject, entry: Entry, corrections: dict | None = None) -> list[dict]:
    rows = approved_rows(project)
    values = [
        {"actual": entry.work},
        {"actual": entry.on_time},
        {"band": entry.band, "band_pct": entry.band_pct},
        {"actual": entry.satisfaction},
    ]
    for index, change in (corrections or {}).items():
        values[index] = {**values[index], **change}
    return [{"target_row": row.pk, **value, **REASON} for row, value in zip(rows, values, strict=True)]


def _executing(plan: DemoEvaluationProject, users: dict[str, User]) -> BudgetProject:
    """The project, filed and taken to execution through the real services (once)."""
    existing = BudgetProject.objects.filter(fiscal_year=YEAR, code=plan.code).first()
    if existing is not None:
        return existing
    staff, leader = users[f"{plan.department}_staff"], users[f"{plan.department}_leader"]
    project = project_create(
        actor=staff,
        fiscal_year=YEAR,
        code=plan.code,
        name=plan.name,
        category=plan.category,
        recurrence=Recurrence.RECURRING,
        requested_amount=plan.amount,
        overall_goal=f"{plan.name}按年度计划全面完成，服务对象满意度达到 90% 以上。",
    )
    project = project_act(project=project, actor=staff, action="submit")
    project = project_act(project=project, actor=leader, action="approve", comment="同意报送。")
    project = project_act(
        project=project, actor=users["finance2"], action="route_to_target_review", comment="低于事前绩效评估门槛。"
    )
    target_set = target_set_save(
        target_set=target_draft_open(project=project, actor=staff),
        actor=staff,
        overall_goal=project.overall_goal,
        rows=TARGET_ROWS,
    )
    target_set = targets_submit(target_set=target_set, actor=staff)
    target_set = targets_dept_review(target_set=target_set, actor=leader, approve=True, comment="同意报送。")
    targets_rate(target_set=target_set, actor=users["finance2"], rating="excellent", comment="")
    project.refresh_from_db()
    return project_act(project=project, actor=users["finance1"], action="start_execution", comment="预算已下达。")


#: The year's January–July monitoring round (issue 19: the report's monitoring summary) over
#: two projects, before the year closes: (project, spent to July in yuan, the four target
#: rows' progress, the deviation's causes and measures, the finance section's decision, the
#: disposal and its new amount).
#: 高标准农田水利设施维护 spent 52 % of its budget (89 % of the 7/12 time pace), its 定性 row
#: partly done → yellow, cleared; 居家养老服务补贴 spent 24.5 % (42 % of the pace) → red, warned, its budget cut.
MONITORING_ROUND = (1, 7)
MONITORING_PLAN = [
    (
        "2020-LW101-002",
        Decimal("500000.00"),
        ("55", "100", "partly", "88"),
        ("部分沟渠清淤受汛期影响顺延。", "汛后集中开展清淤，9 月底前完成。"),
        "clear",
        "",
        None,
    ),
    (
        "2020-LW107-001",
        Decimal("600000.00"),
        ("30", "60", "partly", "72"),
        (
            "上半年受疫情防控影响，上门服务暂停三个月，补贴发放滞后。",
            "下半年恢复上门服务，核减无法实施的服务量，相应调减预算。",
        ),
        "warn",
        "adjust",
        Decimal("2000000.00"),
    ),
]


def _monitoring(projects: dict[str, BudgetProject], users: dict[str, User]) -> None:
    """Open the year's round once (while its projects execute) and take each planned report
    through the real review: filled, submitted, passed by the leader, cleared or warned by
    the finance section, a warned one disposed of (its budget adjusted)."""
    start, end = MONITORING_ROUND
    if MonitoringRound.objects.filter(fiscal_year=YEAR, start_month=start, end_month=end).exists():
        return
    finance = users["finance2"]
    opened = monitoring_round_open(
        actor=finance,
        fiscal_year=YEAR,
        start_month=start,
        end_month=end,
        due_at=timezone.now() + timedelta(days=14),
        project_ids=[projects[code].pk for code, *_rest in MONITORING_PLAN],
    )
    for code, spent, progress, (causes, measures), decision, disposal, new_amount in MONITORING_PLAN:
        report = MonitoringReport.objects.get(round=opened.round, project=projects[code])
        plan = next(p for p in PROJECTS if p.code == code)
        staff, leader = users[f"{plan.department}_staff"], users[f"{plan.department}_leader"]
        budget = projects[code].requested_amount
        report = report_save(
            report=report,
            actor=staff,
            executed=spent,
            expected_full_year=budget if new_amount is None else new_amount,
            deviation_causes=causes,
            measures=measures,
            indicators=[
                {"target_row": row.pk, ("value" if row.quantitative else "progress"): value, "likelihood": "possible"}
                for row, value in zip(approved_monitoring_rows(projects[code]), progress, strict=True)
            ],
        )
        report = monitoring_submit(report=report, actor=staff)
        report = monitoring_dept_review(report=report, actor=leader, approve=True, comment="同意报送。")
        report = monitoring_review(report=report, actor=finance, decision=decision, comment="按监控结果处理。")
        if disposal:
            monitoring_dispose(
                report=report,
                actor=finance,
                disposal=disposal,
                reason="服务量年内无法完成，预算由 245 万元调减至 200 万元，调减资金收回统筹。",
                new_amount=new_amount,
            )


def load(users: dict[str, User], agency: Agency) -> dict[str, int]:
    """Load (or complete) the evaluation year; a second load changes nothing."""
    projects = {p.code: _executing(p, users) for p in PROJECTS}
    _monitoring(projects, users)
    if not EvaluationCampaign.objects.filter(fiscal_year=YEAR).exists():
        campaign_launch(
            actor=users["finance1"],
            fiscal_year=YEAR,
            due_at=timezone.now() + timedelta(days=CAMPAIGN_DUE_DAYS),
            title=f"{YEAR} 年度项目支出绩效自评",
        )
    campaign = EvaluationCampaign.objects.get(fiscal_year=YEAR)
    _framework(users, agency)
    for plan in PROJECTS:
        _self_evaluate(plan, projects[plan.code], users)
    _rechecks(campaign, projects, users, agency)
    _key_evaluation(projects[KEY_PROJECT], users, agency)
    _department_evaluation(users, agency)
    _quality_scores(projects, users)
    return {
        "self_evaluations": SelfEvaluation.objects.filter(campaign=campaign).count(),
        "accepted": SelfEvaluation.objects.filter(campaign=campaign, status=SelfEvaluationStatus.ACCEPTED).count(),
        "rechecks": Recheck.objects.filter(sample__campaign=campaign).count(),
        "evaluations": CommissionedEvaluation.objects.filter(fiscal_year=YEAR).count(),
        "frameworks": FrameworkCommission.objects.filter(fiscal_year=YEAR).count(),
        "quality_scores": DeliverableScore.objects.filter(fiscal_year=YEAR).count(),
    }


#: The finance section's quality scores (decision 0028): the key evaluation's plan, draft
#: and final report, and the first finished re-check; the year's rating is their weighted
#: mean (plan 1, draft 1, final 2, re-check 1).
QUALITY_SCORES: dict[str, tuple[str, str]] = {
    Deliverable.PLAN: ("92", "评价方案指标体系完整，权重设置合理。"),
    Deliverable.DRAFT: ("85", "初稿问卷分析较充分，成本效益分析略显薄弱。"),
    Deliverable.FINAL: ("88", "最终报告吸收了评审意见，问题和建议具体可行。"),
    Deliverable.RECHECK: ("80", "复核抽查充分，佐证材料核减有据。"),
}


def _framework(users: dict[str, User], agency: Agency) -> None:
    """整体委托 of the evaluation year to the demo agency (set once)."""
    if FrameworkCommission.objects.filter(fiscal_year=YEAR).exists():
        return
    agency_services.framework_set(
        actor=users["finance1"],
        fiscal_year=YEAR,
        agency=agency,
        contract_no=f"LWCZ-JX-{YEAR}-01",
        scope="年度绩效自评复核、重点绩效评价和部门整体绩效评价。",
    )


def _quality_scores(projects, users: dict[str, User]) -> None:
    """Score the key evaluation's deliverables and the first finished re-check, each once
    (a second load finds them scored and scores nothing again)."""
    finance = users["finance1"]
    key = CommissionedEvaluation.objects.filter(project=projects[KEY_PROJECT]).first()
    if key is not None:
        scored = set(DeliverableScore.objects.filter(evaluation=key).values_list("kind", flat=True))
        for kind in agency_services.scorable_kinds(key):
            if kind not in scored:
                score, comment = QUALITY_SCORES[kind]
                agency_services.quality_score(actor=finance, kind=kind, score=score, comment=comment, evaluation=key)
    recheck = (
        Recheck.objects.filter(sample__campaign__fiscal_year=YEAR, status=RecheckStatus.FINAL).order_by("pk").first()
    )
    if recheck is not None and not DeliverableScore.objects.filter(recheck=recheck).exists():
        score, comment = QUALITY_SCORES[Deliverable.RECHECK]
        agency_services.quality_score(
            actor=finance, kind=Deliverable.RECHECK, score=score, comment=comment, recheck=recheck
        )


def _self_evaluate(plan: DemoEvaluationProject, project: BudgetProject, users: dict[str, User]) -> None:
    se = SelfEvaluation.objects.get(project=project)
    if plan.entry is None or se.status != SelfEvaluationStatus.ISSUED:
        return
    staff, leader = users[f"{plan.department}_staff"], users[f"{plan.department}_leader"]
    budget = project.adjusted_amount or project.approved_amount or project.requested_amount
    executed = (budget * Decimal(plan.entry.spent)).quantize(Decimal("0.01"))
    se = self_evaluation_save(
        evaluation=se,
        actor=staff,
        lines=_entries(project, plan.entry),
        executed=str(executed),
        summary=f"{project.name}年度绩效目标总体完成，详见各项指标说明。",
    )
    se = self_evaluation_submit(evaluation=se, actor=staff)
    if plan.until == SelfEvaluationStatus.SUBMITTED:
        return
    se = self_evaluation_dept_review(evaluation=se, actor=leader, approve=True, comment="同意报送。")
    self_evaluation_review(evaluation=se, actor=users["finance1"], accept=True, comment="自评结果确认。")


def _rechecks(campaign: EvaluationCampaign, projects, users: dict[str, User], agency: Agency) -> None:
    if Recheck.objects.filter(sample__campaign=campaign).exists():
        return
    picked = [SelfEvaluation.objects.get(project=projects[code]) for code, *_ in RECHECKS]
    sample = recheck_sample(
        actor=users["finance1"],
        campaign=campaign,
        agency=agency,
        due_at=timezone.now() + timedelta(days=20),
        self_evaluation_ids=[se.pk for se in picked],
    )
    agency_user = users["agency1"]
    for code, corrections, feedback, finalize in RECHECKS:
        project = projects[code]
        plan = next(p for p in PROJECTS if p.code == code)
        assert plan.entry is not None
        recheck = sample.rechecks.get(project=project)
        recheck = recheck_save(recheck=recheck, actor=agency_user, lines=_entries(project, plan.entry, corrections))
        recheck = recheck_submit(
            recheck=recheck, actor=agency_user, opinion="抽查佐证材料后，对部分指标完成值予以核减。"
        )
        if feedback is None:
            continue
        recheck = recheck_feedback(recheck=recheck, actor=users[f"{plan.department}_staff"], comment=feedback)
        if finalize:
            recheck = recheck_finalize(recheck=recheck, actor=agency_user, report=_pdf(f"recheck-{recheck.pk}"))
            finding_add(
                source=recheck,
                actor=users["finance1"],
                problem="年度工作量完成数与佐证材料不一致，自评结果偏高。",
                basis="复核抽查佐证材料",
                requirement="完善绩效自评佐证材料，据实填报。",
                category="management",
            )


def _through(evaluation: CommissionedEvaluation, users: dict[str, User], dept_user: User, framework, scores) -> None:
    """Take a commissioned evaluation from commissioned to final, step by step, from where it
    stands."""
    agency_user, finance = users["agency1"], users["finance1"]
    s = commissioned_services
    if evaluation.status == EvaluationStatus.COMMISSIONED:
        evaluation = s.evaluation_submit_plan(
            evaluation=evaluation,
            actor=agency_user,
            framework=framework,
            plan="采用资料核查、现场勘察、问卷调查和座谈访谈相结合的方式开展评价。",
        )
        evaluation = s.evaluation_review_plan(evaluation=evaluation, actor=finance, approve=True, comment="同意。")
        evaluation = s.evaluation_start_fieldwork(evaluation=evaluation, actor=agency_user)
        evaluation = s.evaluation_submit_draft(
            evaluation=evaluation,
            actor=agency_user,
            note="现场勘察 12 个点位，发放问卷 320 份，回收有效问卷 301 份。",
            draft_report=_pdf(f"draft-{evaluation.pk}"),
        )
        evaluation = s.evaluation_comment(evaluation=evaluation, actor=dept_user, comment="无异议。")
        evaluation = s.evaluation_draw_panel(evaluation=evaluation, actor=agency_user, seed=YEAR * 100 + evaluation.pk)
    if evaluation.status == EvaluationStatus.EXPERT_REVIEW:
        for n, member in enumerate(evaluation.panel.select_related("user").order_by("seat")):
            if member.submitted_at is None:
                given = [SUGGESTIONS[(n + i) % len(SUGGESTIONS)] for i in range(2)]
                s.suggestion_submit(member=member, actor=member.user, suggestions=given)
        evaluation = s.evaluation_finalize(
            evaluation=CommissionedEvaluation.objects.get(pk=evaluation.pk),
            actor=agency_user,
            scores=scores,
            conclusion="项目决策程序规范，资金使用合规，产出基本完成；长效管养机制有待健全。",
            report=_pdf(f"report-{evaluation.pk}"),
        )
        for problem, basis, requirement, category in FINDINGS:
            finding_add(
                source=evaluation,
                actor=finance,
                problem=problem,
                basis=basis,
                requirement=requirement,
                category=category,
            )


def _key_evaluation(project: BudgetProject, users: dict[str, User], agency: Agency) -> None:
    evaluation = CommissionedEvaluation.objects.filter(project=project).first()
    if evaluation is None:
        evaluation = commissioned_services.evaluation_commission(
            actor=users["finance1"],
            kind=EvaluationKind.KEY,
            agency=agency,
            due_at=timezone.now() + timedelta(days=60),
            project=project,
            title=f"{project.name}重点绩效评价",
        )
    dept_user = users[next(p.department for p in PROJECTS if p.code == project.code) + "_staff"]
    _through(evaluation, users, dept_user, KEY_FRAMEWORK, KEY_SCORES)
    evaluation.refresh_from_db()
    if evaluation.status == EvaluationStatus.FINAL:
        commissioned_services.evaluation_approve_disclosure(evaluation=evaluation, actor=users["finance1"])


def _department_evaluation(users: dict[str, User], agency: Agency) -> None:
    department = users[f"{DEPARTMENT_KEY}_staff"].department
    assert isinstance(department, Department)
    evaluation = CommissionedEvaluation.objects.filter(
        kind=EvaluationKind.DEPARTMENT, department=department, fiscal_year=YEAR
    ).first()
    if evaluation is None:
        evaluation = commissioned_services.evaluation_commission(
            actor=users["finance1"],
            kind=EvaluationKind.DEPARTMENT,
            agency=agency,
            due_at=timezone.now() + timedelta(days=60),
            department=department,
            fiscal_year=YEAR,
            title=f"{department.name} {YEAR} 年度部门整体绩效评价",
        )
    _through(evaluation, users, users[f"{DEPARTMENT_KEY}_leader"], DEPARTMENT_FRAMEWORK, DEPARTMENT_SCORES)
