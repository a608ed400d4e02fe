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
