"""Reads of tiers and tier history, from the record scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.access.scope import customers_visible_to, scoped_queryset
from customers.models import Customer
from risk.choices import OPEN_STATUSES
from risk.models import RiskAlert
from transactions.choices import TransactionStatus
from transactions.models import Transaction

from .choices import PERIOD_MONTHS, ReviewPeriod, RunState
from .models import LifecycleChange, ScoringPolicy, Tier, TierChange, TierRun


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


def lifecycle_change_list(*, user: Any) -> QuerySet[LifecycleChange]:
    return scoped_queryset(LifecycleChange, user)


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


# ------------------------------------------------------------------ the manager's dashboard
@dataclass
class TierDashboard:
    tiers: list[dict[str, Any]]
    matrix: dict[str, Any]
    trend: list[dict[str, Any]]
    at_risk: list[Any]
    by_region: list[dict[str, Any]]
    by_industry: list[dict[str, Any]]
    last_run: Any


def tier_dashboard(*, user: Any, since_days: int = 365) -> TierDashboard:
    """Every figure of the tier dashboard over the customers ``user`` may see, each from
    one aggregate query: customers and revenue per tier, the moves of the last evaluation
    (from tier × to tier), the moves of the recent evaluations, key accounts at risk, and
    the spread of tiers by region and by industry."""

    customers = customers_visible_to(user)
    tiers = list(Tier.objects.order_by("rank"))
    counts: dict[Any, int] = dict(
        customers.order_by().values_list("tier").annotate(n=Count("id")).values_list("tier", "n")
    )
    since = timezone.localdate() - dt.timedelta(days=since_days)
    revenue: dict[Any, Any] = dict(
        Transaction.objects.filter(customer__in=customers, order_date__gte=since)
        .exclude(status__in=[TransactionStatus.CANCELLED, TransactionStatus.REFUNDED])
        .order_by()
        .values_list("customer__tier")
        .annotate(total=Sum("amount"))
        .values_list("customer__tier", "total")
    )
    rows = [{"tier": t, "customers": counts.get(t.pk, 0), "revenue": revenue.get(t.pk) or 0} for t in tiers]
    rows.append({"tier": None, "customers": counts.get(None, 0), "revenue": revenue.get(None) or 0})

    runs = list(TierRun.objects.filter(state=RunState.DONE).order_by("-as_of")[:8])
    last_run = runs[0] if runs else None
    matrix: dict[str, Any] = {"run": last_run, "cells": {}, "tiers": tiers}
    if last_run is not None:
        moves = (
            TierChange.objects.filter(run=last_run, customer__in=customers)
            .order_by()
            .values_list("from_tier", "to_tier")
            .annotate(n=Count("id"))
        )
        matrix["cells"] = {(f, t): n for f, t, n in moves}
    trend_rows = (
        TierChange.objects.filter(run__in=runs, customer__in=customers)
        .order_by()
        .values("run")
        .annotate(
            up=Count("id", filter=Q(kind__in=["upgrade", "initial"])),
            down=Count("id", filter=Q(kind="downgrade")),
        )
    )
    by_run: dict[Any, Any] = {row["run"]: row for row in trend_rows}
    trend = [
        {"run": run, "up": by_run.get(run.pk, {}).get("up", 0), "down": by_run.get(run.pk, {}).get("down", 0)}
        for run in reversed(runs)
    ]
    open_alerts = RiskAlert.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
    at_risk = list(
        customers.filter(lifecycle_stage="key")
        .filter(Q(Exists(open_alerts)) | Q(tier_below_since__isnull=False))
        .select_related("tier", "owner")
        .order_by("name", "id")[:25]
    )

    def spread(field: str) -> list[dict[str, Any]]:
        data = customers.order_by().values_list(field, "tier").annotate(n=Count("id"))
        table: dict[str, dict[Any, int]] = {}
        for key, tier_id, n in data:
            table.setdefault(key, {})[tier_id] = n
        labels = dict(getattr(Customer._meta.get_field(field), "choices", None) or [])
        return [
            {"key": key, "label": labels.get(key, key or "—"), "cells": [cells.get(t.pk, 0) for t in tiers],
             "total": sum(cells.values())}
            for key, cells in sorted(table.items(), key=lambda item: -sum(item[1].values()))
        ]  # fmt: skip

    return TierDashboard(
        tiers=rows,
        matrix=matrix,
        trend=trend,
        at_risk=at_risk,
        by_region=spread("region"),
        by_industry=spread("industry"),
        last_run=last_run,
    )
