"""Reads of orders and products, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.lookups import LessThan
from django.utils import timezone

from crm.access.scope import scoped_lookup, scoped_queryset

from .choices import OPEN_STATUSES
from .models import Payment, Product, Transaction, open_due_expression


def product_list(*, user: Any) -> QuerySet[Product]:
    return scoped_queryset(Product, user)


def transaction_list(*, user: Any) -> QuerySet[Transaction]:
    return scoped_queryset(Transaction, user).select_related("customer", "product", "sales_rep")


def payment_list(*, user: Any) -> QuerySet[Payment]:
    """The payment records of the orders the user may see."""
    return scoped_queryset(Payment, user).select_related("customer", "order", "recorded_by")


def transaction_by_reference(*, user: Any, source: str, external_ref: str) -> Transaction | None:
    """The order an external system knows by ``(source, external_ref)``, if the user may
    see it; a reference held by an order beyond their scope is refused as taken (409)."""
    if not source or not external_ref:
        return None
    return scoped_lookup(Transaction, user, source=source, external_ref=external_ref)


def overdue_condition() -> Q:
    """An order is overdue when its due date has passed and it is not fully paid (what was
    paid falls short of the amount less refunds).

    The open due date's test says again what the status and the due date say, so that
    PostgreSQL reads the overdue from their own index (``txn_overdue``) and counts them
    from its statistics of that expression."""
    today = timezone.localdate()
    return Q(
        LessThan(open_due_expression(), today),
        due_date__lt=today,
        status__in=OPEN_STATUSES,
        paid_amount__lt=F("amount") - F("refunded_amount"),
    )
