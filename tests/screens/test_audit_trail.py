"""The auditor's screen over the audit trail (issue 21): who may reach it, its filters, its
Chinese labels and Beijing times, the chain's verification, the XLSX export and a constant
number of queries per page."""

from datetime import UTC, datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from processes.models import AuditEvent, AuditVerification
from processes.states import ProjectStage
from tests.factories import make_user

pytestmark = pytest.mark.django_db

URL = reverse("processes:audit_trail")


def body(response) -> str:
    return response.content.decode()


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "who",
    ["staff_a", "leader_a", "finance", "supervisor", "sysadmin", "expert", "deputy", "agency_staff"],
)
def test_audit_screen_refuses_with_403_when_role_is_not_auditor(client, district, who):
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    assert client.get(reverse("processes:audit_trail_xlsx")).status_code == 403
    assert client.post(reverse("processes:audit_verify")).status_code == 403
    assert not AuditVerification.objects.exists()
    assert reverse("processes:audit_trail") not in body(client.get("/"))


def test_audit_screen_opens_and_is_linked_in_navigation_when_auditor(client, district):
    client.force_login(district.auditor)
    response = client.get(URL)
    assert response.status_code == 200
    assert f'href="{URL}"' in body(client.get("/"))


def test_audit_screen_redirects_to_login_when_anonymous(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_audit_rows_show_chinese_labels_and_beijing_time_when_listed(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    event = AuditEvent.objects.get(object_id=str(project.pk), action="submit")
    _raw(
        "UPDATE processes_auditevent SET occurred_at = %s WHERE id = %s",
        [datetime(2026, 3, 1, 23, 30, tzinfo=UTC), event.pk],
    )
    client.force_login(district.auditor)
    page = body(client.get(URL))
    table = page[page.index('data-testid="audit-table"') :]
    assert "经办人" in table and "预算项目" in table and "草稿 → 已提交" in table
    assert "2026-03-02 07:30:00" in table  # 23:30 UTC is 07:30 the next day in Beijing
    assert "时间（北京时间）" in table
    for code in ("dept_staff", "budgetproject", "draft", ">submit<"):
        assert code not in table, code


def test_audit_filters_narrow_rows_when_role_action_object_and_department_given(client, district):
    pa = district.project(ProjectStage.SUBMITTED)
    pb = district.project(ProjectStage.SUBMITTED, dept="b")
    client.force_login(district.auditor)

    def sequences(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        return {row.sequence for row in (e for e, _ in response.context["rows"])}

    submits = set(AuditEvent.objects.filter(action="submit").values_list("sequence", flat=True))
    assert sequences(action="submit", page_size=100) == submits
    assert sequences(role="dept_staff", page_size=100) == set(
        AuditEvent.objects.filter(actor_role="dept_staff").values_list("sequence", flat=True)
    )
    dept_a = sequences(department=district.dept_a.pk, object_type="processes.budgetproject", page_size=100)
    assert dept_a == set(
        AuditEvent.objects.filter(object_type="processes.budgetproject", object_id=str(pa.pk)).values_list(
            "sequence", flat=True
        )
    )
    assert not dept_a & set(AuditEvent.objects.filter(object_id=str(pb.pk)).values_list("sequence", flat=True))
    assert sequences(actor="staff_b", page_size=100) == set(
        AuditEvent.objects.filter(actor_username="staff_b").values_list("sequence", flat=True)
    )
    assert sequences(start="2000-01-01", end="2000-01-02") == set()


def test_audit_filter_answers_400_with_message_when_end_before_start(client, district):
    client.force_login(district.auditor)
    response = client.get(URL, {"start": "2026-03-02", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "截止日期不能早于起始日期" in body(response)


def test_audit_screen_queries_stay_constant_when_page_size_grows(client, district, django_assert_num_queries):
    for _ in range(11):
        district.project(ProjectStage.SUBMITTED)  # create + submit: 22 rows
    assert AuditEvent.objects.count() > 20
    client.force_login(district.auditor)
    client.get(URL)  # the session and the user's permissions are read once, like any page
    with CaptureQueriesContext(connection) as small:
        response = client.get(URL, {"page_size": 20})
    assert len(response.context["rows"]) == 20
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL, {"page_size": 50})
    assert len(response.context["rows"]) == 22


def test_verification_shows_first_bad_row_when_a_row_was_edited(client, district):
    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.auditor)
    assert "尚未校验过审计链" in body(client.get(URL))
    client.post(reverse("processes:audit_verify"))
    intact = AuditVerification.objects.get()
    assert intact.intact and intact.verified_by == district.auditor
    assert "审计链完整" in body(client.get(URL))

    target = AuditEvent.objects.order_by("sequence")[1]
    _raw("UPDATE processes_auditevent SET comment = %s WHERE id = %s", ["改过", target.pk])
    response = client.post(reverse("processes:audit_verify"), follow=True)
    page = body(response)
    assert "审计链被破坏" in page
    assert f"首个异常行：第 {target.sequence} 行" in page
    assert "内容与哈希不符" in page
    assert AuditVerification.objects.first().bad_sequence == target.sequence


def test_verify_audit_command_stores_its_result_when_run(district):
    from django.core.management import call_command

    district.project(ProjectStage.SUBMITTED)
    call_command("verify_audit")
    result = AuditVerification.objects.get()
    assert result.intact and result.verified_by is None and result.last_sequence == AuditEvent.objects.count()


def test_export_has_chinese_headers_and_filtered_rows_when_downloaded(client, district):
    district.project(ProjectStage.SUBMITTED)
    district.project(ProjectStage.DRAFT, dept="b")
    client.force_login(district.auditor)
    response = client.get(reverse("processes:audit_trail_xlsx"), {"action": "submit"})
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "时间（北京时间）", "操作人", "角色")
    assert len(rows) - 1 == AuditEvent.objects.filter(action="submit").count()
    assert all(r[6] == "提交" for r in rows[1:]), rows[1]
    assert all(r[3] == "经办人" for r in rows[1:])


def test_superuser_reaches_audit_screen_when_staff_superuser(client, district):
    admin = make_user("sysadmin", username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(URL).status_code == 200


def test_audit_screen_shows_fifty_rows_a_page_when_no_page_size_chosen(client, district):
    for _ in range(26):
        district.project(ProjectStage.SUBMITTED)  # 52 rows
    client.force_login(district.auditor)
    for params in ({}, {"role": ""}):
        response = client.get(URL, params)
        assert len(response.context["rows"]) == 50
        assert '<option value="50" selected>' in body(response)
