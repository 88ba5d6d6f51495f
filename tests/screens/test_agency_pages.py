"""Third-party agencies managed (issue 19 §4), the screens: the finance section returns a
final report through the evaluation's page; the year's framework commission (整体委托) is
set on its screen (finance section), seen by the contracted agency only for its own years,
refused to everyone else; a commission left without an agency takes the year's."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from processes.models import CommissionedEvaluation, DeliverableScore, FrameworkCommission
from processes.services import agencies
from processes.states import EvaluationStatus
from tests.factories import AgencyFactory
from tests.processes.test_commissioned import Chain
from tests.screens.test_commissioned_pages import NEW, SHANGHAI, act, action_forms, as_user, detail, fresh, text
from tests.screens.test_evaluation_pages import campaign_ses

pytestmark = pytest.mark.django_db
__all__ = ["campaign_ses"]  # the fixture, shared with test_evaluation_pages

FRAMEWORKS = reverse("workflows:framework_commissions")


@pytest.fixture
def chain(district):
    return Chain(district)


def test_finance_returns_the_final_report_through_the_page_when_it_needs_rework(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    as_user(client, chain.d.finance)
    assert {"return-final", "disclose"} <= action_forms(client.get(detail(ev)))
    refused = client.post(act(ev, "return-final"), {"comment": ""})
    assert refused.status_code == 400 and fresh(ev).status == EvaluationStatus.FINAL
    response = client.post(act(ev, "return-final"), {"comment": "报告缺少满意度调查分析"})
    assert response.status_code == 302 and fresh(ev).status == EvaluationStatus.EXPERT_REVIEW
    as_user(client, chain.staff)
    page = client.get(detail(ev))
    assert "报告缺少满意度调查分析" in text(page) and "finalize" in action_forms(page)


@pytest.mark.parametrize("name", ["staff", "staff_a"])
def test_return_final_is_403_when_not_the_finance_section(client, chain, name):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    user = getattr(chain, name, None) or getattr(chain.d, name)
    as_user(client, user)
    assert "return-final" not in action_forms(client.get(detail(ev)))
    assert client.post(act(ev, "return-final"), {"comment": "冒名退回"}).status_code == 403
    assert fresh(ev).status == EvaluationStatus.FINAL


def test_finance_sets_the_framework_commission_on_its_screen_when_posting(client, chain):
    as_user(client, chain.d.finance)
    assert client.get(FRAMEWORKS).status_code == 200
    response = client.post(
        FRAMEWORKS, {"fiscal_year": 2021, "agency": chain.agency.pk, "contract_no": "HT-2021-01", "scope": "复核"}
    )
    assert response.status_code == 302
    found = FrameworkCommission.objects.get()
    assert (found.fiscal_year, found.agency, found.contract_no) == (2021, chain.agency, "HT-2021-01")
    bad = client.post(FRAMEWORKS, {"fiscal_year": "", "agency": ""})
    assert bad.status_code == 400 and FrameworkCommission.objects.count() == 1


def test_agency_sees_only_its_own_framework_years_and_cannot_set_them(client, chain):
    agencies.framework_set(actor=chain.d.finance, fiscal_year=2020, agency=chain.other_agency)
    agencies.framework_set(actor=chain.d.finance, fiscal_year=2021, agency=chain.agency)
    as_user(client, chain.staff)
    page = client.get(FRAMEWORKS)
    assert page.status_code == 200 and text(page).count('data-testid="framework-row"') == 1
    assert chain.other_agency.name not in text(page) and 'data-testid="framework-form"' not in text(page)
    assert client.post(FRAMEWORKS, {"fiscal_year": 2022, "agency": chain.agency.pk}).status_code == 403
    assert FrameworkCommission.objects.count() == 2


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor", "expert", "deputy", "sysadmin"])
def test_framework_screen_is_403_when_not_finance_or_agency(client, chain, name):
    as_user(client, getattr(chain.d, name))
    assert client.get(FRAMEWORKS).status_code == 403
    assert client.post(FRAMEWORKS, {"fiscal_year": 2021, "agency": chain.agency.pk}).status_code == 403
    assert not FrameworkCommission.objects.exists()


def test_commission_form_left_on_the_framework_takes_the_years_agency_when_posted(client, chain):
    agencies.framework_set(actor=chain.d.finance, fiscal_year=chain.project.fiscal_year, agency=chain.agency)
    as_user(client, chain.d.finance)
    page = client.get(NEW)
    assert "按该年度整体委托" in text(page) and chain.agency.name in text(page)
    due = (timezone.now() + timedelta(days=30)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = client.post(NEW, {"kind": "key", "project": chain.project.pk, "agency": "", "due_at": due})
    assert response.status_code == 302
    assert CommissionedEvaluation.objects.get().agency == chain.agency


RATINGS = reverse("workflows:agency_ratings")


def test_finance_scores_on_the_page_and_sees_the_rating_and_its_xlsx(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    as_user(client, chain.d.finance)
    assert "quality" in action_forms(client.get(detail(ev)))
    assert client.post(act(ev, "quality"), {"kind": "final", "score": "150"}).status_code == 400
    response = client.post(act(ev, "quality"), {"kind": "final", "score": "92", "comment": "报告扎实"})
    assert response.status_code == 302
    page = client.get(f"{RATINGS}?fiscal_year={ev.fiscal_year}")
    assert page.status_code == 200 and chain.agency.name in text(page) and "92.00" in text(page)
    book = client.get(f"{RATINGS}?fiscal_year={ev.fiscal_year}&format=xlsx")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert [c.value for c in sheet[3]][0] == chain.agency.name and 92.0 in [c.value for c in sheet[3]]


def test_agency_sees_its_own_scores_and_rating_but_departments_see_none(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    agencies.quality_score(actor=chain.d.finance, evaluation=ev, kind="final", score="77", comment="需改进的结论")
    as_user(client, chain.staff)
    page = client.get(detail(ev))
    assert "需改进的结论" in text(page) and "quality" not in action_forms(page)
    assert client.post(act(ev, "quality"), {"kind": "final", "score": "100"}).status_code == 403
    assert chain.agency.name in text(client.get(f"{RATINGS}?fiscal_year={ev.fiscal_year}"))
    as_user(client, chain.outsider_staff)
    assert chain.agency.name not in text(client.get(f"{RATINGS}?fiscal_year={ev.fiscal_year}"))
    for user in [chain.d.staff_a, chain.d.leader_a]:
        as_user(client, user)
        page = client.get(detail(ev))
        assert (
            page.status_code == 200 and "需改进的结论" not in text(page) and 'data-testid="quality"' not in text(page)
        )
        assert client.get(RATINGS).status_code == 403
        assert client.post(act(ev, "quality"), {"kind": "final", "score": "100"}).status_code == 403
    assert DeliverableScore.objects.get().score == 77


def test_recheck_sample_form_is_prefilled_with_the_years_framework_agency(client, district, campaign_ses):
    contracted = AgencyFactory(name="整体委托事务所")
    AgencyFactory(name="另一家事务所")
    agencies.framework_set(actor=district.finance, fiscal_year=2021, agency=contracted)
    url = reverse("workflows:evaluation_rechecks", args=[campaign_ses[0].campaign_id])
    as_user(client, district.finance)
    page = client.get(url).content.decode()
    assert re.search(rf'<option value="{contracted.pk}"\s+selected', page)


# -- the menu ------------------------------------------------------------------------------------


def nav(response) -> str:
    return re.search(r'<nav class="mainnav".*?</nav>', text(response), re.S).group(0)


def test_menu_offers_ratings_and_framework_commissions_when_the_user_is_the_finance_section(client, chain):
    as_user(client, chain.d.finance)
    menu = nav(client.get(reverse("workflows:inbox")))
    assert reverse("workflows:agency_ratings") in menu and FRAMEWORKS in menu
    ratings = nav(client.get(reverse("workflows:agency_ratings")))
    assert re.search(r'data-testid="nav-agency-ratings"[^>]*class="active"', ratings)
    frameworks = nav(client.get(FRAMEWORKS))
    assert re.search(r'data-testid="nav-frameworks"[^>]*class="active"', frameworks)


def test_menu_offers_the_agency_staff_only_the_ratings(client, chain):
    as_user(client, chain.staff)
    menu = nav(client.get(reverse("workflows:inbox")))
    assert reverse("workflows:agency_ratings") in menu and FRAMEWORKS not in menu
    assert client.get(reverse("workflows:agency_ratings")).status_code == 200


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor", "expert"])
def test_menu_offers_neither_when_the_user_may_open_neither(client, chain, name):
    as_user(client, getattr(chain.d, name))
    menu = nav(client.get(reverse("workflows:inbox")))
    assert reverse("workflows:agency_ratings") not in menu and FRAMEWORKS not in menu
