"""The deadline board drawn without model instances and template loops (issue 20): the rows
read as values say what the models say, the three tables' rows written in Python are the
HTML the former template loops wrote (kept below, rendered beside them), the 预算部门 filter
read from the shared departments' rows is Django's own <select>, and the page takes fewer
statements than before (14 → 11 on the benchmark's page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from viewflow.workflow.models import Task

from processes.models import CommitteeOpinionItem, Rectification
from processes.states import RectificationStatus
from workflows import board_views
from workflows.nodes import task_title_of
from workflows.task_status import task_state, task_state_label

from ..processes.test_rectification import findings  # noqa: F401 (fixture)
from .test_committee_board_inbox import board_items  # noqa: F401 (fixture)
from .test_deadline_board import _plain, board  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

BOARD = reverse("workflows:deadline_board")

# templates/workflows/board/tables.html's loops before issue 20 (each with what surrounded it)
OLD_COUNTS = """{% load i18n jixiao l10n %}{% localize off %}
      {% for d in counts %}
        <tr data-department="{{ d.department_id|default:'' }}">
          <td>{{ d.name }} <span class="muted small">{{ d.code }}</span></td>
          <td class="num{% if d.rect_overdue %} cell-red{% endif %}" data-count="rect-overdue">{{ d.rect_overdue }}</td>
          <td class="num{% if d.rect_soon %} cell-yellow{% endif %}" data-count="rect-soon">{{ d.rect_soon }}</td>
          <td class="num{% if d.task_overdue %} cell-red{% endif %}" data-count="task-overdue">{{ d.task_overdue }}</td>
          <td class="num{% if d.task_soon %} cell-yellow{% endif %}" data-count="task-soon">{{ d.task_soon }}</td>
          <td class="num{% if d.committee_overdue %} cell-red{% endif %}" data-count="committee-overdue">{{ d.committee_overdue }}</td>
          <td class="num{% if d.committee_soon %} cell-yellow{% endif %}" data-count="committee-soon">{{ d.committee_soon }}</td>
          <td class="num" data-count="total">{{ d.total }}</td>
        </tr>
      {% endfor %}
    {% endlocalize %}"""  # noqa: E501
OLD_ROWS = """{% load i18n jixiao %}
      {% for row in rows %}
        <tr class="{% if row.overdue %}overdue{% else %}due-soon{% endif %}" data-testid="board-row" data-kind="{{ row.kind }}" data-pk="{{ row.pk }}">
          <td class="nowrap">{{ row.kind_label }}</td>
          <td><a href="{{ row.url }}">{{ row.title }}</a></td>
          <td>{{ row.department|default:"—" }}</td>
          <td>{{ row.project|default:"—" }}</td>
          <td class="nowrap">{{ row.due_at|cst }}{% if row.original_due_at %}<br><span class="muted small" data-testid="original-due">{% translate "原定" %} {{ row.original_due_at|cst }}</span>{% endif %}</td>
          <td class="nowrap">{% if row.overdue %}<span class="tag-overdue">{{ row.age_text }}</span>{% else %}<span class="tag-due-soon">{{ row.age_text }}</span>{% endif %}</td>
          <td>{{ row.status }}</td>
        </tr>
      {% endfor %}
    """  # noqa: E501
OLD_RECORD = """{% load i18n jixiao l10n %}{% localize off %}
      {% for d in record.departments %}
        <tr data-department="{{ d.department_id }}">
          <td>{{ d.name }} <span class="muted small">{{ d.code }}</span></td>
          {% for c in d.cells %}<td class="num nowrap" data-month="{{ forloop.counter0 }}">{% if c.on_time or c.late %}{{ c.on_time }} / {{ c.late }}<br><span class="muted small">{{ c.rate }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>{% endfor %}
          <td class="num nowrap" data-testid="record-total">{{ d.on_time }} / {{ d.late }}<br><span class="muted small">{{ d.rate }}</span></td>
        </tr>
      {% endfor %}
    {% endlocalize %}"""  # noqa: E501


def _old(template: str, **context) -> str:
    return Template(template).render(Context(context))


def _new(html: str, before: str = "\n      ", after: str = "\n    ") -> str:
    return f"{before}{html}{after}"


@pytest.fixture
def full_board(district, board, board_items):  # noqa: F811
    """Every kind of row: rectifications (one extended, one with markup in its title, one
    without a project), tasks overdue and due soon, committee items of a department and of
    the bureau; and rectifications verified on time and late (the completion record)."""
    _plain(district, days=-3, title='<b>"整改" & 其他</b>', dept=district.dept_a)
    now = timezone.now()
    _plain(district, days=-30, status=RectificationStatus.VERIFIED, verified_at=now - timedelta(days=1))
    _plain(district, days=-30, status=RectificationStatus.VERIFIED, verified_at=now - timedelta(days=40),
           deadline=now - timedelta(days=41))  # fmt: skip
    return board


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_tables_rows_are_the_html_the_template_loops_wrote(client, district, full_board, language):
    client.force_login(district.supervisor)
    with override(language):
        response = client.get(BOARD, HTTP_ACCEPT_LANGUAGE=language)
        context = response.context
        rows, counts, record = context["rows"], context["counts"], context["record"]
        assert {row.kind for row in rows} == {"rectification", "task", "committee"}
        assert any(row.original_due_at for row in rows) and len(counts) >= 3 and record["departments"]
        assert _new(board_views.rows_html(rows)) == _old(OLD_ROWS, rows=rows)
        assert _new(board_views.counts_html(counts)) == _old(OLD_COUNTS, counts=counts)
        assert _new(board_views.record_html(record)) == _old(OLD_RECORD, record=record)
    html = response.content.decode()
    assert "&lt;b&gt;&quot;整改&quot; &amp; 其他&lt;/b&gt;" in html and "<b>" not in html


def test_the_rows_read_as_values_say_what_the_models_say(client, district, full_board):
    now = timezone.now()
    keys = list(board_views.board_keys({}, now))
    rows = board_views.board_rows(keys, now)
    assert [(row.kind, row.pk) for row in rows] == [(kind, pk) for kind, pk, _due in keys]
    for row in rows:
        if row.kind == board_views.TASK:
            task = Task.objects.select_related("due", "process__projectprocess__project__department").get(pk=row.pk)
            project = task.process.projectprocess.project
            expected = (str(task_title_of(task)), project.department.name, project.name, task.due.due_at, None,
                        task_state_label(task_state(task.status, task.owner_id)),
                        reverse("workflows:task", args=[task.pk]))  # fmt: skip
        elif row.kind == board_views.RECTIFICATION:
            r = Rectification.objects.select_related("department", "project").get(pk=row.pk)
            expected = (r.title, r.department.name, r.project.name if r.project else "", r.deadline,
                        r.original_deadline if r.original_deadline != r.deadline else None,
                        str(RectificationStatus(r.status).label), r.get_absolute_url())  # fmt: skip
        else:
            item = CommitteeOpinionItem.objects.select_related("opinion", "department").get(pk=row.pk)
            expected = (item.title, item.assignee_name, "", item.deadline, None, str(item.get_status_display()),
                        item.get_absolute_url())  # fmt: skip
        assert (row.title, row.department, row.project, row.due_at, row.original_due_at, row.status, row.url) == (
            expected
        ), row


def test_url_maker_gives_what_reverse_gives():
    for name in ("workflows:task", "workflows:rectification_detail", "workflows:committee_item"):
        url = board_views._url_maker(name)
        for pk in (1, 7, 918273645, 10**12):
            assert url(pk) == reverse(name, args=[pk])


@pytest.mark.parametrize("selected", [None, "a", "x"])
def test_the_department_filter_from_the_shared_rows_is_djangos_select(client, district, selected):
    value = {"a": str(district.dept_a.pk), "x": "nonsense", None: None}[selected]
    client.force_login(district.supervisor)
    response = client.get(BOARD, {"department": value} if value else {})
    drawn = str(response.context["filter_form"]["department"])
    expected = board_views.BoardFilterForm({"department": value} if value else None)
    assert drawn == str(expected["department"])  # the field's own queryset, Django's choices
    assert drawn.count("<option") == 1 + district.dept_a.__class__.objects.count()


def test_the_board_takes_fewer_statements(client, district, full_board):
    client.force_login(district.supervisor)
    client.get(BOARD)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as page:
        client.get(BOARD)
    sql = [q["sql"] for q in page.captured_queries]
    # the four counts and the two departments' reads before: now one UNION and one read
    assert sum('FROM "accounts_department"' in s for s in sql) == 1
    assert sum(" UNION ALL " in s and "COUNT(" in s and "GROUP BY" in s for s in sql) == 1


SHAPES = [
    {"kind": kind, "department": department, "state": state}
    for kind in ("", "rectification", "task", "committee")
    for department in (None, "a", "b")
    for state in ("", "overdue", "soon")
]


def test_the_compiled_keys_are_board_keys_under_every_filter(district, full_board):
    """The page's keys are compiled once per filter shape and run with the real moment and
    department: the same count and the same rows, page by page, as the ORM's board_keys."""
    now = timezone.now()
    departments = {"a": district.dept_a, "b": district.dept_b, None: None}
    seen = 0
    for shape in SHAPES:
        filters = {**shape, "department": departments[shape["department"]]}
        expected = [(kind, pk) for kind, pk, _due in board_views.board_keys(filters, now)]
        compiled = board_views.BoardKeys(filters, now)
        assert compiled.count() == len(expected), shape
        pages = [compiled[start : start + 2] for start in range(0, len(expected) + 2, 2)]
        assert [(kind, pk) for page in pages for kind, pk, _due in page] == expected, shape
        seen += len(expected)
    assert seen > 20
    # a later moment (a rectification due soon becomes overdue) is bound, not compiled in
    later = now + timedelta(days=2)
    filters = {"kind": "", "department": None, "state": "overdue"}
    expected = [(kind, pk) for kind, pk, _due in board_views.board_keys(filters, later)]
    assert [(k, pk) for k, pk, _due in board_views.BoardKeys(filters, later)[0:50]] == expected
    assert len(expected) > len(list(board_views.board_keys(filters, now)))


def test_the_compiled_counts_are_the_orms_grouped_counts(district, full_board):
    for moment in (timezone.now(), timezone.now() + timedelta(days=2)):
        expected = sorted(board_views._counts_union(moment), key=repr)
        assert sorted(board_views._fetch(*board_views._COUNTS({}, moment)), key=repr) == expected
        assert expected


def test_a_compiled_query_refuses_a_moment_folded_into_its_sql():
    from processes.models import Rectification as R

    folded = board_views._Compiled(lambda _filters, now: R.objects.extra(where=[f"deadline < '{now:%Y-%m-%d}'"]))
    with pytest.raises(ValueError, match="stand-in"):
        folded({}, timezone.now())


def test_the_compiled_completion_record_is_the_orms(district, full_board):
    now = timezone.now()
    for i in range(3):  # more months, both on time and late
        _plain(district, days=-60, status=RectificationStatus.VERIFIED, verified_at=now - timedelta(days=31 * i + 2),
               deadline=now - timedelta(days=31 * i + 1 - 2 * (i % 2)))  # fmt: skip
    since = board_views._months(now)[0]
    expected = list(board_views._record_query(since))
    assert len(expected) >= 3 and all(month.tzinfo is not None for _d, month, _a, _b in expected)
    assert sorted(board_views._RECORD.rows({}, since), key=repr) == sorted(expected, key=repr)
    later = board_views._months(now + timedelta(days=100))[0]  # a later moment is bound, not compiled in
    assert sorted(board_views._RECORD.rows({}, later), key=repr) == sorted(board_views._record_query(later), key=repr)


def test_the_compiled_rows_are_the_orms_for_a_page_and_beyond(district, full_board):
    now = timezone.now()
    keys = list(board_views.board_keys({}, now))
    for kind, rows in (
        (board_views.RECTIFICATION, board_views._RECTIFICATION_ROWS),
        (board_views.TASK, board_views._TASK_ROWS),
        (board_views.COMMITTEE, board_views._COMMITTEE_ROWS),
    ):
        ids = [pk for k, pk, _due in keys if k == kind]
        assert ids, kind
        for some in (ids, ids[:1], ids[::-1]):
            assert sorted(rows(some), key=repr) == sorted(rows.build(some), key=repr), kind
    for _i in range(board_views.PAGE_SIZE + 5):
        _plain(district, days=-1)
    many = list(Rectification.objects.values_list("pk", flat=True))
    assert len(many) > board_views.PAGE_SIZE  # the XLSX's every row: through the ORM
    assert sorted(board_views._RECTIFICATION_ROWS(many), key=repr) == sorted(
        board_views._RECTIFICATION_ROWS(many[: board_views.PAGE_SIZE])
        + board_views._RECTIFICATION_ROWS(many[board_views.PAGE_SIZE :]),
        key=repr,
    )


def test_the_pages_total_from_the_counts_is_the_number_of_keys_under_every_filter(client, district, full_board):
    """The board's total (and so its pages) comes from the counts' rows, not a COUNT of the
    keys: the same number as board_keys gives, under every filter and at a later moment."""
    departments = {"a": district.dept_a, "b": district.dept_b, None: None}
    for moment in (timezone.now(), timezone.now() + timedelta(days=2)):
        rows = board_views.counts_rows(moment)
        for shape in SHAPES:
            filters = {**shape, "department": departments[shape["department"]]}
            assert board_views.keys_total(rows, filters) == len(list(board_views.board_keys(filters, moment))), shape
    client.force_login(district.supervisor)
    for params in (
        {},
        {"kind": "task"},
        {"state": "overdue"},
        {"department": district.dept_a.pk, "kind": "rectification"},
    ):
        response = client.get("/board/", params)
        filters = getattr(response.context["filter_form"], "cleaned_data", {})  # unbound: no filters
        expected = len(list(board_views.board_keys(filters, response.context["now"])))
        assert response.context["page"].paginator.count == expected, params
