"""Customer services called directly: versions, atomicity, ownership rules."""

from __future__ import annotations

from typing import Any

import pytest

from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, VersionConflict
from customers import services
from customers.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_second_writer_with_the_same_version_gets_a_conflict(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    services.customer_update(actor=rep1, instance=customer, data={"city": "苏州"}, expected_version=1)
    with pytest.raises(VersionConflict) as err:
        services.customer_update(actor=rep1, instance=customer, data={"city": "无锡"}, expected_version=1)
    assert err.value.current_version == 2
    customer.refresh_from_db()
    assert customer.city == "苏州"


def test_update_without_changes_writes_no_event_and_keeps_version(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, city="上海")
    services.customer_update(actor=rep1, instance=customer, data={"city": "上海"}, expected_version=1)
    customer.refresh_from_db()
    assert customer.version == 1
    assert not AuditEvent.objects.filter(action="update").exists()


def test_failed_write_leaves_no_row_and_no_event(rep1: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the model's validation error
        services.customer_create(actor=rep1, data={"name": "Bad", "influence_score": 50})
    assert not Customer.objects.filter(name="Bad").exists()
    assert not AuditEvent.objects.exists()


def test_rep_cannot_reassign_and_nothing_changes(rep1: Any, rep2: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    with pytest.raises(DomainError):
        services.customer_update(actor=rep1, instance=customer, data={"owner": rep2}, expected_version=1)
    customer.refresh_from_db()
    assert customer.owner == rep1 and customer.version == 1


def test_consent_change_is_stamped(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    assert customer.consent_updated_at is None
    updated = services.customer_update(
        actor=rep1, instance=customer, data={"consent_marketing": True}, expected_version=1
    )
    assert updated.consent_updated_at is not None


def test_customer_codes_come_from_a_sequence_and_skip_taken_ones(rep1: Any) -> None:
    first = services.customer_create(actor=rep1, data={"name": "One"})
    number = int(first.code[1:])
    CustomerFactory(owner=rep1, code=f"C{number + 1:07d}")
    second = services.customer_create(actor=rep1, data={"name": "Two"})
    assert second.code == f"C{number + 2:07d}"


def test_only_one_primary_contact_even_when_moving_a_contact(rep1: Any) -> None:
    a = CustomerFactory(owner=rep1)
    b = CustomerFactory(owner=rep1)
    primary_b = ContactFactory(customer=b, is_primary=True)
    mover = ContactFactory(customer=a, is_primary=True)
    services.contact_update(actor=rep1, instance=mover, data={"customer": b, "is_primary": True}, expected_version=1)
    assert Contact.objects.filter(customer=b, is_primary=True).get() == mover
    primary_b.refresh_from_db()
    assert not primary_b.is_primary


def test_deleting_a_customer_audits_what_goes_with_it(manager: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    contacts = [ContactFactory(customer=customer) for _ in range(2)]
    services.customer_delete(actor=manager, instance=customer, expected_version=1)
    deleted = set(AuditEvent.objects.filter(action="delete").values_list("resource", "object_id"))
    assert deleted == {("customers.customer", str(customer.pk))} | {("customers.contact", str(c.pk)) for c in contacts}
    assert not Contact.objects.filter(pk__in=[c.pk for c in contacts]).exists()


def test_a_large_cascade_is_summarised_in_one_event(manager: Any, rep1: Any, monkeypatch: Any) -> None:
    from crm.core import services as core_services

    monkeypatch.setattr(core_services, "CASCADE_EVENTS_MAX", 2)
    customer = CustomerFactory(owner=rep1)
    for _ in range(3):
        ContactFactory(customer=customer)
    services.customer_delete(actor=manager, instance=customer, expected_version=1)
    summary = AuditEvent.objects.get(action="delete", object_id="")
    assert summary.changes["summary"]["after"]["cascaded"] == {"customers.contact": 3}
    assert summary.customer_id == customer.pk
