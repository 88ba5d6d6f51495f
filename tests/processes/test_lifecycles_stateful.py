"""Projects driven through their lives by random sequences of actions of random people,
refused ones included, through the services a screen or the API calls (the project's
``project_transition``, which ``workflows.services.project_act`` is, the targets'
services, and the commissioning of a pre-assessment), checked after every step:

* every open flow task matches its object's state (``verify_tasks``' own check: no stuck
  or orphan task);
* every change of state has exactly one audit row, naming the change, and the hash chain
  verifies (``audit_verify``);
* a refused action wrote nothing and told nobody: no state, audit row, notification or
  flow task changed;
* what each person sees (``project_list_for``) is unchanged by a refused action, and a
  department's people never see another department's projects.

200 examples in the normal run (at most 10 steps each); ``JIXIAO_TEST_DEEP=1`` (``make
test-deep``, run by .ci/run) makes it 1,000. Each example runs in a savepoint rolled back
at its end, on people made once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from viewflow.workflow.models import Task

from accounts.models import User
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, PreAssessment, TargetSet
from processes.selectors import project_list_for
from processes.services.audit import audit_verify
from processes.services.projects import project_create, project_transition
from processes.services.targets import target_draft_open, target_set_save
from workflows.management.commands.verify_tasks import find_mismatches

from ..conftest import TARGET_ROWS, District
from ..factories import AgencyFactory


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

DEEP = os.environ.get("JIXIAO_TEST_DEEP", "") not in ("", "0")
EXAMPLES = int(os.environ.get("JIXIAO_TEST_EXAMPLES", 1000 if DEEP else 200))
STEPS = 10

#: Who acts: mostly someone whose role could act on the project (its department's staff
#: or leader, the finance section), else anyone at all — refusals are part of the test.
ACTORS = ["staff", "leader", "finance", "anyone"]

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
PROJECT = st.integers(0, 2)  # which of the example's projects (modulo how many there are)
ANYONE = st.integers(0, len(District.PEOPLE) - 1)


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
    #: Over the whole run: the states reached and how many actions were refused.
    reached: set[tuple[str, str]] = set()
    refusals = 0
    steps = 0

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.projects: list[int] = []
        d = self.district
        self.people = [getattr(d, name) for name in District.PEOPLE]
        #: One person per way of seeing projects in these lives: each department, the
        #: bureau, the agency (panels see what a pre-assessment shows them, not reached here).
        self.viewers = [d.staff_a, d.leader_b, d.finance, d.agency_staff]
        self.saved: set[int] = set()  # target versions filled in by this example
        self.agency = d.agency_staff.agency
        self.due = timezone.now() + timedelta(days=20)
        self.last = self.snapshot()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- what is observed --------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        states = {("project", pk): stage for pk, stage in BudgetProject.objects.values_list("pk", "stage")}
        states |= {("targets", pk): status for pk, status in TargetSet.objects.values_list("pk", "status")}
        states |= {("pre_assessment", pk): s for pk, s in PreAssessment.objects.values_list("pk", "status")}
        return Snapshot(
            states=states,
            audit=AuditEvent.objects.count(),
            notifications=Notification.objects.count(),
            tasks=tuple(Task.objects.order_by("pk").values_list("pk", "status")),
            seen={u.pk: frozenset(project_list_for(u).values_list("pk", flat=True)) for u in self.viewers},
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
        except REFUSALS:
            type(self).refusals += 1
            after = self.last = self.snapshot()
            assert after.states == before.states, "a refused action changed a state"
            assert after.audit == before.audit, "a refused action wrote an audit row"
            assert after.notifications == before.notifications, "a refused action told someone"
            assert after.tasks == before.tasks, "a refused action moved a flow task"
            assert after.seen == before.seen, "a refused action changed what someone sees"
            return
        after = self.last = self.snapshot()
        type(self).reached |= {(kind, state) for (kind, _pk), state in after.states.items()}
        new_rows = list(
            AuditEvent.objects.filter(sequence__gt=last_audit)
            .exclude(to_state="")
            .values_list("object_type", "object_id", "from_state", "to_state")
        )
        label = {
            "project": BudgetProject._meta.label_lower,
            "targets": TargetSet._meta.label_lower,
            "pre_assessment": PreAssessment._meta.label_lower,
        }
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
                assert changes == [(old, state)], f"{kind} {pk}: {old} → {state}, audit rows {changes}"

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
        return self.people[anyone % len(self.people)]

    def project(self, index: int) -> BudgetProject:
        return BudgetProject.objects.get(pk=self.projects[index % len(self.projects)])

    def target_set(self, index: int) -> TargetSet | None:
        return TargetSet.objects.filter(project_id=self.projects[index % len(self.projects)]).order_by("-pk").first()

    @initialize(dept=st.sampled_from(["a", "b"]))
    def first_project(self, dept):
        self.new_project(self.district.staff_a if dept == "a" else self.district.staff_b)

    def new_project(self, actor) -> None:
        n = BudgetProject.objects.count() + 1
        before = BudgetProject.objects.count()
        self.attempt(
            project_create,
            actor=actor,
            fiscal_year=2021,
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
        if len(self.projects) < 3:
            self.new_project(self.actor(who, anyone))

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE, action=st.sampled_from(PROJECT_ACTIONS))
    def act_on_project(self, p, who, anyone, action):
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        self.attempt(project_act, project=project, actor=actor, action=action, comment="理由")

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

    @rule(p=PROJECT, who=st.sampled_from(ACTORS), anyone=ANYONE)
    def commission_pre_assessment(self, p, who, anyone):
        """Finance commissions the agency to pre-assess a project (only in 事前绩效评估)."""
        project = self.project(p)
        actor = self.actor(who, anyone, project)
        self.attempt(pre_assessment_begin, project=project, actor=actor, agency=self.agency, due_at=self.due)

    @rule(p=PROJECT)
    def take_the_next_step(self, p):
        """The step the project waits for, by the person it waits for: so that lives get
        past the intake and the targets' review within a few steps."""
        d = self.district
        project = self.project(p)
        staff, leader = self.actor("staff", 0, project), self.actor("leader", 0, project)
        ts = self.target_set(p)
        stage = project.stage
        nxt = {"draft": ("submit", staff), "submitted": ("approve", leader), "budgeted": ("start_execution", d.finance)}
        if stage in nxt:
            action, actor = nxt[stage]
            self.attempt(project_act, project=project, actor=actor, action=action, comment="理由")
        elif stage == "dept_approved":
            self.attempt(project_act, project=project, actor=d.finance, action="route_to_target_review")
        elif stage == "pre_assessment" and not PreAssessment.objects.filter(project=project).exists():
            self.attempt(pre_assessment_begin, project=project, actor=d.finance, agency=self.agency, due_at=self.due)
        elif stage in ("target_review", "pre_assessment") and ts is not None:
            if ts.status in ("draft", "returned") and ts.pk not in self.saved:
                self.attempt(target_set_save, target_set=ts, actor=staff, overall_goal="按期完成", rows=TARGET_ROWS)
                self.saved.add(ts.pk)
            elif ts.status in ("draft", "returned"):
                self.attempt(targets_submit, target_set=ts, actor=staff)
            elif ts.status == "submitted":
                self.attempt(targets_dept_review, target_set=ts, actor=leader, approve=True)
            elif ts.status == "dept_approved":
                self.attempt(targets_rate, target_set=ts, actor=d.finance, rating="excellent", comment="")

    # -- after every step ------------------------------------------------------------------

    @invariant()
    def every_open_task_matches_its_object(self):
        assert find_mismatches() == []

    @invariant()
    def the_audit_chain_verifies(self):
        assert audit_verify() is None

    @invariant()
    def department_people_see_only_their_department(self):
        for user in self.viewers:
            if user.department_id is not None:
                depts = {self.last.departments[pk] for pk in self.last.seen[user.pk]}
                assert depts <= {user.department_id}, f"{user} sees another department's project"


@pytest.mark.deep
def test_projects_keep_tasks_audit_and_visibility_consistent_when_driven_by_random_people(db):
    district = District()
    agency = AgencyFactory()
    User.objects.filter(pk=district.agency_staff.pk).update(agency=agency)
    district.agency_staff = User.objects.get(pk=district.agency_staff.pk)
    ProjectLives.district = district
    ProjectLives.reached, ProjectLives.refusals, ProjectLives.steps = set(), 0, 0
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
    assert ProjectLives.refusals > 0
    assert {
        ("project", "target_review"),
        ("targets", "dept_approved"),
        ("pre_assessment", "initiated"),
    } <= ProjectLives.reached
