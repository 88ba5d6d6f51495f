"""Third-party agencies managed (issue 19 §4), the API: return-final on a commissioned
evaluation (finance section only, reason required); /api/evaluations/frameworks/ (the
finance section sets and lists; an agency lists its own years; others 403); a commission
without an agency takes the year's framework agency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import CommissionedEvaluation, FrameworkCommission
from processes.services import agencies
from processes.states import EvaluationStatus
from tests.processes.test_commissioned import Chain

from .support import client_for

pytestmark = pytest.mark.django_db

FRAMEWORKS = "/api/evaluations/frameworks/"


@pytest.fixture
def chain(district):
    return Chain(district)


def test_return_final_sends_the_report_back_when_the_finance_section_posts_a_reason(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    url = f"/api/evaluations/commissioned/{ev.pk}/return-final/"
    assert client_for(chain.d.finance).post(url, {"comment": ""}, format="json").status_code == 400
    assert client_for(chain.staff).post(url, {"comment": "理由"}, format="json").status_code == 403
    assert client_for(chain.d.staff_a).post(url, {"comment": "理由"}, format="json").status_code in (403, 404)
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status == EvaluationStatus.FINAL
    response = client_for(chain.d.finance).post(url, {"comment": "请补充成本分析"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == EvaluationStatus.EXPERT_REVIEW and body["final_return_comment"] == "请补充成本分析"
    assert client_for(chain.d.finance).post(url, {"comment": "再退"}, format="json").status_code == 409


def test_finance_sets_and_lists_framework_commissions_when_posting(chain):
    finance = client_for(chain.d.finance)
    response = finance.post(FRAMEWORKS, {"fiscal_year": 2021, "agency": chain.agency.pk}, format="json")
    assert response.status_code == 201 and response.json()["agency_name"] == chain.agency.name
    bad = finance.post(FRAMEWORKS, {"fiscal_year": 1800, "agency": chain.agency.pk}, format="json")
    assert bad.status_code == 400 and FrameworkCommission.objects.count() == 1
    assert [r["fiscal_year"] for r in finance.get(FRAMEWORKS).json()] == [2021]


def test_agency_lists_only_its_own_framework_years_and_others_are_refused(chain):
    agencies.framework_set(actor=chain.d.finance, fiscal_year=2020, agency=chain.other_agency)
    agencies.framework_set(actor=chain.d.finance, fiscal_year=2021, agency=chain.agency)
    mine = client_for(chain.staff).get(FRAMEWORKS)
    assert mine.status_code == 200 and [r["fiscal_year"] for r in mine.json()] == [2021]
    assert client_for(chain.staff).post(FRAMEWORKS, {"fiscal_year": 2022, "agency": chain.agency.pk}).status_code == 403
    for user in [chain.d.staff_a, chain.d.leader_a, chain.d.supervisor, chain.d.auditor, chain.d.expert]:
        assert client_for(user).get(FRAMEWORKS).status_code == 403
    assert client_for(None).get(FRAMEWORKS).status_code in (401, 403)
    assert FrameworkCommission.objects.count() == 2


def test_commission_without_an_agency_takes_the_years_framework_agency(chain):
    agencies.framework_set(actor=chain.d.finance, fiscal_year=chain.project.fiscal_year, agency=chain.agency)
    due = (timezone.now() + timedelta(days=30)).isoformat()
    response = client_for(chain.d.finance).post(
        "/api/evaluations/commissioned/", {"kind": "key", "project": chain.project.pk, "due_at": due}, format="json"
    )
    assert response.status_code == 201
    assert CommissionedEvaluation.objects.get().agency == chain.agency


def test_quality_scores_and_ratings_through_the_api_per_role(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.FINAL)
    scores = "/api/evaluations/quality-scores/"
    ratings = f"/api/evaluations/quality-scores/ratings/?fiscal_year={ev.fiscal_year}"
    body = {"kind": "final", "score": "90", "comment": "好", "evaluation": ev.pk}
    assert client_for(chain.staff).post(scores, body, format="json").status_code == 403
    assert client_for(chain.d.staff_a).post(scores, body, format="json").status_code == 403
    assert client_for(chain.d.finance).post(scores, {**body, "score": "x"}, format="json").status_code == 400
    assert client_for(chain.d.finance).post(scores, body, format="json").status_code == 201
    [row] = client_for(chain.d.finance).get(ratings).json()
    assert row["agency_name"] == chain.agency.name and row["rating"] == "90.00" and row["grade"] == "excellent"
    assert len(client_for(chain.staff).get(ratings).json()) == 1
    assert client_for(chain.outsider_staff).get(ratings).json() == []
    for user in [chain.d.staff_a, chain.d.leader_a, chain.d.expert]:
        assert client_for(user).get(ratings).status_code == 403
    assert client_for(chain.d.finance).get("/api/evaluations/quality-scores/ratings/").status_code == 400
