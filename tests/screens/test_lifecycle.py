"""The project page's lifecycle diagram (issue 21, decision 0019): the committed SVG of the
FSM, with the current stage and the path taken marked from the project's audit trail."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from processes.lifecycle import lifecycle_svg, project_path
from processes.states import ProjectStage

pytestmark = pytest.mark.django_db


def page(client, user, project) -> str:
    client.force_login(user)
    response = client.get(reverse("workflows:project_detail", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def marks(body: str) -> dict[str, str]:
    """data-stage → class of each node group of the inline SVG."""
    return {
        m.group("stage"): m.group("cls")
        for m in re.finditer(r'<g (?=[^>]*class="node (?P<cls>[\w-]+)")(?=[^>]*data-stage="(?P<stage>\w+)")', body)
    }


def edge_marks(body: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r'<g [^>]*class="edge ([\w-]+)"[^>]*>\s*<title>([^<]+)</title>', body):
        out[m.group(2).replace("&gt;", ">")] = m.group(1)
    return out


def test_project_page_marks_current_stage_and_path_when_project_in_target_review(client, district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    body = page(client, district.finance, project)
    assert 'data-testid="lifecycle"' in body
    nodes = marks(body)
    assert nodes["target_review"] == "lc-current"
    assert nodes["draft"] == nodes["submitted"] == nodes["dept_approved"] == "lc-visited"
    assert nodes["pre_assessment"] == nodes["executing"] == nodes["closed"] == "lc-other"
    edges = edge_marks(body)
    assert edges["draft->submitted"] == edges["submitted->dept_approved"] == "lc-taken"
    assert edges["dept_approved->target_review"] == "lc-taken"
    assert edges["dept_approved->pre_assessment"] == "lc-other"
    # the text list beside it says the same, in Chinese
    path = re.search(r'data-testid="lifecycle-path">(.*?)</ol>', body, re.S).group(1)
    assert path.index("已提交") < path.index("部门已审核") < path.index("绩效目标审核")
    assert "dept_leader" not in path and "部门负责人" in path


def test_lifecycle_picture_has_no_style_attribute_or_script_when_rendered(client, district):
    body = page(client, district.staff_a, district.project(ProjectStage.SUBMITTED))
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert " style=" not in svg and "<script" not in svg and "<style" not in svg
    assert 'role="img"' in svg and "当前阶段为「已提交」" in svg
    # the docs' English edge codes are not shown on the page
    assert "dept_staff" not in svg


def test_lifecycle_shows_current_task_when_flow_running(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    body = page(client, district.leader_a, project)
    current = re.search(r'data-testid="lifecycle-current">(.*?)</p>', body, re.S).group(1)
    assert "当前任务" in current and "部门审核" in current and "办理期限" in current


def test_path_follows_audit_trail_when_project_sent_back_and_resubmitted(district):
    from workflows.services import project_act

    project = district.project(ProjectStage.SUBMITTED)
    project = project_act(project=project, actor=district.leader_a, action="send_back", comment="补充材料")
    project = project_act(project=project, actor=district.staff_a, action="submit", comment="")
    steps = [(s.from_stage, s.to_stage) for s in project_path(project)]
    assert steps[-3:] == [("draft", "submitted"), ("submitted", "draft"), ("draft", "submitted")]
    svg = str(lifecycle_svg(project.stage, project_path(project)))
    assert 'class="edge lc-taken"' in svg
    assert edge_marks(svg)["submitted->draft"] == "lc-taken"


def test_lifecycle_labels_stages_in_english_when_language_english(district):
    with translation.override("en"):
        svg = str(lifecycle_svg(ProjectStage.DRAFT, []))
    assert "草稿" not in svg
