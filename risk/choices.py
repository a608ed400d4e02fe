from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.choices import ACTIVE_JOB_STATES, JobState

from . import kinds

#: The kinds of rule, made from the modules of ``risk.kinds`` (one module per kind).
RiskKind: type[models.TextChoices] = models.TextChoices(  # type: ignore[call-overload]
    "RiskKind", [(kind.code.upper(), (kind.code, kind.label)) for kind in kinds.LISTED]
)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


#: Severities from the least to the most urgent.
SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)

#: Severities whose new alerts are sent to the assignee at once (in-app and by e-mail).
URGENT_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)

#: Hours to act on an alert, by severity, unless the risk settings say otherwise.
DEFAULT_SLA_HOURS = {Severity.CRITICAL: 4, Severity.HIGH: 24, Severity.MEDIUM: 72, Severity.LOW: 168}


# A scan's state is a background job's.
ScanState = JobState
ACTIVE_SCAN_STATES = ACTIVE_JOB_STATES


class ScanTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Manual")
    COMMAND = "command", _("Command")
