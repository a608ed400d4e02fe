from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FieldLevel(models.TextChoices):
    """What a role may do with one field, from least to most."""

    HIDDEN = "hidden", _("Hidden")
    MASKED = "masked", _("Masked")
    READ = "read", _("Read")
    PROPOSE = "propose", _("Propose")
    WRITE = "write", _("Write")


class ChangeStatus(models.TextChoices):
    """Where a change request stands: pending until a manager decides, or the requester withdraws it."""

    PENDING = "pending", pgettext_lazy("change request", "Pending")
    APPROVED = "approved", pgettext_lazy("change request", "Approved")
    REJECTED = "rejected", pgettext_lazy("change request", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("change request", "Withdrawn")
