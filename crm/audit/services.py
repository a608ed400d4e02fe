"""Writing audit events.  The only way into the audit table; there is no update or delete."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models
from django.utils import timezone

from . import context
from .choices import Action
from .models import AuditEvent

DEFAULT_EXCLUDE = frozenset({"created_at", "updated_at", "version"})


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` as the audit trail stores it: dates and decimals as text, ids as ids."""
    return _jsonable(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The audited state of a record: every concrete field (foreign keys as ids).

    Stamps and the version are left out (they change on every write and say nothing),
    and so is anything the model lists in ``audit_exclude`` (password hashes).
    """
    exclude = getattr(type(instance), "audit_exclude", DEFAULT_EXCLUDE)
    state: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        state[field.name] = _jsonable(getattr(instance, field.attname))
    return state


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": old, "after": new}}`` for the fields whose value differs."""
    names = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in names
        if before.get(name) != after.get(name)
    }


def customer_id_of(instance: models.Model) -> int | None:
    """The customer a record belongs to, following the model's ``scope_path``."""
    path = getattr(type(instance), "scope_path", None)
    if path is None:
        return None
    if path == "":
        return instance.pk  # type: ignore[no-any-return]
    *hops, last = path.split("__")
    target: Any = instance
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_label": ""}
    return {"actor_id": actor.pk, "actor_label": actor.get_username()}


def audit_record(
    *,
    action: str,
    instance: models.Model,
    actor: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> AuditEvent:
    """Record one create/update/delete of ``instance`` by ``actor``.

    The source, request id and IP come from the current unit of work (request, command
    or task, see ``crm.audit.context``).  The database trigger numbers and chains it.
    """
    event = _record_event(action, instance, _actor_fields(actor), before, after, timezone.now())
    event.save(force_insert=True)
    return event


def audit_records(
    *,
    action: str,
    instances: Sequence[models.Model],
    actor: Any,
    befores: Sequence[Mapping[str, Any]],
    afters: Sequence[Mapping[str, Any]],
) -> None:
    """Record many creates or updates at once, one event per record exactly as
    :func:`audit_record` writes it, in one statement (the trigger still numbers and
    chains each event in turn)."""
    now = timezone.now()
    actor_fields = _actor_fields(actor)
    AuditEvent.objects.bulk_create(
        [
            _record_event(action, instance, actor_fields, before, after, now)
            for instance, before, after in zip(instances, befores, afters, strict=True)
        ],
        batch_size=1000,
    )


def _record_event(
    action: str,
    instance: models.Model,
    actor_fields: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    now: datetime.datetime,
) -> AuditEvent:
    """The event of one write of ``instance``, in the current unit of work, unsaved."""
    ctx = context.current()
    return AuditEvent(
        occurred_at=now,
        source=ctx.source,
        request_id=ctx.request_id,
        ip=ctx.ip,
        action=action,
        resource=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        customer_id=customer_id_of(instance),
        changes=diff(before, after),
        **actor_fields,
    )


def audit_act(*, action: str, instance: models.Model, actor: Any, details: Mapping[str, Any]) -> AuditEvent:
    """Record an act on a record that changes nothing in it (a value revealed, an export)."""
    return audit_changes(
        action=action,
        instance=instance,
        actor=actor,
        changes={key: {"before": None, "after": value} for key, value in details.items()},
    )


def audit_changes(
    *, action: str, instance: models.Model, actor: Any, changes: Mapping[str, Mapping[str, Any]]
) -> AuditEvent:
    """Record one act whose changes are not a plain before/after of ``instance`` (a merge:
    the record merged away, the values taken, the rows moved), written exactly as given
    as ``{key: {"before": ..., "after": ...}}``."""
    ctx = context.current()
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        source=ctx.source,
        request_id=ctx.request_id,
        ip=ctx.ip,
        action=action,
        resource=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        customer_id=customer_id_of(instance),
        changes={
            key: {"before": _jsonable(value.get("before")), "after": _jsonable(value.get("after"))}
            for key, value in changes.items()
        },
        **_actor_fields(actor),
    )


def audit_bulk(
    *,
    resource: str,
    actor: Any,
    summary: Mapping[str, Any],
    customer_id: int | None = None,
    action: str = Action.BULK,
) -> AuditEvent:
    """Record one set-based operation (a seed, an import, a scheduled run) as one event.

    Operations over many rows are audited by what they did (counts, parameters), not
    row by row, so that a million-row load stays a few statements.
    """
    ctx = context.current()
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        source=ctx.source,
        request_id=ctx.request_id,
        ip=ctx.ip,
        action=action,
        resource=resource,
        object_id="",
        object_repr=str(summary.get("label", resource))[:200],
        customer_id=customer_id,
        changes={"summary": {"before": None, "after": _jsonable(dict(summary))}},
        **_actor_fields(actor),
    )
