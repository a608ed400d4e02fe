from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldLevel(models.TextChoices):
    """What a role may do with one field, from least to most."""

    HIDDEN = "hidden", _("Hidden")
    MASKED = "masked", _("Masked")
    READ = "read", _("Read")
    WRITE = "write", _("Write")
