"""结论告知 (issue 19, item 1): when a review a panel member sat on is concluded — a confirmed
pre-assessment, a final commissioned evaluation — every member (experts and deputies) is
told once, with their own recommendation beside the result, and may read the read-only
outcome page; nobody else may (another panel's member, another department, the agency of
another commission, an outsider), and nobody before the conclusion."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from processes.models import AuditEvent, EvaluationPanelMember
from processes.notices import commissioned as ev_notices
from processes.services import commissioned as ev_svc
from processes.services import pre_assessment as pa_svc
from processes.states import EvaluationStatus
from tests.factories import make_user
from tests.processes.test_commissioned import SCORES, Chain, executing, pdf
from tests.processes.test_pre_assessment import Review, _concluded

pytestmark = pytest.mark.django_db


def get(user, url):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.fixture
def review(district):
    return Review(district)


@pytest.fixture
def chain(district):
    return Chain(district)


def _in_review(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    panel = chain.panel(ev)
    for i, m in enumerate(panel):
        own = [f"建议{i}-{j}" for j in range(1, i % 3 + 2)]
        ev_svc.suggestion_submit(member=m, actor=m.user, suggestions=own)
    return ev, panel


def _finalize(chain, ev):
    return ev_svc.evaluation_finalize(
        evaluation=ev, actor=chain.staff, scores=SCORES, conclusion="总体较好", report=pdf()
    )


# -- the notices --------------------------------------------------------------------------------


def test_every_member_is_told_the_result_beside_their_own_suggestions_when_the_evaluation_is_final(chain):
    ev, panel = _in_review(chain)
    assert {m.kind for m in panel} == {"expert", "deputy"}
    ev = _finalize(chain, ev)
    event = AuditEvent.objects.get(object_type="processes.commissionedevaluation", action="finalize")
    for i, member in enumerate(panel):
        [note] = Notification.objects.filter(recipient=member.user, verb=ev_notices.FINALIZED_MEMBER)
        assert note.event_key == f"audit:{event.sequence}"
        assert note.text_in("zh-hans") == (
            f"您参与评审的「{ev.title}」评价完成：88.50 分，等次良（您提出的评审建议：{i % 3 + 1} 条）"
        )
        assert note.text_in("en") != note.text_in("zh-hans")
    # one notice per member, none to anyone outside the panel
    assert Notification.objects.filter(verb=ev_notices.FINALIZED_MEMBER).count() == len(panel)


def test_members_are_told_nothing_more_when_the_final_evaluation_is_published(chain):
    ev, panel = _in_review(chain)
    ev = _finalize(chain, ev)
    before = Notification.objects.filter(recipient__in=[m.user for m in panel]).count()
    ev_svc.evaluation_approve_disclosure(evaluation=ev, actor=chain.d.finance)
    assert Notification.objects.filter(recipient__in=[m.user for m in panel]).count() == before


# -- the outcome page: pre-assessment -----------------------------------------------------------


def test_members_read_the_conclusion_beside_their_own_amount_when_the_pre_assessment_is_confirmed(review):
    amounts = ["30000000", "28000000.50", "26000000", "25000000", None]
    pa, members = _concluded(review, amounts=amounts)
    url = reverse("workflows:panel_outcome_pa", args=[pa.pk])
    assert get(members[0].user, url).status_code == 404  # concluded, not yet confirmed
    pa_svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)

    page = get(members[0].user, url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "部分予以支持" in html and "2,500.00" in html and "3,000.00" in html  # 万元: approved, own
    assert 'data-testid="own-difference">-500.00' in html
    deputy = next(m for m in members if m.kind == "deputy")
    assert get(deputy.user, url).status_code == 200
    silent = get(members[4].user, url).content.decode()
    assert 'data-testid="own-none"' in silent and "您未在截止时间前提交评审意见" in silent
    detail = get(members[0].user, reverse("workflows:pre_assessment", args=[pa.pk])).content.decode()
    assert url in detail  # the member's way to it


def test_outcome_page_is_refused_when_not_a_member_of_that_panel(review):
    pa, members = _concluded(review, amounts=["30000000"] * 5)
    pa_svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)
    url = reverse("workflows:panel_outcome_pa", args=[pa.pk])
    seated = {m.user_id for m in members}
    outsider_expert = next(e for e in review.experts + [review.same_dept] if e.pk not in seated)
    stranger_deputy = make_user("deputy", username="dep_other_panel")
    for user in [
        outsider_expert,
        stranger_deputy,
        review.d.staff_b,  # another department
        review.d.staff_a,  # the project's own department: not a panel member
        review.outsider_staff,
        review.d.finance,
    ]:
        assert get(user, url).status_code == 404, user
    assert get(None, url).status_code == 302  # to the login page
    assert get(members[0].user, reverse("workflows:panel_outcome_pa", args=[pa.pk + 999])).status_code == 404


# -- the outcome page: commissioned evaluation -------------------------------------------------


def test_members_read_score_grade_and_their_suggestions_only_when_the_evaluation_is_final(chain):
    ev, panel = _in_review(chain)
    url = reverse("workflows:panel_outcome_evaluation", args=[ev.pk])
    assert get(panel[0].user, url).status_code == 404  # still under review
    _finalize(chain, ev)
    html = get(panel[1].user, url).content.decode()
    assert "88.50" in html and "总体较好" in html
    assert "建议1-1" in html and "建议1-2" in html and "建议0-1" not in html  # only their own
    detail = get(panel[1].user, reverse("workflows:commissioned_detail", args=[ev.pk])).content.decode()
    assert url in detail


def test_evaluation_outcome_is_refused_when_a_member_of_another_panel_or_another_department_asks(chain):
    ev, panel = _in_review(chain)
    _finalize(chain, ev)
    other = chain.commission_key(project=executing(chain.d, dept="b"))
    # department B's review, concluded (set directly: only its panel and state matter here)
    type(other).objects.filter(pk=other.pk).update(status=EvaluationStatus.FINAL)
    seated = {m.user_id for m in panel}
    url = reverse("workflows:panel_outcome_evaluation", args=[ev.pk])
    stranger = make_user("expert", username="exp_other_panel")
    EvaluationPanelMember.objects.create(evaluation=other, user=stranger, kind="expert", seat=99)
    for member in EvaluationPanelMember.objects.filter(evaluation=other).exclude(user_id__in=seated):
        assert get(member.user, url).status_code == 404
    for user in [chain.d.staff_b, chain.d.leader_a, chain.staff, chain.outsider_staff, chain.d.finance]:
        assert get(user, url).status_code == 404, user
    # and a panel's member does not read the other panel's outcome
    assert get(panel[0].user, reverse("workflows:panel_outcome_evaluation", args=[other.pk])).status_code == 404


def test_outcome_page_takes_a_fixed_number_of_queries_when_a_member_reads_it(chain, django_assert_max_num_queries):
    ev, panel = _in_review(chain)
    _finalize(chain, ev)
    client = Client()
    client.force_login(panel[0].user)
    url = reverse("workflows:panel_outcome_evaluation", args=[ev.pk])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
