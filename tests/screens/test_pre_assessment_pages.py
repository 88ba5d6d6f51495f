"""事前绩效评估 screens: starting, the pre-assessment page, the opinion form, the year summary."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from processes.models import AuditEvent, Opinion, PanelMember, PreAssessment
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage
from tests.processes.test_pre_assessment import FULL_SCORES, REQUESTED, Review
from workflows.services import opinion_submit, pre_assessment_begin, pre_assessment_draw, pre_assessment_propose

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def review(district):
    return Review(district)


def begin(review, project=None) -> PreAssessment:
    return pre_assessment_begin(
        project=project or review.project,
        actor=review.d.finance,
        agency=review.agency,
        due_at=timezone.now() + timedelta(days=7),
    )


def seated(pa):
    return list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"))


def drawn(review) -> PreAssessment:
    return pre_assessment_draw(pre_assessment=begin(review), actor=review.staff, seed=7)


def submit_all(pa, recommendation=Conclusion.PARTIAL, amount="30000000"):
    for m in seated(pa):
        opinion_submit(
            opinion=m.opinion,
            actor=m.user,
            scores=FULL_SCORES,
            recommendation=recommendation,
            recommended_amount=amount,
            text="建议核减部分设备费",
        )
    pa.refresh_from_db()
    return pa


def page(pa):
    return reverse("workflows:pre_assessment", args=[pa.pk])


def act(pa, action):
    return reverse("workflows:pre_assessment_act", args=[pa.pk, action])


def opinion_url(pa):
    return reverse("workflows:pre_assessment_opinion", args=[pa.pk])


def opinion_post(**extra):
    data = {f"score_{code}": value for code, value in FULL_SCORES.items()}
    data.update(recommendation=Conclusion.PARTIAL, recommended_amount="30000000", text="核减设备购置费")
    data.update(extra)
    return data


# -- starting ---------------------------------------------------------------------------


def test_project_page_links_to_the_begin_form_when_finance_views_a_project_in_pre_assessment(client, review):
    client.force_login(review.d.finance)
    response = client.get(reverse("workflows:project_detail", args=[review.project.pk]))
    assert response.status_code == 200
    assert reverse("workflows:pre_assessment_begin", args=[review.project.pk]) in text(response)
    form = client.get(reverse("workflows:pre_assessment_begin", args=[review.project.pk]))
    assert form.status_code == 200
    assert review.agency.name in text(form)


def test_begin_commissions_the_agency_when_finance_posts_the_form(client, review):
    client.force_login(review.d.finance)
    response = client.post(
        reverse("workflows:pre_assessment_begin", args=[review.project.pk]),
        {"agency": review.agency.pk, "due_at": "2099-03-01T17:30"},
    )
    pa = PreAssessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page(pa)
    assert pa.agency == review.agency
    due = timezone.localtime(pa.due_at, timezone.get_fixed_timezone(480))
    assert (due.hour, due.minute) == (17, 30)  # entered in Beijing time


def test_begin_shows_form_errors_and_creates_nothing_when_due_date_has_passed(client, review):
    client.force_login(review.d.finance)
    response = client.post(
        reverse("workflows:pre_assessment_begin", args=[review.project.pk]),
        {"agency": review.agency.pk, "due_at": "2001-03-01T17:30"},
    )
    assert response.status_code == 400
    assert "意见截止时间必须晚于现在" in text(response)
    assert not PreAssessment.objects.exists()


@pytest.mark.parametrize("person", ["staff_a", "supervisor", "auditor"])
def test_begin_is_forbidden_when_not_finance(client, review, person):
    client.force_login(getattr(review.d, person))
    response = client.post(
        reverse("workflows:pre_assessment_begin", args=[review.project.pk]),
        {"agency": review.agency.pk, "due_at": "2099-03-01T17:30"},
    )
    assert response.status_code == 403
    assert not PreAssessment.objects.exists()


# -- the pre-assessment page -------------------------------------------------------------


@pytest.mark.parametrize("person", ["finance", "supervisor", "auditor", "agency_staff", "staff_a"])
def test_page_is_shown_when_user_sees_the_project(client, review, person):
    pa = drawn(review)
    client.force_login(getattr(review.d, person))
    response = client.get(page(pa))
    assert response.status_code == 200
    assert review.agency.name in text(response)
    assert "专家评审中" in text(response)


def test_page_is_not_found_when_expert_is_not_on_the_panel_or_staff_of_another_agency(client, review):
    pa = drawn(review)
    outsider = next(u for u in review.experts if u.pk not in {m.user_id for m in seated(pa)})
    for user in (outsider, review.outsider_staff, review.d.staff_b):
        client.force_login(user)
        assert client.get(page(pa)).status_code == 404
        assert client.get(opinion_url(pa)).status_code == 404
        assert client.post(act(pa, "draw")).status_code == 404


def test_panel_marks_deputies_as_deputies_when_drawn(client, review):
    pa = drawn(review)
    client.force_login(review.d.finance)
    html = text(client.get(page(pa)))
    deputies = [m for m in seated(pa) if m.kind == PanelMember.Kind.DEPUTY]
    assert deputies
    assert html.count('data-testid="deputy"') == 2 * len(deputies)  # panel table and opinion column
    assert "专业对口" in html


def test_agency_draws_the_panel_when_initiated(client, review):
    pa = begin(review)
    client.force_login(review.staff)
    assert "抽取评审组" in text(client.get(page(pa)))
    response = client.post(act(pa, "draw"))
    assert response.status_code == 302
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.UNDER_REVIEW
    assert len(seated(pa)) == 5


def test_draw_is_forbidden_and_changes_nothing_when_finance_posts_it(client, review):
    pa = begin(review)
    client.force_login(review.d.finance)
    assert client.post(act(pa, "draw")).status_code == 403
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.INITIATED


def test_draw_says_which_rule_failed_when_no_deputy_is_available(client, review):
    from accounts.models import DeputyProfile

    DeputyProfile.objects.update(active=False)
    pa = begin(review)
    client.force_login(review.staff)
    response = client.post(act(pa, "draw"))
    assert response.status_code == 400
    assert "人大代表" in text(response)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.INITIATED


def test_replacing_a_member_needs_a_reason_when_agency_replaces(client, review):
    pa = drawn(review)
    member = seated(pa)[0]
    client.force_login(review.staff)
    events = AuditEvent.objects.count()
    response = client.post(act(pa, "replace"), {"replace-member": member.pk, "replace-reason": ""})
    assert response.status_code == 400
    assert AuditEvent.objects.count() == events
    response = client.post(act(pa, "replace"), {"replace-member": member.pk, "replace-reason": "出差无法参加"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.active
    html = text(client.get(page(pa)))
    assert "已替换：出差无法参加" in html


def test_opinions_are_side_by_side_with_averages_when_agency_views_collected_review(client, review):
    pa = submit_all(drawn(review))
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    client.force_login(review.staff)
    html = text(client.get(page(pa)))
    assert html.count('data-testid="opinion-column"') == 5
    assert "88" in html  # total of FULL_SCORES, every column and the average
    assert '<td class="amount" data-testid="total-average">88.00</td>' in html
    assert "3,000.00" in html  # recommended amount in 万元
    assert "提出结论" in html


def test_expert_sees_only_their_own_opinion_when_on_the_panel(client, review):
    pa = submit_all(drawn(review))
    me, other = seated(pa)[0], seated(pa)[1]
    Opinion.objects.filter(pk=other.opinion.pk).update(text="别人的意见")
    client.force_login(me.user)
    response = client.get(page(pa))
    assert response.status_code == 200
    html = text(response)
    assert html.count('data-testid="opinion-column"') == 1
    assert "别人的意见" not in html
    assert "提出结论" not in html


def test_conclusion_rule_error_is_shown_and_nothing_changes_when_partial_equals_requested(client, review):
    pa = submit_all(drawn(review))
    client.force_login(review.staff)
    response = client.post(
        act(pa, "conclude"),
        {
            "conclude-conclusion": Conclusion.PARTIAL,
            "conclude-approved_amount": str(REQUESTED),
            "conclude-reasons": "x",
        },
    )
    assert response.status_code == 400
    assert "部分予以支持时，审定金额应大于 0 且小于送审金额" in text(response)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED


def test_conclusion_is_refused_when_finance_posts_it(client, review):
    pa = submit_all(drawn(review))
    client.force_login(review.d.finance)
    response = client.post(
        act(pa, "conclude"),
        {"conclude-conclusion": Conclusion.SUPPORT, "conclude-approved_amount": "1000", "conclude-reasons": "x"},
    )
    assert response.status_code == 403
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED


def test_finance_confirms_and_the_project_is_budgeted_when_conclusion_is_proposed(client, review):
    review.d.approve_targets(review.project)  # targets first: the confirmation budgets it
    pa = submit_all(drawn(review))
    client.force_login(review.staff)
    response = client.post(
        act(pa, "conclude"),
        {"conclude-conclusion": Conclusion.PARTIAL, "conclude-approved_amount": "30000000", "conclude-reasons": "核减"},
    )
    assert response.status_code == 302
    client.force_login(review.d.finance)
    html = text(client.get(page(pa)))
    assert "确认" in html and "退回" in html
    assert client.post(act(pa, "confirm")).status_code == 302
    pa.refresh_from_db()
    review.project.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONFIRMED
    assert review.project.stage == ProjectStage.BUDGETED
    assert review.project.approved_amount == Decimal("30000000.00")
    assert client.post(act(pa, "confirm")).status_code == 409  # already confirmed


def test_return_needs_a_reason_and_then_goes_back_to_the_agency_when_finance_returns(client, review):
    pa = submit_all(drawn(review))
    pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="支持"
    )
    client.force_login(review.d.finance)
    assert client.post(act(pa, "return"), {"return-reason": ""}).status_code == 400
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONCLUDED
    assert client.post(act(pa, "return"), {"return-reason": "理由不充分"}).status_code == 302
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED


def test_confirm_is_forbidden_when_agency_posts_it(client, review):
    pa = submit_all(drawn(review))
    pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="支持"
    )
    client.force_login(review.staff)
    assert client.post(act(pa, "confirm")).status_code == 403
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONCLUDED


# -- the opinion form ---------------------------------------------------------------------


def test_member_saves_a_draft_then_submits_when_filling_the_opinion(client, review):
    pa = drawn(review)
    member = seated(pa)[0]
    client.force_login(member.user)
    form = client.get(opinion_url(pa))
    assert form.status_code == 200
    assert "立项必要性" in text(form) and "保存草稿" in text(form)

    draft = {
        "score_necessity": "15",
        "text": "初稿",
        "item_1": "设备购置",
        "requested_1": "1000000",
        "approved_1": "800000",
    }
    response = client.post(opinion_url(pa), {**draft, "save": ""})
    assert response.status_code == 302
    member.opinion.refresh_from_db()
    assert member.opinion.status == OpinionStatus.DRAFT
    assert member.opinion.scores == {"necessity": "15"}
    assert member.opinion.reduction_items.get().approved == Decimal("800000.00")
    assert 'value="初稿"' in text(client.get(opinion_url(pa))) or "初稿" in text(client.get(opinion_url(pa)))

    response = client.post(opinion_url(pa), {**opinion_post(), "submit": ""})
    assert response.status_code == 302
    member.opinion.refresh_from_db()
    assert member.opinion.status == OpinionStatus.SUBMITTED
    shown = client.get(opinion_url(pa))
    assert 'data-testid="opinion-form"' not in text(shown)  # read-only now
    assert "核减设备购置费" in text(shown)
    assert client.post(opinion_url(pa), {**opinion_post(text="改"), "submit": ""}).status_code == 409


def test_bad_score_rerenders_with_errors_and_changes_nothing_when_out_of_range(client, review):
    pa = drawn(review)
    member = seated(pa)[0]
    client.force_login(member.user)
    response = client.post(opinion_url(pa), {**opinion_post(score_necessity="21"), "submit": ""})
    assert response.status_code == 400
    assert 'class="has-error"' in text(response)
    member.opinion.refresh_from_db()
    assert member.opinion.status == OpinionStatus.DRAFT
    assert member.opinion.scores == {}


def test_submission_rule_error_is_shown_when_recommendation_is_missing(client, review):
    pa = drawn(review)
    member = seated(pa)[0]
    client.force_login(member.user)
    response = client.post(opinion_url(pa), {**opinion_post(recommendation=""), "submit": ""})
    assert response.status_code == 400
    assert "请选择评审建议" in text(response)
    member.opinion.refresh_from_db()
    assert member.opinion.status == OpinionStatus.DRAFT


def test_opinion_post_is_forbidden_when_user_is_not_a_seated_member(client, review):
    pa = drawn(review)
    for user in (review.staff, review.d.finance):
        client.force_login(user)
        assert client.post(opinion_url(pa), {**opinion_post(), "submit": ""}).status_code == 403
    assert not Opinion.objects.filter(member__pre_assessment=pa, status=OpinionStatus.SUBMITTED).exists()


def test_task_page_links_to_the_opinion_form_when_task_is_an_opinion(client, review):
    from workflows.selectors import task_inbox_for

    pa = drawn(review)
    member = seated(pa)[0]
    task = task_inbox_for(member.user).get()
    client.force_login(member.user)
    response = client.get(reverse("workflows:task", args=[task.pk]))
    assert response.status_code == 200
    assert opinion_url(pa) in text(response)


# -- the year summary ---------------------------------------------------------------------


@pytest.mark.parametrize("person", ["finance", "supervisor", "auditor"])
def test_summary_shows_the_reports_figures_when_three_projects_are_confirmed(client, review, person):
    review.confirm_the_reports_three()
    client.force_login(getattr(review.d, person))
    response = client.get(reverse("workflows:pre_assessment_summary"), {"year": 2021})
    assert response.status_code == 200
    html = text(response)
    for figure in ("7,920.00", "6,720.00", "1,200.00", "15.15%", "1,300.00"):
        assert figure in html
    assert html.count("<tr>") - 1 == 3  # three project rows
    assert "区住房建设局" in html


def test_summary_xlsx_has_the_totals_when_three_projects_are_confirmed(client, review):
    review.confirm_the_reports_three()
    client.force_login(review.d.finance)
    response = client.get(reverse("workflows:pre_assessment_summary_xlsx"), {"year": 2021})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("评估项目数", "送审金额（万元）", "审定金额（万元）", "核减金额（万元）", "核减率")
    assert rows[2][:5] == (3, 7920, 6720, 1200, "15.15%")
    assert rows[4][:3] == ("予以支持", "部分予以支持", "不予支持")
    assert rows[5][:3] == (2, 1, 0)
    projects = rows[8:]
    assert len(projects) == 3
    assert sum(r[3] for r in projects) == 7920
    assert sum(r[5] for r in projects) == 1200


@pytest.mark.parametrize("person", ["staff_a", "agency_staff", "expert", "deputy"])
def test_summary_is_forbidden_when_not_a_bureau_wide_reader(client, review, person):
    client.force_login(getattr(review.d, person))
    assert client.get(reverse("workflows:pre_assessment_summary"), {"year": 2021}).status_code == 403
    assert client.get(reverse("workflows:pre_assessment_summary_xlsx"), {"year": 2021}).status_code == 403


def test_inbox_lists_the_opinion_task_when_member_is_seated(client, review):
    pa = drawn(review)
    member = next(m for m in seated(pa) if m.kind == "expert")
    client.force_login(member.user)
    response = client.get(reverse("workflows:inbox"))
    assert response.status_code == 200
    assert "专家评审意见" in text(response)


def test_report_file_is_kept_and_served_only_to_those_who_see_it_when_uploaded(client, review, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    pa = submit_all(drawn(review))
    client.force_login(review.staff)
    report = SimpleUploadedFile("评估报告.pdf", b"%PDF-1.4 report body", content_type="application/pdf")
    response = client.post(
        act(pa, "conclude"),
        {
            "conclude-conclusion": Conclusion.PARTIAL,
            "conclude-approved_amount": "30000000",
            "conclude-reasons": "核减",
            "conclude-report": report,
        },
    )
    assert response.status_code == 302
    pa.refresh_from_db()
    assert pa.report and pa.report.read() == b"%PDF-1.4 report body"
    url = reverse("workflows:pre_assessment_report", args=[pa.pk])
    assert url in text(client.get(page(pa)))
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 report body"
    client.force_login(review.d.staff_b)  # another department: not found
    assert client.get(url).status_code == 404


# -- the opinion form as people meet it (issue 21) ----------------------------------------------


def test_opinion_form_shows_the_total_labels_and_names_when_a_member_opens_it(client, review):
    from accounts.models import User

    pa = drawn(review)
    member = seated(pa)[0]
    User.objects.filter(pk=member.user_id).update(full_name="张评审")
    client.force_login(User.objects.get(pk=member.user_id))
    client.post(opinion_url(pa), {"save": "1", "score_necessity": "18", "score_economy": "16.5"})
    body = text(client.get(opinion_url(pa)))
    # the running total of the scores as saved (kept current by static/js/score_total.js)
    assert 'data-testid="score-total">34.5</output> / 100' in body
    assert "js/score_total.js" in body and 'data-score="20"' in body
    # the member by name, not by login name
    assert "张评审" in body and member.user.username not in body
    # each 核减事项 input has its own label
    for part in ("item", "requested", "approved", "reason"):
        assert f'<label class="visually-hidden" for="id_{part}_1">' in body
    assert "核减事项（第 1 项）" in body and "核减理由（第 3 项）" in body


def test_a_deputys_task_is_named_as_a_deputys_review_when_listed_in_the_inbox(client, review):
    pa = drawn(review)
    deputy = next(m for m in seated(pa) if m.kind == "deputy")
    expert = next(m for m in seated(pa) if m.kind == "expert")
    client.force_login(deputy.user)
    body = text(client.get(reverse("workflows:inbox")))
    assert "人大代表评审意见" in body and "专家评审意见" not in body
    client.force_login(expert.user)
    assert "专家评审意见" in text(client.get(reverse("workflows:inbox")))


# -- reminding the panel (issue 21) -------------------------------------------------------------


def test_agency_reminds_only_the_members_without_an_opinion_when_it_asks(client, review):
    from notifications.models import Notification

    pa = drawn(review)
    members = seated(pa)
    done, waiting = members[0], members[1:]
    opinion_submit(
        opinion=done.opinion,
        actor=done.user,
        scores=FULL_SCORES,
        recommendation=Conclusion.PARTIAL,
        recommended_amount="30000000",
        text="核减设备购置费",
    )
    client.force_login(review.staff)
    body = text(client.get(page(pa)))
    assert "提醒未提交的成员" in body and str(waiting[0].user) in body
    assert 'data-confirm="将向尚未提交评审意见的成员各发送一条提醒通知。确定提醒吗？"' in body
    response = client.post(act(pa, "remind"))
    assert response.status_code == 302
    notes = Notification.objects.filter(kind="reminder", object_id=str(pa.pk))
    assert sorted(n.recipient_id for n in notes) == sorted(m.user_id for m in waiting)
    assert all(n.url == opinion_url(pa) for n in notes)
    event = AuditEvent.objects.filter(action="remind_panel").get()
    assert event.actor_id == review.staff.pk
    assert sorted(event.detail["reminded"]) == sorted(m.user_id for m in waiting)
    # at most once in PANEL_REMIND_HOURS: a second ask at once is refused, nobody told twice
    again = client.post(act(pa, "remind"))
    assert again.status_code == 409 and "小时内已提醒过" in text(again)
    assert notes.count() == len(waiting)


def test_agency_reminds_again_when_the_interval_has_passed(review):
    from processes.services.pre_assessment import panel_remind_hours, pre_assessment_remind_panel

    pa = drawn(review)
    first, _ = pre_assessment_remind_panel(pre_assessment=pa, actor=review.staff)
    later = timezone.now() + timedelta(hours=panel_remind_hours(), minutes=1)
    second, skipped = pre_assessment_remind_panel(pre_assessment=pa, actor=review.staff, now=later)
    assert [m.pk for m in second] == [m.pk for m in first] and skipped == []


@pytest.mark.parametrize("person", ["finance", "staff_a", "expert", "supervisor"])
def test_remind_is_refused_when_not_the_commissioned_agency(client, review, person):
    from notifications.models import Notification

    pa = drawn(review)
    client.force_login(getattr(review.d, person))
    response = client.post(act(pa, "remind"))
    assert response.status_code in (403, 404)
    assert not Notification.objects.filter(kind="reminder", object_id=str(pa.pk)).exists()
