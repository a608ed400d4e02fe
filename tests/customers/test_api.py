"""Customer archive endpoints: the shared contract plus the customer-specific rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm.audit.models import AuditEvent
from customers.models import Activity, Contact, Customer, ServiceNeed
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TransactionFactory,
    tier,
)

pytestmark = pytest.mark.django_db


class TestCustomerContract(ResourceContract):
    url = "/api/v1/customers/"
    model = Customer
    update_payload = {"lifecycle_stage": "key", "influence_score": 8}
    invalid_payloads = [
        ({"name": ""}, "name"),
        ({"lifecycle_stage": "dormant"}, "lifecycle_stage"),
        ({"influence_score": 11}, "influence_score"),
        ({"annual_revenue": "-5"}, "annual_revenue"),
        ({"annual_revenue": "lots"}, "annual_revenue"),
        ({"website": "not a url"}, "website"),
        ({"tax_id": "abc"}, "tax_id"),
        ({"owner": 999999}, "owner"),
        ({"tags": "not-a-list"}, "tags"),
        ({"name": "x" * 300}, "name"),
    ]

    def make(self, owner: Any) -> Customer:
        return CustomerFactory(owner=owner)

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "name": "杭州新材料股份有限公司",
            "industry": "manufacturing",
            "region": "east",
            "province": "浙江省",
            "city": "杭州",
            "annual_revenue": "125000000.00",
            "tags": ["重点", "新材料"],
            "owner": owner.pk,
        }


class TestContactContract(ResourceContract):
    url = "/api/v1/contacts/"
    model = Contact
    update_payload = {"title": "采购总监"}
    invalid_payloads = [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"mobile": "call me"}, "mobile"),
        ({"customer": 999999}, "customer"),
        ({"social_accounts": ["weibo"]}, "social_accounts"),
        ({"birthday": "31/02/1990"}, "birthday"),
    ]

    def make(self, owner: Any) -> Contact:
        return ContactFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        customer = CustomerFactory(owner=owner)
        return {
            "customer": customer.pk,
            "name": "王芳",
            "title": "财务经理",
            "mobile": "13912345678",
            "wechat": "wangfang_88",
            "social_accounts": {"dingtalk": "wangfang"},
        }


class TestActivityContract(ResourceContract):
    url = "/api/v1/activities/"
    model = Activity
    update_payload = {"done": True, "outcome": "客户同意下月签约"}
    invalid_payloads = [
        ({"subject": ""}, "subject"),
        ({"kind": "telepathy"}, "kind"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"customer": None}, "customer"),
    ]

    def make(self, owner: Any) -> Activity:
        return ActivityFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "customer": CustomerFactory(owner=owner).pk,
            "kind": "visit",
            "subject": "季度拜访",
            "due_at": "2030-01-15T10:00:00+08:00",
        }


class TestServiceNeedContract(ResourceContract):
    url = "/api/v1/service-needs/"
    model = ServiceNeed
    update_payload = {"status": "planned"}
    invalid_payloads = [({"title": ""}, "title"), ({"priority": "whenever"}, "priority")]

    def make(self, owner: Any) -> ServiceNeed:
        return ServiceNeedFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "customer": CustomerFactory(owner=owner).pk,
            "kind": "delivery",
            "title": "每周五前送货",
            "priority": "high",
        }


# ------------------------------------------------------------------ customer rules
def test_rep_creates_customer_for_themselves_with_code_and_team(api: Any, rep1: Any) -> None:
    response = api(rep1).post("/api/v1/customers/", {"name": "苏州精密机械有限公司"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == rep1.pk
    assert body["team"] == rep1.team_id
    assert body["code"].startswith("C") and len(body["code"]) == 8
    assert body["lifecycle_stage"] == "prospect"


def test_rep_cannot_give_a_customer_to_someone_else(api: Any, rep1: Any, rep2: Any) -> None:
    response = api(rep1).post("/api/v1/customers/", {"name": "A", "owner": rep2.pk}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["fields"]
    assert not Customer.objects.filter(name="A").exists()


def test_manager_reassigns_within_team_but_not_outside(
    api: Any, manager: Any, rep1: Any, rep2: Any, outsider: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(manager)
    url = detail_url("/api/v1/customers/", customer.pk)
    moved = client.patch(url, {"owner": rep2.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert moved.status_code == 200, moved.content
    refused = client.patch(url, {"owner": outsider.pk}, format="json", HTTP_IF_MATCH='"2"')
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.owner == rep2


def test_tier_fields_are_not_writable_through_the_customer(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = api(rep1).patch(
        detail_url("/api/v1/customers/", customer.pk),
        {"tier_score": "99", "tier": tier("diamond").pk},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.tier is None and customer.tier_score is None


def test_tax_id_must_be_unique_when_present(api: Any, rep1: Any, manager: Any) -> None:
    CustomerFactory(owner=rep1, tax_id="91310000MA1FL0000X")
    CustomerFactory(owner=rep1, tax_id="")
    client = api(manager)
    blank = client.post("/api/v1/customers/", {"name": "No tax id"}, format="json")
    assert blank.status_code == 201
    dup = client.post("/api/v1/customers/", {"name": "Dup", "tax_id": "91310000MA1FL0000X"}, format="json")
    assert dup.status_code == 400
    assert dup.json()["fields"]["tax_id"][0]
    other = client.post("/api/v1/customers/", {"name": "Other", "tax_id": "91310000MA1FL0001X"}, format="json")
    assert other.status_code == 201


def test_customer_delete_with_orders_is_409_and_keeps_everything(api: Any, manager: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    TransactionFactory(customer=customer)
    events = AuditEvent.objects.count()
    response = api(manager).delete(detail_url("/api/v1/customers/", customer.pk), HTTP_IF_MATCH=f'"{customer.version}"')
    assert response.status_code == 409
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert AuditEvent.objects.count() == events


def test_filters_search_and_ordering(api: Any, rep1: Any) -> None:
    a = CustomerFactory(
        owner=rep1,
        name="Alpha 物流",
        industry="logistics",
        lifecycle_stage="key",
        annual_revenue=5_000_000,
        tags=["vip"],
        city="广州",
    )
    b = CustomerFactory(
        owner=rep1, name="Beta 零售", industry="retail", lifecycle_stage="active", annual_revenue=1_000_000, city="深圳"
    )
    c = CustomerFactory(
        owner=rep1,
        name="Gamma 医疗",
        industry="healthcare",
        lifecycle_stage="at_risk",
        annual_revenue=9_000_000,
        tier=tier("gold"),
    )
    client = api(rep1)
    url = "/api/v1/customers/"
    assert ids_of(client.get(url, {"lifecycle_stage": ["key", "at_risk"]})) == {a.pk, c.pk}
    assert ids_of(client.get(url, {"industry": "retail"})) == {b.pk}
    assert ids_of(client.get(url, {"tag": "vip"})) == {a.pk}
    assert ids_of(client.get(url, {"tier": "gold"})) == {c.pk}
    assert ids_of(client.get(url, {"annual_revenue_min": 2_000_000})) == {a.pk, c.pk}
    assert ids_of(client.get(url, {"search": "零售"})) == {b.pk}
    assert ids_of(client.get(url, {"city": "深圳"})) == {b.pk}
    ordered = [row["id"] for row in client.get(url, {"ordering": "-annual_revenue"}).json()["results"]]
    assert ordered == [c.pk, a.pk, b.pk]
    bad = client.get(url, {"lifecycle_stage": "nonsense"})
    assert bad.status_code == 400 and "lifecycle_stage" in bad.json()["fields"]
    assert client.get(url, {"page": 99}).status_code == 404


def test_customer_detail_nests_contacts_without_extra_queries(
    api: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, is_primary=True, name="主联系人")
    ContactFactory(customer=customer, name="副联系人")
    client = api(rep1)
    # session/policy, customer, contacts, and the tier schedule (one query, once per request)
    with django_assert_max_num_queries(5):
        body = client.get(detail_url("/api/v1/customers/", customer.pk)).json()
    assert [c["name"] for c in body["contacts"]] == ["主联系人", "副联系人"]


def test_new_primary_contact_replaces_the_old_one(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    old = ContactFactory(customer=customer, is_primary=True)
    response = api(rep1).post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "新主联系人", "is_primary": True}, format="json"
    )
    assert response.status_code == 201, response.content
    old.refresh_from_db()
    assert not old.is_primary
    assert AuditEvent.objects.filter(action="update", object_id=str(old.pk), resource="customers.contact").exists()


def test_activity_done_is_stamped_and_contact_must_match_customer(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    stranger = ContactFactory(customer=CustomerFactory(owner=rep1))
    client = api(rep1)
    bad = client.post(
        "/api/v1/activities/", {"customer": customer.pk, "subject": "x", "contact": stranger.pk}, format="json"
    )
    assert bad.status_code == 400 and "contact" in bad.json()["fields"]
    done = client.post("/api/v1/activities/", {"customer": customer.pk, "subject": "回访", "done": True}, format="json")
    assert done.status_code == 201
    assert done.json()["done_at"] is not None
    assert done.json()["assignee"] == rep1.pk


# ---------------------------------------------------------------------- timeline
def test_timeline_merges_every_kind_newest_first(api: Any, rep1: Any, django_assert_max_num_queries: Any) -> None:
    client = api(rep1)
    created = client.post("/api/v1/customers/", {"name": "时间线测试"}, format="json").json()
    customer = Customer.objects.get(pk=created["id"])
    ActivityFactory(customer=customer)
    TransactionFactory(customer=customer)
    ServiceRecordFactory(customer=customer)
    FeedbackFactory(customer=customer)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/customers/{customer.pk}/timeline/")
    assert response.status_code == 200
    entries = response.json()["results"]
    kinds = {e["kind"] for e in entries}
    assert {"activity", "transaction", "service_record", "feedback", "audit"} <= kinds
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    assert client.get(f"/api/v1/customers/{customer.pk}/timeline/", {"limit": "x"}).status_code == 400
    assert client.get(f"/api/v1/customers/{customer.pk}/timeline/", {"before": "yesterday"}).status_code == 400


def test_timeline_of_another_reps_customer_is_404(api: Any, rep1: Any, rep2: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    assert api(rep2).get(f"/api/v1/customers/{customer.pk}/timeline/").status_code == 404


def test_timeline_titles_read_as_words(api: Any, rep1: Any) -> None:
    """A change reads "创建 跟进", not "创建 customers.activity"; an order without a
    description shows its amount as money (¥252,000), not "252000.00 CNY"."""
    customer = CustomerFactory(owner=rep1)
    client = api(rep1)
    client.post("/api/v1/activities/", {"customer": customer.pk, "kind": "call", "subject": "回访"}, format="json")
    TransactionFactory(customer=customer, description="", amount=Decimal("252000.00"), currency="CNY")
    entries = client.get(f"/api/v1/customers/{customer.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    titles = {entry["kind"]: entry["title"] for entry in reversed(entries)}
    assert titles["audit"].startswith("创建 ") and "customers." not in titles["audit"], titles
    assert titles["transaction"] == "订单 ¥252,000", titles
