from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")
    INTEGRATION = "integration", _("Integration")
