"""重点评价 and 部门整体绩效评价 services (DESIGN §3.5): both chains as real role users —
the finance section commissions and approves, the agency plans, does the fieldwork,
drafts, draws the panel and finalizes, the department comments, the drawn experts and
deputies submit their suggestions one by one, the finance section approves disclosure —
with the audit rows and notifications of each step; the wrong role and the wrong status
refused at every step with nothing changed; bad framework, scores and files; the draw's
replay; visibility."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from accounts.models import DeputyProfile, ExpertProfile
from notifications.models import Notification
from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, BudgetProject, CommissionedEvaluation, EvaluationPanelMember, ExpertSuggestion
from processes.selectors import commissioned_for, commissioned_get_for, published_evaluations
from processes.services import commissioned as svc
from processes.services.audit import audit_verify
from processes.services.findings import finding_add, findings_of
from processes.states import EvaluationKind, EvaluationStatus, Grade, ProjectStage
from tests.factories import AgencyFactory, DepartmentFactory, make_user
from workflows.services import project_act

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
#: A Windows executable's first bytes.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
FRAMEWORK = {"decision": "15", "process": "25", "output": "30", "outcome": "30"}
SCORES = {"decision": "14", "process": "22.5", "output": "27", "outcome": "25"}  # 88.50 → 良


def pdf(name="report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def executing(district, dept="a", executed=None, **kw) -> BudgetProject:
    """A budgeted project (1,200,000 yuan) put into execution, with ``executed`` spent."""
    project = district.project(ProjectStage.BUDGETED, dept=dept, **kw)
    project = project_act(project=project, actor=district.finance, action="start_execution")
    if executed is not None:
        BudgetProject.objects.filter(pk=project.pk).update(executed_amount=executed)
        project.refresh_from_db()
    return project


class Chain:
    """A district with an expert library, deputies, a commissioned agency (and another), and
    an executing project of department A."""

    def __init__(self, district):
        self.d = district
        self.agency = AgencyFactory()
        self.other_agency = AgencyFactory()
        district.agency_staff.agency = self.agency
        district.agency_staff.save()
        self.staff = district.agency_staff
        self.staff2 = make_user("agency_staff", agency=self.agency, username="agency2")
        self.outsider_staff = make_user("agency_staff", agency=self.other_agency, username="agency_other")
        other_dept = DepartmentFactory()
        self.experts = []
        for i in range(6):
            user = make_user("expert", username=f"exp{i}")
            ExpertProfile.objects.create(user=user, specialties=["infrastructure"], employer="设计院")
            self.experts.append(user)
        fin = make_user("expert", username="exp_fin")
        ExpertProfile.objects.create(user=fin, specialties=["finance"])
        self.same_dept = make_user("expert", district.dept_a, username="exp_same_dept")
        ExpertProfile.objects.create(user=self.same_dept, specialties=["infrastructure"])
        self.deputies = []
        for i in range(2):
            user = make_user("deputy", other_dept, username=f"dep{i}")
            DeputyProfile.objects.create(user=user, delegation="荔湾区代表团")
            self.deputies.append(user)
        self.project = executing(district, executed=Decimal("1000000.00"))

    # the steps, each as its real role user

    def commission_key(self, project=None, **kw):
        return svc.evaluation_commission(
            actor=self.d.finance,
            kind=EvaluationKind.KEY,
            agency=self.agency,
            due_at=timezone.now() + timedelta(days=60),
            project=project or self.project,
            **kw,
        )

    def commission_department(self, department=None, year=2021):
        return svc.evaluation_commission(
            actor=self.d.finance,
            kind=EvaluationKind.DEPARTMENT,
            agency=self.agency,
            due_at=timezone.now() + timedelta(days=60),
            department=department or self.d.dept_a,
            fiscal_year=year,
        )

    def step(self, ev, status):
        """Take ``ev`` forward to ``status`` through the services."""
        order = list(EvaluationStatus.values)
        while order.index(ev.status) < order.index(status):
            ev = self.next(ev)
        return ev

    def next(self, ev):
        s = ev.status
        if s == EvaluationStatus.COMMISSIONED:
            return svc.evaluation_submit_plan(evaluation=ev, actor=self.staff, framework=FRAMEWORK, plan="评价方案")
        if s == EvaluationStatus.PLAN_SUBMITTED:
            return svc.evaluation_review_plan(evaluation=ev, actor=self.d.finance, approve=True, comment="同意")
        if s == EvaluationStatus.PLAN_APPROVED:
            return svc.evaluation_start_fieldwork(evaluation=ev, actor=self.staff)
        if s == EvaluationStatus.FIELDWORK:
            return svc.evaluation_submit_draft(evaluation=ev, actor=self.staff, note="现场核查", draft_report=pdf())
        if s == EvaluationStatus.DRAFT_REPORT:
            return svc.evaluation_comment(evaluation=ev, actor=self.d.staff_a, comment="无异议")
        if s == EvaluationStatus.DEPT_COMMENTED:
            return svc.evaluation_draw_panel(evaluation=ev, actor=self.staff, seed=7)
        if s == EvaluationStatus.EXPERT_REVIEW:
            for m in self.panel(ev):
                svc.suggestion_submit(member=m, actor=m.user, suggestions=[f"{m.user} 建议一", "建议二"])
            return svc.evaluation_finalize(
                evaluation=ev, actor=self.staff, scores=SCORES, conclusion="总体较好", report=pdf()
            )
        if s == EvaluationStatus.FINAL:
            return svc.evaluation_approve_disclosure(evaluation=ev, actor=self.d.finance)
        raise AssertionError(s)

    def panel(self, ev):
        return list(EvaluationPanelMember.objects.filter(evaluation=ev).select_related("user").order_by("seat"))


@pytest.fixture
def chain(district):
    return Chain(district)


def actions(ev) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="processes.commissionedevaluation", object_id=str(ev.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def notes(user, ev) -> list[str]:
    return [
        n.text
        for n in Notification.objects.filter(
            recipient=user, object_type="processes.commissionedevaluation", object_id=str(ev.pk)
        ).order_by("pk")
    ]


def snapshot(ev) -> tuple:
    ev = CommissionedEvaluation.objects.get(pk=ev.pk)
    return (
        ev.status,
        ev.revision,
        ev.framework,
        ev.plan,
        ev.scores,
        ev.score,
        ev.grade,
        ev.budget,
        ev.executed,
        bool(ev.draft_report),
        bool(ev.report),
        len(actions(ev)),
        Notification.objects.count(),
        EvaluationPanelMember.objects.filter(evaluation=ev).count(),
        ExpertSuggestion.objects.filter(evaluation=ev).count(),
    )


# -- the whole chains -------------------------------------------------------------------------


def test_key_evaluation_goes_from_commission_to_publication_as_real_role_users(chain):
    d = chain.d
    ev = chain.commission_key()
    assert ev.status == EvaluationStatus.COMMISSIONED
    assert (ev.department_id, ev.fiscal_year) == (d.dept_a.pk, 2021)
    assert ev.budget == Decimal("1200000.00") and ev.executed == Decimal("1000000.00")
    assert ev.framework == {"decision": "20.00", "process": "20.00", "output": "30.00", "outcome": "30.00"}
    assert "请提交评价方案" in notes(chain.staff, ev)[0] and notes(chain.staff2, ev)
    assert notes(d.staff_a, ev) and notes(d.leader_a, ev) and not notes(d.staff_b, ev)
    assert not notes(chain.outsider_staff, ev)

    ev = svc.evaluation_submit_plan(evaluation=ev, actor=chain.staff, framework=FRAMEWORK, plan="评价方案：访谈与抽查")
    assert ev.status == EvaluationStatus.PLAN_SUBMITTED
    assert ev.framework == {"decision": "15.00", "process": "25.00", "output": "30.00", "outcome": "30.00"}
    assert "请审核" in notes(d.finance, ev)[-1]

    ev = svc.evaluation_review_plan(evaluation=ev, actor=d.finance, approve=True, comment="同意")
    assert ev.status == EvaluationStatus.PLAN_APPROVED and ev.plan_comment == "同意"
    assert "已批准" in notes(chain.staff, ev)[-1]

    ev = svc.evaluation_start_fieldwork(evaluation=ev, actor=chain.staff2)
    assert ev.status == EvaluationStatus.FIELDWORK

    ev = svc.evaluation_submit_draft(
        evaluation=ev, actor=chain.staff, note="走访 3 个点位", draft_report=pdf("初稿.pdf")
    )
    assert ev.status == EvaluationStatus.DRAFT_REPORT and ev.draft_report.name.startswith("evaluations/drafts/")
    assert ev.draft_report.open("rb").read() == PDF
    assert "请反馈意见" in notes(d.leader_a, ev)[-1]

    ev = svc.evaluation_comment(evaluation=ev, actor=d.leader_a, comment="无异议")
    assert ev.status == EvaluationStatus.DEPT_COMMENTED and ev.department_comment == "无异议"
    assert "请抽取专家评审组" in notes(chain.staff, ev)[-1]

    ev = svc.evaluation_draw_panel(evaluation=ev, actor=chain.staff, seed=42)
    assert ev.status == EvaluationStatus.EXPERT_REVIEW and ev.draw_seed == 42 and ev.candidate_pool
    panel = chain.panel(ev)
    assert len(panel) == 5
    assert sum(m.kind == "deputy" for m in panel) >= 1
    assert sum(m.sector_expert for m in panel) >= 3
    assert chain.same_dept.pk not in {m.user_id for m in panel}
    for m in panel:
        assert "请于" in notes(m.user, ev)[-1]

    for i, m in enumerate(panel):
        assert not any("已全部提交" in t for t in notes(chain.staff, ev))
        svc.suggestion_submit(member=m, actor=m.user, suggestions=[f"建议{i}-1", f"建议{i}-2", f"建议{i}-3"])
    assert ExpertSuggestion.objects.filter(evaluation=ev).count() == 15
    assert list(
        ExpertSuggestion.objects.filter(member=panel[0]).order_by("position").values_list("position", "text")
    ) == [(1, "建议0-1"), (2, "建议0-2"), (3, "建议0-3")]
    assert "（15 条）" in notes(chain.staff, ev)[-1]

    finding_add(
        source=ev, actor=chain.staff, problem="绩效目标不够细化", basis="财预〔2020〕10号", requirement="细化指标"
    )
    ev = svc.evaluation_finalize(
        evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="项目总体实施较好", report=pdf("报告.pdf")
    )
    assert ev.status == EvaluationStatus.FINAL
    assert ev.score == Decimal("88.50") and ev.grade == Grade.GOOD
    assert ev.scores == {"decision": "14.00", "process": "22.50", "output": "27.00", "outcome": "25.00"}
    assert ev.report.open("rb").read() == PDF and ev.finalized_at is not None
    assert "请审核是否公开" in notes(d.finance, ev)[-1] and "88.50" in notes(d.staff_a, ev)[-1]
    assert not published_evaluations().filter(pk=ev.pk).exists()

    ev = svc.evaluation_approve_disclosure(evaluation=ev, actor=d.finance)
    assert ev.status == EvaluationStatus.PUBLISHED
    assert ev.disclosure_approved_by == d.finance and ev.published_at is not None
    assert published_evaluations().filter(pk=ev.pk).exists()
    assert "已批准公开" in notes(chain.staff, ev)[-1] and "已批准公开" in notes(d.leader_a, ev)[-1]
    assert [f.problem for f in findings_of(ev)] == ["绩效目标不够细化"]

    assert actions(ev) == [
        "commission",
        "submit_plan",
        "approve_plan",
        "start_fieldwork",
        "submit_draft",
        "comment",
        "draw_panel",
        *["submit_suggestions"] * 5,
        "finalize",
        "publish",
    ]
    first = AuditEvent.objects.filter(object_type="processes.commissionedevaluation", action="finalize").get()
    assert (first.actor, first.actor_role, first.from_state, first.to_state) == (
        chain.staff,
        "agency_staff",
        "expert_review",
        "final",
    )
    assert ev.revision == 9  # 1 at the commission, + 1 per state change
    assert audit_verify() is None


def test_department_evaluation_goes_the_same_chain_for_a_department_and_year(chain):
    d = chain.d
    executing(d, executed=Decimal("600000.00"), category="education", amount=Decimal("3000000.00"))
    executing(d, dept="b", executed=Decimal("1.00"))  # another department: not counted
    d.project(ProjectStage.DRAFT)  # no budget: not counted
    ev = chain.commission_department()
    assert ev.kind == EvaluationKind.DEPARTMENT and ev.project is None
    assert ev.budget == Decimal("4200000.00") and ev.executed == Decimal("1600000.00")
    assert "部门整体绩效评价" in ev.title and d.dept_a.name in ev.title
    assert notes(d.staff_a, ev) and notes(chain.staff, ev)
    # the largest project is the education one: sector experts must be education experts
    assert svc.draw_category(ev) == "education"
    for i in range(3):
        ExpertProfile.objects.create(user=make_user("expert", username=f"edu{i}"), specialties=["education"])

    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    panel = chain.panel(ev)
    assert sum(m.sector_expert for m in panel) >= 3
    assert {m.user.username for m in panel if m.sector_expert} <= {"edu0", "edu1", "edu2"}
    for m in panel:
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["加强预算编制"])
    ev = svc.evaluation_finalize(
        evaluation=ev,
        actor=chain.staff,
        scores={"decision": "14", "process": "24", "output": "28", "outcome": "27.5"},
        conclusion="部门整体绩效较好",
        report=pdf(),
        budget="6300000.00",
        executed="6000000",
    )
    assert (ev.score, ev.grade) == (Decimal("93.50"), Grade.EXCELLENT)
    assert (ev.budget, ev.executed) == (Decimal("6300000.00"), Decimal("6000000.00"))
    assert ev.completion_rate == Decimal("6000000.00") / Decimal("6300000.00")
    ev = svc.evaluation_approve_disclosure(evaluation=ev, actor=d.finance)
    assert ev.status == EvaluationStatus.PUBLISHED
    assert actions(ev)[-2:] == ["finalize", "publish"]


def test_returned_plan_goes_back_to_the_agency_with_the_reason(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.PLAN_SUBMITTED)
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_review_plan(evaluation=ev, actor=chain.d.finance, approve=False, comment="  ")
    assert "comment" in refused.value.message_dict and snapshot(ev) == before
    ev = svc.evaluation_review_plan(evaluation=ev, actor=chain.d.finance, approve=False, comment="权重需调整")
    assert ev.status == EvaluationStatus.COMMISSIONED and ev.plan_comment == "权重需调整"
    assert "权重需调整" in notes(chain.staff, ev)[-1]
    ev = svc.evaluation_submit_plan(evaluation=ev, actor=chain.staff, framework=FRAMEWORK, plan="修改后的方案")
    assert ev.status == EvaluationStatus.PLAN_SUBMITTED


# -- refusals ---------------------------------------------------------------------------------

STEP_CALLS = {
    EvaluationStatus.COMMISSIONED: lambda c, ev, u: svc.evaluation_submit_plan(
        evaluation=ev, actor=u, framework=FRAMEWORK, plan="方案"
    ),
    EvaluationStatus.PLAN_SUBMITTED: lambda c, ev, u: svc.evaluation_review_plan(evaluation=ev, actor=u, approve=True),
    EvaluationStatus.PLAN_APPROVED: lambda c, ev, u: svc.evaluation_start_fieldwork(evaluation=ev, actor=u),
    EvaluationStatus.FIELDWORK: lambda c, ev, u: svc.evaluation_submit_draft(
        evaluation=ev, actor=u, note="n", draft_report=pdf()
    ),
    EvaluationStatus.DRAFT_REPORT: lambda c, ev, u: svc.evaluation_comment(evaluation=ev, actor=u, comment="无异议"),
    EvaluationStatus.DEPT_COMMENTED: lambda c, ev, u: svc.evaluation_draw_panel(evaluation=ev, actor=u, seed=1),
    EvaluationStatus.FINAL: lambda c, ev, u: svc.evaluation_approve_disclosure(evaluation=ev, actor=u),
}
#: Who may take each step (attribute names of Chain or District); everyone else is refused.
RIGHT = {
    EvaluationStatus.COMMISSIONED: {"staff", "staff2"},
    EvaluationStatus.PLAN_SUBMITTED: {"finance"},
    EvaluationStatus.PLAN_APPROVED: {"staff", "staff2"},
    EvaluationStatus.FIELDWORK: {"staff", "staff2"},
    EvaluationStatus.DRAFT_REPORT: {"staff_a", "leader_a", "leader_a2"},
    EvaluationStatus.DEPT_COMMENTED: {"staff", "staff2"},
    EvaluationStatus.FINAL: {"finance"},
}
PEOPLE = ["staff", "staff2", "outsider_staff", "staff_a", "leader_a", "staff_b", "leader_b", "finance", "supervisor"]
PEOPLE += ["auditor", "sysadmin", "expert", "deputy"]


def person(chain, name):
    return getattr(chain, name, None) or getattr(chain.d, name)


@pytest.mark.parametrize("status", list(STEP_CALLS))
def test_every_step_refuses_the_wrong_role_and_changes_nothing_when_another_user_acts(chain, status):
    ev = chain.step(chain.commission_key(), status)
    before = snapshot(ev)
    for name in PEOPLE:
        if name in RIGHT[status]:
            continue
        with pytest.raises(PermissionDenied):
            STEP_CALLS[status](chain, ev, person(chain, name))
        assert snapshot(ev) == before, name
    STEP_CALLS[status](chain, ev, person(chain, sorted(RIGHT[status])[0]))
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status != status


@pytest.mark.parametrize("name", ["staff", "staff_a", "supervisor", "expert", "sysadmin", "auditor"])
def test_commission_is_refused_when_not_the_finance_section(chain, name):
    with pytest.raises(PermissionDenied):
        svc.evaluation_commission(
            actor=person(chain, name),
            kind=EvaluationKind.KEY,
            agency=chain.agency,
            due_at=timezone.now() + timedelta(days=9),
            project=chain.project,
        )
    assert not CommissionedEvaluation.objects.exists()


def test_panel_and_finalize_refuse_everyone_but_the_member_and_the_agency_when_reviewing(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    panel = chain.panel(ev)
    outsider = next(u for u in chain.experts if u.pk not in {m.user_id for m in panel})
    before = snapshot(ev)
    for user in [outsider, panel[1].user, chain.staff, chain.d.finance, chain.d.staff_a]:
        with pytest.raises(PermissionDenied):
            svc.suggestion_submit(member=panel[0], actor=user, suggestions=["冒名建议"])
    for user in [chain.outsider_staff, chain.d.finance, panel[0].user, chain.d.leader_a]:
        with pytest.raises(PermissionDenied):
            svc.evaluation_finalize(evaluation=ev, actor=user, scores=SCORES, conclusion="c", report=pdf())
    assert snapshot(ev) == before


def test_steps_are_refused_when_the_status_is_not_theirs(chain):
    ev = chain.commission_key()
    before = snapshot(ev)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_review_plan(evaluation=ev, actor=chain.d.finance, approve=True)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_start_fieldwork(evaluation=ev, actor=chain.staff)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_comment(evaluation=ev, actor=chain.d.staff_a, comment="x")
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_draw_panel(evaluation=ev, actor=chain.staff)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_finalize(evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="c", report=pdf())
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_approve_disclosure(evaluation=ev, actor=chain.d.finance)
    assert snapshot(ev) == before
    ev = chain.step(ev, EvaluationStatus.PUBLISHED)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_approve_disclosure(evaluation=ev, actor=chain.d.finance)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_submit_plan(evaluation=ev, actor=chain.staff, framework=FRAMEWORK, plan="再来")


def test_finalize_is_refused_when_a_member_has_not_submitted(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    panel = chain.panel(ev)
    for m in panel[:-1]:
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    before = snapshot(ev)
    with pytest.raises(ActionNotAllowed, match="1 名"):
        svc.evaluation_finalize(evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="c", report=pdf())
    assert snapshot(ev) == before


def test_suggestions_cannot_be_resubmitted_when_already_submitted(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    m = chain.panel(ev)[0]
    svc.suggestion_submit(member=m, actor=m.user, suggestions=["第一条", "第二条"])
    with pytest.raises(Conflict):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["第三条"])
    assert ExpertSuggestion.objects.filter(member=m).count() == 2


@pytest.mark.parametrize(
    ("suggestions", "keys"),
    [
        ([], {"suggestions"}),
        (["好", "  "], {"suggestions.2"}),
        (["x" * 2001], {"suggestions.1"}),
        (["建议"] * 21, {"suggestions"}),
        ("一整段文字", {"suggestions"}),
    ],
)
def test_suggestions_are_refused_when_empty_too_long_or_too_many(chain, suggestions, keys):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    m = chain.panel(ev)[0]
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.suggestion_submit(member=m, actor=m.user, suggestions=suggestions)
    assert set(refused.value.message_dict) == keys
    assert snapshot(ev) == before
    assert EvaluationPanelMember.objects.get(pk=m.pk).submitted_at is None


@pytest.mark.parametrize(
    ("framework", "keys"),
    [
        ({"decision": "20", "process": "20", "output": "30", "outcome": "29"}, {"framework"}),
        ({"decision": "20", "process": "20", "output": "60"}, {"framework.outcome"}),
        ({"decision": "-10", "process": "30", "output": "50", "outcome": "30"}, {"framework.decision"}),
        ({"decision": "abc", "process": "20", "output": "30", "outcome": "30"}, {"framework.decision"}),
        ({"decision": "20.001", "process": "20", "output": "30", "outcome": "29.999"}, {"framework.decision"}),
        (
            {"decision": "20", "process": "20", "output": "30", "outcome": "30", "satisfaction": "0"},
            {"framework"},
        ),
    ],
)
def test_plan_is_refused_with_field_errors_when_the_framework_is_wrong(chain, framework, keys):
    ev = chain.commission_key()
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_submit_plan(evaluation=ev, actor=chain.staff, framework=framework, plan="方案")
    assert keys <= set(refused.value.message_dict)
    assert snapshot(ev) == before


def test_plan_reports_every_problem_at_once_when_several_are_wrong(chain):
    ev = chain.commission_key()
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_submit_plan(evaluation=ev, actor=chain.staff, framework={"decision": "-1"}, plan=" ")
    assert set(refused.value.message_dict) == {
        "framework.decision",
        "framework.process",
        "framework.output",
        "framework.outcome",
        "plan",
    }


def test_draft_is_refused_when_the_file_is_an_executable_renamed_pdf(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FIELDWORK)
    before = snapshot(ev)
    bad = SimpleUploadedFile("初稿.pdf", EXE, content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_submit_draft(evaluation=ev, actor=chain.staff, note="", draft_report=bad)
    assert set(refused.value.message_dict) == {"draft_report", "note"}
    with pytest.raises(ValidationError) as missing:
        svc.evaluation_submit_draft(evaluation=ev, actor=chain.staff, note="现场", draft_report=None)
    assert set(missing.value.message_dict) == {"draft_report"}
    assert snapshot(ev) == before


@pytest.mark.parametrize(
    ("scores", "report", "keys"),
    [
        ({**SCORES, "decision": "15.5"}, "ok", {"scores.decision"}),  # above its weight 15
        ({**SCORES, "output": "-1"}, "ok", {"scores.output"}),
        ({**SCORES, "outcome": "x"}, "ok", {"scores.outcome"}),
        ({**SCORES, "process": "1.005"}, "ok", {"scores.process"}),
        ({"decision": "10"}, "ok", {"scores.process", "scores.output", "scores.outcome"}),
        (SCORES, None, {"report"}),
        (SCORES, "exe", {"report"}),
        ({**SCORES, "decision": "99"}, "exe", {"scores.decision", "report"}),
    ],
)
def test_finalize_is_refused_with_nothing_changed_when_scores_or_report_are_wrong(chain, scores, report, keys):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(ev):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    before = snapshot(ev)
    file = {"ok": pdf(), "exe": SimpleUploadedFile("报告.pdf", EXE), None: None}[report]
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_finalize(evaluation=ev, actor=chain.staff, scores=scores, conclusion="结论", report=file)
    assert set(refused.value.message_dict) == keys
    assert snapshot(ev) == before


def test_finalize_refuses_budget_corrections_when_key_and_negative_amounts_when_department(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(ev):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    with pytest.raises(ValidationError) as key:
        svc.evaluation_finalize(
            evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="c", report=pdf(), budget="1"
        )
    assert set(key.value.message_dict) == {"budget"}
    dept = chain.step(chain.commission_department(), EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(dept):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    with pytest.raises(ValidationError) as negative:
        svc.evaluation_finalize(
            evaluation=dept,
            actor=chain.staff,
            scores=SCORES,
            conclusion="",
            report=pdf(),
            budget="-5",
            executed="1.234",
        )
    assert set(negative.value.message_dict) == {"budget", "executed", "conclusion"}


def test_commission_is_refused_when_the_subject_is_wrong_or_taken(chain):
    d = chain.d
    due = timezone.now() + timedelta(days=30)
    draft = d.project(ProjectStage.DRAFT)
    with pytest.raises(ValidationError) as early:
        svc.evaluation_commission(actor=d.finance, kind="key", agency=chain.agency, due_at=due, project=draft)
    assert set(early.value.message_dict) == {"project"}
    with pytest.raises(ValidationError) as past:
        svc.evaluation_commission(
            actor=d.finance, kind="key", agency=chain.agency, due_at=timezone.now() - timedelta(hours=1), project=None
        )
    assert set(past.value.message_dict) == {"due_at", "project"}
    chain.commission_key()
    with pytest.raises(ValidationError, match="已委托过重点评价"):
        chain.commission_key()
    chain.commission_department()
    with pytest.raises(ValidationError, match="已委托过部门整体绩效评价"):
        chain.commission_department()
    chain.commission_department(year=2022)  # another year is another evaluation
    with pytest.raises(ValidationError) as nothing:
        svc.evaluation_commission(actor=d.finance, kind="department", agency=None, due_at=due)
    assert set(nothing.value.message_dict) == {"agency", "department", "fiscal_year"}
    with pytest.raises(ValidationError) as kind:
        svc.evaluation_commission(actor=d.finance, kind="whatever", agency=chain.agency, due_at=due)
    assert set(kind.value.message_dict) == {"kind"}
    assert CommissionedEvaluation.objects.count() == 3


def test_comment_is_refused_when_empty(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.DRAFT_REPORT)
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_comment(evaluation=ev, actor=chain.d.staff_a, comment="   ")
    assert set(refused.value.message_dict) == {"comment"}
    assert snapshot(ev) == before


# -- the draw --------------------------------------------------------------------------------


def test_replaying_the_draw_gives_the_same_panel_when_the_library_changed_since(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    seated = [m.user_id for m in chain.panel(ev)]
    ExpertProfile.objects.filter(user__in=chain.experts[:3]).update(active=False)
    ExpertProfile.objects.create(user=make_user("expert", username="late"), specialties=["infrastructure"])
    assert svc.evaluation_replay_draw(CommissionedEvaluation.objects.get(pk=ev.pk)) == seated


def test_draw_is_refused_with_the_rule_when_the_library_is_too_small(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.DEPT_COMMENTED)
    DeputyProfile.objects.update(active=False)
    before = snapshot(ev)
    with pytest.raises(ValidationError) as refused:
        svc.evaluation_draw_panel(evaluation=ev, actor=chain.staff)
    assert "人大代表" in refused.value.message_dict["panel"][0]
    assert snapshot(ev) == before


# -- visibility ------------------------------------------------------------------------------


def test_others_see_nothing_when_not_department_agency_or_panel(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    seated = {m.user_id for m in chain.panel(ev)}
    outsider_expert = next(u for u in chain.experts if u.pk not in seated)
    for user in [chain.d.staff_b, chain.d.leader_b, chain.outsider_staff, outsider_expert, chain.d.sysadmin]:
        assert not commissioned_for(user).exists(), user
        with pytest.raises(Http404):
            commissioned_get_for(user, ev.pk)
    for user in [chain.d.staff_a, chain.d.leader_a, chain.staff, chain.d.finance, chain.d.supervisor]:
        assert commissioned_get_for(user, ev.pk) == ev
    member = chain.panel(ev)[0].user
    assert commissioned_get_for(member, ev.pk) == ev


def test_available_actions_are_only_the_current_users_when_asked(chain):
    ev = chain.commission_key()
    assert svc.available_actions(ev, chain.staff) == ["plan"]
    assert svc.available_actions(ev, chain.d.finance) == []
    assert svc.available_actions(ev, chain.outsider_staff) == []
    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    m = chain.panel(ev)[0]
    assert svc.available_actions(ev, m.user) == ["suggestions"]
    assert svc.available_actions(ev, chain.staff) == ["remind", "finalize"]
    svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    assert svc.available_actions(ev, m.user) == []


# -- reminding the panel (issue 21) -------------------------------------------------------------


def reminders(ev):
    return Notification.objects.filter(
        kind="reminder", object_type="processes.commissionedevaluation", object_id=str(ev.pk)
    )


def test_agency_reminds_only_the_members_without_suggestions_when_it_asks(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    done, *waiting = chain.panel(ev)
    svc.suggestion_submit(member=done, actor=done.user, suggestions=["加强绩效目标管理"])
    reminded, skipped = svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff2)
    assert [m.pk for m in reminded] == [m.pk for m in waiting] and skipped == []
    notes = reminders(ev)
    assert sorted(n.recipient_id for n in notes) == sorted(m.user_id for m in waiting)
    assert all(n.url == ev.get_absolute_url() and ev.title in n.text for n in notes)
    event = AuditEvent.objects.get(object_id=str(ev.pk), action="remind_panel")
    assert event.actor_id == chain.staff2.pk and event.actor_role == "agency_staff"
    assert event.detail == {"reminded": [m.user_id for m in waiting], "skipped": []}
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status == EvaluationStatus.EXPERT_REVIEW


def test_remind_is_409_and_tells_nobody_when_everyone_was_reminded_within_the_hours(chain):
    from processes.services.panel_reminders import panel_remind_hours

    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    first, _ = svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff)
    with pytest.raises(Conflict, match="小时内已提醒过"):
        svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff)
    assert reminders(ev).count() == len(first)
    assert AuditEvent.objects.filter(object_id=str(ev.pk), action="remind_panel").count() == 1
    later = timezone.now() + timedelta(hours=panel_remind_hours(), minutes=1)
    again, skipped = svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff, now=later)
    assert [m.pk for m in again] == [m.pk for m in first] and skipped == []


def test_remind_skips_the_recently_reminded_when_others_are_due(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    panel = chain.panel(ev)
    svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff)
    # the first seat's reminder is two days old: due again; the others' are fresh
    old = timezone.now() - timedelta(days=2)
    Notification.objects.filter(kind="reminder", recipient_id=panel[0].user_id).update(created_at=old)
    reminded, skipped = svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff)
    assert [m.pk for m in reminded] == [panel[0].pk]
    assert [m.pk for m in skipped] == [m.pk for m in panel[1:]]
    event = AuditEvent.objects.filter(object_id=str(ev.pk), action="remind_panel").order_by("-sequence").first()
    assert event.detail == {"reminded": [panel[0].user_id], "skipped": [m.user_id for m in panel[1:]]}


def test_remind_is_409_when_every_member_has_submitted(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(ev):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    assert "remind" not in svc.available_actions(ev, chain.staff)
    with pytest.raises(Conflict, match="均已提交评审建议"):
        svc.evaluation_remind_panel(evaluation=ev, actor=chain.staff)
    assert not reminders(ev).exists()


def test_remind_is_refused_when_not_the_commissioned_agency_or_not_under_review(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    member = chain.panel(ev)[0].user
    for user in [chain.outsider_staff, chain.d.finance, chain.d.staff_a, member]:
        with pytest.raises(PermissionDenied):
            svc.evaluation_remind_panel(evaluation=ev, actor=user)
        assert "remind" not in svc.available_actions(ev, user)
    early = chain.step(chain.commission_department(), EvaluationStatus.DEPT_COMMENTED)
    with pytest.raises(ActionNotAllowed):
        svc.evaluation_remind_panel(evaluation=early, actor=chain.staff)
    assert not reminders(ev).exists() and not reminders(early).exists()


# -- the declarations (issue 17: one transition engine) ----------------------------------------

AUDIT_NAMES = {
    "submit_plan": "submit_plan",
    "approve_plan": "approve_plan",
    "return_plan": "return_plan",
    "start_fieldwork": "start_fieldwork",
    "submit_draft": "submit_draft",
    "comment": "comment",
    "open_review": "draw_panel",
    "finalize": "finalize",
    "return_final": "return_final",
    "publish": "publish",
}


def test_every_transition_is_declared_with_its_notice_and_audit_name_when_the_registry_is_read():
    from processes.transitions import transitions_of

    found = {d.name: d for d in transitions_of(CommissionedEvaluation)}
    assert set(found) == set(AUDIT_NAMES)
    for name, d in found.items():
        assert d.declared and d.is_action and d.roles, name
        assert d.custom["tells"] is not None and d.custom["silent"] is None, name  # nobody's step is silent
        assert d.audit_action == AUDIT_NAMES[name]
    assert found["return_plan"].needs_reason and not found["approve_plan"].needs_reason


def test_available_transitions_follow_the_declared_permission_when_each_party_asks(chain):
    from processes.transitions import available

    ev = chain.step(chain.commission_key(), EvaluationStatus.PLAN_SUBMITTED)
    assert {d.name for d in available(ev, chain.d.finance)} == {"approve_plan", "return_plan"}
    assert svc.available_actions(ev, chain.d.finance) == ["review-plan"]
    for user in [chain.staff, chain.d.staff_a, chain.d.supervisor, chain.d.auditor]:
        assert available(ev, user) == [] and svc.available_actions(ev, user) == []
    ev = chain.step(ev, EvaluationStatus.DRAFT_REPORT)
    for user in [chain.d.staff_a, chain.d.leader_a]:
        assert [d.name for d in available(ev, user)] == ["comment"]
    assert available(ev, chain.d.leader_b) == [] and available(ev, chain.staff) == []


def test_audit_rows_carry_the_role_each_actor_acted_in_when_the_chain_runs(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.DRAFT_REPORT)
    ev = svc.evaluation_comment(evaluation=ev, actor=chain.d.leader_a, comment="无异议")
    ev = chain.step(ev, EvaluationStatus.PUBLISHED)
    rows = AuditEvent.objects.filter(object_type="processes.commissionedevaluation", object_id=str(ev.pk))
    roles = {(e.action, e.actor_role) for e in rows}
    assert roles >= {
        ("commission", "finance_officer"),
        ("submit_plan", "agency_staff"),
        ("approve_plan", "finance_officer"),
        ("start_fieldwork", "agency_staff"),
        ("submit_draft", "agency_staff"),
        ("comment", "dept_leader"),
        ("draw_panel", "agency_staff"),
        ("finalize", "agency_staff"),
        ("publish", "finance_officer"),
    }
    assert {r for a, r in roles if a == "submit_suggestions"} <= {"expert", "deputy"}
    other = chain.step(chain.commission_department(), EvaluationStatus.DRAFT_REPORT)
    svc.evaluation_comment(evaluation=other, actor=chain.d.staff_a, comment="无异议")
    event = AuditEvent.objects.get(object_id=str(other.pk), action="comment")
    assert (event.actor, event.actor_role) == (chain.d.staff_a, "dept_staff")
    assert audit_verify() is None


def test_a_transition_writes_and_tells_nothing_when_its_transaction_rolls_back(chain):
    from django.db import transaction

    ev = chain.step(chain.commission_key(), EvaluationStatus.PLAN_APPROVED)
    before = snapshot(ev)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.evaluation_start_fieldwork(evaluation=ev, actor=chain.staff)
        raise RuntimeError("the caller fails after the step")
    assert snapshot(ev) == before and "start_fieldwork" not in actions(ev)
    svc.evaluation_start_fieldwork(evaluation=ev, actor=chain.staff)
    for user in [chain.d.staff_a, chain.d.leader_a]:
        assert sum("现场评价阶段" in t for t in notes(user, ev)) == 1  # once, from the step that committed
