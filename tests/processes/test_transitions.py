"""Every transition of every FSM field of every model, generated from the declarations
(processes.transitions.declared_transitions) when the tests are collected.

For each transition:

* it is declared (``declare(...)`` or ``system(...)`` in its ``custom=``): a transition
  added later without a declaration fails ``test_every_transition_is_declared``;
* for each role it declares, from each of its source states, ``apply`` succeeds and writes
  exactly one audit row carrying the actor's own role, and exactly the declared notices —
  what ``tells`` (and the flow step the workflows registered) returned, minus the actor,
  once each, under the audit row's key, delivered only after the commit; a rolled-back
  application leaves neither rows nor deliveries. A ``system(...)`` transition is applied
  with the role it inherits from the step that causes it;
* for every role it does not declare, and from every state that is not one of its
  sources, it is refused (PermissionDenied / ActionNotAllowed) and nothing is written,
  notified or moved in a flow.

The test drives the engine, not the services: objects are built directly (BUILDERS) and
put in a state with ``update()``; the transitions' conditions (approved targets, a
confirmed pre-assessment — data the services build) are held true, and a transition's
arguments come from ARGUMENTS (a transition missing from it fails). A new lifecycle model
needs a builder here; a new transition with arguments needs its row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from accounts.models import Agency, Department, User
from accounts.roles import Role
from notifications.models import Notification
from notifications.services import deliver
from processes import transitions as engine
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject
from processes.transitions import Declared, declared_transitions, sources_of
from tests.conftest import District
from tests.factories import AgencyFactory, BudgetProjectFactory, make_user

pytestmark = pytest.mark.django_db

ALL = declared_transitions()
#: The role a system() transition is applied under in these tests (it inherits the
#: causing step's; the finance section's steps cause most of them).
INHERITED = Role.FINANCE_OFFICER.value
COMMENT = "测试意见：依据材料审核。"


def _id(d: Declared) -> str:
    return f"{d.model.__name__}.{d.name}"


# -- the world every transition is taken in ------------------------------------------------


FISCAL_YEAR = 2021


@dataclass
class World:
    """The test district (tests/conftest.py: department A with its staff and leaders, the
    bureau's roles), an agency, and one user per role, each attached where their permission
    looks: department roles to department A, agency staff to the agency, experts and
    deputies seated on the panels the builders form."""

    district: District
    department: Department
    other_department: Department
    agency: Agency
    users: dict[str, User]
    made: int = 0

    def user(self, role: str) -> User:
        return self.users[role]

    def new_project(self) -> BudgetProject:
        """A fresh draft project of the department: every object built gets its own."""
        self.made += 1
        return BudgetProjectFactory(
            department=self.department,
            created_by=self.user(Role.DEPT_STAFF),
            fiscal_year=FISCAL_YEAR,
            code=f"{FISCAL_YEAR}-T{self.made:04d}",
        )


def make_world() -> World:
    d = District()
    agency = AgencyFactory()
    User.objects.filter(pk=d.agency_staff.pk).update(agency=agency)
    d.agency_staff = User.objects.get(pk=d.agency_staff.pk)
    users = {
        Role.DEPT_STAFF.value: d.staff_a,
        Role.DEPT_LEADER.value: d.leader_a,
        Role.FINANCE_OFFICER.value: d.finance,
        Role.SUPERVISOR.value: d.supervisor,
        Role.EXPERT.value: d.expert,
        Role.DEPUTY.value: d.deputy,
        Role.AGENCY_STAFF.value: d.agency_staff,
        Role.AUDITOR.value: d.auditor,
        Role.SYSADMIN.value: d.sysadmin,
        Role.CONGRESS_READER.value: d.congress,
    }
    assert set(users) == set(Role.values), "a role without a user in the test world"
    return World(d, d.dept_a, d.dept_b, agency, users)


@pytest.fixture
def world(db) -> World:
    return make_world()


def _due():
    return timezone.now() + timedelta(days=10)


def _seat_panel(member_model, parent_field: str, parent, world: World, seat: User | None) -> None:
    """Seat the expert and the deputy (and ``seat``, if an expert or deputy) on a panel."""
    people = [world.user(Role.EXPERT), world.user(Role.DEPUTY)]
    if seat is not None and seat not in people and seat.role_names & {Role.EXPERT, Role.DEPUTY}:
        people.append(seat)
    for n, user in enumerate(people, start=1):
        kind = "deputy" if Role.DEPUTY in user.role_names else "expert"
        member_model.objects.create(**{parent_field: parent}, user=user, kind=kind, seat=n)


def build_project(world: World, seat: User | None):
    return world.new_project()


def build_pre_assessment(world: World, seat: User | None):
    """A pre-assessment with its panel seated, each seat with its (draft) opinion, as the
    draw leaves them."""
    from processes.models import Opinion, PanelMember, PreAssessment

    pa = PreAssessment.objects.create(
        project=world.new_project(), agency=world.agency, due_at=_due(), initiated_by=world.user(Role.FINANCE_OFFICER)
    )
    _seat_panel(PanelMember, "pre_assessment", pa, world, seat)
    for member in PanelMember.objects.filter(pre_assessment=pa):
        Opinion.objects.create(member=member)
    return pa


def build_opinion(world: World, seat: User | None):
    from processes.models import Opinion

    pa = build_pre_assessment(world, seat)
    owner = seat if seat is not None and seat.role_names & {Role.EXPERT, Role.DEPUTY} else world.user(Role.EXPERT)
    return Opinion.objects.get(member__pre_assessment=pa, member__user=owner)


def build_target_set(world: World, seat: User | None):
    from processes.models import TargetSet

    return TargetSet.objects.create(project=world.new_project(), number=1, created_by=world.user(Role.DEPT_STAFF))


def build_monitoring_report(world: World, seat: User | None):
    from processes.models import MonitoringReport, MonitoringRound

    rnd, _ = MonitoringRound.objects.get_or_create(
        fiscal_year=FISCAL_YEAR,
        start_month=1,
        end_month=6,
        defaults={"title": "测试监控", "due_at": _due(), "opened_by": world.user(Role.FINANCE_OFFICER)},
    )
    return MonitoringReport.objects.create(round=rnd, project=world.new_project())


def _campaign(world: World):
    from processes.models import EvaluationCampaign

    campaign, _ = EvaluationCampaign.objects.get_or_create(
        fiscal_year=FISCAL_YEAR,
        defaults={"title": "测试评价", "due_at": _due(), "launched_by": world.user(Role.FINANCE_OFFICER)},
    )
    return campaign


def build_self_evaluation(world: World, seat: User | None):
    from processes.models import SelfEvaluation

    return SelfEvaluation.objects.create(campaign=_campaign(world), project=world.new_project())


def build_recheck(world: World, seat: User | None):
    from processes.models import Recheck, RecheckSample

    se = build_self_evaluation(world, seat)
    sample = RecheckSample.objects.create(
        campaign=se.campaign,
        agency=world.agency,
        method="manual",
        due_at=_due(),
        created_by=world.user(Role.FINANCE_OFFICER),
    )
    return Recheck.objects.create(sample=sample, self_evaluation=se, project=se.project)


def build_commissioned(world: World, seat: User | None):
    from processes.models import CommissionedEvaluation, EvaluationPanelMember
    from processes.states import EvaluationKind

    ev = CommissionedEvaluation.objects.create(
        kind=EvaluationKind.KEY,
        fiscal_year=FISCAL_YEAR,
        department=world.department,
        project=world.new_project(),
        agency=world.agency,
        title="测试重点评价",
        due_at=_due(),
        commissioned_by=world.user(Role.FINANCE_OFFICER),
    )
    _seat_panel(EvaluationPanelMember, "evaluation", ev, world, seat)
    return ev


def build_rectification(world: World, seat: User | None):
    from processes.models import Rectification

    deadline = timezone.now() + timedelta(days=30)
    return Rectification.objects.create(
        department=world.department,
        project=world.new_project(),
        title="测试整改",
        deadline=deadline,
        original_deadline=deadline,
        issued_by=world.user(Role.FINANCE_OFFICER),
    )


def build_results_decision(world: World, seat: User | None):
    from processes.models import ResultsDecision

    graded = world.new_project()
    return ResultsDecision.objects.create(
        project=world.new_project(),
        graded_project=graded,
        grade="fair",
        grade_source="self",
        recommendation="cut",
        cut_percent=Decimal("10"),
        requested_amount=Decimal("1000000.00"),
        proposed_amount=Decimal("900000.00"),
    )


def build_extension(world: World, seat: User | None):
    from processes.models import DeadlineExtension

    rect = build_rectification(world, seat)
    return DeadlineExtension.objects.create(
        rectification=rect,
        reason="材料尚未齐备。",
        proposed_deadline=rect.deadline + timedelta(days=15),
        old_deadline=rect.deadline,
        requested_by=world.user(Role.DEPT_STAFF),
    )


def build_committee_item(world: World, seat: User | None):
    """An item of a committee opinion: assigned to the department, or to the finance bureau
    when the one about to act is the finance section (who answers for the bureau's items)."""
    from processes.models import CommitteeOpinion, CommitteeOpinionItem

    opinion = CommitteeOpinion.objects.create(
        fiscal_year=FISCAL_YEAR,
        title="测试审议意见",
        text="测试审议意见正文。",
        session_date=timezone.localdate(),
        recorded_by=world.user(Role.FINANCE_OFFICER),
    )
    bureau = seat is not None and Role.FINANCE_OFFICER in seat.role_names
    return CommitteeOpinionItem.objects.create(
        opinion=opinion,
        position=1,
        requirement="测试审议意见事项。",
        department=None if bureau else world.department,
        deadline=timezone.now() + timedelta(days=30),
    )


#: model label → a function building one object of it (in its default state) in the world;
#: ``seat`` is the user about to act, for objects whose permission is a panel seat.
BUILDERS: dict[str, Callable[[World, User | None], models.Model]] = {
    "processes.budgetproject": build_project,
    "processes.preassessment": build_pre_assessment,
    "processes.opinion": build_opinion,
    "processes.targetset": build_target_set,
    "processes.monitoringreport": build_monitoring_report,
    "processes.selfevaluation": build_self_evaluation,
    "processes.recheck": build_recheck,
    "processes.commissionedevaluation": build_commissioned,
    "processes.rectification": build_rectification,
    "processes.deadlineextension": build_extension,
    "processes.resultsdecision": build_results_decision,
    "processes.committeeopinionitem": build_committee_item,
}

# -- states reached through the services, where a flow waits ----------------------------
#
# A transition with a flow step completes the task its source state waits for, so an
# object put in that state with update() has no task to complete. For those states the
# object is brought there the way a person would (REACH); every other state is set with
# update(). A lifecycle whose flow step needs its task adds its states here.


def _service(*candidates: tuple[str, str]):
    """The first of (module, name) that exists: the workflows wrapper while a lifecycle
    still has one, else the processes service that moves its flow itself."""
    from importlib import import_module

    for module, name in candidates:
        found = getattr(import_module(module), name, None)
        if found is not None:
            return found
    raise LookupError(f"none of {candidates} exists")


def reach_project(world: World, state: str, seat: User | None):
    from processes.services.projects import project_transition

    path = {
        "draft": [],
        "submitted": [("submit", Role.DEPT_STAFF)],
        "dept_approved": [("submit", Role.DEPT_STAFF), ("approve", Role.DEPT_LEADER)],
    }
    if state not in path:
        return None
    project = world.new_project()
    for name, role in path[state]:
        project = project_transition(project=project, actor=world.user(role), name=name, comment=COMMENT)
    return project


def reach_target_set(world: World, state: str, seat: User | None):
    from processes.models import TargetSet
    from processes.services.projects import project_transition
    from processes.services.targets import target_set_save
    from tests.conftest import TARGET_ROWS

    path = {
        "draft": [],
        "submitted": ["save", "submit"],
        "dept_approved": ["save", "submit", "dept_approve"],
        "returned": ["save", "submit", "dept_approve", "rate_fair"],
    }
    if state not in path:
        return None
    project = reach_project(world, "dept_approved", seat)
    project_transition(project=project, actor=world.user(Role.FINANCE_OFFICER), name="route_to_target_review")
    target_set = TargetSet.objects.get(project=project, status="draft")
    staff, leader, finance = (world.user(r) for r in (Role.DEPT_STAFF, Role.DEPT_LEADER, Role.FINANCE_OFFICER))
    for step in path[state]:
        if step == "save":
            target_set = target_set_save(target_set=target_set, actor=staff, overall_goal="按期完成", rows=TARGET_ROWS)
        elif step == "submit":
            submit = _service(("workflows.services", "targets_submit"), ("processes.services.targets", "target_submit"))
            target_set = submit(target_set=target_set, actor=staff)
        elif step == "dept_approve":
            review = _service(
                ("workflows.services", "targets_dept_review"), ("processes.services.targets", "target_dept_review")
            )
            target_set = review(target_set=target_set, actor=leader, approve=True, comment=COMMENT)
        elif step == "rate_fair":
            rate = _service(("workflows.services", "targets_rate"), ("processes.services.targets", "target_rate"))
            target_set = rate(target_set=target_set, actor=finance, rating="fair", comment=COMMENT)
    return target_set


def _executing(world: World) -> BudgetProject:
    """A project of department A with approved targets, its budget issued (the real path)."""
    from processes.services.projects import project_transition
    from processes.states import ProjectStage

    project = world.district.project(ProjectStage.BUDGETED)
    return project_transition(project=project, actor=world.user(Role.FINANCE_OFFICER), name="start_execution")


def reach_monitoring_report(world: World, state: str, seat: User | None):
    from processes.models import MonitoringReport
    from processes.services.monitoring import approved_rows, report_save

    path = {
        "issued": [],
        "submitted": ["submit"],
        "dept_approved": ["submit", "dept_approve"],
        "warned": ["submit", "dept_approve", "warn"],
    }
    if state not in path:
        return None
    project = _executing(world)
    open_round = _service(
        ("workflows.services", "monitoring_round_open"), ("processes.services.monitoring", "round_open")
    )
    opened = open_round(actor=world.user(Role.FINANCE_OFFICER), fiscal_year=FISCAL_YEAR, end_month=6, due_at=_due())
    report = MonitoringReport.objects.get(round=opened.round, project=project)
    staff, leader, finance = (world.user(r) for r in (Role.DEPT_STAFF, Role.DEPT_LEADER, Role.FINANCE_OFFICER))
    for step in path[state]:
        if step == "submit":
            indicators = [
                {"target_row": row.pk, "likelihood": "certain"}
                | ({"progress": "achieved"} if row.direction == "qualitative" else {"value": row.target_value})
                for row in approved_rows(project)
            ]
            report = report_save(
                report=report,
                actor=staff,
                budget="1200000",
                executed="600000",
                expected_full_year="1200000",
                deviation_causes="",
                measures="",
                indicators=indicators,
            )
            submit = _service(
                ("workflows.services", "monitoring_submit"), ("processes.services.monitoring", "report_submit")
            )
            report = submit(report=report, actor=staff)
        elif step == "dept_approve":
            review = _service(
                ("workflows.services", "monitoring_dept_review"),
                ("processes.services.monitoring", "report_dept_review"),
            )
            report = review(report=report, actor=leader, approve=True, comment=COMMENT)
        elif step == "warn":
            review = _service(
                ("workflows.services", "monitoring_review"), ("processes.services.monitoring", "report_review")
            )
            report = review(report=report, actor=finance, decision="warn", comment=COMMENT)
    return report


def reach_self_evaluation(world: World, state: str, seat: User | None):
    from processes.models import SelfEvaluation
    from processes.services.evaluation import approved_rows, self_evaluation_save

    path = {"issued": [], "submitted": ["submit"], "dept_approved": ["submit", "dept_approve"]}
    if state not in path:
        return None
    project = _executing(world)
    launch = _service(("workflows.services", "campaign_launch"), ("processes.services.evaluation", "campaign_launch"))
    launch(actor=world.user(Role.FINANCE_OFFICER), fiscal_year=FISCAL_YEAR, due_at=_due())
    evaluation = SelfEvaluation.objects.get(project=project)
    staff, leader = world.user(Role.DEPT_STAFF), world.user(Role.DEPT_LEADER)
    for step in path[state]:
        if step == "submit":
            lines = [
                {"target_row": row.pk, "deviation_reason": "征地滞后", "measure": "加快进度"}
                | (
                    {"band": "achieved", "band_pct": "100"}
                    if row.direction == "qualitative"
                    else {"actual": row.target_value}
                )
                for row in approved_rows(project)
            ]
            evaluation = self_evaluation_save(
                evaluation=evaluation, actor=staff, lines=lines, executed="1200000", summary="总体完成"
            )
            submit = _service(
                ("workflows.services", "self_evaluation_submit"),
                ("processes.services.evaluation", "self_evaluation_submit"),
            )
            evaluation = submit(evaluation=evaluation, actor=staff)
        elif step == "dept_approve":
            review = _service(
                ("workflows.services", "self_evaluation_dept_review"),
                ("processes.services.evaluation", "self_evaluation_dept_review"),
            )
            evaluation = review(evaluation=evaluation, actor=leader, approve=True, comment=COMMENT)
    return evaluation


#: (model label, state) → what an object in that state always carries besides its state
#: (a concluded pre-assessment has its conclusion), written with the state by update().
STATE_DATA: dict[tuple[str, str], dict[str, Any]] = {
    **{
        ("processes.preassessment", state): {
            "conclusion": "partial",
            "approved_amount": Decimal("1000000.00"),
            "conclusion_reasons": "测试结论理由。",
        }
        for state in ("concluded", "confirmed")
    },
}

#: model label → a function bringing a new object to a state through the services (None
#: when it does not, then the state is set with update()).
REACH: dict[str, Callable[[World, str, User | None], models.Model | None]] = {
    "processes.budgetproject": reach_project,
    "processes.targetset": reach_target_set,
    "processes.monitoringreport": reach_monitoring_report,
    "processes.selfevaluation": reach_self_evaluation,
}

_comment = {"comment": COMMENT}

#: (model label, transition) → the keyword arguments of the transition method. Every
#: transition has a row, even with no arguments: a missing one fails the test, so a new
#: transition's author says what a sample call looks like.
ARGUMENTS: dict[tuple[str, str], dict[str, Any]] = {
    **{
        ("processes.budgetproject", name): {}
        for name in (
            "submit",
            "withdraw",
            "cancel",
            "send_back",
            "approve",
            "route_to_pre_assessment",
            "route_to_target_review",
            "approve_targets",
            "reject",
            "start_execution",
            "start_evaluation",
            "complete_evaluation",
            "open_rectification",
            "close",
            "close_out",
        )
    },
    ("processes.budgetproject", "await_targets"): {"approved_amount": Decimal("1000000.00")},
    ("processes.budgetproject", "confirm_pre_assessment"): {"approved_amount": Decimal("1000000.00")},
    ("processes.budgetproject", "register_policy"): {},
    ("processes.budgetproject", "adopt_policy"): {"approved_amount": Decimal("1000000.00")},
    ("processes.preassessment", "form_panel"): {"seed": 7, "pool": []},
    ("processes.preassessment", "open_review"): {},
    ("processes.preassessment", "collect"): {},
    ("processes.preassessment", "conclude"): {
        "conclusion": "support",
        "approved_amount": Decimal("1000000.00"),
        "reasons": "测试结论理由。",
    },
    ("processes.preassessment", "confirm"): {},
    ("processes.preassessment", "send_back"): {},
    ("processes.preassessment", "cancel"): {},
    ("processes.opinion", "submit"): {},
    ("processes.opinion", "expire"): {},
    ("processes.opinion", "withdraw"): {},
    ("processes.targetset", "submit"): {},
    ("processes.targetset", "dept_approve"): _comment,
    ("processes.targetset", "dept_return"): _comment,
    ("processes.targetset", "approve"): {"rating": "good", "comment": COMMENT},
    ("processes.targetset", "reject"): _comment,
    ("processes.targetset", "send_back"): _comment,
    ("processes.targetset", "supersede"): {},
    ("processes.targetset", "cancel"): {},
    ("processes.monitoringreport", "submit"): {},
    ("processes.monitoringreport", "dept_approve"): _comment,
    ("processes.monitoringreport", "dept_return"): _comment,
    ("processes.monitoringreport", "send_back"): _comment,
    ("processes.monitoringreport", "clear"): _comment,
    ("processes.monitoringreport", "warn"): _comment,
    ("processes.monitoringreport", "dispose"): {"disposal": "adjust", "reason": "测试处置理由。"},
    ("processes.monitoringreport", "cancel"): {},
    ("processes.selfevaluation", "submit"): {},
    ("processes.selfevaluation", "dept_approve"): _comment,
    ("processes.selfevaluation", "dept_return"): _comment,
    ("processes.selfevaluation", "send_back"): _comment,
    ("processes.selfevaluation", "accept"): _comment,
    ("processes.selfevaluation", "cancel"): {},
    ("processes.recheck", "rescore"): {"opinion": "测试复核意见。"},
    ("processes.recheck", "feed_back"): _comment,
    ("processes.recheck", "finalize"): {"score": Decimal("88.00"), "grade": "good"},
    ("processes.commissionedevaluation", "submit_plan"): {"framework": {}, "plan": "测试评价方案。"},
    ("processes.commissionedevaluation", "approve_plan"): _comment,
    ("processes.commissionedevaluation", "return_plan"): _comment,
    ("processes.commissionedevaluation", "start_fieldwork"): {},
    ("processes.commissionedevaluation", "submit_draft"): {"note": "测试说明。"},
    ("processes.commissionedevaluation", "comment"): _comment,
    ("processes.commissionedevaluation", "open_review"): {"seed": 7, "pool": []},
    ("processes.commissionedevaluation", "finalize"): {
        "scores": {},
        "score": Decimal("88.00"),
        "grade": "good",
        "conclusion": "测试评价结论。",
    },
    ("processes.commissionedevaluation", "return_final"): _comment,
    ("processes.commissionedevaluation", "publish"): {},
    ("processes.rectification", "acknowledge"): {},
    ("processes.rectification", "submit"): {},
    ("processes.rectification", "verify"): _comment,
    ("processes.rectification", "reject"): _comment,
    ("processes.deadlineextension", "grant"): {"new_deadline": timezone.now() + timedelta(days=45), "comment": COMMENT},
    ("processes.deadlineextension", "refuse"): _comment,
    ("processes.resultsdecision", "accept"): {},
    ("processes.resultsdecision", "override"): {"amount": Decimal("950000.00"), "comment": COMMENT},
    ("processes.committeeopinionitem", "respond"): {"response": "测试落实情况。"},
    ("processes.committeeopinionitem", "accept"): _comment,
    ("processes.committeeopinionitem", "send_back"): _comment,
}


# -- helpers -----------------------------------------------------------------------------


def states_of(d: Declared) -> list[str]:
    return [str(value) for value, _label in d.model._meta.get_field(d.field).choices]


def sources(d: Declared) -> list[str]:
    """The declared source states, ``*`` and ``+`` spelled out."""
    found = sources_of(d.model, d.name)
    if "*" in found:
        return states_of(d)
    if "+" in found:
        return [s for s in states_of(d) if s != str(d.transition.target)]
    return [str(s) for s in found]


def wrong_states(d: Declared) -> list[str]:
    return [s for s in states_of(d) if s not in sources(d)]


def builder_of(d: Declared) -> Callable[[World, User | None], models.Model]:
    label = d.model._meta.label_lower
    if label not in BUILDERS:
        pytest.fail(f"{label} has state machines but no builder in tests/processes/test_transitions.py BUILDERS")
    return BUILDERS[label]


def arguments_of(d: Declared) -> dict[str, Any]:
    key = (d.model._meta.label_lower, d.name)
    if key not in ARGUMENTS:
        params = list(inspect.signature(getattr(d.model, d.name)).parameters)[1:]
        pytest.fail(f"{key} has no sample arguments in ARGUMENTS (its parameters: {params or 'none'})")
    return dict(ARGUMENTS[key])


def build_in(world: World, d: Declared, state: str, seat: User | None) -> models.Model:
    reach = REACH.get(d.model._meta.label_lower)
    reached = reach(world, state, seat) if reach is not None else None
    if reached is not None:
        assert getattr(reached, d.field) == state, f"REACH brought {reached} to {getattr(reached, d.field)}"
        return type(reached)._default_manager.get(pk=reached.pk)
    obj = builder_of(d)(world, seat)
    data = STATE_DATA.get((d.model._meta.label_lower, state), {})
    type(obj)._default_manager.filter(pk=obj.pk).update(**{d.field: state}, **data)
    return type(obj)._default_manager.get(pk=obj.pk)


def hold_conditions_true(monkeypatch, d: Declared) -> None:
    """The transition's conditions are data the services build (their own tests cover
    them): here they hold."""
    meta = getattr(d.model, d.name)._django_fsm
    for t in meta.transitions.values():
        monkeypatch.setattr(t, "conditions", [])


def audit_rows(obj: models.Model):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


def snapshot(obj: models.Model, d: Declared) -> dict[str, Any]:
    """What a refused transition must leave as it was."""
    return {
        "state": type(obj)._default_manager.values_list(d.field, flat=True).get(pk=obj.pk),
        "audit": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "tasks": sorted(Task.objects.values_list("pk", "status")),
    }


def apply_kwargs(d: Declared, inherited: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"comment": COMMENT, "arguments": arguments_of(d)}
    if inherited:
        kwargs["role"] = INHERITED
    return kwargs


class Told:
    """What the declaration's ``tells`` and the registered flow step returned, captured
    as the engine calls them (the engine delivers exactly these, minus the actor)."""

    def __init__(self, monkeypatch, d: Declared):
        self.recipients: list[User] = []
        tells = d.custom.get("tells")
        if tells is not None:

            def capturing_tells(step, _tells=tells):
                out = _tells(step)
                self.recipients.extend(out)
                return out

            monkeypatch.setitem(d.custom, "tells", capturing_tells)
        real_flow_step_of = engine.flow_step_of

        def flow_step_of(model, name):
            step_fn = real_flow_step_of(model, name)
            if step_fn is None or (model, name) != (d.model, d.name):
                return step_fn

            def capturing_step(step):
                out = step_fn(step)
                self.recipients.extend(out)
                return out

            return capturing_step

        monkeypatch.setattr(engine, "flow_step_of", flow_step_of)


# -- the parameters ----------------------------------------------------------------------


def _allowed_cases():
    for d in ALL:
        if not d.declared:
            yield pytest.param(d, "", "", id=f"{_id(d)}-undeclared")
            continue
        roles = list(d.roles) if d.is_action else [""]
        for role in roles:
            for source in sources(d):
                yield pytest.param(d, role, source, id=f"{_id(d)}-{role or 'system'}-from-{source}")


# -- (a) every transition is declared ----------------------------------------------------


def test_there_are_state_machines_to_check():
    assert {d.model._meta.label_lower for d in ALL} >= {
        "processes.budgetproject",
        "processes.preassessment",
        "processes.targetset",
        "processes.monitoringreport",
        "processes.selfevaluation",
        "processes.recheck",
        "processes.commissionedevaluation",
        "processes.rectification",
    }


@pytest.mark.parametrize("d", ALL, ids=_id)
def test_every_transition_is_declared(d: Declared):
    assert d.declared, (
        f"{_id(d)} has no declaration: give its @transition a custom=declare(...) or system(...) "
        "(processes/transitions.py) with who may take it and who is told, or why nobody is"
    )
    custom = d.custom
    assert str(custom["label"]).strip(), f"{_id(d)}: a declaration needs a label"
    assert (custom["tells"] is None) != (custom["silent"] is None)
    if custom["silent"] is not None:
        assert str(custom["silent"]).strip(), f"{_id(d)}: silent needs its reason"
    if d.is_action:
        assert d.roles and set(d.roles) <= set(Role.values), f"{_id(d)}: roles must be known roles"
        assert d.transition.permission is not None, f"{_id(d)}: a person's transition needs permission="
    assert (d.model._meta.label_lower, d.name) in ARGUMENTS, f"{_id(d)}: add its sample arguments to ARGUMENTS"
    assert d.model._meta.label_lower in BUILDERS, f"{d.model._meta.label_lower}: add a builder to BUILDERS"


# -- (b) each declared role, from each source ---------------------------------------------


@pytest.mark.parametrize(("d", "role", "source"), list(_allowed_cases()))
def test_transition_is_audited_under_the_actors_role_and_tells_exactly_the_declared_people_when_taken(
    d: Declared, role: str, source: str, world: World, monkeypatch, django_capture_on_commit_callbacks
):
    assert d.declared, f"{_id(d)} has no declaration"
    hold_conditions_true(monkeypatch, d)
    actor = world.user(role or INHERITED)
    obj = build_in(world, d, source, actor)
    before_audit = set(audit_rows(obj).values_list("pk", flat=True))
    before_notices = Notification.objects.count()
    told = Told(monkeypatch, d)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = engine.apply(obj, d.name, actor=actor, **apply_kwargs(d, inherited=not role))

    # the state moved to the declared target
    assert getattr(result, d.field) == str(d.transition.target)
    stored = type(obj)._default_manager.values_list(d.field, flat=True).get(pk=obj.pk)
    assert stored == str(d.transition.target)
    # one audit row, under the actor's own role
    new = list(audit_rows(obj).exclude(pk__in=before_audit))
    assert len(new) == 1, f"{_id(d)} wrote {len(new)} audit rows for the object"
    event = new[0]
    assert event.actor_id == actor.pk
    assert event.actor_role == (role or INHERITED)
    assert event.action == d.audit_action
    assert (event.from_state, event.to_state) == (source, str(d.transition.target))
    # exactly the declared notices, once each, the actor never among them
    expected = {u.pk for u in told.recipients if u is not None and u.is_active and u.pk != actor.pk}
    rows = Notification.objects.filter(event_key=f"audit:{event.sequence}")
    recipients = list(rows.values_list("recipient_id", flat=True))
    assert sorted(recipients) == sorted(expected), f"{_id(d)}: told {recipients}, declared {sorted(expected)}"
    assert Notification.objects.count() - before_notices == len(expected), "notices outside the step's key"
    if d.custom["tells"] is not None:
        assert expected, f"{_id(d)} declares tells= but told nobody in a world with a user of every role"
    # delivered after the commit only
    deliveries = [cb for cb in callbacks if getattr(cb, "func", None) is deliver]
    if expected:
        assert len(deliveries) == 1 and sorted(deliveries[0].args[0]) == sorted(rows.values_list("pk", flat=True))
    else:
        assert deliveries == []


def _first_cases():
    seen: set[str] = set()
    for case in _allowed_cases():
        d = case.values[0]
        if _id(d) not in seen:
            seen.add(_id(d))
            yield case


@pytest.mark.parametrize(("d", "role", "source"), list(_first_cases()))
def test_transition_leaves_nothing_when_its_transaction_rolls_back(
    d: Declared, role: str, source: str, world: World, monkeypatch, django_capture_on_commit_callbacks
):
    assert d.declared, f"{_id(d)} has no declaration"
    hold_conditions_true(monkeypatch, d)
    actor = world.user(role or INHERITED)
    obj = build_in(world, d, source, actor)
    before = snapshot(obj, d)

    class Rollback(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback), transaction.atomic():
            engine.apply(obj, d.name, actor=actor, **apply_kwargs(d, inherited=not role))
            raise Rollback

    assert snapshot(obj, d) == before
    assert callbacks == []


# -- (c) refused: a role it does not declare, a state it does not start from ---------------


@pytest.mark.parametrize("d", ALL, ids=_id)
def test_transition_is_refused_and_writes_nothing_when_the_role_is_not_declared(
    d: Declared, world: World, monkeypatch, django_capture_on_commit_callbacks
):
    assert d.declared, f"{_id(d)} has no declaration"
    if not d.is_action:
        # no person takes it: no screen or API offers it, and `available` never lists it
        for role in Role.values:
            obj = build_in(world, d, sources(d)[0], world.user(role))
            assert d.name not in {a.name for a in engine.available(obj, world.user(role))}
        return
    hold_conditions_true(monkeypatch, d)
    others = [r for r in Role.values if r not in d.roles]
    assert others, f"{_id(d)}: every role may take it?"
    for role in others:
        actor = world.user(role)
        obj = build_in(world, d, sources(d)[0], actor)
        before = snapshot(obj, d)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(PermissionDenied):
                engine.apply(obj, d.name, actor=actor, **apply_kwargs(d, inherited=False))
        assert snapshot(obj, d) == before, f"{_id(d)} as {role}: something was written"
        assert callbacks == []
        assert d.name not in {a.name for a in engine.available(obj, actor)}


@pytest.mark.parametrize("d", ALL, ids=_id)
def test_transition_is_refused_and_writes_nothing_when_taken_from_a_state_it_does_not_leave(
    d: Declared, world: World, monkeypatch, django_capture_on_commit_callbacks
):
    assert d.declared, f"{_id(d)} has no declaration"
    hold_conditions_true(monkeypatch, d)
    role = d.roles[0] if d.is_action else ""
    actor = world.user(role or INHERITED)
    for state in wrong_states(d):
        obj = build_in(world, d, state, actor)
        before = snapshot(obj, d)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(ActionNotAllowed):
                engine.apply(obj, d.name, actor=actor, **apply_kwargs(d, inherited=not role))
        assert snapshot(obj, d) == before, f"{_id(d)} from {state}: something was written"
        assert callbacks == []


@pytest.mark.parametrize("d", [d for d in ALL if d.is_action and d.declared], ids=_id)
def test_transition_is_refused_when_the_actor_is_in_another_department(d: Declared, world: World, monkeypatch):
    """A department role acts on its own department's objects only."""
    dept_roles = [r for r in d.roles if r in (Role.DEPT_STAFF, Role.DEPT_LEADER)]
    if not dept_roles:
        return
    hold_conditions_true(monkeypatch, d)
    outsider = make_user(dept_roles[0], world.other_department, username=f"outsider_{dept_roles[0]}")
    obj = build_in(world, d, sources(d)[0], world.user(dept_roles[0]))
    before = snapshot(obj, d)
    with pytest.raises(PermissionDenied):
        engine.apply(obj, d.name, actor=outsider, **apply_kwargs(d, inherited=False))
    assert snapshot(obj, d) == before


def _models():
    seen: list[type[models.Model]] = []
    for d in ALL:
        if d.model not in seen:
            seen.append(d.model)
    return seen


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_lifecycle_object_can_be_built_in_each_of_its_states(model, world: World):
    """The builders and REACH themselves: an object of every state machine, in each state,
    with every task its flow waits for in that state open (verify_tasks agrees)."""
    from workflows.management.commands.verify_tasks import find_mismatches

    d = next(x for x in ALL if x.model is model)
    for state in states_of(d):
        obj = build_in(world, d, state, world.user(Role.EXPERT))
        assert getattr(obj, d.field) == state
    assert find_mismatches() == [] or model._meta.label_lower not in REACH
