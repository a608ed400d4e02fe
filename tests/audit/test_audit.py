"""The audit trail: append-only in the database, hash-chained, verifiable, scoped when read."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from crm.audit.models import AuditEvent
from crm.audit.selectors import audit_chain_breaks
from customers.services import customer_create, customer_update
from tests.api_contract import ids_of

pytestmark = pytest.mark.django_db


def _events(rep: Any, n: int = 3) -> list[AuditEvent]:
    customer = customer_create(actor=rep, data={"name": "审计测试"})
    for i in range(n - 1):
        customer = customer_update(actor=rep, instance=customer, data={"notes": f"v{i}"}, expected_version=None)
    return list(AuditEvent.objects.order_by("seq"))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_label = 'someone else'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_database_refuses_changes(rep1: Any, sql: str) -> None:
    _events(rep1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 3


def test_database_refuses_truncate_outside_maintenance(rep1: Any) -> None:
    _events(rep1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL crm.audit_maintenance = 'off'")
        cursor.execute("TRUNCATE audit_auditevent")


def test_events_are_numbered_and_chained(rep1: Any) -> None:
    events = _events(rep1, 5)
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash and len(event.hash) == 64
    count, breaks = audit_chain_breaks()
    assert count == 5 and breaks == []
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "OK: 5 events" in out.getvalue()


def _tamper(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")


def test_verify_detects_an_edited_event(rep1: Any) -> None:
    events = _events(rep1, 4)
    _tamper("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = %s", [events[1].seq])
    _, breaks = audit_chain_breaks()
    assert [b.seq for b in breaks] == [events[1].seq]
    err = StringIO()
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert f"#{events[1].seq}" in err.getvalue()


def test_verify_detects_a_removed_event_and_a_removed_tail(rep1: Any) -> None:
    events = _events(rep1, 5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[2].seq])
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[4].seq])
    problems = {b.seq: b.problem for b in audit_chain_breaks()[1]}
    assert events[3].seq in problems
    assert any("newest events were removed" in p for p in problems.values())


def test_api_writes_carry_request_id_and_ip(api: Any, rep1: Any) -> None:
    response = api(rep1).post(
        "/api/v1/customers/", {"name": "请求追踪"}, format="json", HTTP_X_REQUEST_ID="req-42", REMOTE_ADDR="10.1.2.3"
    )
    assert response["X-Request-ID"] == "req-42"
    event = AuditEvent.objects.get(action="create", resource="customers.customer")
    assert (event.request_id, event.ip, event.source, event.actor_id) == ("req-42", "10.1.2.3", "api", rep1.pk)
    assert event.customer_id == response.json()["id"]


def test_audit_events_endpoint_is_scoped_and_read_only(
    api: Any, rep1: Any, rep2: Any, manager: Any, admin_user: Any
) -> None:
    api(rep1).post("/api/v1/customers/", {"name": "rep1 的客户"}, format="json")
    api(admin_user).post("/api/v1/products/", {"sku": "P-1", "name": "产品"}, format="json")
    customer_event = AuditEvent.objects.get(resource="customers.customer")
    product_event = AuditEvent.objects.get(resource="transactions.product")
    url = "/api/v1/audit-events/"
    assert ids_of(api(rep1).get(url)) == {customer_event.pk}
    assert ids_of(api(rep2).get(url)) == set()
    assert ids_of(api(manager).get(url)) == {customer_event.pk}
    assert ids_of(api(admin_user).get(url)) == {customer_event.pk, product_event.pk}
    assert api(rep2).get(f"{url}{customer_event.pk}/").status_code == 404
    admin = api(admin_user)
    assert admin.post(url, {}, format="json").status_code == 405
    assert admin.patch(f"{url}{customer_event.pk}/", {}, format="json").status_code == 405
    assert admin.delete(f"{url}{customer_event.pk}/").status_code == 405
    assert admin.get(url, {"resource": "transactions.product"}).json()["count"] == 1
    assert admin.get(url, {"action": "update"}).json()["count"] == 0


def test_audit_list_queries_do_not_grow(api: Any, rep1: Any, admin_user: Any) -> None:
    from tests.api_contract import list_query_count

    _events(rep1, 2)
    few = list_query_count(api(admin_user), "/api/v1/audit-events/")
    _events(rep1, 8)
    assert list_query_count(api(admin_user), "/api/v1/audit-events/") == few
    ordered = [e["seq"] for e in api(admin_user).get("/api/v1/audit-events/", {"ordering": "seq"}).json()["results"]]
    assert ordered == sorted(ordered)


def test_forwarded_client_ip_is_used_only_when_trusted(api: Any, rep1: Any, settings: Any) -> None:
    client = api(rep1)
    headers = {"HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1", "REMOTE_ADDR": "10.0.0.1"}
    client.post("/api/v1/customers/", {"name": "代理后"}, format="json", **headers)
    settings.CRM_TRUST_X_FORWARDED_FOR = True
    client.post("/api/v1/customers/", {"name": "可信代理"}, format="json", **headers)
    ips = list(AuditEvent.objects.filter(action="create").order_by("seq").values_list("ip", flat=True))
    assert ips == ["10.0.0.1", "203.0.113.9"]
