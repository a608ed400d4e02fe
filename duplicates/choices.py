from django.db import models
from django.utils.translation import gettext_lazy as _


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("open")
    NOT_DUPLICATE = "not_duplicate", _("not a duplicate")
    MERGED = "merged", _("merged")
