"""Reads of tiers and tier history, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from crm.access.scope import customers_visible_to, scoped_queryset

from .models import Tier, TierChange


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
