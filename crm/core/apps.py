from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Number and date fields of forms and of the API keep the input rules.
        from .validation import input_rules_install

        input_rules_install()
