"""Changes reviewed: a rep proposes a customer's tax id, credit limit and payment
terms; a manager of the team (or an admin) approves or rejects; the record changes only
on approval, and the requester is told the outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from crm.access.changes import change_approve, change_propose
from crm.access.models import ChangeRequest, FieldPermission
from crm.access.policy import Level, policy_for
from crm.access.registry import get_resource
from crm.accounts.choices import Role
from crm.accounts.models import Notification
from crm.audit.models import AuditEvent
from crm.core.spreadsheets.headers import targets_for
from tests.api_contract import detail_url
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"
CHANGES = "/api/v1/change-requests/"
NEW_TAX_ID = "91330100MA2B3C4D5F"


def _propose(api: Any, user: Any, customer: Any, data: dict[str, Any], version: int = 1) -> Any:
    return api(user).patch(detail_url(CUSTOMERS, customer.pk), data, format="json", HTTP_IF_MATCH=f'"{version}"')


@pytest.fixture
def customer(rep1: Any) -> Any:
    return CustomerFactory(owner=rep1, tax_id="91330100MA2B3C4D5E", credit_limit=Decimal("100000.00"))


def test_reps_propose_tax_id_credit_limit_and_payment_terms_by_default(rep1: Any, manager: Any) -> None:
    policy = policy_for(rep1)
    for field in ("tax_id", "credit_limit", "payment_terms_days"):
        assert policy.level("customers", field) == Level.PROPOSE
        assert policy_for(manager).level("customers", field) == Level.WRITE
    assert Level.READ < Level.PROPOSE < Level.WRITE


def test_a_proposal_answers_202_with_the_request_and_changes_nothing(api: Any, rep1: Any, customer: Any) -> None:
    response = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID, "credit_limit": "250000.00"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["changes"] == {"tax_id": NEW_TAX_ID, "credit_limit": "250000.00"}
    assert body["previous"] == {"tax_id": "91330100MA2B3C4D5E", "credit_limit": "100000.00"}
    assert body["requested_by"] == rep1.pk and body["record_id"] == customer.pk
    customer.refresh_from_db()
    assert (customer.tax_id, customer.version) == ("91330100MA2B3C4D5E", 1)
    assert api(rep1).get(response["Location"]).status_code == 200


def test_writable_fields_are_written_and_proposed_ones_become_a_request(api: Any, rep1: Any, customer: Any) -> None:
    response = _propose(api, rep1, customer, {"name": "新名称有限公司", "tax_id": NEW_TAX_ID})
    assert response.status_code == 200
    assert response.json()["name"] == "新名称有限公司"
    customer.refresh_from_db()
    assert (customer.name, customer.tax_id) == ("新名称有限公司", "91330100MA2B3C4D5E")
    change = ChangeRequest.objects.get()
    assert response["Content-Location"] == f"{CHANGES}{change.pk}/"
    assert change.record_version == customer.version


def test_a_proposal_is_validated_and_version_checked(api: Any, rep1: Any, customer: Any) -> None:
    assert _propose(api, rep1, customer, {"tax_id": "bad"}).status_code == 400
    assert _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID}, version=7).status_code == 412
    unchanged = _propose(api, rep1, customer, {"tax_id": customer.tax_id})
    assert unchanged.status_code == 200
    assert not ChangeRequest.objects.exists()


def test_propose_level_fields_cannot_be_set_on_create(api: Any, rep1: Any) -> None:
    response = api(rep1).post(CUSTOMERS, {"name": "新客户有限公司", "tax_id": NEW_TAX_ID}, format="json")
    assert response.status_code == 400
    assert "tax_id" in response.json()["fields"]


def test_approval_applies_through_the_update_and_the_audit_names_both(
    api: Any, rep1: Any, manager: Any, customer: Any
) -> None:
    change_id = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID, "payment_terms_days": 45}).json()["id"]
    response = api(manager).post(f"{CHANGES}{change_id}/approve/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["decided_by"] == manager.pk
    customer.refresh_from_db()
    assert (customer.tax_id, customer.payment_terms_days, customer.version) == (NEW_TAX_ID, 45, 2)
    record_event = AuditEvent.objects.filter(resource="customers.customer", object_id=str(customer.pk)).last()
    assert record_event is not None and record_event.actor_id == manager.pk
    decision = AuditEvent.objects.filter(resource="access.changerequest", action="update").get()
    assert decision.actor_id == manager.pk
    assert decision.changes["decided_by"]["after"] == manager.pk
    created = AuditEvent.objects.filter(resource="access.changerequest", action="create").get()
    assert created.actor_id == rep1.pk
    note = Notification.objects.get(user=rep1)
    assert note.key == f"change-request-{change_id}-approved" and customer.name in note.title
    assert api(manager).post(f"{CHANGES}{change_id}/approve/").status_code == 400  # decided already


def test_rejection_needs_a_reason_and_tells_the_requester(api: Any, rep1: Any, manager: Any, customer: Any) -> None:
    change_id = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID}).json()["id"]
    assert api(manager).post(f"{CHANGES}{change_id}/reject/", {"reason": " "}, format="json").status_code == 400
    response = api(manager).post(f"{CHANGES}{change_id}/reject/", {"reason": "税号与营业执照不符"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    customer.refresh_from_db()
    assert customer.tax_id == "91330100MA2B3C4D5E"
    note = Notification.objects.get(user=rep1)
    assert note.key.endswith("-rejected") and note.body == "税号与营业执照不符"


def test_a_stale_request_is_refused_but_other_changes_do_not_matter(
    api: Any, rep1: Any, manager: Any, customer: Any
) -> None:
    first = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID}).json()["id"]
    second = _propose(api, rep1, customer, {"credit_limit": "300000.00"}).json()["id"]
    # Someone else changes the name (not proposed) and the credit limit (proposed in the second).
    api(manager).patch(
        detail_url(CUSTOMERS, customer.pk), {"name": "改名有限公司", "credit_limit": "1.00"}, format="json",
        HTTP_IF_MATCH='"1"',
    )  # fmt: skip
    assert api(manager).post(f"{CHANGES}{first}/approve/").status_code == 200
    stale = api(manager).post(f"{CHANGES}{second}/approve/")
    assert stale.status_code == 409
    assert list(stale.json()["fields"]) == ["credit_limit"]
    customer.refresh_from_db()
    assert (customer.tax_id, customer.credit_limit) == (NEW_TAX_ID, Decimal("1.00"))


def test_scope_of_seeing_and_deciding(
    api: Any, rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any, other_team: Any, customer: Any
) -> None:
    change_id = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID}).json()["id"]
    other_manager = UserFactory(username="manager2", role=Role.MANAGER, team=other_team)
    other_team.manager = other_manager
    other_team.save()
    url = f"{CHANGES}{change_id}/"
    assert api(rep1).get(url).status_code == 200
    assert api(manager).get(url).status_code == 200
    assert api(admin_user).get(url).status_code == 200
    for stranger in (rep2, outsider, other_manager):
        assert api(stranger).get(url).status_code == 404
        assert change_id not in {row["id"] for row in api(stranger).get(CHANGES).json()["results"]}
    assert api(rep1).post(f"{url}approve/").status_code == 403  # a rep decides nothing
    assert api(other_manager).post(f"{url}approve/").status_code == 404
    assert api(admin_user).post(f"{url}approve/").status_code == 200


def test_the_requester_may_withdraw_a_pending_request(api: Any, rep1: Any, manager: Any, customer: Any) -> None:
    change_id = _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID}).json()["id"]
    assert api(manager).post(f"{CHANGES}{change_id}/withdraw/").status_code == 403
    assert api(rep1).post(f"{CHANGES}{change_id}/withdraw/").json()["status"] == "withdrawn"
    assert api(manager).post(f"{CHANGES}{change_id}/approve/").status_code == 400


def test_bulk_approve_applies_what_it_can_and_reports_the_rest(
    api: Any, rep1: Any, manager: Any, outsider: Any, django_assert_max_num_queries: Any
) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(3)]
    ids = [_propose(api, rep1, c, {"payment_terms_days": 60}).json()["id"] for c in customers]
    foreign = change_propose(
        actor=outsider, resource="customers", instance=CustomerFactory(owner=outsider),
        data={"payment_terms_days": 90}, expected_version=1,
    )  # fmt: skip
    assert foreign is not None
    response = api(manager).post(f"{CHANGES}bulk-approve/", {"ids": [*ids, foreign.pk]}, format="json")
    assert response.status_code == 200
    assert sorted(response.json()["approved"]) == sorted(ids)
    assert list(response.json()["failed"]) == [str(foreign.pk)]
    assert {c.payment_terms_days for c in type(customers[0]).objects.filter(pk__in=[c.pk for c in customers])} == {60}
    note = Notification.objects.get(user=rep1)  # one message for the three, not one each
    assert note.key.startswith("change-requests-") and note.title == "您提议的 3 项修改已获批准"
    with django_assert_max_num_queries(10):
        listing = api(manager).get(f"{CHANGES}?status=approved")
    assert len(listing.json()["results"]) == 3


def test_the_list_is_oldest_first_and_creating_here_is_not_allowed(api: Any, rep1: Any, manager: Any) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(2)]
    ids = [_propose(api, rep1, c, {"payment_terms_days": 15}).json()["id"] for c in customers]
    assert [row["id"] for row in api(manager).get(CHANGES).json()["results"]] == ids
    assert api(manager).post(CHANGES, {}, format="json").status_code in (403, 405)


def test_approving_through_the_service_refuses_the_requester(rep1: Any, customer: Any) -> None:
    change = change_propose(
        actor=rep1, resource="customers", instance=customer, data={"tax_id": NEW_TAX_ID}, expected_version=1
    )
    assert change is not None
    with pytest.raises(Exception) as refused:
        change_approve(actor=rep1, request=change)
    assert getattr(refused.value, "status_code", None) == 403


def test_an_import_takes_a_propose_level_column_as_a_proposal(rep1: Any, manager: Any, outsider: Any) -> None:
    """A column at ``propose`` is a target of an import (its values become change
    requests, see tests/imports/test_proposals.py); below it, it is refused."""
    resource = get_resource("customers")
    assert resource is not None
    with translation.override("en"):
        rep = {t.field: t.refused for t in targets_for(resource, rep1)}
        allowed = {t.field: t.refused for t in targets_for(resource, manager)}
    assert rep["tax_id"] == rep["credit_limit"] == rep["payment_terms_days"] == ""
    assert allowed["tax_id"] == ""
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role=Role.REP, defaults={"level": "read"}
    )
    with translation.override("en"):
        assert "may not write" in {t.field: t.refused for t in targets_for(resource, outsider)}["tax_id"]


def test_the_approvals_inbox_lists_oldest_first_and_decides(
    client: Any, api: Any, rep1: Any, manager: Any, outsider: Any, django_assert_max_num_queries: Any
) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(3)]
    ids = [_propose(api, rep1, c, {"payment_terms_days": 60}).json()["id"] for c in customers]
    client.force_login(outsider)
    assert client.get("/approvals/").status_code == 403  # a rep decides nothing
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        page = client.get("/approvals/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert [row.pk for row in page.context["rows"]] == ids
    assert page.context["pending_approvals"] == 3
    html = page.content.decode()
    assert 'data-testid="approvals-link"' in html and "table-cards" in html
    assert client.post("/approvals/", {"act": "reject", "id": ids[0], "reason": ""}).status_code == 302
    assert ChangeRequest.objects.get(pk=ids[0]).status == "pending"  # no reason, no rejection
    client.post("/approvals/", {"act": "reject", "id": ids[0], "reason": "账期不合规"})
    client.post("/approvals/", {"act": "approve", "ids": ids[1:]})
    assert dict(ChangeRequest.objects.values_list("pk", "status")) == {
        ids[0]: "rejected",
        ids[1]: "approved",
        ids[2]: "approved",
    }
    assert client.get("/approvals/").context["pending_approvals"] == 0


def test_the_360_profile_shows_the_pending_value_beside_the_current_one(
    client: Any, api: Any, rep1: Any, rep2: Any, manager: Any, customer: Any
) -> None:
    _propose(api, rep1, customer, {"tax_id": NEW_TAX_ID})
    for viewer in (rep1, manager):
        client.force_login(viewer)
        html = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'data-testid="pending-tax_id"' in html and NEW_TAX_ID in html
        assert "91330100MA2B3C4D5E" in html
    client.force_login(rep2)
    assert client.get(f"/customers/{customer.pk}/").status_code == 404
