"""Alerts in words: the facts that fired an alert, as a person reads them.

Each kind of rule leaves its figures in the alert's ``explanation``; its module in
``risk.kinds`` turns them into labelled lines (for the alert's page) and a one-line
headline (for lists), in the viewer's language.  Nothing here reads the database.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from crm.access.policy import Level
from crm.access.registry import UPDATE, may

from .kinds import KINDS

#: Why the scan closed an alert: each kind's own reasons, and those of any rule.
CLEARED = {
    **{code: reason for kind in KINDS.values() for code, reason in kind.cleared.items()},
    "condition_cleared": gettext_lazy("the rule's condition no longer holds"),
    "rule_disabled": gettext_lazy("the rule was switched off"),
}


def fact_rows(kind: str, facts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The labelled figures behind an alert, the threshold it crossed last."""
    f = facts or {}
    if kind in KINDS:
        return KINDS[kind].fact_rows(f)
    return [(key, value) for key, value in f.items()]


def headline(kind: str, facts: dict[str, Any]) -> str:
    """The one figure that matters most, for a list."""
    f = facts or {}
    if kind in KINDS:
        return KINDS[kind].headline(f)
    return ""


def cleared_reason(facts: dict[str, Any]) -> str:
    """Why the scan closed an alert, in words ("" if it did not)."""
    code = str((facts or {}).get("cleared") or "")
    return str(CLEARED.get(code, code))


def group_flags(user: Any, policy: Any) -> dict[str, bool]:
    """What a list of alert groups may show and offer this viewer: the severity and the
    deadline at their field-policy level, and the group buttons to those who may work
    alerts (their status writable)."""
    return {
        "show_severity": policy.level("risk-alerts", "severity") >= Level.READ,
        "show_due": policy.level("risk-alerts", "due_at") >= Level.READ,
        "may_work": may(user, UPDATE, "risk-alerts") and policy.level("risk-alerts", "status") >= Level.WRITE,
    }
