from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Bringing spreadsheets in: customers, contacts, orders … checked in a dry run,
    then written through each app's services."""

    name = "imports"
    verbose_name = _("Imports")
