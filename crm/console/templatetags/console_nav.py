"""``{% console_tabs request.path as tabs %}``: the console's navigation, shell and apps alike."""

from __future__ import annotations

from typing import Any

from django import template

from ..pages import tabs

register = template.Library()


@register.simple_tag
def console_tabs(path: str) -> list[dict[str, Any]]:
    return tabs(path)
