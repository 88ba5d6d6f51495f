"""The background-job runner: dispatch after commit (Celery eager in tests, or a thread),
claim once, result or errors, and progress written in its own commits — also while the
job's work holds a transaction open (SQLite: remembered until the transaction ends;
PostgreSQL: a side connection, seen at once by another connection)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from accounts.services import RowError
from processes.models import Job
from processes.services.jobs import JOB_KINDS, JobKind, Progress, job_run, job_start
from processes.states import JobStatus
from tests.factories import make_user

#: What the test job functions saw, for assertions about where they ran.
SEEN: dict[str, object] = {}


def counting_job(job: Job, progress: Progress) -> dict:
    progress.start("校验数据", job.params["n"])
    for _ in range(job.params["n"]):
        progress.advance()
    SEEN["thread"] = threading.current_thread().name
    return {"counted": job.params["n"]}


def rejecting_job(job: Job, progress: Progress) -> dict:
    progress.start("校验数据", 3)
    progress.advance(2)
    raise RowsRejected([RowError(2, "一级指标", "未知"), RowError(5, "计量单位", "必须填写")])


def crashing_job(job: Job, progress: Progress) -> dict:
    raise RuntimeError("secret internal detail")


def writing_job(job: Job, progress: Progress) -> dict:
    """Writes in a transaction and reports progress inside it (the SQLite lock case)."""
    progress.start("写入", 4)
    with transaction.atomic():
        for i in range(4):
            make_user("expert", username=f"written{i}")
            progress.advance()
            SEEN.setdefault("inside", []).append(Job.objects.get(pk=job.pk).done)
    return {"written": 4}


class RowsRejected(ValidationError):
    """A refusal that carries row errors, as the import's IndicatorImportRejected does."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__([str(e) for e in errors])


@pytest.fixture
def kinds(monkeypatch):
    SEEN.clear()
    for name in ("counting", "rejecting", "crashing", "writing"):
        monkeypatch.setitem(
            JOB_KINDS,
            f"test_{name}",
            JobKind(function=f"tests.processes.test_jobs.{name}_job", label="测试任务", result_labels={}),
        )


@pytest.fixture
def fast_progress(monkeypatch):
    """Write every step (the throttle's interval is wall-clock time)."""
    monkeypatch.setattr(Progress, "MIN_INTERVAL", 0.0)


def test_job_runs_after_commit_and_records_its_result_when_it_succeeds(
    district, kinds, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_start(kind="test_counting", actor=district.finance, params={"n": 250})
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED  # nothing ran before the commit
    assert len(callbacks) == 1

    callbacks[0]()

    job.refresh_from_db()
    assert (job.status, job.result, job.errors) == (JobStatus.SUCCEEDED, {"counted": 250}, [])
    assert (job.phase, job.done, job.total, job.percent, job.finished) == ("校验数据", 250, 250, 100, True)
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_job_is_not_run_twice_when_delivered_again(district, kinds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_counting", actor=district.finance, params={"n": 1})

    assert job_run(job.pk) is None
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


def test_row_errors_are_kept_when_job_is_rejected(district, kinds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_rejecting", actor=district.finance)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == [
        {"row": 2, "column": "一级指标", "message": "未知"},
        {"row": 5, "column": "计量单位", "message": "必须填写"},
    ]
    assert (job.done, job.total, job.result) == (2, 3, {})


def test_failure_is_recorded_without_its_details_when_job_crashes(
    district, kinds, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_crashing", actor=district.finance)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.finished_at is not None
    [error] = job.errors
    assert error["row"] is None and "任务执行出错" in error["message"]
    assert "secret" not in error["message"]
    assert "secret internal detail" in caplog.text


def test_unknown_kind_is_refused_when_started(district):
    with pytest.raises(ValueError):
        job_start(kind="no_such_kind", actor=district.finance)
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_as_it_goes_when_work_runs_outside_a_transaction(kinds, fast_progress):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    user = make_user("finance_officer")
    job = Job.objects.create(kind="test_counting", created_by=user)
    progress = Progress(job)
    progress.start("校验数据", 1000)

    progress.advance(5)  # below 1 % (10 of 1,000): not written yet
    assert Job.objects.get(pk=job.pk).done == 0
    progress.advance(15)
    assert Job.objects.get(pk=job.pk).done == 20
    progress.advance(980)
    assert Job.objects.values_list("phase", "done", "total").get(pk=job.pk) == ("校验数据", 1000, 1000)


@pytest.mark.django_db(transaction=True)
def test_writing_job_finishes_with_its_progress_when_it_reports_inside_a_transaction(kinds, fast_progress):
    """On SQLite a second connection would wait on the open write transaction: progress
    inside it is remembered and written after, so the job neither blocks nor fails."""
    from accounts.roles import sync_role_groups

    sync_role_groups()
    user = make_user("finance_officer")
    job = Job.objects.create(kind="test_writing", created_by=user)

    started = time.monotonic()
    job = job_run(job.pk)

    assert time.monotonic() - started < 4  # no busy-timeout wait
    assert (job.status, job.result, job.done, job.total) == (JobStatus.SUCCEEDED, {"written": 4}, 4, 4)
    if connection.vendor == "sqlite":
        assert SEEN["inside"] == [0, 0, 0, 0]


@pytest.mark.django_db(transaction=True)
def test_job_runs_in_a_thread_when_jobs_in_thread(kinds, settings):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    settings.JOBS_IN_THREAD = True
    user = make_user("finance_officer")

    job = job_start(kind="test_counting", actor=user, params={"n": 5})

    # Wait for the job's thread itself, not by reading the row meanwhile: the test database
    # is SQLite in memory with a shared cache, where a read in progress makes the thread's
    # write fail at once ("database table is locked") instead of waiting for it.
    runner = next((t for t in threading.enumerate() if t.name == f"job-{job.pk}"), None)
    if runner is not None:
        runner.join(timeout=30)
        assert not runner.is_alive()
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"counted": 5})
    assert SEEN["thread"] == f"job-{job.pk}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_another_connection_while_the_work_holds_a_transaction(kinds, fast_progress):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    user = make_user("finance_officer")
    job = Job.objects.create(kind="test_writing", created_by=user)
    reader = connections.create_connection("default")
    progress = Progress(job)
    try:
        with transaction.atomic():
            make_user("expert", username="inside")
            progress.start("写入", 10)
            progress.advance(5)
            with reader.cursor() as cursor:
                cursor.execute("SELECT done, total FROM processes_job WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (5, 10)
    finally:
        progress.close()
        reader.close()
