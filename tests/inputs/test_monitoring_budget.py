"""The monitoring budget is the project's: the department cannot type its own and so choose
its spending light (issue 16). The API ignores a typed budget (read-only), the screen shows
it disabled, and the service refuses one that differs from the project's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from processes.models import MonitoringReport
from processes.services.monitoring import report_save
from processes.states import Light
from tests.api.support import client_for
from tests.api.test_monitoring_api import projects, reports, round_id, url  # noqa: F401  (fixtures)
from tests.screens.test_monitoring_pages import act, fill_data, issued, login  # noqa: F401
from tests.screens.test_monitoring_pages import projects as screen_projects  # noqa: F401

pytestmark = pytest.mark.django_db


def test_typed_budget_is_ignored_and_the_light_read_against_the_projects_when_saved_by_api(district, round_id):  # noqa: F811
    report = reports(round_id, district)[0]
    # 300,000 of the project's 1,200,000 by mid-year is red; against a typed 400,000 it would be green.
    response = client_for(district.staff_a).put(
        url(report), {"budget": "400000", "adjusted_budget": "400000", "executed": "300000"}, format="json"
    )
    assert response.status_code == 200, response.json()
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.budget, fresh.adjusted_budget) == (Decimal("1200000.00"), None)
    assert fresh.spending_light == Light.RED
    assert response.json()["budget"] == "1200000.00"


def test_typed_budget_is_refused_when_it_differs_from_the_projects(district, round_id):  # noqa: F811
    report = reports(round_id, district)[0]
    with pytest.raises(ValidationError) as excinfo:
        report_save(report=report, actor=district.staff_a, budget="400000", executed="300000")
    assert "budget" in excinfo.value.message_dict
    assert MonitoringReport.objects.get(pk=report.pk).executed is None


def test_typed_budget_is_ignored_when_posted_from_the_screen(client, district, issued):  # noqa: F811
    response = login(client, district.staff_a).post(
        act(issued, "fill"), fill_data(issued, executed="300000.00", budget="400000.00", adjusted_budget="400000.00")
    )
    assert response.status_code in (200, 302)
    fresh = MonitoringReport.objects.get(pk=issued.pk)
    assert (fresh.budget, fresh.adjusted_budget, fresh.executed) == (Decimal("1200000.00"), None, Decimal("300000.00"))
    assert fresh.spending_light == Light.RED
