"""Archive health's figures the database keeps per team and owner (customers, complete
ones, points): folded and counted again without changing a sum, and read with who is
overdue by each tier's own period, as the customers themselves say."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from crm.accounts.choices import Role
from customers import tasks
from customers.completeness import COMPLETE_PERCENT, completeness
from customers.models import ArchiveFigure, Customer
from customers.verification import is_due
from tests.factories import ContactFactory, CustomerFactory, UserFactory, tier
from tiers.models import Tier
from workspace.selectors import archive_health

pytestmark = pytest.mark.django_db


def _sums() -> dict[tuple[Any, Any], tuple[int, int, int]]:
    sums: dict[tuple[Any, Any], tuple[int, int, int]] = {}
    for row in ArchiveFigure.objects.all():
        n, c, p = sums.get((row.team_id, row.owner_id), (0, 0, 0))
        sums[(row.team_id, row.owner_id)] = (n + row.customers, c + row.complete, p + row.points)
    return {key: value for key, value in sums.items() if value != (0, 0, 0)}


def test_folding_and_counting_again_keep_every_sum(rep1: Any, rep2: Any, outsider: Any) -> None:
    for owner in (rep1, rep1, rep2, outsider):
        customer = CustomerFactory(owner=owner)
        ContactFactory(customer=customer, mobile="13800000000")
    Customer.objects.filter(owner=rep2).update(owner=rep1)
    Customer.objects.filter(owner=outsider).update(website="https://example.com")
    kept = _sums()
    assert ArchiveFigure.objects.count() > len(kept)  # each statement appended its difference
    tasks.compact_archive_figures()
    assert _sums() == kept and ArchiveFigure.objects.count() == len(kept)  # one row per key
    tasks.compact_archive_figures()  # twice: nothing changes
    assert _sums() == kept and ArchiveFigure.objects.count() == len(kept)
    ArchiveFigure.objects.update(customers=999)  # gone wrong (a restore, triggers off)
    tasks.rebuild_archive_figures()
    assert _sums() == kept


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_counting_again_outside_a_transaction_takes_its_own_snapshot(rep1: Any) -> None:
    CustomerFactory(owner=rep1)
    kept = _sums()
    ArchiveFigure.objects.all().delete()
    tasks.rebuild_archive_figures()  # outside any transaction: its own, REPEATABLE READ
    assert _sums() == kept == {(rep1.team_id, rep1.pk): (1, *_complete_and_points(rep1))}
    with connection.cursor() as cursor:  # and the lock is given back
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('customers_archive_figures'))")
        assert cursor.fetchone()[0] is True
        cursor.execute("SELECT pg_advisory_unlock(hashtext('customers_archive_figures'))")


def _complete_and_points(owner: Any) -> tuple[int, int]:
    percents = [completeness(customer).percent for customer in Customer.objects.filter(owner=owner)]
    return sum(p >= COMPLETE_PERCENT for p in percents), sum(percents)


def test_the_database_counts_complete_at_the_applications_share() -> None:
    with connection.cursor() as cursor:
        for function in ("customers_archive_figures", "customers_archive_figures_rebuild"):
            cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [function])
            body = cursor.fetchone()[0]
            assert f">= {COMPLETE_PERCENT}" in body and ">= " not in body.replace(f">= {COMPLETE_PERCENT}", "")


def _since(customer: Customer, days_ago: float) -> Customer:
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        created_at=now - dt.timedelta(days=400), last_verified_at=now - dt.timedelta(days=days_ago)
    )
    return Customer.objects.get(pk=customer.pk)


def test_verified_follows_each_tiers_own_period(
    manager: Any, rep1: Any, rep2: Any, outsider: Any, admin_user: Any, settings: Any
) -> None:
    """Gold asks every 30 days, silver sets none (the default, 120 here), no tier the
    default: customers just inside and just outside each period."""
    settings.CRM_VERIFY_DAYS = 120
    Tier.objects.filter(code="gold").update(verify_days=30)
    Tier.objects.filter(code="silver").update(verify_days=None)
    gold, silver = tier("gold"), tier("silver")
    cases = [
        (rep1, gold, 29.9),
        (rep1, gold, 30.1),
        (rep1, silver, 119.9),
        (rep2, silver, 120.1),
        (rep2, None, 119.9),
        (rep2, None, 150),
        (outsider, gold, 1),
        (outsider, None, 121),
    ]
    customers = [_since(CustomerFactory(owner=owner, tier=grade), days) for owner, grade, days in cases]
    unteamed = UserFactory(username="loner", role=Role.REP, team=None)
    customers.append(_since(CustomerFactory(owner=unteamed, team=None), 10))

    def verified(owners: list[Any]) -> int:
        return sum(not is_due(c) for c in customers if c.owner_id in {o.pk for o in owners})

    health = archive_health(user=manager)
    assert (health.total.customers, health.total.verified) == (6, verified([rep1, rep2]))
    assert {row.owner_id: row.verified for row in health.owners} == {rep1.pk: 2, rep2.pk: 1}
    everyone = archive_health(user=admin_user)
    assert (everyone.total.customers, everyone.total.verified) == (9, verified([rep1, rep2, outsider, unteamed]))
    assert {row.team_id: (row.customers, row.verified) for row in everyone.teams} == {
        rep1.team_id: (6, 3),
        outsider.team_id: (2, 1),
        None: (1, 1),
    }
    opened = archive_health(user=admin_user, team=outsider.team_id)
    assert [(row.owner_id, row.customers, row.verified) for row in opened.owners] == [(outsider.pk, 2, 1)]
    # The figures folded away: the same answers.
    tasks.compact_archive_figures()
    assert archive_health(user=manager).total == health.total
