"""Reads of the customer archive, always from the record scope, shaped for what is shown."""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.scope import ScopedStatement, scoped_queryset
from crm.audit.models import AuditEvent
from crm.core.formats import money, record_kind
from crm.core.statements import Prepared, attach_prefetched
from feedback.models import Feedback, SatisfactionResponse, ServiceRecord
from risk.models import RiskAlert
from tiers.models import TierChange
from transactions.models import Transaction

from .completeness import completeness_expression
from .models import Activity, ArchiveFigure, Contact, Customer, ServiceNeed
from .verification import due_q, verify_due_expression

#: A customer's phone numbers, searched by their digits however they were typed
#: (resource, field, path from the customer): the switchboard and its contacts' phones.
CUSTOMER_PHONES = (
    ("customers", "phone", "phone"),
    ("contacts", "mobile", "contacts__mobile"),
    ("contacts", "phone", "contacts__phone"),
)


#: The order a customer's contacts are shown in: the primary contact first, then by name.
CONTACT_ORDER = ("-is_primary", "name", "id")


def _customer_rows(*, user: Any) -> QuerySet[Customer]:
    return scoped_queryset(Customer, user).select_related("owner", "team", "tier")


def customer_list(*, user: Any) -> QuerySet[Customer]:
    """The customers ``user`` may see, with what a list row shows (owner, team, tier, contacts)."""
    return _customer_rows(user=user).prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.order_by(*CONTACT_ORDER))
    )


# One customer by its id, as :func:`customer_list` gives it: compiled once per scope form
# (``crm.access.scope.ScopedStatement``), the contacts of one customer or of a page once
# for all.  Compiling the two statements cost a detail 1.1-1.8 ms of its 7 ms of CPU,
# more than running them.
_ONE_CUSTOMER = ScopedStatement(lambda user, pk: _customer_rows(user=user).filter(pk=pk), int)
_CONTACTS_OF = Prepared(
    lambda customers: Contact.objects.filter(customer_id__any_of=customers).order_by("customer_id", *CONTACT_ORDER),
    list,
)


def attach_contacts(customers: list[Customer]) -> None:
    """Give each customer its contacts in order, as :func:`customer_list`'s prefetch does,
    with one prepared statement for them all."""
    by_customer: dict[int, list[Contact]] = {customer.pk: [] for customer in customers}
    if customers:
        for contact in _CONTACTS_OF([customer.pk for customer in customers]):
            by_customer[contact.customer_id].append(contact)
    for customer in customers:
        attach_prefetched(customer, "contacts", by_customer[customer.pk])


def customer_one(*, user: Any, pk: int) -> Customer | None:
    """The customer ``pk`` if ``user`` may see it, with what :func:`customer_list` reads
    with it (owner, team, tier, its contacts in order): two queries."""
    found = _ONE_CUSTOMER(user, pk)
    if found:
        attach_contacts(found)
    return found[0] if found else None


#: The order the customer list opens in (by name), total.
LIST_ORDER = ("name", "id")

# The list as it opens, with no search, filter or sort named: the rows of one page in
# ``LIST_ORDER``, compiled once per scope form; and how many customers the user sees,
# from the figures kept per team and owner (summed in one statement, also compiled once).
# Compiling the page cost a 10-row list 2.2 ms of Python, more than running it, and
# counting a manager's customers up to the cap read 2,001 of a team's rows through its
# owner OR team condition.
_LIST_PAGE = ScopedStatement(lambda user: _customer_rows(user=user).order_by(*LIST_ORDER), paged=True)
_CUSTOMERS_SEEN = ScopedStatement(
    lambda user: (
        ArchiveFigure.scope_queryset(user)
        .order_by()
        .values(whole=Value(1))  # no grouping column: one row, the sum over every team and owner
        .annotate(customers=Sum("customers"))
        .values_list("customers", flat=True)
    )
)


def customer_list_page(*, user: Any, limit: int, offset: int) -> list[Customer]:
    """``limit`` customers from ``offset`` of :func:`customer_list`, in ``LIST_ORDER``,
    without their contacts (:func:`attach_contacts` adds them): two queries fewer to
    compile than the queryset's page."""
    return _LIST_PAGE(user, limit, offset)


def customer_count(*, user: Any, cap: int | None = None) -> tuple[int, bool]:
    """How many customers ``user`` sees, up to ``cap`` (``CRM_LIST_COUNT_CAP``), and
    whether there are more: what ``crm.core.pagination.capped_count`` says of
    :func:`customer_list`, read from the customers counted per team and owner
    (``ArchiveFigure``, whose every row is scoped as the customers it counts) instead of
    from the customers.  Exact at any moment: the figures change in the same
    transaction as the customers."""
    cap = settings.CRM_LIST_COUNT_CAP if cap is None else cap
    found = _CUSTOMERS_SEEN(user)
    counted = int(found[0] or 0) if found else 0
    return min(counted, cap), counted > cap


def customer_api_list(*, user: Any) -> QuerySet[Customer]:
    """:func:`customer_list`, for the API.  Each customer's completeness is computed from
    its prefetched contacts (``customers.completeness``): the API neither sorts nor filters
    by it, and the SQL form would cost every request its 17 cases to build and every row
    two subqueries."""
    return customer_list(user=user)


def with_verification(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers annotated with ``verify_due_at`` (when each falls due for confirmation)."""
    return queryset.annotate(verify_due_at=verify_due_expression())


def customers_due_for_verification(*, user: Any, now: dt.datetime | None = None) -> QuerySet[Customer]:
    """The customers in ``user``'s scope whose archive is due for confirmation, longest
    overdue first — one query (the tier's period is joined, not read per row)."""
    return (
        with_verification(scoped_queryset(Customer, user))
        .filter(due_q(now))
        .select_related("tier")
        .order_by(F("verify_due_at").asc(), "id")
    )


def with_completeness(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers annotated with ``completeness`` (0-100, customers.completeness)."""
    return queryset.annotate(completeness=completeness_expression())


def contact_list(*, user: Any) -> QuerySet[Contact]:
    return scoped_queryset(Contact, user).select_related("customer")


def activity_list(*, user: Any) -> QuerySet[Activity]:
    return scoped_queryset(Activity, user).select_related("customer", "contact", "assignee")


def service_need_list(*, user: Any) -> QuerySet[ServiceNeed]:
    return scoped_queryset(ServiceNeed, user).select_related("customer")


# ---------------------------------------------------------------------- timeline
@dataclass(order=True)
class TimelineEntry:
    """One thing that happened to a customer, of any kind, placed in time."""

    at: dt.datetime
    kind: str = field(compare=False)
    id: int = field(compare=False)
    title: str = field(compare=False)
    detail: dict[str, Any] = field(compare=False, default_factory=dict)


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _date_bound(before: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(before).date() if before else None


def customer_timeline(
    *, customer: Customer, user: Any, limit: int = 50, before: dt.datetime | None = None
) -> list[TimelineEntry]:
    """Everything that happened to one customer, newest first: follow-ups, orders, service,
    feedback, satisfaction answers, tier moves, alerts and every audited change.

    Each source is read once, newest ``limit`` rows (one query each, whatever the history's
    length), then the streams are merged by time.  ``before`` pages further back.
    """

    streams: list[list[TimelineEntry]] = []
    day_before = _date_bound(before)

    activities = (
        scoped_queryset(Activity, user)
        .filter(customer=customer)
        .annotate(at=Coalesce("occurred_at", "due_at", "created_at"))
    )
    if before:
        activities = activities.filter(at__lt=before)
    streams.append(
        [
            TimelineEntry(
                a.at,
                "activity",
                a.pk,
                a.subject,
                {
                    "activity_kind": a.kind,
                    "done": a.done,
                    "due_at": a.due_at and a.due_at.isoformat(),
                    **_check_in(a),
                },
            )
            for a in activities.order_by("-at", "-id")[:limit]
        ]
    )

    orders = scoped_queryset(Transaction, user).filter(customer=customer)
    if day_before:
        orders = orders.filter(order_date__lt=day_before)
    streams.append(
        [
            TimelineEntry(
                _as_datetime(t.order_date),
                "transaction",
                t.pk,
                t.description or _("Order of %(amount)s") % {"amount": money(t.amount, t.currency)},
                {"amount": str(t.amount), "currency": t.currency, "status": t.status},
            )
            for t in orders.order_by("-order_date", "-id")[:limit]
        ]
    )

    services = scoped_queryset(ServiceRecord, user).filter(customer=customer)
    if day_before:
        services = services.filter(service_date__lt=day_before)
    streams.append(
        [
            TimelineEntry(
                _as_datetime(s.service_date),
                "service_record",
                s.pk,
                s.get_service_type_display(),
                {"service_type": s.service_type, "result": s.result, "rating": s.rating},
            )
            for s in services.order_by("-service_date", "-id")[:limit]
        ]
    )

    for model, kind, time_field, related in (
        (Feedback, "feedback", "received_at", ()),
        (SatisfactionResponse, "satisfaction", "responded_at", ()),
        (TierChange, "tier_change", "changed_at", ("from_tier", "to_tier")),
        (RiskAlert, "risk_alert", "raised_at", ("rule",)),
    ):
        rows = scoped_queryset(model, user).filter(customer=customer).select_related(*related)
        if before:
            rows = rows.filter(**{f"{time_field}__lt": before})
        streams.append(
            [
                TimelineEntry(getattr(row, time_field), kind, row.pk, _title(kind, row), _detail(kind, row))
                for row in rows.order_by(f"-{time_field}", "-id")[:limit]
            ]
        )

    events = scoped_queryset(AuditEvent, user).filter(customer=customer)
    if before:
        events = events.filter(occurred_at__lt=before)
    streams.append(
        [
            TimelineEntry(
                e.occurred_at,
                "audit",
                e.pk,
                # The kind of record in words; never its stored text, which may hold a
                # value the reader's field policy hides.
                f"{e.get_action_display()} {record_kind(e.resource)}",
                {
                    "action": e.action,
                    "resource": e.resource,
                    "object_id": e.object_id,
                    "actor": e.actor_label,
                    "source": e.source,
                    "changes": e.changes,
                },
            )
            for e in events.order_by("-occurred_at", "-id")[:limit]
        ]
    )

    merged = heapq.merge(*streams, reverse=True)
    return [entry for _, entry in zip(range(limit), merged, strict=False)]


def _check_in(activity: Activity) -> dict[str, Any]:
    """A visit's check-in on its timeline entry: when, where (and a map of it), or nothing."""
    if activity.checked_in_at is None:
        return {}
    return {
        "checked_in_at": activity.checked_in_at,
        "located": activity.located,
        "latitude": activity.latitude,
        "longitude": activity.longitude,
        "location_accuracy": activity.location_accuracy,
        "check_in_map_url": activity.check_in_map_url,
    }


def _title(kind: str, row: Any) -> str:
    if kind == "tier_change":
        names = [tier.display_name if tier else "—" for tier in (row.from_tier, row.to_tier)]
        return f"{row.get_kind_display()}: {names[0]} → {names[1]}"
    if kind == "satisfaction":
        return " / ".join(
            part
            for part in (
                f"CSAT {row.csat}" if row.csat is not None else "",
                f"NPS {row.nps}" if row.nps is not None else "",
            )
            if part
        )
    if kind == "risk_alert":
        return str(row.display_title)
    return str(row)


def _detail(kind: str, row: Any) -> dict[str, Any]:
    if kind == "feedback":
        return {"feedback_kind": row.kind, "status": row.status}
    if kind == "satisfaction":
        return {"csat": row.csat, "nps": row.nps}
    if kind == "tier_change":
        return {"change": row.kind, "from_tier": row.from_tier_id, "to_tier": row.to_tier_id, "reason": row.reason}
    return {"severity": row.severity, "status": row.status}
