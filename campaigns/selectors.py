"""Reads of campaigns and their results, from the record scope.

Attribution: a campaign is credited with the orders of its *converted* participants
placed from the day the participant was invited up to ``CRM_CAMPAIGN_ATTRIBUTION_DAYS``
days later (cancelled and refunded orders excepted).  An order placed before the
invitation, or after the window, never counts, whatever order a participation links:
a campaign cannot claim what a customer had bought anyway.  The invitation is the
campaign's first touch, and every participation has one (the funnel stamps it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from crm.access.scope import scoped_queryset
from transactions.choices import TransactionStatus
from transactions.models import Transaction

from .choices import ParticipationStatus
from .models import Campaign, Participation
from .services import FUNNEL, attribution_days

#: Orders that never count as a campaign's revenue.
UNCOUNTED_ORDERS = (TransactionStatus.CANCELLED, TransactionStatus.REFUNDED)


def campaign_list(*, user: Any) -> QuerySet[Campaign]:
    return scoped_queryset(Campaign, user).select_related("owner")


def participation_list(*, user: Any) -> QuerySet[Participation]:
    return scoped_queryset(Participation, user).select_related("campaign", "customer", "contact", "transaction")


def with_attribution(participations: QuerySet[Participation]) -> QuerySet[Participation]:
    """Annotate each participation with ``attributed_from`` (the day of its invitation),
    ``attributed_until`` (the window's last day) and ``attributed_revenue`` (its
    customer's counted orders in between, whatever its status).

    The orders are read in a correlated subquery on the participation's own customer, so
    they are exactly as visible as the participation itself.
    """
    days = attribution_days()
    orders = (
        Transaction.objects.filter(
            customer_id=OuterRef("customer_id"),
            order_date__gte=OuterRef("attributed_from"),
            order_date__lte=OuterRef("attributed_until"),
        )
        .exclude(status__in=UNCOUNTED_ORDERS)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return participations.annotate(
        attributed_from=TruncDate(Coalesce("invited_at", "created_at")),
    ).annotate(
        attributed_until=F("attributed_from") + dt.timedelta(days=days),
        attributed_revenue=Coalesce(
            Subquery(orders, output_field=DecimalField(max_digits=16, decimal_places=2)), Decimal("0")
        ),
    )


def _revenue() -> Sum:
    return Sum("attributed_revenue", filter=Q(status=ParticipationStatus.CONVERTED))


def campaign_stats(*, campaign: Campaign, user: Any) -> dict[str, Any]:
    """The campaign's funnel and return, over the participants ``user`` may see.

    Each step counts everyone who reached it or went further (an attendee who converted
    also attended).  Revenue is what the converted participants ordered inside the
    attribution window (module docstring); ROI is (revenue − budget) / budget.  One
    aggregate query.
    """
    rows = with_attribution(scoped_queryset(Participation, user).filter(campaign=campaign))
    aggregates: dict[str, Any] = {
        step: Count("id", filter=Q(status__in=FUNNEL[FUNNEL.index(step) :])) for step in FUNNEL
    }
    aggregates["revenue"] = _revenue()
    figures = rows.aggregate(**aggregates)
    invited, converted = figures[ParticipationStatus.INVITED], figures[ParticipationStatus.CONVERTED]
    revenue = figures["revenue"] or Decimal("0")
    budget = campaign.budget or Decimal("0")
    return {
        "funnel": {step: figures[step] for step in FUNNEL},
        "conversion_rate": round(converted / invited, 4) if invited else None,
        "revenue": revenue,
        "budget": budget,
        "cost_per_conversion": (budget / converted).quantize(Decimal("0.01")) if converted else None,
        "roi": round((revenue - budget) / budget, 4) if budget else None,
        "attribution_days": attribution_days(),
    }


def campaign_figures(*, user: Any, campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Participants, conversions and attributed revenue of the given campaigns, over the
    participants ``user`` may see: one grouped query for a page of campaigns."""
    rows = (
        with_attribution(scoped_queryset(Participation, user).filter(campaign_id__in=campaign_ids))
        .order_by()
        .values("campaign")
        .annotate(
            participant_count=Count("id"),
            converted_count=Count("id", filter=Q(status=ParticipationStatus.CONVERTED)),
            revenue=_revenue(),
        )
    )
    return {row["campaign"]: dict(row) for row in rows}
