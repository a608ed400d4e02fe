"""Reads of tiers and tier history, from the record scope."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from crm.access.scope import NOTHING, customers_visible_to, scope_shape, scoped_queryset, sees_everything, team_scope_q
from crm.core import generations
from crm.core.statements import Prepared
from customers.models import Customer
from risk.choices import OPEN_STATUSES
from risk.models import RiskAlert
from transactions.choices import TransactionStatus
from transactions.models import Transaction

from .choices import PERIOD_MONTHS, ChangeKind, ReviewPeriod, RunState
from .models import LifecycleChange, ScoringPolicy, Tier, TierChange, TierCount, TierMoveCount, TierRevenue, TierRun


def tier_list(*, user: Any) -> QuerySet[Tier]:
    """Tiers with how many of the customers ``user`` may see hold each
    (:func:`tier_customer_counts`, one or two queries of a few rows), as ``customer_count``."""
    counts = tier_customer_counts(user=user)
    held = [When(pk=tier_id, then=Value(n)) for tier_id, n in counts.items() if tier_id is not None]
    count = Case(*held, default=Value(0), output_field=IntegerField()) if held else Value(0)
    return scoped_queryset(Tier, user).annotate(customer_count=count)


def tier_customer_counts(*, user: Any) -> Counter[Any]:
    """How many of the customers ``user`` may see hold each tier (by its id; None for the
    ungraded), from the figures the database keeps per team (``TierCount``) and, for what
    a user sees outside the teams they manage (a rep's own customers), from the customers
    themselves: a few rows whatever the size of the book.  Counting the customers of each
    tier took 1.6-2.0 s at L for a manager or an admin."""
    counts: Counter[Any] = Counter()
    if scope_shape(user) == NOTHING:
        return counts
    _add(counts, scoped_queryset(TierCount, user).order_by().values_list("tier")
         .annotate(n=Sum("customers")).values_list("tier", "n"))  # fmt: skip
    rest = beyond_team_figures(user=user)
    if rest is not None:
        _add(counts, rest.order_by().values_list("tier").annotate(n=Count("id")).values_list("tier", "n"))
    return counts


def beyond_team_figures(*, user: Any) -> QuerySet[Customer] | None:
    """The customers ``user`` sees that the figures kept per team do not cover: none for
    who sees everything, else the user's own customers outside the teams they manage (a
    scope is its owner's customers and its managed teams' customers)."""
    if sees_everything(user):
        return None
    return customers_visible_to(user).filter(owner=user).exclude(team_scope_q(user))


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


def _schedule_query() -> QuerySet[ScoringPolicy]:
    last = TierRun.objects.filter(state=RunState.DONE).order_by("-as_of")
    return (
        ScoringPolicy.objects.filter(is_active=True)
        .annotate(
            last_as_of=Subquery(last.values("as_of")[:1]),
            last_finished_at=Subquery(last.values("finished_at")[:1]),
        )
        .order_by("pk")[:1]
    )


#: The schedule's statement: the active policy with the last finished run's dates.
#: Compiled once per process (``crm.core.statements``): every customer the API
#: represents asks for it, and compiling it cost three times running it.
_SCHEDULE = Prepared(_schedule_query)


def tier_schedule(*, request: Any = None) -> TierSchedule:
    """The schedule, memoised on the request when there is one, and kept by the process
    while no run or policy changes (no query of its own then)."""
    cached = getattr(request, "_tier_schedule", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    # Kept under the generation of the runs' and the policies' tables.
    schedule = generations.kept(generations.TIER_SCHEDULE, lambda _token: _read_schedule())
    if request is not None:
        request._tier_schedule = schedule
    return schedule


def _read_schedule() -> TierSchedule:
    found = _SCHEDULE()
    policy = found[0] if found else None
    last_as_of = getattr(policy, "last_as_of", None)
    return TierSchedule(
        last_as_of=last_as_of,
        last_finished_at=getattr(policy, "last_finished_at", None),
        next_due=next_due(policy, last_as_of),
        policy=policy,
    )


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


def twelve_months_since(today: dt.date, months: int = 12) -> dt.date:
    """The first day of the window of the dashboard's revenue: this month and the
    ``months - 1`` before it."""
    return today.replace(day=1) - relativedelta(months=months - 1)


def _add(total: Counter[Any], rows: Any) -> None:
    for *key, value in rows:
        total[key[0] if len(key) == 1 else tuple(key)] += value or 0


def tier_dashboard(*, user: Any, months: int = 12) -> TierDashboard:
    """Every figure of the tier dashboard over the customers ``user`` may see: customers
    and revenue per tier (this month and the eleven before), the moves of the last
    evaluation (from tier × to tier), the moves of the recent evaluations, key accounts at
    risk, and the spread of tiers by region and by industry.

    The figures of whole teams come from the tables the database keeps per team
    (``tiers.models.TierCount``, ``TierRevenue`` and ``TierMoveCount``): who sees every
    customer sums every team's, a manager the teams they manage, in a few rows whatever
    the size of the book.  The customers a user sees outside those teams (a rep's own, a
    manager's own in another team) are counted from the records, as few as one person
    owns.  A constant number of queries for each role."""

    customers = customers_visible_to(user)
    rest = beyond_team_figures(user=user)
    tiers = list(Tier.objects.order_by("rank"))
    since = twelve_months_since(timezone.localdate(), months)

    cells: Counter[Any] = Counter()
    _add(cells, scoped_queryset(TierCount, user).order_by().values_list("tier", "region", "industry")
         .annotate(n=Sum("customers")).values_list("tier", "region", "industry", "n"))  # fmt: skip
    revenue: Counter[Any] = Counter()
    _add(revenue, scoped_queryset(TierRevenue, user).filter(month__gte=since).order_by().values_list("tier")
         .annotate(total=Sum("amount")).values_list("tier", "total"))  # fmt: skip
    if rest is not None:
        _add(cells, rest.order_by().values_list("tier", "region", "industry").annotate(n=Count("id"))
             .values_list("tier", "region", "industry", "n"))  # fmt: skip
        _add(revenue, Transaction.objects.filter(customer__in=rest, order_date__gte=since)
             .exclude(status__in=[TransactionStatus.CANCELLED, TransactionStatus.REFUNDED]).order_by()
             .values_list("customer__tier").annotate(total=Sum("amount"))
             .values_list("customer__tier", "total"))  # fmt: skip
    counts: Counter[Any] = Counter()
    for (tier_id, _region, _industry), n in cells.items():
        counts[tier_id] += n
    rows = [{"tier": t, "customers": counts.get(t.pk, 0), "revenue": revenue.get(t.pk) or 0} for t in tiers]
    rows.append({"tier": None, "customers": counts.get(None, 0), "revenue": revenue.get(None) or 0})

    runs = list(TierRun.objects.filter(state=RunState.DONE).order_by("-as_of")[:8])
    last_run = runs[0] if runs else None
    matrix: dict[str, Any] = {"run": last_run, "cells": {}, "tiers": tiers}
    moves: Counter[Any] = Counter()
    if runs:
        _add(moves, scoped_queryset(TierMoveCount, user).filter(run__in=runs).order_by()
             .values_list("run", "from_tier", "to_tier", "kind").annotate(n=Sum("moves"))
             .values_list("run", "from_tier", "to_tier", "kind", "n"))  # fmt: skip
        if rest is not None:
            _add(moves, TierChange.objects.filter(run__in=runs, customer__in=rest).order_by()
                 .values_list("run", "from_tier", "to_tier", "kind").annotate(n=Count("id"))
                 .values_list("run", "from_tier", "to_tier", "kind", "n"))  # fmt: skip
    up_kinds = {ChangeKind.UPGRADE, ChangeKind.INITIAL}
    by_run: dict[Any, dict[str, int]] = {run.pk: {"up": 0, "down": 0} for run in runs}
    for (run_id, from_tier, to_tier, kind), n in moves.items():
        if not n:
            continue
        if last_run is not None and run_id == last_run.pk:
            matrix["cells"][(from_tier, to_tier)] = matrix["cells"].get((from_tier, to_tier), 0) + n
        if kind in up_kinds:
            by_run[run_id]["up"] += n
        elif kind == ChangeKind.DOWNGRADE:
            by_run[run_id]["down"] += n
    trend = [{"run": run, **by_run[run.pk]} for run in reversed(runs)]
    open_alerts = RiskAlert.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
    at_risk = list(
        customers.filter(lifecycle_stage="key")
        .filter(Q(Exists(open_alerts)) | Q(tier_below_since__isnull=False))
        .select_related("tier", "owner")
        .order_by("name", "id")[:25]
    )

    def spread(field: str) -> list[dict[str, Any]]:
        place = 1 if field == "region" else 2
        table: dict[str, dict[Any, int]] = {}
        for key, n in cells.items():
            if n:
                by_tier = table.setdefault(key[place], {})
                by_tier[key[0]] = by_tier.get(key[0], 0) + n
        labels = dict(getattr(Customer._meta.get_field(field), "choices", None) or [])
        return [
            {"key": key, "label": labels.get(key, key or "—"), "cells": [by_tier.get(t.pk, 0) for t in tiers],
             "total": sum(by_tier.values())}
            for key, by_tier in sorted(table.items(), key=lambda item: (-sum(item[1].values()), item[0]))
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
