"""Participation figures (issue 19, item 1): deputies' and experts' seats on the year's
review panels, opinions given and given on time — computed from the panels in fixed
queries, on the report screen and print page, in ``annual_report --format json`` and the
API's report (docs/reports.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from processes.models import EvaluationPanelMember, Opinion, PanelMember
from processes.states import Grade
from reports.figures import annual_report, report_json
from reports.participation import participation
from tests.processes.test_pre_assessment import Review, _concluded

from .builders import Builder

pytestmark = pytest.mark.django_db


@pytest.fixture
def panels(district):
    """2021: a pre-assessment (five seats: four opinions in time, one expired) and a key
    evaluation (five seats: suggestions from all, one of them after the deadline)."""
    review = Review(district)
    pa, pa_members = _concluded(review, amounts=["30000000", "28000000", "26000000", "25000000", None])
    # the key evaluation's panel as its rows (its chain is tested in tests/processes)
    builder = Builder(district, 2021)
    ev = builder.key(builder.project("2021-K9", district.dept_a, budget="100000"), score="85", grade=Grade.GOOD)
    people = [*review.deputies[:1], *review.experts[:4]]
    ev_members = [
        EvaluationPanelMember.objects.create(
            evaluation=ev,
            user=user,
            kind="deputy" if user in review.deputies else "expert",
            seat=seat,
            submitted_at=ev.due_at - timedelta(days=1),
        )
        for seat, user in enumerate(people, start=1)
    ]
    late = ev_members[0]  # the deputy, an hour late
    EvaluationPanelMember.objects.filter(pk=late.pk).update(submitted_at=ev.due_at + timedelta(hours=1))
    return {"pa": pa, "pa_members": pa_members, "ev": ev, "ev_members": ev_members, "late": late}


def _expected(members, kind):
    return [m for m in members if m.kind == kind]


def test_seats_opinions_and_on_time_are_counted_by_kind_when_panels_sat_in_the_year(panels):
    figures = participation(2021)
    for kind in ("deputy", "expert"):
        pa_seats = _expected(panels["pa_members"], kind)
        ev_seats = _expected(panels["ev_members"], kind)
        p = figures[kind]
        assert (p.pre_assessment_seats, p.evaluation_seats) == (len(pa_seats), len(ev_seats))
        given = sum(1 for m in pa_seats if Opinion.objects.get(member=m).status == "submitted") + len(ev_seats)
        late = sum(1 for m in ev_seats if m.pk == panels["late"].pk)
        assert (p.given, p.on_time) == (given, given - late)
        assert p.people == len({m.user_id for m in pa_seats + ev_seats})
    assert figures["deputy"].seats >= 2  # a deputy on each panel
    total = sum(p.seats for p in figures.values())
    assert total == 10 and sum(p.on_time for p in figures.values()) == 4 + 4
    assert participation(2020)["expert"].seats == 0


def test_a_cancelled_review_and_another_year_are_not_counted_when_figures_are_read(panels):
    from processes.models import PreAssessment

    PreAssessment.objects.filter(pk=panels["pa"].pk).update(status="cancelled")
    figures = participation(2021)
    assert sum(p.pre_assessment_seats for p in figures.values()) == 0
    assert sum(p.evaluation_seats for p in figures.values()) == 5


def test_participation_takes_four_queries_whatever_the_panels_when_computed(panels, django_assert_num_queries):
    with django_assert_num_queries(4):
        participation(2021)


def test_json_report_carries_the_documented_participation_keys_when_printed(panels):
    out = StringIO()
    call_command("annual_report", "--year", "2021", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())["participation"]
    assert set(data) == {"deputy", "expert"}
    for kind in ("deputy", "expert"):
        assert set(data[kind]) == {
            "people",
            "seats",
            "pre_assessment_seats",
            "evaluation_seats",
            "opinions_given",
            "on_time",
            "on_time_rate",
        }
    assert data == report_json(annual_report(2021))["participation"]
    seats = data["expert"]["seats"]
    assert data["expert"]["on_time_rate"] == f"{data['expert']['on_time'] * 100 / seats:.2f}"
    docs = open("docs/reports.md", encoding="utf-8").read()
    assert "`participation.deputy.*`" in docs and "`on_time_rate`" in docs


def test_report_screen_and_print_page_show_the_table_when_a_reader_opens_them(client, district, panels):
    client.force_login(district.finance)
    for name in ("reports:year", "reports:print"):
        html = client.get(reverse(name, args=[2021])).content.decode()
        assert 'data-testid="participation-table"' in html and "人大代表" in html, name
    assert PanelMember.objects.count() == 5


def test_participation_table_is_refused_when_a_department_or_a_visitor_asks(client, district, panels):
    client.force_login(district.staff_a)
    assert client.get(reverse("reports:year", args=[2021])).status_code == 403
    client.logout()
    assert client.get(reverse("reports:print", args=[2021])).status_code == 302
