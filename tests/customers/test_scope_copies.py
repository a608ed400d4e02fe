"""Alerts, feedback and service records carry a copy of their customer's owner and team,
and are scoped by it: every user sees exactly the records of the customers they see,
whatever was written, however the customer moved, and whoever wrote it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections, transaction

from crm.access.scope import customer_scope_q, scoped_queryset
from crm.accounts.choices import Role
from customers.models import Customer
from feedback.models import Feedback, ServiceRecord
from risk.models import RiskAlert
from tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    RiskAlertFactory,
    ServiceRecordFactory,
    TeamFactory,
    UserFactory,
)

MODELS = (RiskAlert, Feedback, ServiceRecord)


def _records(customer: Customer) -> list[Any]:
    return [
        RiskAlertFactory(customer=customer),
        FeedbackFactory(customer=customer),
        ServiceRecordFactory(customer=customer),
    ]


def _cast(rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any) -> list[Any]:
    return [rep1, rep2, outsider, manager, admin_user, UserFactory(username="gone", role=Role.REP, is_active=False)]


def _assert_same_as_through_the_customer(users: list[Any]) -> None:
    for model in MODELS:
        for user in users:
            copied = set(scoped_queryset(model, user).values_list("pk", flat=True))
            through = set(model.objects.filter(customer_scope_q(user, "customer")).values_list("pk", flat=True))
            assert copied == through, (model.__name__, user.username)


def _copies(model: Any) -> set[tuple[Any, ...]]:
    return set(
        model.objects.values_list("customer_id", "customer_owner_id", "customer_team_id", "customer__owner_id",
                                  "customer__team_id")
    )  # fmt: skip


@pytest.mark.django_db
def test_every_user_sees_the_records_of_the_customers_they_see(
    rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any, team: Any, other_team: Any
) -> None:
    users = _cast(rep1, rep2, outsider, manager, admin_user)
    mine = CustomerFactory(owner=rep1, team=team)
    theirs = CustomerFactory(owner=outsider, team=other_team)
    teamless = CustomerFactory(owner=rep2, team=None)
    managed = CustomerFactory(owner=outsider, team=team)  # the manager sees it by its team
    for customer in (mine, theirs, teamless, managed):
        _records(customer)
    _assert_same_as_through_the_customer(users)
    assert {a.customer_id for a in scoped_queryset(RiskAlert, manager)} == {mine.pk, managed.pk}
    # Moved to another owner, another team, no team; one statement moving many at once.
    Customer.objects.filter(pk=mine.pk).update(owner=outsider)
    Customer.objects.filter(pk=theirs.pk).update(team=team)
    Customer.objects.filter(pk=managed.pk).update(team=None)
    _assert_same_as_through_the_customer(users)
    Customer.objects.filter(pk__in=[mine.pk, theirs.pk, teamless.pk]).update(owner=rep2, team=other_team)
    _assert_same_as_through_the_customer(users)
    for model in MODELS:
        assert all(row[1:3] == row[3:5] for row in _copies(model))


@pytest.mark.django_db
def test_what_the_application_writes_in_the_copies_is_replaced(rep1: Any, outsider: Any, team: Any) -> None:
    customer = CustomerFactory(owner=rep1, team=team)
    other = CustomerFactory(owner=outsider, team=None)
    alert, feedback, service = _records(customer)
    for record in (alert, feedback, service):
        type(record).objects.filter(pk=record.pk).update(customer_owner=outsider, customer_team=None)
        record.refresh_from_db()
        assert (record.customer_owner_id, record.customer_team_id) == (rep1.pk, team.pk)
        record.customer = other  # moved to another customer (as a merge moves them)
        record.save()
        record.refresh_from_db()
        assert (record.customer_owner_id, record.customer_team_id) == (outsider.pk, None)
    (written,) = Feedback.objects.bulk_create(  # one INSERT naming wrong copies
        [Feedback(customer=customer, customer_owner=outsider, customer_team=None, kind="complaint", subject="x",
                  received_at=feedback.received_at)]
    )  # fmt: skip
    written.refresh_from_db()
    assert (written.customer_owner_id, written.customer_team_id) == (rep1.pk, team.pk)


@pytest.mark.django_db
def test_a_rolled_back_move_leaves_the_copies(rep1: Any, outsider: Any, team: Any) -> None:
    customer = CustomerFactory(owner=rep1, team=team)
    alert = _records(customer)[0]
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(owner=outsider)
        transaction.set_rollback(True)
    alert.refresh_from_db()
    assert alert.customer_owner_id == rep1.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_record_written_while_its_customer_moves_follows_the_move(reference_risk_rules: None) -> None:
    """The customer moves in one transaction while another writes a record of it: the
    writer waits for the move and copies the new owner (or the move waits for the writer
    and carries its record along): never the old owner."""
    team = TeamFactory(name="甲组")
    old, new = UserFactory(username="old", role=Role.REP, team=team), UserFactory(username="new", role=Role.REP)
    customer = CustomerFactory(owner=old, team=team)
    moved, written = threading.Event(), threading.Event()

    def move() -> None:
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(owner=new, team=None)
                moved.set()
                written.wait(timeout=2)  # the writer is blocked meanwhile: it never sets this
        finally:
            connections.close_all()

    mover = threading.Thread(target=move)
    mover.start()
    moved.wait(timeout=10)
    try:
        record = FeedbackFactory(customer=customer)  # waits for the move to commit
    finally:
        written.set()
        mover.join()
    record.refresh_from_db()
    assert (record.customer_owner_id, record.customer_team_id) == (new.pk, None)
    Feedback.objects.all().delete()
    Customer.objects.all().delete()
