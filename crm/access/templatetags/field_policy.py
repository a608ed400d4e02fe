"""Template helpers of the field policy: every template shows values through these.

{% load field_policy %}
{% field_level "customers" "tax_id" as level %}{% if level %}...{% endif %}
{% field_value customer "customers" "tax_id" %}     masked or clear, "" when hidden
"""

from __future__ import annotations

from typing import Any

from django import template

from ..display import HIDDEN, display_value
from ..policy import policy_for
from ..serializers import mask_changes

register = template.Library()


def _policy(context: template.Context) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return policy_for(user, request)


@register.simple_tag(takes_context=True)
def field_level(context: template.Context, resource: str, field: str) -> int:
    """The viewer's level on a field, as a number: 0 hidden, 1 masked, 2 read, 3 write."""
    return int(_policy(context).level(resource, field))


@register.simple_tag(takes_context=True)
def field_value(context: template.Context, obj: Any, resource: str, field: str) -> Any:
    """A record's value as the viewer may see it: hidden → empty, masked → masked."""
    value = display_value(_policy(context), resource, obj, field)
    return "" if value is HIDDEN else value


@register.simple_tag(takes_context=True)
def visible_changes(context: template.Context, event: Any) -> dict[str, Any]:
    """An audit event's before/after values at the viewer's level of each field."""
    return mask_changes(_policy(context), event.resource, event.changes or {})
