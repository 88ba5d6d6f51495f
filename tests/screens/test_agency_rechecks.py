"""Third-party agencies managed (issue 19 §4), the re-check's part: the agency uploads its
复核报告 when it finishes a re-check (screen and API; checked like every upload, refused
whole), those who may see the re-check download it, the public only once the year's
summary tables were approved for disclosure; the finance section scores the finished
re-check on its page (and through the API), the agency sees its own score, departments
never see it (not on the page, not in the history)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, DeliverableScore, Recheck
from processes.services import agencies, evaluation
from processes.states import RecheckStatus
from reports.services import report_disclose
from tests.api.support import client_for
from tests.factories import AgencyFactory, make_user
from tests.screens.test_evaluation_pages import (
    accept_through_services,
    agency,
    campaign_ses,
    login,
    recheck_act,
    recheck_page,
    text,
)

pytestmark = pytest.mark.django_db
__all__ = ["agency", "campaign_ses"]  # the fixtures, shared with test_evaluation_pages

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
SCORES = "/api/evaluations/quality-scores/"


def pdf(name="复核报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def lines_of(se) -> list[dict]:
    lines = []
    for row in evaluation.approved_rows(se.project):
        item = {"target_row": row.pk, "deviation_reason": "原因", "measure": "措施"}
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="100")
        else:
            item["actual"] = "10" if row.direction == "gte" else "280"
        lines.append(item)
    return lines


@pytest.fixture
def fed_back(district, agency, campaign_ses) -> Recheck:
    """A re-check of department A's first project, fed back, waiting for the agency."""
    se = accept_through_services(district, campaign_ses[0])
    sample = evaluation.recheck_sample(
        actor=district.finance,
        campaign=se.campaign,
        agency=agency,
        due_at=timezone.now() + timedelta(days=5),
        self_evaluation_ids=[se.pk],
    )
    recheck = sample.rechecks.get()
    recheck = evaluation.recheck_save(recheck=recheck, actor=district.agency_staff, lines=lines_of(se))
    recheck = evaluation.recheck_submit(recheck=recheck, actor=district.agency_staff, opinion="长度不足")
    return evaluation.recheck_feedback(recheck=recheck, actor=district.leader_a, comment="")


@pytest.fixture
def final(district, fed_back) -> Recheck:
    return evaluation.recheck_finalize(recheck=fed_back, actor=district.agency_staff, report=pdf())


def fresh(recheck) -> Recheck:
    return Recheck.objects.get(pk=recheck.pk)


# -- the report file -----------------------------------------------------------------------------


def test_agency_uploads_the_report_when_it_finishes_the_recheck_on_the_page(client, district, fed_back):
    agency_client = login(client, district.agency_staff)
    page = text(agency_client.get(recheck_page(fed_back)))
    assert 'enctype="multipart/form-data"' in page and 'name="report"' in page
    response = agency_client.post(recheck_act(fed_back, "finalize"), {"report": pdf()})
    assert response.status_code == 302
    done = fresh(fed_back)
    assert done.status == RecheckStatus.FINAL and done.report.name.startswith("evaluations/rechecks/")
    event = AuditEvent.objects.get(action="recheck_finalize", object_id=str(done.pk))
    assert event.detail["report"] == done.report.name
    assert 'data-testid="recheck-report-link"' in text(agency_client.get(recheck_page(done)))
    download = agency_client.get(reverse("workflows:recheck_report", args=[done.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")


def test_finishing_is_refused_whole_when_the_report_is_not_an_accepted_file(client, district, fed_back):
    agency_client = login(client, district.agency_staff)
    bad = SimpleUploadedFile("复核报告.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = agency_client.post(recheck_act(fed_back, "finalize"), {"report": bad})
    assert response.status_code == 400 and "只接受 PDF" in text(response)
    kept = fresh(fed_back)
    assert kept.status == RecheckStatus.FED_BACK and not kept.report and kept.final_score is None
    assert not AuditEvent.objects.filter(action="recheck_finalize").exists()


def test_finishing_without_a_report_keeps_the_recheck_without_one_when_none_is_sent(client, district, fed_back):
    response = login(client, district.agency_staff).post(recheck_act(fed_back, "finalize"), {})
    assert response.status_code == 302
    done = fresh(fed_back)
    assert done.status == RecheckStatus.FINAL and not done.report
    assert client.get(reverse("workflows:recheck_report", args=[done.pk])).status_code == 404


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "finance", "supervisor", "auditor"])
def test_report_is_downloaded_by_those_who_may_see_the_recheck_when_logged_in(client, district, final, name):
    response = login(client, getattr(district, name)).get(reverse("workflows:recheck_report", args=[final.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["staff_b", "leader_b", "expert"])
def test_report_is_404_when_the_user_may_not_see_the_recheck(client, district, final, name):
    assert (
        login(client, getattr(district, name)).get(reverse("workflows:recheck_report", args=[final.pk])).status_code
        == 404
    )


def test_report_is_refused_to_another_agency_and_to_anonymous_visitors(client, district, final):
    other = make_user("agency_staff", username="agency2", agency=AgencyFactory(name="另一机构"))
    url = reverse("workflows:recheck_report", args=[final.pk])
    assert login(client, other).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_finishing_through_the_api_takes_the_report_as_multipart(client, district, fed_back):
    url = f"/api/evaluations/rechecks/{fed_back.pk}/finalize/"
    bad = SimpleUploadedFile("x.pdf", b"plain text", content_type="application/pdf")
    refused = client_for(district.agency_staff).post(url, {"report": bad}, format="multipart")
    assert refused.status_code == 400 and "report" in refused.json()
    assert fresh(fed_back).status == RecheckStatus.FED_BACK and not fresh(fed_back).report
    assert client_for(district.staff_a).post(url, {"report": pdf()}, format="multipart").status_code == 403
    response = client_for(district.agency_staff).post(url, {"report": pdf()}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == RecheckStatus.FINAL
    assert body["report_url"] == reverse("workflows:recheck_report", args=[fed_back.pk])
    assert login(client, district.staff_a).get(body["report_url"]).status_code == 200  # the screen's download


def test_finishing_through_the_api_still_takes_an_empty_json_body(district, fed_back):
    url = f"/api/evaluations/rechecks/{fed_back.pk}/finalize/"
    response = client_for(district.agency_staff).post(url, {}, format="json")
    assert response.status_code == 200 and response.json()["report_url"] is None


# -- scoring a re-check ----------------------------------------------------------------------------


def test_finance_scores_the_finished_recheck_on_its_page_and_the_rating_counts_it(client, district, agency, final):
    finance = login(client, district.finance)
    page = text(finance.get(recheck_page(final)))
    assert 'data-testid="quality"' in page and 'data-action="quality"' in page and "尚未评分" in page
    bad = finance.post(recheck_act(final, "quality"), {"kind": "recheck", "score": "120"})
    assert bad.status_code == 400 and not DeliverableScore.objects.exists()
    wrong_kind = finance.post(recheck_act(final, "quality"), {"kind": "final", "score": "80"})
    assert wrong_kind.status_code == 400 and not DeliverableScore.objects.exists()
    response = finance.post(recheck_act(final, "quality"), {"kind": "recheck", "score": "88.5", "comment": "复核扎实"})
    assert response.status_code == 302
    score = DeliverableScore.objects.get()
    assert (score.recheck_id, score.agency, score.score, score.fiscal_year) == (final.pk, agency, 88.5, 2021)
    page = text(finance.get(recheck_page(final)))
    assert 'data-testid="quality-row"' in page and "88.50" in page and "复核扎实" in page
    assert "成果质量评分" in page  # the history names the step
    [row] = agencies.agency_ratings(2021)
    assert row["agency"] == agency and str(row["rating"]) == "88.50"


def test_recheck_is_not_scored_on_its_page_before_it_is_finished(client, district, fed_back):
    finance = login(client, district.finance)
    page = text(finance.get(recheck_page(fed_back)))
    assert 'data-action="quality"' not in page
    response = finance.post(recheck_act(fed_back, "quality"), {"kind": "recheck", "score": "80"})
    assert response.status_code == 400 and "复核完成后才能评分" in text(response)
    assert not DeliverableScore.objects.exists()


def test_agency_sees_its_recheck_score_but_cannot_score(client, district, final):
    agencies.quality_score(actor=district.finance, kind="recheck", recheck=final, score="76", comment="抽样说明不足")
    agency_client = login(client, district.agency_staff)
    page = text(agency_client.get(recheck_page(final)))
    assert 'data-testid="quality-row"' in page and "76.00" in page and "抽样说明不足" in page
    assert 'data-action="quality"' not in page
    assert agency_client.post(recheck_act(final, "quality"), {"kind": "recheck", "score": "99"}).status_code == 403
    assert DeliverableScore.objects.get().score == 76


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_recheck_score_is_hidden_from_the_page_and_its_history_when_not_finance_or_agency(
    client, district, final, name
):
    agencies.quality_score(actor=district.finance, kind="recheck", recheck=final, score="76.25", comment="密评语")
    user_client = login(client, getattr(district, name))
    page = text(user_client.get(recheck_page(final)))
    assert 'data-testid="quality"' not in page and "76.25" not in page and "密评语" not in page
    assert "成果质量评分" not in page  # not in the history either
    assert user_client.post(recheck_act(final, "quality"), {"kind": "recheck", "score": "10"}).status_code == 403
    assert DeliverableScore.objects.get().score == 76.25


def test_recheck_is_scored_through_the_api_by_the_finance_section_only(district, final):
    body = {"kind": "recheck", "recheck": final.pk, "score": "91", "comment": "好"}
    for user in (district.agency_staff, district.staff_a, district.leader_a, district.supervisor, district.auditor):
        assert client_for(user).post(SCORES, body, format="json").status_code == 403
    assert not DeliverableScore.objects.exists()
    missing = client_for(district.finance).post(SCORES, {"kind": "recheck", "score": "91"}, format="json")
    assert missing.status_code == 400
    response = client_for(district.finance).post(SCORES, body, format="json")
    assert response.status_code in (200, 201)
    again = client_for(district.finance).post(SCORES, {**body, "score": "93"}, format="json")
    assert again.status_code in (200, 201)
    score = DeliverableScore.objects.get()
    assert (score.recheck_id, score.score, score.revision) == (final.pk, 93, 2)
    assert AuditEvent.objects.filter(action="quality_score", object_type="processes.recheck").count() == 2


def test_unfinished_recheck_is_refused_through_the_api(district, fed_back):
    body = {"kind": "recheck", "recheck": fed_back.pk, "score": "91"}
    response = client_for(district.finance).post(SCORES, body, format="json")
    assert response.status_code == 400 and not DeliverableScore.objects.exists()


# -- the public ----------------------------------------------------------------------------------


def public_url(recheck) -> str:
    return reverse("reports:public_recheck_report", args=[recheck.pk])


def test_public_gets_the_recheck_report_only_once_the_year_is_disclosed(client, district, final):
    client.logout()
    assert client.get(public_url(final)).status_code == 404
    listing = text(client.get(reverse("reports:public")))
    assert 'data-testid="public-recheck-report"' not in listing and "尚无公开的复核报告" in listing
    report_disclose(year=2021, actor=district.finance)
    listing = text(client.get(reverse("reports:public")))
    assert f'data-recheck="{final.pk}"' in listing and public_url(final) in listing
    response = client.get(public_url(final))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")


def test_public_never_gets_an_unfinished_recheck_or_one_without_a_report(client, district, agency, fed_back):
    report_disclose(year=2021, actor=district.finance)
    Recheck.objects.filter(pk=fed_back.pk).update(report="evaluations/rechecks/planted.pdf")
    client.logout()
    assert client.get(public_url(fed_back)).status_code == 404  # fed back, not finished
    done = evaluation.recheck_finalize(recheck=fresh(fed_back), actor=district.agency_staff)
    Recheck.objects.filter(pk=done.pk).update(report="")
    assert client.get(public_url(done)).status_code == 404  # finished without a report
    assert f'data-recheck="{done.pk}"' not in text(client.get(reverse("reports:public")))


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "finance"])
def test_service_refuses_the_actor_before_reading_the_file_when_not_the_agency(district, fed_back, name):
    bad = SimpleUploadedFile("x.pdf", b"plain text", content_type="application/pdf")
    with pytest.raises(PermissionDenied):
        evaluation.recheck_finalize(recheck=fed_back, actor=getattr(district, name), report=bad)
    kept = fresh(fed_back)
    assert kept.status == RecheckStatus.FED_BACK and not kept.report


def test_service_refuses_a_report_on_a_recheck_already_finished(district, final):
    with pytest.raises(ActionNotAllowed):
        evaluation.recheck_finalize(recheck=final, actor=district.agency_staff, report=pdf("第二份.pdf"))
    assert fresh(final).report.name == final.report.name
