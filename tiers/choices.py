from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeKind(models.TextChoices):
    INITIAL = "initial", _("First grading")
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade")
    OVERRIDE = "override", _("Manual override")
    OVERRIDE_EXPIRED = "override_expired", _("Override expired")
