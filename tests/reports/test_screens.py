"""The report screens (reports/views.py): a small hand-computed year on the report page (万元
in the tables, 亿元 in the summary lines, rates half up), a year with no data, the
overview's years with the imported ones marked, the print page, who may see them (the
bureau-wide readers; others 403, anonymous to the login page), the nav link, and a query
count that does not grow with the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.states import EvaluationStatus
from reports.models import ReportDisclosure
from tests.processes.test_commissioned import Chain

from .builders import imported_history, many_rows, small_year
from .pages import read, text

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("reports:overview")


def year_url(year: int) -> str:
    return reverse("reports:year", args=[year])


def report_urls(year: int) -> list[tuple[str, str]]:
    """Every report screen of the bureau: (method, url)."""
    return [
        ("get", OVERVIEW),
        ("get", year_url(year)),
        ("get", reverse("reports:xlsx", args=[year])),
        ("get", reverse("reports:print", args=[year])),
        ("post", reverse("reports:disclose", args=[year])),
    ]


@pytest.fixture
def year(district):
    return small_year(district)


@pytest.fixture
def finance(client, district):
    client.force_login(district.finance)
    return client


# -- the figures --------------------------------------------------------------------------------


def test_report_page_shows_the_hand_computed_tables_in_wan_when_the_year_has_rows(finance, year):
    page = read(finance.get(year_url(2022)))

    assert page.tables["pre-assessment-table"][1:] == [
        [
            "区农水局",
            "碧道建设工程 2022-P1",
            "广州某绩效评价事务所2022",
            "300.00",
            "300.00",
            "0.00",
            "0.00%",
            "予以支持",
        ],
        [
            "区住房建设局",
            "城市更新基础数据调查 2022-P2",
            "广州某绩效评价事务所2022",
            "492.00",
            "372.00",
            "120.00",
            "24.39%",
            "部分予以支持",
        ],
        ["合计", "", "", "792.00", "672.00", "120.00", "15.15%", ""],
    ]
    recheck = page.tables["recheck-table"]
    assert recheck[1:] == [
        # 180,010 ÷ 200,000 = 90.005 % → 90.01 % half up; 18.001万 → 18.00
        ["1", "区农水局", "农田水利设施维护 2022-R1", "20.00", "18.00", "90.01%", "92.50", "优"],
        ["2", "区农水局", "河涌保洁 2022-R2", "100.00", "100.00", "100.00%", "85.00", "良"],
        ["3", "区住房建设局", "老旧小区改造 2022-R3", "30.00", "15.00", "50.00%", "70.00", "中"],
        ["", "合计", "2 个部门 3 个项目", "150.00", "133.00", "88.67%", "", ""],
    ]
    assert page.lists["recheck-table-figures"] == {
        "项目优良率": "66.67%",
        "总体预算完成率": "88.67%",
        "优等次": "1",
        "良等次": "1",
        "中等次": "1",
        "差等次": "0",
        "预算完成率为100%的项目": "1",
        "预算完成率为90%–100%的项目": "1",
        "预算完成率为90%以下的项目": "1",
    }
    key = page.tables["key-table"]
    assert key[1] == [
        "1",
        "区农水局",
        "东沙涌综合整治 2022-K2",
        "50.01",  # 500,050 → 50.005万 → 50.01 half up
        "50.01",
        "100.00%",
        "95.00",
        "优",
        "—",
        "—",
    ]
    # the evaluation's own budget (2,000,000) over the project's; 97.505 % → 97.51 %
    assert key[2] == [
        "2",
        "区住房建设局",
        "城市更新改造工程 2022-K1",
        "200.00",
        "195.01",
        "97.51%",
        "88.50",
        "良",
        "资金拨付滞后",
        "加快资金拨付进度 完善绩效目标设置",
    ]
    assert key[3] == ["", "合计", "2 个部门 2 个项目", "250.01", "245.02", "98.00%", "", "", "", ""]
    assert page.lists["key-table-figures"]["项目优良率"] == "100.00%"
    assert page.lists["key-table-figures"]["预算完成率为90%以下的项目"] == "0"
    assert page.tables["department-table"][1:] == [
        ["1", "区农水局", "4,000.00", "3,602.40", "90.06%", "90.34", "优"],
        ["2", "区住房建设局", "700.00", "667.28", "95.33%", "85.82", "良"],
        ["", "合计（2 个部门）", "4,700.00", "4,269.68", "90.84%", "", ""],
    ]
    assert page.tables["self-evaluation-grades"][1:] == [
        ["优", "1", "14.29%"],
        ["良", "4", "57.14%"],
        ["中", "1", "14.29%"],
        ["差", "1", "14.29%"],
    ]


def test_report_page_says_the_summary_lines_in_yi_when_the_year_has_rows(finance, year):
    response = finance.get(year_url(2022))
    lines = read(response).texts

    assert "预算绩效指标库共有指标 3 条，其中通用类指标 2 条，部门个性化指标 1 条。" in lines["line-indicators"]
    assert (
        "开展事前绩效评估的项目 2 个，涉及预算资金 0.08 亿元；核减预算金额 0.01 亿元，核减率 15.15%。"
        in lines["line-pre-assessment"]
    )
    assert "予以支持 1 个，部分予以支持 1 个，不予支持 0 个" in lines["line-pre-assessment"]
    assert (
        "自评预算部门共 2 个，自评预算项目 7 个，项目自评优良等级有 5 项，占 71.43%。" in lines["line-self-evaluation"]
    )
    assert (
        "财政部门共组织 2 个部门（单位）3 个项目开展复核，2 个部门（单位）2 个项目开展重点评价，"
        "2 个部门整体绩效开展重点评价。专家共提出 4 条建议。" in lines["line-scope"]
    )
    # 1,500,000 + 2,500,050 + 47,000,000 = 51,000,050 → 0.51亿
    assert "对 5 个财政支出项目、2 个部门整体支出开展绩效评价，涉及财政资金 0.51 亿元。" in lines["line-evaluated"]
    # 1,500,000 = 0.015亿 → 0.02 half up
    assert "对 2 个部门的 2 个项目" not in lines["line-recheck"]
    assert "对 2 个部门的 3 个项目进行了自评复核，涉及资金 0.02 亿元。" in lines["line-recheck"]
    assert "1 个优、1 个良、1 个中、0 个差，项目优良率 66.67%。项目总体预算完成率 88.67%" in lines["line-recheck"]
    assert "预算完成率为100%的项目 1 个" in lines["line-recheck"]
    assert "涉及资金 0.03 亿元" in lines["line-key"]  # 2,500,050 → 0.0250005亿 → 0.03
    assert "区农水局预算完成率 90.06%，综合得分 90.34 分；区住房建设局预算完成率 95.33%" in lines["line-department"]
    assert "对 2 个部门进行了部门整体绩效评价，涉及资金 0.47 亿元。" in lines["line-department"]


def test_report_page_leaves_out_rows_not_of_record_when_they_are_unfinished(finance, year):
    body = text(finance.get(year_url(2022)))

    assert "2022-P3" not in body  # pre-assessment not confirmed
    assert "2022-W1" not in body and "尚未定稿的建议" not in body  # evaluation in fieldwork
    assert "2022-S1" not in body  # self-evaluation not accepted


def test_report_page_shows_zeros_without_error_when_the_year_has_no_data(finance):
    response = finance.get(year_url(2035))

    assert response.status_code == 200
    page = read(response)
    assert page.tables["recheck-table"][-1] == ["", "合计", "0 个部门 0 个项目", "0.00", "0.00", "0.00%", "", ""]
    assert page.tables["department-table"][-1] == ["", "合计（0 个部门）", "0.00", "0.00", "0.00%", "", ""]
    assert page.tables["self-evaluation-grades"][1] == ["优", "0", "0.00%"]
    assert page.lists["recheck-table-figures"]["项目优良率"] == "0.00%"
    assert "对 0 个财政支出项目、0 个部门整体支出开展绩效评价，涉及财政资金 0.00 亿元。" in page.texts["line-evaluated"]
    assert "核减率 0.00%" in page.texts["line-pre-assessment"]
    assert "本年度尚无已完成的评价。" in text(response)


def test_key_evaluation_appears_in_attachment_2_when_finalized_through_the_real_chain(client, district):
    chain = Chain(district)
    evaluation = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    client.force_login(district.supervisor)

    rows = read(client.get(year_url(2021))).tables["key-table"]

    # 1,200,000 budget, 1,000,000 executed (83.33 %), scored 88.50 良 by the agency
    project = evaluation.project
    assert rows[1][:8] == [
        "1",
        "区农水局",
        f"{project.name} {project.code}",
        "120.00",
        "100.00",
        "83.33%",
        "88.50",
        "良",
    ]


# -- the overview, imported years, the print page ---------------------------------------------


def test_overview_lists_the_years_with_data_and_marks_imported_history(finance, district, year):
    imported_history(2019)
    ReportDisclosure.objects.create(fiscal_year=2022, approved_by=district.finance)

    page = read(finance.get(OVERVIEW))

    years = page.tables["report-years"][1:]
    assert [row[0] for row in years] == ["2022 年度", "2019 年度"]
    assert years[0][1] == "系统数据" and "已公开" in years[0][2]
    assert years[1][1].startswith("历史导入") and years[1][2] == "未公开"


def test_overview_opens_the_year_typed_when_picked(finance):
    assert finance.get(OVERVIEW, {"year": "2018"}).url == year_url(2018)
    wrong = finance.get(OVERVIEW, {"year": "abc"})
    assert wrong.status_code == 200 and "请输入 1990–2100 之间的年度。" in text(wrong)
    assert finance.get(year_url(1800)).status_code == 404


def test_imported_year_is_marked_with_its_file_and_date_when_shown(finance):
    history = imported_history(2019)
    history.imported_at = timezone.now() - timedelta(days=3)
    history.save(update_fields=["imported_at"])

    page = read(finance.get(year_url(2019)))

    assert "历史导入" in page.texts["history-badge"]
    banner = page.texts["history-banner"]
    assert "liwan-2019.xlsx" in banner and timezone.localdate(history.imported_at).isoformat() in banner
    # the library counts of the workbook, not the library in force now
    assert "共有指标 7104 条，其中通用类指标 225 条，部门个性化指标 6879 条" in page.texts["line-indicators"]
    printed = read(finance.get(reverse("reports:print", args=[2019])))
    assert "liwan-2019.xlsx" in printed.texts["history-banner"]


def test_print_page_has_the_titles_and_attachments_and_no_navigation(finance, year):
    response = finance.get(reverse("reports:print", args=[2022]))

    body = text(response)
    page = read(response)
    assert page.texts["print-title"] == "荔湾区2022年度财政支出绩效管理情况"
    assert "2022 年度荔湾区财政支出项目绩效自评复核汇总表" in page.texts["attachment-1"]
    assert "2022 年度荔湾区财政支出项目绩效重点评价汇总表" in page.texts["attachment-2"]
    assert "2022 年度荔湾区部门整体支出绩效评价汇总表" in page.texts["attachment-3"]
    assert page.tables["recheck-table"][1][5] == "90.01%"
    assert 'class="mainnav"' not in body and "topbar" not in body
    assert "css/report_print.css" in body


def test_print_stylesheet_breaks_pages_between_attachments_when_printed():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/report_print.css"), encoding="utf-8").read()
    assert "@media print" in css and "@page" in css and "size: A4" in css
    assert ".attachment { break-before: page; page-break-before: always; }" in css
    assert ".no-print { display: none !important; }" in css


def test_print_page_names_the_district_of_the_setting_when_changed(finance, settings):
    settings.JIXIAO = {**settings.JIXIAO, "DISTRICT_NAME": "越秀区"}

    page = read(finance.get(reverse("reports:print", args=[2022])))

    assert page.texts["print-title"] == "越秀区2022年度财政支出绩效管理情况"
    assert "2022 年度越秀区部门整体支出绩效评价汇总表" in page.texts["attachment-3"]


def test_report_page_renders_in_english_when_the_user_chose_it(client, district, year):
    district.finance.language = "en"
    district.finance.save(update_fields=["language"])
    client.force_login(district.finance)

    response = client.get(year_url(2022))

    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


# -- who sees them ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "supervisor", "auditor"])
def test_bureau_readers_see_the_report_and_its_nav_link_when_logged_in(client, district, role):
    client.force_login(getattr(district, role))

    overview = client.get(OVERVIEW)

    assert overview.status_code == 200
    assert f'href="{OVERVIEW}"' in overview.content.decode()
    for _method, url in report_urls(2022)[1:4]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["staff_a", "leader_a", "expert", "deputy", "agency_staff", "sysadmin"])
def test_every_report_url_is_forbidden_when_the_user_is_not_a_bureau_reader(client, district, role):
    client.force_login(getattr(district, role))

    for method, url in report_urls(2022):
        assert getattr(client, method)(url).status_code == 403, url
    assert f'href="{OVERVIEW}"' not in client.get(reverse("workflows:inbox")).content.decode()
    assert not ReportDisclosure.objects.exists()


def test_every_report_url_sends_anonymous_visitors_to_the_login_page(client, district):
    for method, url in report_urls(2022):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


# -- cost ---------------------------------------------------------------------------------------


def test_report_page_costs_the_same_queries_when_the_rows_grow(finance, district):
    many_rows(district, 2, year=2030)
    many_rows(district, 10, year=2031)
    finance.get(year_url(2030))  # warm the session and the caches

    with CaptureQueriesContext(connection) as small:
        assert finance.get(year_url(2030)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        response = finance.get(year_url(2031))

    assert len(read(response).tables["recheck-table"]) == 1 + 10 + 1
    assert len(large) == len(small)


def test_key_suggestions_cell_lists_each_suggestion_once_when_panel_members_repeat_it(finance, district, year):
    from processes.models import ExpertSuggestion

    k1 = year.evaluations["K1"]
    # panel members saying overlapping things (as the demo's panel does)
    for position, said in enumerate(("完善绩效目标设置", "建立长效管养机制", "加快资金拨付进度"), start=3):
        ExpertSuggestion.objects.create(evaluation=k1, position=position, text=said)
    html = finance.get(year_url(2022)).content.decode()
    table = html[html.index('data-testid="key-table"') :]
    table = table[: table.index("</table>")]
    for said in ("加快资金拨付进度", "完善绩效目标设置", "建立长效管养机制"):
        assert table.count(f"<li>{said}</li>") == 1, said
