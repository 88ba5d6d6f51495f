"""Background jobs (后台任务): the one writer of Job. Start a long action, run it off the
request, and let its starter watch the progress.

A job kind names a function ``fn(job, progress) -> dict`` (JOB_KINDS). ``job_start``
stores the Job (and its uploaded file) and dispatches it once the starting transaction
commits: in a daemon thread of the web process when ``settings.JOBS_IN_THREAD`` (the
embedded default, no broker), else as the Celery task ``processes.tasks.run_job``
(eager, hence inline, in tests). ``job_run`` claims the job once (queued → running),
calls the function and records ``result`` (succeeded) or ``errors`` (failed).

Progress and transactions
-------------------------
``progress.start(phase, total)`` and ``progress.advance(n)`` write ``phase``/``done``/
``total`` to the Job row in their own commit, throttled (at most once per 1 % of the
total, and not more often than every 0.2 s; at least once a second while it moves), so
the page polling ``/jobs/<pk>/progress/`` sees them while the work goes on. How that
write commits depends on where the work is:

- **Outside a transaction** (the runner never opens one around the function) the UPDATE
  autocommits on the job's own connection. A job function should therefore do its long
  part — reading, checking every row, computing — outside any transaction, reporting
  progress as it goes, and then write everything in one short ``transaction.atomic()``.
- **Inside a transaction on PostgreSQL** (and any server database) the UPDATE goes through
  a second connection of its own, in autocommit, so it is visible at once. The job row
  was committed before the job started and the runner never writes it inside the
  function's transaction, so the two connections never wait on each other; a lock
  timeout guards the rule anyway (on timeout the side connection is dropped and progress
  is kept as below).
- **Inside a transaction on SQLite** a second connection would wait for the write lock
  the open transaction holds (and fail with "database is locked" after the busy
  timeout), so the progress is only remembered; it is written as soon as the function
  reports progress outside the transaction again, and in any case by the runner's final
  write. This is why the write phase should be the short one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connections, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..errors import ActionNotAllowed
from ..models import Job
from ..states import JobStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

logger = logging.getLogger("jixiao.jobs")


@dataclass(frozen=True)
class JobKind:
    """What a kind of job runs and how its page presents it.

    ``function`` is the dotted path of ``fn(job, progress) -> dict`` (imported when the job
    runs, so a kind may live in any app without an import cycle). ``result_labels`` name
    the result's keys on the job page, in order; ``return_url`` is the URL name the page
    links back to."""

    function: str
    label: StrOrPromise
    result_labels: dict[str, StrOrPromise] = field(default_factory=dict)
    return_url: str = ""


#: Every kind of job, by the name stored in Job.kind.
JOB_KINDS: dict[str, JobKind] = {
    "indicator_import": JobKind(
        function="processes.services.indicators.indicator_import_job",
        label=gettext_lazy("导入绩效指标库"),
        result_labels={
            "total": gettext_lazy("数据行"),
            "created": gettext_lazy("新增"),
            "updated": gettext_lazy("更新"),
            "unchanged": gettext_lazy("未变"),
        },
        return_url="processes:indicator_list",
    ),
    # 支付数据 and 资金支付计划 from the budget system (processes.services.execution)
    **{
        kind: JobKind(
            function=f"processes.services.execution.{kind}_job",
            label=label,
            result_labels={
                "total": gettext_lazy("数据行"),
                "created": gettext_lazy("新增"),
                "replaced": gettext_lazy("替换"),
                "unchanged": gettext_lazy("未变"),
                "projects": gettext_lazy("涉及项目"),
            },
            return_url="workflows:execution_import",
        )
        for kind, label in (
            ("payments_import", gettext_lazy("导入支付数据")),
            ("payment_plans_import", gettext_lazy("导入资金支付计划")),
        )
    },
    "budget_import": JobKind(
        function="processes.services.budget_import.budget_import_job",
        label=gettext_lazy("导入预算编制项目"),
        result_labels={
            "total": gettext_lazy("数据行"),
            "created": gettext_lazy("新建草稿"),
            "updated": gettext_lazy("更新草稿"),
            "unchanged": gettext_lazy("未变"),
        },
        return_url="workflows:budget_import",
    ),
}

JobFunction = Callable[[Job, "Progress"], dict | None]


def job_kind(kind: str) -> JobKind:
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}") from None


# -- progress ---------------------------------------------------------------------------


class Progress:
    """How far a job got, written to its row in commits of its own (see the module's
    docstring for how that works inside a transaction). Not thread-safe: one job, one
    progress, used by the thread running the job."""

    #: Never write more often than this (seconds) …
    MIN_INTERVAL = 0.2
    #: … but write at least this often while the count moves.
    MAX_INTERVAL = 1.0
    #: The count step when the total is unknown (0).
    STEP_WITHOUT_TOTAL = 200

    def __init__(self, job: Job, *, using: str = "default"):
        self.job_id = job.pk
        self.using = using
        self.phase = job.phase
        self.total = job.total
        self.done = job.done
        self._written = (self.phase, self.total, self.done)
        self._written_at = 0.0
        self._side: Any = None
        self._side_failed = False

    # -- what a job function calls

    def start(self, phase: str, total: int) -> None:
        """A new phase (a message id, e.g. gettext_noop("校验")) of ``total`` items (0: unknown)."""
        self.phase, self.total, self.done = phase, max(int(total), 0), 0
        self._write()

    def advance(self, n: int = 1) -> None:
        """``n`` more items of the current phase are done."""
        self.done += n
        if self.total and self.done >= self.total:
            self._write()
            return
        step = max(1, self.total // 100) if self.total else self.STEP_WITHOUT_TOTAL
        since = time.monotonic() - self._written_at
        moved = self.done - self._written[2]
        if (moved >= step and since >= self.MIN_INTERVAL) or (moved > 0 and since >= self.MAX_INTERVAL):
            self._write()

    # -- the runner's

    @property
    def fields(self) -> dict[str, Any]:
        done = min(self.done, self.total) if self.total else self.done
        return {"phase": self.phase, "total": self.total, "done": done}

    def close(self) -> None:
        if self._side is not None:
            try:
                self._side.close()
            finally:
                self._side = None

    # -- writing

    def _write(self) -> None:
        state = (self.phase, self.total, self.done)
        if state == self._written:
            return
        connection = connections[self.using]
        if not connection.in_atomic_block:
            Job.objects.using(self.using).filter(pk=self.job_id).update(**self.fields)
        elif connection.vendor == "sqlite" or not self._side_write():
            return  # remembered; written by the next write outside the transaction, or at the end
        self._written = state
        self._written_at = time.monotonic()

    def _side_write(self) -> bool:
        """UPDATE through a connection of our own (autocommit). False if that is not possible."""
        if self._side_failed:
            return False
        try:
            if self._side is None:
                self._side = connections.create_connection(self.using)
                if self._side.vendor == "postgresql":
                    with self._side.cursor() as cursor:
                        cursor.execute("SET lock_timeout = '2s'")
            ops = self._side.ops
            fields = self.fields
            assignments = ", ".join(f"{ops.quote_name(name)} = %s" for name in fields)
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ops.quote_name(Job._meta.db_table)} SET {assignments} WHERE {ops.quote_name('id')} = %s",
                    [*fields.values(), self.job_id],
                )
            return True
        except DatabaseError:
            logger.warning("job %s: progress side connection failed; progress kept until the end", self.job_id)
            self._side_failed = True
            self.close()
            return False


class NoProgress(Progress):
    """Progress of work that nobody watches (a direct call, the demo loader)."""

    def __init__(self) -> None:
        self.phase, self.total, self.done = "", 0, 0

    def start(self, phase: str, total: int) -> None:
        self.phase, self.total, self.done = phase, total, 0

    def advance(self, n: int = 1) -> None:
        self.done += n

    def close(self) -> None:
        pass


# -- starting and running ---------------------------------------------------------------


@transaction.atomic
def job_start(
    *, kind: str, actor: User, params: dict | None = None, file: File | None = None, dispatch: bool = True
) -> Job:
    """Queue a job of ``kind`` for ``actor`` and dispatch it when this transaction commits.

    ``file`` (an upload) is stored with the job in the private storage
    (PRIVATE_MEDIA_ROOT/jobs/<year>/, never served; processes.files), so a worker on
    another host needs the same private storage. The caller checks the actor's right to
    start this kind and the file's content. Raises ValueError for an unknown kind.
    With ``dispatch=False`` the job is only stored: the caller runs it itself with
    ``job_run`` (the nightly drop-folder import, which must know the outcome).
    """
    job_kind(kind)
    job = Job(kind=kind, created_by=actor, params=_json_safe(params or {}))
    if file is not None:
        job.file.save(Path(file.name or "upload").name, file, save=False)
    job.save()
    job_id = job.pk
    if dispatch:
        transaction.on_commit(lambda: _dispatch(job_id), robust=True)
    return job


def _dispatch(job_id: int) -> None:
    if settings.JOBS_IN_THREAD:
        threading.Thread(target=_run_in_thread, args=(job_id,), name=f"job-{job_id}", daemon=True).start()
    else:
        from ..tasks import run_job

        run_job.delay(job_id)


def _run_in_thread(job_id: int) -> None:
    try:
        job_run(job_id)
    finally:
        connections.close_all()  # this thread's connections only: they are per thread


def job_run(job_id: int) -> Job | None:
    """Run a queued job once: claim it (queued → running), call its function, record the
    result or the errors. A job that is not queued (already claimed by another worker, or
    finished) is left alone and None is returned. Never raises for the function's failure:
    the failure is the job's outcome."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        logger.info("job %s is not queued; not run again", job_id)
        return None
    job = Job.objects.select_related("created_by").get(pk=job_id)
    progress = Progress(job)
    outcome: dict[str, Any]
    with translation.override(job.created_by.language):
        try:
            function: JobFunction = import_string(job_kind(job.kind).function)
            result = function(job, progress)
        except Exception as exc:  # the runner records every failure as the job's outcome
            outcome = {"status": JobStatus.FAILED, "errors": job_errors(exc, job)}
        else:
            outcome = {"status": JobStatus.SUCCEEDED, "result": _json_safe(result or {})}
        finally:
            progress.close()
    Job.objects.filter(pk=job_id).update(**outcome, **progress.fields, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def job_errors(exc: BaseException, job: Job | None = None) -> list[dict[str, Any]]:
    """A failure as the job page's error table: rows of {row, column, message}.

    A ValidationError carrying ``errors`` (RowError-like: row, column, message) keeps them
    all; another ValidationError gives its messages (the field as the column); a refusal
    (PermissionDenied, ActionNotAllowed) its message; anything else is logged and shown
    as an internal error, without its details.
    """
    rows = getattr(exc, "errors", None)
    if isinstance(exc, ValidationError):
        if isinstance(rows, list) and all(hasattr(r, "row") and hasattr(r, "message") for r in rows):
            return [{"row": r.row, "column": getattr(r, "column", ""), "message": str(r.message)} for r in rows]
        if hasattr(exc, "error_dict"):
            return [
                {"row": None, "column": "" if name == "__all__" else name, "message": message}
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        return [{"row": None, "column": "", "message": message} for message in exc.messages]
    if isinstance(exc, ActionNotAllowed):
        return [{"row": None, "column": "", "message": str(exc.message)}]
    if isinstance(exc, PermissionDenied):
        return [{"row": None, "column": "", "message": str(exc) or _("您没有权限执行此操作。")}]
    logger.exception("job %s (%s) failed", getattr(job, "pk", None), getattr(job, "kind", ""), exc_info=exc)
    return [{"row": None, "column": "", "message": _("任务执行出错，请稍后重试或联系系统管理员。")}]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))
