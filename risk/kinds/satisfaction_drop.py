"""Satisfaction drop: the average CSAT over the window against the customer's own average
over the baseline before it, each with at least ``min_responses`` answers; NPS the same
way.  One alert per customer, measured in CSAT points lost.

One pass over each customer's answers in both periods, read in customer order from the
index that carries the scores (satisfaction_customer_time): no hash table, no second
read.  (Every answer has a CSAT or an NPS score: a check constraint says so.)
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import Kind, Param

PARAMS = {
    "drop": Param(gettext_lazy("Fall of the average CSAT"), 1.0),
    "nps_drop": Param(gettext_lazy("Fall of the average NPS"), 3.0),
    "window_days": Param(gettext_lazy("Recent answers: the last this many days"), 90, whole=True),
    "baseline_days": Param(gettext_lazy("Compared with this many days before them"), 365, whole=True),
    "min_responses": Param(gettext_lazy("Answers needed in each period"), 1, whole=True),
}

FINDINGS = """
            WITH answers AS (
                SELECT s.customer_id,
                       avg(s.csat) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_csat,
                       count(s.csat) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_n,
                       avg(s.nps) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_nps,
                       max(s.responded_at) AS last_answer,
                       avg(s.csat) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_csat,
                       count(s.csat) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_n,
                       avg(s.nps) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_nps
                FROM feedback_satisfactionresponse s
                WHERE s.responded_at > %(baseline_start)s AND s.responded_at <= %(as_of)s AND {scope}
                GROUP BY s.customer_id
            )
            SELECT a.customer_id, '' AS subject, NULL::bigint AS transaction_id,
                   round(coalesce(a.baseline_csat - a.recent_csat, 0), 2) AS measure, a.recent_csat, a.recent_n,
                   a.baseline_csat, a.baseline_n, a.recent_nps, a.baseline_nps, a.last_answer
            FROM answers a
            WHERE a.recent_n >= %(min_responses)s::int AND a.baseline_n >= %(min_responses)s::int
              AND (a.baseline_csat - a.recent_csat >= %(drop)s::numeric
                   OR a.baseline_nps - a.recent_nps >= %(nps_drop)s::numeric)
        """

FACTS = """jsonb_build_object(
            'recent_csat', round(d.recent_csat, 2), 'baseline_csat', round(d.baseline_csat, 2),
            'recent_responses', d.recent_n, 'baseline_responses', d.baseline_n,
            'recent_nps', round(d.recent_nps, 1), 'baseline_nps', round(d.baseline_nps, 1),
            'last_answer', d.last_answer, 'window_days', %(window_days)s::int,
            'min_drop', %(drop)s::numeric, 'min_nps_drop', %(nps_drop)s::numeric)"""

# Answers that entered the recent window, moved from it to the baseline, or left the
# baseline since.
MOVED = """
            SELECT s.customer_id FROM feedback_satisfactionresponse s
            WHERE (s.responded_at > %(since_as_of)s AND s.responded_at <= %(as_of)s)
               OR (s.responded_at > %(since_window_start)s AND s.responded_at <= %(window_start)s)
               OR (s.responded_at > %(since_baseline_start)s AND s.responded_at <= %(baseline_start)s)
        """


def fact_rows(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("Recent CSAT"), f.get("recent_csat")),
        (_("Earlier CSAT"), f.get("baseline_csat")),
        (_("Recent NPS"), f.get("recent_nps")),
        (_("Earlier NPS"), f.get("baseline_nps")),
        (_("Answers (recent / earlier)"), f"{f.get('recent_responses')} / {f.get('baseline_responses')}"),
        (_("Threshold"), _("CSAT down %(drop)s or NPS down %(nps)s against the customer's own past") % {
            "drop": f.get("min_drop"), "nps": f.get("min_nps_drop")}),
    ]  # fmt: skip


def headline(f: dict[str, Any]) -> str:
    return _("CSAT %(before)s → %(now)s") % {"before": f.get("baseline_csat"), "now": f.get("recent_csat")}


KIND = Kind(
    code="satisfaction_drop",
    label=gettext_lazy("Satisfaction drop"),
    position=3,
    cost_rank=4,
    measure=gettext_lazy("CSAT points lost"),
    params=PARAMS,
    findings=FINDINGS,
    facts=FACTS,
    scope="s.customer_id",
    moved=MOVED,
    sources=("answer",),
    fact_rows=fact_rows,
    headline=headline,
)
