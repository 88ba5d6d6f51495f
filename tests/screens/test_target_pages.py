"""绩效目标 screens (DESIGN §3.3): the targets page and its forms as each role sees them, the
whole review through the screens, bad input kept and named on the row and field, change
requests, visibility, and refusals (wrong role 403, acting twice 409)."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from processes.models import AuditEvent, Indicator, TargetSet
from processes.states import ProjectStage, TargetRating, TargetSetStatus
from tests.conftest import TARGET_ROWS
from workflows.services import targets_dept_review, targets_submit

pytestmark = pytest.mark.django_db

GOAL = "按期完成灌溉渠道建设，改善农田灌溉条件"


def text(response) -> str:
    return response.content.decode()


def page(project) -> str:
    return reverse("workflows:targets", args=[project.pk])


def act(project, action) -> str:
    return reverse("workflows:targets_act", args=[project.pk, action])


def version_page(project, number) -> str:
    return reverse("workflows:target_version", args=[project.pk, number])


def search(project) -> str:
    return reverse("workflows:target_indicators", args=[project.pk])


def cell(response, name) -> str:
    """The markup of the form cell holding field ``name`` (its input and its errors)."""
    found = re.search(rf'<(td|div|fieldset)[^>]*data-cell="{re.escape(name)}"[^>]*>(.*?)</\1>', text(response), re.S)
    assert found, f"no cell {name}"
    return html.unescape(found.group(2))


def set_errors(response) -> str:
    found = re.search(r'data-testid="set-errors"[^>]*>(.*?)</div>\s*(?!<div>)', text(response), re.S)
    return html.unescape(found.group(1)) if found else ""


def edit_post(target_set, rows, *, goal=GOAL, submit=False, revision=None, **extra) -> dict:
    """The edit form as a browser posts it: the version's fields and the rows formset."""
    data = {
        "number": target_set.number,
        "revision": revision if revision is not None else target_set.revision,
        "overall_goal": goal,
        "rows-TOTAL_FORMS": len(rows),
        "rows-INITIAL_FORMS": 0,
        "rows-MIN_NUM_FORMS": 0,
        "rows-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        for field in ("indicator_code", *TARGET_ROWS[0], "target_text"):
            data[f"rows-{i}-{field}"] = row.get(field, "")
        if row.get("DELETE"):
            data[f"rows-{i}-DELETE"] = "on"
    data["submit" if submit else "save"] = "1"
    data.update(extra)
    return data


def rate_post(target_set, rating, comment="", **fields) -> dict:
    """The rating form with every row's fields as rendered (their current values)."""
    data = {"number": target_set.number, "rating": rating, "comment": comment}
    for row in target_set.rows.all():
        if row.quantitative:
            data[f"row_{row.position}_target_value"] = f"{row.target_value.normalize():f}"
            data[f"row_{row.position}_unit"] = row.unit
        else:
            data[f"row_{row.position}_target_text"] = row.target_text
        data[f"row_{row.position}_weight"] = f"{row.weight.normalize():f}"
        data[f"row_{row.position}_review_comment"] = ""
    data.update(fields)
    return data


def open_version(project) -> TargetSet:
    return TargetSet.objects.get(project=project, status__in=["draft", "submitted", "dept_approved", "returned"])


def submitted(district, project) -> TargetSet:
    """``project``'s first version filled with TARGET_ROWS and submitted by its staff."""
    from processes.services.targets import target_set_save

    target_set = open_version(project)
    target_set = target_set_save(target_set=target_set, actor=district.staff_a, overall_goal=GOAL, rows=TARGET_ROWS)
    return targets_submit(target_set=target_set, actor=district.staff_a)


def passed(district, project) -> TargetSet:
    return targets_dept_review(target_set=submitted(district, project), actor=district.leader_a, approve=True)


@pytest.fixture
def project(district):
    """A project in target review: its first version is open as a draft, with no rows."""
    return district.project(ProjectStage.TARGET_REVIEW)


def library(district) -> dict[str, Indicator]:
    common = {"level1": "output", "level2": "quantity", "direction": "gte", "unit": "个"}
    return {
        "general": Indicator.objects.create(code="GEN-001", name="培训人次", scope="general", **common),
        "own": Indicator.objects.create(
            code="A01-007", name="灌区新增面积", scope="department", department=district.dept_a, **common
        ),
        "other": Indicator.objects.create(
            code="B01-003", name="保障性住房套数", scope="department", department=district.dept_b, **common
        ),
    }


# -- who sees which form ------------------------------------------------------------------


def test_staff_starts_filing_when_the_project_has_no_targets_yet(client, district):
    project = district.project(ProjectStage.DRAFT)
    client.force_login(district.staff_a)
    assert 'data-testid="targets-open"' in text(client.get(page(project)))

    response = client.post(act(project, "open"))

    assert response.status_code == 302
    assert response["Location"] == page(project)
    target_set = TargetSet.objects.get(project=project)
    assert (target_set.number, target_set.status) == (1, TargetSetStatus.DRAFT)
    shown = client.get(page(project))
    assert "已开始填报绩效目标（第 1 版）" in text(shown)
    assert 'data-testid="targets-edit"' in text(shown)
    assert 'data-testid="targets-open"' not in text(shown)


def test_nobody_but_department_staff_may_start_filing_when_there_are_no_targets(client, district):
    project = district.project(ProjectStage.DRAFT)
    for person in ("leader_a", "finance", "supervisor"):
        client.force_login(getattr(district, person))
        assert 'data-testid="targets-open"' not in text(client.get(page(project)))
        assert client.post(act(project, "open")).status_code == 403
    assert not TargetSet.objects.exists()


@pytest.mark.parametrize(
    ("step", "person", "form"),
    [
        ("draft", "staff_a", "targets-edit"),
        ("submitted", "leader_a", "targets-review"),
        ("dept_approved", "finance", "targets-rate"),
    ],
)
def test_each_role_sees_only_its_own_form_when_the_version_reaches_its_step(
    client, district, project, step, person, form
):
    if step == "submitted":
        submitted(district, project)
    elif step == "dept_approved":
        passed(district, project)
    forms = {"targets-open", "targets-edit", "targets-review", "targets-rate", "targets-change"}
    for someone in ("staff_a", "leader_a", "finance", "supervisor", "auditor"):
        client.force_login(getattr(district, someone))
        response = client.get(page(project))
        assert response.status_code == 200
        shown = {f for f in forms if f'data-testid="{f}"' in text(response)}
        assert shown == ({form} if someone == person else set()), someone


def test_open_version_is_shown_read_only_when_the_leader_has_it(client, district, project):
    submitted(district, project)
    client.force_login(district.leader_a)
    response = client.get(page(project))
    assert "新建灌溉渠道长度" in text(response)
    assert "≥12.5公里" in text(response)
    assert "已提交" in text(response)


# -- the whole path -----------------------------------------------------------------------


def test_project_is_budgeted_when_staff_submits_leader_passes_and_finance_rates_excellent(client, district, project):
    target_set = open_version(project)
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS, submit=True))
    assert response.status_code == 302, set_errors(response)
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.SUBMITTED
    assert [r.name for r in target_set.rows.all()] == [r["name"] for r in TARGET_ROWS]
    assert "绩效目标已提交" in text(client.get(page(project)))

    client.force_login(district.leader_a)
    response = client.post(act(project, "review"), {"number": 1, "decision": "approve", "comment": "同意报送"})
    assert response.status_code == 302
    target_set.refresh_from_db()
    assert (target_set.status, target_set.leader_comment) == (TargetSetStatus.DEPT_APPROVED, "同意报送")

    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "excellent"))
    assert response.status_code == 302
    target_set.refresh_from_db()
    project.refresh_from_db()
    assert (target_set.status, target_set.rating) == (TargetSetStatus.APPROVED, TargetRating.EXCELLENT)
    assert project.stage == ProjectStage.BUDGETED
    shown = client.get(page(project))
    assert "已评定为「优」" in text(shown)
    in_force = re.search(r'data-testid="in-force".*?</section>', text(shown), re.S).group(0)
    assert 'data-testid="rating">优<' in in_force
    assert "新建灌溉渠道长度" in in_force


def test_agreed_edits_are_applied_and_shown_before_and_after_when_finance_rates_good(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(
        act(project, "rate"),
        rate_post(
            target_set,
            "good",
            "渠道长度按可研报告调整",
            row_1_target_value="15",
            row_1_review_comment="与可研报告一致",
            row_3_target_text="显著改善",
        ),
    )
    assert response.status_code == 302
    target_set.refresh_from_db()
    assert (target_set.status, target_set.rating) == (TargetSetStatus.APPROVED, TargetRating.GOOD)
    first, second, third = target_set.rows.all()
    assert first.target_value == Decimal("15")
    assert first.edits == {"target_value": ["12.5000", "15"]}
    assert first.review_comment == "与可研报告一致"
    assert second.edits == {}
    assert third.edits == {"target_text": ["明显改善", "显著改善"]}

    shown = text(client.get(page(project)))
    assert "指标值：<del>12.5</del> → <ins>15</ins>" in shown
    assert "定性指标值：<del>明显改善</del> → <ins>显著改善</ins>" in shown
    assert "与可研报告一致" in shown


def test_edits_are_ignored_when_finance_rates_excellent(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "excellent", row_1_target_value="99"))
    assert response.status_code == 302
    first = target_set.rows.get(position=1)
    assert (first.target_value, first.edits) == (Decimal("12.5"), {})


def test_version_goes_back_to_the_department_and_is_resubmitted_when_finance_rates_fair(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "fair", "时效指标偏宽松，请修改"))
    assert response.status_code == 302
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.RETURNED
    project.refresh_from_db()
    assert project.stage == ProjectStage.TARGET_REVIEW

    client.force_login(district.staff_a)
    shown = client.get(page(project))
    assert 'data-testid="targets-edit"' in text(shown)
    assert "时效指标偏宽松，请修改" in text(shown)
    assert 'value="300"' in text(shown)  # the form starts from the saved rows
    revised = [dict(TARGET_ROWS[0]), {**TARGET_ROWS[1], "target_value": "240"}, dict(TARGET_ROWS[2])]
    response = client.post(act(project, "edit"), edit_post(target_set, revised, submit=True))
    assert response.status_code == 302, set_errors(response)
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.SUBMITTED
    assert target_set.rows.get(position=2).target_value == Decimal("240")

    client.force_login(district.leader_a)
    assert 'data-testid="targets-review"' in text(client.get(page(project)))


def test_project_is_rejected_when_finance_rates_poor(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "poor", "目标与项目内容不符"))
    assert response.status_code == 302
    target_set.refresh_from_db()
    project.refresh_from_db()
    assert (target_set.status, target_set.rating) == (TargetSetStatus.REJECTED, TargetRating.POOR)
    assert project.stage == ProjectStage.REJECTED


def test_leader_returns_the_version_to_staff_with_a_reason_and_needs_one(client, district, project):
    target_set = submitted(district, project)
    client.force_login(district.leader_a)
    response = client.post(act(project, "review"), {"number": 1, "decision": "return", "comment": ""})
    assert response.status_code == 400
    assert "请填写退回理由" in cell(response, "comment")
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.SUBMITTED

    response = client.post(act(project, "review"), {"number": 1, "decision": "return", "comment": "缺少满意度指标"})
    assert response.status_code == 302
    target_set.refresh_from_db()
    assert (target_set.status, target_set.leader_comment) == (TargetSetStatus.DRAFT, "缺少满意度指标")
    client.force_login(district.staff_a)
    shown = text(client.get(page(project)))
    assert 'data-testid="targets-edit"' in shown
    assert "缺少满意度指标" in shown


def test_rating_needs_a_comment_when_not_excellent(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "fair", ""))
    assert response.status_code == 400
    assert "评为良、中、差时请填写审核意见" in cell(response, "comment")
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DEPT_APPROVED


def test_a_bad_edit_is_named_on_its_row_and_nothing_is_rated_when_finance_rates_good(client, district, project):
    target_set = passed(district, project)
    client.force_login(district.finance)
    response = client.post(act(project, "rate"), rate_post(target_set, "good", "调整", row_2_weight="abc"))
    assert response.status_code == 400
    assert "权重必须是数字" in cell(response, "row_2_weight")
    assert 'value="abc"' in cell(response, "row_2_weight")
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DEPT_APPROVED


# -- bad input: kept, and named on the row and field ---------------------------------------


def test_weights_not_summing_to_100_are_reported_at_the_top_and_nothing_changes_when_submitting(
    client, district, project
):
    target_set = open_version(project)
    rows = [dict(TARGET_ROWS[0]), dict(TARGET_ROWS[1]), {**TARGET_ROWS[2], "weight": "20"}]
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, rows, submit=True))
    assert response.status_code == 400
    assert "各指标权重之和应为 100，现为 90。" in set_errors(response)
    assert 'value="20"' in cell(response, "rows-2-weight")  # what was typed is kept
    assert 'value="新建灌溉渠道长度"' in cell(response, "rows-0-name")
    assert GOAL in text(response)
    assert re.search(r'data-total="all"[^>]*>90<', text(response))
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DRAFT
    assert not target_set.rows.exists()  # the refused submission saved nothing


def test_row_errors_are_named_on_their_row_and_field_and_the_typed_values_kept(client, district, project):
    target_set = open_version(project)
    rows = [
        {**TARGET_ROWS[0], "target_value": "", "unit": ""},  # ≥ without value or unit
        dict(TARGET_ROWS[1]),
        {**TARGET_ROWS[2], "target_value": "8"},  # qualitative with a number
    ]
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, rows))
    assert response.status_code == 400
    assert "定量指标必须填写数值型指标值" in cell(response, "rows-0-target_value")
    assert "定量指标必须填写计量单位" in cell(response, "rows-0-unit")
    assert "定性指标不填数值" in cell(response, "rows-2-target_value")
    assert 'value="8"' in cell(response, "rows-2-target_value")
    assert 'value="明显改善"' in cell(response, "rows-2-target_text")
    assert "errorlist" not in cell(response, "rows-1-target_value")
    assert not target_set.rows.exists()


def test_deleted_and_blank_rows_are_left_out_when_saving(client, district, project):
    target_set = open_version(project)
    rows = [dict(TARGET_ROWS[0]), {"name": "作废指标", "weight": "5", "DELETE": True}, {}, dict(TARGET_ROWS[1])]
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, rows))
    assert response.status_code == 302
    assert [(r.position, r.name) for r in target_set.rows.all()] == [(1, "新建灌溉渠道长度"), (2, "工程完工时间")]
    assert "草稿已保存" in text(client.get(page(project)))


def test_a_library_indicator_fills_the_row_when_picked_by_code(client, district, project):
    indicators = library(district)
    target_set = open_version(project)
    rows = [
        {"indicator_code": "A01-007", "target_value": "800", "weight": "40"},
        {"indicator_code": "GEN-001", "target_value": "300", "unit": "人次", "weight": "30"},
        dict(TARGET_ROWS[2]),
    ]
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, rows))
    assert response.status_code == 302
    own, general, _ = target_set.rows.all()
    assert (own.indicator, own.name, own.level2, own.direction, own.unit) == (
        indicators["own"],
        "灌区新增面积",
        "quantity",
        "gte",
        "个",
    )
    assert general.indicator == indicators["general"]
    assert 'value="A01-007"' in text(client.get(page(project)))  # the form shows the code again


def test_another_departments_indicator_is_refused_and_nothing_saved_when_picked_by_code(client, district, project):
    library(district)
    target_set = open_version(project)
    rows = [{"indicator_code": "B01-003", "target_value": "50", "weight": "40"}, dict(TARGET_ROWS[1])]
    client.force_login(district.staff_a)
    response = client.post(act(project, "edit"), edit_post(target_set, rows))
    assert response.status_code == 400
    assert "没有编码「B01-003」" in cell(response, "rows-0-indicator_code")
    assert "保障性住房套数" not in text(response)  # the other department's library stays unseen
    assert 'value="50"' in cell(response, "rows-0-target_value")
    assert not target_set.rows.exists()


def test_a_stale_form_is_refused_with_409_when_the_draft_changed_meanwhile(client, district, project):
    target_set = open_version(project)
    client.force_login(district.staff_a)
    stale = target_set.revision
    assert client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS)).status_code == 302
    response = client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS[:1], revision=stale))
    assert response.status_code == 409
    assert "已被他人修改" in text(response)
    assert target_set.rows.count() == 3


def test_submitting_is_refused_when_the_project_is_not_yet_accepted_by_finance(client, district):
    project = district.project(ProjectStage.DRAFT)
    client.force_login(district.staff_a)
    client.post(act(project, "open"))
    target_set = open_version(project)
    response = client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS, submit=True))
    assert response.status_code == 409
    assert "还不能提交审核" in text(response)
    assert 'value="新建灌溉渠道长度"' in cell(response, "rows-0-name")
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DRAFT
    assert not target_set.rows.exists()
    # saving the draft is fine before then
    assert client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS)).status_code == 302
    assert target_set.rows.count() == 3


# -- change requests ---------------------------------------------------------------------


def test_change_request_opens_version_2_while_version_1_stays_in_force_and_readable(client, district):
    project = district.project(ProjectStage.BUDGETED)
    client.force_login(district.staff_a)
    assert 'data-testid="targets-change"' in text(client.get(page(project)))

    response = client.post(act(project, "change"), {"reason": "年中追加建设任务"})

    assert response.status_code == 302
    first, second = TargetSet.objects.filter(project=project).order_by("number")
    assert (first.status, second.status) == (TargetSetStatus.APPROVED, TargetSetStatus.DRAFT)
    assert second.change_reason == "年中追加建设任务"
    assert second.rows.count() == 3
    shown = client.get(page(project))
    assert "已提出变更申请（第 2 版）" in text(shown)
    in_force = re.search(r'data-testid="in-force".*?</section>', text(shown), re.S).group(0)
    assert "第 1 版" in in_force
    assert 'data-testid="targets-change"' not in text(shown)
    assert "年中追加建设任务" in cell(shown, "change_reason")  # the edit form of the change
    old = client.get(version_page(project, 1))
    assert old.status_code == 200
    assert "新建灌溉渠道长度" in text(old)
    assert "审核通过" in text(old)


def test_change_is_resubmitted_through_the_same_review_and_supersedes_version_1_when_approved(client, district):
    project = district.project(ProjectStage.BUDGETED)
    client.force_login(district.staff_a)
    client.post(act(project, "change"), {"reason": "年中追加建设任务"})
    second = open_version(project)
    rows = [{**TARGET_ROWS[0], "target_value": "20"}, dict(TARGET_ROWS[1]), dict(TARGET_ROWS[2])]
    response = client.post(act(project, "edit"), edit_post(second, rows, submit=True, change_reason="年中追加建设任务"))
    assert response.status_code == 302, set_errors(response)
    client.force_login(district.leader_a)
    client.post(act(project, "review"), {"number": 2, "decision": "approve", "comment": ""})
    client.force_login(district.finance)
    second.refresh_from_db()
    assert client.post(act(project, "rate"), rate_post(second, "excellent")).status_code == 302
    first, second = TargetSet.objects.filter(project=project).order_by("number")
    assert (first.status, second.status) == (TargetSetStatus.SUPERSEDED, TargetSetStatus.APPROVED)
    project.refresh_from_db()
    assert project.stage == ProjectStage.BUDGETED
    assert "已被新版本取代" in text(client.get(version_page(project, 1)))


def test_change_needs_a_reason_and_creates_nothing_without_one(client, district):
    project = district.project(ProjectStage.BUDGETED)
    client.force_login(district.staff_a)
    response = client.post(act(project, "change"), {"reason": "  "})
    assert response.status_code == 400
    assert "请填写变更理由" in cell(response, "reason")
    assert TargetSet.objects.filter(project=project).count() == 1


def test_change_is_not_offered_before_the_project_is_budgeted(client, district, project):
    client.force_login(district.staff_a)
    assert 'data-testid="targets-change"' not in text(client.get(page(project)))
    response = client.post(act(project, "change"), {"reason": "调整"})
    assert response.status_code == 409
    assert TargetSet.objects.filter(project=project).count() == 1


# -- visibility ---------------------------------------------------------------------------


def test_another_department_gets_404_on_every_targets_page(client, district, project):
    submitted(district, project)
    client.force_login(district.staff_b)
    assert client.get(page(project)).status_code == 404
    assert client.get(version_page(project, 1)).status_code == 404
    assert client.get(search(project), {"q": "GEN"}).status_code == 404
    for action in ("open", "edit", "review", "rate", "change"):
        assert client.post(act(project, action), {"number": 1}).status_code == 404
    client.force_login(district.leader_b)
    assert client.post(act(project, "review"), {"number": 1, "decision": "approve"}).status_code == 404
    assert open_version(project).status == TargetSetStatus.SUBMITTED


def test_a_version_that_does_not_exist_is_404(client, district, project):
    client.force_login(district.staff_a)
    assert client.get(version_page(project, 1)).status_code == 200
    assert client.get(version_page(project, 2)).status_code == 404


def test_indicator_search_returns_general_and_own_indicators_only(client, district, project):
    library(district)
    Indicator.objects.create(
        code="GEN-900",
        name="停用指标",
        scope="general",
        level1="output",
        level2="quantity",
        direction="gte",
        active=False,
    )
    client.force_login(district.staff_a)
    found = json.loads(client.get(search(project), {"q": "0"}).content)["results"]
    assert [r["code"] for r in found] == ["A01-007", "GEN-001"]
    assert found[0] | {"id": None} == {
        "id": None,
        "code": "A01-007",
        "name": "灌区新增面积",
        "level1": "output",
        "level1_display": "产出指标",
        "level2": "quantity",
        "level2_display": "数量指标",
        "direction": "gte",
        "direction_display": "≥",
        "unit": "个",
        "scope": "department",
        "scope_display": "部门个性化",
    }
    assert json.loads(client.get(search(project), {"q": "B01"}).content)["results"] == []
    assert json.loads(client.get(search(project), {"q": "住房"}).content)["results"] == []
    assert json.loads(client.get(search(project), {"q": ""}).content)["results"] == []


def test_indicator_search_returns_at_most_20_matches(client, district, project):
    for i in range(25):
        Indicator.objects.create(
            code=f"GEN-{i:03d}",
            name=f"通用指标{i}",
            scope="general",
            level1="output",
            level2="quantity",
            direction="gte",
        )
    client.force_login(district.staff_a)
    found = json.loads(client.get(search(project), {"q": "GEN"}).content)["results"]
    assert len(found) == 20
    assert found[0]["code"] == "GEN-000"


def test_project_page_summarises_the_targets_when_a_version_is_in_force_and_another_open(client, district):
    project = district.project(ProjectStage.BUDGETED)
    client.force_login(district.staff_a)
    client.post(act(project, "change"), {"reason": "年中追加建设任务"})
    response = client.get(reverse("workflows:project_detail", args=[project.pk]))
    summary = re.search(r'data-testid="targets-summary".*?</section>', text(response), re.S).group(0)
    assert "现行绩效目标：第 1 版 · 审核等次 <b>优</b>" in summary
    assert "变更中：第 2 版 · 填报中" in summary
    assert page(project) in summary


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "person", "action"),
    [
        ("draft", "leader_a", "edit"),
        ("draft", "finance", "edit"),
        ("submitted", "staff_a", "review"),
        ("submitted", "finance", "review"),
        ("dept_approved", "staff_a", "rate"),
        ("dept_approved", "leader_a", "rate"),
        ("dept_approved", "supervisor", "rate"),
    ],
)
def test_action_is_forbidden_and_changes_nothing_when_taken_by_the_wrong_role(
    client, district, project, step, person, action
):
    if step == "submitted":
        submitted(district, project)
    elif step == "dept_approved":
        passed(district, project)
    target_set = open_version(project)
    events = AuditEvent.objects.count()
    data = {
        "edit": lambda: edit_post(target_set, TARGET_ROWS),
        "review": lambda: {"number": 1, "decision": "approve"},
        "rate": lambda: rate_post(target_set, "excellent"),
    }[action]()
    client.force_login(getattr(district, person))
    assert client.post(act(project, action), data).status_code == 403
    target_set.refresh_from_db()
    assert target_set.status == step
    assert AuditEvent.objects.count() == events


def test_acting_twice_is_refused_with_409_when_the_version_has_moved_on(client, district, project):
    target_set = open_version(project)
    client.force_login(district.staff_a)
    assert client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS, submit=True)).status_code == 302
    target_set.refresh_from_db()
    again = client.post(act(project, "edit"), edit_post(target_set, TARGET_ROWS, submit=True))
    assert again.status_code == 409

    client.force_login(district.leader_a)
    assert client.post(act(project, "review"), {"number": 1, "decision": "approve"}).status_code == 302
    again = client.post(act(project, "review"), {"number": 1, "decision": "approve"})
    assert again.status_code == 409
    assert "部门已审核" in text(again)

    client.force_login(district.finance)
    assert client.post(act(project, "rate"), rate_post(target_set, "excellent")).status_code == 302
    again = client.post(act(project, "rate"), rate_post(target_set, "poor", "不通过"))
    assert again.status_code == 409
    target_set.refresh_from_db()
    assert target_set.rating == TargetRating.EXCELLENT


def test_change_requested_twice_is_refused_with_409(client, district):
    project = district.project(ProjectStage.BUDGETED)
    client.force_login(district.staff_a)
    assert client.post(act(project, "change"), {"reason": "追加任务"}).status_code == 302
    again = client.post(act(project, "change"), {"reason": "追加任务"})
    assert again.status_code == 409
    assert TargetSet.objects.filter(project=project).count() == 2


def test_unknown_action_is_404(client, district, project):
    client.force_login(district.staff_a)
    assert client.post(act(project, "approve-all")).status_code == 404
