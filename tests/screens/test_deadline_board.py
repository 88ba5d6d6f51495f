"""督办看板 (workflows/board_views.py): overdue and due-soon rectifications and tasks, the
counts by department and kind, the filters, the completion record, the XLSX, who may see it,
and a query count that does not grow with the rows."""

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from processes.models import Rectification
from processes.states import ProjectStage, RectificationStatus
from workflows.board_views import completion_record
from workflows.models import TaskDue

from ..processes.test_rectification import findings, issue  # noqa: F401 (fixture)

BOARD = reverse("workflows:deadline_board")
XLSX = reverse("workflows:deadline_board_xlsx")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _set_deadline(rectification, deadline, *, extended=False):
    fields = {"deadline": deadline}
    if not extended:
        fields["original_deadline"] = deadline
    Rectification.objects.filter(pk=rectification.pk).update(**fields)


def _plain(district, *, days, dept=None, title="直接建立的整改", status=None, **kw):
    """A rectification row without findings (for volume); ``days`` from now."""
    deadline = timezone.now() + timedelta(days=days)
    r = Rectification.objects.create(
        department=dept or district.dept_b,
        title=title,
        deadline=deadline,
        original_deadline=deadline,
        issued_by=district.finance,
    )
    if status or kw:
        Rectification.objects.filter(pk=r.pk).update(**({"status": status} if status else {}), **kw)
    return r


def _open_task(district, *, days, dept="a"):
    project = district.project(ProjectStage.SUBMITTED, dept=dept)
    task = Task.objects.get(
        process__projectprocess__project=project, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )
    TaskDue.objects.update_or_create(task=task, defaults={"due_at": timezone.now() + timedelta(days=days)})
    return task


@pytest.fixture
def board(district, findings):  # noqa: F811
    """Department A: one rectification 2 days overdue (extended once), one due in a day, one
    due in 20 days (not on the board); one task 5 days overdue. Department B: one task due
    in 2 days."""
    now = timezone.now()
    overdue = issue(district, [findings[0]])
    _set_deadline(overdue, now - timedelta(days=2), extended=True)
    soon = issue(district, [findings[1]])
    _set_deadline(soon, now + timedelta(days=1))
    later = _plain(district, days=20, dept=district.dept_a, title="远期整改")
    task_overdue = _open_task(district, days=-5)
    task_soon = _open_task(district, days=2, dept="b")
    return {
        "overdue": overdue,
        "soon": soon,
        "later": later,
        "task_overdue": task_overdue,
        "task_soon": task_soon,
    }


def _rows(response):
    return [(row.kind, row.pk) for row in response.context["rows"]]


def test_board_lists_overdue_and_due_soon_items_sorted_by_due_when_supervisor_looks(client, district, board):
    client.force_login(district.supervisor)
    response = client.get(BOARD)
    assert response.status_code == 200
    assert _rows(response) == [
        ("task", board["task_overdue"].pk),
        ("rectification", board["overdue"].pk),
        ("rectification", board["soon"].pk),
        ("task", board["task_soon"].pk),
    ]
    rows = {(r.kind, r.pk): r for r in response.context["rows"]}
    overdue = rows[("rectification", board["overdue"].pk)]
    assert overdue.overdue and overdue.days == 2
    assert overdue.original_due_at is not None  # extended: the first deadline is shown
    assert overdue.department == district.dept_a.name
    assert overdue.url == f"/rectifications/{board['overdue'].pk}/"
    assert overdue.status == RectificationStatus.ISSUED.label
    soon = rows[("rectification", board["soon"].pk)]
    assert not soon.overdue and soon.days == 1 and soon.original_due_at is None
    task = rows[("task", board["task_overdue"].pk)]
    assert task.overdue and task.days == 5 and task.url == f"/tasks/{board['task_overdue'].pk}/"
    assert task.title and task.project.startswith("测试项目")
    html = response.content.decode()
    assert "远期整改" not in html
    assert "逾期 2 天" in html and "剩余 1 天" in html and "原定" in html


def test_board_counts_by_department_and_kind_when_items_are_overdue_or_due_soon(client, district, board):
    client.force_login(district.finance)
    counts = {d["department_id"]: d for d in client.get(BOARD).context["counts"]}
    a, b = counts[district.dept_a.pk], counts[district.dept_b.pk]
    assert (a["rect_overdue"], a["rect_soon"], a["task_overdue"], a["task_soon"], a["total"]) == (1, 1, 1, 0, 3)
    assert (b["rect_overdue"], b["rect_soon"], b["task_overdue"], b["task_soon"], b["total"]) == (0, 0, 0, 1, 1)


def test_board_count_cells_show_the_counts_as_plain_numbers_when_items_are_due(client, district, board):
    """The count tables are written without number localisation (issue 20): the same digits."""
    client.force_login(district.finance)
    html = client.get(BOARD).content.decode()
    row = html.split(f'<tr data-department="{district.dept_a.pk}">')[1].split("</tr>")[0]
    assert 'cell-red" data-count="rect-overdue">1</td>' in row
    assert 'cell-yellow" data-count="rect-soon">1</td>' in row
    assert '<td class="num" data-count="task-soon">0</td>' in row
    assert 'data-count="total">3</td>' in row


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "rectification"}, ["overdue", "soon"]),
        ({"kind": "task"}, ["task_overdue", "task_soon"]),
        ({"state": "overdue"}, ["task_overdue", "overdue"]),
        ({"state": "soon"}, ["soon", "task_soon"]),
        ({"department": "b"}, ["task_soon"]),
        ({"department": "a", "kind": "task", "state": "overdue"}, ["task_overdue"]),
    ],
)
def test_board_shows_only_matching_rows_when_filtered(client, district, board, params, expected):
    client.force_login(district.supervisor)
    if "department" in params:
        params = {**params, "department": (district.dept_a if params["department"] == "a" else district.dept_b).pk}
    keys = {
        name: ("task" if name.startswith("task") else "rectification", obj.pk)
        for name, obj in board.items()
        if name != "later"
    }
    assert _rows(client.get(BOARD, params)) == [keys[name] for name in expected]


def test_board_leaves_out_closed_items_when_verified_or_task_done(client, district, board):
    Rectification.objects.filter(pk=board["overdue"].pk).update(status=RectificationStatus.VERIFIED)
    Task.objects.filter(pk=board["task_soon"].pk).update(status=STATUS.DONE)
    client.force_login(district.supervisor)
    assert _rows(client.get(BOARD)) == [("task", board["task_overdue"].pk), ("rectification", board["soon"].pk)]


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "expert", "agency_staff", "sysadmin"])
def test_board_and_export_are_refused_when_not_a_bureau_reader(client, district, who):
    client.force_login(getattr(district, who))
    assert client.get(BOARD).status_code == 403
    assert client.get(XLSX).status_code == 403


def test_board_is_open_to_auditors_and_nav_shows_it_to_supervisors(client, district):
    client.force_login(district.auditor)
    assert client.get(BOARD).status_code == 200
    client.force_login(district.supervisor)
    assert "督办看板" in client.get(reverse("workflows:inbox")).content.decode()
    client.force_login(district.staff_a)
    assert "督办看板" not in client.get(reverse("workflows:inbox")).content.decode()


def test_fragment_renders_only_the_tables_when_asked(client, district, board):
    client.force_login(district.supervisor)
    response = client.get(BOARD, {"kind": "task", "fragment": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="board-rows"' in html
    assert _rows(response) == [("task", board["task_overdue"].pk), ("task", board["task_soon"].pk)]
    page = client.get(BOARD, {"kind": "task"}).content.decode()
    assert "js/board.js" in page and "kind=task&amp;fragment=1" in page


def _month_start(months_ago: int) -> datetime:
    local = timezone.localtime(timezone.now(), SHANGHAI)
    year, month = local.year, local.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def test_completion_record_counts_on_time_and_late_by_department_and_month(district):
    this_month = _month_start(0) + timedelta(hours=1)
    two_ago = _month_start(2) + timedelta(days=3)
    verified = RectificationStatus.VERIFIED
    # department A: this month two on time and one late; two months ago one late
    for deadline_shift in (timedelta(days=1), timedelta(0), -timedelta(days=1)):
        _plain(district, days=-1, dept=district.dept_a, status=verified,
               verified_at=this_month, deadline=this_month + deadline_shift)  # fmt: skip
    _plain(district, days=-1, dept=district.dept_a, status=verified,
           verified_at=two_ago, deadline=two_ago - timedelta(hours=1))  # fmt: skip
    # department B: 13 months ago (outside the record) and one still open
    _plain(district, days=-1, dept=district.dept_b, status=verified,
           verified_at=_month_start(13), deadline=_month_start(13))  # fmt: skip
    _plain(district, days=-400, dept=district.dept_b)

    record = completion_record(timezone.now())
    assert len(record["months"]) == 12 and record["months"][-1] == _month_start(0)
    assert [d["department_id"] for d in record["departments"]] == [district.dept_a.pk]
    a = record["departments"][0]
    assert a["cells"][11] == {"on_time": 2, "late": 1, "rate": "66.7%"}
    assert a["cells"][9] == {"on_time": 0, "late": 1, "rate": "0.0%"}
    assert (a["on_time"], a["late"], a["rate"]) == (2, 2, "50.0%")
    assert all(c["on_time"] + c["late"] == 0 for i, c in enumerate(a["cells"]) if i not in (9, 11))


def test_export_has_the_filtered_rows_and_the_record_in_chinese_with_shanghai_times(client, district, board):
    from openpyxl import load_workbook

    _plain(district, days=-1, dept=district.dept_a, status=RectificationStatus.VERIFIED,
           verified_at=timezone.now() - timedelta(hours=1), deadline=timezone.now())  # fmt: skip
    client.force_login(district.supervisor)
    response = client.get(XLSX, {"kind": "rectification"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="deadline-board-')
    book = load_workbook(BytesIO(response.content))
    sheet = book["督办清单"]
    assert [c.value for c in sheet[2]][:5] == ["类型", "事项", "预算部门", "预算项目", "期限"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == ["整改", "整改"]
    first = rows[0]
    assert first[1] == board["overdue"].title and first[2] == district.dept_a.name
    deadline = Rectification.objects.get(pk=board["overdue"].pk).deadline
    expected = timezone.localtime(deadline, SHANGHAI).replace(tzinfo=None, microsecond=0)
    assert abs(first[4] - expected) < timedelta(seconds=1)
    assert first[5] is not None and first[6] == "已逾期" and first[7] == 2
    assert first[9].endswith(f"/rectifications/{board['overdue'].pk}/")
    record = [[c.value for c in row] for row in book["按期完成情况"].iter_rows()]
    assert record[0] == ["预算部门编码", "预算部门", "月份", "按期销号", "逾期销号", "按期率"]
    assert ["A01", district.dept_a.name, "合计", 1, 0, "100.0%"] in record


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_board_costs_the_same_statements_whatever_the_number_of_rows(client, district, board):
    # one closed on record already (an empty record costs one statement less)
    _plain(district, days=-20, dept=district.dept_a, status=RectificationStatus.VERIFIED,
           verified_at=timezone.now(), deadline=timezone.now())  # fmt: skip
    client.force_login(district.supervisor)
    _queries(client, BOARD)  # warm caches (content types, permissions)
    few_page, few_xlsx = _queries(client, BOARD), _queries(client, XLSX)
    for i in range(30):
        _plain(district, days=-i % 3 - 1, dept=district.dept_a if i % 2 else district.dept_b)
        _plain(district, days=-20, dept=district.dept_a, status=RectificationStatus.VERIFIED,
               verified_at=timezone.now() - timedelta(days=i * 10), deadline=timezone.now() - timedelta(days=i * 9))  # fmt: skip
    for _i in range(3):
        _open_task(district, days=-1, dept="b")
    client.force_login(district.supervisor)
    many_page, many_xlsx = _queries(client, BOARD), _queries(client, XLSX)
    assert many_page == few_page
    assert many_xlsx == few_xlsx
    assert few_page <= 20  # session, user, perms, 3 list, 3 counts, 2 record, nav, form


def test_board_pages_fifty_rows_when_there_are_more(client, district):
    for i in range(55):
        _plain(district, days=-1 - i / 100)
    client.force_login(district.supervisor)
    first = client.get(BOARD)
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 55
    second = client.get(BOARD, {"page": 2})
    assert len(second.context["rows"]) == 5
    assert "page=2" in first.content.decode()


def _clock_text(html: str, marker: str) -> str:
    import re

    match = re.search(r"(剩余|逾期) (\d+) 天", html[html.index(marker) :])
    assert match, marker
    return match.group(0)


def test_list_and_board_show_the_same_days_left_when_the_deadline_is_tomorrow_at_local_midnight(
    client,
    district,
    findings,  # noqa: F811
):
    now = timezone.now()
    tomorrow = timezone.localtime(now, SHANGHAI).date() + timedelta(days=1)
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=SHANGHAI)
    r = issue(district, [findings[0]])
    _set_deadline(r, midnight)
    client.force_login(district.finance)
    board_html = client.get(BOARD).content.decode()
    list_html = client.get(reverse("workflows:rectification_list")).content.decode()
    marker = f"/rectifications/{r.pk}/"
    assert _clock_text(board_html, marker) == _clock_text(list_html, marker) == "剩余 1 天"


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [
        # a deadline at 00:00 tomorrow (Beijing) seen at 23:30 today: one calendar day left
        (datetime(2026, 12, 8, 0, 0, tzinfo=SHANGHAI), datetime(2026, 12, 7, 23, 30, tzinfo=SHANGHAI), (False, 1)),
        (datetime(2026, 12, 8, 0, 0, tzinfo=SHANGHAI), datetime(2026, 12, 7, 0, 1, tzinfo=SHANGHAI), (False, 1)),
        (datetime(2026, 12, 7, 18, 0, tzinfo=SHANGHAI), datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI), (False, 0)),
        # an hour late is a day late; two calendar days late is two
        (datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI), datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI), (True, 1)),
        (datetime(2026, 12, 5, 23, 0, tzinfo=SHANGHAI), datetime(2026, 12, 7, 1, 0, tzinfo=SHANGHAI), (True, 2)),
    ],
)
def test_deadline_clock_counts_calendar_days_in_beijing_when_near_midnight(deadline, now, expected):
    from processes.clock import deadline_clock

    assert deadline_clock(deadline, now) == expected
