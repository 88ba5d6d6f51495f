"""Projects driven through their lives by random sequences of actions of random people,
refused ones included, through the services a screen or the API calls (the project's
``project_transition``, which ``workflows.services.project_act`` is, the targets'
services, the pre-assessment's — commissioning, the panel's draw, the members' opinions,
the agency's conclusion, the finance section's confirmation or return —, the monitoring
round and its reports, the self-evaluation campaign and its sheets, and the findings'
rectification), checked after every step:

* every open flow task matches its object's state (``verify_tasks``' own check: no stuck
  or orphan task), and every pre-assessment, monitoring report and self-evaluation that
  waits for someone has its open task;
* every change of state of a project, target version, pre-assessment, opinion, monitoring
  report, self-evaluation or rectification has exactly one audit row, naming the change
  (a step that moves an object twice, as the panel's draw does, writes the chain of
  them), and the hash chain verifies (``audit_verify``);
* a refused action wrote nothing and told nobody: no state, audit row, notification or
  flow task changed;
* what each person sees (``project_list_for``) is unchanged by a refused action (read
  again after a department's person was refused on another department's project), and a
  department's people never see another department's projects.

200 examples in the normal run (at most 10 rules each, a rule taking up to three steps
of a life); ``JIXIAO_TEST_DEEP=1`` (``make test-deep``, run by .ci/run) makes it 1,000.
Each example runs in a savepoint rolled back at its end, on people, an expert library and
six projects made once (``seed_projects``: two in 事前绩效评估, one executing, one
evaluating, one evaluated, one rectifying). An example acts on one of those (so that lives
reach the panel's opinions, monitoring, evaluation and rectification within its few
steps) and on its own projects, which start as drafts; every check reads them all. The
run prints how often each service went through or was refused.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from viewflow.workflow.models import Task

from accounts.models import DeputyProfile, ExpertProfile, User
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import (
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    EvaluationPanelMember,
    MonitoringReport,
    Opinion,
    PanelMember,
    PreAssessment,
    Recheck,
    Rectification,
    SelfEvaluation,
    TargetSet,
)
from processes.selectors import project_list_for
from processes.services import commissioned as commissioned_services
from processes.services import evaluation as evaluation_services
from processes.services import monitoring as monitoring_services
from processes.services import pre_assessment as pa_services
from processes.services import rectification as rectification_services
from processes.services.audit import audit_verify
from processes.services.findings import finding_add
from processes.services.projects import project_create, project_transition
from processes.services.targets import target_draft_open, target_set_save
from processes.states import (
    Conclusion,
    Disposal,
    EvaluationKind,
    EvaluationStatus,
    OpinionStatus,
    PreAssessmentStatus,
    ProjectStage,
    RecheckStatus,
    RectificationStatus,
    ReportStatus,
    SelfEvaluationStatus,
)
from workflows.flows import PreAssessmentFlow
from workflows.management.commands.verify_tasks import OPEN, find_mismatches

from ..conftest import TARGET_ROWS, District
from ..factories import AgencyFactory, DepartmentFactory, make_user


def _service(*candidates: tuple[str, str]):
    """The first of (module, name) that exists: the workflows wrapper while a lifecycle
    still has one, else the processes service that moves its flow itself (issue 17)."""
    for module, name in candidates:
        found = getattr(import_module(module), name, None)
        if found is not None:
            return found
    raise LookupError(f"none of {candidates} exists")


def project_act(*, project, actor, action, comment=""):
    """A person's stage action, as the project page and the API take it."""
    return project_transition(project=project, actor=actor, name=action, comment=comment)


targets_submit = _service(("workflows.services", "targets_submit"), ("processes.services.targets", "target_submit"))
targets_dept_review = _service(
    ("workflows.services", "targets_dept_review"), ("processes.services.targets", "target_dept_review")
)
targets_rate = _service(("workflows.services", "targets_rate"), ("processes.services.targets", "target_rate"))
pre_assessment_begin = _service(
    ("workflows.services", "pre_assessment_begin"), ("processes.services.pre_assessment", "pre_assessment_start")
)
#: Opening a round starts its reports' flows (workflows.bulk): the workflows service while
#: the processes one does not start them itself.
round_open = _service(("workflows.services", "monitoring_round_open"), ("processes.services.monitoring", "round_open"))
report_dispose = _service(
    ("workflows.services", "monitoring_dispose"), ("processes.services.monitoring", "report_dispose")
)

DEEP = os.environ.get("JIXIAO_TEST_DEEP", "") not in ("", "0")
EXAMPLES = int(os.environ.get("JIXIAO_TEST_EXAMPLES", 1000 if DEEP else 200))
STEPS = 10
YEAR = 2021

#: Who acts: mostly someone whose role could act on the project (its department's staff
#: or leader, the finance section, the commissioned agency), else anyone at all — refusals
#: are part of the test.
ACTORS = ["staff", "leader", "finance", "anyone"]
PA_ACTORS = ["agency", "finance", "staff", "anyone"]
#: Who fills an opinion: the seated member, another member of the panel, or anyone.
MEMBERS = ["member", "member", "other_member", "anyone"]

#: Everything a person may be refused with; anything else is a bug.
REFUSALS = (PermissionDenied, ActionNotAllowed, ValidationError, TransitionNotAllowed)

#: The project stage's actions a person takes on a screen (the system ones are the
#: sub-processes' to take, and are refused here like any other).
PROJECT_ACTIONS = [
    "submit",
    "approve",
    "send_back",
    "withdraw",
    "cancel",
    "route_to_pre_assessment",
    "route_to_target_review",
    "start_execution",
    "close",
]
RATINGS = ["excellent", "good", "fair", "poor"]
CONCLUSIONS = [Conclusion.SUPPORT, Conclusion.PARTIAL, Conclusion.REJECT]
REVIEW_DECISIONS = ["clear", "warn", "return"]
DISPOSALS = [Disposal.ADJUST, Disposal.SUSPEND, Disposal.STOP_PAYMENTS, Disposal.NO_ACTION]
#: A key evaluation's framework and the agency's scores (tests/processes/test_commissioned.py).
FRAMEWORK = {"decision": "15", "process": "25", "output": "30", "outcome": "30"}
EVAL_SCORES = {"decision": "14", "process": "22.5", "output": "27", "outcome": "25"}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
FULL_SCORES = {"necessity": "18", "economy": "16", "targets": "17", "feasibility": "18", "funding": "19"}
MAX_PROJECTS = 3  # one of the six made once and at most two of the example's own
PROJECT = st.integers(0, MAX_PROJECTS - 1)  # which project (modulo how many there are)
NEXT = st.integers(1, 3)  # how many next steps one rule takes
OWN = st.sampled_from([-1, -2])  # the last two projects: the example's own
ANYONE = st.integers(0, len(District.PEOPLE) + 7)  # the district's people, experts and deputies
SEAT = st.integers(0, 4)

#: The model of each kind of object whose state the machine follows.
MODELS: dict[str, type] = {
    "project": BudgetProject,
    "targets": TargetSet,
    "pre_assessment": PreAssessment,
    "opinion": Opinion,
    "report": MonitoringReport,
    "self_evaluation": SelfEvaluation,
    "rectification": Rectification,
    "recheck": Recheck,  # no flow: no task check
    "commissioned": CommissionedEvaluation,  # no flow: no task check
}
STATE_FIELD = {"project": "stage"}

#: The states in which an object waits for someone, hence has an open flow task.
WAITING = {
    "pre_assessment": [
        PreAssessmentStatus.INITIATED,
        PreAssessmentStatus.UNDER_REVIEW,
        PreAssessmentStatus.OPINIONS_COLLECTED,
        PreAssessmentStatus.CONCLUDED,
    ],
    "report": [ReportStatus.ISSUED, ReportStatus.SUBMITTED, ReportStatus.DEPT_APPROVED, ReportStatus.WARNED],
    "self_evaluation": [
        SelfEvaluationStatus.ISSUED,
        SelfEvaluationStatus.SUBMITTED,
        SelfEvaluationStatus.DEPT_APPROVED,
    ],
}


def amount_for(conclusion: str, requested: Decimal) -> Decimal:
    """An amount that keeps the rule of ``conclusion`` (DESIGN §3.2)."""
    if conclusion == Conclusion.SUPPORT:
        return requested
    if conclusion == Conclusion.PARTIAL:
        return (requested * Decimal("0.8")).quantize(Decimal("0.01"))
    return Decimal("0")


def report_values(report: MonitoringReport) -> dict[str, Any]:
    """A complete monitoring report for TARGET_ROWS (causes and measures given, whatever the lights)."""
    indicators = []
    for row, value in zip(monitoring_services.approved_rows(report.project), ("6.25", "100", "achieved"), strict=False):
        key = "progress" if row.direction == "qualitative" else "value"
        indicators.append({"target_row": row.pk, key: value, "likelihood": "certain"})
    return {
        "executed": "600000",
        "expected_full_year": "1200000",
        "deviation_causes": "征地滞后",
        "measures": "加快进度",
        "indicators": indicators,
    }


def evaluation_values(evaluation: SelfEvaluation) -> dict[str, Any]:
    """A complete self-evaluation sheet for TARGET_ROWS, every indicator explained."""
    lines = []
    for row in evaluation_services.approved_rows(evaluation.project):
        item: dict[str, Any] = {"target_row": row.pk, "deviation_reason": "征地滞后", "measure": "加快进度"}
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="90")
        else:
            item["actual"] = "12.5" if row.direction == "gte" else "280"
        lines.append(item)
    return {"executed": "1080000", "lines": lines, "summary": "总体完成"}


def rectification_items(rectification: Rectification) -> list[dict[str, Any]]:
    return [
        {
            "id": item.pk,
            "measure": "细化指标",
            "responsible": "张三",
            "progress": "done",
            "completed_on": timezone.localdate().isoformat(),
        }
        for item in rectification.items.all()
    ]


def issue_rectification(*, evaluation: SelfEvaluation, actor: User) -> Rectification:
    """The finance section records a finding of an accepted self-evaluation and issues its
    rectification (the screen's two steps, in one transaction here)."""
    finding = finding_add(source=evaluation, actor=actor, problem="绩效目标不够细化", requirement="细化量化指标")
    return rectification_services.rectification_issue(actor=actor, findings=[finding], title="自评发现问题整改")


def fill_and_submit_rectification(*, rectification: Rectification, actor: User) -> Rectification:
    return rectification_services.rectification_report_save(
        rectification=rectification, actor=actor, items=rectification_items(rectification), submit=True
    )


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")


def dispose_report(*, report: MonitoringReport, actor: User, disposal: str) -> MonitoringReport:
    """A disposal of a warned report with its reason (and, adjusting, 90% of the budget)."""
    project = report.project
    current = project.adjusted_amount if project.adjusted_amount is not None else project.approved_amount
    amount = (current * Decimal("0.9")).quantize(Decimal("0.01")) if disposal == Disposal.ADJUST and current else None
    return report_dispose(report=report, actor=actor, disposal=disposal, reason="执行偏差较大", new_amount=amount)


def draw_recheck(*, evaluation: SelfEvaluation, actor: User, agency, due_at) -> None:
    """Finance samples the project's self-evaluation (refused unless accepted) for a re-check."""
    campaign = EvaluationCampaign.objects.get(pk=evaluation.campaign_id)
    evaluation_services.recheck_sample(
        actor=actor, campaign=campaign, agency=agency, due_at=due_at, self_evaluation_ids=[evaluation.pk]
    )


def rescore(*, recheck: Recheck, actor: User) -> Recheck:
    """The agency rescores (the department's entries again) and submits with its opinion."""
    lines = evaluation_values(recheck.self_evaluation)["lines"]
    return evaluation_services.recheck_save(recheck=recheck, actor=actor, lines=lines, submit=True, opinion="基本属实")


def commission(*, project: BudgetProject, actor: User, agency, due_at) -> CommissionedEvaluation:
    return commissioned_services.evaluation_commission(
        actor=actor, kind=EvaluationKind.KEY, agency=agency, due_at=due_at, project=project
    )


def finalize_evaluation(*, evaluation: CommissionedEvaluation, actor: User, agency_staff: User):
    """Every seated member's suggestions (as themselves), then the agency's (or ``actor``'s)
    result: refused as a whole unless the panel is in and ``actor`` the agency."""
    for member in EvaluationPanelMember.objects.filter(evaluation=evaluation).select_related("user"):
        if member.submitted_at is None:
            commissioned_services.suggestion_submit(member=member, actor=member.user, suggestions=["建议一"])
    return commissioned_services.evaluation_finalize(
        evaluation=evaluation, actor=actor, scores=EVAL_SCORES, conclusion="总体较好", report=pdf()
    )


def having(kind: str):
    """A rule's precondition: some object of ``kind`` exists (read from the last snapshot,
    no query), so that the rules about a review, a report, a sheet or a rectification are
    drawn only once there is one to act on."""
    return precondition(lambda machine: any(k == kind for k, _pk in machine.last.states))


@dataclass(frozen=True)
class Snapshot:
    states: dict[tuple[str, int], str]
    audit: int
    notifications: int
    tasks: tuple[tuple[int, str], ...]
    seen: dict[int, frozenset[int]]
    departments: dict[int, int]  # project → its department


class ProjectLives(RuleBasedStateMachine):
    """One example: a few projects of two departments, and everyone acting on them."""

    district: District  # set by the test, made once
    library: list[User]  # the experts and deputies a panel is drawn from, made once
    seeds: list[int]  # the projects made once, further in their lives
    #: Over the whole run: the states reached and how many actions were refused.
    reached: set[tuple[str, str]] = set()
    refusals = 0
    steps = 0
    outcomes: Counter[str] = Counter()  # per service: how often it went through, or was refused with what

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.projects: list[int] = []
        d = self.district
        self.people = [getattr(d, name) for name in District.PEOPLE] + list(self.library)
        #: One person per way of seeing projects in these lives: each department, the
        #: bureau, the agency (a panel member sees what the agency's review shows them).
        self.viewers = [d.staff_a, d.leader_b, d.finance, d.agency_staff]
        self.saved: set[int] = set()  # target versions filled in by this example
        #: Actions that went through, and how many of them each invariant has seen: a
        #: refused action rolled back everything it wrote (its savepoint), so the database
        #: an invariant would read is the one it last read, and it is not read again.
        self.done = 0
        self.checked: dict[str, int] = {}
        self.agency = d.agency_staff.agency
        self.due = timezone.now() + timedelta(days=20)
        self.last = self.snapshot()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- what is observed --------------------------------------------------------------

    def snapshot(self, *, seen: bool = True) -> Snapshot:
        """What is observed; with ``seen`` false what each viewer sees is taken from the last
        snapshot (not read again)."""
        states: dict[tuple[str, int], str] = {}
        for kind, model in MODELS.items():
            field = STATE_FIELD.get(kind, "status")
            states |= {(kind, pk): s for pk, s in model.objects.values_list("pk", field)}  # type: ignore[attr-defined]
        return Snapshot(
            states=states,
            audit=AuditEvent.objects.count(),
            notifications=Notification.objects.count(),
            tasks=tuple(Task.objects.order_by("pk").values_list("pk", "status")),
            seen=(
                {u.pk: frozenset(project_list_for(u).values_list("pk", flat=True)) for u in self.viewers}
                if seen or not hasattr(self, "last")
                else self.last.seen
            ),
            departments=dict(BudgetProject.objects.values_list("pk", "department_id")),
        )

    def attempt(self, call, *args: Any, **kwargs: Any) -> None:
        """Run one service call; check that a refusal left everything as it was and that
        each change of state wrote exactly one audit row."""
        type(self).steps += 1
        before = self.last  # nothing else writes between two steps
        last_audit = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        try:
            with transaction.atomic():
                call(*args, **kwargs)
        except REFUSALS as refusal:
            type(self).refusals += 1
            type(self).outcomes[f"{call.__name__} refused ({type(refusal).__name__})"] += 1
            after = self.last = self.snapshot(seen=self.across_departments(kwargs))
            assert after.states == before.states, "a refused action changed a state"
            assert after.audit == before.audit, "a refused action wrote an audit row"
            assert after.notifications == before.notifications, "a refused action told someone"
            assert after.tasks == before.tasks, "a refused action moved a flow task"
            assert after.seen == before.seen, "a refused action changed what someone sees"
            return
        self.done += 1
        type(self).outcomes[call.__name__] += 1
        after = self.last = self.snapshot()
        type(self).reached |= {(kind, state) for (kind, _pk), state in after.states.items()}
        new_rows = list(
            AuditEvent.objects.filter(sequence__gt=last_audit)
            .exclude(to_state="")
            .order_by("sequence")
            .values_list("object_type", "object_id", "from_state", "to_state")
        )
        label = {kind: model._meta.label_lower for kind, model in MODELS.items()}
        for (kind, pk), state in after.states.items():
            old = before.states.get((kind, pk))
            if old is None:
                continue  # created by this step
            changes = [
                (f, t) for o_type, o_id, f, t in new_rows if o_type == label[kind] and o_id == str(pk) and f != t
            ]
            if old == state:
                assert changes == [], f"{kind} {pk} stayed {state} but the trail says {changes}"
            else:
                # one row per change: old → … → state, each row starting where the last ended
                assert changes, f"{kind} {pk}: {old} → {state} without an audit row"
                chain = [changes[0][0]] + [t for _f, t in changes]
                linked = all(changes[i][1] == changes[i + 1][0] for i in range(len(changes) - 1))
                assert linked and chain[0] == old and chain[-1] == state, (
                    f"{kind} {pk}: {old} → {state}, audit rows {changes}"
                )

    def across_departments(self, kwargs: dict[str, Any]) -> bool:
        """Whether a department's person acted on another department's project: only then
        is what everyone sees read again after a refusal (four viewers' lists after every
        refused step were a fifth of the run; a refusal that wrote nothing is caught by the
        states, audit, notification and task checks already)."""
        actor = kwargs.get("actor")
        if actor is None or actor.department_id is None:
            return False
        for value in kwargs.values():
            if isinstance(value, BudgetProject):
                dept = value.department_id
            elif getattr(value, "project_id", None) is not None:
                dept = self.last.departments.get(value.project_id)
            else:
                continue
            if dept is not None and dept != actor.department_id:
                return True
        return False

    # -- the people's actions -------------------------------------------------------------

    def actor(self, who: str, anyone: int, project: BudgetProject | None = None):
        d = self.district
        mine = project is None or project.department_id == d.dept_a.pk
        if who == "staff":
            return d.staff_a if mine else d.staff_b
        if who == "leader":
            return d.leader_a if mine else d.leader_b
        if who == "finance":
            return d.finance
        if who == "agency":
            return d.agency_staff
        return self.people[anyone % len(self.people)]

    def project(self, index: int) -> BudgetProject:
        return BudgetProject.objects.get(pk=self.projects[index % len(self.projects)])

    def latest(self, model, index: int):
        """The project's latest ``model`` record (target version, review, report, …)."""
        return model.objects.filter(project_id=self.projects[index % len(self.projects)]).order_by("-pk").first()

    def target_set(self, index: int) -> TargetSet | None:
        return self.latest(TargetSet, index)

    @initialize(dept=st.sampled_from(["a", "b"]), seed=st.integers(0, 5))
    def first_project(self, dept, seed):
        """The example acts on one of the projects made once (all of them stay in every
        check) and on its own, the first a draft of department ``dept``."""
        self.projects = [self.seeds[seed]]
        self.new_project(self.district.staff_a if dept == "a" else self.district.staff_b)

    def new_project(self, actor) -> None:
        n = BudgetProject.objects.count() + 1
        before = BudgetProject.objects.count()
        self.attempt(
            project_create,
            actor=actor,
            fiscal_year=YEAR,
            code=f"2021-S{n:04d}",
            name=f"状态机项目{n}",
            category="infrastructure",
            recurrence="one_off",
            requested_amount=Decimal("1200000.00"),
        )
        if BudgetProject.objects.count() > before:
            self.projects.append(BudgetProject.objects.order_by("-pk").values_list("pk", flat=True).first())

    @rule(who=st.sampled_from(ACTORS), anyone=ANYONE)
    def create_project(self, who, anyone):
        if len(self.projects) < MAX_PROJECTS:
            self.new_project(self.actor(who, anyone))

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, action=st.sampled_from(PROJECT_ACTIONS))
    def act_on_project(self, p, who, anyone, action):
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        self.attempt(project_act, project=project, actor=actor, action=action, comment="理由")

    # -- targets ---------------------------------------------------------------------------

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def fill_targets(self, p, who, anyone):
        """Open the version to edit (refused once the project is budgeted), or save it."""
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        ts = self.target_set(p)
        if ts is None or ts.status not in ("draft", "returned"):
            self.attempt(target_draft_open, project=project, actor=actor)
        else:
            self.attempt(target_set_save, target_set=ts, actor=actor, overall_goal="按期完成", rows=TARGET_ROWS)

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def submit_targets(self, p, who, anyone):
        ts = self.target_set(p)
        if ts is not None:
            self.attempt(targets_submit, target_set=ts, actor=self.actor(who, anyone, ts.project))

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, approve=st.booleans())
    def review_targets(self, p, who, anyone, approve):
        ts = self.target_set(p)
        if ts is not None:
            actor = self.actor(who, anyone, ts.project)
            self.attempt(targets_dept_review, target_set=ts, actor=actor, approve=approve, comment="意见")

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, rating=st.sampled_from(RATINGS))
    def rate_targets(self, p, who, anyone, rating):
        ts = self.target_set(p)
        if ts is not None:
            actor = self.actor(who, anyone, ts.project)
            self.attempt(targets_rate, target_set=ts, actor=actor, rating=rating, comment="审核意见")

    # -- pre-assessment --------------------------------------------------------------------

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def commission_pre_assessment(self, p, who, anyone):
        """Finance commissions the agency to pre-assess a project (only in 事前绩效评估)."""
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        self.attempt(pre_assessment_begin, project=project, actor=actor, agency=self.agency, due_at=self.due)

    @having("pre_assessment")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS), anyone=ANYONE, seed=st.integers(0, 3))
    def draw_panel(self, p, who, anyone, seed):
        """The commissioned agency draws the panel from the library."""
        pa = self.latest(PreAssessment, p)
        if pa is not None:
            actor = self.actor(who, anyone, pa.project)
            self.attempt(pa_services.pre_assessment_form_panel, pre_assessment=pa, actor=actor, seed=seed)

    def seated(self, pa: PreAssessment) -> list[PanelMember]:
        return list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"))

    def submit_opinion(self, member: PanelMember, actor: User, recommendation: str) -> None:
        self.attempt(
            pa_services.opinion_save,
            opinion=member.opinion,
            actor=actor,
            scores=FULL_SCORES,
            recommendation=recommendation,
            recommended_amount=str(amount_for(recommendation, member.pre_assessment.project.requested_amount)),
            text="评审意见",
            submit=True,
        )

    @having("opinion")
    @rule(
        p=PROJECT,
        seat=SEAT,
        who=st.sampled_from(MEMBERS),
        anyone=ANYONE,
        recommendation=st.sampled_from(CONCLUSIONS),
    )
    def give_opinion(self, p, seat, who, anyone, recommendation):
        """A panel member (or someone else, refused) submits the seat's opinion."""
        pa = self.latest(PreAssessment, p)
        members = self.seated(pa) if pa is not None else []
        if members:
            member = members[seat % len(members)]
            actor = {"member": member.user, "other_member": members[(seat + 1) % len(members)].user}.get(who)
            self.submit_opinion(member, actor or self.actor(who, anyone, pa.project), recommendation)

    @having("pre_assessment")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS), anyone=ANYONE, conclusion=st.sampled_from(CONCLUSIONS))
    def conclude_pre_assessment(self, p, who, anyone, conclusion):
        pa = self.latest(PreAssessment, p)
        if pa is not None:
            self.attempt(
                pa_services.pre_assessment_conclude,
                pre_assessment=pa,
                actor=self.actor(who, anyone, pa.project),
                conclusion=conclusion,
                approved_amount=amount_for(conclusion, pa.project.requested_amount),
                reasons="评审结论",
            )

    @having("pre_assessment")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS), anyone=ANYONE, confirm=st.booleans())
    def decide_pre_assessment(self, p, who, anyone, confirm):
        """Finance confirms the conclusion (the project budgeted, to its targets' review, or
        rejected) or returns it to the agency."""
        pa = self.latest(PreAssessment, p)
        if pa is None:
            return
        actor = self.actor(who, anyone, pa.project)
        if confirm:
            self.attempt(pa_services.pre_assessment_confirm, pre_assessment=pa, actor=actor)
        else:
            self.attempt(pa_services.pre_assessment_return, pre_assessment=pa, actor=actor, reason="请补充测算依据")

    # -- monitoring ------------------------------------------------------------------------

    @rule(who=st.sampled_from(ACTORS), anyone=ANYONE, end_month=st.sampled_from([6, 12]))
    def open_round(self, who, anyone, end_month):
        """Finance opens (or extends) the year's round: a report for every executing project."""
        self.attempt(round_open, actor=self.actor(who, anyone), fiscal_year=YEAR, end_month=end_month, due_at=self.due)

    @having("report")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def fill_report(self, p, who, anyone):
        report = self.latest(MonitoringReport, p)
        if report is not None:
            actor = self.actor(who, anyone, report.project)
            self.attempt(
                monitoring_services.report_save_and_submit, report=report, actor=actor, **report_values(report)
            )

    @having("report")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, approve=st.booleans())
    def review_report_in_department(self, p, who, anyone, approve):
        report = self.latest(MonitoringReport, p)
        if report is not None:
            actor = self.actor(who, anyone, report.project)
            self.attempt(
                monitoring_services.report_dept_review, report=report, actor=actor, approve=approve, comment="意见"
            )

    @having("report")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, decision=st.sampled_from(REVIEW_DECISIONS))
    def review_report(self, p, who, anyone, decision):
        report = self.latest(MonitoringReport, p)
        if report is not None:
            actor = self.actor(who, anyone, report.project)
            self.attempt(
                monitoring_services.report_review, report=report, actor=actor, decision=decision, comment="审核意见"
            )

    # -- self-evaluation ---------------------------------------------------------------------

    @rule(who=st.sampled_from(ACTORS), anyone=ANYONE)
    def launch_campaign(self, who, anyone):
        """Finance launches (or extends) the year's self-evaluation: every executing project."""
        self.attempt(
            evaluation_services.campaign_launch, actor=self.actor(who, anyone), fiscal_year=YEAR, due_at=self.due
        )

    @having("self_evaluation")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def fill_self_evaluation(self, p, who, anyone):
        se = self.latest(SelfEvaluation, p)
        if se is not None:
            actor = self.actor(who, anyone, se.project)
            self.attempt(
                evaluation_services.self_evaluation_save,
                evaluation=se,
                actor=actor,
                submit=True,
                **evaluation_values(se),
            )

    @having("self_evaluation")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, approve=st.booleans())
    def review_self_evaluation_in_department(self, p, who, anyone, approve):
        se = self.latest(SelfEvaluation, p)
        if se is not None:
            actor = self.actor(who, anyone, se.project)
            self.attempt(
                evaluation_services.self_evaluation_dept_review,
                evaluation=se,
                actor=actor,
                approve=approve,
                comment="意见",
            )

    @having("self_evaluation")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, accept=st.booleans())
    def review_self_evaluation(self, p, who, anyone, accept):
        se = self.latest(SelfEvaluation, p)
        if se is not None:
            actor = self.actor(who, anyone, se.project)
            self.attempt(
                evaluation_services.self_evaluation_review, evaluation=se, actor=actor, accept=accept, comment="意见"
            )

    # -- rectification -----------------------------------------------------------------------

    @having("self_evaluation")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def issue_rectification(self, p, who, anyone):
        """Finance records a finding of the project's accepted self-evaluation and issues
        its rectification (at most two per project: enough to see one closing the project
        while another is open)."""
        se = self.latest(SelfEvaluation, p)
        if (
            se is not None
            and se.status == SelfEvaluationStatus.ACCEPTED
            and Rectification.objects.filter(project_id=se.project_id).count() < 2
        ):
            self.attempt(issue_rectification, evaluation=se, actor=self.actor(who, anyone, se.project))

    @having("rectification")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def acknowledge_rectification(self, p, who, anyone):
        rect = self.latest(Rectification, p)
        if rect is not None:
            actor = self.actor(who, anyone, rect.project)
            self.attempt(rectification_services.rectification_acknowledge, rectification=rect, actor=actor)

    @having("rectification")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def report_rectification(self, p, who, anyone):
        rect = self.latest(Rectification, p)
        if rect is not None:
            actor = self.actor(who, anyone, rect.project)
            self.attempt(fill_and_submit_rectification, rectification=rect, actor=actor)

    @having("rectification")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, verify=st.booleans())
    def verify_rectification(self, p, who, anyone, verify):
        rect = self.latest(Rectification, p)
        if rect is not None:
            actor = self.actor(who, anyone, rect.project)
            self.attempt(
                rectification_services.rectification_review,
                rectification=rect,
                actor=actor,
                verify=verify,
                comment="整改不到位",
            )

    # -- disposal, re-checks and commissioned evaluations -------------------------------------

    @having("report")
    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, disposal=st.sampled_from(DISPOSALS))
    def dispose_of_report(self, p, who, anyone, disposal):
        """Finance disposes of a warned report (refused on any other)."""
        report = self.latest(MonitoringReport, p)
        if report is not None:
            actor = self.actor(who, anyone, report.project)
            self.attempt(dispose_report, report=report, actor=actor, disposal=disposal)

    @having("self_evaluation")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS), anyone=ANYONE)
    def sample_for_recheck(self, p, who, anyone):
        se = self.latest(SelfEvaluation, p)
        if se is not None:
            actor = self.actor(who, anyone, se.project)
            self.attempt(draw_recheck, evaluation=se, actor=actor, agency=self.agency, due_at=self.due)

    @having("recheck")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS + ["leader"]), anyone=ANYONE, step=st.integers(0, 2))
    def act_on_recheck(self, p, who, anyone, step):
        """The agency rescores or finalizes, the department feeds back (anyone may try)."""
        recheck = self.latest(Recheck, p)
        if recheck is None:
            return
        actor = self.actor(who, anyone, recheck.project)
        if step == 0:
            self.attempt(rescore, recheck=recheck, actor=actor)
        elif step == 1:
            self.attempt(evaluation_services.recheck_feedback, recheck=recheck, actor=actor, comment="无异议")
        else:
            self.attempt(evaluation_services.recheck_finalize, recheck=recheck, actor=actor)

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def commission_evaluation(self, p, who, anyone):
        """Finance commissions a key evaluation (executing, evaluating or evaluated; one per project)."""
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        self.attempt(commission, project=project, actor=actor, agency=self.agency, due_at=self.due)

    @having("commissioned")
    @rule(p=PROJECT, who=st.sampled_from(PA_ACTORS + ["leader"]), anyone=ANYONE, step=st.integers(0, 8))
    def act_on_evaluation(self, p, who, anyone, step):
        """One of a key evaluation's steps, by a random person (refused unless it is theirs
        and the evaluation's turn)."""
        ev = self.latest(CommissionedEvaluation, p)
        if ev is not None:
            self.evaluation_step(ev, step, self.actor(who, anyone, ev.project))

    def evaluation_step(self, ev: CommissionedEvaluation, step: int, actor: User) -> None:
        svc = commissioned_services
        if step == 0:
            self.attempt(svc.evaluation_submit_plan, evaluation=ev, actor=actor, framework=FRAMEWORK, plan="评价方案")
        elif step in (1, 2):
            approve = step == 1
            self.attempt(svc.evaluation_review_plan, evaluation=ev, actor=actor, approve=approve, comment="权重需调整")
        elif step == 3:
            self.attempt(svc.evaluation_start_fieldwork, evaluation=ev, actor=actor)
        elif step == 4:
            self.attempt(svc.evaluation_submit_draft, evaluation=ev, actor=actor, note="现场核查", draft_report=pdf())
        elif step == 5:
            self.attempt(svc.evaluation_comment, evaluation=ev, actor=actor, comment="无异议")
        elif step == 6:
            self.attempt(svc.evaluation_draw_panel, evaluation=ev, actor=actor, seed=7)
        elif step == 7:
            agency_staff = self.district.agency_staff
            self.attempt(finalize_evaluation, evaluation=ev, actor=actor, agency_staff=agency_staff)
        else:
            self.attempt(svc.evaluation_approve_disclosure, evaluation=ev, actor=actor)

    #: The step a key evaluation waits for, and who takes it.
    EVALUATION_NEXT = {
        EvaluationStatus.COMMISSIONED: (0, "agency"),
        EvaluationStatus.PLAN_SUBMITTED: (1, "finance"),
        EvaluationStatus.PLAN_APPROVED: (3, "agency"),
        EvaluationStatus.FIELDWORK: (4, "agency"),
        EvaluationStatus.DRAFT_REPORT: (5, "staff"),
        EvaluationStatus.DEPT_COMMENTED: (6, "agency"),
        EvaluationStatus.EXPERT_REVIEW: (7, "agency"),
        EvaluationStatus.FINAL: (8, "finance"),
    }
    RECHECK_NEXT = {
        RecheckStatus.ASSIGNED: (0, "agency"),
        RecheckStatus.RESCORED: (1, "staff"),
        RecheckStatus.FED_BACK: (2, "agency"),
    }

    def the_next_review_step(self, p: int, recheck: bool) -> None:
        """The re-check's (``recheck``) or the key evaluation's next step, by whom it waits for;
        drawn or commissioned first when the project has none."""
        d = self.district
        project = self.project(p)
        if recheck:
            rc = self.latest(Recheck, p)
            if rc is None:
                se = self.latest(SelfEvaluation, p)
                if se is not None and se.status == SelfEvaluationStatus.ACCEPTED:
                    self.attempt(draw_recheck, evaluation=se, actor=d.finance, agency=self.agency, due_at=self.due)
            elif rc.status in self.RECHECK_NEXT:
                step, who = self.RECHECK_NEXT[rc.status]
                self.act_on_recheck_as(rc, step, self.actor(who, 0, project))
            return
        ev = self.latest(CommissionedEvaluation, p)
        if ev is None:
            if project.stage in (ProjectStage.EXECUTING, ProjectStage.EVALUATING, ProjectStage.EVALUATED):
                self.attempt(commission, project=project, actor=d.finance, agency=self.agency, due_at=self.due)
        elif ev.status in self.EVALUATION_NEXT:
            step, who = self.EVALUATION_NEXT[ev.status]
            self.evaluation_step(ev, step, self.actor(who, 0, project))

    def act_on_recheck_as(self, rc: Recheck, step: int, actor: User) -> None:
        if step == 0:
            self.attempt(rescore, recheck=rc, actor=actor)
        elif step == 1:
            self.attempt(evaluation_services.recheck_feedback, recheck=rc, actor=actor, comment="无异议")
        else:
            self.attempt(evaluation_services.recheck_finalize, recheck=rc, actor=actor)

    def the_next_review_steps(self, p: int, recheck: bool, n: int) -> None:
        """Up to ``n`` next steps of the project's re-check or key evaluation."""
        for _ in range(n):
            done = self.done
            self.the_next_review_step(p, recheck)
            if self.done == done:
                return
            self.check_everything()

    take_the_next_review_steps = rule(p=PROJECT, recheck=st.booleans(), n=NEXT)(the_next_review_steps)
    take_the_next_review_steps_2 = rule(p=PROJECT, recheck=st.booleans(), n=NEXT)(the_next_review_steps)

    # -- the step each life waits for ----------------------------------------------------------

    def the_next_step(self, p: int, side: bool) -> None:
        """The step the project waits for, by the person it waits for: so that lives get
        past the intake, the reviews and the sheets within a few steps. In 事前绩效评估 the
        review and the targets go on side by side, and an executing project is monitored or
        evaluated: ``side`` picks the targets, or the evaluation."""
        d = self.district
        project = self.project(p)
        staff, leader = self.actor("staff", 0, project), self.actor("leader", 0, project)
        stage = project.stage
        nxt = {"draft": ("submit", staff), "submitted": ("approve", leader), "budgeted": ("start_execution", d.finance)}
        if stage in nxt:
            action, actor = nxt[stage]
            self.attempt(project_act, project=project, actor=actor, action=action, comment="理由")
        elif stage == "dept_approved":
            self.attempt(project_act, project=project, actor=d.finance, action="route_to_target_review")
        elif stage == ProjectStage.PRE_ASSESSMENT:
            if not (side and self.next_target_step(p, staff, leader)) and not self.next_review_step(p):
                self.next_target_step(p, staff, leader)
        elif stage == ProjectStage.TARGET_REVIEW:
            self.next_target_step(p, staff, leader)
        elif stage == ProjectStage.EXECUTING:
            report = self.latest(MonitoringReport, p)
            if side:
                self.attempt(evaluation_services.campaign_launch, actor=d.finance, fiscal_year=YEAR, due_at=self.due)
            elif report is None:
                self.attempt(round_open, actor=d.finance, fiscal_year=YEAR, end_month=6, due_at=self.due)
            elif report.status == ReportStatus.ISSUED:
                values = report_values(report)
                self.attempt(monitoring_services.report_save_and_submit, report=report, actor=staff, **values)
            elif report.status == ReportStatus.SUBMITTED:
                self.attempt(monitoring_services.report_dept_review, report=report, actor=leader, approve=True)
            elif report.status == ReportStatus.DEPT_APPROVED:
                # every other report warned, so that disposals follow
                decision = "warn" if report.pk % 2 else "clear"
                self.attempt(
                    monitoring_services.report_review, report=report, actor=d.finance, decision=decision, comment="偏差"
                )
            elif report.status == ReportStatus.WARNED:
                disposal = DISPOSALS[report.pk // 2 % len(DISPOSALS)]
                self.attempt(dispose_report, report=report, actor=d.finance, disposal=disposal)
            else:
                self.attempt(evaluation_services.campaign_launch, actor=d.finance, fiscal_year=YEAR, due_at=self.due)
        elif stage == ProjectStage.EVALUATING:
            se = self.latest(SelfEvaluation, p)
            if se is None:
                return
            if se.status == SelfEvaluationStatus.ISSUED:
                values = evaluation_values(se)
                self.attempt(
                    evaluation_services.self_evaluation_save, evaluation=se, actor=staff, submit=True, **values
                )
            elif se.status == SelfEvaluationStatus.SUBMITTED:
                self.attempt(evaluation_services.self_evaluation_dept_review, evaluation=se, actor=leader, approve=True)
            elif se.status == SelfEvaluationStatus.DEPT_APPROVED:
                self.attempt(evaluation_services.self_evaluation_review, evaluation=se, actor=d.finance, accept=True)
        elif stage == ProjectStage.EVALUATED:
            se = self.latest(SelfEvaluation, p)
            if se is not None:
                self.attempt(issue_rectification, evaluation=se, actor=d.finance)
        elif stage == ProjectStage.RECTIFYING:
            rect = self.latest(Rectification, p)
            if rect is None:
                return
            if rect.status == RectificationStatus.ISSUED:
                self.attempt(rectification_services.rectification_acknowledge, rectification=rect, actor=staff)
            elif rect.status == RectificationStatus.ACKNOWLEDGED:
                self.attempt(fill_and_submit_rectification, rectification=rect, actor=staff)
            elif rect.status == RectificationStatus.SUBMITTED:
                self.attempt(
                    rectification_services.rectification_review, rectification=rect, actor=d.finance, verify=True
                )

    def the_next_steps(self, p: int, side: bool, n: int) -> None:
        """Up to ``n`` of the project's next steps, every check run after each."""
        for _ in range(n):
            done = self.done
            self.the_next_step(p, side)
            if self.done == done:
                return  # nothing more it waits for (or the step was refused)
            self.check_everything()

    # drawn as often as eight other rules together, each up to three steps, so that lives
    # go far in an example's few rules; half the time on the example's own projects
    take_the_next_steps = rule(p=PROJECT, side=st.booleans(), n=NEXT)(the_next_steps)
    take_the_next_steps_2 = rule(p=PROJECT, side=st.booleans(), n=NEXT)(the_next_steps)
    take_the_next_steps_3 = rule(p=PROJECT, side=st.booleans(), n=NEXT)(the_next_steps)
    take_the_next_steps_4 = rule(p=PROJECT, side=st.booleans(), n=NEXT)(the_next_steps)
    take_my_next_steps = rule(p=OWN, side=st.booleans(), n=NEXT)(the_next_steps)
    take_my_next_steps_2 = rule(p=OWN, side=st.booleans(), n=NEXT)(the_next_steps)
    take_my_next_steps_3 = rule(p=OWN, side=st.booleans(), n=NEXT)(the_next_steps)
    take_my_next_steps_4 = rule(p=OWN, side=st.booleans(), n=NEXT)(the_next_steps)

    def next_target_step(self, p: int, staff: User, leader: User) -> bool:
        """The targets' next step, if they wait for one; whether one was taken."""
        ts = self.target_set(p)
        if ts is None:
            return False
        if ts.status in ("draft", "returned") and ts.pk not in self.saved:
            self.attempt(target_set_save, target_set=ts, actor=staff, overall_goal="按期完成", rows=TARGET_ROWS)
            self.saved.add(ts.pk)
        elif ts.status in ("draft", "returned"):
            self.attempt(targets_submit, target_set=ts, actor=staff)
        elif ts.status == "submitted":
            self.attempt(targets_dept_review, target_set=ts, actor=leader, approve=True)
        elif ts.status == "dept_approved":
            self.attempt(targets_rate, target_set=ts, actor=self.district.finance, rating="excellent", comment="")
        else:
            return False
        return True

    def next_review_step(self, p: int) -> bool:
        """The pre-assessment's next step, by whom it waits for; whether one was taken."""
        d = self.district
        project = self.project(p)
        pa = self.latest(PreAssessment, p)
        if pa is None or pa.status == PreAssessmentStatus.CANCELLED:
            self.attempt(pre_assessment_begin, project=project, actor=d.finance, agency=self.agency, due_at=self.due)
        elif pa.status == PreAssessmentStatus.INITIATED:
            self.attempt(pa_services.pre_assessment_form_panel, pre_assessment=pa, actor=d.agency_staff, seed=0)
        elif pa.status == PreAssessmentStatus.UNDER_REVIEW:
            waiting = [m for m in self.seated(pa) if m.opinion.status == OpinionStatus.DRAFT]
            if not waiting:
                return False
            self.submit_opinion(waiting[0], waiting[0].user, Conclusion.SUPPORT)
        elif pa.status == PreAssessmentStatus.OPINIONS_COLLECTED:
            self.attempt(
                pa_services.pre_assessment_conclude,
                pre_assessment=pa,
                actor=d.agency_staff,
                conclusion=Conclusion.SUPPORT,
                approved_amount=project.requested_amount,
                reasons="评审结论",
            )
        elif pa.status == PreAssessmentStatus.CONCLUDED:
            self.attempt(pa_services.pre_assessment_confirm, pre_assessment=pa, actor=d.finance)
        else:
            return False
        return True

    # -- after every step ------------------------------------------------------------------

    def check_everything(self) -> None:
        """The invariants, between the steps of one rule (hypothesis runs them after it)."""
        self.every_open_task_matches_its_object()
        self.every_waiting_object_has_its_open_task()
        self.the_audit_chain_verifies()
        self.department_people_see_only_their_department()

    def unchanged_since_checked(self, name: str) -> bool:
        """Whether no action went through since invariant ``name`` last read the database."""
        if self.checked.get(name) == self.done:
            return True
        self.checked[name] = self.done
        return False

    @invariant()
    def every_open_task_matches_its_object(self):
        if self.unchanged_since_checked("every_open_task_matches_its_object"):
            return
        assert find_mismatches() == []

    @invariant()
    def every_waiting_object_has_its_open_task(self):
        """The converse of ``verify_tasks``: nothing waits for a step no one has in their inbox."""
        if self.unchanged_since_checked("every_waiting_object_has_its_open_task"):
            return
        tasks = Task.objects.filter(status__in=OPEN, flow_task_type="HUMAN")
        for (kind, pk), state in self.last.states.items():
            if state not in WAITING.get(kind, ()):
                continue
            if kind == "pre_assessment":
                project = PreAssessment.objects.values_list("project_id", flat=True).get(pk=pk)
                mine = tasks.filter(process__flow_class=PreAssessmentFlow, process__projectprocess__project_id=project)
            else:
                mine = tasks.filter(**{f"process__data__{kind}": pk})  # the flow's key is the kind
            assert mine.exists(), f"{kind} {pk} waits ({state}) with no open task"

    @invariant()
    def the_audit_chain_verifies(self):
        if self.unchanged_since_checked("the_audit_chain_verifies"):
            return
        assert audit_verify() is None

    @invariant()
    def department_people_see_only_their_department(self):
        if self.unchanged_since_checked("department_people_see_only_their_department"):
            return
        for user in self.viewers:
            if user.department_id is not None:
                depts = {self.last.departments[pk] for pk in self.last.seen[user.pk]}
                assert depts <= {user.department_id}, f"{user} sees another department's project"


def expert_library() -> list[User]:
    """Six infrastructure experts and two deputies (of a third department): a panel of five
    with its deputy and three sector experts can always be drawn (tests/processes/
    test_pre_assessment.py's library, without the ones never drawn)."""
    people = []
    for i in range(6):
        user = make_user("expert", username=f"lives_exp{i}")
        ExpertProfile.objects.create(user=user, specialties=["infrastructure"], employer="设计院")
        people.append(user)
    other = DepartmentFactory()
    for i in range(2):
        user = make_user("deputy", other, username=f"lives_dep{i}")
        DeputyProfile.objects.create(user=user, delegation="荔湾区代表团")
        people.append(user)
    return people


def seed_projects(district: District) -> list[int]:
    """Six projects further in their lives, by the real services:

    * in 事前绩效评估 (dept B), not yet commissioned;
    * in 事前绩效评估 (dept A), its panel drawn and three of five opinions in (the quorum),
      its targets approved: two opinions, the conclusion and the confirmation budget it;
    * executing (dept B), a key evaluation of it commissioned;
    * evaluating (dept A), its self-evaluation to fill in;
    * evaluated (dept A), its self-evaluation accepted and sampled for a re-check;
    * rectifying (dept B), its rectification acknowledged.
    """
    d = district
    evaluated = d.project(ProjectStage.EXECUTING, dept="a")
    rectifying = d.project(ProjectStage.EXECUTING, dept="b")
    evaluating = d.project(ProjectStage.EXECUTING, dept="a")
    due = timezone.now() + timedelta(days=30)
    for se in evaluation_services.campaign_launch(actor=d.finance, fiscal_year=YEAR, due_at=due).created:
        if se.project_id == evaluating.pk:
            continue  # its department has yet to fill it in
        mine = se.project.department_id == d.dept_a.pk
        staff, leader = (d.staff_a, d.leader_a) if mine else (d.staff_b, d.leader_b)
        se = evaluation_services.self_evaluation_save(evaluation=se, actor=staff, submit=True, **evaluation_values(se))
        se = evaluation_services.self_evaluation_dept_review(evaluation=se, actor=leader, approve=True)
        evaluation_services.self_evaluation_review(evaluation=se, actor=d.finance, accept=True)
    draw_recheck(
        evaluation=SelfEvaluation.objects.get(project=evaluated),
        actor=d.finance,
        agency=d.agency_staff.agency,
        due_at=due,
    )
    rect = issue_rectification(evaluation=SelfEvaluation.objects.get(project=rectifying), actor=d.finance)
    rectification_services.rectification_acknowledge(rectification=rect, actor=d.staff_b)
    executing = d.project(ProjectStage.EXECUTING, dept="b")
    commission(project=executing, actor=d.finance, agency=d.agency_staff.agency, due_at=due)
    fresh = d.project(ProjectStage.PRE_ASSESSMENT, dept="b")
    reviewing = d.project(ProjectStage.PRE_ASSESSMENT, dept="a")
    d.approve_targets(reviewing)
    pa = pre_assessment_begin(project=reviewing, actor=d.finance, agency=d.agency_staff.agency, due_at=due)
    pa = pa_services.pre_assessment_form_panel(pre_assessment=pa, actor=d.agency_staff, seed=0)
    for member in list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("opinion"))[:3]:
        pa_services.opinion_save(
            opinion=member.opinion,
            actor=member.user,
            scores=FULL_SCORES,
            recommendation=Conclusion.SUPPORT,
            recommended_amount=str(reviewing.requested_amount),
            submit=True,
        )
    seeds = [fresh.pk, reviewing.pk, executing.pk, evaluating.pk, evaluated.pk, rectifying.pk]
    stages = dict(BudgetProject.objects.filter(pk__in=seeds).values_list("pk", "stage"))
    assert [stages[pk] for pk in seeds] == [
        ProjectStage.PRE_ASSESSMENT,
        ProjectStage.PRE_ASSESSMENT,
        ProjectStage.EXECUTING,
        ProjectStage.EVALUATING,
        ProjectStage.EVALUATED,
        ProjectStage.RECTIFYING,
    ]
    return seeds


@pytest.mark.deep
def test_projects_keep_tasks_audit_and_visibility_consistent_when_driven_by_random_people(db):
    district = District()
    agency = AgencyFactory()
    User.objects.filter(pk=district.agency_staff.pk).update(agency=agency)
    district.agency_staff = User.objects.get(pk=district.agency_staff.pk)
    ProjectLives.district = district
    ProjectLives.library = expert_library()
    ProjectLives.seeds = seed_projects(district)
    ProjectLives.reached, ProjectLives.refusals, ProjectLives.steps = set(), 0, 0
    ProjectLives.outcomes = Counter()
    cpu, wall = time.process_time(), time.perf_counter()
    run_state_machine_as_test(
        ProjectLives,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # the run went somewhere: lives reached past the intake, and people were refused too
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"\n{EXAMPLES} examples in {wall:.0f} s ({cpu:.0f} s CPU), {ProjectLives.steps} actions, {ProjectLives.refusals} refused; reached {sorted(ProjectLives.reached)}"
    )
    print("\n".join(f"  {n:5} {what}" for what, n in sorted(ProjectLives.outcomes.items())))
    assert ProjectLives.refusals > 0
    assert {
        ("project", "target_review"),
        ("targets", "dept_approved"),
        ("pre_assessment", "initiated"),
        ("opinion", "submitted"),
        ("report", "submitted"),
        ("self_evaluation", "submitted"),
        ("rectification", "verified"),
        ("project", "closed"),
    } <= ProjectLives.reached
