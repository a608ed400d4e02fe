"""The three generic writes every app's services are built on.

Each is one transaction that validates, writes and records the audit event together,
so a failure at any step leaves nothing behind.  App services add their business rules
and call these; views, serializers, admin, commands and tasks call the app services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.utils.translation import gettext as _

from crm.access.scope import scoped_queryset, sees_everything
from crm.access.writes import check_still_visible, check_write, stored_values
from crm.audit.choices import Action
from crm.audit.services import audit_bulk, audit_record, audit_records, customer_id_of, snapshot

from .errors import DomainError, RecordInUse, VersionConflict
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


def _clean_many(instances: Sequence[models.Model], exclude_clean: Iterable[str]) -> None:
    """Validate many records as :func:`record_create` validates one, without a query
    per record: each field's own rules in Python, then the linked records' existence
    one query per link (uniqueness is the database's constraints' to keep)."""
    if not instances:
        return
    model = type(instances[0])
    links = [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
    exclude = [*exclude_clean, *(f.name for f in links)]
    for index, instance in enumerate(instances):
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            error.row_index = index  # type: ignore[attr-defined]
            raise
    for field in links:
        if not field.editable:
            continue  # kept by the database, never written here (a customer's owner copied on its records)
        wanted = {getattr(instance, field.attname) for instance in instances} - {None}
        if not wanted:
            continue
        key = field.target_field.name
        target = field.related_model._base_manager.filter(**{f"{key}__in": wanted})
        missing = wanted - set(target.values_list(key, flat=True))
        for index, instance in enumerate(instances):
            if getattr(instance, field.attname) in missing:
                problem = ValidationError({field.name: [_("This linked record does not exist.")]})
                problem.row_index = index  # type: ignore[attr-defined]
                raise problem
            if getattr(instance, field.attname) is None and not field.null:
                problem = ValidationError({field.name: [_("This field cannot be empty.")]})
                problem.row_index = index  # type: ignore[attr-defined]
                raise problem


def _check_many_visible(actor: Any, instances: Sequence[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """:func:`check_still_visible` for many records in one query."""
    if not instances or actor is None or not getattr(actor, "is_authenticated", False) or sees_everything(actor):
        return
    model = type(instances[0])
    if getattr(model, "scope_path", None) is None:
        return
    seen = set(scoped_queryset(model, actor).filter(pk__in=[i.pk for i in instances]).values_list("pk", flat=True))
    for index, instance in enumerate(instances):
        if instance.pk not in seen:
            try:
                check_still_visible(actor=actor, instance=instance, fields=rows[index])
            except DomainError as error:
                error.row_index = index
                raise


@transaction.atomic
def record_create_many(
    *,
    model: type[M],
    actor: Any,
    rows: Sequence[Mapping[str, Any]],
    exclude_clean: Iterable[str] = (),
    known: dict[tuple[int, int], bool] | None = None,
) -> list[M]:
    """:func:`record_create` for many records at once, with the same rules and one audit
    event per record, in a few statements whatever their number (an import's chunk).

    A record that breaks a rule raises the error :func:`record_create` would, with
    ``row_index`` naming its place in ``rows``; nothing is written then.  ``known``: who
    sees which customer, as (user id, customer id) → bool, when the caller has asked
    already (one query for a whole set instead of one per customer).
    """
    instances: list[M] = []
    known = {} if known is None else known
    for index, data in enumerate(rows):
        instance = model()
        _assign(instance, data)
        if getattr(instance, "_pending_m2m", None):
            raise ValueError("record_create_many does not write many-to-many fields")
        try:
            record_validate(instance=instance)
            check_write(actor=actor, instance=instance, before=None, known=known)
        except (ValidationError, DomainError) as error:
            error.row_index = index  # type: ignore[union-attr]
            raise
        instances.append(instance)
    _clean_many(instances, exclude_clean)
    model._default_manager.bulk_create(instances, batch_size=1000)
    _check_many_visible(actor, instances, rows)
    audit_records(
        action=Action.CREATE,
        instances=instances,
        actor=actor,
        befores=[{}] * len(instances),
        afters=[snapshot(instance) for instance in instances],
    )
    return instances


@transaction.atomic
def record_update_many(
    *,
    model: type[M],
    actor: Any,
    changes: Sequence[tuple[int, Mapping[str, Any], int | None]],
    exclude_clean: Iterable[str] = (),
    known: dict[tuple[int, int], bool] | None = None,
) -> list[M | None]:
    """:func:`record_update` for many records at once: ``changes`` holds, per record, its
    id, the new values and the version the writer read (None: any).  The rows are locked
    together, each must still be at its version, and each changed one gets a new version
    and one audit event.  Returns each record as written, or None where nothing changed.

    An error carries ``row_index``, the place in ``changes`` of the record at fault;
    nothing is written then.  ``known`` as for :func:`record_create_many`.
    """
    locked = model._default_manager.select_for_update().in_bulk([pk for pk, _data, _version in changes])
    changed: list[M] = []
    results: list[M | None] = []
    befores: list[dict[str, Any]] = []
    datas: list[Mapping[str, Any]] = []
    written: set[str] = set()
    known = {} if known is None else known
    for index, (pk, data, expected_version) in enumerate(changes):
        instance = locked.get(pk)
        try:
            if instance is None:
                raise VersionConflict(message=str(_("This record was deleted since you read it.")))
            current = getattr(instance, "version", None)
            if expected_version is not None and current is not None and current != expected_version:
                raise VersionConflict(current_version=current)
            before = snapshot(instance)
            stored = stored_values(instance)
            _assign(instance, data)
            if getattr(instance, "_pending_m2m", None):
                raise ValueError("record_update_many does not write many-to-many fields")
            record_validate(instance=instance, fields=data)
            if before == snapshot(instance):
                results.append(None)
                continue
            check_write(actor=actor, instance=instance, before=stored, known=known)
        except (ValidationError, DomainError) as error:
            error.row_index = index  # type: ignore[union-attr]
            raise
        if current is not None:
            instance.version = current + 1  # type: ignore[attr-defined]
        written.update(name for name in data if not model._meta.get_field(name).many_to_many)
        changed.append(instance)
        befores.append(before)
        datas.append(data)
        results.append(instance)
    try:
        _clean_many(changed, exclude_clean)
    except ValidationError as error:
        place = getattr(error, "row_index", None)
        if place is not None:
            error.row_index = results.index(changed[place])  # type: ignore[attr-defined]
        raise
    if changed:
        stamps = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        for instance in changed:
            for stamp in stamps:
                stamp.pre_save(instance, add=False)
        names = sorted(written | {f.name for f in stamps} | ({"version"} if hasattr(changed[0], "version") else set()))
        model._default_manager.bulk_update(changed, names, batch_size=500)
        _check_many_visible(actor, changed, datas)
        audit_records(
            action=Action.UPDATE,
            instances=changed,
            actor=actor,
            befores=befores,
            afters=[snapshot(instance) for instance in changed],
        )
    return results


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
