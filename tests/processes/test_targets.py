"""绩效目标 (DESIGN §3.3): what a version may hold — rows, values, weights, library picks."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, Indicator, TargetRow
from processes.services.targets import target_draft_open, target_set_save
from processes.states import ProjectStage, TargetSetStatus
from tests.conftest import TARGET_ROWS
from workflows.services import targets_submit


def row(**changes):
    """The first row of TARGET_ROWS (≥, 40) with ``changes``."""
    return {**TARGET_ROWS[0], **changes}


def rows_with(index, **changes):
    rows = [dict(r) for r in TARGET_ROWS]
    rows[index].update(changes)
    return rows


@pytest.fixture
def draft(district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    return target_draft_open(project=project, actor=district.staff_a)


def save(district, draft, rows, goal="按期完成"):
    return target_set_save(target_set=draft, actor=district.staff_a, overall_goal=goal, rows=rows)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# -- rows, one at a time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target_value": ""}, "target_value", "定量指标必须填写数值型指标值"),
        ({"target_value": "十二"}, "target_value", "指标值必须是数字"),
        ({"target_value": "-3"}, "target_value", "不能为负数"),
        ({"target_value": "NaN"}, "target_value", "指标值必须是数字"),
        ({"unit": ""}, "unit", "必须填写计量单位"),
        ({"direction": "qualitative", "target_text": ""}, "target_value", "定性指标不填数值"),
        ({"direction": "qualitative", "target_value": "", "target_text": ""}, "target_text", "请描述定性指标的目标"),
        ({"direction": "more"}, "direction", "请选择指标性质"),
        ({"level2": "social"}, "level2", "不属于一级指标"),
        ({"level1": "outputs"}, "level1", "请选择一级指标"),
        ({"name": " "}, "name", "请填写三级指标名称"),
        ({"weight": "0"}, "weight", "必须大于 0"),
        ({"weight": "100.01"}, "weight", "不超过 100"),
        ({"weight": "12.345"}, "weight", "最多保留两位小数"),
        ({"weight": "四十"}, "weight", "权重必须是数字"),
        ({"weight": ""}, "weight", "请填写权重"),
    ],
)
def test_bad_row_is_refused_naming_row_and_field_when_saved(district, draft, changes, field, message):
    save(district, draft, TARGET_ROWS)
    before = list(TargetRow.objects.filter(target_set=draft).values_list("name", "target_value", "weight"))
    with pytest.raises(ValidationError) as excinfo:
        save(district, draft, rows_with(1, **changes), goal="改过的目标")
    errors = errors_of(excinfo)
    assert any(message in m for m in errors[f"rows.1.{field}"]), errors
    # nothing was written: the saved rows and goal are as they were
    draft.refresh_from_db()
    assert draft.overall_goal == "按期完成"
    assert list(TargetRow.objects.filter(target_set=draft).values_list("name", "target_value", "weight")) == before


def test_every_bad_row_is_reported_at_once_when_saved(district, draft):
    rows = [row(target_value="x"), row(name="第二行", unit=""), row(name="新建灌溉渠道长度")]
    with pytest.raises(ValidationError) as excinfo:
        save(district, draft, rows)
    assert set(errors_of(excinfo)) == {"rows.0.target_value", "rows.1.unit", "rows.2.name"}
    assert "与第 1 行指标重复" in errors_of(excinfo)["rows.2.name"][0]


def test_qualitative_row_keeps_its_text_and_quantitative_row_its_number_when_saved(district, draft):
    target_set = save(district, draft, TARGET_ROWS)
    saved = list(target_set.rows.order_by("position"))
    assert [(r.target_value, r.target_text) for r in saved] == [
        (Decimal("12.5"), ""),
        (Decimal("300"), ""),
        (None, "明显改善"),
    ]
    assert saved[0].display_value == "≥12.5公里"
    assert target_set.revision == 2


# -- the library --------------------------------------------------------------------------


def indicator(district, code, *, dept=None, **kw):
    fields = {
        "level1": "output",
        "level2": "quantity",
        "name": f"库内指标{code}",
        "unit": "个",
        "direction": "gte",
        "scope": "department" if dept else "general",
        "department": dept,
        "status": "approved",
        "active": True,
        **kw,
    }
    return Indicator.objects.create(code=code, **fields)


def test_library_row_gives_its_levels_name_direction_and_unit_when_picked(district, draft):
    general = indicator(district, "TY0001", name="项目完成率", unit="%", level2="quality")
    own = indicator(district, "A01-0001", dept=district.dept_a, name="灌溉面积", unit="亩")
    target_set = save(
        district,
        draft,
        [
            {"indicator": general.pk, "name": "被库覆盖", "level2": "cost", "target_value": "100", "weight": "40"},
            {"indicator": own.pk, "target_value": "5000", "weight": "30"},
            TARGET_ROWS[2],
        ],
    )
    first, second, _ = target_set.rows.order_by("position")
    assert (first.indicator, first.name, first.level2, first.unit) == (general, "项目完成率", "quality", "%")
    assert (second.indicator, second.name, second.unit) == (own, "灌溉面积", "亩")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: indicator(d, "B01-0001", dept=d.dept_b), "不能选用其他部门的个性化指标"),
        (lambda d: indicator(d, "TY0009", active=False), "未启用或未入库"),
        (lambda d: indicator(d, "A01-P0001", dept=d.dept_a, status="proposed"), "未启用或未入库"),
    ],
)
def test_indicator_outside_the_projects_choice_is_refused_when_picked(district, draft, make, message):
    chosen = make(district)
    with pytest.raises(ValidationError) as excinfo:
        save(district, draft, [{"indicator": chosen.pk, "target_value": "1", "weight": "40"}, *TARGET_ROWS[1:]])
    errors = errors_of(excinfo)
    assert message in errors["rows.0.indicator"][0]
    assert set(errors) == {"rows.0.indicator"}  # one clear error for the row, not one per field
    if chosen.department == district.dept_b:  # another department's indicator is never named
        assert chosen.name not in errors["rows.0.indicator"][0]
    assert not TargetRow.objects.exists()


def test_unknown_indicator_is_refused_when_picked(district, draft):
    with pytest.raises(ValidationError) as excinfo:
        save(district, draft, [{"indicator": 999999, "target_value": "1", "weight": "40"}])
    assert "指标库中没有这个指标" in errors_of(excinfo)["rows.0.indicator"][0]


# -- the version as a whole (checked when submitted) --------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (rows_with(0, weight="30"), "权重之和应为 100，现为 90"),
        # qualitative 50 > 40 (settings): quantitative 50 < 60
        (rows_with(1, direction="qualitative", target_value="", target_text="按期", weight="20"), "定性指标权重合计"),
        ([row(weight="70"), row(name="完工时间", level2="timeliness", weight="30")], "至少应设置一个效益指标"),
        ([], "请至少填写一个绩效指标"),
    ],
)
def test_incomplete_version_is_refused_and_stays_a_draft_when_submitted(district, draft, rows, message):
    save(district, draft, rows)
    with pytest.raises(ValidationError) as excinfo:
        targets_submit(target_set=draft, actor=district.staff_a)
    assert any(message in m for m in errors_of(excinfo)["rows"]), errors_of(excinfo)
    draft.refresh_from_db()
    assert draft.status == TargetSetStatus.DRAFT
    assert not AuditEvent.objects.filter(action="targets_submit").exists()


def test_overall_goal_is_required_when_submitted(district, draft):
    save(district, draft, TARGET_ROWS, goal="  ")
    with pytest.raises(ValidationError) as excinfo:
        targets_submit(target_set=draft, actor=district.staff_a)
    assert "overall_goal" in errors_of(excinfo)


def test_weight_bounds_follow_the_settings_when_changed(district, draft, settings):
    settings.JIXIAO = {
        **settings.JIXIAO,
        "TARGETS": {
            **settings.JIXIAO["TARGETS"],
            "WEIGHTS": {
                "quantitative": {"min": Decimal("80"), "max": Decimal("100")},
                "qualitative": {"min": Decimal("0"), "max": Decimal("20")},
            },
        },
    }
    save(district, draft, TARGET_ROWS)  # quantitative 70, qualitative 30
    with pytest.raises(ValidationError) as excinfo:
        targets_submit(target_set=draft, actor=district.staff_a)
    assert any("定量指标权重合计应在 80 至 100 之间，现为 70" in m for m in errors_of(excinfo)["rows"])


# -- who may write, and when ---------------------------------------------------------------


@pytest.mark.parametrize("person", ["staff_b", "leader_a", "finance", "supervisor", "expert"])
def test_only_the_projects_department_staff_write_targets_when_others_try(district, draft, person):
    with pytest.raises(PermissionDenied):
        target_set_save(target_set=draft, actor=getattr(district, person), overall_goal="x", rows=TARGET_ROWS)
    assert not TargetRow.objects.exists()


def test_stale_revision_is_a_conflict_when_two_editors_save(district, draft):
    first = target_set_save(
        target_set=draft, actor=district.staff_a, overall_goal="甲", rows=TARGET_ROWS, revision=draft.revision
    )
    with pytest.raises(Conflict):
        target_set_save(target_set=draft, actor=district.staff_a, overall_goal="乙", rows=TARGET_ROWS, revision=1)
    first.refresh_from_db()
    assert first.overall_goal == "甲"


def test_targets_cannot_be_submitted_before_finance_intake_when_the_project_is_a_draft(district):
    project = district.project(ProjectStage.DRAFT)
    target_set = target_draft_open(project=project, actor=district.staff_a)  # drafted with the application
    save(district, target_set, TARGET_ROWS)
    with pytest.raises(ActionNotAllowed):
        targets_submit(target_set=target_set, actor=district.staff_a)
    target_set.refresh_from_db()
    assert target_set.status == TargetSetStatus.DRAFT


def test_first_version_drafted_with_the_application_is_the_one_reviewed_when_routed(district):
    project = district.project(ProjectStage.DRAFT)
    drafted = save(district, target_draft_open(project=project, actor=district.staff_a), TARGET_ROWS)
    from workflows.services import project_act

    for action, actor in [("submit", district.staff_a), ("approve", district.leader_a)]:
        project = project_act(project=project, actor=actor, action=action)
    project = project_act(project=project, actor=district.finance, action="route_to_target_review")
    assert list(project.target_sets.all()) == [drafted]
    assert drafted.rows.count() == 3
    targets_submit(target_set=drafted, actor=district.staff_a)
    drafted.refresh_from_db()
    assert drafted.status == TargetSetStatus.SUBMITTED
