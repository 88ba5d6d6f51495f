"""A value outside its column is refused with 400 and nothing stored, and the record still
renders for every role (issue 16: ``band_pct`` 1e9 was stored by ``bulk_update`` and the
sheet answered 500 from then on)."""

from __future__ import annotations

import pytest

from processes.models import ScoreLine, SelfEvaluation
from processes.services import evaluation
from tests.api.support import client_for
from tests.api.test_evaluation_api import body, ses, url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

BAD = ["1e9", "1000", "-1", "1e-9", "NaN", "Infinity", "-inf", str(10**30)]


@pytest.mark.parametrize("value", BAD)
def test_band_pct_is_refused_and_nothing_stored_when_out_of_range(district, ses, value):  # noqa: F811
    se = ses[0]
    staff = client_for(district.staff_a)
    assert staff.put(url(se), body(se), format="json").status_code == 200
    before = list(ScoreLine.objects.values_list("band_pct", flat=True).order_by("pk"))

    response = staff.put(url(se), body(se, band_pct=value), format="json")

    assert response.status_code == 400, response.content
    qualitative = next(r for r in evaluation.approved_rows(se.project) if r.direction == "qualitative")
    assert response.json()[f"lines.{qualitative.pk}.band_pct"]
    assert list(ScoreLine.objects.values_list("band_pct", flat=True).order_by("pk")) == before
    for user in (district.staff_a, district.leader_a, district.finance):
        assert client_for(user).get(url(se)).status_code == 200
    assert SelfEvaluation.objects.get(pk=se.pk).revision == 2


@pytest.mark.parametrize("field", ["gte", "lte", "executed"])
@pytest.mark.parametrize("value", ["1e20", "NaN", "-Infinity", "1e-9", str(10**30)])
def test_sheet_numbers_are_refused_when_out_of_their_column(district, ses, field, value):  # noqa: F811
    se = ses[0]
    staff = client_for(district.staff_a)
    response = staff.put(url(se), body(se, **{field: value}), format="json")
    assert response.status_code == 400, response.content
    assert SelfEvaluation.objects.get(pk=se.pk).sheet is None
    assert staff.get(url(se)).status_code == 200
