import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("流程")

    def ready(self) -> None:
        from django.db.models.signals import post_save
        from viewflow.workflow.models import Task

        from processes.services.jobs import JOB_KINDS, JobKind

        from .models import record_task_due

        # Every human task's due time also goes into an indexed column (TaskDue).
        post_save.connect(record_task_due, sender=Task, dispatch_uid="workflows.record_task_due")

        # Every flow task moves with its domain transition, whoever calls the service.
        from .steps import register_all

        register_all()

        # Open flow tasks are reminded of (and, per settings, escalated) by the reminder sweep.
        from processes.services.reminders import PROVIDERS

        from .reminders import open_tasks_due

        if open_tasks_due not in PROVIDERS:
            PROVIDERS.append(open_tasks_due)

        # Long actions of the flows, run by the background-job runner (processes.services.jobs).
        JOB_KINDS["monitoring_round_open"] = JobKind(
            function="workflows.services.monitoring_round_job",
            label=_("发起绩效运行监控"),
            result_labels={"created": _("新生成报告"), "already": _("已在本轮中")},
            return_url="workflows:monitoring_rounds",
        )
        JOB_KINDS["evaluation_campaign_launch"] = JobKind(
            function="workflows.services.campaign_job",
            label=_("发起绩效自评"),
            result_labels={"created": _("新生成自评任务"), "already": _("已在自评中")},
            return_url="workflows:evaluations",
        )
        # 批量办理: each bulk action and its job kind (workflows/bulk_kinds.py).
        from .bulk_kinds import register as register_bulk_actions

        register_bulk_actions()
        from .bulk_finance import register as register_finance_bulk_actions

        register_finance_bulk_actions()
        # The embedded default fires the beat schedule from the dev server's serving
        # process (RUN_MAIN is set in the autoreloader's child), never in tests or commands.
        if settings.EMBEDDED_SCHEDULER and os.environ.get("RUN_MAIN") == "true":
            from config.scheduler import start_embedded_scheduler

            start_embedded_scheduler()
