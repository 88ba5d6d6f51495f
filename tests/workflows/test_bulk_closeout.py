"""年度关账 (issue 18 item 1c and item 4 "Evaluated projects never close"): a project
evaluated with no findings, or with all its rectifications verified, reaches 已关闭 by the
declared transition ``close_out`` — one at a time, or a year at once as a bulk job — and
one with an open rectification or unissued findings is refused with the reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, SelfEvaluation
from processes.services.closeout import project_close_out
from processes.services.findings import finding_add
from processes.states import ProjectStage
from tests.processes.test_evaluation import accepted, launch

pytestmark = pytest.mark.django_db


def evaluated(district, n=1, dept="a"):
    """``n`` projects of ``dept`` taken through the year to 已评价 by the real services."""
    projects = [district.project(ProjectStage.EXECUTING, dept=dept) for _ in range(n)]
    return projects


def through_evaluation(district, projects):
    launch(district)
    for project in projects:
        accepted(district, project)
    return [BudgetProject.objects.get(pk=p.pk) for p in projects]


def test_evaluated_project_reaches_closed_when_it_has_no_findings(district):
    [project] = through_evaluation(district, evaluated(district))
    assert project.stage == ProjectStage.EVALUATED
    closed = project_close_out(project=project, actor=district.finance)
    assert closed.stage == ProjectStage.CLOSED
    row = AuditEvent.objects.get(object_type="processes.budgetproject", object_id=str(project.pk), action="close_out")
    assert (row.from_state, row.to_state, row.actor_role) == ("evaluated", "closed", "finance_officer")


def test_close_out_is_refused_with_the_reason_when_a_finding_is_not_yet_issued(district):
    [project] = through_evaluation(district, evaluated(district))
    se = SelfEvaluation.objects.get(project=project)
    finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标")
    with pytest.raises(ActionNotAllowed, match="有 1 个评价发现问题尚未下达整改"):
        project_close_out(project=project, actor=district.finance)
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATED
    assert not AuditEvent.objects.filter(action="close_out").exists()


def test_close_out_is_refused_when_the_actor_is_not_the_finance_section(district):
    [project] = through_evaluation(district, evaluated(district))
    for person in (district.staff_a, district.leader_a, district.supervisor):
        with pytest.raises(PermissionDenied):
            project_close_out(project=project, actor=person)
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATED
