"""Workflow process records. viewflow owns tasks, owners and due dates; the domain owns state."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.workflow.models import Process


class ProjectProcess(Process):
    """A flow run about one budget project (a real FK, so inboxes can scope by department)."""

    project = models.ForeignKey(
        "processes.BudgetProject",
        verbose_name=_("预算项目"),
        on_delete=models.PROTECT,
        related_name="workflow_processes",
    )

    class Meta:
        verbose_name = _("项目流程")
        verbose_name_plural = pgettext_lazy("plural", "项目流程")


class ProjectProcessRow(models.Model):
    """The child row of a ProjectProcess, for bulk starts only: Django cannot bulk_create a
    multi-table-inherited model, so workflows.bulk writes the parent Process rows, then
    these rows of the same table (docs/decisions/0008-bulk-flow-starts.md)."""

    process_ptr = models.OneToOneField(Process, primary_key=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("processes.BudgetProject", on_delete=models.PROTECT, related_name="+")

    class Meta:
        managed = False
        db_table = "workflows_projectprocess"

    def __str__(self) -> str:
        return f"process {self.process_ptr_id} · project {self.project_id}"


class TaskDue(models.Model):
    """A human task's due time as a real, indexed column: inboxes sort by it, the deadline
    board and the reminder sweep query by it. Written when the task is created (the
    ``due_at`` of its data: settings per task kind, or the date the assigner chose)."""

    task = models.OneToOneField(
        "viewflow.Task", primary_key=True, on_delete=models.CASCADE, related_name="due", verbose_name=_("任务")
    )
    due_at = models.DateTimeField(_("办理期限"), db_index=True)

    class Meta:
        verbose_name = _("任务期限")
        verbose_name_plural = pgettext_lazy("plural", "任务期限")

    def __str__(self) -> str:
        return f"task {self.task_id} · {self.due_at:%Y-%m-%d %H:%M}"


def record_task_due(sender, instance, created: bool, **kwargs) -> None:
    """post_save of a viewflow Task: a new human task with a due time in its data gets its
    TaskDue row (bulk starts write theirs themselves: bulk_create sends no signal)."""
    if not created or instance.flow_task_type != "HUMAN":
        return
    raw = (instance.data or {}).get("due_at")
    if raw:
        from datetime import datetime

        TaskDue.objects.create(task_id=instance.pk, due_at=datetime.fromisoformat(raw))
