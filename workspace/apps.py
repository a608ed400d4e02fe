from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The pages a sales team works in all day, combining every app: My day, the customer
    list and the customer 360 page."""

    name = "workspace"
    verbose_name = _("Workspace")
