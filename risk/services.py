"""Risk rules and the alert workflow.

An alert moves open → acknowledged → resolved, or is dismissed with a note; a closed
alert stays closed (the scan raises a new one if the risk returns).  Every function is
one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.scope import customers_visible_to
from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update

from .choices import OPEN_STATUSES, AlertStatus, RiskKind
from .models import RiskAlert, RiskRule

#: The parameters each kind of rule understands, with what they mean.
RULE_PARAMS: dict[str, dict[str, str]] = {
    RiskKind.OVERDUE_PAYMENT: {"days_overdue": "days past the due date", "min_amount": "smallest outstanding amount"},
    RiskKind.CANCELLATIONS: {"count": "cancelled orders", "window_days": "within this many days"},
    RiskKind.SATISFACTION_DROP: {"drop": "fall of the average CSAT", "window_days": "compared over this many days"},
    RiskKind.INACTIVITY: {"factor": "times the usual gap between orders", "min_days": "at least this many days"},
    RiskKind.COMPLAINT_SPIKE: {"count": "complaints", "window_days": "within this many days"},
}


def _check_params(data: Mapping[str, Any], instance: RiskRule | None) -> None:
    kind = data.get("kind", instance.kind if instance else None)
    params = data.get("params", instance.params if instance else {})
    if kind is None:
        return
    known = RULE_PARAMS.get(kind, {})
    errors: list[str] = []
    if not isinstance(params, dict):
        errors.append(_("Give an object of parameter names and numbers."))
    else:
        for name, value in params.items():
            if name not in known:
                errors.append(
                    _("Unknown parameter %(name)s; use %(known)s.") % {"name": name, "known": ", ".join(known)}
                )
            elif isinstance(value, bool) or not isinstance(value, Real) or value < 0:
                errors.append(_("%(name)s must be a number of zero or more.") % {"name": name})
    if errors:
        raise DomainError(_("The rule's parameters are not valid."), field_errors={"params": errors})


def risk_rule_create(*, actor: Any, data: Mapping[str, Any]) -> RiskRule:
    _check_params(data, None)
    return record_create(model=RiskRule, actor=actor, data=data)


def risk_rule_update(
    *, actor: Any, instance: RiskRule, data: Mapping[str, Any], expected_version: int | None
) -> RiskRule:
    _check_params(data, instance)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def risk_rule_delete(*, actor: Any, instance: RiskRule, expected_version: int | None) -> None:
    """A rule that raised alerts is kept (409): disable it instead."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


def _check_assignee(data: Mapping[str, Any], customer: Any) -> None:
    assignee = data.get("assignee")
    if assignee is not None and not customers_visible_to(assignee).filter(pk=customer.pk).exists():
        raise DomainError(
            _("The assignee must be able to see this customer."),
            field_errors={"assignee": [_("This user cannot see the customer.")]},
        )


def _workflow(data: dict[str, Any], instance: RiskAlert | None) -> dict[str, Any]:
    status = data.get("status", instance.status if instance else AlertStatus.OPEN)
    previous = instance.status if instance else None
    if previous is not None and previous not in OPEN_STATUSES and status != previous:
        raise DomainError(
            _("A closed alert cannot be reopened; the next scan raises a new one if the risk is still there."),
            field_errors={"status": [_("This alert is already %(status)s.") % {"status": previous}]},
        )
    now = timezone.now()
    if status == AlertStatus.ACKNOWLEDGED and not (instance and instance.acknowledged_at):
        data["acknowledged_at"] = now
    if status in (AlertStatus.RESOLVED, AlertStatus.DISMISSED) and status != previous:
        data["resolved_at"] = now
        if status == AlertStatus.DISMISSED and not data.get("resolution_note", instance and instance.resolution_note):
            raise DomainError(
                _("Say why the alert is dismissed."),
                field_errors={"resolution_note": [_("Required to dismiss an alert.")]},
            )
    return data


@transaction.atomic
def risk_alert_create(*, actor: Any, data: Mapping[str, Any]) -> RiskAlert:
    """Raise an alert by hand.  Severity and playbook default to the rule's; it is assigned
    to the customer's owner unless someone else is named."""
    data = dict(data)
    rule: RiskRule = data["rule"]
    data.setdefault("severity", rule.severity)
    if not data.get("severity"):
        data["severity"] = rule.severity
    if not data.get("recommended_action"):
        data["recommended_action"] = rule.playbook
    if not data.get("title"):
        data["title"] = rule.name
    if data.get("assignee") is None:
        data["assignee"] = data["customer"].owner
    data["raised_at"] = data.get("raised_at") or timezone.now()
    _check_assignee(data, data["customer"])
    return record_create(model=RiskAlert, actor=actor, data=_workflow(data, None))


@transaction.atomic
def risk_alert_update(
    *, actor: Any, instance: RiskAlert, data: Mapping[str, Any], expected_version: int | None
) -> RiskAlert:
    """Work an alert: acknowledge, resolve or dismiss it, reassign it, add notes."""
    data = dict(data)
    _check_assignee(data, data.get("customer", instance.customer))
    return record_update(
        instance=instance, actor=actor, data=_workflow(data, instance), expected_version=expected_version
    )


def risk_alert_delete(*, actor: Any, instance: RiskAlert, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)
