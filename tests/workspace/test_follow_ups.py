"""The rep's follow-ups on the pages: the one-step log, one-tap done and put off (on My
day and the 360 page), a visit's check-in, My day grouped by customer, the 360 header's
call / log / follow-up buttons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from crm.access.models import FieldPermission
from customers.models import Activity
from tests.factories import ActivityFactory, ContactFactory, CustomerFactory
from workspace.selectors import my_day

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _today(customer: Any, **extra: Any) -> Activity:
    """Due later today (never tomorrow, whatever the time the test runs)."""
    now = timezone.localtime()
    due = now.replace(hour=23, minute=59, second=0, microsecond=0)
    return ActivityFactory(customer=customer, assignee=customer.owner, occurred_at=None, due_at=due, **extra)


def _overdue(customer: Any, days: int = 2, **extra: Any) -> Activity:
    due = timezone.now() - dt.timedelta(days=days)
    return ActivityFactory(customer=customer, assignee=customer.owner, occurred_at=None, due_at=due, **extra)


# ------------------------------------------------------------------ one-step log
@override_settings(CRM_FOLLOW_UP_DAYS=3)
def test_the_log_form_proposes_the_next_step(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/log/?kind=visit").content.decode()
    due = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT")
    assert 'name="next-due_at"' in page and f'value="{due}' in page
    today = timezone.localtime().strftime("%Y-%m-%dT")
    assert f'name="occurred_at" value="{today}' in page  # happened now unless said otherwise
    assert '<option value="visit" selected>' in page and 'name="check_in"' in page
    # The stand-alone page (a phone without scripts) and the in-place form alike.
    assert "<html" in page
    partial = client.get(f"/customers/{customer.pk}/log/", **HTMX).content.decode()
    assert "<html" not in partial and 'data-testid="log-form"' in partial


@override_settings(CRM_FOLLOW_UP_DAYS=4)
def test_logging_creates_the_contact_and_its_next_step(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/log/",
        {"kind": "meeting", "subject": "季度回顾", "outcome": "同意试用", "next-kind": "call", "next-subject": ""},
        **HTMX,
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'id="activities"' in page and "季度回顾" in page
    logged = Activity.objects.get(customer=customer, done=True)
    planned = Activity.objects.get(customer=customer, done=False)
    assert logged.kind == "meeting" and logged.outcome == "同意试用" and logged.occurred_at
    assert planned.kind == "call" and "季度回顾" in planned.subject
    assert 4 * 24 - 1 <= (planned.due_at - timezone.now()).total_seconds() / 3600 <= 4 * 24


def test_no_next_step_logs_only_the_contact(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/log/", {"kind": "call", "subject": "电话确认", "next-none": "on", "next-due_at": "x"}
    )
    assert answer.status_code == 302 and answer["Location"].endswith("#activities")
    assert list(Activity.objects.filter(customer=customer).values_list("subject", "done")) == [("电话确认", True)]


def test_errors_of_both_parts_are_shown_together(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    future = (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"/customers/{customer.pk}/log/",
        {"kind": "call", "subject": "", "occurred_at": future, "next-kind": "call", "next-due_at": "1900-01-01T09:00"},
        HTTP_ACCEPT_LANGUAGE="en",
        **HTMX,
    )
    assert answer.status_code == 422 and answer["HX-Retarget"] == "#activities-form"
    form, next_form = answer.context["form"], answer.context["next_form"]
    assert {"subject", "occurred_at"} <= set(form.errors) and "due_at" in next_form.errors
    assert not Activity.objects.filter(customer=customer).exists()


def test_a_visit_logged_with_its_place_shows_on_the_timeline_and_to_the_manager(
    client: Any, rep1: Any, manager: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/log/",
        {
            "kind": "visit",
            "subject": "拜访工厂",
            "check_in": "on",
            "latitude": "31.2304161",
            "longitude": "121.4737011",
            "accuracy": "17.6",
            "next-none": "on",
        },
        **HTMX,
    )
    assert answer.status_code == 200, answer.content.decode()
    visit = Activity.objects.get(customer=customer)
    assert visit.checked_in_at and visit.located and visit.location_accuracy == 18
    client.force_login(manager)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    timeline = page[page.index('data-testid="timeline"') :]
    assert "uri.amap.com/marker?position=121.473701,31.230416" in timeline and "±18 m" in timeline
    section = page[page.index('id="activities"') : page.index('data-testid="timeline"')]
    assert 'data-testid="check-in-map"' in section


def test_a_visit_logged_without_its_place_still_counts(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/log/",
        {"kind": "visit", "subject": "拜访门店", "check_in": "on", "location_status": "denied", "next-none": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
        **HTMX,
    )
    assert answer.status_code == 200 and "location not shared" in answer.content.decode()
    visit = Activity.objects.get(customer=customer)
    assert visit.checked_in_at and not visit.located
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "location not shared" in page[page.index('data-testid="timeline"') :]


@pytest.mark.parametrize(
    ("kind", "place"), [("visit", {"latitude": "123", "longitude": "0"}), ("call", {"latitude": "", "longitude": ""})]
)
def test_a_bad_check_in_is_refused_at_the_box(client: Any, rep1: Any, kind: str, place: dict[str, str]) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/log/",
        {"kind": kind, "subject": "签到", "check_in": "on", **place, "next-none": "on"},
        **HTMX,
    )
    assert answer.status_code == 422 and "check_in" in answer.context["form"].errors
    assert not Activity.objects.filter(customer=customer).exists()


def test_the_check_in_box_follows_the_field_policy(client: Any, rep1: Any) -> None:
    FieldPermission.objects.create(resource="activities", field="latitude", role="rep", level="read")
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/log/?kind=visit").content.decode()
    assert 'name="check_in"' not in page and 'name="latitude"' not in page


def test_planning_a_follow_up(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    form = client.get(f"/customers/{customer.pk}/plan/", **HTMX).content.decode()
    assert 'name="due_at"' in form and 'name="occurred_at"' not in form
    due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(f"/customers/{customer.pk}/plan/", {"kind": "visit", "subject": "送样", "due_at": due}, **HTMX)
    assert answer.status_code == 200
    planned = Activity.objects.get(customer=customer)
    assert not planned.done and planned.kind == "visit" and planned.occurred_at is None
    refused = client.post(f"/customers/{customer.pk}/plan/", {"kind": "visit", "subject": "", "due_at": ""}, **HTMX)
    assert refused.status_code == 422 and {"subject", "due_at"} <= set(refused.context["form"].errors)


# ------------------------------------------------------------------ one tap
def test_done_from_my_day_offers_the_next_follow_up(client: Any, rep1: Any) -> None:
    item = _today(CustomerFactory(owner=rep1), subject="回访采购部")
    client.force_login(rep1)
    page = client.get("/").content.decode()
    assert f'data-testid="done-{item.pk}"' in page
    answer = client.post(
        f"/follow-ups/{item.pk}/done/", {"version": item.version, "place": "my-day"}, HTTP_ACCEPT_LANGUAGE="en", **HTMX
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    assert f'id="follow-up-{item.pk}"' in body and f"/customers/{item.customer_id}/plan/?after={item.pk}" in body
    item.refresh_from_db()
    assert item.done and item.occurred_at
    assert f'data-testid="done-{item.pk}"' not in client.get("/").content.decode()


def test_done_without_scripts_goes_back_where_it_was(client: Any, rep1: Any) -> None:
    item = _today(CustomerFactory(owner=rep1))
    client.force_login(rep1)
    answer = client.post(f"/follow-ups/{item.pk}/done/", {"version": item.version, "place": "my-day"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    other = _today(item.customer)
    answer = client.post(f"/follow-ups/{other.pk}/done/", {"version": other.version})
    assert answer.status_code == 302 and answer["Location"] == f"/customers/{item.customer_id}/#activities"


def test_snooze_from_the_360_list(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    item = _overdue(customer, subject="报价跟进")
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'data-testid="snooze-{item.pk}"' in page
    answer = client.post(f"/follow-ups/{item.pk}/snooze/", {"version": item.version, "option": "3d"}, **HTMX)
    assert answer.status_code == 200 and 'id="activities"' in answer.content.decode()
    item.refresh_from_db()
    assert timezone.localtime(item.due_at).date() == timezone.localdate() + dt.timedelta(days=3) and not item.done


def test_done_from_the_360_list_and_a_stale_tap(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    item = _overdue(customer)
    client.force_login(rep1)
    stale = client.post(f"/follow-ups/{item.pk}/done/", {"version": item.version + 5}, **HTMX)
    assert stale.status_code == 409
    blind = client.post(f"/follow-ups/{item.pk}/done/", {}, **HTMX)
    assert blind.status_code == 409
    item.refresh_from_db()
    assert not item.done
    done = client.post(f"/follow-ups/{item.pk}/done/", {"version": item.version}, **HTMX)
    assert done.status_code == 200 and f"plan/?after={item.pk}" in done.content.decode()
    bad = client.post(f"/follow-ups/{item.pk}/snooze/", {"version": item.version, "option": "never"}, **HTMX)
    assert bad.status_code == 422


def test_check_in_at_a_planned_visit_from_my_day(client: Any, rep1: Any) -> None:
    visit = _today(CustomerFactory(owner=rep1), kind="visit")
    client.force_login(rep1)
    assert f'data-testid="check-in-{visit.pk}"' in client.get("/").content.decode()
    answer = client.post(
        f"/follow-ups/{visit.pk}/check-in/",
        {"version": visit.version, "place": "my-day", "latitude": "22.5", "longitude": "114.1", "accuracy": "40"},
        **HTMX,
    )
    assert answer.status_code == 200 and 'data-testid="check-in-map"' in answer.content.decode()
    bad = _today(visit.customer, kind="visit")
    refused = client.post(
        f"/follow-ups/{bad.pk}/check-in/",
        {"version": bad.version, "place": "my-day", "latitude": "-91", "longitude": "0"},
        **HTMX,
    )
    assert refused.status_code == 422
    bad.refresh_from_db()
    assert bad.checked_in_at is None


def test_scope_trio_on_the_follow_up_pages(client: Any, rep1: Any, rep2: Any, outsider: Any, manager: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    item = _today(customer)
    for stranger in (rep2, outsider):
        client.force_login(stranger)
        assert client.post(f"/follow-ups/{item.pk}/done/", {"version": item.version}).status_code == 404
        assert client.post(f"/follow-ups/{item.pk}/snooze/", {"option": "1d"}).status_code == 404
        assert client.get(f"/customers/{customer.pk}/log/").status_code == 404
        assert client.post(f"/customers/{customer.pk}/plan/", {"subject": "x"}).status_code == 404
    client.logout()
    assert client.post(f"/follow-ups/{item.pk}/done/").status_code == 302  # to the sign-in page
    client.force_login(manager)
    assert client.post(f"/follow-ups/{item.pk}/done/", {"version": item.version}).status_code == 302
    item.refresh_from_db()
    assert item.done


# ------------------------------------------------------------------ My day
def _book(rep: Any, customers: int, items: int) -> None:
    for _n in range(customers):
        customer = CustomerFactory(owner=rep)
        contact = ContactFactory(customer=customer)
        for _ in range(items):
            _today(customer, contact=contact)
            _overdue(customer)


def test_my_day_groups_a_customers_items(client: Any, rep1: Any) -> None:
    first, second = CustomerFactory(owner=rep1, name="甲公司"), CustomerFactory(owner=rep1, name="乙公司")
    a = _today(first, subject="甲一")
    _today(second, subject="乙一")
    b = _today(first, subject="甲二")
    day = my_day(user=rep1)
    groups = day.due_today_by_customer
    assert [group.customer for group in groups] == [first, second] or [g.customer for g in groups] == [second, first]
    by_customer = {group.customer.pk: [item.pk for item in group.items] for group in groups}
    assert set(by_customer[first.pk]) == {a.pk, b.pk} and len(by_customer[second.pk]) == 1
    client.force_login(rep1)
    page = client.get("/").content.decode()
    assert page.count(f'data-testid="group-{first.pk}"') == 1 and "甲一" in page and "甲二" in page


def test_my_day_reads_a_constant_number_of_queries(
    client: Any, rep1: Any, django_assert_num_queries: Any, django_assert_max_num_queries: Any
) -> None:
    _book(rep1, customers=1, items=1)
    with django_assert_num_queries(7) as few:
        my_day(user=rep1)
    client.force_login(rep1)
    client.get("/")  # warm the session and the policy
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/")
    _book(rep1, customers=6, items=3)
    with django_assert_num_queries(len(few.captured_queries)):
        day = my_day(user=rep1)
    assert len(day.due_today_by_customer) == 7 and len(day.overdue) == 19
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/")


# ------------------------------------------------------------------ the 360 header
def test_the_header_calls_the_primary_contact_or_the_switchboard(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, phone="0571-8800 1234")
    ContactFactory(customer=customer, mobile="13800000000", is_primary=False)
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    header = page[page.index('data-testid="header-actions"') :]
    assert 'href="tel:057188001234" data-testid="call"' in header
    assert f'href="/customers/{customer.pk}/log/"' in header and f'href="/customers/{customer.pk}/plan/"' in header
    ContactFactory(customer=customer, mobile="+86 139 1234 5678", is_primary=True)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'href="tel:+8613912345678" data-testid="call"' in page


def test_no_call_button_for_a_number_not_read_in_clear(client: Any, rep1: Any) -> None:
    for resource, field in (("contacts", "mobile"), ("customers", "phone")):
        FieldPermission.objects.create(resource=resource, field=field, role="rep", level="masked")
    customer = CustomerFactory(owner=rep1, phone="0571-8800 1234")
    ContactFactory(customer=customer, mobile="13912345678", is_primary=True)
    client.force_login(rep1)
    assert 'data-testid="call"' not in client.get(f"/customers/{customer.pk}/").content.decode()
