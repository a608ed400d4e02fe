from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuplicatesConfig(AppConfig):
    """Finding customers entered twice: pairs proposed by a weekly job, reviewed by people."""

    name = "duplicates"
    verbose_name = _("Duplicates")
