from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # A lockout is remembered with its address, so an admin can lift it.
        from axes.signals import user_locked_out

        from .lockouts import remember_lockout

        user_locked_out.connect(remember_lockout, dispatch_uid="crm.accounts.remember_lockout")
