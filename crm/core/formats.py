"""Values as people read them in running text (a timeline entry, a message)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps

#: Currencies written with their sign before the amount.
_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def money(amount: Decimal | int | float | None, currency: str = "CNY") -> str:
    """An amount with its currency: ``¥252,000``, ``¥1,234.50``, ``5,000 CHF``."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    figure = f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    sign = _SIGNS.get(currency)
    return f"{sign}{figure}" if sign else f"{figure} {currency}"


def record_kind(label: str) -> Any:
    """A kind of record by its name in the reader's language (``customers.activity`` →
    跟进), or the label itself when no model has it."""
    try:
        return apps.get_model(label)._meta.verbose_name
    except (LookupError, ValueError):
        return label
