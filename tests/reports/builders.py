"""A small year built row by row with the real models, in the states the report reads
(confirmed pre-assessments, accepted self-evaluations, final re-checks, final commissioned
evaluations), with figures worked out by hand below. The chains that lead to those states
are tested in tests/processes; here only what they leave behind matters.

Year 2022, departments A (区农水局) and B (区住房建设局):

指标库    3 in force (2 通用类, 1 部门个性化); an inactive and a proposed one not counted
事前评估  P1 A 3,000,000 → 3,000,000 予以支持; P2 B 4,920,000 → 3,720,000 部分予以支持
          7,920,000 requested, 1,200,000 cut: 15.1515…% → 15.15 %
自评      7 accepted (1 优, 4 良, 1 中, 1 差), 2 departments: 优良率 5/7 = 71.43 %;
          one more submitted (not counted)
附件1     R1 A 200,000 / 180,010 = 90.005 % → 90.01 % (half up; half even would say 90.00)
          R2 A 1,000,000 (approved, no adjustment) / 1,000,000 = 100 %
          R3 B 300,000 / 150,000 = 50 %
          Σ 1,500,000 / 1,330,010 = 88.67 %; 1 优 1 良 1 中; 优良率 66.67 %; bands 1 / 1 / 1
附件2     K1 B 2,000,000 / 1,950,100 = 97.505 % → 97.51 %; 良 88.50
          K2 A (the project's 500,050 — 50.005万 → 50.01万) / 500,050 = 100 %; 优 95.00
          Σ 2,500,050 (250.01万) / 2,450,150 (245.02万) = 98.00 %; 优良率 100 %; bands 1 / 1 / 0
附件3     D1 A 40,000,000 / 36,024,000 = 90.06 %, 90.34 优; D2 B 7,000,000 / 6,672,750 = 95.325 % → 95.33 % (half even: 95.32), 85.82 良
          Σ 47,000,000 = 4,700.00万 = 0.47亿
专家建议  R1 1, K1 2, D1 1 = 4 (and one on an unfinished evaluation, not counted)
评价范围  5 projects, 2 departments, 1,500,000 + 2,500,050 + 47,000,000 = 51,000,050
          = 5,100.01万 (5,100.005 half up) = 0.51亿
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Department
from processes.models import (
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    ExpertSuggestion,
    Finding,
    HistoryImport,
    Indicator,
    PreAssessment,
    Recheck,
    RecheckSample,
    SelfEvaluation,
)
from processes.states import (
    CampaignStatus,
    Conclusion,
    EvaluationKind,
    EvaluationStatus,
    Grade,
    IndicatorScope,
    IndicatorStatus,
    PreAssessmentStatus,
    RecheckStatus,
    SampleMethod,
    SelfEvaluationStatus,
)
from tests.factories import AgencyFactory, BudgetProjectFactory, DepartmentFactory

YEAR = 2022
D = Decimal


@dataclass
class Year:
    year: int
    projects: dict[str, BudgetProject] = field(default_factory=dict)
    rechecks: dict[str, Recheck] = field(default_factory=dict)
    evaluations: dict[str, CommissionedEvaluation] = field(default_factory=dict)


class Builder:
    """Rows of one year for ``district`` (tests.conftest.District)."""

    def __init__(self, district, year: int = YEAR):
        self.d = district
        self.year = year
        self.agency = AgencyFactory(name=f"广州某绩效评价事务所{year}")
        self.campaign = EvaluationCampaign.objects.create(
            fiscal_year=year,
            title=f"{year}年度绩效自评",
            due_at=timezone.now() + timedelta(days=30),
            status=CampaignStatus.CLOSED,
            launched_by=district.finance,
        )
        self.sample = RecheckSample.objects.create(
            campaign=self.campaign,
            agency=self.agency,
            method=SampleMethod.MANUAL,
            due_at=timezone.now() + timedelta(days=30),
            created_by=district.finance,
        )

    def project(self, code: str, department: Department, *, budget=None, approved=None, executed="0", **kw):
        return BudgetProjectFactory(
            department=department,
            fiscal_year=self.year,
            code=code,
            name=kw.pop("name", f"项目{code}"),
            requested_amount=D(kw.pop("requested", approved or budget or "100000")),
            approved_amount=D(approved) if approved is not None else None,
            adjusted_amount=D(budget) if budget is not None else None,
            executed_amount=D(executed),
            created_by=self.d.staff_a,
            **kw,
        )

    def pre_assessment(self, project: BudgetProject, *, approved: str, conclusion: str, status=None):
        return PreAssessment.objects.create(
            project=project,
            agency=self.agency,
            due_at=timezone.now(),
            initiated_by=self.d.finance,
            status=status or PreAssessmentStatus.CONFIRMED,
            conclusion=conclusion,
            approved_amount=D(approved),
        )

    def self_evaluation(self, project: BudgetProject, grade: str, *, status=SelfEvaluationStatus.ACCEPTED):
        score = {"excellent": "92", "good": "85", "fair": "70", "poor": "50"}[grade]
        return SelfEvaluation.objects.create(
            campaign=self.campaign, project=project, status=status, score=D(score), grade=grade
        )

    def recheck(self, project: BudgetProject, *, score: str, grade: str, self_grade: str = "good"):
        se = self.self_evaluation(project, self_grade)
        return Recheck.objects.create(
            sample=self.sample,
            self_evaluation=se,
            project=project,
            status=RecheckStatus.FINAL,
            self_score=se.score,
            self_grade=se.grade,
            final_score=D(score),
            final_grade=grade,
            finalized_at=timezone.now(),
        )

    def key(self, project: BudgetProject, *, score: str, grade: str, budget=None, executed=None, status=None):
        return CommissionedEvaluation.objects.create(
            kind=EvaluationKind.KEY,
            fiscal_year=self.year,
            department=project.department,
            project=project,
            agency=self.agency,
            title=f"{project.name}重点评价",
            due_at=timezone.now(),
            status=status or EvaluationStatus.FINAL,
            score=D(score),
            grade=grade,
            budget=D(budget) if budget is not None else None,
            executed=D(executed) if executed is not None else None,
            commissioned_by=self.d.finance,
        )

    def department(self, department: Department, *, budget: str, executed: str, score: str, grade: str, status=None):
        return CommissionedEvaluation.objects.create(
            kind=EvaluationKind.DEPARTMENT,
            fiscal_year=self.year,
            department=department,
            agency=self.agency,
            title=f"{department.name}{self.year}年度部门整体绩效评价",
            due_at=timezone.now(),
            status=status or EvaluationStatus.FINAL,
            score=D(score),
            grade=grade,
            budget=D(budget),
            executed=D(executed),
            commissioned_by=self.d.finance,
        )

    def suggest(self, *texts: str, recheck=None, evaluation=None) -> None:
        for position, text in enumerate(texts, start=1):
            ExpertSuggestion.objects.create(recheck=recheck, evaluation=evaluation, position=position, text=text)

    def finding(self, problem: str, *, recheck=None, evaluation=None) -> Finding:
        subject = recheck or evaluation
        return Finding.objects.create(
            department=subject.project.department if subject.project else subject.department,
            project=subject.project,
            recheck=recheck,
            evaluation=evaluation,
            problem=problem,
            requirement="限期整改",
            created_by=self.d.finance,
        )


def small_year(district, year: int = YEAR) -> Year:
    """The year of the module's docstring."""
    b = Builder(district, year)
    a, bb = district.dept_a, district.dept_b
    y = Year(year)

    p1 = b.project(f"{year}-P1", a, approved="3000000", requested="3000000", name="碧道建设工程")
    p2 = b.project(f"{year}-P2", bb, approved="3720000", requested="4920000", name="城市更新基础数据调查")
    b.pre_assessment(p1, approved="3000000", conclusion=Conclusion.SUPPORT)
    b.pre_assessment(p2, approved="3720000", conclusion=Conclusion.PARTIAL)
    # an unconfirmed one is not in the report
    p3 = b.project(f"{year}-P3", a, requested="500000")
    b.pre_assessment(p3, approved="100000", conclusion=Conclusion.REJECT, status=PreAssessmentStatus.CONCLUDED)

    r1 = b.project(f"{year}-R1", a, budget="200000", executed="180010", name="农田水利设施维护")
    r2 = b.project(f"{year}-R2", a, approved="1000000", executed="1000000", name="河涌保洁")
    r3 = b.project(f"{year}-R3", bb, budget="300000", executed="150000", name="老旧小区改造")
    y.rechecks["R1"] = b.recheck(r1, score="92.50", grade=Grade.EXCELLENT, self_grade=Grade.EXCELLENT)
    y.rechecks["R2"] = b.recheck(r2, score="85.00", grade=Grade.GOOD)
    y.rechecks["R3"] = b.recheck(r3, score="70.00", grade=Grade.FAIR)  # self-graded 良, re-checked 中
    b.suggest("加强项目日常监管", recheck=y.rechecks["R1"])
    b.finding("台账不完整", recheck=y.rechecks["R1"])

    k1 = b.project(f"{year}-K1", bb, budget="1900000", executed="1900000", name="城市更新改造工程")
    k2 = b.project(f"{year}-K2", a, approved="500050", executed="500050", name="东沙涌综合整治")
    b.self_evaluation(k1, Grade.FAIR)
    b.self_evaluation(k2, Grade.POOR)
    # the evaluation's own (corrected) budget wins over the project's
    y.evaluations["K1"] = b.key(k1, score="88.50", grade=Grade.GOOD, budget="2000000", executed="1950100")
    y.evaluations["K2"] = b.key(k2, score="95.00", grade=Grade.EXCELLENT)
    b.suggest("加快资金拨付进度", "完善绩效目标设置", evaluation=y.evaluations["K1"])
    b.finding("资金拨付滞后", evaluation=y.evaluations["K1"])

    for code in ("E1", "E2"):
        b.self_evaluation(b.project(f"{year}-{code}", bb, budget="100000"), Grade.GOOD)
    # submitted, not accepted: not counted
    b.self_evaluation(
        b.project(f"{year}-S1", a, budget="100000"), Grade.EXCELLENT, status=SelfEvaluationStatus.SUBMITTED
    )

    y.evaluations["D1"] = b.department(a, budget="40000000", executed="36024000", score="90.34", grade=Grade.EXCELLENT)
    y.evaluations["D2"] = b.department(bb, budget="7000000", executed="6672750", score="85.82", grade=Grade.GOOD)
    b.suggest("健全内控制度", evaluation=y.evaluations["D1"])

    # an evaluation still in its fieldwork: neither its row nor its suggestion is counted
    w = b.project(f"{year}-W1", bb, budget="800000")
    y.evaluations["W1"] = b.key(w, score="60", grade=Grade.FAIR, status=EvaluationStatus.FIELDWORK)
    b.suggest("尚未定稿的建议", evaluation=y.evaluations["W1"])
    library(district)
    y.projects = {p.code: p for p in BudgetProject.objects.filter(fiscal_year=year)}
    return y


def library(district) -> None:
    """The indicator library in force: 2 general, 1 department-specific (and two not counted)."""
    rows = [
        ("G1", IndicatorScope.GENERAL, None, True, IndicatorStatus.APPROVED),
        ("G2", IndicatorScope.GENERAL, None, True, IndicatorStatus.APPROVED),
        ("G3", IndicatorScope.GENERAL, None, False, IndicatorStatus.APPROVED),
        ("A1", IndicatorScope.DEPARTMENT, district.dept_a, True, IndicatorStatus.APPROVED),
        ("A2", IndicatorScope.DEPARTMENT, district.dept_a, True, IndicatorStatus.PROPOSED),
    ]
    for code, scope, department, active, status in rows:
        Indicator.objects.create(
            code=f"T-{code}",
            level1="output",
            level2="quantity",
            name=f"指标{code}",
            direction="gte",
            scope=scope,
            department=department,
            active=active,
            status=status,
        )


def many_rows(district, n: int, year: int = 2030) -> None:
    """``n`` rows in every table of ``year``: a pre-assessment, an accepted self-evaluation, a
    final re-check with a suggestion and a finding, a final key evaluation likewise and a
    department evaluation (each of its own department)."""
    b = Builder(district, year)
    for i in range(n):
        dept = DepartmentFactory(code=f"Q{year}{i:03d}", name=f"测试部门{year}-{i}")
        p = b.project(f"{year}-P{i}", dept, approved="1000000", requested="1200000")
        b.pre_assessment(p, approved="1000000", conclusion=Conclusion.PARTIAL)
        r = b.recheck(b.project(f"{year}-R{i}", dept, budget="100000", executed="95000"), score="85", grade="good")
        b.suggest("建议", recheck=r)
        b.finding("问题", recheck=r)
        k = b.key(b.project(f"{year}-K{i}", dept, budget="300000", executed="300000"), score="91", grade="excellent")
        b.suggest("建议一", "建议二", evaluation=k)
        b.finding("问题", evaluation=k)
        b.department(dept, budget="5000000", executed="4000000", score="75", grade="fair")


def imported_history(year: int = 2019, *, file_name: str = "liwan-2019.xlsx") -> HistoryImport:
    """A year marked as brought in from a workbook (the rows themselves are not needed)."""
    return HistoryImport.objects.create(
        sha256=f"{year:064d}",
        file_name=file_name,
        years=[year],
        indicator_total=7104,
        indicator_general=225,
        indicator_department=6879,
        counts={"projects": 0},
    )
