"""Risk rules (what to watch, how bad it is, what to do) and the alerts they raise."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.jobs import LAST_ID
from crm.core.localized import localized, localized_property
from crm.core.models import BackgroundJob, JobPart, VersionedModel
from customers.models import CustomerScopeCopy

from .choices import DEFAULT_SLA_HOURS, AlertStatus, RiskKind, ScanTrigger, Severity


class RiskRule(VersionedModel):
    """A condition to watch for on every customer, with its severity and response playbook.

    ``params`` hold the thresholds of the rule's kind (e.g. ``{"days_overdue": 30}``).
    The name and the playbook are written in Chinese and in English (``name_zh``,
    ``name_en`` ...); ``name`` and ``playbook`` read the reader's language, falling back
    to the other (``crm.core.localized``).
    """

    scope_path: ClassVar[str | None] = None

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=RiskKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # [[from, severity], ...] rising on the rule's measure (days overdue, cancelled orders,
    # CSAT points lost, times the usual gap, complaints): the last level reached sets the
    # alert's severity; below the first, ``severity`` does.
    severity_levels = models.JSONField(_("severity by measure"), default=list, blank=True)
    playbook_zh = models.TextField(_("response strategy (Chinese)"), blank=True)
    playbook_en = models.TextField(_("response strategy (English)"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    tiers = models.ManyToManyField(
        "tiers.Tier",
        verbose_name=_("only for tiers"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to watch every customer."),
    )

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name_zh="") | ~Q(name_en=""),
                name="riskrule_named",
                violation_error_message=_("Give the rule a name in Chinese or in English."),
            )
        ]

    name = localized_property("name")
    playbook = localized_property("playbook")

    def __str__(self) -> str:
        return str(self.name)


class RiskAlert(CustomerScopeCopy, VersionedModel):
    """One risk found on one customer, and the work to answer it.

    At most one alert is open (open or acknowledged) per customer, rule and subject, so
    a rerun of the scan never raises the same alert twice.
    """

    scope_path: ClassVar[str | None] = "customer"
    #: What the alert is about is fixed once it is raised (crm.access.writes): a risk
    #: elsewhere is another alert.
    fixed_fields: ClassVar[tuple[str, ...]] = ("customer", "rule", "subject", "transaction", "scan")

    # A scan writes thousands of alerts a day, each row costing one entry per index: only
    # what is looked up is indexed.  Alerts are listed by when they were raised, never by
    # when the row was created.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Customer, rule and assignee are looked up through the composite indexes below (each
    # leads with one of them): no single-column index of their own to keep up on writes.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="risk_alerts",
        db_index=False,
    )
    rule = models.ForeignKey(
        RiskRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    subject = models.CharField(
        _("subject"), max_length=100, blank=True, help_text=_("What the alert is about, e.g. the order reference.")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    # Empty unless someone wrote the alert's own: the rule's name (and its playbook, for
    # ``recommended_action``) in the reader's language stands in (``display_title``).
    title = models.CharField(_("title"), max_length=200, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    recommended_action = models.TextField(_("recommended action"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_alerts",
        db_index=False,
    )
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    transaction = models.ForeignKey(
        "transactions.Transaction",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_alerts",
        help_text=_("The order the alert is about, for an overdue payment."),
    )
    due_at = models.DateTimeField(_("act by"), null=True, blank=True, help_text=_("From the severity's SLA."))
    # Never looked up by scan (and scans, the scan history, are never deleted): no index.
    scan = models.ForeignKey(
        "risk.RiskScan",
        verbose_name=_("raised by scan"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
    )
    auto_resolved = models.BooleanField(
        _("resolved by the scan"), default=False, help_text=_("The condition cleared (e.g. the order was paid).")
    )
    # When the assignee was last told (in-app and e-mail).  ``to_tell`` marks an alert that
    # became urgent (raised high or critical, or escalated to it) and whose assignee has not
    # been told yet; telling clears it in the same transaction that stores the message, so
    # a retried scan or task never tells twice.
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    to_tell = models.BooleanField(_("to be told"), default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("risk alert")
        verbose_name_plural = _("risk alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                # The rule first: a scan reads one rule's open alerts as one range of the
                # index.  What the comparison needs is carried in the index, so that the
                # scan never reads the alerts themselves.
                fields=["rule", "customer", "subject"],
                condition=Q(status__in=["open", "acknowledged"]),
                include=["id", "severity", "scan", "transaction"],
                name="riskalert_one_open_per_subject",
                violation_error_message=_("An open alert already exists for this customer, rule and subject."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="riskalert_status_severity"),
            models.Index(fields=["assignee", "status"], name="riskalert_assignee_status"),
            models.Index(fields=["customer", "status"], name="riskalert_customer_status"),
            models.Index(fields=["rule", "status"], name="riskalert_rule_status"),
            # The few alerts waiting to be told about: each scan reads only these.
            models.Index(fields=["assignee"], condition=Q(to_tell=True), name="riskalert_to_tell"),
        ]

    def __str__(self) -> str:
        return str(self.display_title)

    @property
    def display_title(self) -> str:
        """The title written for this alert, else its rule's name in the reader's language."""
        return self.title or localized(self.rule, "name") or ""

    @property
    def display_action(self) -> str:
        """What to do: the action written for this alert, else its rule's playbook in the
        reader's language (a scan leaves both to the rule, so an edited playbook reaches
        the open alerts)."""
        return self.recommended_action or localized(self.rule, "playbook") or ""

    # The pages show a field through ``get_<field>_display`` (crm.access.display).
    def get_title_display(self) -> str:
        return self.display_title

    def get_recommended_action_display(self) -> str:
        return self.display_action


class AlertComment(models.Model):
    """A note on an alert: what was done, what the customer said.  Comments are kept, never
    edited, so the alert's story stays as it was told."""

    scope_path: ClassVar[str | None] = "alert__customer"

    alert = models.ForeignKey(RiskAlert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert comment")
        verbose_name_plural = _("alert comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class RiskSettings(VersionedModel):
    """When the daily scan runs and how long each severity gives to act (one row)."""

    scope_path: ClassVar[str | None] = None

    singleton = models.BooleanField(_("single settings row"), default=True, editable=False, unique=True)
    scan_time = models.TimeField(_("daily scan at"), default=dt.time(6, 0))
    sla_hours = models.JSONField(_("hours to act, by severity"), default=dict, blank=True)
    digest_enabled = models.BooleanField(_("daily digest to each assignee"), default=True)

    class Meta:
        verbose_name = _("risk settings")
        verbose_name_plural = _("risk settings")

    def __str__(self) -> str:
        return str(_("Risk settings"))

    @classmethod
    def current(cls) -> RiskSettings:
        settings_row, _created = cls.objects.get_or_create(singleton=True)
        return settings_row

    def sla_for(self, severity: str) -> dt.timedelta:
        hours = (self.sla_hours or {}).get(severity) or DEFAULT_SLA_HOURS.get(severity, 72)  # type: ignore[call-overload]
        return dt.timedelta(hours=float(hours))


class RiskScan(BackgroundJob):
    """One pass of every enabled rule over every customer; its summary adds up the rules.
    At most one scan is queued or running at a time."""

    trigger = models.CharField(_("started by"), max_length=10, choices=ScanTrigger.choices)
    as_of = models.DateTimeField(_("scanned as of"))

    class Meta(BackgroundJob.Meta):
        verbose_name = _("risk scan")
        verbose_name_plural = _("risk scans")
        constraints = [
            models.UniqueConstraint(
                fields=["singleton"],
                condition=Q(state__in=["queued", "running"]),
                name="one_active_risk_scan",
                violation_error_message=_("A risk scan is running already."),
            )
        ]


class RiskScanStep(JobPart):
    """One rule of one scan, for every customer or for a range of them, applied in one
    transaction that also marks it done: a scan retried after its worker died skips the
    steps already applied.

    It records what the next scan needs to look only at what changed since: the rule as
    it was applied (``fingerprint``), whether every customer was compared (``full``) and
    the oldest transaction still running when it read the data (``read_horizon``): changes
    logged by that transaction or a later one are looked at again next time."""

    job_field = "scan"

    scan = models.ForeignKey(RiskScan, verbose_name=_("risk scan"), on_delete=models.CASCADE, related_name="steps")
    rule = models.ForeignKey(RiskRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="+")
    # The customers the step covers (ids, inclusive): every one, or a range of them for a
    # rule applied in parts that the workers share.
    first_id = models.BigIntegerField(_("first customer id"), default=0)
    last_id = models.BigIntegerField(_("last customer id"), default=LAST_ID)
    full = models.BooleanField(_("every customer compared"), default=False)
    fingerprint = models.CharField(_("rule as applied"), max_length=64, blank=True)
    read_horizon = models.BigIntegerField(_("changes read up to"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk scan step")
        verbose_name_plural = _("risk scan steps")
        ordering = ["scan", "rule", "first_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "rule", "first_id"],
                name="risk_scan_step_unique",
                violation_error_message=_("This step of the risk scan exists already."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.scan_id}/{self.rule_id}/{self.first_id}"


class RiskChange(models.Model):
    """A customer whose risk may have changed: database triggers log one row per customer
    whenever a statement writes its orders, satisfaction answers, feedback, tier or
    lifecycle stage, or (outside a scan) its alerts.  A scan compares only these
    customers, and those whose figures crossed a threshold with the passing of time,
    instead of every customer.  Rows are dropped once every rule has read them."""

    scope_path: ClassVar[str | None] = None

    id = models.BigAutoField(primary_key=True)
    customer_id = models.BigIntegerField(_("customer"))
    # order, answer, feedback, customer (tier or stage) or alert: a rule reads only the
    # changes that can move its findings.
    source = models.CharField(_("what changed"), max_length=10)
    # The writing transaction's id (``pg_current_xact_id()``), set by the trigger.
    txid = models.BigIntegerField(_("transaction"), db_index=True)

    class Meta:
        verbose_name = _("risk change")
        verbose_name_plural = _("risk changes")

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.txid}"
