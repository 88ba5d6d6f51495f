"""Execution data (支付数据, 资金支付计划): the importer's checks, all-or-nothing, replacement by
(project, month), idempotence by content, CSV encodings, the audit row and the job."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from processes.models import AuditEvent, Job, Payment, PaymentPlan
from processes.services import execution
from processes.services.execution import (
    PAYMENTS,
    PLANS,
    Batch,
    ExecutionImportRejected,
    import_file_start,
    import_rows,
    read_file,
)
from processes.states import JobStatus, ProjectStage

HEADER = ["年度", "项目编码", "项目名称", "月份", "支付金额(元)"]
PLAN_HEADER = ["年度", "项目编码", "月份", "计划支付金额(元)"]


def xlsx_bytes(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def batch(rows, header=HEADER, name="payments.xlsx", kind=PAYMENTS) -> Batch:
    return read_file(kind, name, xlsx_bytes(rows, header))


@pytest.fixture
def projects(district):
    a = district.project(ProjectStage.EXECUTING, dept="a")
    b = district.project(ProjectStage.EXECUTING, dept="b")
    return a, b


def paid(project) -> dict[int, Decimal]:
    return dict(Payment.objects.filter(project=project).values_list("month", "amount"))


def test_rows_are_written_per_project_and_month_when_the_file_is_good(district, projects):
    a, b = projects
    result = import_rows(
        kind=PAYMENTS,
        actor=district.finance,
        batch=batch([[2021, a.code, "x", 1, "1,000.50"], [2021, a.code, "x", "2月", 200], [2021, b.code, "y", 1, 0]]),
        file_name="payments.xlsx",
        sha256="abc",
    )
    assert result == {"total": 3, "created": 3, "replaced": 0, "unchanged": 0, "projects": 2}
    assert paid(a) == {1: Decimal("1000.50"), 2: Decimal("200.00")}
    assert paid(b) == {1: Decimal("0.00")}
    event = AuditEvent.objects.get(action="payments_import")
    assert event.actor == district.finance and event.actor_role == "finance_officer"
    assert event.detail["file"] == "payments.xlsx" and event.detail["sha256"] == "abc"
    assert event.detail["created"] == 3


def test_every_error_is_named_by_row_and_column_and_nothing_is_written_when_any_row_is_bad(district, projects):
    a, b = projects
    draft = district.project(ProjectStage.DRAFT, dept="a")
    rows = [
        [2021, a.code, "ok", 1, 100],  # row 2: fine
        [2021, "NOPE", "", 1, 100],  # row 3: unknown project
        [2021, a.code, "", 13, 100],  # row 4: month
        [2021, a.code, "", 2, "-5"],  # row 5: negative
        [2021, a.code, "", 3, "1.234"],  # row 6: three places
        ["二〇二一", a.code, "", 4, 1],  # row 7: year
        [2021, a.code, "", 1, 7],  # row 8: month 1 again
        [2021, draft.code, "", 1, 7],  # row 9: no budget yet
        [2021, "", "", "", ""],  # row 10: missing cells
        [2021, b.code, "", 5, "abc"],  # row 11: not a number
    ]
    with pytest.raises(ExecutionImportRejected) as caught:
        import_rows(kind=PAYMENTS, actor=district.finance, batch=batch(rows))
    got = {(e.row, e.column) for e in caught.value.errors}
    assert got == {
        (3, "项目编码"),
        (4, "月份"),
        (5, "支付金额(元)"),
        (6, "支付金额(元)"),
        (7, "年度"),
        (8, "月份"),
        (9, "项目编码"),
        (10, "项目编码"),
        (10, "月份"),
        (10, "支付金额(元)"),
        (11, "支付金额(元)"),
    }
    messages = {(e.row, e.column): e.message for e in caught.value.errors}
    assert "第 2 行" in messages[(8, "月份")]
    assert "不能为负数" in messages[(5, "支付金额(元)")]
    assert "草稿" in messages[(9, "项目编码")]
    assert str(caught.value.errors[0]).startswith("第 3 行「项目编码」")
    assert not Payment.objects.exists()
    assert not AuditEvent.objects.filter(action="payments_import").exists()


def test_a_resent_month_replaces_and_never_doubles_when_imported_again(district, projects):
    a, _b = projects
    import_rows(
        kind=PAYMENTS, actor=district.finance, batch=batch([[2021, a.code, "", 1, 100], [2021, a.code, "", 2, 50]])
    )
    result = import_rows(kind=PAYMENTS, actor=district.finance, batch=batch([[2021, a.code, "", 2, 80]]))
    assert result["replaced"] == 1 and result["created"] == 0
    assert paid(a) == {1: Decimal("100.00"), 2: Decimal("80.00")}
    assert Payment.objects.filter(project=a).count() == 2


def test_the_same_file_is_unchanged_and_writes_no_row_when_imported_twice(district, projects):
    a, b = projects
    rows = [[2021, a.code, "", 1, 100], [2021, b.code, "", 3, 70]]
    import_rows(kind=PAYMENTS, actor=district.finance, batch=batch(rows))
    before = list(Payment.objects.values_list("pk", "updated_at"))
    result = import_rows(kind=PAYMENTS, actor=district.finance, batch=batch(rows))
    assert result == {"total": 2, "created": 0, "replaced": 0, "unchanged": 2, "projects": 2}
    assert list(Payment.objects.values_list("pk", "updated_at")) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_is_read_when_exported_as_utf8_bom_or_gbk(district, projects, encoding):
    a, _b = projects
    content = csv_bytes([[2021, a.code, "农田水利建设", 1, "1234.56"]], encoding=encoding)
    result = import_rows(kind=PAYMENTS, actor=district.finance, batch=read_file(PAYMENTS, "p.csv", content))
    assert result["created"] == 1 and paid(a) == {1: Decimal("1234.56")}


def test_english_headers_are_read_when_the_file_uses_them(district, projects):
    a, _b = projects
    rows = batch([[2021, a.code, 4, 10]], header=["Year", "project_code", "Month", "Amount"])
    assert import_rows(kind=PAYMENTS, actor=district.finance, batch=rows)["created"] == 1


def test_header_errors_name_the_missing_columns_when_the_file_is_not_the_format(district):
    with pytest.raises(ExecutionImportRejected) as caught:
        batch([[2021, "X", 1]], header=["年度", "项目编码", "月份"])
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "支付金额(元)")]


def test_plans_are_imported_the_same_way_when_the_plan_format_is_used(district, projects):
    a, _b = projects
    rows = batch([[2021, a.code, m, 100000] for m in range(1, 13)], header=PLAN_HEADER, kind=PLANS)
    assert import_rows(kind=PLANS, actor=district.finance, batch=rows)["created"] == 12
    assert PaymentPlan.objects.filter(project=a).count() == 12
    assert AuditEvent.objects.filter(action="payment_plans_import").count() == 1


def test_import_is_refused_when_the_actor_is_not_the_finance_section(district, projects):
    a, _b = projects
    with pytest.raises(PermissionDenied):
        import_rows(kind=PAYMENTS, actor=district.staff_a, batch=batch([[2021, a.code, "", 1, 1]]))
    with pytest.raises(PermissionDenied):
        import_file_start(
            kind=PAYMENTS,
            actor=district.staff_a,
            file=SimpleUploadedFile("p.xlsx", xlsx_bytes([[2021, a.code, "", 1, 1]])),
        )


def test_upload_runs_as_a_job_with_the_counts_when_the_file_is_good(
    district, projects, django_capture_on_commit_callbacks
):
    a, _b = projects
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file_start(
            kind=PAYMENTS,
            actor=district.finance,
            file=SimpleUploadedFile("p.csv", csv_bytes([[2021, a.code, "", 1, 5]], encoding="gbk")),
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.kind == "payments_import"
    assert job.result["created"] == 1 and job.total == 1 and job.done == 1
    assert Payment.objects.get(project=a).job == job
    assert AuditEvent.objects.get(action="payments_import").detail["job"] == job.pk


def test_the_job_lists_every_error_when_the_file_is_bad(district, projects, django_capture_on_commit_callbacks):
    a, _b = projects
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file_start(
            kind=PAYMENTS,
            actor=district.finance,
            file=SimpleUploadedFile("p.xlsx", xlsx_bytes([[2021, a.code, "", 0, 5], [2021, a.code, "", 1, "x"]])),
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "月份"), (3, "支付金额(元)")]
    assert not Payment.objects.exists()


def test_upload_is_refused_when_not_xlsx_or_csv(district):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        import_file_start(kind=PAYMENTS, actor=district.finance, file=SimpleUploadedFile("p.txt", b"x"))
    with pytest.raises(ValidationError):
        import_file_start(kind=PAYMENTS, actor=district.finance, file=SimpleUploadedFile("p.xlsx", b"not a zip"))
    assert not Job.objects.exists()


def test_each_sample_file_imports_when_its_projects_exist(district):
    """data/samples/ (scripts/execution_samples.py): every sample imports through the
    importer against projects of its codes; the XLSX and the GBK CSV say the same."""
    from pathlib import Path

    from django.conf import settings

    samples = Path(settings.BASE_DIR) / "data" / "samples"
    files = sorted(samples.glob("payment*-2021.*"))
    assert sorted(p.name for p in files) == [
        "payment-plans-2021.csv",
        "payment-plans-2021.xlsx",
        "payments-2021.csv",
        "payments-2021.xlsx",
    ]
    codes = {
        row["项目编码"]
        for path in files
        for row in read_file(execution.kind_of_file(path.name) or PAYMENTS, path.name, path.read_bytes()).rows
    }
    for code in sorted(codes):
        district.project(ProjectStage.EXECUTING, code=code)
    results = {}
    for path in files:
        kind = execution.kind_of_file(path.name) or PAYMENTS
        results[path.name] = import_rows(
            kind=kind, actor=district.finance, batch=read_file(kind, path.name, path.read_bytes()), file_name=path.name
        )
    assert results["payments-2021.csv"]["created"] == 35
    assert results["payments-2021.xlsx"]["unchanged"] == 35  # the same rows as the GBK CSV
    assert results["payment-plans-2021.csv"]["created"] == 36
    assert results["payment-plans-2021.xlsx"]["unchanged"] == 36
    assert Payment.objects.count() == 35 and PaymentPlan.objects.count() == 36
