"""Keeping the archive current: when a customer is due for its owner's confirmation
(default period and per tier), the "still right" service and page, My day's "To verify",
the list's filter, the completeness score (SQL equals Python) and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from crm.audit.models import AuditEvent
from crm.core.errors import VersionConflict
from customers import services
from customers.completeness import FIELDS, completeness
from customers.models import Customer
from customers.selectors import customers_due_for_verification, with_completeness
from customers.verification import is_due
from tests.factories import ContactFactory, CustomerFactory
from tiers.models import Tier

pytestmark = pytest.mark.django_db


def _aged(customer: Customer, *, created_days: int, verified_days: int | None = None) -> Customer:
    """Backdate a customer's creation (and last verification) by whole days."""
    now = timezone.now()
    verified = now - dt.timedelta(days=verified_days) if verified_days is not None else None
    Customer.objects.filter(pk=customer.pk).update(
        created_at=now - dt.timedelta(days=created_days), last_verified_at=verified
    )
    customer.refresh_from_db()
    return customer


@pytest.fixture
def as_user(client: Any) -> Any:
    def sign_in(user: Any) -> Any:
        client.force_login(user)
        return client

    return sign_in


# ------------------------------------------------------------------ due rules
def test_due_by_default_period_from_creation_or_last_verification(rep1: Any) -> None:
    fresh = _aged(CustomerFactory(owner=rep1), created_days=10)
    old = _aged(CustomerFactory(owner=rep1), created_days=200)
    confirmed = _aged(CustomerFactory(owner=rep1), created_days=400, verified_days=30)
    lapsed = _aged(CustomerFactory(owner=rep1), created_days=400, verified_days=181)
    due = set(customers_due_for_verification(user=rep1).values_list("pk", flat=True))
    assert due == {old.pk, lapsed.pk}
    assert [is_due(c) for c in (fresh, old, confirmed, lapsed)] == [False, True, False, True]


@override_settings(CRM_VERIFY_DAYS=30)
def test_the_default_period_is_a_setting(rep1: Any) -> None:
    customer = _aged(CustomerFactory(owner=rep1), created_days=45)
    assert list(customers_due_for_verification(user=rep1)) == [customer]


def test_a_tier_can_ask_for_it_more_often(rep1: Any, reference_tiers: None) -> None:
    key_tier = Tier.objects.order_by("-rank").first()
    assert key_tier is not None
    Tier.objects.filter(pk=key_tier.pk).update(verify_days=60)
    key = _aged(CustomerFactory(owner=rep1, tier=key_tier), created_days=90)
    plain_tier = Tier.objects.order_by("rank").first()
    plain = _aged(CustomerFactory(owner=rep1, tier=plain_tier), created_days=90)
    due = list(customers_due_for_verification(user=rep1))
    assert due == [key]
    assert is_due(Customer.objects.select_related("tier").get(pk=key.pk)) and not is_due(plain)


def test_due_selector_is_scoped_and_one_query(
    rep1: Any, rep2: Any, manager: Any, outsider: Any, django_assert_num_queries: Any
) -> None:
    mine = _aged(CustomerFactory(owner=rep1), created_days=300)
    teammates = _aged(CustomerFactory(owner=rep2), created_days=300)
    _aged(CustomerFactory(owner=outsider), created_days=300)
    for _ in range(5):
        _aged(CustomerFactory(owner=rep1), created_days=300)
    with django_assert_num_queries(1):
        rows = list(customers_due_for_verification(user=rep1))
    assert mine in rows and teammates not in rows and len(rows) == 6
    assert {c.owner_id for c in customers_due_for_verification(user=manager)} == {rep1.pk, rep2.pk}


# ------------------------------------------------------------------ verify service
def test_verify_stamps_audits_and_checks_the_version(rep1: Any) -> None:
    customer = _aged(CustomerFactory(owner=rep1), created_days=300)
    version = customer.version
    verified = services.customer_verify(actor=rep1, instance=customer, expected_version=version)
    assert verified.last_verified_by == rep1 and verified.version == version + 1
    assert timezone.now() - verified.last_verified_at < dt.timedelta(minutes=1)
    events = AuditEvent.objects.filter(resource="customers.customer", object_id=str(customer.pk), action="update")
    event = events.latest("id")
    assert "last_verified_at" in event.changes
    assert not is_due(verified)
    with pytest.raises(VersionConflict):
        services.customer_verify(actor=rep1, instance=verified, expected_version=version)


def test_editing_the_profile_counts_as_verified(rep1: Any) -> None:
    customer = _aged(CustomerFactory(owner=rep1), created_days=300)
    updated = services.customer_update(
        actor=rep1, instance=customer, data={"address": "浦东新区 1 号"}, expected_version=customer.version
    )
    assert updated.last_verified_by == rep1 and not is_due(updated)


def test_still_right_on_the_page(as_user: Any, rep1: Any, outsider: Any) -> None:
    customer = _aged(CustomerFactory(owner=rep1), created_days=300)
    client = as_user(rep1)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Still right" in page and "Due for verification" in page
    response = client.post(f"/customers/{customer.pk}/verify/", {"version": customer.version, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    customer.refresh_from_db()
    assert customer.last_verified_by == rep1
    stale = client.post(
        f"/customers/{customer.pk}/verify/",
        {"version": customer.version - 1},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "changed meanwhile" in stale.content.decode()
    # Off-site "next" is not followed; someone else's customer is not found.
    away = client.post(f"/customers/{customer.pk}/verify/", {"version": customer.version, "next": "https://x.test/"})
    assert away["Location"] == f"/customers/{customer.pk}/"
    assert as_user(outsider).post(f"/customers/{customer.pk}/verify/", {"version": 1}).status_code == 404


def test_my_day_lists_the_owners_customers_to_verify(
    as_user: Any, rep1: Any, rep2: Any, django_assert_max_num_queries: Any
) -> None:
    due = [_aged(CustomerFactory(owner=rep1, name=f"待核实 {n}"), created_days=300) for n in range(3)]
    _aged(CustomerFactory(owner=rep1, name="刚核实"), created_days=300, verified_days=1)
    _aged(CustomerFactory(owner=rep2, name="同事的"), created_days=300)
    client = as_user(rep1)
    client.get("/")
    with django_assert_max_num_queries(40) as captured:
        page = client.get("/").content.decode()
    baseline = len(captured.captured_queries)
    for customer in due:
        assert customer.name in page
    assert "刚核实" not in page and "同事的" not in page
    assert 'data-testid="to-verify-count">3<' in page and "?verify=due" in page
    for n in range(5):
        _aged(CustomerFactory(owner=rep1, name=f"更多 {n}"), created_days=300)
    with django_assert_max_num_queries(baseline):
        client.get("/")


def test_the_list_filters_customers_due(as_user: Any, rep1: Any) -> None:
    due = _aged(CustomerFactory(owner=rep1, name="该核实了"), created_days=300)
    _aged(CustomerFactory(owner=rep1, name="还新鲜"), created_days=3)
    page = as_user(rep1).get("/customers/", {"verify": "due"}).content.decode()
    assert due.name in page and "还新鲜" not in page
    assert as_user(rep1).get("/customers/", {"verify": "bogus"}).status_code == 400


# ------------------------------------------------------------------ completeness
def test_weights_sum_to_one_hundred() -> None:
    assert sum(field.weight for field in FIELDS) == 100
    assert len(FIELDS) >= 15


def test_completeness_names_what_is_missing(rep1: Any) -> None:
    bare = CustomerFactory(owner=rep1, short_name="", address="", industry="other", region="", city="")
    with translation.override("en"):
        score = completeness(bare)
    assert "tax id" in score.missing and "address" in score.missing and "key contact with a mobile" in score.missing
    assert "name" not in score.missing
    full = CustomerFactory(
        owner=rep1,
        short_name="测试",
        address="浦东新区 1 号",
        phone="021-12345678",
        website="https://example.com",
        tax_id="91310000MA1FL0000X",
        company_size="large",
        employee_count=500,
        annual_revenue=Decimal("1000000"),
        credit_limit=Decimal("50000"),
        source="referral",
    )
    ContactFactory(customer=full, mobile="13800000000", is_decision_maker=True)
    assert completeness(full).percent == 100 and completeness(full).missing == []
    assert score.percent == 5 + 0  # only the name: the factory's industry was set to "other"


def test_sql_equals_python(rep1: Any) -> None:
    customers = [
        CustomerFactory(owner=rep1),
        CustomerFactory(owner=rep1, tax_id="91310000MA1FL0000X", employee_count=10, address=""),
        CustomerFactory(owner=rep1, industry="other", website="https://example.com", credit_limit=Decimal("1")),
    ]
    ContactFactory(customer=customers[0], mobile="")
    ContactFactory(customer=customers[1], mobile="13800000000")
    ContactFactory(customer=customers[2], mobile="", is_decision_maker=True)
    annotated = {c.pk: c.completeness for c in with_completeness(Customer.objects.filter(owner=rep1))}
    for customer in customers:
        assert annotated[customer.pk] == completeness(customer).percent
    assert len(set(annotated.values())) == 3
    assert with_completeness(Customer.objects.filter(owner=rep1)).filter(completeness__gte=30).count() >= 1


def test_the_360_page_shows_completeness_in_the_readers_language(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="")
    client = as_user(rep1)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{completeness(customer).percent}%" in page and "tax id" in page
    page_zh = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "完整度" in page_zh and "信息无误" in page_zh


# ------------------------------------------------------------------ API
def test_api_shows_and_verifies(api: Any, rep1: Any, outsider: Any, django_assert_max_num_queries: Any) -> None:
    customer = _aged(CustomerFactory(owner=rep1), created_days=300)
    client = api(rep1)
    body = client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["last_verified_at"] is None and body["completeness"] == completeness(customer).percent
    assert client.post(f"/api/v1/customers/{customer.pk}/verify/").status_code == 428
    stale = client.post(f"/api/v1/customers/{customer.pk}/verify/", HTTP_IF_MATCH=f'"{customer.version + 5}"')
    assert stale.status_code == 412
    done = client.post(f"/api/v1/customers/{customer.pk}/verify/", HTTP_IF_MATCH=f'"{customer.version}"')
    assert done.status_code == 200 and done.json()["last_verified_at"] and done["ETag"] == f'"{customer.version + 1}"'
    assert api(outsider).post(f"/api/v1/customers/{customer.pk}/verify/", HTTP_IF_MATCH='"2"').status_code == 404
    # Read-only: a PATCH cannot set it.
    client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"last_verified_at": "2000-01-01T00:00:00Z", "completeness": 5},
        format="json",
        HTTP_IF_MATCH=done["ETag"],
    )
    customer.refresh_from_db()
    assert customer.last_verified_at.year != 2000


def test_api_list_completeness_without_a_query_per_row(api: Any, rep1: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(3):
        ContactFactory(customer=CustomerFactory(owner=rep1))
    client = api(rep1)
    client.get("/api/v1/customers/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/customers/")
    for _ in range(6):
        ContactFactory(customer=CustomerFactory(owner=rep1))
    with CaptureQueriesContext(connection) as many:
        rows = client.get("/api/v1/customers/").json()
    assert len(many.captured_queries) == len(few.captured_queries)
    results = rows["results"] if isinstance(rows, dict) else rows
    assert all(isinstance(row["completeness"], int) for row in results)
