"""Budget-preparation import (issue 18 item 2): next year's 项目库 as drafts of their
departments, all or nothing, idempotent by (year, code), audited and told per department;
through the service, the job, the screen and the API, as real role users."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Department
from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, Job
from processes.services import budget_import as svc
from processes.states import JobStatus, ProjectStage
from tests.api.support import client_for
from tests.factories import make_user
from workflows import demo
from workflows.services import project_act

pytestmark = pytest.mark.django_db

SAMPLE = Path(settings.BASE_DIR) / "data" / "samples" / "budget-projects-2022.xlsx"
YEAR = 2022
HEADER = ["预算部门", "项目编码", "项目名称", "项目类别", "项目性质", "申报金额（元）", "总体目标"]


@pytest.fixture
def demo_departments(district):
    """The demo district's departments, each with a staff member and a leader."""
    Department.objects.filter(pk=district.dept_a.pk).update(name="测试甲局")  # the demo's names are taken below
    Department.objects.filter(pk=district.dept_b.pk).update(name="测试乙局")
    people = {}
    for d in demo.DEPARTMENTS:
        department = Department.objects.create(code=d.code, name=d.name)
        people[d.code] = (
            make_user("dept_staff", department, username=f"{d.key}_staff"),
            make_user("dept_leader", department, username=f"{d.key}_leader"),
        )
    return people


def sample() -> SimpleUploadedFile:
    return SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes())


def xlsx(rows, header=HEADER, name="projects.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(district, file, captured, actor=None):
    with captured(execute=True):
        job = svc.budget_import_start(actor=actor or district.finance, fiscal_year=YEAR, file=file)
    job.refresh_from_db()
    return job


def rows_of_sample() -> list[dict]:
    book = openpyxl.load_workbook(SAMPLE, read_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


# -- the sample file through the job -----------------------------------------------------------


def test_sample_file_creates_drafts_for_their_departments_when_imported_by_finance(
    district, demo_departments, django_capture_on_commit_callbacks
):
    job = run(district, sample(), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"total": 12, "created": 12, "updated": 0, "unchanged": 0}
    projects = {p.code: p for p in BudgetProject.objects.filter(fiscal_year=YEAR).select_related("department")}
    assert len(projects) == 12 and {p.stage for p in projects.values()} == {ProjectStage.DRAFT}
    renshe = projects["2022-LW103-002"]  # given by the department's name
    assert (renshe.department.code, renshe.category, renshe.recurrence) == ("LW103", "social_security", "recurring")
    assert renshe.created_by == demo_departments["LW103"][0]  # the department's 经办人
    assert projects["2022-LW108-002"].requested_amount == Decimal("860000.50")
    assert projects["2022-LW108-002"].category == "other"
    # each creation audited as a department's own creation is, by the finance officer
    created = AuditEvent.objects.filter(action="create", object_type="processes.budgetproject")
    assert created.count() == 12 and set(created.values_list("actor_role", flat=True)) == {"finance_officer"}
    event = created.get(object_id=str(renshe.pk))
    assert event.to_state == ProjectStage.DRAFT and event.detail["code"] == "2022-LW103-002"
    # one audit event for the import as a whole
    whole = AuditEvent.objects.get(action="budget_import")
    assert whole.actor == district.finance and whole.comment == SAMPLE.name
    assert whole.detail.items() >= {"created": 12, "fiscal_year": YEAR, "file": SAMPLE.name, "job": job.pk}.items()
    # one notice per department member, with the department's count
    staff, leader = demo_departments["LW101"]
    for person in (staff, leader):
        notes = Notification.objects.filter(recipient=person)
        assert [n.text for n in notes] == ["财政导入了 2 个 2022 年项目，请完善后提交"]
    assert [n.text for n in Notification.objects.filter(recipient=demo_departments["LW105"][0])] == [
        "财政导入了 1 个 2022 年项目，请完善后提交"
    ]
    assert not Notification.objects.filter(recipient=district.staff_a).exists()  # no project of theirs


def test_same_file_again_changes_nothing_and_tells_nobody_when_reimported(
    district, demo_departments, django_capture_on_commit_callbacks
):
    run(district, sample(), django_capture_on_commit_callbacks)
    before = (
        list(BudgetProject.objects.order_by("pk").values()),
        AuditEvent.objects.exclude(action="budget_import").count(),
        Notification.objects.count(),
    )
    job = run(district, sample(), django_capture_on_commit_callbacks)

    assert job.result == {"total": 12, "created": 0, "updated": 0, "unchanged": 12}
    after = (
        list(BudgetProject.objects.order_by("pk").values()),
        AuditEvent.objects.exclude(action="budget_import").count(),
        Notification.objects.count(),
    )
    assert after == before
    assert AuditEvent.objects.filter(action="budget_import").count() == 2  # each import is recorded


def test_changed_row_updates_a_draft_and_is_refused_when_its_project_left_draft(
    district, demo_departments, django_capture_on_commit_callbacks
):
    run(district, sample(), django_capture_on_commit_callbacks)
    staff = demo_departments["LW105"][0]
    submitted = BudgetProject.objects.get(code="2022-LW105-001")
    project_act(project=submitted, actor=staff, action="submit")
    rows = [list(r.values()) for r in rows_of_sample()]
    rows[0][5] = 27000000  # 2022-LW101-001, still a draft: updated
    rows[6][2] = "中小学课后服务（扩面）"  # 2022-LW105-001, submitted: refused

    with pytest.raises(svc.BudgetImportRejected) as refused:
        svc.budget_import_start(actor=district.finance, fiscal_year=YEAR, file=xlsx(rows))
    assert [(e.row, e.column) for e in refused.value.errors] == [(8, "项目编码")]
    assert "已离开草稿" in refused.value.errors[0].message and "已提交" in refused.value.errors[0].message

    rows[6][2] = "中小学课后服务"  # as it was: unchanged, whatever its stage
    draft = BudgetProject.objects.get(code="2022-LW101-001")
    job = run(district, xlsx(rows), django_capture_on_commit_callbacks)
    assert job.result == {"total": 12, "created": 0, "updated": 1, "unchanged": 11}
    draft.refresh_from_db()
    assert (draft.requested_amount, draft.version, draft.stage) == (Decimal("27000000.00"), 2, ProjectStage.DRAFT)
    edit = AuditEvent.objects.get(action="edit", object_id=str(draft.pk))
    assert edit.detail["changed"]["requested_amount"] == ["28600000.00", "27000000.00"]
    assert edit.actor_role == "finance_officer"
    told = Notification.objects.filter(recipient=demo_departments["LW101"][0]).order_by("pk")
    assert [n.text for n in told][-1] == "财政导入了 1 个 2022 年项目，请完善后提交"


def test_blank_goal_keeps_the_drafts_own_when_reimported(district, demo_departments):
    svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows_of_sample())
    project = BudgetProject.objects.get(code="2022-LW103-002")
    BudgetProject.objects.filter(pk=project.pk).update(overall_goal="推广到 20 个街道。")
    result = svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows_of_sample())
    assert result["unchanged"] == 12
    assert BudgetProject.objects.get(pk=project.pk).overall_goal == "推广到 20 个街道。"


# -- refusals -------------------------------------------------------------------------------------


def test_every_bad_cell_is_named_by_row_and_column_and_nothing_is_written_when_imported(district, demo_departments):
    rows = [
        ["LW101", "2022-X-1", "甲项目", "基建工程", "一次性项目", 100, ""],  # good
        ["LW999", "2022-X-2", "乙项目", "航天", "偶尔", "一百万", ""],  # row 3: four bad cells
        ["LW101", "2022-X-1", "", "民政", "经常性", -5, ""],  # row 4: repeated code, no name, negative
        ["区农水局", "2022-X-3", "丙项目", "教育", "经常性项目", "12.345", ""],  # row 5: three decimals
        [None, None, None, None, None, None, None],  # a blank row: skipped
        ["LW102", "2022-X-4", "丁项目", "教育", "经常性项目", "", ""],  # row 7: no amount
    ]
    with pytest.raises(svc.BudgetImportRejected) as refused:
        svc.budget_import_start(actor=district.finance, fiscal_year=YEAR, file=xlsx(rows))
    got = [(e.row, e.column) for e in refused.value.errors]
    assert got == [
        (3, "预算部门"),
        (3, "项目类别"),
        (3, "项目性质"),
        (3, "申报金额（元）"),
        (4, "项目名称"),
        (4, "项目编码"),
        (4, "申报金额（元）"),
        (5, "申报金额（元）"),
        (7, "申报金额（元）"),
    ]
    assert not BudgetProject.objects.exists() and not Job.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["create", "budget_import"]).exists()


def test_code_of_another_department_and_a_department_without_staff_are_refused(district, demo_departments):
    svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows_of_sample())
    Department.objects.create(code="LW200", name="区档案馆")  # nobody to complete a draft
    rows = [
        {"department": "LW102", "code": "2022-LW101-001", "name": "碧道建设工程（二期）", "category": "基建工程",
         "recurrence": "一次性项目", "requested_amount": "28600000", "overall_goal": ""},
        {"department": "区档案馆", "code": "2022-LW200-001", "name": "档案数字化", "category": "other",
         "recurrence": "one_off", "requested_amount": 300000},
    ]  # fmt: skip
    with pytest.raises(svc.BudgetImportRejected) as refused:
        svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows, first_row=1)
    assert [(e.row, e.column) for e in refused.value.errors] == [(1, "code"), (2, "department")]
    assert "区农水局" in refused.value.errors[0].message


def test_missing_columns_and_a_file_that_is_not_a_workbook_are_refused(district, demo_departments):
    with pytest.raises(svc.BudgetImportRejected) as refused:
        svc.budget_import_start(
            actor=district.finance, fiscal_year=YEAR, file=xlsx([["LW101", "c", "n"]], header=HEADER[:3])
        )
    assert "项目类别" in refused.value.errors[0].message and refused.value.errors[0].row is None
    with pytest.raises(Exception) as caught:
        svc.budget_import_start(
            actor=district.finance, fiscal_year=YEAR, file=SimpleUploadedFile("x.xlsx", b"MZ\x90\x00 not a zip")
        )
    assert "file" in caught.value.message_dict


def test_english_headers_are_accepted_when_the_file_uses_them(district, demo_departments):
    english = ["department", "code", "name", "category", "recurrence", "requested_amount", "overall_goal"]
    book_rows = [["LW101", "2022-E-1", "英文表头项目", "infrastructure", "one_off", 5000, "目标"]]
    svc.budget_import_start(actor=district.finance, fiscal_year=YEAR, file=xlsx(book_rows, header=english))
    # the check passed; the job (run on commit) is not needed to see the header was understood


@pytest.mark.parametrize("person", ["staff_a", "leader_a", "supervisor", "auditor", "expert", "agency_staff"])
def test_only_the_finance_section_imports(district, demo_departments, person):
    with pytest.raises(PermissionDenied):
        svc.budget_import_start(actor=getattr(district, person), fiscal_year=YEAR, file=sample())
    assert not Job.objects.exists()


def test_statements_do_not_grow_with_the_rows_when_imported(district, demo_departments):
    rows = rows_of_sample()
    svc.budget_import(actor=district.finance, fiscal_year=YEAR + 2, rows=rows[:1])  # caches warmed
    with CaptureQueriesContext(connection) as few:
        svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows[:3])
    with CaptureQueriesContext(connection) as many:
        svc.budget_import(actor=district.finance, fiscal_year=YEAR + 1, rows=rows)
    assert len(many) == len(few)


# -- the screen and the API -----------------------------------------------------------------------


def test_screen_uploads_and_shows_the_job_when_finance_imports(
    client, district, demo_departments, django_capture_on_commit_callbacks
):
    client.force_login(district.finance)
    page = client.get(reverse("workflows:budget_import"))
    assert page.status_code == 200 and "预算部门" in page.content.decode()
    assert reverse("workflows:budget_import") in client.get(reverse("workflows:project_list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("workflows:budget_import"), {"fiscal_year": YEAR, "file": sample()})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("processes:job_detail", args=[job.pk])
    shown = client.get(response["Location"]).content.decode()
    assert "导入预算编制项目" in shown and "新建草稿" in shown
    assert BudgetProject.objects.filter(fiscal_year=YEAR).count() == 12


def test_screen_lists_every_error_with_400_when_the_file_is_bad(client, district, demo_departments):
    client.force_login(district.finance)
    bad = xlsx([["LW999", "2022-X-1", "甲", "基建工程", "一次性项目", 100, ""]])
    response = client.post(reverse("workflows:budget_import"), {"fiscal_year": YEAR, "file": bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "没有编码或名称为「LW999」的部门" in body and "没有导入任何项目" in body
    assert not BudgetProject.objects.exists()


def test_screen_is_forbidden_when_not_the_finance_section(client, district):
    client.force_login(district.staff_a)
    assert client.get(reverse("workflows:budget_import")).status_code == 403
    assert reverse("workflows:budget_import") not in client.get(reverse("workflows:project_list")).content.decode()


def test_api_takes_a_json_batch_and_answers_202_with_the_job(
    district, demo_departments, django_capture_on_commit_callbacks
):
    finance = client_for(district.finance)
    batch = [{k: (str(v) if v is not None else "") for k, v in row.items()} for row in rows_of_sample()]
    english = [dict(zip(svc.COLUMNS, row.values(), strict=True)) for row in batch]
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post("/api/projects/import/", {"fiscal_year": YEAR, "rows": english}, format="json")
    assert response.status_code == 202, response.content
    state = finance.get(response["Location"]).json()
    assert state["status"] == "succeeded" and state["result"]["created"] == 12
    # and the file, multipart: the same rows, unchanged
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post("/api/projects/import/", {"fiscal_year": YEAR, "file": sample()}, format="multipart")
    assert response.status_code == 202
    assert finance.get(response["Location"]).json()["result"]["unchanged"] == 12


def test_api_answers_400_with_every_error_and_403_for_another_role(district, demo_departments):
    finance = client_for(district.finance)
    bad = [{"department": "LW101", "code": "X", "name": "甲", "category": "航天", "recurrence": "one_off",
            "requested_amount": "0"}]  # fmt: skip
    response = finance.post("/api/projects/import/", {"fiscal_year": YEAR, "rows": bad}, format="json")
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [
        (1, "category"),
        (1, "requested_amount"),
    ]
    no_year = finance.post("/api/projects/import/", {"rows": bad}, format="json")
    assert no_year.status_code == 400 and [e["column"] for e in no_year.json()["errors"]] == ["fiscal_year"]
    neither = finance.post("/api/projects/import/", {"fiscal_year": YEAR}, format="json")
    assert neither.status_code == 400 and neither.json()["errors"][0]["column"] == "file"
    staff = client_for(district.staff_a)
    assert staff.post("/api/projects/import/", {"fiscal_year": YEAR, "rows": bad}, format="json").status_code == 403
    assert not BudgetProject.objects.exists() and not Job.objects.exists()


def test_imported_drafts_are_seen_only_by_their_department(district, demo_departments):
    svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows_of_sample())
    staff = demo_departments["LW101"][0]
    seen = client_for(staff).get("/api/projects/", {"fiscal_year": YEAR}).json()
    codes = {p["code"] for p in seen.get("results", seen)}
    assert codes == {"2022-LW101-001", "2022-LW101-002"}
    other = BudgetProject.objects.get(code="2022-LW105-001")
    assert client_for(staff).get(f"/api/projects/{other.pk}/").status_code == 404


def test_job_checks_again_and_writes_nothing_when_a_draft_was_submitted_after_the_upload(
    district, demo_departments, django_capture_on_commit_callbacks
):
    svc.budget_import(actor=district.finance, fiscal_year=YEAR, rows=rows_of_sample())
    rows = [list(r.values()) for r in rows_of_sample()]
    rows[0][5] = 27000000  # 2022-LW101-001: a draft when uploaded
    rows[1][5] = 990000  # 2022-LW101-002: a draft throughout
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = svc.budget_import_start(actor=district.finance, fiscal_year=YEAR, file=xlsx(rows))
    staff = demo_departments["LW101"][0]
    project_act(project=BudgetProject.objects.get(code="2022-LW101-001"), actor=staff, action="submit")
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "项目编码")] and "已离开草稿" in job.errors[0][
        "message"
    ]
    assert BudgetProject.objects.get(code="2022-LW101-002").requested_amount == Decimal("980000.00")  # untouched


def test_demo_loads_next_years_library_as_drafts_once(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO())
    assert (
        "Budget preparation 2022: 12 drafts from budget-projects-2022.xlsx (12 imported by this load)" in out.getvalue()
    )
    drafts = BudgetProject.objects.filter(fiscal_year=YEAR, stage=ProjectStage.DRAFT)
    assert drafts.count() == 12 and drafts.get(code="2022-LW103-001").created_by.username == "renshe_staff"
    assert Notification.objects.filter(recipient__username="renshe_leader", verb=svc.IMPORTED).count() == 1
    events = AuditEvent.objects.count()
    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO())
    assert "(0 imported by this load)" in out.getvalue() and AuditEvent.objects.count() == events
