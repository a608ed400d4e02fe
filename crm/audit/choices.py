from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    BULK = "bulk", _("Bulk operation")
    REVEAL = "reveal", _("Reveal")
    EXPORT = "export", _("Export")
    MERGE = "merge", _("Merge")
    UNMERGE = "unmerge", _("Unmerge")


class Source(models.TextChoices):
    API = "api", _("API")
    UI = "ui", _("Web UI")
    ADMIN = "admin", _("Admin site")
    COMMAND = "command", _("Management command")
    TASK = "task", _("Background task")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")
