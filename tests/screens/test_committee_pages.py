"""The congress reader (人大预算工委) and the committee's review opinions on the screens and
the API (issue 19): the reader sees the reports of any year, their print pages and XLSX, the
审议意见落实情况 table and the public pages, and is refused everything else; the table is the
bureau readers' and the congress's; departments see and answer their own items only; the
finance section records, accepts and returns; bad input is a 400 that writes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from processes.models import CommitteeEvidence, CommitteeOpinion, CommitteeOpinionItem
from processes.services.committee import committee_item_respond, committee_item_review
from processes.states import OpinionItemStatus
from tests.processes.test_committee import PDF, item_of, record

pytestmark = pytest.mark.django_db

YEAR = 2022


def table_urls(year=YEAR):
    return [
        reverse("reports:committee_opinions", args=[year]),
        reverse("reports:committee_xlsx", args=[year]),
        reverse("reports:committee_print", args=[year]),
    ]


# -- the congress reader ------------------------------------------------------------------------


def test_congress_reader_reads_every_report_screen_of_any_year_when_not_disclosed(client, district):
    record(district)
    client.force_login(district.congress)

    for url in [
        reverse("reports:overview"),
        reverse("reports:year", args=[YEAR]),
        reverse("reports:print", args=[YEAR]),
        reverse("reports:xlsx", args=[YEAR]),
        reverse("reports:year", args=[2019]),
        reverse("reports:print", args=[2019]),
        *table_urls(),
        reverse("reports:public"),
        reverse("notifications:list"),
    ]:
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("reports:year", args=[YEAR])).content.decode()
    assert reverse("reports:committee_opinions", args=[YEAR]) in page
    assert "加强绩效目标审核。" in client.get(table_urls()[0]).content.decode()


def test_congress_reader_lands_on_the_reports_when_opening_the_site(client, district):
    client.force_login(district.congress)

    response = client.get("/")

    assert response.status_code == 302 and response.url == reverse("reports:overview")


def test_congress_reader_is_refused_every_other_area_when_logged_in(client, district):
    opinion = record(district)
    item = item_of(opinion, 2)
    project = district.project()
    client.force_login(district.congress)
    refused_pages = [
        reverse("workflows:task", args=[1]),
        reverse("workflows:project_list"),
        reverse("workflows:project_detail", args=[project.pk]),
        reverse("workflows:rectification_list"),
        reverse("workflows:deadline_board"),
        reverse("workflows:deadline_board_xlsx"),
        reverse("workflows:committee_items"),
        reverse("workflows:committee_item", args=[item.pk]),
        reverse("workflows:committee_opinion_new"),
        reverse("workflows:monitoring_rounds"),
        reverse("workflows:evaluations"),
        reverse("workflows:pre_assessment_summary_xlsx"),
        reverse("processes:indicator_list"),
        reverse("processes:indicator_export"),
        reverse("processes:audit_trail"),
        reverse("admin:index"),
    ]
    for url in refused_pages:
        assert client.get(url).status_code == 403, url
    for url in [
        "/api/projects/",
        "/api/tasks/",
        "/api/rectifications/",
        "/api/committee-opinions/",
        "/api/committee-items/",
        "/api/notifications/",
        f"/api/reports/{YEAR}/",
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "人大预算工委" in response.json()["detail"]
    assert client.post(reverse("reports:disclose", args=[YEAR])).status_code == 403
    assert client.post(reverse("workflows:committee_item_act", args=[item.pk, "accept"])).status_code == 403
    assert CommitteeOpinionItem.objects.get(pk=item.pk).status == OpinionItemStatus.ASSIGNED


def test_congress_reader_is_refused_every_api_path_and_a_token_when_asking(client, district):
    import json
    import re

    from tests.factories import PASSWORD

    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    client.force_login(district.congress)
    paths = [re.sub(r"\{\w+\}", "1", p) for p, ops in schema["paths"].items() if "get" in ops]
    assert len(paths) > 20
    for path in paths:
        assert client.get(path).status_code == 403, path
    client.logout()
    token = client.post("/api/auth/token/", {"username": "congress", "password": PASSWORD})
    assert token.status_code == 403 and "人大预算工委" in token.json()["detail"]


def test_congress_reader_menu_shows_the_reports_only_when_logged_in(client, district):
    client.force_login(district.congress)

    page = client.get(reverse("reports:overview")).content.decode()

    assert f'href="{reverse("reports:overview")}"' in page
    for hidden in ["workflows:project_list", "workflows:rectification_list", "workflows:committee_items"]:
        assert f'href="{reverse(hidden)}"' not in page, hidden
    assert 'href="/api/docs/"' not in page


# -- the table: who sees it -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "supervisor", "auditor", "congress"])
def test_table_screen_xlsx_and_print_open_when_the_user_reads_the_whole_table(client, district, role):
    record(district)
    client.force_login(getattr(district, role))

    for url in table_urls():
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["staff_a", "leader_a", "expert", "deputy", "agency_staff", "sysadmin"])
def test_table_is_refused_when_the_user_does_not_read_the_whole_table(client, district, role):
    record(district)
    client.force_login(getattr(district, role))

    for url in table_urls():
        assert client.get(url).status_code == 403, url


def test_table_xlsx_lists_every_item_with_its_state_when_downloaded(client, district):
    opinion = record(district)
    committee_item_respond(item=item_of(opinion, 2), actor=district.staff_a, response="已清理闲置资金。")
    client.force_login(district.congress)

    response = client.get(reverse("reports:committee_xlsx", args=[YEAR]))

    sheet = load_workbook(BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert [r[3] for r in rows] == ["加强绩效目标审核。", "整改农业项目资金闲置问题。"]
    assert [r[4] for r in rows] == ["财政局", district.dept_a.name]
    assert [r[6] for r in rows] == ["落实中", "已报送待验收"]
    assert rows[1][7] == "已清理闲置资金。"


def test_table_costs_the_same_queries_when_the_items_grow(client, district):
    deadline = (timezone.localdate() + timedelta(days=30)).isoformat()
    record(district, year=2030, items=[{"requirement": "一", "department": None, "deadline": deadline}])
    many = [{"requirement": f"事项{n}", "department": district.dept_a.pk, "deadline": deadline} for n in range(12)]
    record(district, year=2031, items=many)
    record(district, year=2031, items=many[:3])
    client.force_login(district.finance)
    client.get(reverse("reports:committee_opinions", args=[2030]))

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports:committee_opinions", args=[2030]))
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("reports:committee_opinions", args=[2031]))

    assert response.content.decode().count("data-item=") == 15
    assert len(large) == len(small)


# -- departments and the finance section on the screens ----------------------------------------------


def test_department_sees_and_answers_only_its_own_items_when_listing(client, district):
    opinion = record(district)
    mine, bureau = item_of(opinion, 2), item_of(opinion, 1)
    client.force_login(district.staff_b)
    assert client.get(reverse("workflows:committee_item", args=[mine.pk])).status_code == 404
    assert 'data-item="' not in client.get(reverse("workflows:committee_items")).content.decode()

    client.force_login(district.staff_a)
    listing = client.get(reverse("workflows:committee_items")).content.decode()
    assert f'data-item="{mine.pk}"' in listing and f'data-item="{bureau.pk}"' not in listing
    assert client.get(reverse("workflows:committee_item", args=[bureau.pk])).status_code == 404
    upload = SimpleUploadedFile("整改凭证.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("workflows:committee_item_act", args=[mine.pk, "respond"]),
        {"response": "已完成资金清理。", "files": [upload]},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == OpinionItemStatus.RESPONDED
    evidence = CommitteeEvidence.objects.get(item=mine)
    assert client.get(reverse("workflows:committee_evidence", args=[evidence.pk])).status_code == 200
    client.force_login(district.staff_b)
    assert client.get(reverse("workflows:committee_evidence", args=[evidence.pk])).status_code == 404


def test_respond_screen_answers_400_and_keeps_nothing_when_a_file_is_refused(client, district):
    item = item_of(record(district), 2)
    client.force_login(district.leader_a)
    good = SimpleUploadedFile("a.pdf", PDF)
    bad = SimpleUploadedFile("b.pdf", b"not a pdf at all")

    response = client.post(
        reverse("workflows:committee_item_act", args=[item.pk, "respond"]),
        {"response": "已完成。", "files": [good, bad]},
    )

    assert response.status_code == 400
    assert "只接受 PDF" in response.content.decode()
    item.refresh_from_db()
    assert item.status == OpinionItemStatus.ASSIGNED and not CommitteeEvidence.objects.exists()


def test_finance_records_an_opinion_on_the_screen_and_bad_rows_write_nothing(client, district):
    client.force_login(district.finance)
    url = reverse("workflows:committee_opinion_new")
    assert client.get(url + f"?year={YEAR}").status_code == 200
    base = {"fiscal_year": str(YEAR), "title": "审议意见", "text": "正文", "session_date": "2023-06-28"}

    bad = client.post(url, {**base, "requirement_1": "事项一", "department_1": "", "deadline_1": "2001-01-01"})
    assert bad.status_code == 400 and "办理期限应晚于现在" in bad.content.decode()
    assert not CommitteeOpinion.objects.exists()

    deadline = (timezone.localdate() + timedelta(days=20)).isoformat()
    good = client.post(
        url,
        {
            **base,
            "requirement_1": "事项一",
            "department_1": "",
            "deadline_1": deadline,
            "requirement_3": "事项二",
            "department_3": str(district.dept_b.pk),
            "deadline_3": deadline,
        },
    )
    assert good.status_code == 302 and good.url == reverse("reports:committee_opinions", args=[YEAR])
    items = list(CommitteeOpinionItem.objects.order_by("position").values_list("position", "department_id"))
    assert items == [(1, None), (2, district.dept_b.pk)]


@pytest.mark.parametrize("role", ["staff_a", "supervisor", "auditor"])
def test_recording_screen_is_refused_when_the_user_is_not_the_finance_section(client, district, role):
    client.force_login(getattr(district, role))
    assert client.get(reverse("workflows:committee_opinion_new")).status_code == 403


def test_finance_returns_with_a_reason_and_accepts_on_the_item_screen(client, district):
    item = item_of(record(district), 2)
    committee_item_respond(item=item, actor=district.staff_a, response="已完成。")
    client.force_login(district.finance)
    act = lambda action, **data: client.post(  # noqa: E731
        reverse("workflows:committee_item_act", args=[item.pk, action]), data
    )

    assert act("send-back", comment="").status_code == 400
    assert act("send-back", comment="请附凭证。").status_code == 302
    assert act("accept").status_code == 409
    item.refresh_from_db()
    assert item.status == OpinionItemStatus.ASSIGNED and item.review_comment == "请附凭证。"
    committee_item_respond(item=item, actor=district.staff_a, response="已附凭证。")
    assert act("accept", comment="同意。").status_code == 302
    item.refresh_from_db()
    assert item.status == OpinionItemStatus.ACCEPTED
    client.force_login(district.staff_a)
    assert act("accept").status_code == 403


def test_board_lists_an_overdue_or_due_soon_item_for_the_supervisors(client, district):
    soon = (timezone.localdate() + timedelta(days=1)).isoformat()
    opinion = record(district, items=[{"requirement": "事项", "department": district.dept_a.pk, "deadline": soon}])
    item = item_of(opinion, 1)
    client.force_login(district.supervisor)

    page = client.get(reverse("workflows:deadline_board")).content.decode()
    assert f'data-kind="committee" data-pk="{item.pk}"' in page
    filtered = client.get(reverse("workflows:deadline_board") + "?kind=committee").content.decode()
    assert f'data-kind="committee" data-pk="{item.pk}"' in filtered
    committee_item_respond(item=item, actor=district.staff_a, response="已完成。")
    committee_item_review(item=item, actor=district.finance, accept=True)
    assert (
        f'data-pk="{item.pk}"'
        not in client.get(reverse("workflows:deadline_board") + "?kind=committee").content.decode()
    )


# -- the API ---------------------------------------------------------------------------------------


def test_api_records_lists_answers_and_accepts_by_role(client, district):
    deadline = (timezone.localdate() + timedelta(days=20)).isoformat()
    body = {
        "fiscal_year": YEAR,
        "title": "审议意见",
        "text": "正文",
        "session_date": "2023-06-28",
        "items": [{"requirement": "事项", "department": district.dept_a.pk, "deadline": deadline}],
    }
    client.force_login(district.staff_a)
    assert client.post("/api/committee-opinions/", body, content_type="application/json").status_code == 403
    client.force_login(district.finance)
    assert (
        client.post("/api/committee-opinions/", {**body, "items": []}, content_type="application/json").status_code
        == 400
    )
    created = client.post("/api/committee-opinions/", body, content_type="application/json")
    assert created.status_code == 201
    item_id = created.json()["items"][0]["id"]
    listed = client.get(f"/api/committee-opinions/?year={YEAR}").json()
    assert [o["title"] for o in listed["results"]] == ["审议意见"]

    client.force_login(district.staff_b)
    assert client.get(f"/api/committee-items/{item_id}/").status_code == 404
    assert client.get("/api/committee-items/").json()["count"] == 0
    assert client.get("/api/committee-opinions/").status_code == 403
    client.force_login(district.staff_a)
    detail = client.get(f"/api/committee-items/{item_id}/").json()
    assert detail["actions"] == ["respond"]
    upload = SimpleUploadedFile("凭证.pdf", PDF)
    answered = client.post(f"/api/committee-items/{item_id}/respond/", {"response": "已完成。", "files": [upload]})
    assert answered.status_code == 200 and answered.json()["status"] == "responded"
    assert [e["name"] for e in answered.json()["evidence"]] == ["凭证.pdf"]
    client.force_login(district.finance)
    again = client.post(f"/api/committee-items/{item_id}/send-back/", {}, content_type="application/json")
    assert again.status_code == 400
    accepted = client.post(f"/api/committee-items/{item_id}/accept/", {}, content_type="application/json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (
        client.post(f"/api/committee-items/{item_id}/accept/", {}, content_type="application/json").status_code == 409
    )
