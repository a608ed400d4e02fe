"""Reads of campaigns and their results, from the record scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from crm.access.scope import scoped_queryset

from .choices import ParticipationStatus
from .models import Campaign, Participation
from .services import FUNNEL


def campaign_list(*, user: Any) -> QuerySet[Campaign]:
    return scoped_queryset(Campaign, user).select_related("owner")


def participation_list(*, user: Any) -> QuerySet[Participation]:
    return scoped_queryset(Participation, user).select_related("campaign", "customer", "contact", "transaction")


def campaign_stats(*, campaign: Campaign, user: Any) -> dict[str, Any]:
    """The campaign's funnel and return, over the participants ``user`` may see.

    Each step counts everyone who reached it or went further (an attendee who converted
    also attended).  Revenue is the sum of the orders linked to converted participations.
    One aggregate query.
    """
    rows = scoped_queryset(Participation, user).filter(campaign=campaign)
    aggregates: dict[str, Any] = {
        step: Count("id", filter=Q(status__in=FUNNEL[FUNNEL.index(step) :])) for step in FUNNEL
    }
    aggregates["revenue"] = Sum("transaction__amount", filter=Q(status=ParticipationStatus.CONVERTED))
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
    }


def campaign_figures(*, user: Any, campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Participants, conversions and attributed revenue of the given campaigns, over the
    participants ``user`` may see: one grouped query for a page of campaigns."""
    rows = (
        scoped_queryset(Participation, user)
        .filter(campaign_id__in=campaign_ids)
        .order_by()
        .values("campaign")
        .annotate(
            participant_count=Count("id"),
            converted_count=Count("id", filter=Q(status=ParticipationStatus.CONVERTED)),
            revenue=Sum("transaction__amount", filter=Q(status=ParticipationStatus.CONVERTED)),
        )
    )
    return {row["campaign"]: dict(row) for row in rows}
