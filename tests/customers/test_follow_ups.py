"""The rep's follow-ups: a contact logged with its next step in one go, done and put off
with one tap, a visit checked in with or without its place; and the same through the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, VersionConflict
from customers import services
from customers.models import Activity
from tests.factories import ActivityFactory, ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def _planned(customer: Any, **extra: Any) -> Activity:
    due = extra.pop("due_at", timezone.now() + dt.timedelta(hours=2))
    return ActivityFactory(customer=customer, assignee=customer.owner, occurred_at=None, due_at=due, **extra)


# ------------------------------------------------------------------ one-step log
@override_settings(CRM_FOLLOW_UP_DAYS=5)
def test_logging_a_contact_plans_the_next_one_in_the_same_step(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    contact = ContactFactory(customer=customer)
    before = timezone.now()
    logged, follow_up = services.activity_log(
        actor=rep1,
        customer=customer,
        data={"kind": "meeting", "subject": "季度回顾", "outcome": "同意试用", "contact": contact},
        next_step={},
    )
    assert logged.done and logged.done_at and logged.occurred_at >= before and logged.outcome == "同意试用"
    assert follow_up is not None and not follow_up.done and follow_up.occurred_at is None
    # The next step: same kind and contact, due the setting's days later, about the same subject.
    assert follow_up.kind == "meeting" and follow_up.contact == contact and follow_up.assignee == rep1
    assert dt.timedelta(days=5) - dt.timedelta(minutes=1) <= follow_up.due_at - before <= dt.timedelta(days=5)
    assert "季度回顾" in follow_up.subject
    created = AuditEvent.objects.filter(resource="customers.activity", action="create")
    assert set(created.values_list("object_id", flat=True)) == {str(logged.pk), str(follow_up.pk)}


def test_the_next_step_may_be_left_out_or_named(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    when = timezone.now() + dt.timedelta(days=2)
    _logged, none = services.activity_log(
        actor=rep1, customer=customer, data={"kind": "call", "subject": "确认交期"}, next_step=None
    )
    assert none is None
    _logged, named = services.activity_log(
        actor=rep1,
        customer=customer,
        data={"kind": "call", "subject": "确认交期"},
        next_step={"kind": "visit", "subject": "上门送样", "due_at": when},
    )
    assert named is not None and (named.kind, named.subject, named.due_at) == ("visit", "上门送样", when)


def test_problems_of_both_parts_are_reported_together_and_nothing_is_written(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    with pytest.raises(ValidationError) as refused:
        services.activity_log(
            actor=rep1,
            customer=customer,
            data={"kind": "call", "subject": "", "occurred_at": timezone.now() + dt.timedelta(days=3)},
            next_step={"due_at": dt.datetime(1900, 1, 1, tzinfo=TZ)},
        )
    problems = refused.value.message_dict
    assert "occurred_at" in problems and "subject" in problems and "next-due_at" in problems
    assert not Activity.objects.filter(customer=customer).exists()


def test_a_visit_is_logged_with_its_check_in(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    visit, _next = services.activity_log(
        actor=rep1,
        customer=customer,
        data={"kind": "visit", "subject": "拜访工厂"},
        next_step=None,
        check_in={"latitude": "31.2304161234", "longitude": 121.4737, "accuracy": 18.4},
    )
    visit.refresh_from_db()
    assert visit.checked_in_at is not None and visit.located
    assert (visit.latitude, visit.longitude, visit.location_accuracy) == (
        Decimal("31.230416"),
        Decimal("121.473700"),
        18,
    )
    assert "position=121.473700,31.230416" in visit.check_in_map_url


def test_a_refused_location_still_logs_the_visit(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    visit, _next = services.activity_log(
        actor=rep1,
        customer=customer,
        data={"kind": "visit", "subject": "拜访门店"},
        next_step=None,
        check_in={"latitude": None, "longitude": None, "accuracy": None},
    )
    visit.refresh_from_db()
    assert visit.checked_in_at is not None and not visit.located and visit.check_in_map_url is None


def test_only_a_visit_is_checked_in_and_only_on_earth(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    with pytest.raises(ValidationError) as refused:
        services.activity_log(
            actor=rep1,
            customer=customer,
            data={"kind": "call", "subject": "电话"},
            next_step=None,
            check_in={"latitude": 95, "longitude": -200, "accuracy": None},
        )
    assert set(refused.value.message_dict) == {"kind", "latitude", "longitude"}
    assert not Activity.objects.filter(customer=customer).exists()


# ------------------------------------------------------------------ done, put off, check in
def test_completing_stamps_done_and_when_it_happened(rep1: Any) -> None:
    item = _planned(CustomerFactory(owner=rep1))
    done = services.activity_complete(actor=rep1, instance=item, expected_version=item.version, outcome="已确认")
    assert done.done and done.done_at and done.occurred_at == done.done_at and done.outcome == "已确认"
    # A double tap changes nothing, whatever version it carries.
    again = services.activity_complete(actor=rep1, instance=done, expected_version=item.version)
    assert again.version == done.version


def test_completing_a_changed_follow_up_is_a_conflict(rep1: Any) -> None:
    item = _planned(CustomerFactory(owner=rep1))
    with pytest.raises(VersionConflict):
        services.activity_complete(actor=rep1, instance=item, expected_version=item.version - 1)
    item.refresh_from_db()
    assert not item.done


def test_snoozing_moves_only_the_due_time() -> None:
    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)  # a Wednesday
    due = dt.datetime(2026, 11, 30, 15, 30, tzinfo=TZ)
    assert services.snooze_until("1d", due_at=due, now=now) == dt.datetime(2026, 12, 3, 15, 30, tzinfo=TZ)
    assert services.snooze_until("3d", due_at=due, now=now) == dt.datetime(2026, 12, 5, 15, 30, tzinfo=TZ)
    assert services.snooze_until("monday", due_at=None, now=now) == dt.datetime(2026, 12, 7, 9, tzinfo=TZ)
    with pytest.raises(DomainError):
        services.snooze_until("forever", due_at=due, now=now)


def test_snoozing_puts_an_open_follow_up_off(rep1: Any) -> None:
    item = _planned(CustomerFactory(owner=rep1), subject="报价跟进")
    until = timezone.now() + dt.timedelta(days=3)
    snoozed = services.activity_snooze(actor=rep1, instance=item, until=until, expected_version=item.version)
    assert snoozed.due_at == until and not snoozed.done and snoozed.subject == "报价跟进"
    with pytest.raises(DomainError):
        services.activity_snooze(
            actor=rep1, instance=snoozed, until=timezone.now() - dt.timedelta(hours=1), expected_version=None
        )
    done = services.activity_complete(actor=rep1, instance=snoozed, expected_version=snoozed.version)
    with pytest.raises(DomainError):
        services.activity_snooze(actor=rep1, instance=done, until=until, expected_version=None)


def test_checking_in_at_a_planned_visit(rep1: Any) -> None:
    visit = _planned(CustomerFactory(owner=rep1), kind="visit")
    checked = services.activity_check_in(
        actor=rep1, instance=visit, expected_version=visit.version, latitude=39.9, longitude=116.4, accuracy=30
    )
    assert checked.checked_in_at and checked.occurred_at == checked.checked_in_at and not checked.done
    with pytest.raises(DomainError):  # once: where a rep was is not rewritten
        services.activity_check_in(actor=rep1, instance=checked, expected_version=None, latitude=1, longitude=1)


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": -180.01}, "longitude"),
        ({"latitude": "north", "longitude": 0}, "latitude"),
        ({"latitude": "NaN", "longitude": 0}, "latitude"),
        ({"latitude": 30}, "longitude"),
        ({"latitude": 30, "longitude": 120, "accuracy": -1}, "location_accuracy"),
    ],
)
def test_a_place_off_the_earth_is_refused_by_name(rep1: Any, place: dict[str, Any], field: str) -> None:
    visit = _planned(CustomerFactory(owner=rep1), kind="visit")
    with pytest.raises(DomainError) as refused:
        services.activity_check_in(actor=rep1, instance=visit, expected_version=visit.version, **place)
    assert field in refused.value.field_errors
    visit.refresh_from_db()
    assert visit.checked_in_at is None


def test_only_a_visit_is_checked_in(rep1: Any) -> None:
    call = _planned(CustomerFactory(owner=rep1), kind="call")
    with pytest.raises(DomainError):
        services.activity_check_in(actor=rep1, instance=call, expected_version=call.version)


# ------------------------------------------------------------------ the API
def _etag(response: Any) -> str:
    return str(response["ETag"])


def test_api_complete_and_snooze_need_the_etag(api: Any, rep1: Any) -> None:
    item = _planned(CustomerFactory(owner=rep1))
    client = api(rep1)
    url = f"/api/v1/activities/{item.pk}/"
    assert client.post(f"{url}complete/", {}, format="json").status_code == 428
    etag = _etag(client.get(url))
    snoozed = client.post(f"{url}snooze/", {"option": "3d"}, format="json", HTTP_IF_MATCH=etag)
    assert snoozed.status_code == 200, snoozed.content
    assert snoozed.json()["due_at"] > item.due_at.isoformat()
    stale = client.post(f"{url}complete/", {}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    done = client.post(f"{url}complete/", {"outcome": "完成"}, format="json", HTTP_IF_MATCH=_etag(snoozed))
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["outcome"] == "完成"
    refused = client.post(f"{url}snooze/", {"option": "soon"}, format="json", HTTP_IF_MATCH=_etag(done))
    assert refused.status_code == 400 and "option" in refused.json()["fields"]


def test_api_check_in_and_bad_coordinates(api: Any, rep1: Any, manager: Any) -> None:
    visit = _planned(CustomerFactory(owner=rep1), kind="visit")
    client = api(rep1)
    url = f"/api/v1/activities/{visit.pk}/"
    etag = _etag(client.get(url))
    bad = client.post(f"{url}check-in/", {"latitude": 91, "longitude": 500}, format="json", HTTP_IF_MATCH=etag)
    assert bad.status_code == 400 and {"latitude", "longitude"} <= set(bad.json()["fields"])
    nan = client.post(f"{url}check-in/", {"latitude": "nan", "longitude": 1}, format="json", HTTP_IF_MATCH=etag)
    assert nan.status_code == 400
    good = client.post(
        f"{url}check-in/", {"latitude": 22.54, "longitude": 114.05, "accuracy": 12}, format="json", HTTP_IF_MATCH=etag
    )
    assert good.status_code == 200, good.content
    # The manager sees where the rep checked in.
    seen = api(manager).get(url).json()
    assert seen["checked_in_at"] and seen["latitude"] == 22.54 and seen["longitude"] == 114.05
    assert seen["location_accuracy"] == 12


def test_api_creates_a_visit_with_its_check_in_but_not_its_time(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    long_ago = "2001-01-01T00:00:00Z"
    created = api(rep1).post(
        "/api/v1/activities/",
        {
            "customer": customer.pk,
            "kind": "visit",
            "subject": "拜访",
            "latitude": 31.1,
            "longitude": 121.2,
            "checked_in_at": long_ago,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["checked_in_at"] > "2020" and created.json()["latitude"] == 31.1
    call = api(rep1).post(
        "/api/v1/activities/",
        {"customer": customer.pk, "kind": "call", "subject": "电话", "latitude": 31.1, "longitude": 121.2},
        format="json",
    )
    assert call.status_code == 400 and "kind" in call.json()["fields"]


def test_a_visit_sent_back_as_read_keeps_its_check_in(api: Any, rep1: Any) -> None:
    visit = _planned(CustomerFactory(owner=rep1), kind="visit")
    services.activity_check_in(actor=rep1, instance=visit, expected_version=None, latitude=30.5, longitude=120.25)
    client = api(rep1)
    read = client.get(f"/api/v1/activities/{visit.pk}/")
    body = {**read.json(), "subject": "拜访（已改）"}
    put = client.put(f"/api/v1/activities/{visit.pk}/", body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert put.status_code == 200, put.content
    assert put.json()["latitude"] == 30.5 and put.json()["checked_in_at"] == read.json()["checked_in_at"]
    moved = client.patch(f"/api/v1/activities/{visit.pk}/", {"latitude": 31}, format="json", HTTP_IF_MATCH=put["ETag"])
    assert moved.status_code == 400 and "latitude" in moved.json()["fields"]


def test_integrations_do_not_see_where_a_rep_was(api: Any, rep1: Any, integration_user: Any) -> None:
    visit = _planned(CustomerFactory(owner=rep1), kind="visit")
    services.activity_check_in(actor=rep1, instance=visit, expected_version=None, latitude=30, longitude=120)
    seen = api(integration_user).get(f"/api/v1/activities/{visit.pk}/").json()
    assert "latitude" not in seen and "longitude" not in seen and seen["checked_in_at"]


def test_api_scope_trio(api: Any, rep1: Any, rep2: Any, outsider: Any, manager: Any) -> None:
    item = _planned(CustomerFactory(owner=rep1))
    url = f"/api/v1/activities/{item.pk}/complete/"
    for stranger in (rep2, outsider):
        assert api(stranger).post(url, {}, format="json", HTTP_IF_MATCH=f'"{item.version}"').status_code == 404
    assert api(None).post(url, {}, format="json").status_code in (401, 403)
    done = api(manager).post(url, {}, format="json", HTTP_IF_MATCH=f'"{item.version}"')
    assert done.status_code == 200 and done.json()["done"] is True
