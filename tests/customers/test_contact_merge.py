"""Duplicate contacts of one customer: found, merged (every reference moved, one audit
event) and unmerged within the window, through the services and the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from campaigns.models import Participation
from crm.access.models import FieldPermission
from crm.access.policy import policy_for
from crm.access.serializers import mask_changes
from crm.audit.choices import Action
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, NotPermitted, VersionConflict
from customers.contact_duplicates import contact_duplicates
from customers.merging import contact_merge, contact_references, contact_unmerge
from customers.models import Activity, Contact
from feedback.models import Feedback, SatisfactionResponse
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ParticipationFactory,
    SatisfactionResponseFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are matched in English (the Chinese ones are tested where it says so)."""
    with translation.override("en"):
        yield


@pytest.fixture
def customer(rep1: Any) -> Any:
    return CustomerFactory(owner=rep1, name="杭州明远科技有限公司")


@pytest.fixture
def twins(customer: Any) -> tuple[Contact, Contact]:
    """王芳 entered twice: her mobile written two ways, the second time as primary."""
    first = ContactFactory(
        customer=customer, name="王芳", mobile="+86 138 0000 0000", email="wang@example.com", title="采购经理"
    )
    second = ContactFactory(
        customer=customer, name="王 芳", mobile="13800000000", email="", title="采购总监", is_primary=True
    )
    return first, second


def _referencing(customer: Any, contact: Contact, count: int = 1) -> dict[str, list[int]]:
    """``count`` records of every kind that names a contact, naming ``contact``."""
    made: dict[str, list[int]] = {}
    for _ in range(count):
        made.setdefault("customers.activity:contact", []).append(ActivityFactory(customer=customer, contact=contact).pk)
        made.setdefault("feedback.feedback:contact", []).append(FeedbackFactory(customer=customer, contact=contact).pk)
        made.setdefault("feedback.satisfactionresponse:contact", []).append(
            SatisfactionResponseFactory(customer=customer, contact=contact).pk
        )
        made.setdefault("campaigns.participation:contact", []).append(
            ParticipationFactory(customer=customer, contact=contact).pk
        )
    return made


# ------------------------------------------------------------------------ detection
def test_every_reference_to_a_contact_is_found_through_the_models(db: Any) -> None:
    found = {f"{f.model._meta.label_lower}:{f.name}" for f in contact_references()}
    assert {
        "customers.activity:contact",
        "feedback.feedback:contact",
        "feedback.satisfactionresponse:contact",
        "campaigns.participation:contact",
    } <= found


@pytest.mark.parametrize(
    ("one", "other", "reason"),
    [
        ({"mobile": "+86 139-1234-5678"}, {"mobile": "13912345678"}, "same_mobile"),
        ({"email": "Li.Na@Example.com"}, {"email": "li.na@example.com"}, "same_email"),
        ({"wechat": "LiNa_88"}, {"wechat": "lina_88 "}, "same_wechat"),
        ({"name": "Li Na"}, {"name": "LiNa"}, "same_name"),
    ],
)
def test_each_reason_finds_a_pair(
    rep1: Any, customer: Any, one: dict[str, str], other: dict[str, str], reason: str
) -> None:
    blank = {"name": "甲", "mobile": "", "email": "", "wechat": ""}
    a = ContactFactory(customer=customer, **{**blank, "name": "甲", **one})
    b = ContactFactory(customer=customer, **{**blank, "name": "乙", **other})
    ContactFactory(customer=customer, **{**blank, "name": "丙", "mobile": "13700000000"})
    pairs = contact_duplicates(user=rep1, customer=customer)
    assert [(p.first.pk, p.second.pk, p.reasons) for p in pairs] == [(a.pk, b.pk, [reason])]
    assert pairs[0].strong is (reason != "same_name")


def test_short_numbers_empty_values_and_other_customers_are_no_reason(rep1: Any, customer: Any) -> None:
    ContactFactory(customer=customer, name="甲", mobile="12345", email="")
    ContactFactory(customer=customer, name="乙", mobile="12345", email="")
    ContactFactory(customer=CustomerFactory(owner=rep1), name="丙", mobile="12345", email="")
    assert contact_duplicates(user=rep1, customer=customer) == []


def test_a_reason_on_a_hidden_field_is_left_out(rep1: Any, customer: Any, twins: Any) -> None:
    FieldPermission.objects.create(resource="contacts", field="mobile", role="rep", level="hidden")
    (pair,) = contact_duplicates(user=rep1, customer=customer)
    assert pair.reasons == ["same_name"]


def test_finding_costs_the_same_queries_for_few_and_many_contacts(
    rep1: Any, customer: Any, django_assert_num_queries: Any
) -> None:
    ContactFactory(customer=customer, name="甲", mobile="13900000001")
    with CaptureQueriesContext(connection) as few:
        contact_duplicates(user=rep1, customer=customer)
    for n in range(30):
        ContactFactory(customer=customer, name=f"乙{n % 10}", mobile=f"1390000{n % 7:04d}")
    with django_assert_num_queries(len(few.captured_queries)):
        pairs = contact_duplicates(user=rep1, customer=customer)
    assert pairs


def test_reasons_are_said_in_both_languages(rep1: Any, customer: Any, twins: Any) -> None:
    (pair,) = contact_duplicates(user=rep1, customer=customer)
    with translation.override("en"):
        assert pair.descriptions == ["same mobile number", "same name"]
    with translation.override("zh-hans"):
        assert pair.descriptions == ["手机号相同", "姓名相同"]


# --------------------------------------------------------------------------- merge
def _merge(actor: Any, survivor: Contact, duplicate: Contact, **values: str) -> tuple[Contact, AuditEvent]:
    return contact_merge(
        actor=actor,
        survivor=survivor,
        duplicate=duplicate,
        values=values,  # type: ignore[arg-type]
        expected_versions={survivor.pk: survivor.version, duplicate.pk: duplicate.version},
    )


def test_merge_moves_every_reference_keeps_the_chosen_values_and_the_primary_role(
    rep1: Any, customer: Any, twins: Any
) -> None:
    survivor, duplicate = twins
    moved = _referencing(customer, duplicate, count=2)
    untouched = ActivityFactory(customer=customer, contact=survivor)
    merged, event = _merge(rep1, survivor, duplicate, title="duplicate", mobile="duplicate", email="survivor")

    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert (merged.title, merged.mobile, merged.email) == ("采购总监", "13800000000", "wang@example.com")
    assert merged.is_primary, "the duplicate was primary: the survivor takes over"
    assert merged.version == survivor.version + 1
    for model, key in (
        (Activity, "customers.activity:contact"),
        (Feedback, "feedback.feedback:contact"),
        (SatisfactionResponse, "feedback.satisfactionresponse:contact"),
        (Participation, "campaigns.participation:contact"),
    ):
        assert set(model.objects.filter(pk__in=moved[key]).values_list("contact_id", flat=True)) == {survivor.pk}
    assert Activity.objects.get(pk=untouched.pk).contact_id == survivor.pk
    # One event holds all that an unmerge needs.
    assert AuditEvent.objects.filter(resource="customers.contact").exclude(action=Action.CREATE).count() == 1
    assert event.action == Action.MERGE and event.object_id == str(survivor.pk) and event.customer_id == customer.pk
    changes = event.changes
    assert changes["merged"]["before"]["id"] == duplicate.pk
    assert changes["merged"]["before"]["mobile"] == "13800000000"
    assert changes["title"] == {"before": "采购经理", "after": "采购总监"}
    assert changes["is_primary"] == {"before": False, "after": True}
    assert "email" not in changes
    assert changes["moved"]["after"] == moved


def test_a_field_the_actor_may_not_write_keeps_the_survivors_value(rep1: Any, twins: Any) -> None:
    FieldPermission.objects.create(resource="contacts", field="title", role="rep", level="read")
    survivor, duplicate = twins
    merged, event = _merge(rep1, survivor, duplicate, title="duplicate", mobile="duplicate")
    assert merged.title == "采购经理"
    assert "title" not in event.changes


def test_a_hidden_field_of_the_merged_record_is_never_shown_in_the_audit(rep1: Any, twins: Any) -> None:
    survivor, duplicate = twins
    _merged, event = _merge(rep1, survivor, duplicate)
    FieldPermission.objects.create(resource="contacts", field="mobile", role="rep", level="hidden")
    FieldPermission.objects.create(resource="contacts", field="name", role="rep", level="masked")
    shown = mask_changes(policy_for(rep1), event.resource, event.changes)
    assert "mobile" not in shown["merged"]["before"]
    assert shown["merged"]["before"]["name"] != duplicate.name


def test_merge_is_refused_for_a_stale_version_another_customer_or_itself(rep1: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    with pytest.raises(VersionConflict):
        contact_merge(
            actor=rep1,
            survivor=survivor,
            duplicate=duplicate,
            values={},
            expected_versions={survivor.pk: survivor.version, duplicate.pk: duplicate.version - 1},
        )
    elsewhere = ContactFactory(customer=CustomerFactory(owner=rep1))
    with pytest.raises(DomainError, match="same customer"):
        _merge(rep1, survivor, elsewhere)
    with pytest.raises(DomainError):
        _merge(rep1, survivor, survivor)
    assert Contact.objects.filter(pk__in=[survivor.pk, duplicate.pk]).count() == 2


def test_another_reps_contacts_cannot_be_merged(rep2: Any, twins: Any) -> None:
    survivor, duplicate = twins
    with pytest.raises(DomainError):
        _merge(rep2, survivor, duplicate)
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_merge_costs_the_same_queries_for_one_and_many_references(rep1: Any, customer: Any) -> None:
    counts = []
    for many in (1, 15):
        survivor = ContactFactory(customer=customer, name="甲")
        duplicate = ContactFactory(customer=customer, name="甲")
        _referencing(customer, duplicate, count=many)
        with CaptureQueriesContext(connection) as queries:
            _merge(rep1, survivor, duplicate)
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------------- unmerge
def test_unmerge_brings_everything_back(rep1: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    moved = _referencing(customer, duplicate)
    merged, event = _merge(rep1, survivor, duplicate, title="duplicate")
    # A record moved by the merge and then given to another contact stays where it is now.
    third = ContactFactory(customer=customer, name="李四", mobile="13700000000")
    Feedback.objects.filter(pk__in=moved["feedback.feedback:contact"]).update(contact=third)

    back = contact_unmerge(actor=rep1, survivor=merged, event_id=event.pk, expected_version=merged.version)

    assert back.pk == duplicate.pk
    restored = Contact.objects.get(pk=duplicate.pk)
    assert (restored.name, restored.mobile, restored.title, restored.is_primary) == (
        "王 芳",
        "13800000000",
        "采购总监",
        True,
    )
    assert restored.created_at == duplicate.created_at
    kept = Contact.objects.get(pk=survivor.pk)
    assert (kept.title, kept.is_primary) == ("采购经理", False)
    assert Activity.objects.get(pk=moved["customers.activity:contact"][0]).contact_id == duplicate.pk
    assert Participation.objects.get(pk=moved["campaigns.participation:contact"][0]).contact_id == duplicate.pk
    assert Feedback.objects.get(pk=moved["feedback.feedback:contact"][0]).contact_id == third.pk
    undo = AuditEvent.objects.filter(action=Action.UNMERGE).get()
    assert undo.changes["merge_event"]["after"] == event.pk
    assert undo.changes["moved"]["after"]["customers.activity:contact"] == moved["customers.activity:contact"]


def test_unmerge_is_refused_twice_late_stale_or_for_another_contact(rep1: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    merged, event = _merge(rep1, survivor, duplicate)
    other = ContactFactory(customer=customer, name="赵六")
    with pytest.raises(DomainError, match="not a merge"):
        contact_unmerge(actor=rep1, survivor=other, event_id=event.pk, expected_version=other.version)
    with pytest.raises(VersionConflict):
        contact_unmerge(actor=rep1, survivor=merged, event_id=event.pk, expected_version=merged.version - 1)
    with override_settings(CRM_UNMERGE_DAYS=0), pytest.raises(DomainError, match="no longer"):
        contact_unmerge(actor=rep1, survivor=merged, event_id=event.pk, expected_version=merged.version)
    back = contact_unmerge(actor=rep1, survivor=merged, event_id=event.pk, expected_version=merged.version)
    kept = Contact.objects.get(pk=survivor.pk)
    with pytest.raises(DomainError, match="undone already"):
        contact_unmerge(actor=rep1, survivor=kept, event_id=event.pk, expected_version=kept.version)
    assert Contact.objects.filter(pk=back.pk).count() == 1


def test_unmerge_needs_the_right_to_write_what_the_merge_changed(rep1: Any, twins: Any) -> None:
    survivor, duplicate = twins
    merged, event = _merge(rep1, survivor, duplicate, title="duplicate")
    FieldPermission.objects.create(resource="contacts", field="title", role="rep", level="read")
    with pytest.raises(NotPermitted):
        contact_unmerge(actor=rep1, survivor=merged, event_id=event.pk, expected_version=merged.version)


# ----------------------------------------------------------------------------- API
def test_api_lists_merges_and_unmerges(api: Any, rep1: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    client = api(rep1)
    pairs = client.get(f"/api/v1/customers/{customer.pk}/contact-duplicates/").json()
    assert [(p["first"]["id"], p["second"]["id"]) for p in pairs] == [(survivor.pk, duplicate.pk)]
    assert [r["code"] for r in pairs[0]["reasons"]] == ["same_mobile", "same_name"]

    body = {"duplicate": duplicate.pk, "duplicate_version": duplicate.version, "values": {"title": "duplicate"}}
    url = f"/api/v1/contacts/{survivor.pk}/merge/"
    assert client.post(url, body, format="json").status_code == 428
    stale = client.post(url, body, format="json", HTTP_IF_MATCH=f'"{survivor.version + 1}"')
    assert stale.status_code == 412
    bad = client.post(url, {**body, "values": {"customer": "duplicate"}}, format="json", HTTP_IF_MATCH='"1"')
    assert bad.status_code == 400
    answer = client.post(url, body, format="json", HTTP_IF_MATCH=f'"{survivor.version}"')
    assert answer.status_code == 200, answer.json()
    assert answer.json()["title"] == "采购总监" and answer["ETag"] == f'"{survivor.version + 1}"'
    event = int(answer["Merge-Event"])

    undo = client.post(
        f"/api/v1/contacts/{survivor.pk}/unmerge/", {"event": event}, format="json", HTTP_IF_MATCH=answer["ETag"]
    )
    assert undo.status_code == 200, undo.json()
    assert undo["Location"] == f"/api/v1/contacts/{duplicate.pk}/"
    again = client.post(
        f"/api/v1/contacts/{survivor.pk}/unmerge/",
        {"event": event},
        format="json",
        HTTP_IF_MATCH=undo["ETag"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 400 and "undone already" in again.json()["message"]


def test_api_another_reps_contacts_are_404(api: Any, rep2: Any, outsider: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    mine = ContactFactory(customer=CustomerFactory(owner=rep2))
    body = {"duplicate": duplicate.pk, "duplicate_version": duplicate.version}
    for url in (f"/api/v1/contacts/{survivor.pk}/merge/", f"/api/v1/contacts/{mine.pk}/merge/"):
        assert api(rep2).post(url, body, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    assert api(outsider).get(f"/api/v1/customers/{customer.pk}/contact-duplicates/").status_code == 404
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_api_merge_by_a_manager_of_the_team(api: Any, manager: Any, twins: Any) -> None:
    survivor, duplicate = twins
    body = {"duplicate": duplicate.pk, "duplicate_version": duplicate.version}
    answer = api(manager).post(
        f"/api/v1/contacts/{survivor.pk}/merge/", body, format="json", HTTP_IF_MATCH=f'"{survivor.version}"'
    )
    assert answer.status_code == 200
