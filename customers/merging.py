"""Merging two contacts of one customer that are the same person, and undoing it.

A merge keeps one contact (the *survivor*) and removes the other (the *duplicate*):

* both belong to the same customer, which the actor sees, and both are still at the
  versions the actor read;
* for each field the actor picks the survivor's or the duplicate's value; a field the
  field policy does not let the actor write keeps the survivor's value;
* every record that names the duplicate (follow-ups, feedback, survey answers, campaign
  participations … every foreign key to a contact, found through the model's meta, so
  a new one is included without a change here) names the survivor instead, one
  statement per relation;
* a primary duplicate hands its primary role to the survivor;
* it is one transaction with one audit event (``merge``) holding the duplicate's whole
  record, the survivor's values before the merge and the ids of the moved records.

Within ``CRM_UNMERGE_DAYS`` days an unmerge, from that event, brings the duplicate back
under its own id, gives the survivor its values back and moves back the moved records
that still name the survivor; once only (one ``unmerge`` event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.policy import Level, policy_for
from crm.access.registry import may
from crm.access.scope import scoped_queryset, sees_everything
from crm.access.writes import check_write, stored_values
from crm.audit.choices import Action
from crm.audit.models import AuditEvent
from crm.audit.services import audit_record, snapshot
from crm.core.errors import DomainError, NotPermitted, OutOfScope, VersionConflict
from crm.core.validation import record_validate

from .models import Contact

Choice = Literal["survivor", "duplicate"]
#: The registry's verbs (an update of contacts unless the registry says otherwise).
MERGE, UNMERGE = "merge", "unmerge"
#: Fields a merge does not choose: what the contact is and whose it is.  The primary
#: role follows its own rule.
_NOT_CHOSEN = frozenset({"id", "customer", "is_primary", "created_at", "updated_at", "version"})
#: The audit event's keys besides the survivor's changed fields.
MERGED, MOVED, MERGE_EVENT, RESTORED = "merged", "moved", "merge_event", "unmerged"


def _field(name: str) -> models.Field[Any, Any]:
    """A concrete field of the contact model, by name."""
    return next(f for f in Contact._meta.concrete_fields if f.name == name)


def mergeable_fields() -> list[str]:
    """The contact fields whose value a merge chooses, in the model's order."""
    return [
        f.name for f in Contact._meta.concrete_fields if f.editable and not f.primary_key and f.name not in _NOT_CHOSEN
    ]


def contact_references() -> list[models.ForeignKey[Any, Any]]:
    """Every foreign key to a contact, of any app (hidden reverse relations included)."""
    return [
        relation.field
        for relation in Contact._meta.get_fields(include_hidden=True)
        if isinstance(relation, ForeignObjectRel) and isinstance(relation.field, models.ForeignKey)
    ]


def _key(reference: models.ForeignKey[Any, Any]) -> str:
    return f"{reference.model._meta.label_lower}:{reference.name}"


def move_references(
    reference: models.ForeignKey[Any, Any], *, source: int, target: int, only: list[int] | None
) -> list[int]:
    """Point the rows of ``reference`` that name record ``source`` (a contact, a customer)
    at ``target`` in one statement (a new version and update stamp where the model has
    them), only those of ids ``only`` when given; their ids.  A merge and its undo both
    move rows this way."""
    model = reference.model
    quote = connection.ops.quote_name
    names = {f.name for f in model._meta.concrete_fields}
    sets = [f"{quote(reference.column)} = %s"]
    params: list[Any] = [target]
    if "version" in names:
        sets.append(f"{quote('version')} = {quote('version')} + 1")
    if "updated_at" in names:
        sets.append(f"{quote('updated_at')} = %s")
        params.append(timezone.now())
    pk = quote(model._meta.pk.column or "id")
    sql = f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} WHERE {quote(reference.column)} = %s"  # noqa: S608 (names from the model's meta)
    params.append(source)
    if only is not None:
        sql += f" AND {pk} = ANY(%s)"
        params.append(only)
    with connection.cursor() as cursor:
        try:  # a unique constraint over the moved column may refuse the move
            cursor.execute(f"{sql} RETURNING {pk}", params)
        except IntegrityError as error:
            label = str(model._meta.verbose_name_plural)
            message = _("The %(records)s of the two records cannot be joined.") % {"records": label}
            raise DomainError(message) from error
        return sorted(row[0] for row in cursor.fetchall())


def _check_actor(actor: Any, verb: str) -> None:
    if not may(actor, verb, "contacts"):
        raise NotPermitted()


def _lock_pair(actor: Any, survivor_id: int, duplicate_id: int) -> tuple[Contact, Contact]:
    """Both contacts, locked in id order, if the actor sees both and they are one customer's."""
    if survivor_id == duplicate_id:
        raise DomainError(
            _("A contact cannot be merged with itself."), field_errors={"duplicate": [_("Choose another contact.")]}
        )
    locked = Contact.objects.select_for_update(of=("self",)).filter(pk__in=[survivor_id, duplicate_id]).order_by("pk")
    found = {contact.pk: contact for contact in locked}
    if len(found) < 2:
        raise VersionConflict(message=_("One of the two contacts was deleted or merged meanwhile."))
    survivor, duplicate = found[survivor_id], found[duplicate_id]
    if not sees_everything(actor):
        seen = scoped_queryset(Contact, actor).filter(pk__in=[survivor_id, duplicate_id]).count()
        if seen < 2:
            raise OutOfScope(field_errors={"duplicate": [_("No such contact.")]})
    if survivor.customer_id != duplicate.customer_id:
        raise DomainError(
            _("Only contacts of the same customer can be merged."),
            field_errors={"duplicate": [_("This contact belongs to another customer.")]},
        )
    return survivor, duplicate


def _check_version(contact: Contact, expected: int | None) -> None:
    if expected is not None and contact.version != expected:
        raise VersionConflict(current_version=contact.version)


@transaction.atomic
def contact_merge(
    *,
    actor: Any,
    survivor: Contact,
    duplicate: Contact,
    values: Mapping[str, Choice],
    expected_versions: Mapping[int, int | None],
) -> tuple[Contact, AuditEvent]:
    """Merge ``duplicate`` into ``survivor`` (the module's rules); the survivor as it is
    now and the ``merge`` audit event, whose id an unmerge names.

    ``values`` picks, per field, whose value the survivor keeps (fields not named keep
    the survivor's); ``expected_versions`` maps each contact's id to the version the
    actor read.
    """
    _check_actor(actor, MERGE)
    fields = mergeable_fields()
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DomainError(
            _("These fields cannot be chosen in a merge: %(fields)s") % {"fields": ", ".join(unknown)},
            field_errors={"values": [_("Unknown field: %(field)s") % {"field": name} for name in unknown]},
        )
    kept, gone = _lock_pair(actor, survivor.pk, duplicate.pk)
    _check_version(kept, expected_versions.get(kept.pk))
    _check_version(gone, expected_versions.get(gone.pk))
    policy = policy_for(actor)
    record = {**snapshot(gone), "created_at": gone.created_at.isoformat(), "version": gone.version}
    before = snapshot(kept)
    stored = stored_values(kept)
    taken = [
        name
        for name, choice in values.items()
        if choice == "duplicate" and policy.level("contacts", name) >= Level.WRITE
    ]
    for name in taken:
        setattr(kept, name, getattr(gone, name))
    record_validate(instance=kept, fields=taken)
    kept.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    moved = {}
    for reference in contact_references():
        ids = move_references(reference, source=gone.pk, target=kept.pk, only=None)
        if ids:
            moved[_key(reference)] = ids
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Contact._meta.db_table)} WHERE id = %s", [gone.pk])  # noqa: S608
    if gone.is_primary:
        kept.is_primary = True
    check_write(actor=actor, instance=kept, before=stored)
    kept.version += 1
    kept.save()
    after = snapshot(kept)
    event = audit_record(
        action=Action.MERGE,
        instance=kept,
        actor=actor,
        before={**before, MERGED: record, MOVED: None},
        after={**after, MERGED: None, MOVED: moved},
    )
    return kept, event


def _merge_event(survivor: Contact, event_id: int) -> AuditEvent:
    event = AuditEvent.objects.filter(
        pk=event_id, action=Action.MERGE, resource=Contact._meta.label_lower, object_id=str(survivor.pk)
    ).first()
    if event is None:
        raise DomainError(
            _("This is not a merge into this contact."), field_errors={"event": [_("No merge into this contact.")]}
        )
    return event


def unmerge_deadline(event: AuditEvent) -> dt.datetime:
    """Until when the merge of ``event`` can be undone."""
    return event.occurred_at + dt.timedelta(days=settings.CRM_UNMERGE_DAYS)


def unmerged(event: AuditEvent) -> bool:
    """Whether the merge of ``event`` has been undone already."""
    return AuditEvent.objects.filter(
        action=Action.UNMERGE,
        resource=event.resource,
        object_id=event.object_id,
        changes__merge_event__after=event.pk,
    ).exists()


@transaction.atomic
def contact_unmerge(*, actor: Any, survivor: Contact, event_id: int, expected_version: int | None) -> Contact:
    """Undo the merge recorded as ``event_id`` into ``survivor``, within
    ``CRM_UNMERGE_DAYS`` days of it and once: the duplicate comes back with its id and
    values (the primary role too, when no other contact has taken it since), the
    survivor gets back the values the merge gave it, and the moved records that still
    name the survivor name the duplicate again.  One ``unmerge`` audit event; the
    duplicate as it is back."""
    _check_actor(actor, UNMERGE)
    kept = Contact.objects.select_for_update(of=("self",)).filter(pk=survivor.pk).first()
    if kept is None or not scoped_queryset(Contact, actor).filter(pk=survivor.pk).exists():
        raise OutOfScope(field_errors={"event": [_("No such contact.")]})
    _check_version(kept, expected_version)
    event = _merge_event(kept, event_id)
    if timezone.now() > unmerge_deadline(event):
        raise DomainError(
            _("This merge can no longer be undone: merges are undone within %(days)d days.")
            % {"days": settings.CRM_UNMERGE_DAYS},
            field_errors={"event": [_("Too late to undo.")]},
        )
    if unmerged(event):
        raise DomainError(_("This merge has been undone already."), field_errors={"event": [_("Undone already.")]})
    changes = event.changes
    record: dict[str, Any] = changes[MERGED]["before"]
    moved: dict[str, list[int]] = changes.get(MOVED, {}).get("after") or {}
    if Contact.objects.filter(pk=record["id"]).exists():
        raise DomainError(_("The merged contact exists again; nothing to undo."))
    policy = policy_for(actor)
    restored = {name: change["before"] for name, change in changes.items() if name not in (MERGED, MOVED)}
    barred = [name for name in restored if name != "is_primary" and policy.level("contacts", name) < Level.WRITE]
    if barred:
        raise NotPermitted(
            _("You may not change %(fields)s, which this merge changed; ask someone who may.")
            % {"fields": ", ".join(str(_field(name).verbose_name) for name in barred)}
        )
    before = snapshot(kept)
    stored = stored_values(kept)
    for name, value in restored.items():
        model_field = _field(name)
        setattr(kept, model_field.attname, model_field.to_python(value))
    check_write(actor=actor, instance=kept, before=stored)
    kept.version += 1
    kept.save()
    back = Contact()
    for model_field in Contact._meta.concrete_fields:
        if model_field.name in record and model_field.name not in ("created_at", "version"):
            setattr(back, model_field.attname, model_field.to_python(record[model_field.name]))
    if back.is_primary and Contact.objects.filter(customer_id=back.customer_id, is_primary=True).exists():
        back.is_primary = False  # another contact has become the primary one since
    back.version = int(record.get("version", 1)) + 1
    back.save(force_insert=True)
    Contact.objects.filter(pk=back.pk).update(created_at=dt.datetime.fromisoformat(record["created_at"]))
    moved_back = {}
    for reference in contact_references():
        ids = moved.get(_key(reference))
        if ids:
            moved_back[_key(reference)] = move_references(reference, source=kept.pk, target=back.pk, only=ids)
    audit_record(
        action=Action.UNMERGE,
        instance=kept,
        actor=actor,
        before={**before, MERGE_EVENT: None, RESTORED: None, MOVED: None},
        after={**snapshot(kept), MERGE_EVENT: event.pk, RESTORED: snapshot(back), MOVED: moved_back},
    )
    return back


def field_label(name: str) -> str:
    """A contact field's name in the reader's language."""
    return str(_field(name).verbose_name)
