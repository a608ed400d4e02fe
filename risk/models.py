"""Risk rules (what to watch, how bad it is, what to do) and the alerts they raise."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel

from .choices import AlertStatus, RiskKind, Severity


class RiskRule(VersionedModel):
    """A condition to watch for on every customer, with its severity and response playbook.

    ``params`` hold the thresholds of the rule's kind (e.g. ``{"days_overdue": 30}``).
    """

    scope_path: ClassVar[str | None] = None

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=RiskKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    playbook = models.TextField(_("response strategy"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class RiskAlert(VersionedModel):
    """One risk found on one customer, and the work to answer it.

    At most one alert is open (open or acknowledged) per customer, rule and subject, so
    a rerun of the scan never raises the same alert twice.
    """

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="risk_alerts"
    )
    rule = models.ForeignKey(RiskRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts")
    subject = models.CharField(
        _("subject"), max_length=100, blank=True, help_text=_("What the alert is about, e.g. the order reference.")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(_("title"), max_length=200)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    recommended_action = models.TextField(_("recommended action"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_alerts",
    )
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        verbose_name = _("risk alert")
        verbose_name_plural = _("risk alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "rule", "subject"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="riskalert_one_open_per_subject",
                violation_error_message=_("An open alert already exists for this customer, rule and subject."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="riskalert_status_severity"),
            models.Index(fields=["assignee", "status"], name="riskalert_assignee_status"),
            models.Index(fields=["customer", "status"], name="riskalert_customer_status"),
        ]

    def __str__(self) -> str:
        return self.title
