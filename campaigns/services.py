"""Campaigns and the funnel each participating customer moves down.

Every function is one transaction and is audited through ``crm.core.services``.

The funnel only moves forward: invited → registered → attended → responded →
converted.  Reaching a step stamps its time, and the time of every earlier step never
stamped, so the stamps never run backwards.  A campaign's revenue comes from the orders
its converted participants placed inside the attribution window
(``CRM_CAMPAIGN_ATTRIBUTION_DAYS`` days from the invitation, ``campaigns.selectors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
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


def attribution_days() -> int:
    """The attribution window in days (``CRM_CAMPAIGN_ATTRIBUTION_DAYS``)."""
    return int(settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS)


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


def _check_attribution(order: Any, invited_at: dt.datetime) -> None:
    """A linked order must lie in the attribution window: placed on or after the day of
    the invitation and at most ``attribution_days()`` days later."""
    since = timezone.localdate(invited_at)
    until = since + dt.timedelta(days=attribution_days())
    if order.order_date < since:
        message = _("This order was placed on %(date)s, before the customer was invited (%(since)s).")
    elif order.order_date > until:
        message = _("This order was placed on %(date)s, after the attribution window that ended on %(until)s.")
    else:
        return
    text = message % {"date": order.order_date, "since": since, "until": until}
    raise DomainError(text, field_errors={"transaction": [text]})


def _funnel(data: dict[str, Any], instance: Participation | None) -> dict[str, Any]:
    """Stamp the time of the step reached (and of earlier steps never stamped); a linked
    order means the customer converted (that it is the customer's own order is the rule
    every linked record keeps, crm.access.writes), and it must lie in the attribution
    window."""
    order = data.get("transaction", instance.transaction if instance else None)
    if order is not None and "transaction" in data:
        data["status"] = ParticipationStatus.CONVERTED
    status = data.get("status", instance.status if instance else ParticipationStatus.INVITED)
    now = timezone.now()
    for step in FUNNEL[: FUNNEL.index(status) + 1]:
        field = STAMP[step]
        if not data.get(field) and not (instance and getattr(instance, field)):
            data[field] = now
    if order is not None and "transaction" in data:
        invited_at = data.get("invited_at") or (instance.invited_at if instance else None) or now
        _check_attribution(order, invited_at)
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
