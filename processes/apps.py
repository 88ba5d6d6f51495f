from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("预算绩效业务")

    def ready(self) -> None:
        from . import account_audit

        account_audit.connect()  # account events (accounts.signals) into the audit trail

        from . import converters

        converters.register()
