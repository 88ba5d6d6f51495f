import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("流程")

    def ready(self) -> None:
        # The embedded default fires the beat schedule from the dev server's serving
        # process (RUN_MAIN is set in the autoreloader's child), never in tests or commands.
        if settings.EMBEDDED_SCHEDULER and os.environ.get("RUN_MAIN") == "true":
            from config.scheduler import start_embedded_scheduler

            start_embedded_scheduler()
