"""Inviting customers from a filtered list and recording the funnel in bulk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Participation
from campaigns.services import invite_preview, participation_bulk_record, participation_invite
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError
from customers.models import Customer
from tests.factories import CampaignFactory, ContactFactory, CustomerFactory, ParticipationFactory

pytestmark = pytest.mark.django_db


def _customer(owner: Any, *, consents: bool = True, **extra: Any) -> Customer:
    customer = CustomerFactory(owner=owner, **extra)
    ContactFactory(customer=customer, is_primary=True, marketing_consent=False)
    if consents:
        ContactFactory(customer=customer, marketing_consent=True, is_decision_maker=True)
    return customer


# ------------------------------------------------------------------ invite
def test_invites_the_matching_customers_in_scope_through_a_consenting_contact(
    manager: Any, rep1: Any, outsider: Any, django_assert_max_num_queries: Any
) -> None:
    campaign = CampaignFactory()
    mine = [_customer(rep1, industry="it") for _ in range(3)]
    silent = _customer(rep1, industry="it", consents=False)
    _customer(rep1, industry="retail")  # does not match the filter
    _customer(outsider, industry="it")  # not in the manager's scope
    matching = Customer.objects.filter(industry="it")

    preview = invite_preview(actor=manager, customers=matching, campaign=campaign)
    assert (preview.matched, preview.invited, preview.already, preview.no_consent) == (4, 3, 0, 1)
    with django_assert_max_num_queries(6):
        result = participation_invite(actor=manager, campaign=campaign, customers=matching)
    assert (result.matched, result.invited, result.already, result.no_consent) == (4, 3, 0, 1)

    parts = Participation.objects.filter(campaign=campaign)
    assert set(parts.values_list("customer_id", flat=True)) == {c.pk for c in mine}
    assert not parts.filter(customer=silent).exists()
    for part in parts.select_related("contact"):
        assert part.contact.marketing_consent and part.contact.customer_id == part.customer_id
        assert part.status == "invited" and part.invited_at is not None
    events = AuditEvent.objects.filter(resource="campaigns.participation", action="create")
    assert sorted(int(e.object_id) for e in events) == sorted(parts.values_list("pk", flat=True))
    assert {e.actor_id for e in events} == {manager.pk}


def test_the_primary_contact_is_chosen_when_it_consents(manager: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, marketing_consent=True)
    primary = ContactFactory(customer=customer, is_primary=True, marketing_consent=True)
    campaign = CampaignFactory()
    participation_invite(actor=manager, campaign=campaign, customers=Customer.objects.all())
    assert Participation.objects.get(campaign=campaign).contact_id == primary.pk


def test_inviting_again_creates_nothing_twice(manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    first, second = _customer(rep1), _customer(rep1)
    ParticipationFactory(campaign=campaign, customer=first, status="attended")
    result = participation_invite(actor=manager, campaign=campaign, customers=Customer.objects.all())
    assert (result.invited, result.already) == (1, 1)
    again = participation_invite(actor=manager, campaign=campaign, customers=Customer.objects.all())
    assert (again.invited, again.already) == (0, 2)
    assert Participation.objects.filter(campaign=campaign).count() == 2
    assert Participation.objects.get(campaign=campaign, customer=first).status == "attended"
    assert Participation.objects.filter(campaign=campaign, customer=second).count() == 1


def test_the_database_refuses_a_second_participation() -> None:
    part = ParticipationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(campaign=part.campaign, customer=part.customer)


def test_a_rep_may_not_invite_and_a_closed_campaign_takes_no_one(manager: Any, rep1: Any) -> None:
    _customer(rep1)
    with pytest.raises(DomainError):
        participation_invite(actor=rep1, campaign=CampaignFactory(), customers=Customer.objects.all())
    with pytest.raises(DomainError):
        participation_invite(
            actor=manager, campaign=CampaignFactory(status="finished"), customers=Customer.objects.all()
        )
    assert not Participation.objects.exists()


# ------------------------------------------------------------------ bulk record
def _parts(campaign: Any, owner: Any, statuses: list[str]) -> list[Participation]:
    invited = timezone.now() - dt.timedelta(days=3)
    return [
        ParticipationFactory(campaign=campaign, customer=CustomerFactory(owner=owner), status=s, invited_at=invited)
        for s in statuses
    ]


def test_bulk_attendance_moves_forward_only_and_stamps_in_order(
    manager: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    campaign = CampaignFactory()
    invited, registered, attended, converted = _parts(
        campaign, rep1, ["invited", "registered", "attended", "converted"]
    )
    registered.registered_at = timezone.now() - dt.timedelta(days=2)
    registered.save()
    ids = [p.pk for p in (invited, registered, attended, converted)]
    with django_assert_max_num_queries(6):
        result = participation_bulk_record(actor=manager, campaign=campaign, ids=ids, status="attended")
    assert (result.changed, result.unchanged) == (2, 2)
    for part in (invited, registered):
        before_version = part.version
        part.refresh_from_db()
        assert part.status == "attended" and part.version == before_version + 1
        assert part.invited_at <= part.registered_at <= part.attended_at
    registered_then = Participation.objects.get(pk=registered.pk).registered_at
    assert registered_then < timezone.now() - dt.timedelta(days=1), "a recorded time is kept"
    converted.refresh_from_db()
    assert converted.status == "converted" and converted.version == 1, "never set back"
    events = AuditEvent.objects.filter(resource="campaigns.participation", action="update")
    assert sorted(int(e.object_id) for e in events) == sorted([invited.pk, registered.pk])
    change = events.get(object_id=str(invited.pk)).changes
    assert change["status"] == {"before": "invited", "after": "attended"}
    assert change["attended_at"]["before"] is None and change["attended_at"]["after"]


def test_bulk_conversion_stamps_every_earlier_step(manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    (part,) = _parts(campaign, rep1, ["invited"])
    participation_bulk_record(actor=manager, campaign=campaign, ids=[part.pk], status="converted")
    part.refresh_from_db()
    stamps = [part.invited_at, part.registered_at, part.attended_at, part.responded_at, part.converted_at]
    assert all(stamps) and stamps == sorted(stamps)


def test_bulk_record_keeps_to_the_scope_and_the_campaign(manager: Any, rep1: Any, outsider: Any) -> None:
    campaign, other = CampaignFactory(), CampaignFactory()
    (mine,) = _parts(campaign, rep1, ["invited"])
    (theirs,) = _parts(campaign, outsider, ["invited"])
    (elsewhere,) = _parts(other, rep1, ["invited"])
    result = participation_bulk_record(
        actor=manager, campaign=campaign, ids=[mine.pk, theirs.pk, elsewhere.pk], status="registered"
    )
    assert (result.changed, result.unchanged) == (1, 2)
    assert Participation.objects.get(pk=theirs.pk).status == "invited"
    assert Participation.objects.get(pk=elsewhere.pk).status == "invited"


@pytest.mark.parametrize("status", ["invited", "maybe", ""])
def test_bulk_record_refuses_a_step_that_cannot_be_recorded(manager: Any, rep1: Any, status: str) -> None:
    campaign = CampaignFactory()
    (part,) = _parts(campaign, rep1, ["registered"])
    with pytest.raises(DomainError):
        participation_bulk_record(actor=manager, campaign=campaign, ids=[part.pk], status=status)


def test_a_rep_may_not_record_in_bulk(rep1: Any) -> None:
    campaign = CampaignFactory()
    (part,) = _parts(campaign, rep1, ["invited"])
    with pytest.raises(DomainError):
        participation_bulk_record(actor=rep1, campaign=campaign, ids=[part.pk], status="attended")
    assert Participation.objects.get(pk=part.pk).status == "invited"


def test_a_step_may_be_recorded_at_an_earlier_time(manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    (part,) = _parts(campaign, rep1, ["invited"])  # invited three days ago
    yesterday = timezone.now() - dt.timedelta(days=1)
    participation_bulk_record(actor=manager, campaign=campaign, ids=[part.pk], status="attended", at=yesterday)
    part.refresh_from_db()
    assert part.attended_at == yesterday and part.registered_at == yesterday
    assert part.invited_at < part.registered_at


@pytest.mark.parametrize("days", [-4, 1])
def test_a_time_before_an_earlier_step_or_in_the_future_is_refused(manager: Any, rep1: Any, days: int) -> None:
    campaign = CampaignFactory()
    parts = _parts(campaign, rep1, ["invited", "registered"])  # invited three days ago
    with pytest.raises(DomainError) as refused:
        participation_bulk_record(
            actor=manager,
            campaign=campaign,
            ids=[p.pk for p in parts],
            status="attended",
            at=timezone.now() + dt.timedelta(days=days),
        )
    assert "at" in refused.value.field_errors
    assert set(Participation.objects.values_list("status", flat=True)) == {"invited", "registered"}
    assert not AuditEvent.objects.filter(resource="campaigns.participation").exists()
