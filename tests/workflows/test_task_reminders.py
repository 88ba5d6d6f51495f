"""Reminders of open flow tasks, with the clock moved (time-machine) and real flows: the exact
schedule, no second send on a rerun, catch-up after a gap with one summary per person, none
for a completed task, and escalation to the supervisors unless settings turn it off."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Notification
from processes.models import ReminderSent
from processes.reminders import Schedule
from processes.services.reminders import PROVIDERS, reminders_send
from processes.states import ProjectStage
from workflows.reminders import open_tasks_due
from workflows.services import campaign_launch, project_act

pytestmark = pytest.mark.django_db

TASK = "viewflow.task"


@pytest.fixture
def ten_days(settings):
    """部门审核 is due ten days after it is created (so every 'before' slot lies ahead)."""
    settings.JIXIAO = {**settings.JIXIAO, "TASK_DUE_DAYS": {**settings.JIXIAO["TASK_DUE_DAYS"], "dept_review": 10}}


def not_escalating(settings) -> None:
    reminders = {**settings.JIXIAO["REMINDERS"], "ESCALATE_TASKS": False}
    settings.JIXIAO = {**settings.JIXIAO, "REMINDERS": reminders}


def review_task(project) -> Task:
    return Task.objects.select_related("due").get(
        process__projectprocess__project=project, flow_task_type="HUMAN", status="NEW"
    )


def told(user):
    return list(Notification.objects.filter(recipient=user, kind__in=["reminder", "escalation"]).order_by("pk"))


def slots_of(task) -> list[str]:
    return list(
        ReminderSent.objects.filter(object_type=TASK, object_id=str(task.pk))
        .order_by("pk")
        .values_list("slot", flat=True)
    )


def test_provider_is_registered_when_the_app_is_ready():
    assert open_tasks_due in PROVIDERS


def test_task_reminders_follow_the_schedule_once_each_when_the_sweep_runs_at_every_slot(district, ten_days):
    project = district.project(ProjectStage.SUBMITTED)
    task = review_task(project)
    deadline = task.due.due_at
    day_start = deadline.astimezone(ZoneInfo("Asia/Shanghai")).replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [
        deadline - timedelta(days=7),
        deadline - timedelta(days=3),
        deadline - timedelta(days=1),
        day_start,
        deadline,
        deadline + timedelta(days=3),
        deadline + timedelta(days=6),
    ]

    with time_machine.travel(deadline - timedelta(days=7, minutes=1), tick=False):
        assert reminders_send().sent == 0  # nothing before the first slot
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            assert reminders_send().sent == 1, moment
            assert reminders_send().sent == 0, moment  # a rerun sends nothing

    assert slots_of(task) == ["before-7", "before-3", "before-1", "due-day", "overdue-1", "overdue-2", "overdue-3"]
    assert not ReminderSent.objects.filter(object_type=TASK, caught_up=True).exists()
    for leader in (district.leader_a, district.leader_a2):  # everyone in the task's queue
        notes = told(leader)
        assert len(notes) == 7 and {n.kind for n in notes} == {"reminder"}
        assert notes[0].params["title"] == f"部门审核：{project.name}"
        assert notes[0].url == f"/tasks/{task.pk}/"
        assert [n.params.get("days") for n in notes[-3:]] == [1, 4, 7]
    assert told(district.leader_b) == [] and told(district.staff_a) == []
    # overdue tasks escalate by default (issue 17): one escalation per overdue slot
    assert [n.kind for n in told(district.supervisor)] == ["escalation"] * 3


def test_a_sweep_back_after_a_gap_sends_one_summary_per_person(district, ten_days):
    first = review_task(district.project(ProjectStage.SUBMITTED))
    second = review_task(district.project(ProjectStage.SUBMITTED))

    with time_machine.travel(second.due.due_at + timedelta(days=4), tick=False):
        sweep = reminders_send()

    assert sweep.sent == 2 and sweep.caught_up == 2 * 5  # before-7/3/1, due-day, overdue-1 of each
    for leader in (district.leader_a, district.leader_a2):
        notes = told(leader)
        assert len(notes) == 1 and notes[0].params["count"] == 2
    assert slots_of(first)[-1] == "overdue-2" and slots_of(second)[-1] == "overdue-2"


def test_a_completed_task_gets_no_more_reminders(district, ten_days):
    project = district.project(ProjectStage.SUBMITTED)
    task = review_task(project)
    deadline = task.due.due_at
    with time_machine.travel(deadline - timedelta(days=7), tick=False):
        assert reminders_send().sent == 1

    project_act(project=project, actor=district.leader_a, action="approve")
    task.refresh_from_db()
    assert task.status == "DONE"
    with time_machine.travel(deadline + timedelta(days=1), tick=False):
        reminders_send()

    assert slots_of(task) == ["before-7"]
    assert len(told(district.leader_a)) == 1


def test_an_overdue_task_escalates_to_supervisors_when_the_settings_are_the_defaults(district, ten_days):
    from django.conf import settings as live

    assert live.JIXIAO["REMINDERS"]["ESCALATE_TASKS"] is True  # the shipped default (issue 17)
    project = district.project(ProjectStage.SUBMITTED)
    loud = review_task(project)
    with time_machine.travel(loud.due.due_at - timedelta(days=1), tick=False):
        reminders_send()
    assert told(district.supervisor) == []  # before the due time: a reminder, no escalation
    with time_machine.travel(loud.due.due_at + timedelta(minutes=1), tick=False):
        reminders_send()

    escalations = told(district.supervisor)
    assert [n.kind for n in escalations] == ["escalation"]
    assert escalations[0].params["department"] == district.dept_a.name
    assert escalations[0].params["title"] == f"部门审核：{project.name}"
    assert escalations[0].url == f"/tasks/{loud.pk}/"


def test_an_overdue_task_does_not_escalate_when_the_setting_turns_it_off(district, ten_days, settings):
    not_escalating(settings)
    quiet = review_task(district.project(ProjectStage.SUBMITTED))
    with time_machine.travel(quiet.due.due_at + timedelta(minutes=1), tick=False):
        reminders_send()
    assert told(district.supervisor) == []  # the supervisors are not told
    assert [n.kind for n in told(district.leader_a)] == ["reminder"]


def test_an_owned_task_reminds_its_owner_only(district, ten_days):
    task = review_task(district.project(ProjectStage.SUBMITTED))
    Task.objects.filter(pk=task.pk).update(owner=district.leader_a2, status="ASSIGNED")
    with time_machine.travel(task.due.due_at - timedelta(days=7), tick=False):
        reminders_send()
    assert told(district.leader_a) == [] and len(told(district.leader_a2)) == 1


def items_and_queries(now) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        items = list(open_tasks_due(now, Schedule()))
    return len(items), len(queries)


def test_the_provider_reads_any_number_of_tasks_in_one_query(district):
    for dept in ("a", "a", "b"):
        district.project(ProjectStage.EXECUTING, dept=dept)
    launch = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=20))
    now = timezone.now() + timedelta(days=14)
    few = items_and_queries(now)
    for dept in ("a", "b", "b", "a"):
        district.project(ProjectStage.SUBMITTED, dept=dept)  # 部门审核, due in 5 days
    many = items_and_queries(now)

    assert few[0] == len(launch.created) and many[0] == few[0] + 4
    assert few[1] == many[1] == 1


@pytest.mark.parametrize("escalates", [True, False])
def test_an_overdue_commissioned_evaluation_escalates_unless_the_setting_turns_it_off(district, settings, escalates):
    from tests.processes.test_commissioned import Chain

    if not escalates:
        not_escalating(settings)
    chain = Chain(district)
    evaluation = chain.commission_key()  # the agency's step (提交评价方案), due in 60 days
    with time_machine.travel(evaluation.due_at + timedelta(minutes=1), tick=False):
        reminders_send()

    assert [n.kind for n in told(chain.staff)] == ["reminder"]  # the agency is reminded either way
    escalations = told(district.supervisor)
    if escalates:
        assert [n.kind for n in escalations] == ["escalation"]
        assert escalations[0].params["title"] == evaluation.title
        assert escalations[0].url == evaluation.get_absolute_url()
    else:
        assert escalations == []
