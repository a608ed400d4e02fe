"""Reads of risk rules and alerts, from the record scope.

Open alerts are worked in groups: the alerts of one rule on one customer are one line
(the worst severity, how many, the earliest deadline), opened to show the alerts and
their orders.  Grouping is one ``GROUP BY`` statement, paged like any list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import role_of
from crm.access.scope import scoped_queryset
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.core.errors import DomainError
from crm.core.validation import parse_id

from .choices import OPEN_STATUSES, SEVERITY_ORDER, AlertStatus, Severity
from .models import RiskAlert, RiskRule, RiskScan, RiskSettings


def risk_rule_list(*, user: Any) -> QuerySet[RiskRule]:
    return scoped_queryset(RiskRule, user).prefetch_related("tiers")


def risk_alert_list(*, user: Any) -> QuerySet[RiskAlert]:
    return scoped_queryset(RiskAlert, user).select_related("customer", "rule", "assignee")


def scan_due(now: Any = None) -> bool:
    """The daily scan is due once today's scan time (business time zone) has passed and
    no scan has been started since."""
    now = timezone.localtime(now or timezone.now())
    scan_time = RiskSettings.current().scan_time
    at = now.replace(hour=scan_time.hour, minute=scan_time.minute, second=0, microsecond=0)
    return now >= at and not RiskScan.objects.filter(created_at__gte=at).exists()


#: Severity as a number, the most urgent highest: groups keep their worst.
SEVERITY_RANK = Case(
    *(When(severity=severity, then=Value(rank)) for rank, severity in enumerate(SEVERITY_ORDER)),
    output_field=IntegerField(),
)

#: Orders of the grouped alerts, by the inbox's sort keys.
GROUP_SORTS: dict[str, tuple[Any, ...]] = {
    "urgency": ("-worst_rank", F("earliest_due").asc(nulls_last=True), "customer_id", "rule_id"),
    "due": (F("earliest_due").asc(nulls_last=True), "-worst_rank", "customer_id", "rule_id"),
    "raised": ("-latest_raised", "customer_id", "rule_id"),
    "customer": ("customer_name", "customer_id", "rule_id"),
}


@dataclass
class AlertGroup:
    """The alerts of one rule on one customer: one line of work, with the worst severity,
    how many alerts, the earliest deadline and (once filled in) the alerts themselves."""

    customer_id: int
    rule_id: int
    worst: str
    count: int
    open_count: int
    earliest_due: dt.datetime | None
    latest_raised: dt.datetime
    customer_name: str
    rule_name: str
    alerts: list[RiskAlert] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.customer_id}-{self.rule_id}"

    @property
    def first(self) -> RiskAlert | None:
        return self.alerts[0] if self.alerts else None

    @property
    def worst_label(self) -> str:
        return str(Severity(self.worst).label)

    @property
    def unacknowledged(self) -> bool:
        return any(alert.status == AlertStatus.OPEN for alert in self.alerts)

    @property
    def open_alerts(self) -> list[RiskAlert]:
        return [alert for alert in self.alerts if alert.status in OPEN_STATUSES]

    @property
    def versions(self) -> str:
        """The open alerts as ``id:version`` pairs, for a group action to name exactly the
        alerts the page showed (``parse_versions``)."""
        return ",".join(f"{alert.pk}:{alert.version}" for alert in self.open_alerts)

    @property
    def assignees(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for alert in self.alerts:
            if alert.assignee_id is not None and alert.assignee_id not in seen:
                seen[alert.assignee_id] = alert.assignee
        return list(seen.values())

    @property
    def breached(self) -> bool:
        return bool(self.open_count and self.earliest_due and self.earliest_due < timezone.now())


def risk_alert_groups(*, alerts: QuerySet[RiskAlert], sort: str = "urgency") -> QuerySet[Any]:
    """The alerts grouped by customer and rule, one row each (a dict of the fields of
    :class:`AlertGroup` but the alerts and, unless sorted by customer, the names), in one
    ``GROUP BY`` statement: a customer with five late invoices is one line of work, not
    five.  Page it like any queryset; :func:`risk_alert_group_fill` names the groups of
    a page (reading every grouped alert's customer to name the groups of all the pages
    would cost a look-up per open alert)."""
    names = {"customer_name": Min("customer__name")} if sort == "customer" else {}
    return (
        alerts.order_by()
        .values("customer_id", "rule_id")
        .annotate(
            worst_rank=Max(SEVERITY_RANK),
            count=Count("id"),
            open_count=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            earliest_due=Min("due_at", filter=Q(status__in=OPEN_STATUSES)),
            latest_raised=Max("raised_at"),
            **names,
        )
        .order_by(*GROUP_SORTS.get(sort, GROUP_SORTS["urgency"]))
    )


def risk_alert_group_fill(*, alerts: QuerySet[RiskAlert], rows: Iterable[dict[str, Any]]) -> list[AlertGroup]:
    """The groups of ``rows`` (from :func:`risk_alert_groups`) with their alerts, the most
    severe first, each with its customer, rule, assignee and order: one query for every
    group of the page."""
    groups = [
        AlertGroup(
            customer_id=row["customer_id"], rule_id=row["rule_id"], worst=SEVERITY_ORDER[row["worst_rank"]],
            count=row["count"], open_count=row["open_count"], earliest_due=row["earliest_due"],
            latest_raised=row["latest_raised"], customer_name="", rule_name="",
        )
        for row in rows
    ]  # fmt: skip
    if not groups:
        return groups
    by_key = {(group.customer_id, group.rule_id): group for group in groups}
    pairs = Q()
    for customer_id, rule_id in by_key:
        pairs |= Q(customer_id=customer_id, rule_id=rule_id)
    members = (
        alerts.filter(pairs)
        .select_related("customer", "rule", "assignee", "transaction")
        .annotate(rank=SEVERITY_RANK)
        .order_by("-rank", F("due_at").asc(nulls_last=True), "id")
    )
    for alert in members:
        group = by_key[(alert.customer_id, alert.rule_id)]
        if not group.alerts:
            group.customer_name, group.rule_name = alert.customer.name, str(alert.rule.name)
        group.alerts.append(alert)
    return groups


def risk_alert_open_groups(
    *, user: Any, alerts: QuerySet[RiskAlert] | None = None, limit: int = 20
) -> list[AlertGroup]:
    """The user's open alerts (or those of ``alerts``), grouped, most urgent first: two
    queries whatever their number."""
    alerts = (alerts if alerts is not None else risk_alert_list(user=user)).filter(status__in=OPEN_STATUSES)
    return risk_alert_group_fill(alerts=alerts, rows=list(risk_alert_groups(alerts=alerts)[:limit]))


def parse_versions(values: Iterable[str]) -> dict[int, int]:
    """``id:version`` pairs, comma separated, from the pages' group and bulk forms, as
    alert id → version read.  Anything else is refused (400), nothing guessed."""
    versions: dict[int, int] = {}
    for value in values:
        for pair in (value or "").split(","):
            if not pair.strip():
                continue
            pk, _sep, version = pair.strip().partition(":")
            alert, seen = parse_id(pk), parse_id(version)
            if alert is None or seen is None:
                raise DomainError(_("Choose the alerts to work on again."))
            versions[alert] = seen
    return versions


def risk_assignee_choices(*, user: Any) -> QuerySet[User]:
    """Whom the user may hand alerts to: an admin anyone active; a manager the active
    members of the teams they manage, and themselves; anyone else nobody."""
    users = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER, Role.ADMIN])
    if role_of(user) == Role.ADMIN:
        return users.order_by("username")
    if role_of(user) == Role.MANAGER:
        return users.filter(Q(team__manager=user) | Q(pk=user.pk)).order_by("username")
    return users.none()


def risk_inbox_default(*, user: Any) -> str:
    """Where the inbox opens: a rep on their own alerts, a manager on their team's, an
    admin on every alert."""
    role = role_of(user)
    if role == Role.ADMIN:
        return "all"
    if role == Role.MANAGER:
        return "team"
    return "mine"
