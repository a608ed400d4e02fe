"""Writes to the customer archive, with the rules that keep it consistent.

Every function here is one transaction and leaves audit events (through
``crm.core.services``); views, serializers, admin, imports and tasks call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import may, role_of
from crm.access.scope import scoped_queryset, sees_everything
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.audit.choices import Action
from crm.audit.services import audit_bulk, audit_record, snapshot
from crm.core.errors import DomainError
from crm.core.figures import figures_fold, figures_recount
from crm.core.services import record_create, record_create_many, record_delete, record_update, record_update_many
from crm.core.validation import control_characters, record_validate

from .choices import ActivityKind
from .models import Activity, Contact, Customer, SavedView, ServiceNeed

# Fields only the tier engine and managers' overrides may write (tiers app).
TIER_FIELDS = frozenset({"tier", "tier_score", "tier_since", "tier_below_since", "tier_override_until"})


def next_customer_code() -> str:
    """The next free customer code, ``C`` and seven digits, from a database sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('customers_customer_code_seq')")
        (number,) = cursor.fetchone()
    code = f"C{number:07d}"
    while Customer.objects.filter(code=code).exists():  # codes typed in by hand may have taken it
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('customers_customer_code_seq')")
            (number,) = cursor.fetchone()
        code = f"C{number:07d}"
    return code


def next_customer_codes(count: int) -> list[str]:
    """``count`` free customer codes at once (an import), from the same sequence."""
    codes: list[str] = []
    while len(codes) < count:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval('customers_customer_code_seq') FROM generate_series(1, %s)", [count - len(codes)]
            )
            wanted = [f"C{number:07d}" for (number,) in cursor.fetchall()]
        taken = set(Customer.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes += [code for code in wanted if code not in taken]
    return codes


def _check_owner(
    actor: Any,
    owner: User | None,
    team: Any,
    *,
    changing: tuple[str, ...] = (),
    team_given: bool = True,
    managed: set[int] | None = None,
) -> None:
    """Who may give a customer to whom; the owner and the team decide who sees it.

    A rep's customers are their own and in their own team: a rep creates customers for
    themselves only, in their team, and reassigns nothing (``changing`` names what an
    update changes: owner, team).  A manager
    gives customers to themselves or to members of the teams they manage, and places
    them only in those teams (a customer is never taken out of every team by them).
    Admins, integrations and the system assign freely.  ``team`` is the team the write
    asks for; ``team_given`` says whether the writer named it (rather than it following
    the owner); ``managed`` the teams a manager manages, when already known.
    """
    if actor is None or sees_everything(actor):
        return
    role = role_of(actor)
    if role == Role.REP:
        if changing:
            raise DomainError(
                _("Only managers can reassign customers; ask your manager."),
                field_errors={name: [_("You cannot reassign this customer.")] for name in changing},
            )
        if owner is not None and owner.pk != actor.pk:
            raise DomainError(
                _("Sales reps can only own their own customers; ask your manager to reassign."),
                field_errors={"owner": [_("You can only assign customers to yourself.")]},
            )
        if team_given and getattr(team, "pk", None) != actor.team_id:
            raise DomainError(
                _("Your customers belong to your own team."),
                field_errors={"team": [_("You can only place customers in your own team.")]},
            )
        return
    if role == Role.MANAGER:
        if managed is None:
            managed = _managed(actor)
        if owner is not None and owner.pk != actor.pk and owner.team_id not in managed:
            raise DomainError(
                _("You can only assign customers to members of the teams you manage."),
                field_errors={"owner": [_("This user is not in a team you manage.")]},
            )
        if team_given and (team is None or team.pk not in managed):
            raise DomainError(
                _("You can only assign customers to the teams you manage."),
                field_errors={"team": [_("You do not manage this team.")]},
            )
        return
    raise DomainError(_("You may not assign customers."), field_errors={"owner": [_("Not allowed.")]})


def _managed(actor: Any) -> set[int]:
    """The teams a manager manages (none for anyone else)."""
    if actor is None or role_of(actor) != Role.MANAGER:
        return set()
    return set(actor.managed_teams.values_list("pk", flat=True))


def _consent_stamp(data: dict[str, Any], instance: Customer | None) -> None:
    changed = any(
        name in data and (instance is None or getattr(instance, name) != data[name])
        for name in ("consent_marketing", "consent_data_processing")
    )
    if changed:
        data["consent_updated_at"] = timezone.now()


def _history_stamp(data: dict[str, Any], instance: Customer | None) -> None:
    """Spend and purchases before the CRM given without the day they run up to stand for
    the year up to the day they were recorded."""
    given = any(data.get(name) is not None for name in ("history_spend", "history_orders"))
    if given and data.get("history_until") is None and getattr(instance, "history_until", None) is None:
        data["history_until"] = timezone.localdate()


def _creating(actor: Any, data: Mapping[str, Any], managed: set[int] | None = None) -> dict[str, Any]:
    """A new customer's values by the rules of :func:`customer_create`, but its code."""
    data = {k: v for k, v in data.items() if k not in TIER_FIELDS}
    if data.get("owner") is None:
        data["owner"] = actor
    team_given = data.get("team") is not None
    if not team_given:
        data["team"] = getattr(data["owner"], "team", None)
    _check_owner(actor, data["owner"], data["team"], team_given=team_given, managed=managed)
    _consent_stamp(data, None)
    _history_stamp(data, None)
    return data


@transaction.atomic
def customer_create(*, actor: Any, data: Mapping[str, Any]) -> Customer:
    """Create a customer.  It belongs to the creating rep unless an owner is given, and to
    the owner's team unless a team is given; a code is assigned when none is given."""
    data = _creating(actor, data)
    if not data.get("code"):
        data["code"] = next_customer_code()
    return record_create(model=Customer, actor=actor, data=data)


@transaction.atomic
def customer_create_many(*, actor: Any, rows: Sequence[Mapping[str, Any]]) -> list[Customer]:
    """:func:`customer_create` for many customers at once (an import's chunk), in a few
    statements; an error names the row at fault (``row_index``) and writes nothing."""
    managed = _managed(actor)
    prepared = []
    for index, data in enumerate(rows):
        try:
            prepared.append(_creating(actor, data, managed))
        except DomainError as error:
            error.row_index = index
            raise
    uncoded = [data for data in prepared if not data.get("code")]
    for data, code in zip(uncoded, next_customer_codes(len(uncoded)), strict=True):
        data["code"] = code
    return record_create_many(model=Customer, actor=actor, rows=prepared)


@transaction.atomic
def customer_update(
    *, actor: Any, instance: Customer, data: Mapping[str, Any], expected_version: int | None
) -> Customer:
    """Update a customer's archive.  Reassigning it to another owner or team is a manager's act."""
    data = _updating(actor, instance, data)
    if getattr(actor, "pk", None) is not None and _changes_anything(instance, data):
        # A person who edits the profile has looked at it: that counts as confirming it
        # (imports, which write through customer_update_many, do not; a save that
        # changes nothing writes nothing — "Still right" is the explicit confirmation).
        data.update(last_verified_at=timezone.now(), last_verified_by=actor)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def _changes_anything(instance: Customer, data: Mapping[str, Any]) -> bool:
    """Whether writing ``data`` would change any of the customer's stored values."""
    for name, value in data.items():
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        new = getattr(value, "pk", value) if getattr(field, "is_relation", False) else value
        if getattr(instance, attname, None) != new:
            return True
    return False


@transaction.atomic
def customer_verify(*, actor: Any, instance: Customer, expected_version: int | None) -> Customer:
    """The owner (or anyone who may edit the customer) confirms its archive is still right:
    stamps now and who, audited, refused with 409 when the record changed meanwhile."""
    data = {"last_verified_at": timezone.now(), "last_verified_by": actor}
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def _updating(
    actor: Any, instance: Customer, data: Mapping[str, Any], managed: set[int] | None = None
) -> dict[str, Any]:
    """A customer's changed values by the rules of :func:`customer_update`."""
    data = {k: v for k, v in data.items() if k not in TIER_FIELDS}
    changing = tuple(
        name
        for name in ("owner", "team")
        if name in data and getattr(data[name], "pk", data[name]) != getattr(instance, f"{name}_id")
    )
    if changing:
        owner = data["owner"] if "owner" in data else instance.owner
        team = data["team"] if "team" in data else instance.team
        _check_owner(actor, owner, team, changing=changing, team_given="team" in changing, managed=managed)
    _consent_stamp(data, instance)
    _history_stamp(data, instance)
    return data


@transaction.atomic
def customer_update_many(
    *, actor: Any, changes: Sequence[tuple[Customer, Mapping[str, Any], int | None]]
) -> list[Customer | None]:
    """:func:`customer_update` for many customers at once (an import's chunk): each
    customer with its new values and the version the writer read.  Returns each as
    written, or None where nothing changed."""
    managed = _managed(actor)
    prepared = []
    for index, (instance, data, version) in enumerate(changes):
        try:
            prepared.append((instance.pk, _updating(actor, instance, data, managed), version))
        except DomainError as error:
            error.row_index = index
            raise
    return record_update_many(model=Customer, actor=actor, changes=prepared)


def customer_delete(*, actor: Any, instance: Customer, expected_version: int | None) -> None:
    """Delete a customer and its contacts and follow-ups.  A customer with orders is kept
    (the orders are the company's books): it is refused with 409; mark it churned instead."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ---------------------------------------------------------------------- contacts
def _demote_other_primary(*, actor: Any, contact: Contact) -> None:
    others = Contact.objects.select_for_update().filter(customer_id=contact.customer_id, is_primary=True)
    if contact.pk:
        others = others.exclude(pk=contact.pk)
    for other in others:
        record_update(instance=other, actor=actor, data={"is_primary": False}, expected_version=None)


@transaction.atomic
def contact_create(*, actor: Any, data: Mapping[str, Any]) -> Contact:
    """Add a contact.  A new primary contact takes over from the previous one."""
    if data.get("is_primary"):
        _demote_other_primary(actor=actor, contact=Contact(customer=data["customer"]))
    return record_create(model=Contact, actor=actor, data=data)


@transaction.atomic
def contact_create_many(*, actor: Any, rows: Sequence[Mapping[str, Any]]) -> list[Contact]:
    """:func:`contact_create` for many contacts at once (an import's chunk).  The last
    primary contact given for a customer takes over from every earlier one."""
    given = [dict(data) for data in rows]
    primary: dict[int, int] = {}
    for index, data in enumerate(given):
        if data.get("is_primary"):
            customer_id = getattr(data["customer"], "pk", data["customer"])
            if customer_id in primary:
                given[primary[customer_id]]["is_primary"] = False
            primary[customer_id] = index
    if primary:
        _demote_primaries(actor=actor, customer_ids=set(primary), keep=set())
    return record_create_many(model=Contact, actor=actor, rows=given)


@transaction.atomic
def contact_update_many(
    *, actor: Any, changes: Sequence[tuple[Contact, Mapping[str, Any], int | None]]
) -> list[Contact | None]:
    """:func:`contact_update` for many contacts at once (an import's chunk)."""
    promoted = {
        getattr(data.get("customer", instance.customer), "pk", None) or instance.customer_id: instance.pk
        for instance, data, _version in changes
        if data.get("is_primary") and not instance.is_primary
    }
    if promoted:
        _demote_primaries(actor=actor, customer_ids=set(promoted), keep=set(promoted.values()))
    return record_update_many(
        model=Contact, actor=actor, changes=[(instance.pk, data, version) for instance, data, version in changes]
    )


def _demote_primaries(*, actor: Any, customer_ids: set[int], keep: set[int]) -> None:
    others = Contact.objects.filter(customer_id__in=customer_ids, is_primary=True).exclude(pk__in=keep)
    demoted = [(pk, {"is_primary": False}, None) for pk in others.values_list("pk", flat=True)]
    if demoted:
        record_update_many(model=Contact, actor=actor, changes=demoted)


@transaction.atomic
def contact_update(*, actor: Any, instance: Contact, data: Mapping[str, Any], expected_version: int | None) -> Contact:
    customer = data.get("customer", instance.customer)
    if data.get("is_primary") and (not instance.is_primary or customer != instance.customer):
        _demote_other_primary(actor=actor, contact=Contact(pk=instance.pk, customer=customer))
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def contact_delete(*, actor: Any, instance: Contact, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# -------------------------------------------------------------------- activities
def _stamp_done(data: dict[str, Any], instance: Activity | None) -> None:
    done = data.get("done", instance.done if instance else False)
    if done and not data.get("done_at") and not (instance and instance.done_at):
        data["done_at"] = timezone.now()
    if not done and "done" in data:
        data["done_at"] = None
    if done and not data.get("occurred_at") and not (instance and instance.occurred_at):
        data["occurred_at"] = data.get("done_at") or (instance.done_at if instance else None)


@transaction.atomic
def activity_create(*, actor: Any, data: Mapping[str, Any]) -> Activity:
    """Log a follow-up or plan one.  It is assigned to its author unless an assignee is given
    (who must see the customer, and its contact must be the customer's: crm.access.writes);
    marking it done stamps when."""
    data = dict(data)
    data.setdefault("assignee", actor)
    if data["assignee"] is None:
        data["assignee"] = actor
    if not data.get("due_at") and not data.get("occurred_at") and not data.get("done"):
        data["occurred_at"] = timezone.now()
    _stamp_done(data, None)
    _stamp_check_in(data, None)
    return record_create(model=Activity, actor=actor, data=data)


@transaction.atomic
def activity_update(
    *, actor: Any, instance: Activity, data: Mapping[str, Any], expected_version: int | None
) -> Activity:
    data = dict(data)
    _stamp_done(data, instance)
    _stamp_check_in(data, instance)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


_PLACE = ("latitude", "longitude", "location_accuracy")


def _stamp_check_in(data: dict[str, Any], instance: Activity | None) -> None:
    """A place written with a visit (the API) is its check-in, by the rules of
    :func:`activity_check_in`: a visit's, once, stamped now.  The time of a check-in is
    the server's, never the writer's."""
    data.pop("checked_in_at", None)
    given = {name: data.pop(name) for name in _PLACE if name in data}
    if not any(value is not None for value in given.values()):
        return
    kind = data.get("kind", instance.kind if instance else None)
    if kind != ActivityKind.VISIT:
        raise DomainError(_("Only a visit is checked in."), field_errors={"kind": [_("Only a visit is checked in.")]})
    # A value not sent (a partial update) is the stored one.
    place = {name: given[name] if name in given else getattr(instance, name, None) for name in _PLACE}
    lat, lon, metres = check_in_place(
        latitude=place["latitude"], longitude=place["longitude"], accuracy=place["location_accuracy"]
    )
    if instance is not None and instance.checked_in_at is not None:
        if (lat, lon, metres) == (instance.latitude, instance.longitude, instance.location_accuracy):
            return  # the record sent back as it was read
        raise DomainError(
            _("This visit is checked in already."),
            field_errors={name: [_("Where a rep checked in is not rewritten.")] for name in given},
        )
    data.update(checked_in_at=timezone.now(), latitude=lat, longitude=lon, location_accuracy=metres)
    if not data.get("occurred_at") and not (instance and instance.occurred_at):
        data["occurred_at"] = data["checked_in_at"]


def activity_delete(*, actor: Any, instance: Activity, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ------------------------------------------------------- one-step log and follow-ups
def follow_up_due(*, now: dt.datetime | None = None) -> dt.datetime:
    """When the next follow-up a logged contact proposes is due: ``CRM_FOLLOW_UP_DAYS``
    days from now, to the minute."""
    now = now or timezone.now()
    return (now + dt.timedelta(days=settings.CRM_FOLLOW_UP_DAYS)).replace(second=0, microsecond=0)


def _problems(instance: Activity, prefix: str = "") -> dict[str, list[str]]:
    """What the model's and the CRM's input rules find wrong with ``instance`` (names
    prefixed by ``prefix``), all at once."""
    problems: dict[str, list[str]] = {}
    for check in (instance.full_clean, lambda: record_validate(instance=instance)):
        try:
            check()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                found = problems.setdefault(f"{prefix}{name}", [])
                found.extend(message for message in messages if message not in found)
    return problems


#: A visit's check-in, as stored (the field policy governs each).
CHECK_IN_FIELDS = ("checked_in_at", "latitude", "longitude", "location_accuracy")

#: The prefix of the next step's fields in :func:`activity_log`'s errors (and its form).
NEXT = "next-"


@transaction.atomic
def activity_log(
    *,
    actor: Any,
    customer: Customer,
    data: Mapping[str, Any],
    next_step: Mapping[str, Any] | None,
    check_in: Mapping[str, Any] | None = None,
) -> tuple[Activity, Activity | None]:
    """Log a call, visit, meeting or message that happened, and plan the next follow-up,
    in one step: both are written (each audited) or neither.

    The logged contact is done; it happened now unless ``occurred_at`` says otherwise.
    The next step (``None``: the rep chose no next step) is a planned follow-up of the
    same kind and contact unless it names others, due :func:`follow_up_due` unless it
    names a day, about the same subject unless it names one.  The problems of both parts
    are reported together, those of the next step under names starting with ``next-``.
    ``check_in`` (a visit's latitude, longitude and accuracy, each possibly None) checks
    the logged visit in, by the rules of :func:`activity_check_in`.
    """
    now = timezone.now()
    logged = {**data, "customer": customer, "done": True, "assignee": actor}
    if not logged.get("occurred_at"):
        logged["occurred_at"] = now
    logged["done_at"] = now
    planned: dict[str, Any] | None = None
    if next_step is not None:
        planned = {
            "kind": logged.get("kind") or ActivityKind.CALL,
            "contact": logged.get("contact"),
            **{name: value for name, value in next_step.items() if value not in (None, "")},
            "customer": customer,
            "done": False,
            "assignee": actor,
        }
        planned.setdefault("due_at", follow_up_due(now=now))
        if not planned.get("subject") and logged.get("subject"):
            planned["subject"] = (_("Follow up: %(subject)s") % {"subject": logged["subject"]})[:200]
    problems = _problems(Activity(**logged))
    if planned is not None:
        problems.update(_problems(Activity(**planned), NEXT))
    if check_in is not None:
        if logged.get("kind") != ActivityKind.VISIT:
            problems.setdefault("kind", []).append(_("Only a visit is checked in."))
        try:
            lat, lon, metres = check_in_place(**check_in)
        except DomainError as error:
            for name, messages in error.field_errors.items():
                problems.setdefault(name, []).extend(messages)
        else:
            logged.update(checked_in_at=now, latitude=lat, longitude=lon, location_accuracy=metres)
    if problems:
        raise ValidationError(problems)
    activity = record_create(model=Activity, actor=actor, data=logged)  # stamped above, check-in included
    follow_up = activity_create(actor=actor, data=planned) if planned is not None else None
    return activity, follow_up


@transaction.atomic
def activity_complete(*, actor: Any, instance: Activity, expected_version: int | None, outcome: str = "") -> Activity:
    """Mark a follow-up done: done now, and it happened now unless it already says when.
    Marking a follow-up that is already done again changes nothing (a double tap)."""
    if instance.done:
        return instance
    data: dict[str, Any] = {"done": True, "done_at": timezone.now()}
    if not instance.occurred_at:
        data["occurred_at"] = data["done_at"]
    if outcome.strip():
        data["outcome"] = outcome.strip()
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


#: How far one tap puts a follow-up off: +1 day, +3 days, next Monday.
SNOOZES = ("1d", "3d", "monday")


def snooze_until(option: str, *, due_at: dt.datetime | None, now: dt.datetime | None = None) -> dt.datetime:
    """The new due time of a follow-up put off by ``option`` (one of :data:`SNOOZES`):
    that many days from today, or next Monday, at the time of day it was due (9:00 if it
    had none).  Raises DomainError for an unknown option."""
    today = timezone.localtime(now or timezone.now()).date()
    if option == "1d":
        day = today + dt.timedelta(days=1)
    elif option == "3d":
        day = today + dt.timedelta(days=3)
    elif option == "monday":
        day = today + dt.timedelta(days=7 - today.weekday())
    else:
        raise DomainError(
            _("Choose how long to put it off."), field_errors={"option": [_("Choose +1 day, +3 days or next Monday.")]}
        )
    at = timezone.localtime(due_at).time() if due_at else dt.time(9, 0)
    return timezone.make_aware(dt.datetime.combine(day, at))


@transaction.atomic
def activity_snooze(*, actor: Any, instance: Activity, until: dt.datetime, expected_version: int | None) -> Activity:
    """Put an open follow-up off until ``until`` (in the future): only its due time moves."""
    if instance.done:
        raise DomainError(_("This follow-up is done already."), field_errors={"done": [_("It is done.")]})
    if until <= timezone.now():
        raise DomainError(
            _("A follow-up is put off to a later time."), field_errors={"until": [_("Choose a time in the future.")]}
        )
    return record_update(instance=instance, actor=actor, data={"due_at": until}, expected_version=expected_version)


def check_in_place(
    *, latitude: Any = None, longitude: Any = None, accuracy: Any = None
) -> tuple[Decimal | None, Decimal | None, int | None]:
    """A check-in's place as stored (degrees to six places, whole metres), or a
    DomainError naming each value that is not a place on Earth."""
    errors: dict[str, list[str]] = {}

    def number(name: str, value: Any, low: int, high: int, message: str) -> Decimal | None:
        if value in (None, ""):
            return None
        try:
            found = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            found = None
        if found is None or not found.is_finite() or not low <= found <= high:
            errors[name] = [message]
            return None
        return found.quantize(Decimal("0.000001"))

    lat = number("latitude", latitude, -90, 90, _("The latitude is a number from -90 to 90."))
    lon = number("longitude", longitude, -180, 180, _("The longitude is a number from -180 to 180."))
    metres = number("location_accuracy", accuracy, 0, 100_000, _("The accuracy is 0 to 100,000 metres."))
    if not errors and (lat is None) != (lon is None):
        missing = "latitude" if lat is None else "longitude"
        errors[missing] = [_("Give both the latitude and the longitude, or neither.")]
    if errors:
        raise DomainError(_("This is not a place on Earth."), field_errors=errors)
    if lat is None:
        metres = None
    return lat, lon, int(metres.to_integral_value()) if metres is not None else None


@transaction.atomic
def activity_check_in(
    *,
    actor: Any,
    instance: Activity,
    expected_version: int | None,
    latitude: Any = None,
    longitude: Any = None,
    accuracy: Any = None,
) -> Activity:
    """Check in at a visit (外勤签到): the time now and, when the phone shared it, the place.

    Only a visit is checked in, once (where and when a rep was is not rewritten).  Without
    coordinates the check-in still counts: the rep refused to share the location, or the
    phone had none.  A planned visit checked in has happened now.
    """
    if instance.kind != ActivityKind.VISIT:
        raise DomainError(_("Only a visit is checked in."), field_errors={"kind": [_("Only a visit is checked in.")]})
    if instance.checked_in_at is not None:
        raise DomainError(_("This visit is checked in already."))
    lat, lon, metres = check_in_place(latitude=latitude, longitude=longitude, accuracy=accuracy)
    now = timezone.now()
    data: dict[str, Any] = {"checked_in_at": now, "latitude": lat, "longitude": lon, "location_accuracy": metres}
    if not instance.occurred_at:
        data["occurred_at"] = now
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


# ------------------------------------------------------------------ service needs
def service_need_create(*, actor: Any, data: Mapping[str, Any]) -> ServiceNeed:
    return record_create(model=ServiceNeed, actor=actor, data=data)


def service_need_update(
    *, actor: Any, instance: ServiceNeed, data: Mapping[str, Any], expected_version: int | None
) -> ServiceNeed:
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def service_need_delete(*, actor: Any, instance: ServiceNeed, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ---------------------------------------------------------------------- list tools
@transaction.atomic
def saved_view_save(*, actor: Any, name: str, query: str) -> Any:
    """Save the list's current filters under a name; the same name replaces the old view."""

    name = name.strip()
    if not name:
        raise DomainError(_("Give the view a name."), field_errors={"name": [_("This field is required.")]})
    view, created = SavedView.objects.update_or_create(user=actor, name=name[:60], defaults={"query": query[:1000]})
    audit_record(
        action=Action.CREATE if created else Action.UPDATE, instance=view, actor=actor, before={}, after=snapshot(view)
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor: Any, view: Any) -> None:
    audit_record(action=Action.DELETE, instance=view, actor=actor, before=snapshot(view), after={})
    view.delete()


def _bulk_targets(actor: Any, ids: list[int]) -> list[int]:
    """The ids among ``ids`` that the actor may see (others are silently out of reach)."""

    return list(scoped_queryset(Customer, actor).filter(pk__in=ids).values_list("pk", flat=True))


@transaction.atomic
def customer_bulk_assign(*, actor: Any, ids: list[int], owner: User) -> int:
    """Give many customers to one owner (and the owner's team) in one statement.

    A manager's act: reps may not reassign, and a manager only to members of the teams
    they manage.  Only rows that change are written; their versions move on, so an open
    edit form elsewhere sees a conflict.  Audited as one event naming the customers.
    """
    if not may(actor, "bulk_assign", "customers"):
        raise DomainError(_("Only managers can reassign customers."))
    _check_owner(actor, owner, owner.team, team_given=False)
    targets = _bulk_targets(actor, ids)
    changed = (
        Customer.objects.filter(pk__in=targets)
        .exclude(owner=owner, team=owner.team)
        .update(owner=owner, team=owner.team, version=F("version") + 1, updated_at=timezone.now())
    )
    audit_bulk(
        resource="customers.customer",
        actor=actor,
        summary={"label": "assign owner", "owner": owner.username, "customers": targets, "changed": changed},
    )
    return changed


@transaction.atomic
def customer_bulk_tag(*, actor: Any, ids: list[int], tag: str) -> int:
    """Add one tag to many customers in one statement (those that already have it are left
    alone).  A manager's act; audited as one event."""
    if not may(actor, "bulk_tag", "customers"):
        raise DomainError(_("Only managers can tag customers in bulk."))
    tag = tag.strip()
    if not tag or len(tag) > 40 or control_characters(tag):
        raise DomainError(
            _("A tag has 1 to 40 printable characters."), field_errors={"tag": [_("1 to 40 printable characters.")]}
        )
    targets = _bulk_targets(actor, ids)
    changed = (
        Customer.objects.filter(pk__in=targets)
        .exclude(tags__contains=[tag])
        .update(
            tags=Func(F("tags"), Value(tag), function="array_append"),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
    )
    audit_bulk(
        resource="customers.customer",
        actor=actor,
        summary={"label": "add tag", "tag": tag, "customers": targets, "changed": changed},
    )
    return changed


# ------------------------------------------------------------------ archive health's figures
def archive_figures_compact() -> None:
    """Fold archive health's figures (``customers.models.ArchiveFigure``) into one row per
    team and owner, dropping those that sum to nothing (``crm.core.figures``)."""
    figures_fold("customers_archive_figures_compact")


def archive_figures_rebuild() -> None:
    """Count archive health's figures again from the archive states, in one snapshot
    (``crm.core.figures``): about a second at a million customers."""
    figures_recount("customers_archive_figures_rebuild", lock="customers_archive_figures")
