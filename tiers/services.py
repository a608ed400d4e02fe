"""Tier definitions and managers' manual overrides of a customer's tier.

The engine that grades customers automatically builds on ``tier_change_record``; every
change is history (``TierChange``) and is also audited on the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update
from customers.models import Customer

from .choices import ChangeKind
from .models import Tier, TierChange


def tier_create(*, actor: Any, data: Mapping[str, Any]) -> Tier:
    return record_create(model=Tier, actor=actor, data=data)


def tier_update(*, actor: Any, instance: Tier, data: Mapping[str, Any], expected_version: int | None) -> Tier:
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def tier_delete(*, actor: Any, instance: Tier, expected_version: int | None) -> None:
    """A tier that customers hold (or held, in history) cannot be deleted (409)."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


@transaction.atomic
def tier_change_record(
    *,
    actor: Any,
    customer: Customer,
    tier: Tier | None,
    kind: str,
    reason: str,
    score: Any = None,
    explanation: Mapping[str, Any] | None = None,
) -> TierChange:
    """Move one customer to ``tier``: write the history row and update the customer (audited)."""
    now = timezone.now()
    change = TierChange.objects.create(
        customer=customer,
        from_tier=customer.tier,
        to_tier=tier,
        kind=kind,
        changed_at=now,
        reason=reason,
        score=score,
        explanation=dict(explanation or {}),
        changed_by=actor if getattr(actor, "pk", None) else None,
    )
    fields: dict[str, Any] = {"tier": tier, "tier_since": now}
    if score is not None:
        fields["tier_score"] = score
    record_update(instance=customer, actor=actor, data=fields, expected_version=None)
    return change


@transaction.atomic
def tier_override(*, actor: Any, customer: Customer, tier: Tier, reason: str) -> TierChange:
    """A manager sets a customer's tier by hand, with a reason that stays in the history."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Say why the tier is set by hand."), field_errors={"reason": [_("This field may not be blank.")]}
        )
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.tier_id == tier.pk:
        raise DomainError(
            _("The customer already has this tier."), field_errors={"tier": [_("Choose a different tier.")]}
        )
    return tier_change_record(actor=actor, customer=locked, tier=tier, kind=ChangeKind.OVERRIDE, reason=reason)
