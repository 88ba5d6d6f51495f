"""The nightly import from the drop folder (processes.tasks.import_payment_drops): each new
file imported once and moved to done/ or failed/ with its errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processes.models import AuditEvent, Job, Payment, PaymentPlan
from processes.states import JobStatus, ProjectStage
from processes.tasks import import_payment_drops
from tests.processes.test_execution import PLAN_HEADER, csv_bytes, xlsx_bytes


@pytest.fixture
def drop(settings, tmp_path, district):
    settings.JIXIAO_PAYMENTS_DROP_DIR = str(tmp_path)
    settings.JIXIAO_PAYMENTS_IMPORT_USER = district.finance.username
    return tmp_path


def test_each_file_is_imported_once_and_moved_to_done_or_failed_when_the_task_runs(district, drop):
    project = district.project(ProjectStage.EXECUTING)
    (drop / "payments-2021-06.csv").write_bytes(csv_bytes([[2021, project.code, "", 6, "123.45"]], encoding="gbk"))
    (drop / "payment-plans-2021.xlsx").write_bytes(
        xlsx_bytes([[2021, project.code, m, 10] for m in range(1, 13)], header=PLAN_HEADER)
    )
    (drop / "payments-bad.xlsx").write_bytes(xlsx_bytes([[2021, "NOPE", "", 6, 1]]))
    (drop / "readme.txt").write_text("not a data file")

    outcomes = import_payment_drops()

    assert sorted((o["file"], o["status"]) for o in outcomes) == [
        ("payment-plans-2021.xlsx", "succeeded"),
        ("payments-2021-06.csv", "succeeded"),
        ("payments-bad.xlsx", "failed"),
    ]
    assert Payment.objects.get(project=project).amount == Decimal("123.45")
    assert PaymentPlan.objects.filter(project=project).count() == 12
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["payment-plans-2021.xlsx", "payments-2021-06.csv"]
    assert sorted(p.name for p in (drop / "failed").iterdir()) == ["payments-bad.xlsx", "payments-bad.xlsx.errors.txt"]
    assert "第 2 行「项目编码」" in (drop / "failed" / "payments-bad.xlsx.errors.txt").read_text(encoding="utf-8")
    assert (drop / "readme.txt").exists()
    assert {e.detail["source"] for e in AuditEvent.objects.filter(action__endswith="import")} == {"drop"}
    assert Job.objects.filter(status=JobStatus.SUCCEEDED).count() == 2

    assert import_payment_drops() == []  # nothing new: nothing imported twice
    assert Job.objects.count() == 3


def test_the_task_does_nothing_when_no_folder_is_set(settings, district):
    settings.JIXIAO_PAYMENTS_DROP_DIR = ""
    assert import_payment_drops() is None


def test_the_task_refuses_a_user_who_may_not_import(district, drop, settings):
    settings.JIXIAO_PAYMENTS_IMPORT_USER = district.staff_a.username
    with pytest.raises(ValueError):
        import_payment_drops()
