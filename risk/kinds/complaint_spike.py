"""Complaint spike: at least ``count`` complaints received within the window; one alert
per customer, measured in complaints."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import Kind, Param

PARAMS = {
    "count": Param(gettext_lazy("Complaints"), 3, whole=True),
    "window_days": Param(gettext_lazy("Window, in days"), 30, whole=True),
}

FINDINGS = """
            SELECT f.customer_id, '' AS subject, NULL::bigint AS transaction_id, count(*)::numeric AS measure,
                   max(f.received_at) AS latest
            FROM feedback_feedback f
            WHERE f.kind = 'complaint' AND f.received_at > %(window_start)s AND f.received_at <= %(as_of)s
              AND {scope}
            GROUP BY f.customer_id
            HAVING count(*) >= %(count)s::int
        """

FACTS = """jsonb_build_object(
            'complaints', d.measure, 'latest', d.latest, 'window_days', %(window_days)s::int,
            'min_count', %(count)s::int)"""

# Complaints that entered or left the window since.
MOVED = """
            SELECT f.customer_id FROM feedback_feedback f
            WHERE f.kind = 'complaint'
              AND ((f.received_at > %(since_as_of)s AND f.received_at <= %(as_of)s)
                   OR (f.received_at > %(since_window_start)s AND f.received_at <= %(window_start)s))
        """


def fact_rows(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("Complaints"), f.get("complaints")),
        (_("Latest"), f.get("latest")),
        (_("Threshold"), _("%(count)s complaints in %(days)s days") % {
            "count": f.get("min_count"), "days": f.get("window_days")}),
    ]  # fmt: skip


def headline(f: dict[str, Any]) -> str:
    return _("%(n)s complaints in %(days)s days") % {"n": f.get("complaints"), "days": f.get("window_days")}


KIND = Kind(
    code="complaint_spike",
    label=gettext_lazy("Complaint spike"),
    position=5,
    cost_rank=5,
    measure=gettext_lazy("complaints"),
    params=PARAMS,
    findings=FINDINGS,
    facts=FACTS,
    scope="f.customer_id",
    moved=MOVED,
    sources=("feedback",),
    fact_rows=fact_rows,
    headline=headline,
)
