from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskKind(models.TextChoices):
    OVERDUE_PAYMENT = "overdue_payment", _("Overdue payment")
    CANCELLATIONS = "cancellations", _("Order cancellations")
    SATISFACTION_DROP = "satisfaction_drop", _("Satisfaction drop")
    INACTIVITY = "inactivity", _("Inactivity")
    COMPLAINT_SPIKE = "complaint_spike", _("Complaint spike")


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
