"""The indicator library API and the job API, as real role users: scoped list and detail,
filters, proposal, decision, edit, (de)activation, import (202 → job), export, template."""

from __future__ import annotations

from io import BytesIO

import openpyxl
import pytest

from processes.models import Indicator, Job
from processes.services.indicators import COLUMNS, indicators_import_rows
from processes.states import IndicatorStatus
from tests.processes.test_indicators import GOOD_ROWS, row, xlsx

from .support import client_for

pytestmark = pytest.mark.django_db

URL = "/api/indicators/"


@pytest.fixture
def library(district):
    indicators_import_rows(actor=district.finance, rows=GOOD_ROWS)
    return {i.code: i for i in Indicator.objects.all()}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["code"] for r in response.json()["results"]}


def detail(indicator) -> str:
    return f"{URL}{indicator.pk}/"


PROPOSAL = {"level1": "output", "level2": "quantity", "name": "渠道清淤长度", "unit": "公里", "direction": "gte"}


# -- reading --------------------------------------------------------------------------------


def test_list_is_scoped_by_department_when_department_staff_ask(district, library):
    assert codes(client_for(district.staff_a).get(URL)) == {"G0001", "G0002", "A01-0001"}
    assert codes(client_for(district.staff_b).get(URL)) == {"G0001", "G0002", "B01-0001"}
    assert codes(client_for(district.finance).get(URL)) == set(library)
    assert client_for().get(URL).status_code == 401


def test_list_body_describes_each_row_when_read(district, library):
    body = client_for(district.staff_a).get(URL, {"q": "清淤"}).json()

    assert body["count"] == 1
    [item] = body["results"]
    assert {k: item[k] for k in ("code", "level1_display", "level2_display", "direction_display", "scope")} == {
        "code": "A01-0001",
        "level1_display": "产出指标",
        "level2_display": "时效指标",
        "direction_display": "≤",
        "scope": "department",
    }
    assert (item["department_code"], item["department_name"], item["active"]) == ("A01", "区农水局", True)


def test_list_is_filtered_and_bad_filters_are_refused_when_given(district, library):
    finance = client_for(district.finance)

    assert codes(finance.get(URL, {"level1": "satisfaction"})) == {"B01-0001"}
    assert codes(finance.get(URL, {"scope": "general", "direction": "qualitative"})) == {"G0002"}
    assert codes(finance.get(URL, {"active": "false"})) == {"B01-0001"}
    assert codes(finance.get(URL, {"department": district.dept_a.pk})) == {"A01-0001"}
    bad = finance.get(URL, {"level1": "outputs"})
    assert bad.status_code == 400 and "level1" in bad.json()


def test_other_departments_row_is_404_when_department_staff_ask(district, library):
    assert client_for(district.staff_a).get(detail(library["B01-0001"])).status_code == 404
    response = client_for(district.staff_b).get(detail(library["B01-0001"]))
    assert response.status_code == 200 and response.json()["name"] == "住户满意度"


# -- proposals and decisions -------------------------------------------------------------------------


def test_staff_propose_and_finance_approve_through_the_api(district, library):
    created = client_for(district.staff_a).post(f"{URL}proposals/", PROPOSAL, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["code"], body["status"], body["department_code"]) == ("A01-P0001", "proposed", "A01")
    assert codes(client_for(district.staff_a).get(URL, {"status": "proposed"})) == {"A01-P0001"}
    assert codes(client_for(district.staff_b).get(URL, {"status": "proposed"})) == set()

    proposal = Indicator.objects.get(pk=body["id"])
    decided = client_for(district.finance).post(
        f"{detail(proposal)}decide/", {"approve": True, "code": "NS-0001", "comment": "同意"}, format="json"
    )
    assert decided.status_code == 200, decided.json()
    assert (decided.json()["status"], decided.json()["code"]) == ("approved", "NS-0001")
    again = client_for(district.finance).post(f"{detail(proposal)}decide/", {"approve": False, "comment": "x"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_proposal_errors_are_named_by_field_and_roles_are_checked(district):
    staff = client_for(district.staff_a)

    wrong_level = staff.post(f"{URL}proposals/", {**PROPOSAL, "level1": "effect"}, format="json")
    assert wrong_level.status_code == 400 and "level2" in wrong_level.json()
    no_unit = staff.post(f"{URL}proposals/", {**PROPOSAL, "unit": ""}, format="json")
    assert no_unit.status_code == 400 and "unit" in no_unit.json()
    assert client_for(district.finance).post(f"{URL}proposals/", PROPOSAL, format="json").status_code == 403
    assert not Indicator.objects.exists()


def test_decline_needs_a_comment_and_only_finance_decides(district):
    proposal = Indicator.objects.get(pk=client_for(district.staff_a).post(f"{URL}proposals/", PROPOSAL).json()["id"])

    assert client_for(district.leader_a).post(f"{detail(proposal)}decide/", {"approve": True}).status_code == 403
    missing = client_for(district.finance).post(f"{detail(proposal)}decide/", {"approve": False}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()
    declined = client_for(district.finance).post(
        f"{detail(proposal)}decide/", {"approve": False, "comment": "重复"}, format="json"
    )
    assert declined.status_code == 200 and declined.json()["status"] == IndicatorStatus.DECLINED


# -- the finance section's edits ----------------------------------------------------------------------


def test_finance_edits_and_deactivates_a_row_through_the_api(district, library):
    finance = client_for(district.finance)
    indicator = library["G0001"]

    edited = finance.patch(detail(indicator), {"name": "培训人数", "unit": "人"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["name"], edited.json()["unit"]) == ("培训人数", "人")
    bad = finance.patch(detail(indicator), {"department": district.dept_a.pk}, format="json")
    assert bad.status_code == 400 and "department" in bad.json()
    unknown = finance.patch(detail(indicator), {"status": "declined"}, format="json")
    assert unknown.status_code == 400 and "status" in unknown.json()
    off = finance.post(f"{detail(indicator)}active/", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False
    assert client_for(district.staff_a).patch(detail(indicator), {"name": "x"}, format="json").status_code == 403
    assert client_for(district.staff_a).post(f"{detail(indicator)}active/", {"active": True}).status_code == 403


# -- import, export, template, jobs --------------------------------------------------------------------


def test_import_answers_202_with_the_job_whose_result_has_the_counts(district, django_capture_on_commit_callbacks):
    finance = client_for(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(f"{URL}import/", {"file": xlsx(GOOD_ROWS)}, format="multipart")

    assert response.status_code == 202, response.content
    job = Job.objects.get()
    assert response["Location"] == f"/api/jobs/{job.pk}/"
    assert response.json()["page"] == f"/jobs/{job.pk}/"
    state = finance.get(response["Location"]).json()
    assert (state["status"], state["finished"], state["percent"]) == ("succeeded", True, 100)
    assert state["result"] == {"total": 4, "created": 4, "updated": 0, "unchanged": 0}
    assert client_for(district.supervisor).get(response["Location"]).status_code == 404
    assert Indicator.objects.count() == 4


def test_import_job_lists_row_errors_when_file_is_bad(district, django_capture_on_commit_callbacks):
    finance = client_for(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(
            f"{URL}import/",
            {"file": xlsx([row(**{"适用范围": "部门个性化", "所属部门编码": "Z99"})])},
            format="multipart",
        )

    state = finance.get(response["Location"]).json()
    assert state["status"] == "failed"
    assert [(e["row"], e["column"]) for e in state["errors"]] == [(2, "所属部门编码")]
    assert not Indicator.objects.exists()


def test_import_is_refused_when_not_a_workbook_or_not_finance(district):
    bad = client_for(district.finance).post(f"{URL}import/", {"file": xlsx([row()], name="a.csv")}, format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()
    missing = client_for(district.finance).post(f"{URL}import/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()
    assert (
        client_for(district.staff_a).post(f"{URL}import/", {"file": xlsx([row()])}, format="multipart").status_code
        == 403
    )
    assert not Job.objects.exists()


def test_export_holds_only_what_the_user_reads_when_downloaded(district, library):
    def exported(user, **query) -> set[str]:
        response = client_for(user).get(f"{URL}export/", query)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = openpyxl.load_workbook(BytesIO(response.content)).worksheets[0]
        return {r[0] for r in list(sheet.iter_rows(values_only=True))[1:]}

    assert exported(district.staff_a) == {"G0001", "G0002", "A01-0001"}
    assert exported(district.finance, level1="satisfaction") == {"B01-0001"}


def test_template_is_the_header_row_when_downloaded(district):
    response = client_for(district.staff_a).get(f"{URL}template/")

    assert response.status_code == 200
    book = openpyxl.load_workbook(BytesIO(response.content))
    assert next(book.worksheets[0].iter_rows(values_only=True)) == COLUMNS


def test_schema_documents_the_indicator_endpoints(db):
    from rest_framework.test import APIClient

    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {
        "/api/indicators/",
        "/api/indicators/{id}/",
        "/api/indicators/{id}/decide/",
        "/api/indicators/{id}/active/",
        "/api/indicators/proposals/",
        "/api/indicators/import/",
        "/api/indicators/export/",
        "/api/indicators/template/",
        "/api/jobs/{id}/",
    } <= set(paths)
    assert set(paths["/api/indicators/import/"]["post"]["responses"]) == {"202", "400", "403"}
    assert "multipart/form-data" in paths["/api/indicators/import/"]["post"]["requestBody"]["content"]
