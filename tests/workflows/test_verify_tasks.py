"""`manage.py verify_tasks`: every open flow task agrees with its object's state."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from viewflow.workflow.models import Task

from processes.models import BudgetProject
from processes.states import ProjectStage
from workflows.management.commands.verify_tasks import find_mismatches


def run() -> str:
    out = StringIO()
    call_command("verify_tasks", stdout=out, stderr=out)
    return out.getvalue()


def open_task(project, name: str) -> Task:
    return Task.objects.get(process__projectprocess__project=project, status="NEW", flow_task_type="HUMAN")


def test_passes_when_every_open_task_matches_its_object(district):
    district.project(ProjectStage.SUBMITTED)
    district.project(ProjectStage.DEPT_APPROVED)
    district.project(ProjectStage.TARGET_REVIEW)
    assert find_mismatches() == []
    assert "均与其对象状态一致" in run()


def test_names_the_task_when_its_object_moved_without_it(district):
    project = district.project(ProjectStage.SUBMITTED)
    task = open_task(project, "dept_review")
    BudgetProject.objects.filter(pk=project.pk).update(stage=ProjectStage.DEPT_APPROVED)  # a half-done transition
    mismatches = find_mismatches()
    assert [(m.task_id, m.where) for m in mismatches] == [(task.pk, "ProjectIntakeFlow.dept_review")]
    assert "dept_approved" in mismatches[0].problem
    with pytest.raises(CommandError, match="1 个待办任务与其对象状态不符"):
        run()


def test_reports_a_task_in_error_status_when_one_failed(district):
    project = district.project(ProjectStage.DEPT_APPROVED)
    task = open_task(project, "finance_intake")
    Task.objects.filter(pk=task.pk).update(status="ERROR")
    assert [(m.task_id, m.where) for m in find_mismatches()] == [(task.pk, "ProjectIntakeFlow.finance_intake")]


def test_reports_an_open_task_when_its_process_is_finished(district):
    project = district.project(ProjectStage.SUBMITTED)
    task = open_task(project, "dept_review")
    task.process.__class__.objects.filter(pk=task.process_id).update(status="DONE")
    mismatches = find_mismatches()
    assert [m.task_id for m in mismatches] == [task.pk]
    assert "流程已结束" in mismatches[0].problem


def test_checks_target_versions_by_the_process_data_when_a_review_is_open(district):
    from processes.models import TargetSet

    project = district.project(ProjectStage.TARGET_REVIEW)
    assert find_mismatches() == []
    TargetSet.objects.filter(project=project).update(status="approved")
    assert [m.where for m in find_mismatches()] == ["TargetReviewFlow.fill"]
