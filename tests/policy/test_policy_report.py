"""Policies in the year's report (decision 0027): apart from the projects, on the report
screen, the print page, the workbook and the JSON."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.figures import annual_report, pre_assessment_summary, report_json
from tests.processes.test_pre_assessment import Review

from .support import confirmed, registered


@pytest.fixture
def review(district):
    return Review(district)


@pytest.fixture
def policy(review):
    return confirmed(review, registered(review))


def test_policy_is_counted_apart_from_projects_when_its_review_is_confirmed(review, policy):
    assert pre_assessment_summary(2026).projects == 0
    apart = pre_assessment_summary(2026, policies=True)
    assert apart.projects == 1
    assert apart.requested == Decimal("50000000.00")
    assert apart.approved == Decimal("42000000.00")
    data = report_json(annual_report(2026))
    assert data["pre_assessment"]["projects"] == 0
    assert data["policy_pre_assessment"] == {
        "policies": 1,
        "requested": "50000000.00",
        "approved": "42000000.00",
        "reduction": "8000000.00",
        "reduction_rate": "16.00",
        "conclusions": {"support": 0, "partial": 1, "reject": 0},
        "items": [
            {
                "department": "区农水局",
                "name": "区农村供水保障政策",
                "agency": review.agency.name,
                "requested": "50000000.00",
                "approved": "42000000.00",
                "reduction_rate": "16.00",
                "conclusion": "partial",
            }
        ],
    }


def test_policy_is_left_out_of_the_year_when_its_review_is_not_confirmed(review):
    registered(review)
    assert pre_assessment_summary(2026, policies=True).projects == 0


def test_report_screens_show_the_policy_section_when_a_policy_was_pre_assessed(review, policy, client):
    client.force_login(review.d.finance)
    page = client.get(reverse("reports:year", args=[2026])).content.decode()
    assert 'data-testid="policy-pre-assessment"' in page
    assert "区农村供水保障政策" in page
    assert "开展事前绩效评估的重大政策 1 项" in page
    printed = client.get(reverse("reports:print", args=[2026])).content.decode()
    assert "开展事前绩效评估的重大政策 1 项" in printed
    book = load_workbook(BytesIO(client.get(reverse("reports:xlsx", args=[2026])).content))
    sheet = book["重大政策事前评估"]
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "区农村供水保障政策" in values
    assert "2026 年度重大政策事前绩效评估汇总表" in values


def test_report_api_carries_the_policies_when_asked_for_the_year(review, policy):
    from tests.api.support import client_for

    body = client_for(review.d.finance).get("/api/reports/2026/").json()
    assert body["policy_pre_assessment"]["policies"] == 1
    assert body["pre_assessment"]["projects"] == 0
