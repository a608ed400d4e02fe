from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportState(models.TextChoices):
    CHECKED = "checked", _("Checked (dry run)")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDONE = "undone", _("Undone")


class ImportMode(models.TextChoices):
    UPSERT = "upsert", _("Create or update")
    CREATE = "create", _("Create only")
    UPDATE = "update", _("Update only")
