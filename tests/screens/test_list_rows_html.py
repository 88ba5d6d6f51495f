"""The inbox's and the project list's rows are written in Python (issue 20:
workflows/inbox_html.py, workflows.project_views.ProjectRows); each writes exactly what the
row templates they replace wrote — compared here with those templates, kept below as they
were, for every kind of row and with text that must be escaped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import ROLE_PERMISSIONS, role_labels
from processes.models import BudgetProject, HistoryImport
from processes.states import ProjectStage
from workflows.inbox_html import set_rows_html
from workflows.project_views import ProjectRows
from workflows.selectors import STEP, TASK, InboxRow, inbox_for, queue_label, task_url

pytestmark = pytest.mark.django_db

INBOX_ROW = """{% load i18n jixiao %}{% for row in rows %}
      <tr class="{{ row.due_state }}" data-testid="{% if row.task %}task-row{% else %}step-row{% endif %}" data-kind="{{ row.kind }}" data-task="{{ row.key }}">
        <td><a href="{{ row.url }}" data-testid="task-link">{{ row.title }}</a></td>
        <td>{% if row.subject_code %}<span class="muted">{{ row.subject_code }}</span> {% endif %}{{ row.subject }}</td>
        <td>{{ row.department }}</td>
        <td>{{ row.action }}</td>
        <td class="nowrap">{{ row.due|cst|default:"—" }}{% if row.due_state == "overdue" %} <span class="tag-overdue">{% translate "已逾期" %}</span>{% elif row.due_state == "due-soon" %} <span class="tag-due-soon">{% translate "即将到期" %}</span>{% endif %}</td>
        <td>{% include "workflows/task_state.html" %}</td>
      </tr>
{% endfor %}"""

PROJECT_ROW = """{% load i18n jixiao %}{% for p in page %}
      <tr>
        {% url 'workflows:project_detail' p.pk as detail_url %}<td class="nowrap"><a href="{{ detail_url }}">{{ p.code }}</a></td>
        <td><a href="{{ detail_url }}">{{ p.name }}</a>{% if p.history_id %} {% include "includes/history_mark.html" with history=p.history %}{% endif %}</td>
        {% if show_department %}<td>{{ p.department.name }}</td>{% endif %}
        <td>{{ p.fiscal_year }}</td>
        <td>{{ p.category_label }}</td>
        <td class="num">{{ p.requested_amount|wan }}</td>
        <td class="num">{{ p.approved_amount|wan|default:"—" }}</td>
        <td>{{ p.stage|stage_badge }}</td>
        <td>{{ p.created_by }}</td>
        <td class="nowrap">{{ p.updated_at|cst }}</td>
      </tr>
{% endfor %}"""


def _template(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


def _step(**kw) -> InboxRow:
    now = timezone.now()
    fields = {
        "kind": STEP,
        "key": "recheck-5",
        "object_type": "recheck",
        "object_id": 5,
        "title": "复核 <b>&",
        "subject": '项目 "甲" <i>',
        "subject_code": "",
        "department": "区农水局 & <x>",
        "department_id": 1,
        "project": None,
        "action": "复核评分",
        "due": now + timedelta(days=30),
        "created": now,
        "url": "/rechecks/5/?a=1&b=<2>",
        "state": "queued",
        "queue": "部门经办人 <、> 部门负责人",
    }
    return InboxRow(**{**fields, **kw})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_inbox_rows_are_written_as_the_row_template_wrote_them(district, language):
    district.project(ProjectStage.SUBMITTED, name='渠道 <清淤> & "引号"')
    tasks = list(inbox_for(district.leader_a)[0:10])
    now = timezone.now()
    rows = [
        *tasks,
        _step(),
        _step(key="recheck-6", due=None, state="assigned", subject_code="2021-<01>"),
        _step(key="recheck-7", due=now - timedelta(days=1), due_state="overdue"),
        _step(key="recheck-8", due=now + timedelta(hours=2), due_state="due-soon", queue=""),
    ]
    assert tasks and tasks[0].kind == TASK and tasks[0].task is not None
    with translation.override(language):
        expected = _template(INBOX_ROW, rows=rows)
        set_rows_html(rows)
        assert "".join(row.html for row in rows) == expected


@pytest.mark.parametrize("show_department", [True, False])
def test_project_rows_are_written_as_the_row_template_wrote_them(district, show_department):
    district.project(ProjectStage.SUBMITTED, name='水利 <b>"工程"</b> & 配套', amount=Decimal("35000000.00"))
    draft = district.project(ProjectStage.DRAFT, dept="b", code="2021-<&>")
    history = HistoryImport.objects.create(
        sha256="0" * 64, file_name="2019 年 <预算>.xlsx", imported_by=district.finance
    )
    BudgetProject.objects.filter(pk=draft.pk).update(history=history, approved_amount=None)
    district.staff_b.full_name = '王<五> & "六"'
    district.staff_b.save()
    projects = list(BudgetProject.objects.select_related("department", "created_by", "history").order_by("pk"))
    categories = {value: str(label) for value, label in BudgetProject._meta.get_field("category").flatchoices}
    for p in projects:
        p.category_label = categories.get(p.category, p.category)
    expected = _template(PROJECT_ROW, page=projects, show_department=show_department)
    rows = ProjectRows(show_department=show_department)
    assert "".join(rows.html(p) for p in projects) == expected
    assert "历史导入" in expected and "王&lt;五&gt;" in expected and "—" in expected


def test_task_url_and_queue_label_say_what_reverse_and_the_roles_say_in_each_language():
    assert task_url(42) == reverse("workflows:task", args=[42])
    roles = [r for r, perms in ROLE_PERMISSIONS.items() if "processes.review_project" in perms]
    with translation.override("zh-hans"):
        zh = queue_label("processes.review_project")
        assert zh == role_labels(roles) and "部门负责人" in zh
    with translation.override("en"):
        en = queue_label("processes.review_project")
        assert en == role_labels(roles) and en != zh


def test_project_list_reads_only_the_shown_columns_in_the_same_statements_whatever_the_rows(client, district):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.finance)
    client.get("/projects/")
    with CaptureQueriesContext(connection) as one:
        client.get("/projects/")
    history = HistoryImport.objects.create(sha256="1" * 64, file_name="2019 年预算.xlsx", imported_by=district.finance)
    for _ in range(3):
        p = district.project(ProjectStage.DRAFT, dept="b")
        BudgetProject.objects.filter(pk=p.pk).update(history=history)
    with CaptureQueriesContext(connection) as four:
        response = client.get("/projects/")
    body = response.content.decode()
    assert len(four) == len(one)
    assert body.count(f'data-history="{history.pk}"') == 3 and body.count("<tr>") == 1 + 4
    assert "区住房建设局" in body and "2019 年预算.xlsx" in body


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_project_lists_rows_from_values_are_the_rows_of_the_projects(client, district, settings, language):
    """The list reads its rows with values_list (ProjectRow): each row's HTML is what
    ProjectRows writes for the BudgetProject itself — history mark, creator (full name or
    user name), department, amounts, stage, escaping."""
    district.project(ProjectStage.SUBMITTED, name='水利 <b>"工程"</b> & 配套', amount=Decimal("35000000.00"))
    draft = district.project(ProjectStage.DRAFT, dept="b", code="2021-<&>")
    history = HistoryImport.objects.create(
        sha256="2" * 64, file_name="2019 年 <预算>.xlsx", imported_by=district.finance
    )
    BudgetProject.objects.filter(pk=draft.pk).update(history=history, approved_amount=None)
    district.staff_b.full_name = '王<五> & "六"'
    district.staff_b.save()
    district.staff_a.full_name = ""
    district.staff_a.save()
    client.force_login(district.finance)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/projects/")
    shown = list(response.context["page"])
    assert len(shown) == BudgetProject.objects.count() >= 2
    with translation.override(language):
        categories = {value: str(label) for value, label in BudgetProject._meta.get_field("category").flatchoices}
        rows = ProjectRows(show_department=True)
        for row in shown:
            project = BudgetProject.objects.select_related("department", "created_by", "history").get(pk=row.pk)
            project.category_label = categories.get(project.category, project.category)
            assert row.row_html == rows.html(project)
    body = response.content.decode()
    assert "王&lt;五&gt;" in body and "staff_a" in body and f'data-history="{history.pk}"' in body
