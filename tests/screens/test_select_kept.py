"""The filters' <select>s kept per process, and their inputs written in Python (processes.widgets.FastSelect, issue 20): the kept
HTML is Django's own for every input, a second draw of the same select is taken from the
store, and what changes the options — a department renamed, added or removed, another
language — shows on the next request, in any process, without invalidation."""

import pytest
from django import forms
from django.utils.safestring import mark_safe

from processes.widgets import FastNumberInput, FastSelect, FastTextInput, clear_kept_selects
from tests.factories import DepartmentFactory
from workflows.project_forms import ProjectFilterForm

pytestmark = pytest.mark.django_db


def _both(choices, value, attrs=None):
    fast = FastSelect(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"})
    django = forms.Select(attrs=attrs, choices=choices).render("f", value, attrs={"id": "id_f"})
    return fast, django


def test_a_kept_select_is_djangos_select_for_every_input():
    clear_kept_selects()
    cases = [
        [("", "—"), ("组一", [("a", "甲 <a>"), ("b", "乙")]), ("c", '丙 "c"')],
        [(None, "none"), (1, "one"), ("1", "one again"), (2, mark_safe("<b>two</b>"))],
        [(None, "none"), (1, "one"), ("1", "one again"), (2, "<b>two</b>")],  # the same text, not safe
        [(mark_safe("&amp;"), "safe value"), ("&amp;", "plain value")],
        [("g", [(None, "none in a group"), (1, "x")])],
    ]
    attrs_cases = [None, {"required": True}, {"required": 1}, {"data-x": False}, {"data-x": 0}, {"class": 'a"b'}]
    seen = set()
    for choices in cases:
        for attrs in attrs_cases:
            for value in ("", "1", "a", "c", None, 2, "&amp;", "None"):
                for _ in range(2):  # drawn, then taken from the store
                    fast, django = _both(choices, value, attrs)
                    assert fast == django, (choices, attrs, value)
                seen.add(fast)
    assert len(seen) > 60  # the inputs make different HTML; each was compared above


def test_the_same_select_is_drawn_once_then_taken_from_the_store():
    clear_kept_selects()
    choices = [("", "—"), ("a", "甲")]
    before = FastSelect.drawn
    first = FastSelect(choices=choices).render("f", "a")
    second = FastSelect(choices=list(choices)).render("f", "a")
    assert first == second
    assert FastSelect.drawn == before + 1
    FastSelect(choices=choices).render("f", "")  # another selected value: another key
    assert FastSelect.drawn == before + 2


def _department_select(html: str) -> str:
    start = html.index('<select name="department"')
    return html[start : html.index("</select>", start)]


@pytest.mark.parametrize("url", ["/projects/", "/board/"])
def test_a_department_renamed_added_or_removed_shows_in_the_filter_on_the_next_request(client, district, url):
    user = district.finance if url == "/projects/" else district.supervisor
    client.force_login(user)
    first = _department_select(client.get(url).content.decode())
    assert "区农水局" in first
    dept = district.dept_a
    dept.name = "区农业农村局"
    dept.save()
    added = DepartmentFactory(code="C01", name="区新设局")
    second = _department_select(client.get(url).content.decode())
    assert "区农业农村局" in second and "区农水局" not in second
    assert f'<option value="{added.pk}">区新设局</option>' in second
    added.delete()
    third = _department_select(client.get(url).content.decode())
    assert "区新设局" not in third and "区农业农村局" in third
    chosen = _department_select(client.get(f"{url}?department={dept.pk}").content.decode())
    assert f'<option value="{dept.pk}" selected>区农业农村局</option>' in chosen


def test_the_stage_filter_follows_the_language_of_each_request(client, district, settings):
    client.force_login(district.finance)
    zh = client.get("/projects/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get("/projects/").content.decode()
    assert '<option value="" selected>All stages</option>' in en and "全部阶段" not in en
    assert '<option value="" selected>全部阶段</option>' in zh


def test_the_fast_inputs_write_djangos_inputs():
    pairs = ((forms.TextInput, FastTextInput), (forms.NumberInput, FastNumberInput))
    for django_widget, fast_widget in pairs:
        for value in (None, "", 'a<b"&', mark_safe("<i>"), 2022, 0):
            for attrs in ({}, {"placeholder": "x&y", "required": True, "min": 2000, "disabled": False}):
                django = django_widget(attrs=attrs).render("q", value, attrs={"id": "id_q"})
                fast = fast_widget(attrs=attrs).render("q", value, attrs={"id": "id_q"})
                assert fast == django, (django_widget, value, attrs)


@pytest.mark.parametrize("data", [None, {"fiscal_year": "2022", "q": '供水 "<>"'}, {"fiscal_year": "abc"}])
def test_the_project_filters_inputs_are_drawn_as_django_draws_them(district, data):
    form = ProjectFilterForm(data, show_department=True)
    for name, django_widget in (("fiscal_year", forms.NumberInput), ("q", forms.TextInput)):
        bound = form[name]
        assert isinstance(bound.field.widget, FastTextInput | FastNumberInput)
        django = bound.as_widget(widget=django_widget(attrs=bound.field.widget.attrs))
        assert str(bound) == django
