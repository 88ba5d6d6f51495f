"""The submission and intake flow as real role users."""

from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from processes.states import ProjectStage
from workflows.flows import ProjectIntakeFlow
from workflows.models import ProjectProcess
from workflows.nodes import task_due
from workflows.services import open_project_tasks, project_act


def _tasks(process):
    return [(t.flow_task.name, t.status, t.owner_id) for t in Task.objects.filter(process=process).order_by("pk")]


def test_whole_path_ends_flow_when_finance_routes_to_pre_assessment(district):
    d = district
    project = d.project(ProjectStage.DRAFT, amount=__import__("decimal").Decimal("6000000"))
    project = project_act(project=project, actor=d.staff_a, action="submit")
    process = ProjectProcess.objects.get(project=project)
    assert process.flow_class is ProjectIntakeFlow
    [review] = open_project_tasks(project)
    assert review.flow_task.name == "dept_review" and review.status == STATUS.NEW and review.owner is None
    assert review.owner_permission == "processes.review_project"
    assert task_due(review) is not None

    project = project_act(project=project, actor=d.leader_a2, action="approve")
    [intake] = open_project_tasks(project)
    assert intake.flow_task.name == "finance_intake"

    project = project_act(project=project, actor=d.finance, action="route_to_pre_assessment")
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert project.stage == ProjectStage.PRE_ASSESSMENT
    names = _tasks(process)
    assert ("dept_review", STATUS.DONE, d.leader_a2.pk) in names  # claimed by who acted
    assert ("finance_intake", STATUS.DONE, d.finance.pk) in names
    assert ("routed", STATUS.DONE, None) in names


def test_flow_ends_on_returned_when_leader_sends_back(district):
    project = district.project(ProjectStage.SUBMITTED)
    project_act(project=project, actor=district.leader_a, action="send_back", comment="金额需重新测算")
    process = ProjectProcess.objects.get(project=project)
    assert process.status == PROCESS.DONE
    assert ("returned", STATUS.DONE, None) in _tasks(process)
    assert list(open_project_tasks(project)) == []


def test_running_flow_is_cancelled_when_project_withdrawn_or_cancelled(district):
    for action, actor, stage in [
        ("withdraw", district.staff_a, ProjectStage.SUBMITTED),
        ("cancel", district.finance, ProjectStage.DEPT_APPROVED),
    ]:
        project = district.project(stage)
        project_act(project=project, actor=actor, action=action, comment="理由")
        process = ProjectProcess.objects.get(project=project)
        assert process.status == PROCESS.CANCELED
        assert list(open_project_tasks(project)) == []


def test_completion_takes_bounded_queries_when_leader_approves(district, django_assert_max_num_queries):
    project = district.project(ProjectStage.SUBMITTED)
    with django_assert_max_num_queries(60):
        project_act(project=project, actor=district.leader_a, action="approve")
