"""After-sales service, customer feedback and satisfaction answers.

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

from .choices import FeedbackStatus
from .models import Feedback, SatisfactionResponse, ServiceRecord

CLOSED = (FeedbackStatus.RESOLVED, FeedbackStatus.CLOSED)


# ---------------------------------------------------------------- service records
def _service_rules(data: dict[str, Any], actor: Any, instance: ServiceRecord | None) -> dict[str, Any]:
    day = data.get("service_date")
    if day is not None and day > timezone.localdate():
        raise DomainError(
            _("A service record describes service given; it cannot be in the future."),
            field_errors={"service_date": [_("This date is in the future; plan a follow-up instead.")]},
        )
    if instance is None:
        if data.get("staff") is None and getattr(actor, "is_authenticated", False):
            data["staff"] = actor
        if not data.get("staff_name") and data.get("staff") is not None:
            data["staff_name"] = str(data["staff"])
    return data


def service_record_create(*, actor: Any, data: Mapping[str, Any]) -> ServiceRecord:
    """Record a service given.  It was given by the recording user unless staff is named."""
    return record_create(model=ServiceRecord, actor=actor, data=_service_rules(dict(data), actor, None))


def service_record_update(
    *, actor: Any, instance: ServiceRecord, data: Mapping[str, Any], expected_version: int | None
) -> ServiceRecord:
    return record_update(
        instance=instance,
        actor=actor,
        data=_service_rules(dict(data), actor, instance),
        expected_version=expected_version,
    )


def service_record_delete(*, actor: Any, instance: ServiceRecord, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ---------------------------------------------------------------------- feedback
def _feedback_rules(data: dict[str, Any], instance: Feedback | None) -> dict[str, Any]:
    """A response is stamped and starts the handling; nothing is resolved without a response."""
    response = data.get("response", instance.response if instance else "")
    status = data.get("status", instance.status if instance else FeedbackStatus.NEW)
    if response and (instance is None or data.get("response", instance.response) != instance.response):
        data["responded_at"] = timezone.now()
        if status == FeedbackStatus.NEW:
            data["status"] = status = FeedbackStatus.IN_PROGRESS
    if status in CLOSED and not response:
        raise DomainError(
            _("Write the response given to the customer before resolving or closing this feedback."),
            field_errors={"response": [_("Required to resolve or close.")]},
        )
    return data


@transaction.atomic
def feedback_create(*, actor: Any, data: Mapping[str, Any]) -> Feedback:
    """Record what a customer told us.  It is handled by the customer's owner unless another
    handler is named, and received now unless a time is given."""
    data = dict(data)
    data.setdefault("received_at", timezone.now())
    if data["received_at"] is None:
        data["received_at"] = timezone.now()
    if data.get("handler") is None:
        data["handler"] = data["customer"].owner
    return record_create(model=Feedback, actor=actor, data=_feedback_rules(data, None))


@transaction.atomic
def feedback_update(
    *, actor: Any, instance: Feedback, data: Mapping[str, Any], expected_version: int | None
) -> Feedback:
    return record_update(
        instance=instance, actor=actor, data=_feedback_rules(dict(data), instance), expected_version=expected_version
    )


def feedback_delete(*, actor: Any, instance: Feedback, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ------------------------------------------------------------------ satisfaction
def _satisfaction_rules(data: dict[str, Any], instance: SatisfactionResponse | None) -> dict[str, Any]:
    csat = data.get("csat", instance.csat if instance else None)
    nps = data.get("nps", instance.nps if instance else None)
    if csat is None and nps is None:
        message = _("Give a CSAT (1-5) or an NPS (0-10) score.")
        raise DomainError(message, field_errors={"csat": [message], "nps": [message]})
    if instance is None and data.get("responded_at") is None:
        data["responded_at"] = timezone.now()
    return data


def satisfaction_create(*, actor: Any, data: Mapping[str, Any]) -> SatisfactionResponse:
    """Record one survey answer; it needs at least one of the two scores."""
    return record_create(model=SatisfactionResponse, actor=actor, data=_satisfaction_rules(dict(data), None))


def satisfaction_update(
    *, actor: Any, instance: SatisfactionResponse, data: Mapping[str, Any], expected_version: int | None
) -> SatisfactionResponse:
    return record_update(
        instance=instance,
        actor=actor,
        data=_satisfaction_rules(dict(data), instance),
        expected_version=expected_version,
    )


def satisfaction_delete(*, actor: Any, instance: SatisfactionResponse, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)
