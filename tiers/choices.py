from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.choices import ACTIVE_JOB_STATES, JobState


class ChangeKind(models.TextChoices):
    INITIAL = "initial", _("First grading")
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade")
    OVERRIDE = "override", _("Manual override")
    OVERRIDE_EXPIRED = "override_expired", _("Override expired")
    IMPORTED = "imported", _("Imported")


class ReviewPeriod(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


#: Months between two scheduled evaluations.
PERIOD_MONTHS = {ReviewPeriod.QUARTERLY: 3, ReviewPeriod.HALF_YEARLY: 6, ReviewPeriod.YEARLY: 12}


# A run's state is a background job's.
RunState = JobState
ACTIVE_RUN_STATES = ACTIVE_JOB_STATES


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Started by a manager")
    COMMAND = "command", _("Command")
