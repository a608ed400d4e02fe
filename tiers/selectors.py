"""Reads of tiers and tier history, from the record scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from crm.access.scope import customers_visible_to, scoped_queryset

from .choices import PERIOD_MONTHS, ReviewPeriod, RunState
from .models import ScoringPolicy, Tier, TierChange, TierRun


def tier_list(*, user: Any) -> QuerySet[Tier]:
    """Tiers with how many of the customers ``user`` may see hold each (one query)."""
    counts = (
        customers_visible_to(user)
        .filter(tier=OuterRef("pk"))
        .order_by()
        .values("tier")
        .annotate(n=Count("id"))
        .values("n")
    )
    return scoped_queryset(Tier, user).annotate(
        customer_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
    )


def tier_change_list(*, user: Any) -> QuerySet[TierChange]:
    return scoped_queryset(TierChange, user).select_related("customer", "from_tier", "to_tier", "changed_by")


@dataclass(frozen=True)
class TierSchedule:
    """When customers were last graded and when they will be next."""

    last_as_of: datetime | None
    last_finished_at: datetime | None
    next_due: datetime | None
    policy: Any


def active_policy() -> ScoringPolicy | None:
    return ScoringPolicy.objects.filter(is_active=True).select_related("key_account_tier").first()


def next_due(policy: ScoringPolicy | None, last_as_of: datetime | None) -> datetime | None:
    """The next scheduled evaluation: one review period after the last one (now, if none yet)."""
    if policy is None:
        return None
    if last_as_of is None:
        return policy.created_at  # never graded under any policy: due since it exists
    return last_as_of + relativedelta(months=PERIOD_MONTHS[ReviewPeriod(policy.period)])


def tier_schedule(*, request: Any = None) -> TierSchedule:
    """The schedule (one query), memoised on the request when there is one."""
    cached = getattr(request, "_tier_schedule", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    last = TierRun.objects.filter(state=RunState.DONE).order_by("-as_of")
    policy = (
        ScoringPolicy.objects.filter(is_active=True)
        .annotate(
            last_as_of=Subquery(last.values("as_of")[:1]),
            last_finished_at=Subquery(last.values("finished_at")[:1]),
        )
        .first()
    )
    last_as_of = getattr(policy, "last_as_of", None)
    schedule = TierSchedule(
        last_as_of=last_as_of,
        last_finished_at=getattr(policy, "last_finished_at", None),
        next_due=next_due(policy, last_as_of),
        policy=policy,
    )
    if request is not None:
        request._tier_schedule = schedule
    return schedule
