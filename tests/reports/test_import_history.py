"""manage.py import_history: per row and column validation, all or nothing, idempotence,
and imported rows marked as history."""

from __future__ import annotations

import json
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Agency, Department
from processes.models import (
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    ExpertSuggestion,
    HistoryImport,
    Indicator,
    PreAssessment,
    Recheck,
    SelfEvaluation,
)
from processes.services.history import HistoryImportRejected, history_import
from processes.states import EvaluationKind, Grade, ProjectStage
from reports.figures import annual_report, report_json
from tests.factories import BudgetProjectFactory

from .support import INDICATOR_HEADER, sheets, workbook

pytestmark = pytest.mark.django_db


def run(data: dict[str, list[list]] | bytes, **kwargs):
    content = data if isinstance(data, bytes) else workbook(data)
    return history_import(file=BytesIO(content), file_name="history.xlsx", **kwargs)


def errors_of(data: dict[str, list[list]]) -> list[tuple[str, int | None, str]]:
    with pytest.raises(HistoryImportRejected) as caught:
        run(data)
    return [(e.sheet, e.row, e.column) for e in caught.value.errors]


def nothing_written() -> bool:
    return (
        not any(
            model.objects.exists()
            for model in (
                BudgetProject,
                HistoryImport,
                EvaluationCampaign,
                SelfEvaluation,
                Recheck,
                CommissionedEvaluation,
                ExpertSuggestion,
                PreAssessment,
                Indicator,
                Agency,
            )
        )
        and not Department.objects.filter(code__in=["H01", "H02"]).exists()
    )


def with_row(sheet: str, row: list, base=None) -> dict[str, list[list]]:
    data = base or sheets()
    return {**data, sheet: [*data[sheet], row]}


def replace_cell(sheet: str, row: int, column: str, value) -> dict[str, list[list]]:
    """The small year with one cell changed (``row`` as Excel numbers it)."""
    data = sheets()
    rows = [list(r) for r in data[sheet]]
    rows[row - 1][rows[0].index(column)] = value
    return {**data, sheet: rows}


# -- a good workbook ----------------------------------------------------------------------------


def test_import_writes_the_year_as_history_with_computed_grades_and_rates():
    result = run(sheets())

    assert result.created
    history = result.history
    assert history.years == [2019]
    assert result.counts["projects"] == 3 and result.counts["suggestions"] == 4
    projects = {p.code: p for p in BudgetProject.objects.all()}
    assert all(p.history == history and p.stage == ProjectStage.CLOSED for p in projects.values())
    assert projects["P3"].executed_amount == Decimal("150000.25")
    assert Department.objects.get(code="H02").name == "乙街办事处"
    # Grades are computed from the scores, never read.
    assert dict(SelfEvaluation.objects.values_list("project__code", "grade")) == {
        "P1": Grade.EXCELLENT,
        "P2": Grade.GOOD,
        "P3": Grade.POOR,
    }
    recheck = Recheck.objects.get()
    assert (recheck.self_score, recheck.final_score, recheck.final_grade) == (
        Decimal("85.00"),
        Decimal("79.99"),
        Grade.FAIR,
    )
    key = CommissionedEvaluation.objects.get(kind=EvaluationKind.KEY)
    assert key.grade == Grade.EXCELLENT and key.history == history
    # A department evaluation whose row names no agency says so, rather than guessing one.
    department = CommissionedEvaluation.objects.get(kind=EvaluationKind.DEPARTMENT)
    assert department.agency.name == "未载明机构（历史导入）" and department.agency.credit_code is None
    assert EvaluationCampaign.objects.get().history == history
    event = AuditEvent.objects.get(action="history_import")
    assert event.detail["years"] == [2019] and event.detail["projects"] == 3

    figures = report_json(annual_report(2019))
    assert annual_report(2019).imported
    assert figures["pre_assessment"] == {
        "projects": 1,
        "requested": "1000000.00",
        "approved": "800000.00",
        "reduction": "200000.00",
        "reduction_rate": "20.00",
        "conclusions": {"support": 0, "partial": 1, "reject": 0},
    }
    assert figures["recheck"]["completion_rate"] == "90.00"  # 360,000 of the adjusted 400,000
    assert figures["key_evaluation"]["completion"] == {"full": 1, "at_least_90": 0, "below_90": 0}
    assert figures["self_evaluation"]["excellent_or_good_rate"] == "66.67"
    assert figures["department_evaluation"]["items"][0]["completion_rate"] == "95.00"
    assert figures["expert_suggestions"] == 4
    assert figures["evaluated"] == {"projects": 2, "departments": 1, "amount": "3200000.00"}
    # No indicators sheet: the library in force is counted (it is empty here).
    assert figures["indicator_library"] == {"total": 0, "general": 0, "department_specific": 0}


def test_reimporting_the_same_file_changes_nothing():
    content = workbook(sheets())
    first = run(content)
    events = AuditEvent.objects.count()

    again = run(content)

    assert not again.created and again.history == first.history
    assert BudgetProject.objects.count() == 3 and HistoryImport.objects.count() == 1
    assert ExpertSuggestion.objects.count() == 4 and AuditEvent.objects.count() == events


def test_another_file_for_an_imported_year_is_refused():
    run(sheets())
    changed = replace_cell("projects", 2, "project_name", "甲项目（更正）")

    assert ("projects", None, "year") in errors_of(changed)
    assert BudgetProject.objects.get(code="P1").name == "甲项目"


def test_a_year_run_in_the_system_is_not_imported_over(district):
    BudgetProjectFactory(fiscal_year=2019, department=district.dept_a, created_by=district.staff_a)

    assert errors_of(sheets()) == [("projects", None, "year")]
    assert not HistoryImport.objects.exists()


def test_an_indicators_sheet_loads_the_library_and_its_counts_are_the_years():
    indicators = [
        INDICATOR_HEADER,
        ["TY1", "产出指标", "数量指标", "完成数量", "个", "≥", "通用类", "", "", "", "是"],
        ["H01-1", "效益指标", "社会效益指标", "受益人数", "人", "≥", "部门个性化", "H01", "", "", "是"],
        ["H01-2", "满意度指标", "服务对象满意度指标", "满意度", "%", "≥", "部门个性化", "H01", "", "", "是"],
    ]
    result = run(sheets(indicators=indicators))

    assert Indicator.objects.count() == 3 and Indicator.objects.get(code="H01-1").department.code == "H01"
    assert (result.history.indicator_total, result.history.indicator_general) == (3, 1)
    assert report_json(annual_report(2019))["indicator_library"] == {
        "total": 3,
        "general": 1,
        "department_specific": 2,
    }


# -- bad workbooks: every problem by sheet, row and column; nothing written -----------------------


def test_a_missing_sheet_and_missing_or_unknown_columns_are_named():
    data = sheets(rechecks=None)
    data["projects"] = [[*data["projects"][0][:-1], "remark"], *[r[:-1] + ["x"] for r in data["projects"][1:]]]

    found = errors_of(data)

    assert ("rechecks", None, "") in found
    assert ("projects", 1, "remark") in found
    assert ("projects", 1, "executed") in found
    assert nothing_written()


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value"),
    [
        ("projects", 2, "year", "二〇一九"),
        ("projects", 2, "year", 1899),
        ("projects", 3, "department_code", None),
        ("projects", 3, "project_name", None),
        ("projects", 2, "category", "航天"),
        ("projects", 2, "requested", "一百万"),
        ("projects", 2, "requested", 0),
        ("projects", 2, "approved", -5),
        ("projects", 2, "executed", 1.005),
        ("projects", 2, "adjusted", 0),
        ("projects", 4, "department_name", "区甲局"),  # a name another code has: the code is wrong
        ("pre_assessments", 2, "conclusion", "同意"),
        ("pre_assessments", 2, "approved", 1000000.01),  # more than requested
        ("pre_assessments", 2, "project_code", "P9"),
        ("self_evaluations", 3, "score", 100.5),
        ("self_evaluations", 3, "score", 85.555),
        ("self_evaluations", 2, "project_code", None),
        ("rechecks", 2, "agency", None),
        ("rechecks", 2, "project_code", "P9"),  # and so P2's suggestion has no re-check
        ("key_evaluations", 2, "score", "优"),
        ("department_evaluations", 2, "department_code", "H99"),  # and H02's suggestion has none
        ("department_evaluations", 2, "budget", 0),
        ("suggestions", 2, "kind", "monitoring"),
        ("suggestions", 3, "ref", "P2"),  # P2 had no key evaluation
        ("suggestions", 5, "text", None),
    ],
)
def test_a_bad_cell_is_reported_by_sheet_row_and_column_and_nothing_is_written(sheet, row, column, value):
    found = errors_of(replace_cell(sheet, row, column, value))

    expected = [(sheet, row, column)]
    if column == "department_name":
        expected = [(sheet, row, "department_code")]
    elif (sheet, value) == ("rechecks", "P9"):
        expected.append(("suggestions", 2, "ref"))
    elif (sheet, value) == ("department_evaluations", "H99"):
        expected.append(("suggestions", 5, "ref"))
    assert found == expected
    assert nothing_written()


def test_duplicate_rows_name_the_first_one():
    data = with_row("projects", [2019, "H01", "区甲局", "P1", "重复", "民政", 1, 1, 1, 1])
    data = with_row("self_evaluations", ["P1", 80], base=data)
    with pytest.raises(HistoryImportRejected) as caught:
        run(data)

    messages = {(e.sheet, e.row, e.column): e.message for e in caught.value.errors}
    assert set(messages) == {("projects", 5, "project_code"), ("self_evaluations", 5, "project_code")}
    assert "第 2 行" in messages["projects", 5, "project_code"]
    assert nothing_written()


def test_a_recheck_needs_the_projects_self_evaluation():
    data = sheets()
    data["self_evaluations"] = [r for r in data["self_evaluations"] if r[0] != "P2"]

    assert errors_of(data) == [("rechecks", 2, "project_code")]


def test_a_department_name_that_differs_from_the_system_is_refused():
    Department.objects.create(code="H01", name="区另一个局")

    assert errors_of(sheets()) == [("projects", 2, "department_name"), ("projects", 3, "department_name")]
    assert not BudgetProject.objects.exists()


def test_one_bad_indicator_row_rolls_back_everything_already_written():
    indicators = [
        INDICATOR_HEADER,
        ["TY1", "产出指标", "数量指标", "完成数量", "个", "≥", "通用类", "", "", "", "是"],
        ["H01-1", "产出指标", "社会效益指标", "受益人数", "人", "≥", "部门个性化", "H01", "", "", "是"],
    ]
    found = errors_of(sheets(indicators=indicators))

    assert found == [("indicators", 3, "二级指标")]
    assert nothing_written()


def test_every_problem_is_reported_at_once():
    data = replace_cell("projects", 2, "requested", "abc")
    data["self_evaluations"][2] = ["P2", 101]
    data["suggestions"][1] = ["recheck", "P7", "x"]

    assert errors_of(data) == [
        ("projects", 2, "requested"),
        ("self_evaluations", 3, "score"),
        ("suggestions", 2, "ref"),
    ]


def test_a_file_that_is_not_a_workbook_is_refused():
    with pytest.raises(HistoryImportRejected) as caught:
        run(b"MZ\x90\x00 not a workbook")

    assert "xlsx" in str(caught.value.errors[0])
    assert nothing_written()


def test_only_the_finance_section_imports(district):
    with pytest.raises(PermissionDenied):
        run(sheets(), actor=district.staff_a)
    assert nothing_written()

    run(sheets(), actor=district.finance)
    assert HistoryImport.objects.get().imported_by == district.finance


# -- the commands ------------------------------------------------------------------------------


def test_the_command_prints_each_problem_and_fails(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook(replace_cell("self_evaluations", 2, "score", 120)))
    err = StringIO()

    with pytest.raises(CommandError, match="没有写入任何数据"):
        call_command("import_history", str(path), stderr=err)

    assert "「self_evaluations」第 2 行「score」：得分应在 0 到 100 之间。" in err.getvalue()
    assert nothing_written()


def test_the_commands_import_then_report_and_say_when_nothing_changed(tmp_path):
    path = tmp_path / "2019.xlsx"
    path.write_bytes(workbook(sheets()))
    out = StringIO()

    call_command("import_history", str(path), stdout=out)
    call_command("import_history", str(path), stdout=out)
    report = StringIO()
    call_command("annual_report", "--year", "2019", "--format", "json", stdout=report)

    assert "已导入 2019 年度" in out.getvalue() and "没有任何改变" in out.getvalue()
    assert json.loads(report.getvalue())["self_evaluation"]["projects"] == 3


# -- a project pre-assessed 不予支持 (issue 18 item 4) ---------------------------------------------


def with_a_rejected_project(**extra_sheets):
    """The small year plus P4, pre-assessed 不予支持: requested 600,000, approved, adjusted and
    executed 0."""
    data = sheets(**extra_sheets)
    data = with_row("projects", [2019, "H02", "乙街办事处", "P4", "丁项目", "人力社保", 600000, 0, 0, 0], data)
    return with_row("pre_assessments", ["P4", "甲咨询公司", "不予支持", 0], data)


def test_a_rejected_project_imports_and_counts_in_the_pre_assessment_summary_when_its_amounts_are_zero():
    result = run(with_a_rejected_project())

    assert result.created and result.counts["projects"] == 4 and result.counts["pre_assessments"] == 2
    p4 = BudgetProject.objects.get(code="P4")
    assert (p4.approved_amount, p4.adjusted_amount, p4.executed_amount) == (Decimal(0), Decimal(0), Decimal(0))
    assert p4.stage == ProjectStage.REJECTED  # as a project rejected in the system ends
    figures = report_json(annual_report(2019))
    assert figures["pre_assessment"] == {
        "projects": 2,
        "requested": "1600000.00",
        "approved": "800000.00",
        "reduction": "800000.00",
        "reduction_rate": "50.00",
        "conclusions": {"support": 0, "partial": 1, "reject": 1},
    }
    # the other figures are the small year's: P4 has no evaluation and no money spent
    assert figures["evaluated"] == {"projects": 2, "departments": 1, "amount": "3200000.00"}


def test_zero_adjusted_budget_is_still_refused_when_the_project_was_not_rejected():
    data = replace_cell("projects", 3, "adjusted", 0)  # P2: no pre-assessment at all
    assert errors_of(data) == [("projects", 3, "adjusted")]
    data = with_a_rejected_project()
    rows = [list(r) for r in data["pre_assessments"]]
    rows[-1][rows[0].index("conclusion")] = "部分予以支持"  # P4 supported in part, yet adjusted 0
    assert errors_of({**data, "pre_assessments": rows}) == [("projects", 5, "adjusted")]
    assert nothing_written()


def test_a_rejected_project_with_money_is_refused_naming_the_cells():
    data = with_a_rejected_project()
    rows = [list(r) for r in data["projects"]]
    rows[-1][rows[0].index("executed")] = 1000  # 不予支持, yet something spent
    assert errors_of({**data, "projects": rows}) == [("projects", 5, "executed")]


def test_a_rejected_projects_pages_and_the_years_report_open_when_its_amounts_are_zero(client, district):
    run(with_a_rejected_project())
    client.force_login(district.finance)
    p4 = BudgetProject.objects.get(code="P4")
    for url in (
        reverse("workflows:project_list") + "?fiscal_year=2019",
        reverse("workflows:project_detail", args=[p4.pk]),
        reverse("reports:year", args=[2019]),
        reverse("reports:xlsx", args=[2019]),
        reverse("reports:print", args=[2019]),
        reverse("workflows:pre_assessment_summary") + "?year=2019",
        reverse("workflows:pre_assessment_summary_xlsx") + "?year=2019",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    summary = client.get(reverse("workflows:pre_assessment_summary") + "?year=2019").content.decode()
    assert "丁项目" in summary and "不予支持" in summary and "60.00" in summary  # 600,000 requested = 60.00 万元
    detail = client.get(reverse("workflows:project_detail", args=[p4.pk])).content.decode()
    assert "未予支持" in detail and "丁项目" in detail


def test_a_rejected_project_with_an_evaluation_or_an_approved_amount_is_refused_naming_the_row():
    data = with_a_rejected_project(
        self_evaluations=[["project_code", "score"], ["P1", 92.5], ["P2", 85], ["P3", 59.99], ["P4", 80]],
        key_evaluations=[["project_code", "agency", "score"], ["P1", "乙评价所", 90], ["P4", "乙评价所", 70]],
    )
    assert errors_of(data) == [("self_evaluations", 5, "project_code"), ("key_evaluations", 3, "project_code")]
    data = with_a_rejected_project()
    rows = [list(r) for r in data["pre_assessments"]]
    rows[-1][rows[0].index("approved")] = 1000
    assert errors_of({**data, "pre_assessments": rows}) == [("pre_assessments", 3, "approved")]
    assert nothing_written()
