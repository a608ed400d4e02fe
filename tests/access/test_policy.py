"""The field policy on the API: hidden, masked, read and write, for reading, writing,
filtering, searching and ordering, applied on the next request after a change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access.models import FieldPermission
from crm.access.policy import Level, policy_for
from tests.api_contract import detail_url, ids_of
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"


def _set(resource: str, field: str, role: str, level: str) -> None:
    FieldPermission.objects.update_or_create(resource=resource, field=field, role=role, defaults={"level": level})


def test_defaults_reps_propose_but_do_not_edit_tax_id_managers_do(api: Any, rep1: Any, manager: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="91330100MA2B3C4D5E")
    assert api(rep1).get(detail_url(CUSTOMERS, customer.pk)).json()["tax_id"] == "91330100MA2B3C4D5E"
    proposed = api(rep1).patch(
        detail_url(CUSTOMERS, customer.pk), {"tax_id": "91330100MA2B3C4D5F"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert proposed.status_code == 202, "a change request, not a change"
    customer.refresh_from_db()
    assert customer.tax_id == "91330100MA2B3C4D5E"
    allowed = api(manager).patch(
        detail_url(CUSTOMERS, customer.pk), {"tax_id": "91330100MA2B3C4D5F"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert allowed.status_code == 200


def test_integrations_see_contact_phones_and_email_masked(api: Any, integration_user: Any, rep1: Any) -> None:
    contact = ContactFactory(customer=CustomerFactory(owner=rep1), mobile="13812345678", email="zhang@example.com")
    body = api(integration_user).get(detail_url("/api/v1/contacts/", contact.pk)).json()
    assert (body["mobile"], body["email"]) == ("138****5678", "z***@example.com")
    assert api(rep1).get(detail_url("/api/v1/contacts/", contact.pk)).json()["mobile"] == "13812345678"


def test_a_change_applies_on_the_next_request(api: Any, admin_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, annual_revenue=5_000_000)
    client = api(rep1)
    assert client.get(detail_url(CUSTOMERS, customer.pk)).json()["annual_revenue"] == "5000000.00"
    response = api(admin_user).post(
        "/api/v1/field-permissions/",
        {"resource": "customers", "field": "annual_revenue", "role": "rep", "level": "masked"},
        format="json",
    )
    assert response.status_code == 201
    assert client.get(detail_url(CUSTOMERS, customer.pk)).json()["annual_revenue"] == "1,000,000–10,000,000"
    api(admin_user).patch(
        f"/api/v1/field-permissions/{response.json()['id']}/",
        {"level": "hidden"},
        format="json",
        HTTP_IF_MATCH=response["ETag"],
    )
    assert "annual_revenue" not in client.get(detail_url(CUSTOMERS, customer.pk)).json()
    assert all("annual_revenue" not in row for row in client.get(CUSTOMERS).json()["results"])


def test_hidden_fields_cannot_be_probed(api: Any, rep1: Any) -> None:
    small = CustomerFactory(owner=rep1, industry="retail", annual_revenue=100, tax_id="91000000000000001A")
    big = CustomerFactory(owner=rep1, industry="it", annual_revenue=9_000_000)
    _set("customers", "industry", "rep", "hidden")
    _set("customers", "annual_revenue", "rep", "hidden")
    _set("customers", "tax_id", "rep", "hidden")
    client = api(rep1)
    refused = client.get(CUSTOMERS, {"industry": "it"})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["industry"]
    assert client.get(CUSTOMERS, {"annual_revenue_min": 1000}).status_code == 400
    assert ids_of(client.get(CUSTOMERS, {"search": "91000000000000001A"})) == set()
    by_revenue = client.get(CUSTOMERS, {"ordering": "name,-annual_revenue"})
    assert by_revenue.status_code == 400 and list(by_revenue.json()["fields"]) == ["ordering"]
    assert "-annual_revenue" in by_revenue.json()["fields"]["ordering"][0]
    assert {small.pk, big.pk} == ids_of(client.get(CUSTOMERS, {"ordering": "name"}))
    write = client.patch(detail_url(CUSTOMERS, small.pk), {"industry": "it"}, format="json", HTTP_IF_MATCH='"1"')
    assert write.status_code == 400 and list(write.json()["fields"]) == ["industry"]


def test_nested_records_follow_their_own_resource_policy(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, mobile="13912345678", is_primary=True)
    _set("contacts", "mobile", "rep", "masked")
    nested = api(rep1).get(detail_url(CUSTOMERS, customer.pk)).json()["contacts"][0]
    assert nested["mobile"] == "139****5678"


def test_policy_costs_one_query_per_request(rep1: Any, rf: Any) -> None:
    _set("customers", "tax_id", "rep", "hidden")
    request = rf.get("/")
    with CaptureQueriesContext(connection) as ctx:
        first = policy_for(rep1, request)
        again = policy_for(rep1, request)
        assert first is again
        assert first.level("customers", "tax_id") == Level.HIDDEN
        assert first.level("customers", "name") == Level.WRITE
    assert len(ctx.captured_queries) <= 2  # the fingerprint, and the rows once after a change
    with CaptureQueriesContext(connection) as ctx:
        policy_for(rep1, rf.get("/")).level("customers", "tax_id")
    assert len(ctx.captured_queries) == 1


def test_reveal_is_allowed_by_policy_and_always_audited(api: Any, integration_user: Any, rep1: Any) -> None:
    from crm.audit.models import AuditEvent

    contact = ContactFactory(customer=CustomerFactory(owner=rep1), mobile="13812345678")
    url = f"/api/v1/contacts/{contact.pk}/reveal/"
    client = api(integration_user)
    no_reason = client.post(url, {"field": "mobile"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    shown = client.post(url, {"field": "mobile", "reason": "客户来电核对身份"}, format="json")
    assert shown.status_code == 200 and shown.json() == {"field": "mobile", "value": "13812345678"}
    event = AuditEvent.objects.get(action="reveal", object_id=str(contact.pk))
    assert event.changes["field"]["after"] == "mobile"
    assert event.changes["reason"]["after"] == "客户来电核对身份"
    assert event.changes["allowed"]["after"] is True
    assert "13812345678" not in str(event.changes)

    FieldPermission.objects.filter(resource="contacts", field="mobile", role="integration").update(reveal_allowed=False)
    refused = client.post(url, {"field": "mobile", "reason": "再看一次"}, format="json")
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="reveal", object_id=str(contact.pk)).count() == 2
    assert AuditEvent.objects.filter(action="reveal").order_by("-seq").first().changes["allowed"]["after"] is False


def test_hidden_fields_cannot_be_revealed_and_unseen_records_stay_404(api: Any, rep1: Any, rep2: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="91000000000000009Z")
    _set("customers", "tax_id", "rep", "hidden")
    client = api(rep1)
    assert (
        client.post(
            f"{CUSTOMERS}{customer.pk}/reveal/", {"field": "tax_id", "reason": "需要开票"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{CUSTOMERS}{customer.pk}/reveal/", {"field": "nope", "reason": "需要开票"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api(rep2)
        .post(f"{CUSTOMERS}{customer.pk}/reveal/", {"field": "name", "reason": "看看"}, format="json")
        .status_code
        == 404
    )


def test_audit_and_timeline_show_values_at_the_viewers_level(api: Any, rep1: Any, manager: Any) -> None:
    created = api(manager).post(
        CUSTOMERS,
        {"name": "审计脱敏", "owner": rep1.pk, "annual_revenue": "3000000", "tax_id": "91000000000000007X"},
        format="json",
    )
    assert created.status_code == 201, created.content
    _set("customers", "annual_revenue", "rep", "masked")
    _set("customers", "tax_id", "rep", "hidden")
    event = api(rep1).get("/api/v1/audit-events/", {"resource": "customers.customer"}).json()["results"][0]
    assert event["changes"]["annual_revenue"]["after"] == "1,000,000–10,000,000"
    assert "tax_id" not in event["changes"]
    assert api(manager).get("/api/v1/audit-events/").json()["results"][0]["changes"]["tax_id"]["after"] == (
        "91000000000000007X"
    )
    timeline = api(rep1).get(f"{CUSTOMERS}{created.json()['id']}/timeline/").json()["results"]
    audit = next(e for e in timeline if e["kind"] == "audit")
    assert audit["detail"]["changes"]["annual_revenue"]["after"] == "1,000,000–10,000,000"
    assert "tax_id" not in audit["detail"]["changes"]
    assert "91000000000000007X" not in str(timeline)
