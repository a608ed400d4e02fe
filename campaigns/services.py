"""Campaigns and the funnel each participating customer moves down.

Every function is one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update

from .choices import ParticipationStatus
from .models import Campaign, Participation

# The funnel in order; reaching a step means having passed the ones before it.
FUNNEL = [choice.value for choice in ParticipationStatus]
STAMP = {step: f"{step}_at" for step in FUNNEL}


def _check_dates(data: Mapping[str, Any], instance: Campaign | None) -> None:
    start = data.get("start_date", instance.start_date if instance else None)
    end = data.get("end_date", instance.end_date if instance else None)
    if start and end and end < start:
        raise DomainError(
            _("The end date cannot be before the start date."),
            field_errors={"end_date": [_("Before the start date %(start)s.") % {"start": start}]},
        )


def campaign_create(*, actor: Any, data: Mapping[str, Any]) -> Campaign:
    """Plan a campaign; its owner is the creating manager unless another is given."""
    data = dict(data)
    if data.get("owner") is None:
        data["owner"] = actor
    _check_dates(data, None)
    return record_create(model=Campaign, actor=actor, data=data)


def campaign_update(
    *, actor: Any, instance: Campaign, data: Mapping[str, Any], expected_version: int | None
) -> Campaign:
    _check_dates(data, instance)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def campaign_delete(*, actor: Any, instance: Campaign, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


def _funnel(data: dict[str, Any], instance: Participation | None) -> dict[str, Any]:
    """Stamp the time of the step reached (and of earlier steps never stamped); a linked
    order means the customer converted (that it is the customer's own order is the rule
    every linked record keeps, crm.access.writes)."""
    order = data.get("transaction", instance.transaction if instance else None)
    if order is not None and "transaction" in data:
        data["status"] = ParticipationStatus.CONVERTED
    status = data.get("status", instance.status if instance else ParticipationStatus.INVITED)
    now = timezone.now()
    for step in FUNNEL[: FUNNEL.index(status) + 1]:
        field = STAMP[step]
        if not data.get(field) and not (instance and getattr(instance, field)):
            data[field] = now
    return data


@transaction.atomic
def participation_create(*, actor: Any, data: Mapping[str, Any]) -> Participation:
    """Add a customer to a campaign (once per campaign) at some step of the funnel."""
    return record_create(model=Participation, actor=actor, data=_funnel(dict(data), None))


@transaction.atomic
def participation_update(
    *, actor: Any, instance: Participation, data: Mapping[str, Any], expected_version: int | None
) -> Participation:
    return record_update(
        instance=instance, actor=actor, data=_funnel(dict(data), instance), expected_version=expected_version
    )


def participation_delete(*, actor: Any, instance: Participation, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)
