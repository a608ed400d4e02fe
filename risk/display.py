"""Alerts in words: the facts that fired an alert, as a person reads them.

Each kind of rule leaves its figures in the alert's ``explanation``; these helpers turn
them into labelled lines (for the alert's page) and a one-line headline (for lists), in
the viewer's language.  Nothing here reads the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import RiskKind

CLEARED = {
    "paid": gettext_lazy("the order was paid"),
    "order_cancelled": gettext_lazy("the order was cancelled"),
    "order_gone": gettext_lazy("the order no longer exists"),
    "order_moved": gettext_lazy("the order now belongs to another customer"),
    "below_threshold": gettext_lazy("what is still owed is below the rule's amount"),
    "condition_cleared": gettext_lazy("the rule's condition no longer holds"),
    "rule_disabled": gettext_lazy("the rule was switched off"),
}


def _money(value: Any, currency: Any = "") -> str:
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return "—"
    return f"{currency} {amount:,.2f}".strip()


def fact_rows(kind: str, facts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The labelled figures behind an alert, the threshold it crossed last."""
    f = facts or {}
    if kind == RiskKind.OVERDUE_PAYMENT:
        return [
            (_("Days overdue"), f.get("days_overdue")),
            (_("Due date"), f.get("due_date")),
            (_("Order date"), f.get("order_date")),
            (_("Amount"), _money(f.get("amount"), f.get("currency"))),
            (_("Paid"), _money(f.get("paid"), f.get("currency"))),
            (_("Outstanding"), _money(f.get("outstanding"), f.get("currency"))),
            (_("Threshold"), _("from %(days)s days late and %(amount)s owed") % {
                "days": f.get("min_days"), "amount": _money(f.get("min_amount"), f.get("currency"))}),
        ]  # fmt: skip
    if kind == RiskKind.CANCELLATIONS:
        return [
            (_("Cancelled orders"), f.get("cancelled")),
            (_("Orders in the window"), f.get("orders")),
            (_("Cancellation rate"), f"{Decimal(str(f.get('rate') or 0)) * 100:.0f}%"),
            (_("Last cancelled"), f.get("last_cancelled")),
            (_("Threshold"), _("%(count)s cancelled, or %(rate)s%% of at least %(orders)s orders, in %(days)s days") % {
                "count": f.get("min_count"), "rate": f"{Decimal(str(f.get('min_rate') or 0)) * 100:.0f}",
                "orders": f.get("min_orders"), "days": f.get("window_days")}),
        ]  # fmt: skip
    if kind == RiskKind.SATISFACTION_DROP:
        return [
            (_("Recent CSAT"), f.get("recent_csat")),
            (_("Earlier CSAT"), f.get("baseline_csat")),
            (_("Recent NPS"), f.get("recent_nps")),
            (_("Earlier NPS"), f.get("baseline_nps")),
            (_("Answers (recent / earlier)"), f"{f.get('recent_responses')} / {f.get('baseline_responses')}"),
            (_("Threshold"), _("CSAT down %(drop)s or NPS down %(nps)s against the customer's own past") % {
                "drop": f.get("min_drop"), "nps": f.get("min_nps_drop")}),
        ]  # fmt: skip
    if kind == RiskKind.INACTIVITY:
        return [
            (_("Last order"), f.get("last_order")),
            (_("Days without an order"), f.get("days_silent")),
            (_("Usual days between orders"), f.get("usual_gap_days")),
            (_("Times the usual gap"), f.get("times_usual_gap")),
            (_("Threshold"), _("%(days)s days and %(factor)s× the usual gap") % {
                "days": f.get("min_days"), "factor": f.get("factor")}),
        ]  # fmt: skip
    if kind == RiskKind.COMPLAINT_SPIKE:
        return [
            (_("Complaints"), f.get("complaints")),
            (_("Latest"), f.get("latest")),
            (_("Threshold"), _("%(count)s complaints in %(days)s days") % {
                "count": f.get("min_count"), "days": f.get("window_days")}),
        ]  # fmt: skip
    return [(key, value) for key, value in f.items()]


def headline(kind: str, facts: dict[str, Any]) -> str:
    """The one figure that matters most, for a list."""
    f = facts or {}
    if kind == RiskKind.OVERDUE_PAYMENT:
        return _("%(days)s days overdue · %(amount)s owed") % {
            "days": f.get("days_overdue"), "amount": _money(f.get("outstanding"), f.get("currency"))}  # fmt: skip
    if kind == RiskKind.CANCELLATIONS:
        return _("%(n)s of %(orders)s orders cancelled") % {"n": f.get("cancelled"), "orders": f.get("orders")}
    if kind == RiskKind.SATISFACTION_DROP:
        return _("CSAT %(before)s → %(now)s") % {"before": f.get("baseline_csat"), "now": f.get("recent_csat")}
    if kind == RiskKind.INACTIVITY:
        return _("%(days)s days without an order (usually %(gap)s)") % {
            "days": f.get("days_silent"), "gap": f.get("usual_gap_days")}  # fmt: skip
    if kind == RiskKind.COMPLAINT_SPIKE:
        return _("%(n)s complaints in %(days)s days") % {"n": f.get("complaints"), "days": f.get("window_days")}
    return ""


def cleared_reason(facts: dict[str, Any]) -> str:
    """Why the scan closed an alert, in words ("" if it did not)."""
    code = str((facts or {}).get("cleared") or "")
    return str(CLEARED.get(code, code))
