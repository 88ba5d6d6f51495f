"""Disclosure (DESIGN §3.7, issue 8 item 6): a finance officer approves a year's summary
tables (reports.services.report_disclose: the row, the audit event with the figures, no
second approval, only the finance section), on the report page; the public page lists
what was approved — disclosed years and published evaluation reports — and nothing else is
reachable without a login: an undisclosed year and an unpublished report are 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, CommissionedEvaluation, Recheck
from processes.services.audit import audit_verify
from processes.states import EvaluationStatus, RecheckStatus
from reports import urls as report_urls
from reports.figures import annual_report, report_json
from reports.models import ReportDisclosure
from reports.services import report_disclose

from .builders import imported_history, small_year
from .pages import read, sheet_rows, text, workbook

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PUBLIC = reverse("reports:public")


def public_report(year: int) -> str:
    return reverse("reports:public_report", args=[year])


def public_xlsx(year: int) -> str:
    return reverse("reports:public_report_xlsx", args=[year])


@pytest.fixture
def year(district):
    return small_year(district)


def with_report(evaluation: CommissionedEvaluation, status: str) -> CommissionedEvaluation:
    """``evaluation`` with a report file, in ``status`` (published ones approved by finance)."""
    evaluation.report.save("report.pdf", ContentFile(PDF))
    CommissionedEvaluation.objects.filter(pk=evaluation.pk).update(status=status)
    return CommissionedEvaluation.objects.get(pk=evaluation.pk)


# -- the service -------------------------------------------------------------------------------


def test_finance_officer_discloses_the_year_with_an_audit_event_of_its_figures(district, year):
    disclosure = report_disclose(year=2022, actor=district.finance, note="  经局务会审定  ")

    assert (disclosure.fiscal_year, disclosure.approved_by, disclosure.note) == (2022, district.finance, "经局务会审定")
    event = AuditEvent.objects.get(action="disclose_report")
    assert event.object_type == "reports.reportdisclosure" and event.object_id == str(disclosure.pk)
    assert event.actor == district.finance and event.actor_role == "finance_officer"
    assert event.to_state == "disclosed" and event.comment == "经局务会审定"
    assert event.detail["fiscal_year"] == 2022
    assert event.detail["figures"] == report_json(annual_report(2022))
    assert audit_verify() is None


def test_disclosure_is_refused_and_nothing_changes_when_the_year_was_already_disclosed(district, year):
    report_disclose(year=2022, actor=district.finance)

    with pytest.raises(ActionNotAllowed) as exc:
        report_disclose(year=2022, actor=district.finance, note="再次")

    assert "2022 年度汇总表已批准公开" in str(exc.value.message)
    assert ReportDisclosure.objects.count() == 1 and ReportDisclosure.objects.get().note == ""
    assert AuditEvent.objects.filter(action="disclose_report").count() == 1


@pytest.mark.parametrize("role", ["supervisor", "auditor", "staff_a", "sysadmin", "agency_staff"])
def test_disclosure_is_refused_when_not_the_finance_section(district, year, role):
    with pytest.raises(PermissionDenied):
        report_disclose(year=2022, actor=getattr(district, role))

    assert not ReportDisclosure.objects.exists()
    assert not AuditEvent.objects.filter(action="disclose_report").exists()


def test_disclosure_is_refused_when_the_year_has_no_data_or_the_note_is_too_long(district, year):
    with pytest.raises(ValidationError) as empty:
        report_disclose(year=2035, actor=district.finance)
    with pytest.raises(ValidationError) as long_note:
        report_disclose(year=2022, actor=district.finance, note="长" * 501)

    assert set(empty.value.message_dict) == {"year"}
    assert set(long_note.value.message_dict) == {"note"}
    assert not ReportDisclosure.objects.exists()


# -- on the report page -----------------------------------------------------------------------


def test_finance_officer_approves_on_the_report_page_and_a_second_approval_is_409(client, district, year):
    client.force_login(district.finance)
    page = client.get(reverse("reports:year", args=[2022]))
    assert 'data-testid="disclose-form"' in page.content.decode()

    done = client.post(reverse("reports:disclose", args=[2022]), {"note": "公开说明"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("reports:year", args=[2022])
    body = read(done).texts["disclosure"]
    assert "已批准公开 2022 年度汇总表" in text(done)
    assert "已由" in body and district.finance.full_name in body and "公开说明" in body
    assert 'data-testid="disclose-form"' not in done.content.decode()
    again = client.post(reverse("reports:disclose", args=[2022]))
    assert again.status_code == 409 and "2022 年度汇总表已批准公开，不能重复批准。" in text(again)
    assert ReportDisclosure.objects.count() == 1


def test_report_page_refuses_disclosure_with_the_reason_when_the_year_has_no_data(client, district):
    client.force_login(district.finance)

    response = client.post(reverse("reports:disclose", args=[2035]), {"note": "说明"})

    assert response.status_code == 400 and "2035 年度没有可公开的数据。" in text(response)
    assert not ReportDisclosure.objects.exists()


@pytest.mark.parametrize("role", ["supervisor", "auditor"])
def test_readers_see_no_approval_form_and_are_refused_when_they_post(client, district, year, role):
    client.force_login(getattr(district, role))

    page = client.get(reverse("reports:year", args=[2022]))
    refused = client.post(reverse("reports:disclose", args=[2022]))

    assert 'data-testid="disclose-form"' not in page.content.decode()
    assert "本年度汇总表尚未批准公开。" in text(page)
    assert refused.status_code == 403
    assert not ReportDisclosure.objects.exists()


# -- the public page ------------------------------------------------------------------------------


@pytest.fixture
def disclosed(district, year):
    """2022 disclosed; 2021 has data (a project) but is not; K1's report published, K2's final."""
    district.project()  # a 2021 project: the year has data
    report_disclose(year=2022, actor=district.finance)
    published = with_report(year.evaluations["K1"], EvaluationStatus.PUBLISHED)
    final = with_report(year.evaluations["K2"], EvaluationStatus.FINAL)
    return {"published": published, "final": final}


def test_public_page_lists_only_what_was_approved_without_login(client, disclosed):
    response = client.get(PUBLIC)

    assert response.status_code == 200
    page = read(response)
    assert [row[0] for row in page.tables["public-years-table"][1:]] == ["2022 年度"]
    body = text(response)
    assert f'href="{public_report(2022)}"' in body and f'href="{public_xlsx(2022)}"' in body
    assert public_report(2021) not in body
    assert disclosed["published"].title in body and disclosed["final"].title not in body
    evaluations = page.tables["public-table"][1:]
    assert len(evaluations) == 1 and evaluations[0][1] == "重点评价" and evaluations[0][6] == "97.51%"


def test_public_page_says_so_when_nothing_was_approved(client, year):
    body = text(client.get(PUBLIC))

    assert "尚无公开的年度汇总表。" in body and "尚无公开的评价报告。" in body
    assert year.evaluations["K1"].title not in body


def test_disclosed_year_is_readable_and_downloadable_without_login(client, district, disclosed):
    page = client.get(public_report(2022))
    download = client.get(public_xlsx(2022))

    assert page.status_code == 200
    tables = read(page).tables
    assert tables["recheck-table"][1][5] == "90.01%" and tables["key-table"][-1][3] == "250.01"
    assert "荔湾区2022年度财政支出绩效管理情况" in text(page)
    assert f'href="{public_xlsx(2022)}"' in text(page)
    assert download.status_code == 200
    book = workbook(download.content)
    assert book.sheetnames == ["汇总", "附件1 复核", "附件2 重点评价", "附件3 部门整体"]
    assert sheet_rows(book["附件1 复核"])[3][6] == 90.01


def test_public_version_shows_no_names_of_people_nor_internal_rows(client, district, disclosed):
    body = text(client.get(public_report(2022)))

    for person in (district.finance, district.staff_a, district.agency_staff):
        assert person.full_name not in body and person.username not in body
    assert "广州某绩效评价事务所2022" not in body  # the pre-assessments' agency: not a summary table
    assert f'href="{reverse("reports:year", args=[2022])}"' not in body  # no link into the bureau's screens


def test_imported_year_is_marked_on_the_public_page_without_its_file_name(client, district):
    imported_history(2019, file_name="内部-2019.xlsx")
    report_disclose(year=2019, actor=district.finance)

    page = read(client.get(public_report(2019)))

    assert "历史导入" in page.texts["history-banner"] and "内部-2019.xlsx" not in page.texts["history-banner"]
    assert "内部-2019.xlsx" not in text(client.get(public_report(2019)))


def test_undisclosed_year_and_unpublished_report_are_404_for_a_visitor(client, disclosed):
    assert client.get(public_report(2021)).status_code == 404
    assert client.get(public_xlsx(2021)).status_code == 404
    assert client.get(public_report(2035)).status_code == 404
    assert client.get(public_report(1800)).status_code == 404
    final = client.get(reverse("workflows:public_evaluation_report", args=[disclosed["final"].pk]))
    assert final.status_code == 404
    published = client.get(reverse("workflows:public_evaluation_report", args=[disclosed["published"].pk]))
    assert published.status_code == 200 and b"".join(published.streaming_content) == PDF


def recheck_with_report(recheck: Recheck, status: str = RecheckStatus.FINAL) -> Recheck:
    """``recheck`` with its 复核报告 file, in ``status``."""
    recheck.report.save("复核报告.pdf", ContentFile(PDF))
    Recheck.objects.filter(pk=recheck.pk).update(status=status)
    return Recheck.objects.get(pk=recheck.pk)


def public_recheck(recheck: Recheck) -> str:
    return reverse("reports:public_recheck_report", args=[recheck.pk])


def test_recheck_report_is_404_for_a_visitor_until_its_year_is_disclosed(client, district, year):
    r1 = recheck_with_report(year.rechecks["R1"])
    assert client.get(public_recheck(r1)).status_code == 404
    assert public_recheck(r1) not in text(client.get(PUBLIC))

    report_disclose(year=2022, actor=district.finance)

    response = client.get(public_recheck(r1))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    rows = read(client.get(PUBLIC)).tables["public-rechecks-table"][1:]
    assert len(rows) == 1 and rows[0][0] == "2022" and rows[0][5] == "92.50"


def test_public_never_gets_a_recheck_report_not_final_or_never_uploaded(client, district, year):
    unfinished = recheck_with_report(year.rechecks["R3"], RecheckStatus.FED_BACK)
    without = year.rechecks["R2"]  # final, no file
    report_disclose(year=2022, actor=district.finance)

    assert client.get(public_recheck(unfinished)).status_code == 404
    assert client.get(public_recheck(without)).status_code == 404
    body = text(client.get(PUBLIC))
    assert "尚无公开的复核报告。" in body
    assert f'data-recheck="{unfinished.pk}"' not in body and f'data-recheck="{without.pk}"' not in body


def test_public_recheck_list_takes_the_same_number_of_queries_whatever_its_length(client, district, year):
    report_disclose(year=2022, actor=district.finance)
    recheck_with_report(year.rechecks["R1"])
    client.get(PUBLIC)
    with CaptureQueriesContext(connection) as one:
        client.get(PUBLIC)
    recheck_with_report(year.rechecks["R2"])
    recheck_with_report(year.rechecks["R3"])
    with CaptureQueriesContext(connection) as three:
        response = client.get(PUBLIC)
    assert text(response).count('data-testid="public-recheck-report"') == 3
    assert len(three) == len(one)


def test_old_public_evaluations_address_leads_to_the_public_page(client):
    response = client.get("/public/evaluations/?page=2")

    assert response.status_code == 301 and response.url == f"{PUBLIC}?page=2"


def test_nothing_else_of_the_reports_app_is_reachable_without_login(client, disclosed):
    """Every report URL outside /public/ sends a visitor to the login page."""
    for pattern in report_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route.startswith("public/"):
            continue
        url = "/" + route.replace("<year:year>", "2022")
        response = client.post(url) if route.endswith("disclose/") else client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_department_leaders_and_supervisors_are_told_when_a_year_is_disclosed(district, year):
    from notifications.models import Notification

    Notification.objects.all().delete()
    report_disclose(year=2022, actor=district.finance, note="经局务会审定")

    event = AuditEvent.objects.get(action="disclose_report")
    told = Notification.objects.filter(event_key=f"audit:{event.sequence}")
    assert {n.recipient for n in told} == {
        district.leader_a,
        district.leader_a2,
        district.leader_b,
        district.supervisor,
    }
    note = told.get(recipient=district.leader_b)
    assert note.kind == "stage_changed" and note.params == {"year": 2022}
    assert note.verb == "%(year)s 年度绩效评价汇总表已批准公开" and note.url == public_report(2022)
    assert audit_verify() is None


def test_nobody_is_told_when_the_disclosure_is_refused(district, year):
    from notifications.models import Notification

    report_disclose(year=2022, actor=district.finance)
    before = Notification.objects.count()
    with pytest.raises(ActionNotAllowed):
        report_disclose(year=2022, actor=district.finance)
    with pytest.raises(PermissionDenied):
        report_disclose(year=2022, actor=district.leader_a)
    assert Notification.objects.count() == before
