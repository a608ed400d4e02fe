"""Reads of campaigns and their results, from the record scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

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


def campaign_overview(*, user: Any) -> QuerySet[Campaign]:
    """Campaigns with their participants, conversions and attributed revenue (over the
    participants the user may see), in one query for the whole list."""
    visible = scoped_queryset(Participation, user)
    per_campaign = visible.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    return campaign_list(user=user).annotate(
        participant_count=Coalesce(Subquery(per_campaign.annotate(n=Count("id")).values("n")[:1]), 0),
        converted_count=Coalesce(
            Subquery(per_campaign.filter(status=ParticipationStatus.CONVERTED).annotate(n=Count("id")).values("n")[:1]),
            0,
        ),
        revenue=Subquery(
            per_campaign.filter(status=ParticipationStatus.CONVERTED)
            .annotate(total=Sum("transaction__amount"))
            .values("total")[:1]
        ),
    )
