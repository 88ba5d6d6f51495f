"""The annual report's XLSX (reports/exports.py): the hand-computed year cell by cell (amounts
in 万元 and rates in percent, rounded half up before they are written, with number
formats), the totals and figures under each attachment, frozen headers and widths, a year
with no data, text that looks like a formula, the download's Chinese file name, and the
command that writes the same workbook."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse

from processes.models import BudgetProject
from reports.exports import annual_report_xlsx
from reports.figures import annual_report

from .builders import imported_history, small_year
from .pages import figures_below, sheet_rows, summary_figures, workbook

pytestmark = pytest.mark.django_db

SHEETS = ["汇总", "事前评估", "附件1 复核", "附件2 重点评价", "附件3 部门整体", "成绩与问题"]


def d(value) -> Decimal:
    """A cell's number as the exact decimal it was written as."""
    return Decimal(str(value))


@pytest.fixture
def book(district):
    small_year(district)
    return workbook(annual_report_xlsx(annual_report(2022)))


def test_workbook_has_the_six_sheets_with_titles_and_frozen_headers(book):
    assert book.sheetnames == SHEETS
    attachment = book["附件1 复核"]
    assert attachment["A1"].value == "2022 年度荔湾区财政支出项目绩效自评复核汇总表"
    assert attachment["A2"].value == "金额单位：万元"
    assert [c.value for c in attachment[3]] == [
        "序号",
        "预算部门",
        "项目编码",
        "项目名称",
        "预算数",
        "执行数",
        "预算完成率（%）",
        "评价得分",
        "绩效等级",
    ]
    assert all(c.font.bold for c in attachment[3])
    assert book["附件2 重点评价"]["A1"].value == "2022 年度荔湾区财政支出项目绩效重点评价汇总表"
    assert book["附件3 部门整体"]["A1"].value == "2022 年度荔湾区部门整体支出绩效评价汇总表"
    assert book["汇总"]["A1"].value == "荔湾区2022年度财政支出绩效管理情况"
    for name in SHEETS:
        assert book[name].freeze_panes == "A4", name
    assert attachment.column_dimensions["D"].width == 36
    assert book["附件2 重点评价"].column_dimensions["J"].width == 48


def test_recheck_sheet_holds_the_rows_totals_and_figures_rounded_half_up(book):
    sheet = book["附件1 复核"]
    rows = sheet_rows(sheet)

    assert rows[3] == (1, "区农水局", "2022-R1", "农田水利设施维护", 20, 18, 90.01, 92.5, "优")
    assert rows[4] == (2, "区农水局", "2022-R2", "河涌保洁", 100, 100, 100, 85, "良")
    assert rows[5] == (3, "区住房建设局", "2022-R3", "老旧小区改造", 30, 15, 50, 70, "中")
    assert rows[6] == (None, "合计", None, "2 个部门 3 个项目", 150, 133, 88.67, None, None)
    # 90.005 % is written as 90.01 (half up), not 90.00 (half even) nor the float 90.005
    assert d(sheet["G4"].value) == Decimal("90.01")
    assert sheet["E4"].number_format == "#,##0.00"
    assert sheet["G4"].number_format == '0.00"%"'
    assert sheet["H4"].number_format == "0.00"
    assert sheet["B7"].font.bold
    assert figures_below(sheet) == {
        "项目优良率（%）": 66.67,
        "总体预算完成率（%）": 88.67,
        "优等次项目": 1,
        "良等次项目": 1,
        "中等次项目": 1,
        "差等次项目": 0,
        "预算完成率为100%的项目": 1,
        "预算完成率为90%–100%的项目": 1,
        "预算完成率为90%以下的项目": 1,
    }


def test_key_sheet_holds_findings_and_suggestions_and_totals_in_wan_half_up(book):
    sheet = book["附件2 重点评价"]
    rows = sheet_rows(sheet)

    assert rows[2][-2:] == ("主要问题", "意见建议")
    assert rows[3] == (1, "区农水局", "2022-K2", "东沙涌综合整治", 50.01, 50.01, 100, 95, "优", None, None)
    assert rows[4] == (
        2,
        "区住房建设局",
        "2022-K1",
        "城市更新改造工程",
        200,
        195.01,
        97.51,
        88.5,
        "良",
        "资金拨付滞后",
        "1. 加快资金拨付进度\n2. 完善绩效目标设置",
    )
    # 2,500,050 yuan = 250.005万 → 250.01; 2,450,150 = 245.015万 → 245.02
    assert rows[5][1:7] == ("合计", None, "2 个部门 2 个项目", 250.01, 245.02, 98)
    assert sheet["J5"].alignment.wrap_text
    assert figures_below(sheet)["项目优良率（%）"] == 100


def test_department_sheet_holds_each_department_and_the_total(book):
    rows = sheet_rows(book["附件3 部门整体"])

    assert rows[2] == ("序号", "部门", "预算数", "执行数", "预算完成率（%）", "综合得分", "绩效等级")
    assert rows[3] == (1, "区农水局", 4000, 3602.4, 90.06, 90.34, "优")
    assert rows[4] == (2, "区住房建设局", 700, 667.28, 95.33, 85.82, "良")
    assert rows[5] == (None, "合计（2 个部门）", 4700, 4269.68, 90.84, None, None)


def test_pre_assessment_sheet_lists_each_project_with_its_conclusion(book):
    sheet = book["事前评估"]
    rows = sheet_rows(sheet)

    assert rows[3] == (1, "区农水局", "2022-P1", "碧道建设工程", "广州某绩效评价事务所2022", 300, 300, 0, 0, "予以支持")
    assert rows[4][5:] == (492, 372, 120, 24.39, "部分予以支持")
    assert rows[5][1] == "合计" and rows[5][5:9] == (792, 672, 120, 15.15)
    assert figures_below(sheet) == {"予以支持": 1, "部分予以支持": 1, "不予支持": 0}


def test_summary_sheet_holds_every_figure_of_the_report(book):
    figures = summary_figures(book["汇总"])

    assert book["汇总"]["A2"].value == "数据来源：系统数据"
    assert figures[("预算绩效指标库", "指标总数", "条")] == 3
    assert figures[("事前绩效评估", "送审金额", "万元")] == 792
    assert figures[("事前绩效评估", "核减率", "%")] == 15.15
    assert figures[("事前绩效评估", "部分予以支持", "个")] == 1
    assert figures[("全面自评", "自评预算项目", "个")] == 7
    assert figures[("全面自评", "良等次占比", "%")] == 57.14
    assert figures[("全面自评", "优良率", "%")] == 71.43
    assert figures[("自评复核（附件1）", "总体预算完成率", "%")] == 88.67
    assert figures[("自评复核（附件1）", "预算完成率为90%–100%的项目", "个")] == 1
    assert figures[("重点评价（附件2）", "预算数", "万元")] == 250.01
    assert figures[("部门整体绩效评价（附件3）", "预算数", "万元")] == 4700
    assert figures[("专家建议", "专家建议", "条")] == 4
    assert figures[("绩效评价范围", "评价项目数", "个")] == 5
    # 51,000,050 yuan = 5,100.005万 → 5,100.01; 0.51亿
    assert figures[("绩效评价范围", "涉及财政资金", "万元")] == 5100.01
    assert figures[("绩效评价范围", "涉及财政资金", "亿元")] == 0.51


def test_workbook_holds_zeros_without_error_when_the_year_has_no_data(db):
    book = workbook(annual_report_xlsx(annual_report(2035)))

    figures = summary_figures(book["汇总"])
    assert figures[("事前绩效评估", "核减率", "%")] == 0
    assert figures[("全面自评", "优良率", "%")] == 0
    assert figures[("绩效评价范围", "涉及财政资金", "亿元")] == 0
    recheck = sheet_rows(book["附件1 复核"])
    assert recheck[3] == (None, "合计", None, "0 个部门 0 个项目", 0, 0, 0, None, None)
    assert figures_below(book["附件1 复核"])["项目优良率（%）"] == 0
    assert sheet_rows(book["附件3 部门整体"])[3] == (None, "合计（0 个部门）", 0, 0, 0, None, None)


def test_text_that_looks_like_a_formula_stays_text_when_written(district):
    small_year(district)
    BudgetProject.objects.filter(code="2022-R1").update(name='=HYPERLINK("http://evil.example","x")')

    sheet = workbook(annual_report_xlsx(annual_report(2022)))["附件1 复核"]

    assert sheet["D4"].value == '=HYPERLINK("http://evil.example","x")'
    assert sheet["D4"].data_type == "s"


def test_imported_year_names_its_workbook_inside_the_bureau_only(db):
    imported_history(2019, file_name="liwan-2019.xlsx")
    report = annual_report(2019)

    inside = workbook(annual_report_xlsx(report))["汇总"]["A2"].value
    public = workbook(annual_report_xlsx(report, public=True))

    assert inside.startswith("数据来源：历史导入 liwan-2019.xlsx")
    assert public["汇总"]["A2"].value.startswith("数据来源：历史导入（")
    assert "事前评估" not in public.sheetnames
    assert summary_figures(public["汇总"])[("预算绩效指标库", "指标总数", "条")] == 7104


def test_download_has_the_chinese_file_name_when_fetched(client, district):
    small_year(district)
    client.force_login(district.auditor)

    response = client.get(reverse("reports:xlsx", args=[2022]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = quote("荔湾区2022年度财政支出绩效管理情况.xlsx")
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"annual-report-2022.xlsx\"; filename*=utf-8''{name}"
    )
    assert sheet_rows(workbook(response.content)["附件1 复核"])[3][6] == 90.01


def test_command_writes_the_same_workbook_when_asked_for_xlsx(district, tmp_path):
    small_year(district)
    out = tmp_path / "report.xlsx"

    call_command("annual_report", "--year", "2022", "--format", "xlsx", "--output", str(out))

    book = workbook(out.read_bytes())
    assert book.sheetnames == SHEETS
    assert sheet_rows(book["附件2 重点评价"])[5][4] == 250.01
