"""The indicator library's one writer: the XLSX/CSV import (all-or-nothing, row errors,
upsert by code, idempotent), export, proposals and their review, the finance section's
edits, and the visibility of the selectors."""

from __future__ import annotations

import json
from io import BytesIO

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from accounts.services import RowError
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, Indicator
from processes.selectors import (
    indicator_counts,
    indicator_filter,
    indicator_get_for,
    indicator_list_for,
    indicators_for_project,
)
from processes.services.audit import audit_verify
from processes.services.indicators import (
    APPROVED,
    COLUMNS,
    DECLINED,
    PROPOSED,
    IndicatorImportRejected,
    indicator_decide,
    indicator_propose,
    indicator_set_active,
    indicator_template_workbook,
    indicator_update,
    indicators_export_workbook,
    indicators_import_rows,
    read_indicator_workbook,
)
from processes.states import IndicatorScope, IndicatorStatus
from tests.factories import BudgetProjectFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def row(**cells) -> dict[str, str]:
    """A good general row; ``cells`` override columns by their Chinese header."""
    base = {
        "指标编码": "G0001",
        "一级指标": "产出指标",
        "二级指标": "数量指标",
        "三级指标": "培训人次",
        "计量单位": "人次",
        "指标性质": "≥",
        "适用范围": "通用类",
        "所属部门编码": "",
        "指标解释": "年度内完成培训的人次",
        "评分标准": "完成得满分",
        "启用": "是",
    }
    base.update(cells)
    return base


GOOD_ROWS = [
    row(),
    row(
        **{
            "指标编码": "G0002",
            "一级指标": "效益",
            "二级指标": "社会效益",
            "三级指标": "群众受益面",
            "计量单位": "",
            "指标性质": "定性",
        }
    ),
    row(
        **{
            "指标编码": "A01-0001",
            "二级指标": "时效",
            "三级指标": "渠道清淤完成时间",
            "计量单位": "月",
            "指标性质": "<=",
            "适用范围": "部门个性化",
            "所属部门编码": "A01",
            "启用": "",
        }
    ),
    row(
        **{
            "指标编码": "B01-0001",
            "一级指标": "满意度指标",
            "二级指标": "服务对象满意度指标",
            "三级指标": "住户满意度",
            "计量单位": "%",
            "适用范围": "部门个性化",
            "所属部门编码": "B01",
            "启用": "否",
        }
    ),
]


def xlsx(rows: list[dict[str, str]], header=COLUMNS, name="indicators.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for r in rows:
        sheet.append([r.get(column, "") for column in header])
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":  # text typed with a leading ', as Excel keeps "="
                cell.data_type = "s"
    out = BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def library() -> dict[str, tuple]:
    return {
        i.code: (
            i.level1,
            i.level2,
            i.name,
            i.unit,
            i.direction,
            i.scope,
            i.department_id,
            i.description,
            i.scoring_standard,
            i.active,
            i.status,
            i.updated_at,
        )
        for i in Indicator.objects.all()
    }


def rejected(actor, rows) -> list[RowError]:
    with pytest.raises(IndicatorImportRejected) as info:
        indicators_import_rows(actor=actor, rows=rows)
    return info.value.errors


def imports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="indicator_import").order_by("sequence"))


# -- import ---------------------------------------------------------------------------------


def test_rows_are_created_with_their_values_when_file_is_good(district):
    result = indicators_import_rows(
        actor=district.finance, rows=read_indicator_workbook(xlsx(GOOD_ROWS)), file_name="指标库.xlsx"
    )

    assert result == {"total": 4, "created": 4, "updated": 0, "unchanged": 0}
    g2 = Indicator.objects.get(code="G0002")
    assert (g2.level1, g2.level2, g2.direction, g2.unit, g2.scope, g2.department) == (
        "effect",
        "social",
        "qualitative",
        "",
        "general",
        None,
    )
    a = Indicator.objects.get(code="A01-0001")
    assert (a.level2, a.direction, a.department, a.active, a.status) == (
        "timeliness",
        "lte",
        district.dept_a,
        True,
        "approved",
    )
    assert Indicator.objects.get(code="B01-0001").active is False
    [event] = imports()
    assert event.actor == district.finance
    assert event.comment == "指标库.xlsx"
    assert event.detail["created"] == 4 and event.detail["file"] == "指标库.xlsx"
    assert audit_verify() is None


BAD_ROWS = [
    pytest.param({"一级指标": "产品指标"}, "一级指标", "未知的一级指标「产品指标」", id="unknown-level1"),
    pytest.param({"二级指标": "数目"}, "二级指标", "未知的二级指标「数目」", id="unknown-level2"),
    pytest.param(
        {"一级指标": "效益指标", "二级指标": "数量指标"},
        "二级指标",
        "不属于一级指标「效益指标」",
        id="level2-not-under-level1",
    ),
    pytest.param({"计量单位": ""}, "计量单位", "必须填写计量单位", id="quantitative-without-unit"),
    pytest.param(
        {"适用范围": "部门个性化", "所属部门编码": "Z99"},
        "所属部门编码",
        "没有编码为「Z99」的部门",
        id="unknown-department",
    ),
    pytest.param({"所属部门编码": "A01"}, "所属部门编码", "通用类指标不属于任何部门", id="general-with-department"),
    pytest.param({"适用范围": "部门个性化"}, "所属部门编码", "必须填写所属部门编码", id="department-without-code"),
    pytest.param({"适用范围": "全区"}, "适用范围", "未知的适用范围「全区」", id="unknown-scope"),
    pytest.param({"指标性质": "大于"}, "指标性质", "未知的指标性质「大于」", id="unknown-direction"),
    pytest.param({"启用": "停用"}, "启用", "应填“是”或“否”", id="bad-active"),
    pytest.param({"三级指标": ""}, "三级指标", "必须填写", id="missing-name"),
    pytest.param({"指标编码": ""}, "指标编码", "必须填写", id="missing-code"),
    pytest.param({"指标编码": "X" * 41}, "指标编码", "不能超过 40 个字符", id="code-too-long"),
]


@pytest.mark.parametrize(("cells", "column", "message"), BAD_ROWS)
def test_bad_row_is_named_by_row_and_column_and_nothing_is_written_when_imported(district, cells, column, message):
    indicators_import_rows(actor=district.finance, rows=[row(**{"三级指标": "原名称"})])
    before = library()
    rows = [row(**{"三级指标": "新名称"}), row(**{"指标编码": "G0009", **cells}), row(**{"指标编码": "G0010"})]

    errors = rejected(district.finance, rows)

    assert [(e.row, e.column) for e in errors] == [(3, column)]
    assert message in errors[0].message
    assert f"第 3 行「{column}」" in str(errors[0])
    assert library() == before
    assert len(imports()) == 1


def test_duplicate_code_names_both_rows_when_file_repeats_a_code(district):
    rows = [row(), row(**{"指标编码": "G0002"}), row(**{"三级指标": "另一个"})]

    errors = rejected(district.finance, rows)

    assert [(e.row, e.column) for e in errors] == [(4, "指标编码")]
    assert "与第 2 行的指标编码重复" in errors[0].message
    assert not Indicator.objects.exists()


def test_every_bad_row_is_reported_when_file_has_several(district):
    rows = [
        row(**{"一级指标": "产品"}),
        row(**{"指标编码": "G0002"}),
        row(**{"指标编码": "G0003", "计量单位": "", "启用": "x"}),
    ]

    errors = rejected(district.finance, rows)

    assert [(e.row, e.column) for e in errors] == [(2, "一级指标"), (4, "计量单位"), (4, "启用")]


def test_header_problems_are_reported_on_row_one_when_columns_differ(district):
    header = [c for c in COLUMNS if c != "计量单位"] + ["备注"]

    with pytest.raises(IndicatorImportRejected) as info:
        read_indicator_workbook(xlsx([row()], header=header))

    assert {(e.row, e.column) for e in info.value.errors} == {(1, "备注"), (1, "计量单位")}


def test_file_is_refused_when_it_is_not_a_workbook(district):
    with pytest.raises(IndicatorImportRejected) as info:
        read_indicator_workbook(SimpleUploadedFile("indicators.xlsx", b"not a zip"))
    assert "无法读取该文件" in info.value.errors[0].message
    with pytest.raises(IndicatorImportRejected):
        read_indicator_workbook(SimpleUploadedFile("indicators.csv", b"a,b"))


def test_row_numbers_count_blank_rows_when_file_has_gaps(district):
    upload = xlsx([row(), {c: "" for c in COLUMNS}, row(**{"指标编码": "G0002", "一级指标": "产品"})])

    errors = rejected(district.finance, read_indicator_workbook(upload))

    assert [(e.row, e.column) for e in errors] == [(4, "一级指标")]


def test_import_is_refused_when_actor_is_not_finance(district):
    for person in (district.staff_a, district.supervisor, district.sysadmin):
        with pytest.raises(PermissionDenied):
            indicators_import_rows(actor=person, rows=[row()])
    assert not Indicator.objects.exists()


def test_reimport_writes_nothing_when_file_is_the_same(district):
    rows = read_indicator_workbook(xlsx(GOOD_ROWS))
    indicators_import_rows(actor=district.finance, rows=rows)
    before = library()

    with CaptureQueriesContext(connection) as queries:
        result = indicators_import_rows(actor=district.finance, rows=rows)

    assert result == {"total": 4, "created": 0, "updated": 0, "unchanged": 4}
    assert library() == before  # updated_at included
    writes = [q["sql"] for q in queries if not q["sql"].startswith("SELECT")]
    assert writes == []  # not even an audit event: the library did not change
    assert [e.detail["created"] for e in imports()] == [4]


def test_rows_are_updated_by_code_when_file_changes(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    before = library()
    changed = [dict(r) for r in GOOD_ROWS]
    changed[0]["三级指标"] = "培训人次（含线上）"
    changed[2]["启用"] = "否"
    changed.append(row(**{"指标编码": "G0100", "三级指标": "新增指标"}))

    result = indicators_import_rows(actor=district.finance, rows=changed)

    assert result == {"total": 5, "created": 1, "updated": 2, "unchanged": 2}
    after = library()
    assert after["G0001"][2] == "培训人次（含线上）"
    assert after["A01-0001"][9] is False
    assert after["G0001"][11] > before["G0001"][11]
    assert after["G0002"] == before["G0002"] and after["B01-0001"] == before["B01-0001"]
    assert imports()[-1].detail["updated_codes"] == ["G0001", "A01-0001"]


def test_rows_absent_from_the_file_stay_when_file_is_partial(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)

    indicators_import_rows(actor=district.finance, rows=[GOOD_ROWS[0]])

    assert Indicator.objects.count() == 4


def test_code_of_a_proposal_is_refused_when_file_reuses_it(district):
    proposal = propose(district)

    errors = rejected(district.finance, [row(**{"指标编码": proposal.code})])

    assert [(e.row, e.column) for e in errors] == [(2, "指标编码")]
    assert "部门提议" in errors[0].message


def test_import_takes_a_constant_number_of_queries_when_rows_grow(district):
    def queries_for(n: int, prefix: str) -> int:
        rows = [row(**{"指标编码": f"{prefix}{i:05d}"}) for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            indicators_import_rows(actor=district.finance, rows=rows)
        return len(queries)

    small, large = queries_for(10, "S"), queries_for(1200, "L")

    # Only more INSERT statements: SQLite takes 999 parameters a statement, which Django
    # fills with 66 rows of 15 columns; 1,200 rows are 19 of them, never one per row.
    assert small <= 15
    assert large - small <= 1200 // 50


# -- export and template ----------------------------------------------------------------------


def test_export_then_import_changes_nothing_when_round_tripped(district):
    tricky = row(
        **{
            "指标编码": "G0003",
            "三级指标": "=SUM(A1:A2) 不是公式",
            "指标解释": "第一行\n第二行",
            "指标性质": "=",
            "计量单位": "万元",
        }
    )
    indicators_import_rows(actor=district.finance, rows=[*GOOD_ROWS, tricky])
    approved = propose(district, name="农田灌溉面积")
    indicator_decide(indicator=approved, actor=district.finance, approve=True)
    before = library()

    exported = indicators_export_workbook(Indicator.objects.all())
    rows = read_indicator_workbook(SimpleUploadedFile("export.xlsx", exported))
    result = indicators_import_rows(actor=district.finance, rows=rows)

    assert result == {"total": 6, "created": 0, "updated": 0, "unchanged": 6}
    assert library() == before
    assert Indicator.objects.get(code="G0003").name == "=SUM(A1:A2) 不是公式"


def test_export_holds_approved_rows_in_the_import_format_when_proposals_exist(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    pending = propose(district)

    book = openpyxl.load_workbook(BytesIO(indicators_export_workbook(Indicator.objects.all())))
    sheet = list(book.worksheets[0].iter_rows(values_only=True))

    assert sheet[0] == COLUMNS
    assert [r[0] for r in sheet[1:]] == ["A01-0001", "B01-0001", "G0001", "G0002"]
    assert pending.code not in {r[0] for r in sheet}
    assert sheet[1][1:8] == ("产出指标", "时效指标", "渠道清淤完成时间", "月", "≤", "部门个性化", "A01")
    assert book.sheetnames == ["绩效指标库", "说明"]


def test_template_has_the_header_and_explains_each_column_when_downloaded(db):
    book = openpyxl.load_workbook(BytesIO(indicator_template_workbook()))

    assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)] == [list(COLUMNS)]
    explained = {r[0] for r in book["说明"].iter_rows(values_only=True)}
    assert set(COLUMNS) <= explained
    text = " ".join(str(c) for r in book["说明"].iter_rows(values_only=True) for c in r if c)
    assert "服务对象满意度指标" in text and "部门个性化" in text and "定性" in text


# -- proposals ------------------------------------------------------------------------------------


def propose(district, staff=None, name="渠道清淤长度", **fields):
    values = {"level1": "output", "level2": "quantity", "unit": "公里", "direction": "gte", **fields}
    return indicator_propose(actor=staff or district.staff_a, name=name, **values)


def notes(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def test_proposal_is_numbered_for_the_department_and_finance_is_told_when_staff_propose(district):
    first = propose(district, description="每年\r\n清淤")
    second = propose(district, name="渠道清淤宽度")

    assert (first.code, second.code) == ("A01-P0001", "A01-P0002")
    assert (first.status, first.scope, first.department, first.proposed_by) == (
        IndicatorStatus.PROPOSED,
        IndicatorScope.DEPARTMENT,
        district.dept_a,
        district.staff_a,
    )
    assert first.description == "每年\n清淤"
    event = AuditEvent.objects.get(object_type="processes.indicator", object_id=str(first.pk))
    assert (event.action, event.actor, event.to_state) == ("propose", district.staff_a, "proposed")
    [note, _second] = notes(district.finance)
    assert note.verb == PROPOSED
    assert note.text == "区农水局提出部门个性化指标「渠道清淤长度」（A01-P0001），请审核入库"
    assert note.url == f"/library/{first.pk}/"
    assert json.loads(json.dumps(note.params)) == note.params
    assert notes(district.staff_a) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"level1": "effect", "level2": "quantity"}, "level2"),
        ({"unit": ""}, "unit"),
        ({"unit": "", "direction": "qualitative", "name": " "}, "name"),
    ],
)
def test_proposal_is_refused_on_the_field_when_a_rule_is_broken(district, fields, field):
    with pytest.raises(ValidationError) as info:
        propose(district, **fields)
    assert field in info.value.message_dict
    assert not Indicator.objects.exists()
    assert notes(district.finance) == []


def test_proposal_is_refused_when_proposer_is_not_department_staff(district):
    for person in (district.leader_a, district.finance, district.expert):
        with pytest.raises(PermissionDenied):
            propose(district, staff=person)


def test_proposal_enters_the_library_and_proposer_is_told_when_finance_approves(district):
    proposal = propose(district)

    approved = indicator_decide(
        indicator=proposal, actor=district.finance, approve=True, comment="同意", code="NS-0001"
    )

    assert (approved.status, approved.code, approved.decision_comment) == ("approved", "NS-0001", "同意")
    event = AuditEvent.objects.filter(object_id=str(proposal.pk), object_type="processes.indicator").last()
    assert (event.action, event.from_state, event.to_state, event.detail) == (
        "approve",
        "proposed",
        "approved",
        {"code": ["A01-P0001", "NS-0001"]},
    )
    [note] = notes(district.staff_a)
    assert note.verb == APPROVED and note.kind == "approved"
    assert note.text == "您提出的指标「渠道清淤长度」已审核入库，指标编码 NS-0001"
    assert proposal.pk in {i.pk for i in indicators_for_project(BudgetProjectFactory(department=district.dept_a))}
    with pytest.raises(ActionNotAllowed):
        indicator_decide(indicator=proposal, actor=district.finance, approve=False, comment="重复审核")


def test_decline_needs_a_reason_and_tells_the_proposer_when_given(district):
    proposal = propose(district)

    with pytest.raises(ValidationError) as info:
        indicator_decide(indicator=proposal, actor=district.finance, approve=False, comment="  ")
    assert "comment" in info.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == IndicatorStatus.PROPOSED

    declined = indicator_decide(indicator=proposal, actor=district.finance, approve=False, comment="与通用指标重复")

    assert declined.status == IndicatorStatus.DECLINED
    [note] = notes(district.staff_a)
    assert note.verb == DECLINED
    assert note.text == "您提出的指标「渠道清淤长度」未予入库。理由：与通用指标重复"
    assert AuditEvent.objects.filter(object_id=str(proposal.pk), action="decline").count() == 1


def test_decision_is_refused_when_actor_is_not_finance_or_code_is_taken(district):
    indicators_import_rows(actor=district.finance, rows=[row()])
    proposal = propose(district)

    with pytest.raises(PermissionDenied):
        indicator_decide(indicator=proposal, actor=district.leader_a, approve=True)
    with pytest.raises(ValidationError) as info:
        indicator_decide(indicator=proposal, actor=district.finance, approve=True, code="G0001")
    assert "code" in info.value.message_dict
    proposal.refresh_from_db()
    assert (proposal.status, proposal.code) == ("proposed", "A01-P0001")


# -- the finance section's edits -------------------------------------------------------------------


def test_edit_records_the_changed_fields_when_finance_saves(district):
    indicators_import_rows(actor=district.finance, rows=[row()])
    indicator = Indicator.objects.get(code="G0001")

    indicator_update(indicator=indicator, actor=district.finance, name="培训人数", unit="人")

    indicator.refresh_from_db()
    assert (indicator.name, indicator.unit) == ("培训人数", "人")
    event = AuditEvent.objects.get(object_type="processes.indicator", object_id=str(indicator.pk))
    assert event.action == "edit"
    assert event.detail == {"changed": {"name": ["培训人次", "培训人数"], "unit": ["人次", "人"]}}


def test_edit_writes_nothing_when_values_are_the_same(district):
    indicators_import_rows(actor=district.finance, rows=[row()])
    indicator = Indicator.objects.get(code="G0001")
    before = indicator.updated_at

    indicator_update(indicator=indicator, actor=district.finance, name="培训人次")

    indicator.refresh_from_db()
    assert indicator.updated_at == before
    assert not AuditEvent.objects.filter(object_type="processes.indicator").exists()


def test_edit_is_refused_when_rules_break_or_actor_is_not_finance(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    general = Indicator.objects.get(code="G0001")

    with pytest.raises(ValidationError) as info:
        indicator_update(indicator=general, actor=district.finance, department=district.dept_a)
    assert "department" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        indicator_update(indicator=general, actor=district.finance, code="A01-0001")
    assert "code" in info.value.message_dict
    with pytest.raises(PermissionDenied):
        indicator_update(indicator=general, actor=district.staff_a, name="x")
    with pytest.raises(ActionNotAllowed):
        indicator_update(indicator=propose(district), actor=district.finance, name="x")

    moved = indicator_update(
        indicator=general, actor=district.finance, scope=IndicatorScope.DEPARTMENT, department=district.dept_b
    )
    assert (moved.scope, moved.department) == ("department", district.dept_b)


def test_deactivated_row_is_not_offered_to_projects_when_finance_deactivates(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    general = Indicator.objects.get(code="G0001")
    project = BudgetProjectFactory(department=district.dept_a)
    assert {i.code for i in indicators_for_project(project)} == {"G0001", "G0002", "A01-0001"}

    indicator_set_active(indicator=general, actor=district.finance, active=False)
    indicator_set_active(indicator=general, actor=district.finance, active=False)

    assert {i.code for i in indicators_for_project(project)} == {"G0002", "A01-0001"}
    assert list(
        AuditEvent.objects.filter(object_type="processes.indicator", object_id=str(general.pk)).values_list(
            "action", flat=True
        )
    ) == ["deactivate"]
    indicator_set_active(indicator=general, actor=district.finance, active=True)
    assert "G0001" in {i.code for i in indicators_for_project(project)}


# -- visibility and filters ------------------------------------------------------------------------

#: role -> the codes it reads: G* general, A01-*/B01-* department rows, *-P* proposals.
READS = {
    "staff_a": {"G0001", "G0002", "A01-0001", "A01-P0001"},
    "leader_a": {"G0001", "G0002", "A01-0001", "A01-P0001"},
    "staff_b": {"G0001", "G0002", "B01-0001", "B01-P0001"},
    "finance": {"G0001", "G0002", "A01-0001", "B01-0001", "A01-P0001", "B01-P0001"},
    "supervisor": {"G0001", "G0002", "A01-0001", "B01-0001"},
    "auditor": {"G0001", "G0002", "A01-0001", "B01-0001"},
    "expert": {"G0001", "G0002", "A01-0001", "B01-0001"},
    "deputy": {"G0001", "G0002", "A01-0001", "B01-0001"},
    "agency_staff": {"G0001", "G0002", "A01-0001", "B01-0001"},
    "sysadmin": {"G0001", "G0002"},
}


@pytest.mark.parametrize(("person", "codes"), READS.items())
def test_library_is_scoped_when_role_differs(district, person, codes):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    propose(district, staff=district.staff_a)
    propose(district, staff=district.staff_b)
    user = getattr(district, person)

    assert {i.code for i in indicator_list_for(user)} == codes
    for indicator in Indicator.objects.all():
        if indicator.code in codes:
            assert indicator_get_for(user, indicator.pk) == indicator
        else:
            with pytest.raises(Http404):
                indicator_get_for(user, indicator.pk)


def test_filters_narrow_the_list_when_given(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    everything = indicator_list_for(district.finance)

    def codes(**params) -> set[str]:
        return {i.code for i in indicator_filter(everything, params)}

    assert codes(level1="satisfaction") == {"B01-0001"}
    assert codes(level2="social") == {"G0002"}
    assert codes(scope="general") == {"G0001", "G0002"}
    assert codes(department=district.dept_a.pk) == {"A01-0001"}
    assert codes(direction="lte") == {"A01-0001"}
    assert codes(active=False) == {"B01-0001"}
    assert codes(active="1") == {"G0001", "G0002", "A01-0001"}
    assert codes(q="清淤") == {"A01-0001"}
    assert codes(q="完成培训") == {"G0001", "G0002", "A01-0001", "B01-0001"}  # description
    assert codes(q="g0002") == {"G0002"}
    assert codes(status="proposed") == set()
    assert indicator_counts(everything) == {"total": 4, "general": 2, "department": 2}


def test_csv_rows_import_when_headers_carry_a_bom_and_blanks(district):
    import csv
    import io

    text = "\ufeff" + ",".join(f" {c} " if c == "三级指标" else c for c in COLUMNS) + "\n"
    text += ",".join(row()[c] for c in COLUMNS) + "\n"

    result = indicators_import_rows(actor=district.finance, rows=csv.DictReader(io.StringIO(text)))

    assert result["created"] == 1
    assert Indicator.objects.get().name == "培训人次"


def test_reading_reports_its_progress_and_refuses_an_overlong_sheet(district, monkeypatch):
    from processes.services import indicators
    from processes.services.jobs import NoProgress

    class Recorder(NoProgress):
        def start(self, phase: str, total: int) -> None:
            seen.append((phase, total))
            super().start(phase, total)

    seen: list[tuple[str, int]] = []
    progress = Recorder()
    read_indicator_workbook(xlsx(GOOD_ROWS), progress=progress)
    assert (seen, progress.done) == ([("读取文件", 5)], 5)

    monkeypatch.setattr(indicators, "MAX_SHEET_ROWS", 3)
    with pytest.raises(IndicatorImportRejected) as info:
        read_indicator_workbook(xlsx(GOOD_ROWS))
    assert "超过 3 行" in info.value.errors[0].message
