"""Inactivity: silent for at least ``min_days`` and for ``factor`` times the customer's
usual gap between orders (from its first to its last order), once it has ordered on
``min_orders`` different days to show a rhythm.  A churned customer is past this warning.
One alert per customer, measured in times the usual gap.

The rhythm is read from the order statistics the database keeps per customer
(transactions.CustomerOrderStats), not from the orders themselves.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import Kind, Param

PARAMS = {
    "factor": Param(gettext_lazy("Times the customer's usual gap between orders"), 2.0),
    "min_days": Param(gettext_lazy("Silent for at least this many days"), 60, whole=True),
    "min_orders": Param(gettext_lazy("Days with orders needed to know the rhythm"), 3, whole=True),
}

FINDINGS = """
            WITH gaps AS (
                SELECT st.customer_id, st.order_days AS orders, st.last_order_date AS last_order,
                       (st.last_order_date - st.first_order_date)::float8 / (st.order_days - 1) AS exact_gap,
                       round((st.last_order_date - st.first_order_date)::numeric / (st.order_days - 1), 1) AS usual_gap,
                       %(today)s::date - st.last_order_date AS silent
                FROM transactions_customerorderstats st
                WHERE st.order_days >= greatest(%(min_orders)s::int, 2)
                  AND st.last_order_date <= %(today)s::date - %(min_days)s::int AND {scope}
            )
            SELECT g.customer_id, '' AS subject, NULL::bigint AS transaction_id,
                   round(g.silent / greatest(g.usual_gap, 1), 2) AS measure, g.last_order, g.silent, g.usual_gap,
                   g.orders
            FROM gaps g
            -- First a cheap test in floating point that every finding passes (the rounded
            -- gap is within 0.05 of the exact one): most silent customers are far from
            -- their threshold, and the exact figures are dear for half a million of them.
            -- The daily pass (``moved``) tests the same bound: keep the two alike.
            WHERE CASE WHEN g.silent::float8 + 0.01 >= %(factor)s::float8 * (g.exact_gap - 0.05)
                       THEN g.silent >= %(factor)s::numeric * greatest(g.usual_gap, 1)
                       ELSE false END
              AND NOT EXISTS (  -- from the small index of churned customers
                  SELECT 1 FROM customers_customer c WHERE c.id = g.customer_id AND c.lifecycle_stage = 'churned'
              )
        """

FACTS = """jsonb_build_object(
            'last_order', d.last_order, 'days_silent', d.silent, 'usual_gap_days', d.usual_gap, 'orders', d.orders,
            'times_usual_gap', d.measure, 'min_days', %(min_days)s::int, 'factor', %(factor)s::numeric)"""

# Every silent customer drifts further from its own rhythm each day; the ones that
# crossed the rule's days, its factor or a level's start (in times their own gap) since
# are found in one pass over the rhythms, without reading their alerts.  Silence only
# grows: a customer not silent enough now was not then.
MOVED = """
            SELECT st.customer_id
            FROM transactions_customerorderstats st
            CROSS JOIN LATERAL (
                SELECT greatest(round((st.last_order_date - st.first_order_date)::numeric / (st.order_days - 1), 1), 1)
                           AS gap,
                       (st.last_order_date - st.first_order_date)::float8 / (st.order_days - 1) AS exact_gap,
                       %(today)s::date - st.last_order_date AS silent,
                       %(since_today)s::date - st.last_order_date AS silent_then
            ) g
            WHERE st.order_days >= greatest(%(min_orders)s::int, 2)
              AND st.last_order_date <= %(today)s::date - %(min_days)s::int
              -- First cheap conditions in floating point, with margins that the exact
              -- figures cannot cross (the rounded gap is within 0.05 of the exact one, a
              -- rounded measure within 0.005): silent enough now, and below the factor or
              -- a level's start then (``crossed`` below).  Of a million rhythms a few
              -- thousand pass, and only those have their exact figures worked out.
              AND CASE WHEN g.silent::float8 + 0.01 >= %(factor)s::float8 * (g.exact_gap - 0.05)
                            AND (g.silent_then < %(min_days)s::int OR {crossed})
                       THEN g.silent >= %(factor)s::numeric * g.gap
                            AND (g.silent_then < %(min_days)s::int OR g.silent_then < %(factor)s::numeric * g.gap
                                 OR width_bucket(round(g.silent_then / g.gap, 2), %(level_starts)s::numeric[])
                                    <> width_bucket(round(g.silent / g.gap, 2), %(level_starts)s::numeric[]))
                       ELSE false END
        """


def crossed(params: dict[str, Any]) -> str:
    """For each multiple of its own gap that changes a silent customer's standing (the
    rule's factor and each level's start), a cheap test in floating point that the
    customer may have crossed it since: above it now and below it then, each within
    margins wider than the rounding of the gap (0.05 day) and of the measure (0.005).
    The multiples go into ``params`` (``silence_multiples``), which the test reads."""
    params["silence_multiples"] = sorted({float(params["factor"]), *(float(s) for s in params["level_starts"])})
    return (
        "("
        + " OR ".join(
            f"(g.silent::float8 + 0.01 >= ((%(silence_multiples)s::float8[])[{i}] - 0.005) * (g.exact_gap - 0.05)"
            f" AND g.silent_then::float8 < ((%(silence_multiples)s::float8[])[{i}] + 0.005)"
            f" * greatest(g.exact_gap + 0.05, 1) + 0.01)"
            for i in range(1, len(params["silence_multiples"]) + 1)
        )
        + ")"
    )


def fact_rows(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("Last order"), f.get("last_order")),
        (_("Days without an order"), f.get("days_silent")),
        (_("Usual days between orders"), f.get("usual_gap_days")),
        (_("Times the usual gap"), f.get("times_usual_gap")),
        (_("Threshold"), _("%(days)s days and %(factor)s× the usual gap") % {
            "days": f.get("min_days"), "factor": f.get("factor")}),
    ]  # fmt: skip


def headline(f: dict[str, Any]) -> str:
    return _("%(days)s days without an order (usually %(gap)s)") % {
        "days": f.get("days_silent"), "gap": f.get("usual_gap_days")}  # fmt: skip


KIND = Kind(
    code="inactivity",
    label=gettext_lazy("Inactivity"),
    position=4,
    cost_rank=2,
    measure=gettext_lazy("times the usual gap between orders"),
    params=PARAMS,
    findings=FINDINGS,
    facts=FACTS,
    scope="st.customer_id",
    moved=MOVED,
    crossed=crossed,
    sources=("order",),
    fact_rows=fact_rows,
    headline=headline,
)
