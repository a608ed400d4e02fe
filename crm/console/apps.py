from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The admins' console: field policy, users, teams, roles, API tokens and the audit log."""

    name = "crm.console"
    label = "console"
    verbose_name = _("Admin console")
