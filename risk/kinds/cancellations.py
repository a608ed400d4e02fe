"""Cancellations: orders cancelled within the window, not counting one the customer
placed again (the same product, ordered within the reorder days after it): at least
``count`` of them, or at least ``rate`` of the window's orders when there were
``min_orders``; one alert per customer, measured in cancelled orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import Kind, Param

PARAMS = {
    "count": Param(gettext_lazy("Cancelled orders"), 2, whole=True),
    "rate": Param(gettext_lazy("Share of the window's orders cancelled (0–1)"), 0.3, most=1),
    "min_orders": Param(gettext_lazy("Orders in the window before the share counts"), 3, whole=True),
    "window_days": Param(gettext_lazy("Window, in days"), 90, whole=True),
    "reorder_days": Param(gettext_lazy("An order placed again within this many days does not count"), 7, whole=True),
}

FINDINGS = """
            WITH cancelled AS (
                SELECT x.customer_id, count(*) AS cancelled, max(x.order_date) AS last_cancelled
                FROM transactions_transaction x
                WHERE x.status = 'cancelled'
                  AND x.order_date > %(today)s::date - %(window_days)s::int AND x.order_date <= %(today)s::date
                  AND {scope}
                  AND NOT EXISTS (  -- not cancelled itself, so never the same order
                      SELECT 1 FROM transactions_transaction again
                      WHERE again.customer_id = x.customer_id AND again.product_id = x.product_id
                        AND again.status NOT IN ('cancelled', 'refunded')
                        AND again.order_date >= x.order_date
                        AND again.order_date <= x.order_date + %(reorder_days)s::int
                  )
                GROUP BY x.customer_id
            ),
            rated AS (
                SELECT c.*, o.orders, round(c.cancelled::numeric / greatest(o.orders, 1), 3) AS rate
                FROM cancelled c
                CROSS JOIN LATERAL (
                    SELECT count(*) AS orders FROM transactions_transaction t
                    WHERE t.customer_id = c.customer_id
                      AND t.order_date > %(today)s::date - %(window_days)s::int AND t.order_date <= %(today)s::date
                ) o
            )
            SELECT r.customer_id, '' AS subject, NULL::bigint AS transaction_id, r.cancelled::numeric AS measure,
                   r.cancelled, r.orders, r.rate, r.last_cancelled
            FROM rated r
            WHERE r.cancelled >= %(count)s::int
               OR (r.orders >= %(min_orders)s::int AND r.rate >= %(rate)s::numeric)
        """

FACTS = """jsonb_build_object(
            'cancelled', d.cancelled, 'orders', d.orders, 'rate', d.rate, 'last_cancelled', d.last_cancelled,
            'window_days', %(window_days)s::int, 'min_count', %(count)s::int, 'min_rate', %(rate)s::numeric,
            'min_orders', %(min_orders)s::int)"""

# Orders that entered the window (dated up to today) or left it since.
MOVED = """
            SELECT t.customer_id FROM transactions_transaction t
            WHERE (t.order_date > %(since_today)s::date AND t.order_date <= %(today)s::date)
               OR (t.order_date > %(since_today)s::date - %(window_days)s::int
                   AND t.order_date <= %(today)s::date - %(window_days)s::int)
        """


def fact_rows(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("Cancelled orders"), f.get("cancelled")),
        (_("Orders in the window"), f.get("orders")),
        (_("Cancellation rate"), f"{Decimal(str(f.get('rate') or 0)) * 100:.0f}%"),
        (_("Last cancelled"), f.get("last_cancelled")),
        (_("Threshold"), _("%(count)s cancelled, or %(rate)s%% of at least %(orders)s orders, in %(days)s days") % {
            "count": f.get("min_count"), "rate": f"{Decimal(str(f.get('min_rate') or 0)) * 100:.0f}",
            "orders": f.get("min_orders"), "days": f.get("window_days")}),
    ]  # fmt: skip


def headline(f: dict[str, Any]) -> str:
    return _("%(n)s of %(orders)s orders cancelled") % {"n": f.get("cancelled"), "orders": f.get("orders")}


KIND = Kind(
    code="cancellations",
    label=gettext_lazy("Order cancellations"),
    position=2,
    cost_rank=3,
    measure=gettext_lazy("cancelled orders"),
    params=PARAMS,
    findings=FINDINGS,
    facts=FACTS,
    scope="x.customer_id",
    moved=MOVED,
    sources=("order",),
    fact_rows=fact_rows,
    headline=headline,
)
