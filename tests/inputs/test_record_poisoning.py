"""A value outside its column is refused with 400 and nothing stored, and the record still
renders for every role (issue 16: ``band_pct`` 1e9 was stored by ``bulk_update`` and the
sheet answered 500 from then on)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from processes.models import IndicatorProgress, ScoreLine, SelfEvaluation
from processes.services import evaluation
from processes.services.monitoring import approved_rows
from tests.api.support import client_for
from tests.api.test_evaluation_api import body, ses, url  # noqa: F401  (fixture)
from tests.api.test_monitoring_api import projects, round_id  # noqa: F401  (fixtures)
from tests.api.test_monitoring_api import reports as monitoring_reports
from tests.api.test_monitoring_api import url as monitoring_url

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


def test_column_guard_refuses_an_overflowing_value_when_bulk_updated(district, ses):  # noqa: F811
    """The last guard (BoundedDecimalField): a path that forgot to bound a value cannot
    store it, ``bulk_update`` included."""
    se = ses[0]
    assert client_for(district.staff_a).put(url(se), body(se), format="json").status_code == 200
    line = ScoreLine.objects.filter(band_pct__isnull=False).first()
    line.band_pct = Decimal("1e9")
    with pytest.raises(ValidationError), transaction.atomic():
        ScoreLine.objects.bulk_update([line], ["band_pct"])
    for bad in (Decimal("NaN"), Decimal("Infinity")):
        line.band_pct = bad
        with pytest.raises(ValidationError), transaction.atomic():
            line.save(update_fields=["band_pct"])
    assert ScoreLine.objects.get(pk=line.pk).band_pct == Decimal("100.00")
    assert client_for(district.finance).get(url(se)).status_code == 200


@pytest.mark.parametrize("value", ["1e20", "NaN", "-Infinity", "1e-9", "-1", str(10**30)])
def test_monitoring_value_is_refused_and_the_report_still_renders_when_out_of_its_column(district, round_id, value):  # noqa: F811
    report = monitoring_reports(round_id, district)[0]
    row = next(r for r in approved_rows(report.project) if r.quantitative)
    staff = client_for(district.staff_a)
    response = staff.put(
        monitoring_url(report),
        {"indicators": [{"target_row": row.pk, "value": value}], "executed": value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {f"indicators.{row.pk}.value", "executed"}
    assert not IndicatorProgress.objects.filter(report=report).exists()
    for user in (district.staff_a, district.finance):
        assert client_for(user).get(monitoring_url(report)).status_code == 200
