"""Changes reviewed: proposals to ``propose``-level fields and their decisions.

A user whose level on a field is ``propose`` may not write it, but may propose a new
value.  The write paths (API, forms, imports) apply the fields the user may write as
usual and hand the proposed ones to :func:`change_propose`, which records one
:class:`~crm.access.models.ChangeRequest`; nothing of the record changes then.

A manager of the record's team, or an admin, approves it (the change is applied through
the resource's own update service, so every rule of a normal write holds, and the
request's audit event names the requester and the approver) or rejects it with a reason.
A request is stale when one of its fields changed since it was proposed: approving it is
refused then (other fields may have changed meanwhile; that does not matter).  The
requester is told the outcome (``notifications``: in the app and by e-mail, in the
language they proposed in, once per requester for a bulk approval).

Imports propose too (``change_propose_many``, one request per record, written together),
and undoing an import withdraws its requests still pending (``change_withdraw_many``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.audit.services import customer_id_of
from crm.core.errors import DomainError, NotPermitted, VersionConflict
from crm.core.services import record_create, record_create_many, record_update, record_update_many

from .choices import ChangeStatus
from .models import ChangeRequest
from .notifications import notify_decisions
from .policy import Level, policy_for
from .registry import get_resource
from .scope import customers_visible_to, sees_everything


class StaleChange(DomainError):
    """A field of the request changed on the record since it was proposed."""

    status_code = 409
    default_code = "stale"


def _json(value: Any) -> Any:
    """A model value as JSON (decimals and dates as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _model_value(instance: models.Model, name: str) -> Any:
    field = instance._meta.get_field(name)
    return getattr(instance, getattr(field, "attname", name))


def proposable_fields(user: Any, resource: str, names: Iterable[str], request: Any = None) -> set[str]:
    """Which of ``names`` the user may only propose."""
    policy = policy_for(user, request)
    return {name for name in names if policy.level(resource, name) == Level.PROPOSE}


def _proposal(instance: models.Model, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proposed values of ``data`` that differ from the record's, and the record's
    values of those fields, both as JSON (a value equal to the current one proposes
    nothing)."""
    model = type(instance)
    changes: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for name, value in data.items():
        field = model._meta.get_field(name)
        if isinstance(value, models.Model):
            value = value.pk  # a related record is proposed by its id
        value = field.to_python(value)  # type: ignore[union-attr]
        if isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            value = value.quantize(Decimal(1).scaleb(-(field.decimal_places or 0)))  # stored as the column stores it
        now = _model_value(instance, name)
        if value != now:
            changes[name] = _json(value)
            previous[name] = _json(now)
    return changes, previous


def proposed_changes(instance: models.Model, data: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``data`` that would change ``instance`` (as JSON): what a proposal
    of them would hold."""
    return _proposal(instance, data)[0]


def _request_data(
    actor: Any, resource: str, instance: models.Model, changes: dict[str, Any], previous: dict[str, Any]
) -> dict[str, Any]:
    """A change request's values; ``language`` is the one the requester proposed in,
    which the outcome is told in."""
    return {
        "resource": resource,
        "record_id": instance.pk,
        "record_repr": str(instance)[:200],
        "customer_id": customer_id_of(instance),
        "changes": changes,
        "previous": previous,
        "record_version": getattr(instance, "version", None),
        "requested_by": actor,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
    }


def _refuse_unproposable(actor: Any, resource: str, names: Iterable[str]) -> None:
    names = set(names)
    allowed = proposable_fields(actor, resource, names)
    refused = {name: [_("You may not change this field.")] for name in sorted(names - allowed)}
    if refused:
        raise DomainError(field_errors=refused)


@transaction.atomic
def change_propose(
    *, actor: Any, resource: str, instance: models.Model, data: Mapping[str, Any], expected_version: int | None
) -> ChangeRequest | None:
    """Record a proposal of new values for ``propose``-level fields of ``instance``.

    Only the fields whose value differs from the record's are kept; with none, nothing is
    recorded and None is returned.  A field the actor may not propose is refused; so is a
    proposal based on an older version of the record.
    """
    _refuse_unproposable(actor, resource, data)
    current_version = getattr(instance, "version", None)
    if expected_version is not None and current_version is not None and expected_version != current_version:
        raise VersionConflict(current_version=current_version)
    changes, previous = _proposal(instance, data)
    if not changes:
        return None
    return record_create(
        model=ChangeRequest, actor=actor, data=_request_data(actor, resource, instance, changes, previous)
    )


@transaction.atomic
def change_propose_many(
    *, actor: Any, resource: str, entries: Sequence[tuple[models.Model, Mapping[str, Any]]]
) -> list[ChangeRequest | None]:
    """:func:`change_propose` for many records at once (an import's chunk): per record
    of ``entries`` (the record as it stands now, and the values proposed for it), one
    request holding the values that differ, or None where none does.  The requests are
    written with one insert and their audit events with one more, whatever their
    number; a field the actor may not propose is refused for all of them."""
    _refuse_unproposable(actor, resource, {name for _instance, data in entries for name in data})
    wanted: list[int] = []
    rows: list[dict[str, Any]] = []
    for index, (instance, data) in enumerate(entries):
        changes, previous = _proposal(instance, data)
        if changes:
            wanted.append(index)
            rows.append(_request_data(actor, resource, instance, changes, previous))
    results: list[ChangeRequest | None] = [None] * len(entries)
    if rows:
        created = record_create_many(model=ChangeRequest, actor=actor, rows=rows)
        for index, change in zip(wanted, created, strict=True):
            results[index] = change
    return results


@transaction.atomic
def change_withdraw_many(*, actor: Any, ids: Iterable[int], requested_by: Any = None) -> int:
    """Withdraw the pending requests among ``ids`` proposed by ``requested_by`` (the
    actor by default), in a few statements with one audit event each, naming the actor;
    those decided or withdrawn already are left as they are.  Undoing an import
    withdraws the requests it made this way, whoever may undo the import.  Returns how
    many were withdrawn."""
    requester = requested_by if requested_by is not None else actor
    pending = list(
        ChangeRequest.objects.select_for_update()
        .filter(pk__in=list(ids), requested_by_id=getattr(requester, "pk", None), status=ChangeStatus.PENDING)
        .order_by("pk")
    )
    if not pending:
        return 0
    changes = [(change.pk, {"status": ChangeStatus.WITHDRAWN}, change.version) for change in pending]
    record_update_many(model=ChangeRequest, actor=actor, changes=changes)
    return len(pending)


def may_decide(user: Any, request: ChangeRequest) -> bool:
    """An admin decides any request; a manager those of the customers of teams they
    manage.  Nobody decides their own request."""
    if not getattr(user, "is_authenticated", False) or request.requested_by_id == user.pk:
        return False
    if getattr(user, "is_superuser", False) or getattr(user, "role", "") == "admin":
        return True
    if getattr(user, "role", "") != "manager" or request.customer_id is None:
        return False
    return customers_visible_to(user).filter(pk=request.customer_id, team__manager=user).exists()


def decidable_requests(user: Any) -> models.QuerySet[ChangeRequest]:
    """The pending requests ``user`` may decide, oldest first (a manager's inbox)."""
    pending = ChangeRequest.objects.filter(status=ChangeStatus.PENDING).select_related("requested_by")
    if getattr(user, "is_superuser", False) or getattr(user, "role", "") == "admin":
        return pending.exclude(requested_by=user).order_by("created_at", "id")
    if getattr(user, "role", "") != "manager" or sees_everything(user):
        return pending.none()
    teams = customers_visible_to(user).filter(team__manager=user).values("pk")
    return pending.filter(customer_id__in=teams).exclude(requested_by=user).order_by("created_at", "id")


def _locked_pending(request: ChangeRequest, actor: Any, expected_version: int | None) -> ChangeRequest:
    locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(current_version=locked.version)
    if locked.status != ChangeStatus.PENDING:
        raise DomainError(_("This change request has been decided already."))
    return locked


def _decide(locked: ChangeRequest, actor: Any, status: str, reason: str) -> ChangeRequest:
    return record_update(
        instance=locked,
        actor=actor,
        data={"status": status, "decided_by": actor, "decided_at": timezone.now(), "reason": reason},
        expected_version=None,
    )


def _stored_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A proposed JSON value as the record's update takes it (a related record by its id)."""
    field = model._meta.get_field(name)
    value = field.to_python(value)  # type: ignore[union-attr]
    related = getattr(field, "related_model", None)
    if related is not None and value is not None and not field.many_to_many:
        found = related._default_manager.filter(pk=value).first()
        if found is None:
            raise DomainError(field_errors={name: [_("The record no longer exists.")]})
        return found
    return value


@transaction.atomic
def change_approve(
    *, actor: Any, request: ChangeRequest, expected_version: int | None = None, notify: bool = True
) -> ChangeRequest:
    """Apply a pending request through the resource's update service, as the approver.

    Refused as stale when one of its fields changed since the proposal.  The request's
    audit event names both the requester and the approver; the requester is told
    (unless ``notify`` is false: a bulk approval tells each requester once for all).
    """
    if not may_decide(actor, request):
        raise NotPermitted(_("Only a manager of the record's team or an admin may decide this change."))
    locked = _locked_pending(request, actor, expected_version)
    resource = get_resource(locked.resource)
    if resource is None:
        raise DomainError(_("This kind of record no longer exists."))
    model = resource.model
    record = model._default_manager.select_for_update().filter(pk=locked.record_id).first()
    if record is None:
        raise DomainError(_("The record no longer exists."))
    stale = [name for name, before in locked.previous.items() if _json(_model_value(record, name)) != before]
    if stale:
        raise StaleChange(
            _("The record has changed since this was proposed; reject it and propose again."),
            field_errors={name: [_("Changed since the proposal.")] for name in stale},
        )
    data = {name: _stored_value(model, name, value) for name, value in locked.changes.items()}
    update = resource.viewset.update_service
    if update is not None:
        update(actor=actor, instance=record, data=data, expected_version=None)
    else:
        record_update(instance=record, actor=actor, data=data, expected_version=None)
    decided = _decide(locked, actor, ChangeStatus.APPROVED, "")
    if notify:
        notify_decisions([decided])
    return decided


@transaction.atomic
def change_reject(
    *, actor: Any, request: ChangeRequest, reason: str, expected_version: int | None = None
) -> ChangeRequest:
    """Reject a pending request; the reason is required and told to the requester."""
    if not may_decide(actor, request):
        raise NotPermitted(_("Only a manager of the record's team or an admin may decide this change."))
    if not (reason or "").strip():
        raise DomainError(field_errors={"reason": [_("Give a reason for the rejection.")]})
    locked = _locked_pending(request, actor, expected_version)
    decided = _decide(locked, actor, ChangeStatus.REJECTED, reason.strip())
    notify_decisions([decided])
    return decided


@transaction.atomic
def change_withdraw(*, actor: Any, request: ChangeRequest) -> ChangeRequest:
    """The requester takes back a pending request."""
    if getattr(actor, "pk", None) != request.requested_by_id:
        raise NotPermitted(_("Only the person who proposed this change may withdraw it."))
    locked = _locked_pending(request, actor, None)
    return record_update(instance=locked, actor=actor, data={"status": ChangeStatus.WITHDRAWN}, expected_version=None)


def change_bulk_approve(*, actor: Any, ids: Iterable[int]) -> tuple[list[ChangeRequest], dict[int, str]]:
    """Approve many requests, each in its own transaction: the ones that cannot be
    approved (stale, decided, not the actor's to decide) are reported by id, the others
    applied.  Each requester is told once, listing their approved requests."""
    approved: list[ChangeRequest] = []
    failed: dict[int, str] = {}
    wanted = sorted({int(i) for i in ids})
    found = {cr.pk: cr for cr in ChangeRequest.scope_queryset(actor).filter(pk__in=wanted)}
    for pk in wanted:
        cr = found.get(pk)
        if cr is None:
            failed[pk] = _("Not found.")
            continue
        try:
            approved.append(change_approve(actor=actor, request=cr, notify=False))
        except DomainError as error:
            failed[pk] = str(error.message)
    notify_decisions(approved)
    return approved, failed


@transaction.atomic
def update_with_proposal(
    *,
    actor: Any,
    resource: str,
    update: Callable[..., Any],
    instance: models.Model,
    data: Mapping[str, Any],
    proposed: Mapping[str, Any],
    expected_version: int | None,
) -> tuple[Any, ChangeRequest | None]:
    """One edit of a record by a user who may write some fields and only propose others:
    the writable ``data`` goes through the resource's ``update`` service (which checks
    the version), the changed ``proposed`` values become one change request; both or
    neither."""
    updated = update(actor=actor, instance=instance, data=dict(data), expected_version=expected_version)
    change = change_propose(actor=actor, resource=resource, instance=updated, data=proposed, expected_version=None)
    return updated, change


def pending_approvals(request: Any) -> dict[str, object]:
    """Template context: how many change requests wait for the signed-in manager or
    admin (the count beside the menu's approvals link); one query, none for others."""
    user = getattr(request, "user", None)
    deciders = getattr(user, "role", "") in ("manager", "admin") or getattr(user, "is_superuser", False)
    if not getattr(user, "is_authenticated", False) or not deciders:
        return {}
    return {"pending_approvals": decidable_requests(user).count()}


def pending_values(user: Any, resource: str, record_id: int) -> dict[str, Any]:
    """The values proposed for one record and still waiting, by field (the newest
    proposal of a field wins), among the requests ``user`` may see: shown beside the
    current values.  One query."""
    pending: dict[str, Any] = {}
    requests = ChangeRequest.scope_queryset(user).filter(
        resource=resource, record_id=record_id, status=ChangeStatus.PENDING
    )
    for changes in requests.order_by("created_at", "id").values_list("changes", flat=True):
        pending.update(changes)
    return pending
