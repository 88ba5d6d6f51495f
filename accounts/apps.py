from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("人员与组织")

    def ready(self) -> None:
        from . import signals  # noqa: F401
