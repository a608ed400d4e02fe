"""Overdue payment: unpaid orders past their due date by at least the rule's days, for at
least the rule's amount in the order's own currency; one alert per order, measured in
days overdue.

Served by the partial indexes of open receivables, by due date (txn_open_due) or, for a
range of customers, by customer and due date (txn_open_customer_due).  The comparison
carries only the order and its days overdue; the figures the facts show are read again
(by primary key) for the orders whose alert is raised or re-graded.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from transactions.choices import OPEN_STATUSES, sql_list

from .base import BY_ORDER, Kind, Param, money

# Written into the statements, so that the planner matches the open receivables' indexes.
OPEN = sql_list(OPEN_STATUSES)

PARAMS = {
    "days_overdue": Param(gettext_lazy("Days past the due date"), 1, whole=True),
    "min_amount": Param(gettext_lazy("Smallest outstanding amount"), 0),
    "min_amount_by_currency": Param(gettext_lazy("Smallest outstanding amount in a currency"), {}, per_currency=True),
}

#: An order (alias ``t``) the rule flags: open, past due by at least the rule's days, and
#: owing at least the rule's amount in its currency.  What is owed is the amount less
#: refunds less what the payment records brought (the order's derived figures).
OVERDUE_ORDER = f"""t.status IN ({OPEN})
              AND t.due_date <= %(today)s::date - %(days_overdue)s::int
              AND t.paid_amount < t.amount - t.refunded_amount
              AND t.amount - t.refunded_amount - t.paid_amount
                  >= coalesce((%(min_amount_by_currency)s::jsonb ->> t.currency)::numeric, %(min_amount)s::numeric)"""

FINDINGS = f"""
            SELECT t.customer_id, t.id AS transaction_id, (%(today)s::date - t.due_date)::numeric AS measure
            FROM transactions_transaction t
            WHERE {OVERDUE_ORDER}
              AND {{scope}}
        """  # noqa: S608 - constants

FACTS = """jsonb_build_object(
            'order_id', d.transaction_id, 'reference', nullif(o.external_ref, ''), 'order_date', o.order_date,
            'due_date', o.due_date, 'days_overdue', d.measure, 'amount', o.amount,
            'paid', o.paid_amount, 'outstanding', o.amount - o.refunded_amount - o.paid_amount, 'currency', o.currency,
            'min_days', %(days_overdue)s::int,
            'min_amount',
            coalesce((%(min_amount_by_currency)s::jsonb ->> o.currency)::numeric, %(min_amount)s::numeric))"""

# Open orders whose days overdue reached the rule's days or a level's start since
# (``{crossed}``: one due-date range per such day count, from the partial index).
MOVED = f"""
            SELECT t.customer_id FROM transactions_transaction t
            WHERE t.status IN ({OPEN}) AND ({{crossed}})
        """  # noqa: S608 - the statuses are constants


def crossed(params: dict[str, Any]) -> str:
    """One due-date range per day count that changes an overdue order's standing: the
    rule's days and each level's start (a whole day: the measure counts days)."""
    days = {int(params["days_overdue"])} | {math.ceil(start) for start in params["level_starts"]}
    return " OR ".join(
        f"(t.due_date > %(since_today)s::date - {d} AND t.due_date <= %(today)s::date - {d})" for d in sorted(days)
    )


# Why an overdue-payment alert cleared, from the order as it is now.
REASON = """(
    SELECT CASE WHEN t.id IS NULL THEN 'order_gone'
                WHEN t.customer_id <> a.customer_id THEN 'order_moved'
                WHEN t.status IN ('cancelled', 'refunded') THEN 'order_cancelled'
                WHEN t.paid_amount >= t.amount - t.refunded_amount OR t.status IN ('paid', 'completed') THEN 'paid'
                ELSE 'below_threshold' END
    FROM (SELECT 1) one LEFT JOIN transactions_transaction t ON t.id = a.transaction_id
)"""

CLEARED = {
    "paid": gettext_lazy("the order was paid"),
    "order_cancelled": gettext_lazy("the order was cancelled"),
    "order_gone": gettext_lazy("the order no longer exists"),
    "order_moved": gettext_lazy("the order now belongs to another customer"),
    "below_threshold": gettext_lazy("what is still owed is below the rule's amount"),
}


def fact_rows(f: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (_("Days overdue"), f.get("days_overdue")),
        (_("Due date"), f.get("due_date")),
        (_("Order date"), f.get("order_date")),
        (_("Amount"), money(f.get("amount"), f.get("currency"))),
        (_("Paid"), money(f.get("paid"), f.get("currency"))),
        (_("Outstanding"), money(f.get("outstanding"), f.get("currency"))),
        (_("Threshold"), _("from %(days)s days late and %(amount)s owed") % {
            "days": f.get("min_days"), "amount": money(f.get("min_amount"), f.get("currency"))}),
    ]  # fmt: skip


def headline(f: dict[str, Any]) -> str:
    return _("%(days)s days overdue · %(amount)s owed") % {
        "days": f.get("days_overdue"), "amount": money(f.get("outstanding"), f.get("currency"))}  # fmt: skip


KIND = Kind(
    code="overdue_payment",
    label=gettext_lazy("Overdue payment"),
    position=1,
    cost_rank=1,
    measure=gettext_lazy("days overdue"),
    params=PARAMS,
    findings=FINDINGS,
    facts=FACTS,
    details="JOIN transactions_transaction o ON o.id = d.transaction_id",
    subject="'order:' || d.transaction_id",
    scope="t.customer_id",
    moved=MOVED,
    crossed=crossed,
    sources=("order",),
    match=BY_ORDER,
    split=True,
    reason=REASON,
    cleared=CLEARED,
    fact_rows=fact_rows,
    headline=headline,
)
