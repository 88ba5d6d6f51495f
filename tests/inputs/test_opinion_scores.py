"""NaN and the infinities refused everywhere (issue 16: a ``NaN`` opinion score was
accepted): an expert's scores, amounts and reduction items through the API."""

from __future__ import annotations

import pytest

from processes.models import Opinion
from processes.states import OpinionStatus
from tests.api.support import client_for
from tests.api.test_pre_assessment_api import FULL_SCORES, OPINION, drawn, review, seated, url  # noqa: F401

pytestmark = pytest.mark.django_db

BAD = ["NaN", "nan", "sNaN", "Infinity", "-inf", "1e-9", "1e400", "10.001"]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("submit", [False, True])
def test_opinion_score_is_refused_when_not_a_finite_number_in_range(review, value, submit):  # noqa: F811
    pa = drawn(review)
    member = seated(pa)[0]
    change = {"scores": {**FULL_SCORES, "necessity": value}}
    answer = client_for(member.user).put(url(pa, "my-opinion"), {**OPINION, **change, "submit": submit}, format="json")
    assert answer.status_code == 400, answer.content
    assert "scores.necessity" in answer.json()
    opinion = Opinion.objects.get(pk=member.opinion.pk)
    assert opinion.status == OpinionStatus.DRAFT and opinion.scores == {}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e20", "-1", "1e-9"])
@pytest.mark.parametrize("where", ["recommended_amount", "requested", "approved"])
def test_opinion_amounts_are_refused_when_not_a_bounded_amount(review, value, where):  # noqa: F811
    pa = drawn(review)
    member = seated(pa)[0]
    body = {**OPINION, "submit": False}
    if where == "recommended_amount":
        body["recommended_amount"] = value
    else:
        body["reduction_items"] = [{**OPINION["reduction_items"][0], where: value}]
    answer = client_for(member.user).put(url(pa, "my-opinion"), body, format="json")
    assert answer.status_code == 400, answer.content
    assert Opinion.objects.get(pk=member.opinion.pk).scores == {}
    assert client_for(member.user).get(url(pa, "my-opinion")).status_code == 200
