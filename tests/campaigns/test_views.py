"""The campaign pages: planning and editing a campaign (managers and admins, not reps),
inviting from the customer list's filters, recording the funnel in bulk, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Participation
from crm.audit.models import AuditEvent
from tests.factories import CampaignFactory, ContactFactory, CustomerFactory, ParticipationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client: Any) -> Any:
    def sign_in(user: Any) -> Any:
        client.force_login(user)
        return client

    return sign_in


def _payload(**extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "name": "2027 春季新品发布会",
        "channel": "seminar",
        "status": "planned",
        "start_date": (today + dt.timedelta(days=30)).isoformat(),
        "end_date": (today + dt.timedelta(days=31)).isoformat(),
        "location": "上海国家会展中心",
        "budget": "80000",
        "target_participants": "150",
        "target_revenue": "400000",
        "content": "新品演示与限时折扣",
        "target_description": "华东重点客户的采购决策人",
        **extra,
    }


# ------------------------------------------------------------------ create / edit
@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_managers_and_admins_create_a_campaign(as_user: Any, request: Any, who: str) -> None:
    user = request.getfixturevalue(who)
    client = as_user(user)
    assert client.get("/campaigns/new/").status_code == 200
    response = client.post("/campaigns/new/", _payload())
    campaign = Campaign.objects.get(name="2027 春季新品发布会")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.channel == "seminar" and campaign.budget == Decimal("80000")
    assert campaign.target_participants == 150 and campaign.owner == user
    assert AuditEvent.objects.filter(
        resource="campaigns.campaign", object_id=str(campaign.pk), action="create"
    ).exists()


def test_a_rep_may_neither_create_nor_edit(as_user: Any, rep1: Any) -> None:
    campaign = CampaignFactory(name="原名")
    client = as_user(rep1)
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post("/campaigns/new/", _payload()).status_code == 403
    assert client.get(f"/campaigns/{campaign.pk}/edit/").status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/edit/", _payload(version="1")).status_code == 403
    assert Campaign.objects.get().name == "原名"
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert b'data-testid="edit"' not in page.content and b'data-testid="invite"' not in page.content
    assert b'data-testid="record-form"' not in page.content
    assert b'data-testid="new-campaign"' not in client.get("/campaigns/").content


def test_bad_input_is_a_form_error_not_a_500(as_user: Any, manager: Any) -> None:
    client = as_user(manager)
    today = timezone.localdate()
    response = client.post(
        "/campaigns/new/",
        _payload(budget="-5", channel="radio", end_date=(today - dt.timedelta(days=400)).isoformat()),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "budget" in errors and "channel" in errors
    assert not Campaign.objects.exists()
    ends_first = client.post("/campaigns/new/", _payload(end_date=today.isoformat()))
    assert ends_first.status_code == 422 and "end_date" in ends_first.context["form"].errors


def test_a_manager_edits_and_a_stale_form_is_a_conflict(as_user: Any, manager: Any) -> None:
    campaign = CampaignFactory(name="旧名称")
    client = as_user(manager)
    form = client.get(f"/campaigns/{campaign.pk}/edit/")
    assert form.status_code == 200 and form.context["form"]["version"].value() == 1
    saved = client.post(f"/campaigns/{campaign.pk}/edit/", _payload(name="新名称", version="1"))
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "新名称" and campaign.version == 2 and campaign.budget == Decimal("80000")
    stale = client.post(f"/campaigns/{campaign.pk}/edit/", _payload(name="过期的修改", version="1"))
    assert stale.status_code == 409
    campaign.refresh_from_db()
    assert campaign.name == "新名称"


# ------------------------------------------------------------------ invite
def _consenting(owner: Any, **extra: Any) -> Any:
    customer = CustomerFactory(owner=owner, **extra)
    ContactFactory(customer=customer, is_primary=True, marketing_consent=True)
    return customer


def test_invite_previews_then_invites_the_filtered_customers(
    as_user: Any, manager: Any, rep1: Any, outsider: Any
) -> None:
    campaign = CampaignFactory()
    wanted = [_consenting(rep1, industry="it") for _ in range(2)]
    silent = CustomerFactory(owner=rep1, industry="it")
    ContactFactory(customer=silent, is_primary=True, marketing_consent=False)
    _consenting(rep1, industry="retail")
    _consenting(outsider, industry="it")
    client = as_user(manager)
    url = f"/campaigns/{campaign.pk}/invite/?industry=it"
    page = client.get(url)
    assert page.status_code == 200
    preview = page.context["preview"]
    assert (preview.matched, preview.invited, preview.already, preview.no_consent) == (3, 2, 0, 1)
    done = client.post(url, follow=True)
    assert done.redirect_chain[-1][0] == f"/campaigns/{campaign.pk}/"
    assert set(Participation.objects.values_list("customer_id", flat=True)) == {c.pk for c in wanted}
    text = done.content.decode()
    assert "已邀请 2 位客户；0 位已参与；1 位被跳过" in text


def test_a_rep_may_not_invite(as_user: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    _consenting(rep1)
    client = as_user(rep1)
    assert client.get(f"/campaigns/{campaign.pk}/invite/").status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/invite/").status_code == 403
    assert not Participation.objects.exists()


def test_a_bad_filter_invites_no_one(as_user: Any, manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    _consenting(rep1)
    client = as_user(manager)
    assert client.get(f"/campaigns/{campaign.pk}/invite/?stage=nonsense").status_code == 400
    assert client.post(f"/campaigns/{campaign.pk}/invite/?stage=nonsense").status_code == 400
    assert not Participation.objects.exists()


def test_invite_page_queries_do_not_grow_with_the_customers(
    as_user: Any, manager: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    campaign = CampaignFactory()
    for _ in range(25):
        _consenting(rep1)
    client = as_user(manager)
    with django_assert_max_num_queries(14):
        assert client.get(f"/campaigns/{campaign.pk}/invite/").status_code == 200


# ------------------------------------------------------------------ bulk record
def test_a_manager_records_attendance_of_the_ticked_participants(as_user: Any, manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    parts = [ParticipationFactory(campaign=campaign, customer=CustomerFactory(owner=rep1)) for _ in range(3)]
    client = as_user(manager)
    done = client.post(
        f"/campaigns/{campaign.pk}/record/", {"status": "attended", "ids": [parts[0].pk, parts[1].pk]}, follow=True
    )
    assert done.redirect_chain[-1][0] == f"/campaigns/{campaign.pk}/"
    statuses = dict(Participation.objects.values_list("pk", "status"))
    assert statuses == {parts[0].pk: "attended", parts[1].pk: "attended", parts[2].pk: "invited"}
    assert AuditEvent.objects.filter(resource="campaigns.participation", action="update").count() == 2


def test_recording_needs_ticks_and_a_step_and_a_manager(as_user: Any, manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    part = ParticipationFactory(campaign=campaign, customer=CustomerFactory(owner=rep1))
    client = as_user(manager)
    tomorrow = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for data in (
        {"status": "attended"},
        {"status": "invited", "ids": [part.pk]},
        {"ids": ["x"]},
        {"status": "attended", "ids": [part.pk], "at": "not a time"},
        {"status": "attended", "ids": [part.pk], "at": tomorrow},
    ):
        assert client.post(f"/campaigns/{campaign.pk}/record/", data).status_code == 302
    assert Participation.objects.get().status == "invited"
    rep = as_user(rep1)
    assert rep.post(f"/campaigns/{campaign.pk}/record/", {"status": "attended", "ids": [part.pk]}).status_code == 403
    assert Participation.objects.get().status == "invited"


def test_detail_and_list_queries_do_not_grow_with_the_rows(
    as_user: Any, manager: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    campaign = CampaignFactory()
    for _ in range(30):
        customer = CustomerFactory(owner=rep1)
        ParticipationFactory(campaign=campaign, customer=customer, contact=ContactFactory(customer=customer))
    for _ in range(10):
        CampaignFactory()
    client = as_user(manager)
    with django_assert_max_num_queries(12):
        page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200 and page.content.count(b'name="ids"') == 30
    with django_assert_max_num_queries(10):
        assert client.get("/campaigns/").status_code == 200
