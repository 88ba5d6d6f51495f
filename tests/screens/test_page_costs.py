"""What issue 20 changed to make the lists' pages cheaper keeps what they show: the
filters' selects drawn in Python write Django's own HTML, the lists' date format is
written as dateformat writes it, the project list's 类别 column says the category's label
in the reader's language, the board's count tables read as before, and the project list
reads its first page through the index in its order."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django import forms
from django.db import connection
from django.utils import dateformat, translation
from django.utils import timezone as dj_timezone

from processes.models import BudgetProject
from processes.templatetags.jixiao import SHANGHAI, cst
from processes.widgets import FastSelect
from tests.factories import DepartmentFactory
from workflows.board_views import BoardFilterForm
from workflows.project_forms import ProjectFilterForm

pytestmark = pytest.mark.django_db


def _as_django_draws_it(bound_field) -> str:
    """The field drawn by Django's own Select templates."""
    widget = forms.Select(attrs=bound_field.field.widget.attrs, choices=bound_field.field.widget.choices)
    return bound_field.as_widget(widget=widget)


@pytest.mark.parametrize(
    "data",
    [None, {"stage": "submitted", "fiscal_year": "2022", "q": "供水"}, {"stage": "nonsense"}],
)
def test_project_filter_selects_are_drawn_as_django_draws_them(district, data):
    DepartmentFactory(name='"引号" & <尖括号>')
    if data is not None:
        data = {**data, "department": str(district.dept_b.pk)}
    form = ProjectFilterForm(data, show_department=True)
    for name in ("stage", "department"):
        assert isinstance(form.fields[name].widget, FastSelect)
        assert str(form[name]) == _as_django_draws_it(form[name])
    assert "&quot;引号&quot; &amp; &lt;尖括号&gt;" in str(form["department"])


@pytest.mark.parametrize("data", [None, {"kind": "task", "state": "overdue"}])
def test_board_filter_selects_are_drawn_as_django_draws_them(district, data):
    if data is not None:
        data = {**data, "department": str(district.dept_a.pk)}
    form = BoardFilterForm(data)
    for name in ("kind", "department", "state"):
        assert str(form[name]) == _as_django_draws_it(form[name])


def test_fast_select_draws_groups_and_attributes_as_django_draws_them():
    choices = [
        ("", "—"),
        ("组一", [("a", "甲 <a>"), ("b", "乙")]),
        ("c", '丙 "c"'),
    ]
    attrs = {"class": "x", "required": True, "disabled": False, "data-x": 'a"b'}
    for value in ("", "a", "c", None):
        fast = FastSelect(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"})
        django = forms.Select(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"})
        assert fast == django


def test_cst_writes_the_lists_format_as_dateformat_does():
    moments = [
        datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2025, 12, 31, 16, 5, 9, tzinfo=UTC),  # the next day in Beijing
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone(timedelta(hours=-7))),
        datetime(2026, 7, 3, 8, 7),  # naive: the default time zone's
    ]
    for moment in moments:
        aware = moment if dj_timezone.is_aware(moment) else dj_timezone.make_aware(moment)
        expected = dateformat.format(dj_timezone.localtime(aware, SHANGHAI), "Y-m-d H:i")
        assert cst(moment) == expected
        assert cst(moment, "Y-m") == dateformat.format(dj_timezone.localtime(aware, SHANGHAI), "Y-m")
    assert cst(None) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_project_list_shows_the_category_label_in_the_readers_language(client, district, language):
    project = district.project()
    client.force_login(district.finance)
    response = client.get("/projects/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    row = next(p for p in response.context["page"] if p.pk == project.pk)
    with translation.override(response.context["LANGUAGE_CODE"]):
        label = BudgetProject.objects.get(pk=project.pk).get_category_display()
    assert row.category_label == label
    assert f"<td>{label}</td>" in response.content.decode()


def test_project_list_first_page_reads_the_index_in_its_order(district):
    """The first page walks the list's index in its order and sorts nothing: on SQLite as
    planned; on PostgreSQL with sequential scans priced out, since a test's few rows would
    make any plan cheap."""
    sql, params = BudgetProject.objects.select_related("department", "created_by", "history")[
        :50
    ].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "project_list_order" in plan
            assert "Sort" not in plan.replace("Sort Key", "")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "project_list_order" in plan
            assert "TEMP B-TREE" not in plan
