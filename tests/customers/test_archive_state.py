"""The archive state the database keeps per customer (what archive health counts), and
the figures it keeps per team and owner, through every kind of write to customers and
their contacts: they always equal what the customers themselves say now."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from customers.completeness import COMPLETE_PERCENT, FIELDS, completeness
from customers.models import ArchiveFigure, ArchiveState, Contact, Customer
from tests.concurrent import held_open
from tests.factories import ContactFactory, CustomerFactory, UserFactory, tier


def _state(customer: Customer) -> tuple[Any, ...]:
    row = ArchiveState.objects.get(customer_id=customer.pk)
    return row.team_id, row.owner_id, row.tier_id, row.verify_since, row.field_points + row.contact_points


def _recount(customer: Customer) -> tuple[Any, ...]:
    fresh = Customer.objects.get(pk=customer.pk)
    since = fresh.last_verified_at or fresh.created_at
    return fresh.team_id, fresh.owner_id, fresh.tier_id, since, completeness(fresh).percent


def _all_agree() -> None:
    customers = list(Customer.objects.all())
    assert ArchiveState.objects.count() == len(customers)
    for customer in customers:
        assert _state(customer) == _recount(customer), customer
    assert _figures() == _figures_recounted(customers)


def _figures() -> dict[tuple[Any, Any], tuple[int, int, int]]:
    """The kept figures per team and owner: the sums of their rows, none left at zero."""
    sums: dict[tuple[Any, Any], list[int]] = {}
    for row in ArchiveFigure.objects.all():
        kept = sums.setdefault((row.team_id, row.owner_id), [0, 0, 0])
        kept[0], kept[1], kept[2] = kept[0] + row.customers, kept[1] + row.complete, kept[2] + row.points
    return {key: (n, c, p) for key, (n, c, p) in sums.items() if (n, c, p) != (0, 0, 0)}


def _figures_recounted(customers: list[Customer]) -> dict[tuple[Any, Any], tuple[int, int, int]]:
    sums: dict[tuple[Any, Any], tuple[int, int, int]] = {}
    for customer in customers:
        percent = completeness(customer).percent
        n, c, p = sums.get((customer.team_id, customer.owner_id), (0, 0, 0))
        sums[(customer.team_id, customer.owner_id)] = (n + 1, c + (percent >= COMPLETE_PERCENT), p + percent)
    return sums


@pytest.mark.django_db
def test_every_write_to_a_customer_is_carried_over(rep1: Any, rep2: Any, outsider: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    assert _state(customer) == _recount(customer)
    customer.address, customer.tax_id, customer.annual_revenue = "浦东新区 1 号", "91310000MA1FL00001", Decimal(9)
    customer.save()  # a whole-row save
    assert _state(customer) == _recount(customer)
    Customer.objects.filter(pk=customer.pk).update(owner=outsider, team=outsider.team)  # reassigned
    Customer.objects.filter(pk=customer.pk).update(tier=tier("gold"), last_verified_at=timezone.now())
    Customer.objects.filter(pk=customer.pk).update(industry="other", city="")  # points lost
    assert _state(customer) == _recount(customer)
    Customer.objects.filter(pk=customer.pk).update(team=None)
    assert _state(customer) == _recount(customer)
    _all_agree()
    customer.delete()
    assert not ArchiveState.objects.filter(customer_id=customer.pk).exists()
    _all_agree()


@pytest.mark.django_db
def test_contacts_give_and_take_their_points(rep1: Any) -> None:
    first, second = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    base = _state(first)[4]
    key = ContactFactory(customer=first, mobile="13800000000")
    assert _state(first)[4] == base + 14
    boss = ContactFactory(customer=first, mobile="", is_decision_maker=True)
    assert _state(first)[4] == base + 22
    Contact.objects.filter(pk=key.pk).update(mobile="")  # no mobile left
    assert _state(first)[4] == base + 8
    Contact.objects.filter(pk=boss.pk).update(customer=second)  # moved, as a merge moves it
    assert _state(first)[4] == base and _state(second) == _recount(second)
    Contact.objects.filter(pk=boss.pk).update(notes="只改备注")  # nothing that counts
    Contact.objects.all().delete()
    _all_agree()


@pytest.mark.django_db
def test_set_based_statements_and_an_emptied_table(rep1: Any) -> None:
    owner = UserFactory(team=rep1.team)
    customers = [CustomerFactory(owner=rep1) for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO customers_contact (created_at, updated_at, version, customer_id, name, title, department,
                   email, phone, mobile, wechat, social_accounts, is_primary, is_decision_maker, marketing_consent,
                   notes)
               SELECT now(), now(), 1, c, '联系人', '', '', '', '', '13900000000', '', '{}', false, c %% 2 = 0,
                      false, ''
               FROM unnest(%s::bigint[]) AS c""",
            [[c.pk for c in customers]],
        )
    Customer.objects.filter(owner=rep1).update(owner=owner, website="https://example.com")
    _all_agree()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a TRUNCATE may not leave pending
        cursor.execute("TRUNCATE customers_customer CASCADE")
    assert not ArchiveState.objects.exists()
    assert _figures() == {}


@pytest.mark.django_db
def test_the_database_scores_every_archive_as_the_application_does(rep1: Any) -> None:
    """customers_field_points and customers_contact_points against FIELDS: every field
    of the template, filled or not, in many combinations."""
    chance = random.Random(7)
    filled: dict[str, Any] = {
        "short_name": "简称", "industry": "manufacturing", "region": "east", "city": "上海", "address": "1 号",
        "phone": "021-12345678", "website": "https://example.com", "company_size": "large", "employee_count": 10,
        "annual_revenue": Decimal(1), "credit_limit": Decimal(1), "source": "referral",
    }  # fmt: skip
    empty: dict[str, Any] = {
        "short_name": "", "industry": "other", "region": "", "city": "", "address": "", "phone": "", "website": "",
        "company_size": "", "employee_count": None, "annual_revenue": None, "credit_limit": None, "source": "",
    }  # fmt: skip
    assert set(filled) | {"name", "tax_id", "key_contact", "decision_maker"} == {f.key for f in FIELDS}
    for n in range(40):
        values = {name: (filled if chance.random() < 0.5 else empty)[name] for name in filled}
        if chance.random() < 0.5:
            values["industry"] = ""
        tax_id = f"91310000MA1FL{n:05d}" if chance.random() < 0.5 else ""
        customer = CustomerFactory(owner=rep1, tax_id=tax_id, **values)
        if chance.random() < 0.5:
            ContactFactory(customer=customer, mobile="13800000000" if chance.random() < 0.5 else "",
                           is_decision_maker=chance.random() < 0.5)  # fmt: skip
    _all_agree()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transactions_adding_contacts_to_one_customer_are_both_counted(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    base = _state(customer)[4]
    with held_open(lambda: ContactFactory(customer=customer, mobile="13800000000")):
        ContactFactory(customer=customer, mobile="", is_decision_maker=True)
    assert _state(customer)[4] == base + 22


@pytest.mark.django_db
def test_archive_health_counts_the_kept_state(manager: Any, rep1: Any) -> None:
    """A customer just verified, just completed or just reassigned counts at once."""
    from workspace.selectors import archive_health

    customer = CustomerFactory(owner=rep1)
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    before = archive_health(user=manager).total
    assert (before.customers, before.verified) == (1, 0)
    Customer.objects.filter(pk=customer.pk).update(last_verified_at=timezone.now())
    assert archive_health(user=manager).total.verified == 1
    Customer.objects.filter(pk=customer.pk).update(owner=UserFactory(), team=None)
    assert archive_health(user=manager).total.customers == 0
