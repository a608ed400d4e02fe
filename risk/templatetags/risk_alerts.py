"""Template helpers of risk alerts, for the pages of other apps that list alert groups.

{% load risk_alerts %}
{% alert_groups groups %}    the groups as one table, with their group buttons
"""

from __future__ import annotations

from typing import Any

from django import template

from crm.access.policy import policy_for

from ..display import group_flags

register = template.Library()


@register.inclusion_tag("risk/partials/alert_groups.html", takes_context=True)
def alert_groups(
    context: template.Context,
    groups: Any,
    show_customer: bool = True,
    testid: str = "alert-groups",
    next_url: str = "",
) -> dict[str, Any]:
    """Alert groups (``risk.selectors.AlertGroup``) as the inbox shows them: the worst
    severity, the count, the earliest deadline, opened to the alerts and their orders,
    with the acknowledge and resolve buttons for the viewer who may work them; a group
    action returns to this page (or to ``next_url``)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "groups": groups,
        "next": next_url or (request.get_full_path() if request is not None else ""),
        "show_customer": show_customer,
        "testid": testid,
        **group_flags(user, policy_for(user, request)),
    }
