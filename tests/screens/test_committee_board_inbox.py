"""The committee's review opinion items (审议意见, issue 19) on the supervisors' deadline board
counts and in the 待办 inbox: the board counts open items by department (overdue and due
soon; the finance bureau's own items under the bureau), on the screen and in the XLSX, in a
fixed number of statements; an assigned item waits in its department's inbox (the finance
section's for the bureau's own), a responded one in the finance section's, and it leaves
when handled; a department never sees another's; the API inbox says the same."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from processes.models import CommitteeOpinionItem
from processes.services.committee import committee_item_respond, committee_item_review
from tests.api.support import client_for
from tests.processes.test_committee import item_of, record
from workflows.board_views import BUREAU
from workflows.selectors import STEP, inbox_for

pytestmark = pytest.mark.django_db

BOARD = reverse("workflows:deadline_board")
XLSX = reverse("workflows:deadline_board_xlsx")


def _due(item, days):
    """Test setup only: move an item's deadline ``days`` from now (a recorded deadline is
    never in the past, so an overdue item is made by moving it)."""
    CommitteeOpinionItem.objects.filter(pk=item.pk).update(deadline=timezone.now() + timedelta(days=days))


def _items(district, departments):
    """One opinion with an item per entry of ``departments`` (None: the finance bureau)."""
    deadline = (timezone.localdate() + timedelta(days=30)).isoformat()
    opinion = record(
        district,
        items=[
            {"requirement": f"事项{n}", "department": dept.pk if dept else None, "deadline": deadline}
            for n, dept in enumerate(departments, start=1)
        ],
    )
    return [item_of(opinion, n) for n in range(1, len(departments) + 1)]


@pytest.fixture
def board_items(district):
    """Department A: one item 3 days overdue, one due tomorrow, one due in 20 days (not on
    the board), one accepted though overdue (closed). Department B: one responded item 1 day
    overdue (still open: awaiting acceptance). The bureau: one item 2 days overdue."""
    a_over, a_soon, a_later, a_done, b_resp, bureau = _items(
        district, [district.dept_a, district.dept_a, district.dept_a, district.dept_a, district.dept_b, None]
    )
    committee_item_respond(item=a_done, actor=district.staff_a, response="已完成。")
    committee_item_review(item=a_done, actor=district.finance, accept=True)
    committee_item_respond(item=b_resp, actor=district.staff_b, response="已完成。")
    for item, days in [(a_over, -3), (a_soon, 1), (a_later, 20), (a_done, -5), (b_resp, -1), (bureau, -2)]:
        _due(item, days)
    return {"a_over": a_over, "a_soon": a_soon, "b_resp": b_resp, "bureau": bureau}


# -- the board's counts -------------------------------------------------------------------------


def _cells(d):
    return (d["committee_overdue"], d["committee_soon"], d["total"])


@pytest.mark.parametrize("who", ["supervisor", "finance", "auditor"])
def test_board_counts_committee_items_by_department_and_the_bureau_when_overdue_or_due_soon(
    client, district, board_items, who
):
    client.force_login(getattr(district, who))
    response = client.get(BOARD)

    assert response.status_code == 200
    counts = {d["department_id"]: d for d in response.context["counts"]}
    assert set(counts) == {district.dept_a.pk, district.dept_b.pk, BUREAU}
    assert _cells(counts[district.dept_a.pk]) == (1, 1, 2)
    assert _cells(counts[district.dept_b.pk]) == (1, 0, 1)
    assert _cells(counts[BUREAU]) == (1, 0, 1) and counts[BUREAU]["name"] == "财政局"
    assert [d["department_id"] for d in response.context["counts"]] == [district.dept_a.pk, district.dept_b.pk, BUREAU]
    html = response.content.decode()
    assert "人大审议意见" in html
    assert f'<tr data-department="{BUREAU}">' in html
    assert 'data-count="committee-overdue">1<' in html and 'data-count="committee-soon">1<' in html


def test_board_counts_committee_items_beside_the_rectifications_and_tasks_when_both_are_open(client, district):
    from tests.screens.test_deadline_board import _plain

    (item,) = _items(district, [district.dept_a])
    _due(item, -1)
    _plain(district, days=-2, dept=district.dept_a)
    client.force_login(district.supervisor)

    (a,) = client.get(BOARD).context["counts"]

    assert (a["rect_overdue"], a["committee_overdue"], a["total"]) == (1, 1, 2)


def test_board_counts_drop_an_item_when_it_is_accepted(client, district, board_items):
    committee_item_respond(item=board_items["a_over"], actor=district.leader_a, response="已完成。")
    committee_item_review(item=board_items["a_over"], actor=district.finance, accept=True)
    committee_item_review(item=board_items["b_resp"], actor=district.finance, accept=True)
    client.force_login(district.supervisor)

    counts = {d["department_id"]: d for d in client.get(BOARD).context["counts"]}

    assert _cells(counts[district.dept_a.pk]) == (0, 1, 1)
    assert district.dept_b.pk not in counts


@pytest.mark.parametrize(
    "who", ["staff_a", "leader_a", "staff_b", "expert", "deputy", "agency_staff", "sysadmin", "congress"]
)
def test_board_counts_and_export_are_refused_when_not_a_bureau_reader(client, district, board_items, who):
    client.force_login(getattr(district, who))

    assert client.get(BOARD).status_code == 403
    assert client.get(XLSX).status_code == 403


def test_export_has_the_counts_by_department_with_the_committee_items_under_the_bureau_when_exported(
    client, district, board_items
):
    client.force_login(district.supervisor)
    response = client.get(XLSX)

    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["督办清单", "分部门统计", "按期完成情况"]
    rows = [[c.value for c in row] for row in book["分部门统计"].iter_rows()]
    assert rows[0] == [
        "预算部门编码",
        "预算部门",
        "整改已逾期",
        "整改即将到期",
        "流程任务已逾期",
        "流程任务即将到期",
        "人大审议意见已逾期",
        "人大审议意见即将到期",
        "合计",
    ]
    assert rows[1:] == [
        ["A01", district.dept_a.name, 0, 0, 0, 0, 1, 1, 2],
        ["B01", district.dept_b.name, 0, 0, 0, 0, 1, 0, 1],
        [None, "财政局", 0, 0, 0, 0, 1, 0, 1],
    ]
    listed = [[c.value for c in row] for row in book["督办清单"].iter_rows(min_row=3)]
    assert sorted(r[2] for r in listed) == sorted([district.dept_a.name] * 2 + [district.dept_b.name, "财政局"])


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_board_counts_cost_the_same_statements_whatever_the_number_of_committee_items(client, district, board_items):
    client.force_login(district.supervisor)
    _queries(client, BOARD)  # warm caches (content types, permissions)
    few_page, few_xlsx = _queries(client, BOARD), _queries(client, XLSX)
    more = _items(district, [district.dept_a, district.dept_b, None] * 4)
    for n, item in enumerate(more):
        _due(item, -1 - n % 3 if n % 2 else 1)

    many_page, many_xlsx = _queries(client, BOARD), _queries(client, XLSX)

    assert sum(d["total"] for d in client.get(BOARD).context["counts"]) == 4 + 12
    assert many_page == few_page
    assert many_xlsx == few_xlsx


# -- the 待办 inbox ---------------------------------------------------------------------------


def _committee_rows(user):
    return [(row.key, row.action) for row in inbox_for(user) if row.object_type == "committee_item"]


def test_assigned_item_waits_in_its_departments_inbox_for_staff_and_leaders_when_assigned(district):
    dept_item, bureau_item = _items(district, [district.dept_a, None])

    for user in (district.staff_a, district.leader_a, district.leader_a2):
        assert _committee_rows(user) == [(f"committee_item-{dept_item.pk}", "报送落实情况")], user
    assert _committee_rows(district.finance) == [(f"committee_item-{bureau_item.pk}", "报送落实情况")]
    for user in (district.staff_b, district.leader_b):
        assert _committee_rows(user) == [], user


@pytest.mark.parametrize(
    "who", ["staff_b", "leader_b", "supervisor", "auditor", "expert", "deputy", "agency_staff", "sysadmin", "congress"]
)
def test_committee_items_never_reach_the_inbox_when_the_user_has_none_to_handle(district, who):
    item, _bureau = _items(district, [district.dept_a, None])
    committee_item_respond(item=item, actor=district.staff_a, response="已完成。")
    _items(district, [district.dept_a])  # another, assigned to department A

    assert _committee_rows(getattr(district, who)) == []


def test_responded_item_moves_to_the_finance_inbox_and_leaves_when_accepted(district):
    (item,) = _items(district, [district.dept_a])
    key = f"committee_item-{item.pk}"

    committee_item_respond(item=item, actor=district.staff_a, response="已完成。")
    assert _committee_rows(district.staff_a) == [] and _committee_rows(district.leader_a) == []
    assert _committee_rows(district.finance) == [(key, "验收落实情况")]

    committee_item_review(item=item, actor=district.finance, accept=False, comment="请附凭证。")
    assert _committee_rows(district.finance) == []
    assert _committee_rows(district.staff_a) == [(key, "报送落实情况")]

    committee_item_respond(item=item, actor=district.leader_a, response="已附凭证。")
    committee_item_review(item=item, actor=district.finance, accept=True)
    for user in (district.staff_a, district.leader_a, district.finance):
        assert _committee_rows(user) == [], user


def test_bureau_item_leaves_the_finance_inbox_when_answered_and_accepted(district):
    (item,) = _items(district, [None])
    key = f"committee_item-{item.pk}"
    assert _committee_rows(district.finance) == [(key, "报送落实情况")]

    committee_item_respond(item=item, actor=district.finance, response="已完成。")
    assert _committee_rows(district.finance) == [(key, "验收落实情况")]
    committee_item_review(item=item, actor=district.finance, accept=True)
    assert _committee_rows(district.finance) == []


def test_inbox_page_lists_the_item_with_its_link_department_and_deadline_when_waiting(client, district):
    (item,) = _items(district, [district.dept_a])
    _due(item, -1)
    client.force_login(district.leader_a)

    response = client.get(reverse("workflows:inbox"))

    html = response.content.decode()
    (row,) = [r for r in response.context["rows"] if r.object_type == "committee_item"]
    assert row.kind == STEP and row.department == district.dept_a.name and row.due_state == "overdue"
    assert row.title == "人大审议意见" and row.subject == item.title
    assert f'data-task="committee_item-{item.pk}"' in html
    assert f'href="{item.get_absolute_url()}"' in html
    assert client.get(item.get_absolute_url()).status_code == 200  # the link opens for them
    client.force_login(district.staff_b)
    assert f'data-task="committee_item-{item.pk}"' not in client.get(reverse("workflows:inbox")).content.decode()


def test_inbox_query_count_stays_flat_when_committee_items_grow(client, district):
    _items(district, [district.dept_a, None])
    for user in (district.finance, district.staff_a):
        client.force_login(user)
        client.get(reverse("workflows:inbox"))  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as few:
            response = client.get(reverse("workflows:inbox"))
        count_few = len([r for r in response.context["rows"] if r.object_type == "committee_item"])
        _items(district, [district.dept_a, None] * 3)
        with CaptureQueriesContext(connection) as many:
            response = client.get(reverse("workflows:inbox"))
        count_many = len([r for r in response.context["rows"] if r.object_type == "committee_item"])
        assert count_many == count_few + 3, user
        assert len(many) == len(few), user


# -- the API inbox -------------------------------------------------------------------------------


def _api_committee(user):
    response = client_for(user).get("/api/tasks/")
    assert response.status_code == 200
    return [t for t in response.json()["results"] if t["object"]["type"] == "committee_item"]


def test_api_inbox_lists_the_item_for_its_assignee_and_then_the_finance_section_when_responded(district):
    dept_item, bureau_item = _items(district, [district.dept_a, None])

    (row,) = _api_committee(district.staff_a)
    assert row["kind"] == "step" and row["id"] is None and row["action"] == "报送落实情况"
    assert row["object"] == {"type": "committee_item", "id": dept_item.pk, "name": dept_item.title}
    assert row["department_name"] == district.dept_a.name and row["url"] == dept_item.get_absolute_url()
    assert row["project"] is None and row["due_at"] is not None
    assert [t["object"]["id"] for t in _api_committee(district.finance)] == [bureau_item.pk]
    assert _api_committee(district.staff_b) == [] and _api_committee(district.supervisor) == []

    committee_item_respond(item=dept_item, actor=district.staff_a, response="已完成。")
    assert _api_committee(district.staff_a) == []
    assert sorted((t["object"]["id"], t["action"]) for t in _api_committee(district.finance)) == sorted(
        [(bureau_item.pk, "报送落实情况"), (dept_item.pk, "验收落实情况")]
    )


def test_api_inbox_query_count_stays_flat_when_committee_items_grow(district):
    _items(district, [district.dept_a, None])
    finance = client_for(district.finance)
    finance.get("/api/tasks/")  # warm the user's permission cache
    with CaptureQueriesContext(connection) as few:
        assert len(finance.get("/api/tasks/").json()["results"]) == 1
    _items(district, [district.dept_a, None] * 3)
    with CaptureQueriesContext(connection) as many:
        assert len(finance.get("/api/tasks/").json()["results"]) == 4
    assert len(many) == len(few)
