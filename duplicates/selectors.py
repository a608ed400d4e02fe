"""Reads of duplicate candidates, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from crm.access.scope import scoped_queryset
from customers.models import Contact
from risk.choices import OPEN_STATUSES
from risk.models import RiskAlert
from transactions.models import Transaction

from .models import DuplicateCandidate


def candidate_list(*, user: Any) -> QuerySet[DuplicateCandidate]:
    """The pairs whose two customers ``user`` may see, most likely first."""
    return (
        scoped_queryset(DuplicateCandidate, user)
        .select_related("customer_a", "customer_b", "survivor", "decided_by")
        .order_by("-score", "customer_a_id", "customer_b_id")
    )


def side_counts(pair: DuplicateCandidate) -> dict[int, dict[str, int]]:
    """Each side's number of contacts, orders and open alerts (three queries, whatever
    the sizes)."""
    sides = [pk for pk in (pair.customer_a_id, pair.customer_b_id) if pk is not None]
    counts: dict[int, dict[str, int]] = {pk: {"contacts": 0, "orders": 0, "alerts": 0} for pk in sides}
    for name, queryset in (
        ("contacts", Contact.objects.filter(customer_id__in=sides)),
        ("orders", Transaction.objects.filter(customer_id__in=sides)),
        ("alerts", RiskAlert.objects.filter(customer_id__in=sides, status__in=OPEN_STATUSES)),
    ):
        for row in queryset.values("customer_id").annotate(n=Count("pk")).order_by():
            counts[row["customer_id"]][name] = row["n"]
    return counts
