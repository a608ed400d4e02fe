"""Helpers of the tier dashboard's tables and server-drawn charts."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()
CHART_HEIGHT = 110


@register.simple_tag
def matrix_cell(matrix: dict[str, Any], from_id: int | None, to_id: int) -> int:
    return int(matrix["cells"].get((from_id, to_id), 0))


@register.simple_tag
def trend_h(value: int, peak: int) -> int:
    return round(CHART_HEIGHT * value / peak) if peak else 0


@register.simple_tag
def trend_y(value: int, peak: int) -> int:
    return 115 - trend_h(value, peak)


@register.simple_tag
def tier_at(rows: list[dict[str, Any]], index: int) -> Any:
    tier = rows[index]["tier"]
    return tier.pk if tier else ""


@register.simple_tag
def tier_label_at(rows: list[dict[str, Any]], index: int) -> Any:
    """The name of the ``index``-th tier of the spread, the heading of its column."""
    tier = rows[index]["tier"]
    return tier if tier else _("No tier")
