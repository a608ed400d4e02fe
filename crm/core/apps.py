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
        # ``field__any_of``: a list of values as one parameter, for prepared statements.
        from django.db.models import Field, ForeignObject

        from .statements import AnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # a relation's lookups are its own
        # What a process keeps between requests is checked once per request.
        from . import generations

        generations.install()
