"""/api/reports/ (reports/api.py): the years, a year's report (``report_json`` with imported,
history and disclosure), its workbook, and the finance section's disclosure — status codes
and bodies, who may, and the schema."""

from __future__ import annotations

from datetime import datetime

import pytest

from reports.figures import annual_report, report_json
from reports.models import ReportDisclosure
from tests.api.support import client_for

from .builders import imported_history, small_year
from .pages import sheet_rows, workbook

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(year: int, tail: str = "") -> str:
    return f"/api/reports/{year}/{tail}"


@pytest.fixture
def year(district):
    return small_year(district)


def test_report_is_the_commands_json_with_imported_history_and_disclosure(district, year):
    response = client_for(district.supervisor).get(url(2022))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        **report_json(annual_report(2022)),
        "imported": False,
        "history": None,
        "disclosure": None,
    }
    assert body["recheck"]["completion_rate"] == "88.67"
    assert body["key_evaluation"]["budget"] == "2500050.00"
    assert body["evaluated"] == {"projects": 5, "departments": 2, "amount": "51000050.00"}
    # 6,672,750 ÷ 7,000,000 = 95.325 % → 95.33 (half up; half even would say 95.32)
    assert body["department_evaluation"]["items"][1]["completion_rate"] == "95.33"


def test_report_marks_an_imported_year_with_its_workbook(district):
    history = imported_history(2019, file_name="liwan-2019.xlsx")

    body = client_for(district.auditor).get(url(2019)).json()

    assert body["imported"] is True
    assert body["history"]["file_name"] == "liwan-2019.xlsx"
    assert datetime.fromisoformat(body["history"]["imported_at"]) == history.imported_at
    assert body["indicator_library"] == {"total": 7104, "general": 225, "department_specific": 6879}


def test_report_holds_zeros_when_the_year_has_no_data(district):
    body = client_for(district.finance).get(url(2035)).json()

    assert body["pre_assessment"]["reduction_rate"] == "0.00"
    assert body["recheck"] == {
        "departments": 0,
        "projects": 0,
        "budget": "0.00",
        "executed": "0.00",
        "completion_rate": "0.00",
        "grades": {"excellent": 0, "good": 0, "fair": 0, "poor": 0},
        "excellent_or_good_rate": "0.00",
        "completion": {"full": 0, "at_least_90": 0, "below_90": 0},
    }
    assert body["evaluated"] == {"projects": 0, "departments": 0, "amount": "0.00"}


def test_years_list_the_years_with_data_marked(district, year):
    imported_history(2019)
    ReportDisclosure.objects.create(fiscal_year=2022, approved_by=district.finance)

    response = client_for(district.finance).get("/api/reports/")

    assert response.status_code == 200
    assert response.json() == [
        {"year": 2022, "imported": False, "disclosed": True},
        {"year": 2019, "imported": True, "disclosed": False},
    ]


def test_workbook_is_served_with_its_chinese_name_when_asked_for_by_media_type(district, year):
    client = client_for(district.finance)

    plain = client.get(url(2022, "xlsx/"))
    by_accept = client.get(url(2022, "xlsx/"), HTTP_ACCEPT=XLSX)

    for response in (plain, by_accept):
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX
        assert "filename*=utf-8''" in response["Content-Disposition"]
    assert sheet_rows(workbook(plain.content)["附件1 复核"])[3][6] == 90.01


@pytest.mark.parametrize("role", ["staff_a", "leader_b", "expert", "deputy", "agency_staff", "sysadmin"])
def test_every_endpoint_is_403_when_the_caller_is_not_a_bureau_reader(district, year, role):
    client = client_for(getattr(district, role))

    assert client.get("/api/reports/").status_code == 403
    assert client.get(url(2022)).status_code == 403
    refused = client.get(url(2022, "xlsx/"), HTTP_ACCEPT=XLSX)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    assert "detail" in refused.json()
    assert client.post(url(2022, "disclose/"), {}, format="json").status_code == 403
    assert not ReportDisclosure.objects.exists()


def test_every_endpoint_is_401_without_credentials(db):
    client = client_for(None)

    for response in (
        client.get("/api/reports/"),
        client.get(url(2022)),
        client.get(url(2022, "xlsx/")),
        client.post(url(2022, "disclose/"), {}, format="json"),
    ):
        assert response.status_code == 401


def test_year_out_of_range_is_404(district):
    assert client_for(district.finance).get(url(1800)).status_code == 404
    assert client_for(district.finance).get(url(2101, "xlsx/")).status_code == 404


def test_finance_officer_discloses_once_and_a_second_time_is_409(district, year):
    client = client_for(district.finance)

    created = client.post(url(2022, "disclose/"), {"note": "经局务会审定"}, format="json")
    again = client.post(url(2022, "disclose/"), {}, format="json")

    assert created.status_code == 201
    body = created.json()
    assert body["fiscal_year"] == 2022 and body["note"] == "经局务会审定"
    assert body["approved_by"] == district.finance.full_name and body["approved_at"]
    assert again.status_code == 409
    assert again.json() == {"detail": "2022 年度汇总表已批准公开，不能重复批准。", "code": "conflict"}
    assert client.get(url(2022)).json()["disclosure"]["fiscal_year"] == 2022
    assert ReportDisclosure.objects.count() == 1


@pytest.mark.parametrize("role", ["supervisor", "auditor"])
def test_disclosure_is_403_for_readers_who_are_not_the_finance_section(district, year, role):
    response = client_for(getattr(district, role)).post(url(2022, "disclose/"), {}, format="json")

    assert response.status_code == 403
    assert not ReportDisclosure.objects.exists()


def test_disclosure_is_400_with_the_field_when_the_year_has_no_data_or_the_note_is_too_long(district, year):
    client = client_for(district.finance)

    empty = client.post(url(2035, "disclose/"), {}, format="json")
    long_note = client.post(url(2022, "disclose/"), {"note": "长" * 501}, format="json")

    assert empty.status_code == 400 and empty.json() == {"year": ["2035 年度没有可公开的数据。"]}
    assert long_note.status_code == 400 and set(long_note.json()) == {"note"}
    assert not ReportDisclosure.objects.exists()


def test_schema_documents_the_report_endpoints(db):
    schema = client_for(None).get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert set(paths["/api/reports/{year}/disclose/"]["post"]["responses"]) == {"201", "400", "403", "404", "409"}
    assert set(paths["/api/reports/{year}/xlsx/"]["get"]["responses"]["200"]["content"]) == {XLSX}
    properties = schema["components"]["schemas"]["AnnualReport"]["properties"]
    assert set(properties) == {*report_json(annual_report(2035)), "imported", "history", "disclosure"}
