"""After-sales service, customer feedback and satisfaction answers.

Every function is one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import may
from crm.access.scope import scoped_queryset
from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update, record_update_many

from .choices import FEEDBACK_MOVES, FeedbackStatus, ServiceResult
from .models import Feedback, SatisfactionResponse, ServiceRecord

CLOSED = (FeedbackStatus.RESOLVED, FeedbackStatus.CLOSED)
#: The most rows one bulk change of a queue touches (a page holds far fewer).
BULK_MAX = 500
#: An argument left as it is.
UNCHANGED = object()


def _check_hand_over(actor: Any, resource: str, person: Any, current_id: int | None, field: str) -> None:
    """Taking a record oneself is every handler's right; handing it to someone else is
    the registry's ``assign`` act (managers).  Whether that person may see the customer
    is the record scope's rule, checked by the generic write."""
    person_id = getattr(person, "pk", None)
    if person_id == current_id or person_id == getattr(actor, "pk", None):
        return
    if person is None and current_id == getattr(actor, "pk", None):
        return  # giving back what one holds
    if not may(actor, "assign", resource):
        raise DomainError(
            _("Only managers can hand work to someone else."),
            field_errors={field: [_("Take it yourself, or ask your manager to assign it.")]},
        )


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
    result = data.get("result", instance.result)
    if result != instance.result:
        # A record resolved later than at the visit says when; reopened, it is open again.
        data["resolved_at"] = timezone.now() if result == ServiceResult.RESOLVED else None
    if "staff" in data:
        _check_hand_over(actor, "service-records", data["staff"], instance.staff_id, "staff")
        if data["staff"] is not None and "staff_name" not in data:
            data["staff_name"] = str(data["staff"])
    return data


def service_record_create(*, actor: Any, data: Mapping[str, Any]) -> ServiceRecord:
    """Record a service given.  It was given by the recording user unless staff is named."""
    return record_create(model=ServiceRecord, actor=actor, data=_service_rules(dict(data), actor, None))


def service_record_update(
    *, actor: Any, instance: ServiceRecord, data: Mapping[str, Any], expected_version: int | None
) -> ServiceRecord:
    """Change a service record.  Moving its result to resolved stamps when; handing it to
    other staff than oneself is a manager's act."""
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
    """A response is stamped and starts the handling; the first one is kept as the end
    of the response time.  Nothing is resolved without a response, and a status moves
    only as ``FEEDBACK_MOVES`` allows (never back to new)."""
    response = data.get("response", instance.response if instance else "")
    status = data.get("status", instance.status if instance else FeedbackStatus.NEW)
    if instance is not None and status != instance.status and status not in FEEDBACK_MOVES[instance.status]:
        message = _("Feedback that is %(current)s cannot become %(status)s.") % {
            "current": FeedbackStatus(instance.status).label,
            "status": FeedbackStatus(status).label,
        }
        raise DomainError(message, field_errors={"status": [message]})
    if response and (instance is None or data.get("response", instance.response) != instance.response):
        data["responded_at"] = timezone.now()
        if instance is None or instance.first_response_at is None:
            data["first_response_at"] = data["responded_at"]
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
    """Change feedback under the rules of ``_feedback_rules``; handing it to another
    handler than oneself is a manager's act."""
    if "handler" in data:
        _check_hand_over(actor, "feedback", data["handler"], instance.handler_id, "handler")
    return record_update(
        instance=instance, actor=actor, data=_feedback_rules(dict(data), instance), expected_version=expected_version
    )


# --------------------------------------------------------------- feedback queue
def feedback_assign(*, actor: Any, instance: Feedback, handler: Any, expected_version: int | None) -> Feedback:
    """Give feedback to a handler (``None``: nobody).  Anyone who sees it may take it;
    handing it to someone else is a manager's act, and only to someone who sees its
    customer (its owner, the team's manager, an administrator)."""
    return feedback_update(actor=actor, instance=instance, data={"handler": handler}, expected_version=expected_version)


def feedback_status_change(*, actor: Any, instance: Feedback, status: str, expected_version: int | None) -> Feedback:
    """Move feedback along its workflow (``FEEDBACK_MOVES``); resolving or closing needs
    the response given first."""
    return feedback_update(actor=actor, instance=instance, data={"status": status}, expected_version=expected_version)


@transaction.atomic
def feedback_respond(
    *, actor: Any, instance: Feedback, response: str, resolve: bool, expected_version: int | None
) -> Feedback:
    """Write the response given to the customer.  The first one ends the response time;
    new feedback moves to in progress (or straight to resolved with ``resolve``), and
    feedback nobody handled is now handled by the one who answered."""
    response = (response or "").strip()
    if not response:
        message = _("Write the response given to the customer.")
        raise DomainError(message, field_errors={"response": [message]})
    data: dict[str, Any] = {"response": response}
    if resolve and instance.status != FeedbackStatus.RESOLVED:
        data["status"] = FeedbackStatus.RESOLVED
    if instance.handler_id is None and getattr(actor, "is_authenticated", False):
        data["handler"] = actor
    return feedback_update(actor=actor, instance=instance, data=data, expected_version=expected_version)


def _bulk_rows(model: type[Any], actor: Any, ids: Sequence[int]) -> list[Any]:
    """The records among ``ids`` that the actor may see (others are out of reach and
    left alone), refusing a change of more than ``BULK_MAX`` at once."""
    wanted = sorted({int(pk) for pk in ids})
    if not wanted:
        raise DomainError(_("Select at least one row."))
    if len(wanted) > BULK_MAX:
        raise DomainError(_("Change at most %(count)d rows at once.") % {"count": BULK_MAX})
    return list(scoped_queryset(model, actor).filter(pk__in=wanted).order_by("pk"))


@transaction.atomic
def feedback_bulk_assign(*, actor: Any, ids: Sequence[int], handler: Any) -> int:
    """Give the selected feedback to one handler, in a few statements, one audit event
    per changed record.  Same rules as one at a time: others than oneself only by a
    manager, and only to someone who sees every selected customer (else nothing is
    written and the error says so).  Returns how many changed."""
    rows = _bulk_rows(Feedback, actor, ids)
    for row in rows:
        _check_hand_over(actor, "feedback", handler, row.handler_id, "handler")
    results = record_update_many(
        model=Feedback, actor=actor, changes=[(row.pk, {"handler": handler}, None) for row in rows]
    )
    return sum(1 for result in results if result is not None)


@transaction.atomic
def feedback_bulk_status(*, actor: Any, ids: Sequence[int], status: str) -> tuple[int, int]:
    """Move the selected feedback to ``status`` where its workflow allows (resolving or
    closing only what has a response); the others are left as they are.  Returns how
    many changed and how many were skipped."""
    if status not in FeedbackStatus.values:
        raise DomainError(_("Choose a status."), field_errors={"status": [_("Choose a status.")]})
    rows = _bulk_rows(Feedback, actor, ids)
    movable = [
        row
        for row in rows
        if row.status != status and status in FEEDBACK_MOVES[row.status] and (status not in CLOSED or row.response)
    ]
    record_update_many(model=Feedback, actor=actor, changes=[(row.pk, {"status": status}, None) for row in movable])
    return len(movable), len(rows) - len(movable)


# ---------------------------------------------------------------- service queue
def service_record_assign(
    *, actor: Any, instance: ServiceRecord, staff: Any, expected_version: int | None
) -> ServiceRecord:
    """Give a service record's follow-up to a member of staff; the rules of
    :func:`feedback_assign`."""
    return service_record_update(
        actor=actor, instance=instance, data={"staff": staff}, expected_version=expected_version
    )


@transaction.atomic
def service_record_follow_up(
    *,
    actor: Any,
    instance: ServiceRecord,
    note: str,
    result: str | None,
    expected_version: int | None,
    due_date: dt.date | None | object = UNCHANGED,
) -> ServiceRecord:
    """Add what was done since the visit to the record's follow-up notes (dated, signed)
    and, with ``result``, set its result: resolved closes it in the queue; with
    ``due_date``, the date by which to follow it up next (today or later; None: the
    default of ``CRM_SERVICE_FOLLOW_UP_DAYS``).  A record nobody followed up is now
    followed up by the one who wrote the note."""
    note = (note or "").strip()
    data: dict[str, Any] = {}
    if due_date is not UNCHANGED and due_date != instance.due_date:
        if isinstance(due_date, dt.date) and due_date < timezone.localdate():
            message = _("Choose today or a later day to follow up by.")
            raise DomainError(message, field_errors={"due_date": [message]})
        data["due_date"] = due_date
    if note:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {actor}] {note}"
        data["follow_up"] = f"{instance.follow_up}\n{line}" if instance.follow_up else line
    if result:
        if result not in ServiceResult.values:
            raise DomainError(_("Choose a result."), field_errors={"result": [_("Choose a result.")]})
        data["result"] = result
    if not data:
        message = _("Write what was done, or change the result or the date.")
        raise DomainError(message, field_errors={"note": [message]})
    if instance.staff_id is None and getattr(actor, "is_authenticated", False):
        data["staff"] = actor  # nobody followed it up: now the one who did
    return service_record_update(actor=actor, instance=instance, data=data, expected_version=expected_version)


@transaction.atomic
def service_record_bulk_assign(*, actor: Any, ids: Sequence[int], staff: Any) -> int:
    """Give the selected service records to one member of staff (the rules of
    :func:`feedback_bulk_assign`).  Returns how many changed."""
    rows = _bulk_rows(ServiceRecord, actor, ids)
    for row in rows:
        _check_hand_over(actor, "service-records", staff, row.staff_id, "staff")
    data: dict[str, Any] = {"staff": staff}
    if staff is not None:
        data["staff_name"] = str(staff)
    results = record_update_many(model=ServiceRecord, actor=actor, changes=[(row.pk, data, None) for row in rows])
    return sum(1 for result in results if result is not None)


@transaction.atomic
def service_record_bulk_result(*, actor: Any, ids: Sequence[int], result: str) -> tuple[int, int]:
    """Set the result of the selected service records (resolved ones are stamped).
    Returns how many changed and how many already had it."""
    if result not in ServiceResult.values:
        raise DomainError(_("Choose a result."), field_errors={"result": [_("Choose a result.")]})
    rows = _bulk_rows(ServiceRecord, actor, ids)
    now = timezone.now()
    moving = [row for row in rows if row.result != result]
    resolved_at = now if result == ServiceResult.RESOLVED else None
    record_update_many(
        model=ServiceRecord,
        actor=actor,
        changes=[(row.pk, {"result": result, "resolved_at": resolved_at}, None) for row in moving],
    )
    return len(moving), len(rows) - len(moving)


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
