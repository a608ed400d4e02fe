"""Campaigns and participations: the shared contract plus the funnel and the stats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Participation
from tests.api_contract import ResourceContract, detail_url
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    CustomerFactory,
    ParticipationFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db


class TestCampaignContract(ResourceContract):
    url = "/api/v1/campaigns/"
    model = Campaign
    company_wide = True
    update_payload = {"status": "running"}
    invalid_payloads = [
        ({"name": ""}, "name"),
        ({"channel": "radio"}, "channel"),
        ({"budget": "-10"}, "budget"),
        ({"end_date": "2026-01-01"}, "end_date"),
        ({"start_date": None}, "start_date"),
    ]

    def make(self, owner: Any) -> Campaign:
        return CampaignFactory()

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "name": "2027 春季新品发布会",
            "channel": "seminar",
            "start_date": "2027-03-01",
            "end_date": "2027-03-02",
            "budget": "80000",
            "content": "新品演示与限时折扣",
        }


class TestParticipationContract(ResourceContract):
    url = "/api/v1/participations/"
    model = Participation
    update_payload = {"status": "attended"}
    invalid_payloads = [
        ({"status": "maybe"}, "status"),
        ({"campaign": 999999}, "campaign"),
        ({"customer": 999999}, "customer"),
    ]

    def make(self, owner: Any) -> Participation:
        return ParticipationFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        # Invited a month ago: an order of the last weeks lies in its attribution window.
        invited = (timezone.now() - dt.timedelta(days=30)).isoformat()
        return {
            "campaign": CampaignFactory().pk,
            "customer": CustomerFactory(owner=owner).pk,
            "status": "registered",
            "invited_at": invited,
        }


def test_funnel_steps_are_stamped_up_to_the_status(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = api(rep1).post(
        "/api/v1/participations/",
        {"campaign": CampaignFactory().pk, "customer": customer.pk, "status": "attended"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["invited_at"] and body["registered_at"] and body["attended_at"]
    assert body["responded_at"] is None and body["converted_at"] is None


def test_linking_an_order_converts_and_must_be_the_same_customer(api: Any, rep1: Any) -> None:
    part = ParticipationFactory(customer=CustomerFactory(owner=rep1))
    foreign = TransactionFactory(customer=CustomerFactory(owner=rep1))
    # Placed today, on the day of the invitation: inside the attribution window.
    own = TransactionFactory(customer=part.customer, order_date=timezone.localdate())
    client = api(rep1)
    url = detail_url("/api/v1/participations/", part.pk)
    refused = client.patch(url, {"transaction": foreign.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "transaction" in refused.json()["fields"]
    ok = client.patch(url, {"transaction": own.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200
    assert ok.json()["status"] == "converted" and ok.json()["converted_at"]


def test_a_customer_takes_part_once(api: Any, rep1: Any) -> None:
    part = ParticipationFactory(customer=CustomerFactory(owner=rep1))
    response = api(rep1).post(
        "/api/v1/participations/", {"campaign": part.campaign_id, "customer": part.customer_id}, format="json"
    )
    assert response.status_code == 400
    assert Participation.objects.count() == 1


def test_stats_are_exact_and_scoped(
    api: Any, rep1: Any, outsider: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    campaign = CampaignFactory(budget=Decimal("10000"))
    mine = [CustomerFactory(owner=rep1) for _ in range(4)]
    for customer, status in zip(mine, ["invited", "registered", "attended", "responded"], strict=True):
        ParticipationFactory(campaign=campaign, customer=customer, status=status)
    won = CustomerFactory(owner=rep1)
    ParticipationFactory(
        campaign=campaign,
        customer=won,
        status="converted",
        transaction=TransactionFactory(customer=won, amount=Decimal("25000"), order_date=timezone.localdate()),
    )
    stranger = CustomerFactory(owner=outsider)
    ParticipationFactory(
        campaign=campaign,
        customer=stranger,
        status="converted",
        transaction=TransactionFactory(customer=stranger, amount=Decimal("99999"), order_date=timezone.localdate()),
    )
    with django_assert_max_num_queries(4):
        body = api(manager).get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    assert body["funnel"] == {"invited": 5, "registered": 4, "attended": 3, "responded": 2, "converted": 1}
    assert body["conversion_rate"] == 0.2
    assert Decimal(body["revenue"]) == Decimal("25000")
    assert Decimal(body["cost_per_conversion"]) == Decimal("10000")
    assert body["roi"] == 1.5
    assert api(outsider).get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()["funnel"]["invited"] == 1


def test_managers_invite_and_record_through_the_api_reps_may_not(api: Any, manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    willing, silent = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    ContactFactory(customer=willing, marketing_consent=True)
    ContactFactory(customer=silent, marketing_consent=False)
    url = f"/api/v1/campaigns/{campaign.pk}/"
    body = {"customers": [willing.pk, silent.pk]}
    assert api(rep1).post(url + "invite/", body, format="json").status_code == 403
    invited = api(manager).post(url + "invite/", body, format="json")
    assert invited.status_code == 200, invited.content
    assert invited.json() == {"matched": 2, "invited": 1, "already": 0, "no_consent": 1}
    part = Participation.objects.get(campaign=campaign)
    step = {"participations": [part.pk], "status": "attended"}
    assert api(rep1).post(url + "record/", step, format="json").status_code == 403
    recorded = api(manager).post(url + "record/", step, format="json")
    assert recorded.status_code == 200 and recorded.json() == {"changed": 1, "unchanged": 0}
    part.refresh_from_db()
    assert part.status == "attended" and part.attended_at is not None
    for bad in ({"participations": [part.pk], "status": "invited"}, {"participations": [], "status": "attended"}):
        refused = api(manager).post(url + "record/", bad, format="json")
        assert refused.status_code == 400, refused.content
    assert api(manager).post(url + "invite/", {"customers": "x"}, format="json").status_code == 400
