"""When a customer's archive is due for its owner's confirmation ("still right").

A customer is due when it was last verified (or, never verified, created) longer ago
than its tier's ``verify_days``, or ``CRM_VERIFY_DAYS`` (default 180) when its tier sets
none or it has no tier.  Key accounts' tiers may ask for it more often.  Both rules are
SQL expressions, so lists filter and count on them in one query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Func, IntegerField, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Customer


class _DaysInterval(Func):
    """PostgreSQL ``make_interval(days => n)``: a whole number of days as an interval."""

    template = "make_interval(days => %(expressions)s)"
    output_field = DurationField()


def verify_days(customer: Customer) -> int:
    """The period, in days, within which this customer's archive must be confirmed."""
    tier = customer.tier
    days = getattr(tier, "verify_days", None) if tier is not None else None
    return int(days or settings.CRM_VERIFY_DAYS)


def verify_due_at(customer: Customer) -> dt.datetime:
    """When this customer falls due for verification (Python, for one customer)."""
    since = customer.last_verified_at or customer.created_at
    return since + dt.timedelta(days=verify_days(customer))


def verify_due_expression() -> Any:
    """SQL: when each customer falls due (joins the tier; annotate it as ``verify_due_at``)."""
    days = Coalesce(F("tier__verify_days"), Value(settings.CRM_VERIFY_DAYS), output_field=IntegerField())
    start = Coalesce(F("last_verified_at"), F("created_at"))
    return ExpressionWrapper(start + _DaysInterval(days), output_field=DateTimeField())


def due_q(now: dt.datetime | None = None) -> Q:
    """Filter for customers annotated with ``verify_due_at``: due by ``now``."""
    return Q(verify_due_at__lte=now or timezone.now())


def overdue_q(now: dt.datetime) -> Q:
    """Filter for archive states (``ArchiveState``: a customer's ``tier`` and when its
    period runs ``verify_since``) due by ``now``: since at or before ``now`` less their
    tier's period, one range of the since index per length of period in use (the tiers'
    periods read in one small query)."""
    default = settings.CRM_VERIFY_DAYS
    tiers = Customer._meta.get_field("tier").related_model._default_manager  # type: ignore[union-attr]
    by_days: dict[int, list[int]] = {}
    for pk, days in tiers.values_list("pk", "verify_days"):
        by_days.setdefault(days if days is not None else default, []).append(pk)
    latest = now - dt.timedelta(days=min([default, *by_days]))
    if set(by_days) <= {default}:  # one period for all: one range
        return Q(verify_since__lte=latest)
    known = [pk for pks in by_days.values() for pk in pks]
    # No tier (or one gone) takes the default period.
    condition = ~Q(tier_id__in=known) & Q(verify_since__lte=now - dt.timedelta(days=default))
    for days, pks in by_days.items():
        condition |= Q(tier_id__in=pks, verify_since__lte=now - dt.timedelta(days=days))
    return Q(verify_since__lte=latest) & condition


def is_due(customer: Customer, now: dt.datetime | None = None) -> bool:
    """Whether this customer's archive is due for confirmation (Python, for one customer)."""
    return verify_due_at(customer) <= (now or timezone.now())
