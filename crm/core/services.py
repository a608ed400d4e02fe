"""The three generic writes every app's services are built on.

Each is one transaction that validates, writes and records the audit event together,
so a failure at any step leaves nothing behind.  App services add their business rules
and call these; views, serializers, admin, commands and tasks call the app services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector

from crm.access.writes import check_still_visible, check_write, stored_values
from crm.audit.choices import Action
from crm.audit.services import audit_bulk, audit_record, customer_id_of, snapshot

from .errors import RecordInUse, VersionConflict
from .validation import record_validate

M = TypeVar("M", bound=models.Model)


def _assign(instance: models.Model, data: Mapping[str, Any]) -> None:
    many: dict[str, Iterable[Any]] = {}
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.many_to_many:
            many[name] = value
        else:
            setattr(instance, name, value)
    instance._pending_m2m = many  # type: ignore[attr-defined]


def _save_m2m(instance: models.Model) -> None:
    for name, value in getattr(instance, "_pending_m2m", {}).items():
        getattr(instance, name).set(value)


@transaction.atomic
def record_create(*, model: type[M], actor: Any, data: Mapping[str, Any], exclude_clean: Iterable[str] = ()) -> M:
    """Create one record from validated data; validate it against the model's rules; audit it."""
    instance = model()
    _assign(instance, data)
    record_validate(instance=instance)
    instance.full_clean(exclude=list(exclude_clean) or None)
    check_write(actor=actor, instance=instance, before=None)
    instance.save()
    _save_m2m(instance)
    check_still_visible(actor=actor, instance=instance, fields=data)
    audit_record(action=Action.CREATE, instance=instance, actor=actor, before={}, after=snapshot(instance))
    return instance


@transaction.atomic
def record_update(
    *,
    instance: M,
    actor: Any,
    data: Mapping[str, Any],
    expected_version: int | None,
    exclude_clean: Iterable[str] = (),
) -> M:
    """Apply changes to a record that has not changed since the writer read it.

    The row is locked first, so two concurrent writers with the same version cannot both
    pass the check: the second sees the incremented version and gets a conflict.
    """
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    current = getattr(locked, "version", None)
    if expected_version is not None and current is not None and current != expected_version:
        raise VersionConflict(current_version=current)
    before = snapshot(locked)
    stored = stored_values(locked)
    _assign(locked, data)
    record_validate(instance=locked, fields=data)
    locked.full_clean(exclude=list(exclude_clean) or None)
    after = snapshot(locked)
    if before == after:
        return locked
    check_write(actor=actor, instance=locked, before=stored)
    if current is not None:
        locked.version = current + 1  # type: ignore[attr-defined]
    locked.save()
    _save_m2m(locked)
    check_still_visible(actor=actor, instance=locked, fields=data)
    audit_record(action=Action.UPDATE, instance=locked, actor=actor, before=before, after=snapshot(locked))
    return locked


#: Above this many cascaded rows, a delete records one summary event instead of one per row.
CASCADE_EVENTS_MAX = 200


def _audit_cascade(*, root: models.Model, actor: Any) -> None:
    """Audit the rows that deleting ``root`` removes with it (a customer's contacts, ...).

    Raises ProtectedError / RestrictedError, before anything is written, when a protected
    row (an order) would be orphaned.
    """
    collector = Collector(using=root._state.db or "default")
    collector.collect([root])
    children: list[models.Model] = [
        obj for model, objs in collector.data.items() for obj in objs if not (model is type(root) and obj.pk == root.pk)
    ]
    counts: dict[str, int] = {}
    for obj in children:
        counts[obj._meta.label_lower] = counts.get(obj._meta.label_lower, 0) + 1
    for queryset in collector.fast_deletes:
        n = queryset.count()
        if n:
            counts[queryset.model._meta.label_lower] = counts.get(queryset.model._meta.label_lower, 0) + n
            if sum(counts.values()) <= CASCADE_EVENTS_MAX:
                children.extend(queryset)
    if sum(counts.values()) > CASCADE_EVENTS_MAX:
        audit_bulk(
            resource=root._meta.label_lower,
            actor=actor,
            action=Action.DELETE,
            customer_id=customer_id_of(root),
            summary={"label": f"deleted with {root}", "cascaded": counts},
        )
        return
    for child in children:
        audit_record(action=Action.DELETE, instance=child, actor=actor, before=snapshot(child), after={})


@transaction.atomic
def record_delete(*, instance: models.Model, actor: Any, expected_version: int | None) -> None:
    """Delete a record that has not changed since the writer read it.

    The record and every row deleted with it leave an audit event; a record that
    protected rows still point to (orders, history) is refused with nothing written.
    """
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    current = getattr(locked, "version", None)
    if expected_version is not None and current is not None and current != expected_version:
        raise VersionConflict(current_version=current)
    before = snapshot(locked)
    try:
        with transaction.atomic():
            _audit_cascade(root=locked, actor=actor)
            audit_record(action=Action.DELETE, instance=locked, actor=actor, before=before, after={})
            locked.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise RecordInUse() from exc


@transaction.atomic
def record_save(*, instance: models.Model, actor: Any) -> models.Model:
    """Save a record that a form has already built and validated (the admin site), audited.

    New records are created; existing ones are compared with the stored row, get a new
    version and an update event listing what changed.
    """
    model = type(instance)
    if instance._state.adding or instance.pk is None:
        record_validate(instance=instance)
        check_write(actor=actor, instance=instance, before=None)
        instance.save()
        check_still_visible(actor=actor, instance=instance)
        audit_record(action=Action.CREATE, instance=instance, actor=actor, before={}, after=snapshot(instance))
        return instance
    stored = model._default_manager.select_for_update().get(pk=instance.pk)
    stored_row = stored_values(stored)
    record_validate(instance=instance, stored=stored_row)
    before = snapshot(stored)
    after = snapshot(instance)
    if before != after:
        check_write(actor=actor, instance=instance, before=stored_row)
    if before != after and hasattr(instance, "version"):
        instance.version = stored.version + 1  # type: ignore[attr-defined]
    instance.save()
    check_still_visible(actor=actor, instance=instance)
    if before != after:
        audit_record(action=Action.UPDATE, instance=instance, actor=actor, before=before, after=after)
    return instance
