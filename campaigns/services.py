"""Campaigns and the funnel each participating customer moves down.

Every function is one transaction and is audited through ``crm.core.services`` (or,
for the set-based ones, with one audit event per participation written in one
statement).

The funnel only moves forward: invited → registered → attended → responded →
converted.  Reaching a step stamps its time, and the time of every earlier step never
stamped, so the stamps never run backwards.  A campaign's revenue comes from the orders
its converted participants placed inside the attribution window
(``CRM_CAMPAIGN_ATTRIBUTION_DAYS`` days from the invitation, ``campaigns.selectors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import may
from crm.access.scope import scoped_queryset
from crm.audit.choices import Action
from crm.audit.services import audit_records, snapshot
from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update
from crm.core.validation import happened
from customers.models import Contact, Customer

from .choices import CampaignStatus, ParticipationStatus
from .models import Campaign, Participation

# The funnel in order; reaching a step means having passed the ones before it.
FUNNEL = [choice.value for choice in ParticipationStatus]
STAMP = {step: f"{step}_at" for step in FUNNEL}
#: Campaigns that take no more participants.
CLOSED = (CampaignStatus.FINISHED, CampaignStatus.CANCELLED)


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


def _audit_written(pks: Sequence[int], actor: Any, befores: Mapping[int, dict[str, Any]] | None) -> None:
    """One audit event per written participation, all in one statement."""
    written = list(Participation.objects.filter(pk__in=pks).order_by("pk"))
    audit_records(
        action=Action.UPDATE if befores is not None else Action.CREATE,
        instances=written,
        actor=actor,
        befores=[befores[p.pk] for p in written] if befores is not None else [{}] * len(written),
        afters=[snapshot(p) for p in written],
    )


@dataclass(frozen=True)
class InviteResult:
    """What an invitation from a filtered list did."""

    matched: int  # customers matching the filter, in the actor's scope
    invited: int  # new participations
    already: int  # customers already taking part
    no_consent: int  # skipped: none of their contacts consents to marketing


def consenting_contacts() -> QuerySet[Contact]:
    """Contacts who consent to marketing, of the customer ``OuterRef("pk")``: the primary
    one first, then decision makers."""
    return Contact.objects.filter(customer_id=OuterRef("pk"), marketing_consent=True).order_by(
        "-is_primary", "-is_decision_maker", "pk"
    )


def invite_preview(*, actor: Any, customers: QuerySet[Customer], campaign: Campaign) -> InviteResult:
    """What inviting ``customers`` would do, without doing it (one query)."""
    targets = scoped_queryset(Customer, actor).filter(pk__in=customers.order_by().values("pk"))
    taking_part = Participation.objects.filter(campaign=campaign, customer_id=OuterRef("pk"))
    counts = targets.order_by().aggregate(
        matched=Count("pk"),
        consenting=Count("pk", filter=Q(Exists(consenting_contacts()))),
        already=Count("pk", filter=Q(Exists(taking_part), Exists(consenting_contacts()))),
    )
    return InviteResult(
        matched=counts["matched"],
        invited=counts["consenting"] - counts["already"],
        already=counts["already"],
        no_consent=counts["matched"] - counts["consenting"],
    )


@transaction.atomic
def participation_invite(*, actor: Any, campaign: Campaign, customers: QuerySet[Customer]) -> InviteResult:
    """Invite every customer of ``customers`` to ``campaign``: a manager's act.

    Only customers in the actor's record scope are invited, each through its contact who
    consents to marketing (the primary one first, then a decision maker); a customer
    none of whose contacts consents is skipped and counted as such.  A customer already
    taking part is left alone (one participation per customer and campaign: the unique
    constraint, ``ON CONFLICT DO NOTHING``).  One ``INSERT … SELECT`` whatever the number,
    and one audit event per new participation.  A finished or cancelled campaign takes
    no more participants.
    """
    if not may(actor, "invite", "campaigns"):
        raise DomainError(_("Only managers can invite customers to a campaign."))
    if campaign.status in CLOSED:
        raise DomainError(
            _("This campaign is %(status)s: it takes no more participants.") % {"status": campaign.get_status_display()}
        )
    preview = invite_preview(actor=actor, customers=customers, campaign=campaign)
    source = (
        scoped_queryset(Customer, actor)
        .filter(pk__in=customers.order_by().values("pk"))
        .annotate(contact_pick=Subquery(consenting_contacts().values("pk")[:1]))
        .filter(contact_pick__isnull=False)
        .order_by()
        .values_list("pk", "contact_pick")
    )
    sql, params = source.query.sql_with_params()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Participation._meta.db_table} (created_at, updated_at, version, campaign_id, customer_id,
                contact_id, status, invited_at, feedback)
            SELECT %s, %s, 1, %s, chosen.customer_id, chosen.contact_id, %s, %s, ''
            FROM ({sql}) AS chosen (customer_id, contact_id)
            ON CONFLICT (campaign_id, customer_id) DO NOTHING
            RETURNING id
            """,  # noqa: S608 - the table's name and the scope's own SQL and parameters
            [now, now, campaign.pk, ParticipationStatus.INVITED, now, *params],
        )
        created = [row[0] for row in cursor.fetchall()]
    _audit_written(created, actor, None)
    consenting = preview.matched - preview.no_consent
    return InviteResult(
        matched=preview.matched,
        invited=len(created),
        already=consenting - len(created),
        no_consent=preview.no_consent,
    )


@dataclass(frozen=True)
class RecordResult:
    """What a bulk recording did: participations moved forward, and those left alone
    (already at that step or further, or not visible to the actor)."""

    changed: int
    unchanged: int


@transaction.atomic
def participation_bulk_record(
    *, actor: Any, campaign: Campaign, ids: Sequence[int], status: str, at: dt.datetime | None = None
) -> RecordResult:
    """Record that the chosen participants of ``campaign`` reached ``status`` (registered,
    attended, responded or converted) at ``at`` (now unless given): a manager's act.

    Only participations in the actor's scope move, and only forward: one already at that
    step or further is left as it is (a buyer is not set back to attendee).  The step is
    stamped ``at``, and each earlier step never stamped gets the same time, so the stamps
    stay in the funnel's order; a time already recorded is kept.  ``at`` has happened
    (not after now), and is not before a step a chosen participant already reached (that
    would run its times backwards: refused, nothing written).  One locking read, one
    ``UPDATE``, one audit event per changed participation, whatever their number.
    """
    if not may(actor, "record", "campaigns"):
        raise DomainError(_("Only managers can record the participants' progress."))
    if status not in FUNNEL[1:]:
        raise DomainError(
            _("Choose the step reached: registered, attended, responded or converted."),
            field_errors={"status": [_("Not a step that can be recorded.")]},
        )
    if not ids:
        raise DomainError(_("Tick the participants first."))
    now = timezone.now()
    at = at or now
    problem = happened.problem(at) or (_("Not after now.") if at > now else None)
    if problem:
        raise DomainError(problem, field_errors={"at": [problem]})
    earlier = FUNNEL[: FUNNEL.index(status)]
    locked = list(
        scoped_queryset(Participation, actor)
        .filter(campaign=campaign, pk__in=list(ids), status__in=earlier)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    target = STAMP[status]
    later = [p for p in locked if any((getattr(p, STAMP[step]) or at) > at for step in earlier)]
    if later:
        message = _("%(n)d of the ticked participants reached an earlier step after %(at)s; choose a later time.") % {
            "n": len(later),
            "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
        }
        raise DomainError(message, field_errors={"at": [message]})
    befores = {p.pk: snapshot(p) for p in locked}
    stamps: dict[str, Any] = {target: Coalesce(F(target), Value(at))}
    for step in earlier:
        stamps[STAMP[step]] = Coalesce(F(STAMP[step]), F(target), Value(at))
    Participation.objects.filter(pk__in=befores).update(
        status=status, version=F("version") + 1, updated_at=now, **stamps
    )
    _audit_written(list(befores), actor, befores)
    return RecordResult(changed=len(befores), unchanged=len(set(ids)) - len(befores))
