"""Every human task's due time is also an indexed column (TaskDue): for tasks made by a
flow step, by a panel draw and by a bulk start."""

from datetime import timedelta

from django.utils import timezone
from viewflow.workflow.models import Task

from processes.states import ProjectStage
from workflows.models import TaskDue
from workflows.nodes import task_due
from workflows.services import campaign_launch


def test_every_open_human_task_has_its_due_time_in_the_column(district):
    district.project(ProjectStage.SUBMITTED)  # a 部门审核 task made by a flow step
    district.project(ProjectStage.EXECUTING)
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=30))
    human = Task.objects.filter(flow_task_type="HUMAN")
    assert human.count() > 2
    dues = dict(TaskDue.objects.values_list("task_id", "due_at"))
    for task in human:
        assert dues[task.pk] == task_due(task), task.flow_task
