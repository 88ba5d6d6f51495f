"""Fiscal years within ``JIXIAO["FISCAL_YEAR_RANGE"]`` (issue 16: a project of year 0 or
99999 was created, went through approval and became the pre-assessment summary's default
year). The model field's validator, the API's FiscalYearField, the forms and the history
import all read the one setting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from processes.fiscal_years import check_fiscal_year, fiscal_year_range
from processes.models import BudgetProject
from processes.services.projects import project_create
from tests.api.support import client_for
from tests.api.test_projects_api import NEW_PROJECT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", [0, 1999, 2101, 99999, -1, 2**40])
def test_project_is_refused_by_the_api_when_its_year_is_out_of_range(district, year):
    response = client_for(district.staff_a).post("/api/projects/", {**NEW_PROJECT, "fiscal_year": year}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["fiscal_year"]
    assert not BudgetProject.objects.exists()


@pytest.mark.parametrize("year", [0, 99999])
def test_project_is_refused_by_the_service_when_its_year_is_out_of_range(district, year):
    with pytest.raises(ValidationError) as excinfo:
        project_create(
            actor=district.staff_a,
            fiscal_year=year,
            code="X-1",
            name="测试项目",
            category="infrastructure",
            recurrence="recurring",
            requested_amount=Decimal("100.00"),
        )
    assert "fiscal_year" in excinfo.value.message_dict
    assert not BudgetProject.objects.exists()


@pytest.mark.parametrize("year", ["0", "99999"])
def test_project_is_refused_by_the_screen_when_its_year_is_out_of_range(client, district, year):
    client.force_login(district.staff_a)
    data = {**NEW_PROJECT, "fiscal_year": year}
    response = client.post("/projects/new/", data)
    assert response.status_code in (200, 400)
    assert "预算年度应在 2000 到 2100 之间" in response.content.decode()
    assert not BudgetProject.objects.exists()


def test_range_is_read_from_settings_when_configured(district):
    assert fiscal_year_range() == (2000, 2100)
    with override_settings(JIXIAO={"FISCAL_YEAR_RANGE": (2010, 2030)}):
        assert check_fiscal_year(2030) == 2030
        with pytest.raises(ValidationError):
            check_fiscal_year(2031)
        response = client_for(district.staff_a).post(
            "/api/projects/", {**NEW_PROJECT, "fiscal_year": 2005}, format="json"
        )
        assert response.status_code == 400


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/projects/", "fiscal_year"),
        ("/api/pre-assessments/summary/", "fiscal_year"),
        ("/api/evaluations/commissioned/", "year"),
        ("/api/rectifications/", "year"),
    ],
)
def test_year_filter_is_400_when_out_of_range(district, url, param):
    response = client_for(district.finance).get(url, {param: 99999})
    assert response.status_code == 400
    assert response.json()[param]
