"""Small presentation helpers shared by every page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.formats import record_kind
from crm.core.localized import localized as localized_value

register = template.Library()


@register.filter
def cell(value: Any) -> Any:
    """A value as a table cell shows it: dates and times in the business time zone,
    amounts grouped, yes/no for flags, a dash for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


@register.filter
def localized(obj: Any, field: str) -> Any:
    """Content kept per language (``{{ tier|localized:"benefits" }}``) in the reader's
    language, else in the other (see ``crm.core.localized``)."""
    return localized_value(obj, field)


@register.filter(name="record_kind")
def record_kind_filter(label: str) -> Any:
    """A kind of record by its name in the reader's language (``customers.activity``)."""
    return record_kind(label)


@register.simple_tag
def tier_badge(tier: Any) -> Any:
    """A customer's tier as a coloured badge (or a dash when ungraded)."""
    if tier is None:
        return format_html('<span class="badge text-bg-light border">{}</span>', _("No tier"))
    return format_html(
        '<span class="badge tier-badge" style="background-color: {}">{}</span>', tier.colour or "#6c757d", tier
    )


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str, current: str) -> str:
    """The query string that sorts the list by ``key``, flipping the direction when it is
    already sorted that way."""
    query = context["request"].GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{key}" if current == key else key
    return str(query.urlencode())


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def column_name(columns: list[tuple[str, str]], index: int) -> str:
    return columns[index][0]


@register.filter
def column_label(columns: list[tuple[str, str]], index: int) -> str:
    """The heading of a table's column, for the ``data-label`` of its cells (a phone's card)."""
    return columns[index][1]


@register.filter
def item_at(items: list[Any], index: int) -> Any:
    """The ``index``-th of ``items`` (a table's heading beside its loop over values)."""
    return items[index] if 0 <= index < len(items) else ""


@register.filter
def card_class(table: dict[str, Any], index: int) -> str:
    """``card-extra`` for a cell a phone's card leaves off (neither the title, the first
    column, nor one of the table's ``card`` fields), else nothing."""
    if index == 0 or table["columns"][index][0] in table.get("card", ()):
        return ""
    return "card-extra"


_TIMELINE_KINDS = {
    "activity": gettext_lazy("Follow-up"),
    "transaction": gettext_lazy("Order"),
    "service_record": gettext_lazy("Service"),
    "feedback": gettext_lazy("Feedback"),
    "satisfaction": gettext_lazy("Satisfaction survey"),
    "tier_change": gettext_lazy("Tier change"),
    "risk_alert": gettext_lazy("Risk alert"),
    "audit": gettext_lazy("Change"),
}


@register.filter
def timeline_kind(kind: str) -> Any:
    """The name of a kind of timeline entry, in the page's language."""
    return _TIMELINE_KINDS.get(kind, kind)
