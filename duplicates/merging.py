"""Merging two customers that are one company, and undoing it.

A merge keeps one customer (the *survivor*) and takes, field by field, the value the
person chose from either side.  Every record of the other customer — contacts,
follow-ups, needs, orders (their payments follow), service records, feedback, survey
answers, campaign participation, risk alerts, tier and stage history, change requests —
moves to the survivor in one transaction, set-based (one statement per kind of record,
whatever their number), and the other customer is deleted.  The database keeps the
engines' derived data right as rows move: the buying rhythm is recomputed by the orders'
trigger for both customers, and the next tier evaluation and risk scan read the
survivor's whole history.

Where the two sides cannot both be kept as they are, the survivor's wins and the other
is set aside, reversibly: a second primary contact stops being primary, a second
participation in one campaign is removed, and an open alert for a rule and subject the
survivor already has open is closed.

One audit event records all of it: the merged customer whole, the survivor's values
before and after, the ids of every row moved and every row set aside.  From that event
an **unmerge**, within ``CRM_UNMERGE_DAYS``, re-creates the customer under its own id,
gives the survivor its own values back and moves back every row that moved (rows added
to the survivor since stay with it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Participation
from crm.access.choices import ChangeStatus
from crm.access.models import ChangeRequest
from crm.access.policy import Level, policy_for
from crm.audit.choices import Action
from crm.audit.models import AuditEvent
from crm.audit.services import audit_changes, jsonable
from crm.core.errors import DomainError, VersionConflict
from customers.merging import move_references
from customers.models import ArchiveState, Contact, Customer
from risk.choices import OPEN_STATUSES, AlertStatus
from risk.models import RiskAlert
from transactions.models import CustomerOrderStats

from .choices import CandidateStatus
from .models import DuplicateCandidate

#: The customer's fields a merge does not offer: its identity and bookkeeping, and what
#: the engines and the owner's confirmation set (the next evaluation grades the survivor).
NOT_CHOSEN = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "version",
        "tier",
        "tier_score",
        "tier_since",
        "tier_below_since",
        "tier_override_until",
        "last_verified_at",
        "last_verified_by",
        "consent_updated_at",
    }
)

#: Records that refer to a customer but do not move with it: the audit trail stays as it
#: was written, pairs are handled by the merge itself, and the buying rhythm and the
#: archive state are derived (the database keeps them).
NOT_MOVED: frozenset[type[models.Model]] = frozenset({AuditEvent, DuplicateCandidate, CustomerOrderStats, ArchiveState})

SIDES = ("a", "b")


def chosen_fields() -> list[models.Field[Any, Any]]:
    """The customer's fields whose value a merge lets the person choose."""
    return [field for field in Customer._meta.concrete_fields if field.name not in NOT_CHOSEN]


def child_relations() -> Iterator[tuple[type[models.Model], models.ForeignKey[Any, Any]]]:
    """Every kind of record that points to a customer and moves with it, as (model,
    foreign key); found from the models themselves, so a new kind moves too."""
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or not (relation.one_to_many or relation.one_to_one):
            continue
        model = relation.related_model
        if model in NOT_MOVED:
            continue
        yield model, relation.field  # type: ignore[misc,union-attr]


def _row(instance: models.Model) -> dict[str, Any]:
    """Every stored column of ``instance`` (foreign keys as ids), as JSON."""
    return {field.attname: jsonable(getattr(instance, field.attname)) for field in instance._meta.concrete_fields}


def _restore(model: type[models.Model], row: Mapping[str, Any]) -> models.Model:
    """Insert again, under its own id and stamps, a row kept by :func:`_row`."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.attname in row:
            value = row[field.attname]
            values[field.attname] = None if value is None else field.to_python(value)
    instance = model(**values)
    instance.save(force_insert=True)
    # The creation stamp is set on insert; give the row its own back.
    stamps = {name: values[name] for name in ("created_at", "updated_at") if values.get(name) is not None}
    if stamps:
        model._default_manager.filter(pk=instance.pk).update(**stamps)
    return instance


def _chosen_values(
    actor: Any, survivor: Customer, merged: Customer, values: Mapping[str, str], survivor_side: str
) -> dict[str, Any]:
    """The fields the survivor takes from the merged customer, checked: a known field,
    a side ``a`` or ``b``, and a value the actor may write (the field policy's "write")."""
    fields = {field.name: field for field in chosen_fields()}
    policy = policy_for(actor)
    errors: dict[str, list[str]] = {}
    taken: dict[str, Any] = {}
    for name, side in values.items():
        if name not in fields:
            errors[name] = [_("This field cannot be chosen in a merge.")]
            continue
        if side not in SIDES:
            errors[name] = [_("Choose “a” or “b”.")]
            continue
        if side == survivor_side:
            continue
        field = fields[name]
        value = getattr(merged, field.attname)
        if value == getattr(survivor, field.attname):
            continue
        if policy.level("customers", name) < Level.WRITE:
            errors[name] = [_("You may not change this field.")]
            continue
        taken[field.attname] = value
    if errors:
        raise DomainError(_("Some of the values chosen cannot be taken."), field_errors=errors)
    return taken


def _locked_pair(candidate: DuplicateCandidate, expected_version: int | None) -> DuplicateCandidate:
    pair = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if expected_version is not None and pair.version != expected_version:
        raise VersionConflict(current_version=pair.version)
    return pair


@transaction.atomic
def customer_merge(
    *,
    actor: Any,
    candidate: DuplicateCandidate,
    keep: str,
    values: Mapping[str, str],
    expected_version: int | None,
) -> DuplicateCandidate:
    """Merge the pair's two customers into the one on side ``keep`` (``a`` or ``b``),
    taking for each field in ``values`` the side named there; see the module's text.

    Only an open pair is merged, at the version the person read.  The caller has
    checked the right to merge (``may(actor, "merge", "duplicate-candidates")``) and the
    pair comes from the actor's scope, so both customers are theirs to see.
    """
    pair = _locked_pair(candidate, expected_version)
    if pair.status != CandidateStatus.OPEN or pair.customer_a_id is None or pair.customer_b_id is None:
        raise DomainError(_("Only an open pair can be merged."))
    if keep not in SIDES:
        raise DomainError(_("Say which customer to keep."), field_errors={"keep": [_("Choose “a” or “b”.")]})
    ids = {"a": pair.customer_a_id, "b": pair.customer_b_id}
    survivor_id, merged_id = ids[keep], ids["b" if keep == "a" else "a"]
    both = Customer.objects.select_for_update().filter(pk__in=[survivor_id, merged_id]).order_by("pk")
    locked = {customer.pk: customer for customer in both}
    survivor, merged = locked[survivor_id], locked[merged_id]
    taken = _chosen_values(actor, survivor, merged, values, keep)
    kept_before = {name: jsonable(getattr(survivor, name)) for name in taken}
    merged_row = _row(merged)
    merged_label = f"{merged.code} {merged.name}"[:250]

    set_aside = _set_aside(survivor_id, merged_id)
    moved: dict[str, list[int]] = {}
    for model, fk in child_relations():
        ids_moved = move_references(fk, source=merged_id, target=survivor_id, only=None)
        if ids_moved:
            moved[model._meta.label_lower] = ids_moved
    requests = _move_requests(survivor_id, merged_id)
    # Other pairs of the customer merged away: open ones are found again with the
    # survivor if they still hold; decided ones keep their verdict with one side empty.
    DuplicateCandidate.objects.filter(
        Q(customer_a_id=merged_id) | Q(customer_b_id=merged_id), status=CandidateStatus.OPEN
    ).exclude(pk=pair.pk).delete()
    Customer.objects.filter(pk=merged_id).delete()
    if taken:
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=survivor_id).update(
                    **taken, version=F("version") + 1, updated_at=timezone.now()
                )
        except IntegrityError as error:
            raise DomainError(_("The values chosen clash with another customer's.")) from error
        survivor.refresh_from_db()
    event = audit_changes(
        action=Action.MERGE,
        instance=survivor,
        actor=actor,
        changes={
            "merged": {"before": merged_row, "after": None},
            "kept": {"before": kept_before, "after": {name: jsonable(value) for name, value in taken.items()}},
            "moved": {"before": None, "after": moved},
            "set_aside": {"before": set_aside, "after": None},
            "change_requests": {"before": None, "after": requests},
            "pair": {"before": None, "after": pair.pk},
        },
    )
    now = timezone.now()
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        status=CandidateStatus.MERGED,
        survivor_id=survivor_id,
        merged_id=merged_id,
        merged_repr=merged_label,
        merge_event_id=event.pk,
        decided_by=actor,
        decided_at=now,
        version=F("version") + 1,
    )
    return DuplicateCandidate.objects.get(pk=pair.pk)


def _set_aside(survivor_id: int, merged_id: int) -> dict[str, Any]:
    """Make room on the survivor for the merged customer's rows, reversibly: what clashes
    with the survivor's own is changed or removed here and listed for an unmerge."""
    unprimaried: list[int] = []
    if Contact.objects.filter(customer_id=survivor_id, is_primary=True).exists():
        clash = Contact.objects.filter(customer_id=merged_id, is_primary=True)
        unprimaried = list(clash.values_list("pk", flat=True))
        clash.update(is_primary=False, version=F("version") + 1)
    twice = Participation.objects.filter(
        customer_id=merged_id,
        campaign_id__in=Participation.objects.filter(customer_id=survivor_id).values("campaign_id"),
    )
    removed = [_row(participation) for participation in twice]
    twice.delete()
    same_alert = RiskAlert.objects.filter(customer_id=merged_id, status__in=OPEN_STATUSES).filter(
        Exists(
            RiskAlert.objects.filter(
                customer_id=survivor_id,
                status__in=OPEN_STATUSES,
                rule_id=OuterRef("rule_id"),
                subject=OuterRef("subject"),
            )
        )
    )
    closed = {str(pk): status for pk, status in same_alert.values_list("pk", "status")}
    same_alert.update(
        status=AlertStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note=_("Closed by a merge: the customer kept has the same alert open."),
    )
    return {"unprimaried": unprimaried, "participations": removed, "alerts": closed}


def _move_requests(survivor_id: int, merged_id: int) -> dict[str, list[int]]:
    """Change requests follow their records to the survivor; those for the merged
    customer's own fields are withdrawn (that record is gone)."""
    own = ChangeRequest.objects.filter(resource="customers", record_id=merged_id, status=ChangeStatus.PENDING)
    withdrawn = list(own.values_list("pk", flat=True))
    own.update(
        status=ChangeStatus.WITHDRAWN,
        reason=_("The customer was merged into another."),
        decided_at=timezone.now(),
        version=F("version") + 1,
    )
    moved = list(ChangeRequest.objects.filter(customer_id=merged_id).values_list("pk", flat=True))
    ChangeRequest.objects.filter(pk__in=moved).update(customer_id=survivor_id)
    return {"moved": moved, "withdrawn": withdrawn}


def unmerge_deadline(pair: DuplicateCandidate) -> datetime.datetime | None:
    """Until when the pair's merge can be undone (None: it is not a merge that stands)."""
    if pair.status != CandidateStatus.MERGED or pair.decided_at is None or pair.merge_event_id is None:
        return None
    return pair.decided_at + datetime.timedelta(days=settings.CRM_UNMERGE_DAYS)


@transaction.atomic
def customer_unmerge(*, actor: Any, candidate: DuplicateCandidate, expected_version: int | None) -> DuplicateCandidate:
    """Undo the pair's merge: the customer merged away is back under its own id with
    every row that moved and is still on the survivor, and the survivor has its own
    values back where they still are the ones the merge gave it.  The pair is open
    again, to be decided anew.  Refused after ``CRM_UNMERGE_DAYS``."""
    pair = _locked_pair(candidate, expected_version)
    deadline = unmerge_deadline(pair)
    if deadline is None:
        raise DomainError(_("Only a merged pair can be unmerged."))
    if timezone.now() > deadline:
        raise DomainError(
            _("A merge can be undone for %(days)d days; this one is older.") % {"days": settings.CRM_UNMERGE_DAYS}
        )
    if pair.survivor_id is None:
        raise DomainError(_("The customer kept has been deleted since; the merge cannot be undone."))
    event = AuditEvent.objects.get(pk=int(pair.merge_event_id or 0))
    record = dict(event.changes)
    merged_row = record["merged"]["before"]
    merged_id = int(merged_row["id"])
    survivor = Customer.objects.select_for_update().get(pk=int(pair.survivor_id))

    # The survivor's own values first, so that a code or tax id it took is free again.
    fields = {field.attname: field for field in Customer._meta.concrete_fields}
    given = record["kept"]["after"]
    back = {
        name: (None if value is None else fields[name].to_python(value))
        for name, value in record["kept"]["before"].items()
        if jsonable(getattr(survivor, name)) == given.get(name)
    }
    try:
        with transaction.atomic():
            if back:
                Customer.objects.filter(pk=survivor.pk).update(
                    **back, version=F("version") + 1, updated_at=timezone.now()
                )
            restored = _restore(Customer, {**merged_row, "version": int(merged_row.get("version") or 1) + 1})
    except IntegrityError as error:
        raise DomainError(_("The customer cannot be restored: another customer now has its code or tax id.")) from error

    relations = {model._meta.label_lower: fk for model, fk in child_relations()}
    counts: dict[str, int] = {}
    for label, ids in record["moved"]["after"].items():
        if label not in relations:
            continue
        counts[label] = len(move_references(relations[label], source=survivor.pk, target=merged_id, only=ids))
    set_aside = record["set_aside"]["before"]
    Contact.objects.filter(pk__in=set_aside["unprimaried"], customer_id=merged_id).update(
        is_primary=True, version=F("version") + 1
    )
    for row in set_aside["participations"]:
        if not Participation.objects.filter(pk=row["id"]).exists():
            _restore(Participation, row)
    for status in set(set_aside["alerts"].values()):
        ids = [int(pk) for pk, was in set_aside["alerts"].items() if was == status]
        RiskAlert.objects.filter(pk__in=ids, customer_id=merged_id, status=AlertStatus.RESOLVED).update(
            status=status, resolved_at=None, resolution_note=""
        )
    requests = record["change_requests"]["after"]
    ChangeRequest.objects.filter(pk__in=requests["moved"], customer_id=survivor.pk).update(customer_id=merged_id)
    ChangeRequest.objects.filter(pk__in=requests["withdrawn"], status=ChangeStatus.WITHDRAWN).update(
        status=ChangeStatus.PENDING, reason="", decided_at=None, version=F("version") + 1
    )
    side = {"customer_a_id": merged_id} if pair.customer_a_id is None else {"customer_b_id": merged_id}
    audit_changes(
        action=Action.UNMERGE,
        instance=restored,
        actor=actor,
        changes={
            "merge_event": {"before": event.seq, "after": None},
            "restored": {"before": None, "after": counts},
            "kept": {"before": {name: jsonable(value) for name, value in back.items()}, "after": None},
        },
    )
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        **side,
        status=CandidateStatus.OPEN,
        survivor=None,
        merged_id=None,
        merged_repr="",
        merge_event_id=None,
        decided_by=None,
        decided_at=None,
        version=F("version") + 1,
    )
    return DuplicateCandidate.objects.get(pk=pair.pk)


def child_model(label: str) -> type[models.Model]:
    """The model of a kind of record a merge moved (``customers.contact``)."""
    from django.apps import apps

    return apps.get_model(label)
