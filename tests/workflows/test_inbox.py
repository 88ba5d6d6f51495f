"""The one inbox (issue 17, item 4): flow tasks and state-machine steps in one list with the
same columns (object, action, due date, link, status), on the screen, scoped as each kind
is scoped on its own pages, sorted by due date, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue
from processes.states import ProjectStage
from tests.processes.test_evaluation import accepted, launch
from workflows.selectors import STEP, TASK, inbox_for


def inbox(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return response


def kinds(rows) -> list[tuple[str, str]]:
    return [(row.kind, row.action) for row in rows]


@pytest.fixture
def rectification(district):
    """A rectification issued to department A (签收整改通知 waits for its staff and leaders)."""
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    finding = finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标")
    return rectification_issue(actor=district.finance, findings=[finding], title="2021 年度自评发现问题整改")


@pytest.mark.django_db
def test_finance_inbox_holds_tasks_and_steps_with_the_same_columns_when_it_has_both(district):
    intake = district.project(ProjectStage.DEPT_APPROVED, name="渠道清淤")
    budgeted = district.project(ProjectStage.BUDGETED, name="农田水利")
    routed = district.project(ProjectStage.PRE_ASSESSMENT, dept="b", name="旧城改造")

    rows = inbox_for(district.finance)

    by_subject = {row.subject: row for row in rows}
    task, execution, pre_assessment = by_subject["渠道清淤"], by_subject["农田水利"], by_subject["旧城改造"]
    assert (task.kind, task.title, task.action) == (TASK, "财政受理", "转事前绩效评估 / 转绩效目标审核")
    assert task.url == f"/tasks/{task.task.pk}/" and task.project == intake and task.due is not None
    assert (execution.kind, execution.title, execution.action) == (STEP, "预算执行", "下达预算，开始执行")
    assert execution.url == budgeted.get_absolute_url() and execution.task is None
    assert (pre_assessment.kind, pre_assessment.action) == (STEP, "发起事前绩效评估")
    assert pre_assessment.url == f"/projects/{routed.pk}/pre-assessment/new/"
    assert pre_assessment.department == "区住房建设局" and pre_assessment.subject_code == routed.code
    # every row has the same columns filled
    for row in rows:
        assert row.title and row.subject and row.department and row.action and row.url
        assert row.state == "queued" and row.state_label == "待办理"
    assert len({row.key for row in rows}) == len(rows)


@pytest.mark.django_db
def test_inbox_shows_both_kinds_in_one_table_when_the_leader_has_a_task_and_a_rectification(
    client, district, rectification
):
    submitted = district.project(ProjectStage.SUBMITTED, name="渠道清淤")

    response = inbox(client, district.leader_a)
    body = response.content.decode()

    assert kinds(response.context["rows"]) == [(TASK, "审核通过 / 退回修改"), (STEP, "签收整改通知")]
    assert body.count('data-testid="task-row"') == 1 and body.count('data-testid="step-row"') == 1
    assert f'href="/tasks/{response.context["rows"][0].task.pk}/"' in body and "渠道清淤" in body
    assert f'href="{rectification.get_absolute_url()}"' in body and "2021 年度自评发现问题整改" in body
    assert f'data-task="rectification-{rectification.pk}"' in body  # the live refresh's key
    assert body.count('data-task-state="queued">待办理</span>') == 2
    assert "共 2 项待办" in body and 'data-testid="evaluation-work"' not in body  # one list, not two
    assert submitted.code in body


@pytest.mark.django_db
def test_inbox_sorts_tasks_and_steps_together_by_due_date_when_both_have_one(client, district, rectification, settings):
    settings.JIXIAO = {**settings.JIXIAO, "TASK_DUE_DAYS": {**settings.JIXIAO["TASK_DUE_DAYS"], "dept_review": 60}}
    district.project(ProjectStage.SUBMITTED)  # due in 60 days; the rectification in 30

    rows = inbox(client, district.leader_a).context["rows"]
    assert [row.kind for row in rows] == [STEP, TASK]
    assert [row.kind for row in inbox(client, district.leader_a, "?sort=-due").context["rows"]] == [TASK, STEP]
    # by creation: the rectification was issued before the project was submitted
    assert [row.kind for row in inbox(client, district.leader_a, "?sort=created").context["rows"]] == [STEP, TASK]


@pytest.mark.django_db
def test_inbox_keeps_one_kind_when_filtered(client, district, rectification):
    district.project(ProjectStage.SUBMITTED)

    assert [r.kind for r in inbox(client, district.leader_a, "?kind=task").context["rows"]] == [TASK]
    assert [r.kind for r in inbox(client, district.leader_a, "?kind=step").context["rows"]] == [STEP]
    assert [r.kind for r in inbox(client, district.leader_a, "?kind=other").context["rows"]] == [TASK, STEP]
    fragment = inbox(client, district.leader_a, "?rows=1&kind=step").content.decode()
    assert 'data-testid="step-row"' in fragment and 'data-testid="task-row"' not in fragment


@pytest.mark.django_db
def test_live_rows_fragment_holds_steps_too_when_fetched(client, district, rectification):
    page = inbox(client, district.leader_a).content.decode()
    fragment = inbox(client, district.leader_a, "?rows=1").content.decode()

    assert 'data-rows-url="/?rows=1"' in page
    assert f'data-task="rectification-{rectification.pk}"' in fragment and "<html" not in fragment


@pytest.mark.django_db
def test_another_departments_step_never_appears_when_its_rectification_waits(client, district, rectification):
    district.project(ProjectStage.SUBMITTED, dept="b")  # department B's own task

    for user in (district.staff_b, district.leader_b):
        rows = inbox_for(user)
        assert all(row.department_id == district.dept_b.pk for row in rows)
        assert not [row for row in rows if row.kind == STEP]
        assert rectification.get_absolute_url() not in inbox(client, user).content.decode()
    # nor for people whose step it is not: an expert sees only their own panel seats
    for user in (district.expert, district.deputy, district.agency_staff, district.auditor, district.sysadmin):
        assert [row for row in inbox_for(user) if row.kind == STEP] == []
    assert [row.action for row in inbox_for(district.staff_a)] == ["签收整改通知"]


@pytest.mark.django_db
def test_an_experts_inbox_shows_only_their_own_panel_seat_as_assigned_when_under_review(client, district):
    from processes.states import EvaluationStatus
    from tests.processes.test_commissioned import Chain

    chain = Chain(district)
    evaluation = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    seat = chain.panel(evaluation)[0].user
    outside = next(u for u in chain.experts if u not in {m.user for m in chain.panel(evaluation)})

    response = inbox(client, seat)
    [row] = response.context["rows"]
    body = response.content.decode()
    assert (row.kind, row.object_type, row.action, row.state) == (STEP, "panel_review", "提交评审建议", "assigned")
    assert f'href="{evaluation.get_absolute_url()}"' in body and 'data-task-state="assigned">已指派</span>' in body
    assert list(inbox(client, outside).context["rows"]) == []
    assert "暂无待办事项" in inbox(client, outside).content.decode()


@pytest.mark.django_db
def test_inbox_page_pages_both_kinds_when_there_are_more_rows_than_a_page(client, district, rectification, monkeypatch):
    monkeypatch.setattr("workflows.views.PAGE_SIZE", 1)
    district.project(ProjectStage.SUBMITTED)

    first = inbox(client, district.leader_a)
    second = inbox(client, district.leader_a, "?page=2")

    assert first.context["page"].paginator.count == 2
    assert {first.context["rows"][0].kind, second.context["rows"][0].kind} == {TASK, STEP}
    assert "data-rows-url" not in second.content.decode()  # live refresh only on the first page


@pytest.mark.django_db
def test_inbox_query_count_stays_flat_when_both_kinds_grow(client, district):
    def make(n: int) -> None:
        for i in range(n):
            district.project(ProjectStage.DEPT_APPROVED, dept="ab"[i % 2])  # a task: 财政受理
            district.project(ProjectStage.BUDGETED, dept="ab"[i % 2])  # a step: 下达预算，开始执行
            district.project(ProjectStage.PRE_ASSESSMENT, dept="ab"[i % 2])  # a step: 发起事前绩效评估

    make(1)
    client.force_login(district.finance)
    client.get("/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        response = client.get("/")
    assert sorted(r.kind for r in response.context["rows"]) == [STEP, STEP, TASK]
    make(4)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert sorted(r.kind for r in response.context["rows"]) == [STEP] * 10 + [TASK] * 5
    assert len(many) == len(few)


# -- the merge: a page of tasks from the database and the steps, in one order ------------


class _Tasks:
    """Stands for task_inbox_for's queryset: sorted rows, counted and sliced (the reads)."""

    def __init__(self, rows):
        self.rows, self.reads = rows, []

    def count(self):
        return len(self.rows)

    def __getitem__(self, window):
        self.reads.append(window)
        return self.rows[window]


def _row(kind, n, due, created):
    from workflows.selectors import InboxRow

    base = datetime(2026, 1, 1, tzinfo=UTC)
    return InboxRow(
        kind=kind,
        key=f"{kind}-{n}",
        object_type="project" if kind == TASK else "rectification",
        object_id=n,
        title="",
        subject="",
        subject_code="",
        department="",
        department_id=None,
        project=None,
        action="",
        due=None if due is None else base + timedelta(days=due),
        created=base + timedelta(hours=created),
        url="",
        state="queued",
        task=SimpleNamespace(pk=n) if kind == TASK else None,
    )


_DAY = st.one_of(st.none(), st.integers(0, 5))


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    tasks=st.lists(st.tuples(_DAY, st.integers(0, 5)), max_size=12),
    steps=st.lists(st.tuples(_DAY, st.integers(0, 5)), max_size=6),
    sort=st.sampled_from(["due", "-due", "created"]),
    start=st.integers(0, 20),
    size=st.integers(1, 6),
)
def test_any_page_of_the_inbox_is_that_page_of_the_whole_sorted_list_when_kinds_mix(tasks, steps, sort, start, size):
    from workflows import selectors

    key = selectors._order(sort)
    task_rows = sorted((_row(TASK, i + 1, d, c) for i, (d, c) in enumerate(tasks)), key=key)
    step_rows = [_row(STEP, i + 1, d, c) for i, (d, c) in enumerate(steps)]
    whole = sorted(task_rows + step_rows, key=key)
    source = _Tasks(task_rows)
    with mock.patch.object(selectors, "task_row", lambda row: row):
        inbox = selectors.Inbox(source, step_rows, sort)
        assert len(inbox) == len(whole)
        page = inbox[start : start + size]
    assert [r.key for r in page] == [r.key for r in whole[start : start + size]]
    # never more tasks read than the page plus the steps that may come before it
    assert all(w.stop - (w.start or 0) <= size + len(step_rows) for w in source.reads)
