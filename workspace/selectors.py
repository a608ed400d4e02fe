"""Reads behind the workspace pages: the rep's day, the customer list's search, a
customer's key figures.  Every one starts from the record scope; searches and filters
only use fields the viewer may read in clear."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.choices import ChangeStatus
from crm.access.display import contact_link
from crm.access.filters import phone_condition
from crm.access.models import ChangeRequest
from crm.access.policy import Level, UserPolicy
from crm.access.scope import scoped_queryset, sees_everything
from crm.accounts.models import Team, User
from crm.core.phones import phone_digits
from crm.core.search import text_match
from customers.choices import LifecycleStage
from customers.models import Activity, ArchiveFigure, ArchiveState, Contact, Customer
from customers.selectors import (
    CUSTOMER_PHONES,
    customer_list,
    customers_due_for_verification,
    with_verification,
)
from customers.verification import due_q, overdue_q
from duplicates.choices import CandidateStatus
from duplicates.models import DuplicateCandidate
from feedback.models import SatisfactionResponse
from risk.choices import OPEN_STATUSES
from risk.models import RiskAlert
from risk.selectors import AlertGroup, risk_alert_list, risk_alert_open_groups
from transactions.choices import TransactionStatus
from transactions.models import Transaction

#: Search fields of the list: (resource, field, lookup path from the customer).
SEARCH_FIELDS = (
    ("customers", "name", "name"),
    ("customers", "short_name", "short_name"),
    ("customers", "code", "code"),
    ("contacts", "name", "contacts__name"),
    ("contacts", "email", "contacts__email"),
)  # and every phone, by its digits (customer_search)
#: Above this many matching contacts, the search hands the whole match to the database.
CONTACT_MATCHES = 5000
#: Sort keys of the list → (governing field, order_by).  Every order ends on the id, so
#: pages are stable.
SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "name": ("name", ("name", "id")),
    "-name": ("name", ("-name", "-id")),
    "code": ("code", ("code", "id")),
    "-code": ("code", ("-code", "-id")),
    "tier": ("tier", ("tier_rank", "id")),  # no tier (0) first
    "-tier": ("tier", ("-tier_rank", "-id")),
    "stage": ("lifecycle_stage", ("lifecycle_stage", "id")),
    "-stage": ("lifecycle_stage", ("-lifecycle_stage", "-id")),
    "updated": ("updated_at", ("updated_at", "id")),
    "-updated": ("updated_at", ("-updated_at", "-id")),
}


@dataclass(frozen=True)
class CustomerFilters:
    """What the customer list is narrowed by (each already validated by the form)."""

    q: str = ""
    tier: Any = None
    stage: str = ""
    industry: str = ""
    region: str = ""
    owner: Any = None
    open_alert: bool | None = None
    verify_due: bool = False
    sort: str = "name"


def customer_search(*, user: Any, policy: UserPolicy, filters: CustomerFilters) -> QuerySet[Customer]:
    """The customers matching the list's search and filters, in the chosen order.

    The search is a case-insensitive substring of the name, short name or code, or of a
    contact's name, mobile, phone or e-mail; a phone number is found however it is typed
    (``crm.core.phones``), the switchboard's too; a field the viewer may not read in
    clear is not searched (a match would reveal it).
    """

    customers = customer_list(user=user)
    if filters.q:
        term = filters.q.strip()
        digits = phone_digits(term)
        own: list[str] = []
        of_contacts: list[str] = []
        for resource, field, path in SEARCH_FIELDS:
            if policy.level(resource, field) < Level.READ:
                continue
            if resource == "customers":
                own.append(f"{path}__icontains")
            else:
                of_contacts.append(f"{field}__icontains")
        condition = text_match(Customer, own, term)
        via_contacts = text_match(Contact, of_contacts, term)
        # A phone number, however it was typed: the switchboard's or a contact's, as
        # the API finds it.
        by_phone = phone_condition(Customer, user, policy, CUSTOMER_PHONES, digits) if digits else None
        if by_phone is not None:
            condition |= by_phone
        if via_contacts:
            # Matching contacts first, on their own trigram (or bigram) indexes: as one OR with the
            # customer's columns the planner would scan every contact.
            # Only the contacts the user may see are searched, so a match elsewhere neither
            # shows nor crowds out their own.
            contacts = scoped_queryset(Contact, user).filter(via_contacts)
            matches = list(contacts.values_list("customer_id", flat=True)[:CONTACT_MATCHES])
            if len(matches) < CONTACT_MATCHES:
                condition |= Q(pk__in=set(matches))
            else:  # a very broad term: let the database do it in one go
                condition |= Q(pk__in=contacts.values("customer_id"))
        customers = customers.filter(condition) if condition else customers.none()
    if filters.tier is not None:
        customers = customers.filter(tier=filters.tier)
    if filters.stage:
        customers = customers.filter(lifecycle_stage=filters.stage)
    if filters.industry:
        customers = customers.filter(industry=filters.industry)
    if filters.region:
        customers = customers.filter(region=filters.region)
    if filters.owner is not None:
        customers = customers.filter(owner=filters.owner)
    if filters.open_alert is not None:
        open_alerts = RiskAlert.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
        customers = customers.filter(Exists(open_alerts) if filters.open_alert else ~Exists(open_alerts))
    if filters.verify_due:
        customers = with_verification(customers).filter(due_q())
    _field, order = SORTS.get(filters.sort, SORTS["name"])
    return customers.order_by(*order)


@dataclass(frozen=True)
class CustomerFigures:
    spend_12m: Decimal
    orders_12m: int
    outstanding: Decimal
    last_contact: dt.datetime | None
    csat: Decimal | None
    open_alerts: int


def customer_figures(*, customer: Customer) -> CustomerFigures:
    """The 360 header's key figures, in one query: spend and orders over the last twelve
    months (cancelled and refunded orders excluded, partial refunds deducted), money
    still owed (the amount less refunds less what the payment records brought), the last contact
    made, the average satisfaction of the last twelve months and the open alerts."""

    today = timezone.localdate()
    since = today - dt.timedelta(days=365)
    counted = Transaction.objects.filter(customer=OuterRef("pk")).exclude(
        status__in=[TransactionStatus.CANCELLED, TransactionStatus.REFUNDED]
    )

    def scalar(queryset: QuerySet[Any], expression: Any) -> Subquery:
        return Subquery(queryset.order_by().values("customer").annotate(v=expression).values("v")[:1])

    row = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            spend_12m=scalar(counted.filter(order_date__gte=since), Sum(F("amount") - F("refunded_amount"))),
            orders_12m=scalar(counted.filter(order_date__gte=since), Count("id")),
            outstanding=scalar(counted, Sum(F("amount") - F("refunded_amount") - F("paid_amount"))),
            last_contact=scalar(
                Activity.objects.filter(customer=OuterRef("pk"), occurred_at__isnull=False), Max("occurred_at")
            ),
            csat=scalar(
                SatisfactionResponse.objects.filter(
                    customer=OuterRef("pk"), responded_at__date__gte=since, csat__isnull=False
                ),
                Avg("csat"),
            ),
            open_alerts=scalar(
                RiskAlert.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES), Count("id")
            ),
        )
        .values("spend_12m", "orders_12m", "outstanding", "last_contact", "csat", "open_alerts")
        .get()
    )
    return CustomerFigures(
        spend_12m=row["spend_12m"] or Decimal(0),
        orders_12m=row["orders_12m"] or 0,
        outstanding=row["outstanding"] or Decimal(0),
        last_contact=row["last_contact"],
        csat=round(Decimal(row["csat"]), 1) if row["csat"] is not None else None,
        open_alerts=row["open_alerts"] or 0,
    )


def customer_call_link(*, customer: Customer, policy: UserPolicy) -> str | None:
    """The 360 header's call button: the primary contact's mobile, else the switchboard,
    as a ``tel:`` link when the viewer reads the number in clear (from the contacts the
    customer was loaded with: no query)."""
    primary = next((contact for contact in customer.contacts.all() if contact.is_primary), None)
    if primary is not None:
        link = contact_link(policy, "contacts", "mobile", primary.mobile)
        if link:
            return link
    return contact_link(policy, "customers", "phone", customer.phone)


@dataclass(frozen=True)
class CustomerFollowUps:
    """One customer's follow-ups on My day, in the order they are due."""

    customer: Customer
    items: list[Activity]


def follow_ups_by_customer(items: list[Activity]) -> list[CustomerFollowUps]:
    """``items`` (in the order they are due) as one group per customer, the customer
    whose first item is due first coming first; no query (the customer is loaded)."""
    groups: dict[int, CustomerFollowUps] = {}
    for item in items:
        group = groups.get(item.customer_id)
        if group is None:
            group = groups[item.customer_id] = CustomerFollowUps(item.customer, [])
        group.items.append(item)
    return list(groups.values())


@dataclass
class MyDay:
    overdue: list[Activity]
    due_today: list[Activity]
    alerts: list[AlertGroup]
    key_accounts: list[Customer]
    recent: list[Activity]
    to_verify: list[Customer] = field(default_factory=list)
    to_verify_count: int = 0

    @property
    def overdue_by_customer(self) -> list[CustomerFollowUps]:
        return follow_ups_by_customer(self.overdue)

    @property
    def due_today_by_customer(self) -> list[CustomerFollowUps]:
        return follow_ups_by_customer(self.due_today)


def my_day(*, user: Any, limit: int = 20) -> MyDay:
    """The rep's start page: follow-ups overdue and due today (their own), open risk alerts
    on the customers they look after (or assigned to them) grouped by customer and rule,
    their key accounts by tier, the latest contacts made with their customers, and their
    customers due for confirming the archive ("to verify", with their count) — seven
    small indexed queries."""

    now = timezone.localtime()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    follow_ups = (
        scoped_queryset(Activity, user)
        .filter(assignee=user, done=False, due_at__lt=end)
        .select_related("customer", "contact")
        .order_by("due_at", "id")
    )
    # Open alerts grouped by customer and rule (one line of work each), most urgent first:
    # on the user's own customers (their ids first: a join would test every open alert of
    # a manager's team against its customer) or handed to the user.
    own = customer_list(user=user).filter(owner=user).order_by().values("id")
    alerts = risk_alert_list(user=user).filter(Q(customer_id__in=own) | Q(assignee=user))
    key_accounts = (
        customer_list(user=user)
        .filter(owner=user, lifecycle_stage=LifecycleStage.KEY)
        .order_by(Coalesce("tier__rank", 0).desc(), "name", "id")[:limit]
    )
    recent = (
        scoped_queryset(Activity, user)
        .filter(customer__owner=user, occurred_at__isnull=False, occurred_at__lte=now)
        .select_related("customer", "assignee")
        .order_by("-occurred_at", "-id")[:limit]
    )
    to_verify = customers_due_for_verification(user=user).filter(owner=user)
    return MyDay(
        overdue=list(follow_ups.filter(due_at__lt=start)[:limit]),
        due_today=list(follow_ups.filter(due_at__gte=start)[:limit]),
        alerts=risk_alert_open_groups(user=user, alerts=alerts, limit=limit),
        key_accounts=list(key_accounts),
        recent=list(recent),
        to_verify=list(to_verify[:limit]),
        to_verify_count=to_verify.count(),
    )


# ---------------------------------------------------------------- archive health
def duplicates_waiting(*, customers: QuerySet[Customer]) -> int:
    """Suspected duplicates among ``customers`` (both sides in them) still waiting for
    a decision: one count."""
    ids = customers.values("pk")
    return DuplicateCandidate.objects.filter(
        status=CandidateStatus.OPEN, customer_a__in=ids, customer_b__in=ids
    ).count()


def changes_waiting(*, customers: QuerySet[Customer]) -> int:
    """Proposed archive changes to ``customers`` waiting for approval: one count."""
    return ChangeRequest.objects.filter(status=ChangeStatus.PENDING, customer_id__in=customers.values("pk")).count()


@dataclass(frozen=True)
class HealthRow:
    """One rep's, one team's (or the whole scope's) archive health: ``owner_id`` or
    ``team_id`` says whose row it is."""

    owner_id: int | None
    owner_name: str
    customers: int
    verified: int
    complete: int
    average: float
    team_id: int | None = None

    @property
    def verified_percent(self) -> int:
        return round(100 * self.verified / self.customers) if self.customers else 0

    @property
    def complete_percent(self) -> int:
        return round(100 * self.complete / self.customers) if self.customers else 0


@dataclass(frozen=True)
class ArchiveHealth:
    """The archive's health in a manager's scope: the total, one row per owner (or, for
    who sees the whole company, one per team), and the queues that exist (None: not
    kept, the tile is hidden).  ``team``: the team narrowed to, if any."""

    total: HealthRow
    owners: list[HealthRow]
    duplicates_waiting: int
    changes_waiting: int
    teams: list[HealthRow] = field(default_factory=list)
    team: Team | None = None


def archive_health(*, user: Any, team: int | None = None) -> ArchiveHealth:
    """Share of the customers in ``user``'s scope verified within their period, share
    complete (at least COMPLETE_PERCENT) and average completeness, in all and per owner;
    for who sees the whole company, per team, each opened (``team``) to its owners.

    The customers, complete ones and points come from the figures the database keeps per
    team and owner (``ArchiveFigure``: a few thousand rows at a million customers); who
    is not verified within their period, which changes as time passes, is counted from
    the archive states that are overdue, on their own index (``archive_state_since``).
    Three grouped queries and one for the names, whatever the size of the scope."""
    figures = scoped_queryset(ArchiveFigure, user)
    states = scoped_queryset(ArchiveState, user)
    customers = scoped_queryset(Customer, user)
    narrowed = Team.objects.filter(pk=team).first() if team is not None else None
    if team is not None:
        figures, states = figures.filter(team_id=team), states.filter(team_id=team)
        customers = customers.filter(team_id=team)
    by_team = team is None and sees_everything(user)
    key = "team_id" if by_team else "owner_id"
    sums = _health_figures(figures, states, key, narrow=not sees_everything(user))
    rows: list[HealthRow] = []
    if by_team:
        names = {t.pk: t.name for t in Team.objects.filter(pk__in=[k for k in sums if k is not None])}
        keys = sorted(sums, key=lambda key: (key is None, names.get(key, "")))
        rows = [_health_row(sums[key], None, names.get(key, str(_("No team"))), team_id=key) for key in keys]
    else:
        people = User.objects.filter(pk__in=list(sums)).only("username", "first_name", "last_name")
        for person in sorted(people, key=lambda person: person.username):
            rows.append(_health_row(sums[person.pk], person.pk, person.get_full_name() or person.username))
    count = sum(row.customers for row in rows)
    total = HealthRow(
        None,
        "",
        count,
        sum(row.verified for row in rows),
        sum(row.complete for row in rows),
        (sum(row.average * row.customers for row in rows) / count) if count else 0.0,
    )
    return ArchiveHealth(
        total=total,
        owners=[] if by_team else rows,
        teams=rows if by_team else [],
        team=narrowed,
        duplicates_waiting=duplicates_waiting(customers=customers),
        changes_waiting=changes_waiting(customers=customers),
    )


def _health_figures(
    figures: QuerySet[ArchiveFigure], states: QuerySet[ArchiveState], key: str, *, narrow: bool
) -> dict[Any, dict[str, Any]]:
    """Customers, verified, complete and points per ``key``: the kept sums of ``figures``
    (those with customers), less the overdue of ``states``.  ``narrow``: the scope is
    some teams and owners, not everyone."""
    sums: dict[Any, dict[str, Any]] = {}
    teams: set[int] = set()
    for row in (
        figures.order_by()
        .values(*dict.fromkeys(("team_id", key)))
        .annotate(n=Sum("customers"), complete=Sum("complete"), points=Sum("points"))
        .filter(n__gt=0)
    ):
        kept = sums.setdefault(row[key], {key: row[key], "n": 0, "complete": 0, "points": 0})
        for figure in ("n", "complete", "points"):
            kept[figure] += row[figure]
        if row["team_id"] is not None:
            teams.add(row["team_id"])
    overdue = states.filter(overdue_q(now=timezone.now()))
    if narrow:
        # The teams the figures name, beside the scope: the overdue of each are one range
        # of an index (by the scope alone, a team's manager or the owner, every overdue
        # row of the company is read).
        overdue = overdue.filter(Q(team_id__in=teams) | Q(team__isnull=True))
    late = dict(overdue.order_by().values(key).annotate(late=Count("pk")).values_list(key, "late"))
    return {k: {**row, "verified": row["n"] - late.get(k, 0)} for k, row in sums.items()}


def _health_row(figures: dict[str, Any], owner_id: int | None, name: str, team_id: int | None = None) -> HealthRow:
    n = figures["n"]
    return HealthRow(owner_id, name, n, figures["verified"], figures["complete"], figures["points"] / n, team_id)
