"""Choices shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    """Where a background job (a tier evaluation, a risk scan) stands."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


ACTIVE_JOB_STATES = (JobState.QUEUED, JobState.RUNNING)


class Region(models.TextChoices):
    """The administrative macro-regions of China, plus one for everywhere else."""

    NORTH = "north", _("North China")
    NORTHEAST = "northeast", _("Northeast China")
    EAST = "east", _("East China")
    CENTRAL = "central", _("Central China")
    SOUTH = "south", _("South China")
    SOUTHWEST = "southwest", _("Southwest China")
    NORTHWEST = "northwest", _("Northwest China")
    HK_MO_TW = "hk_mo_tw", _("Hong Kong, Macao & Taiwan")
    OVERSEAS = "overseas", _("Overseas")
