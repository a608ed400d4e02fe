"""One customer by its id, read with statements prepared per scope form, is exactly what
the scope's queryset gives: the same records for every role, the same contacts in the same
order, the same answer from the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access.scope import EVERYTHING, NOTHING, OWN, TEAMS_AND_OWN, ScopedStatement, scope_shape
from crm.accounts.choices import Role
from customers.api.serializers import CustomerSerializer
from customers.models import Contact, Customer
from customers.selectors import customer_api_list, customer_one
from tests.factories import ContactFactory, CustomerFactory, UserFactory, tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(rep1: Any, rep2: Any, outsider: Any, manager: Any, team: Any, other_team: Any) -> list[Customer]:
    """Customers of each owner, one of them assigned to the manager's team but owned by an
    outsider (the manager sees it by the team), with contacts in a mixed order."""
    customers = [
        CustomerFactory(owner=rep1, team=team, name="甲", tier=tier("gold")),
        CustomerFactory(owner=rep2, team=team, name="乙"),
        CustomerFactory(owner=outsider, team=other_team, name="丙"),
        CustomerFactory(owner=outsider, team=team, name="丁"),
        CustomerFactory(owner=manager, team=other_team, name="戊"),
    ]
    for customer in customers:
        ContactFactory(customer=customer, name="王五", is_primary=False)
        ContactFactory(customer=customer, name="张三", is_primary=True)
        ContactFactory(customer=customer, name="李四", is_primary=False)
    return customers


def _cast(rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any, integration_user: Any) -> list[Any]:
    inactive = UserFactory(username="left", role=Role.REP, team=rep1.team, is_active=False)
    no_role = UserFactory(username="viewer", role="", team=rep1.team)
    return [rep1, rep2, outsider, manager, admin_user, integration_user, inactive, no_role]


def test_every_role_finds_what_its_scope_holds(
    book: list[Customer], rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any, integration_user: Any
) -> None:
    missing = max(c.pk for c in book) + 1000
    for user in _cast(rep1, rep2, outsider, manager, admin_user, integration_user):
        for pk in [*(c.pk for c in book), missing]:
            expected = list(customer_api_list(user=user).filter(pk=pk))
            found = customer_one(user=user, pk=pk)
            assert (found is None) == (not expected), (user.username, pk)
            if found is None:
                continue
            (want,) = expected
            assert {f.attname: getattr(found, f.attname) for f in Customer._meta.concrete_fields} == {
                f.attname: getattr(want, f.attname) for f in Customer._meta.concrete_fields
            }
            with CaptureQueriesContext(connection) as queries:
                contacts = list(found.contacts.all())
                assert (found.owner, found.team, found.tier) == (want.owner, want.team, want.tier)
                assert all(contact.customer is found for contact in contacts)
            assert len(queries) == 0, "the contacts and related records came with the customer"
            assert [c.pk for c in contacts] == [c.pk for c in want.contacts.all()]
            assert [c.name for c in contacts][0] == "张三"  # the primary contact first


def test_the_scope_forms_follow_the_roles(
    rep1: Any, outsider: Any, manager: Any, admin_user: Any, integration_user: Any
) -> None:
    rep1.is_superuser = True
    assert scope_shape(rep1) == EVERYTHING  # a superuser sees everything, whatever the role
    rep1.is_superuser = False
    assert [scope_shape(u) for u in (rep1, outsider, manager, admin_user, integration_user)] == [
        OWN,
        OWN,
        TEAMS_AND_OWN,
        EVERYTHING,
        EVERYTHING,
    ]
    rep1.is_active = False
    assert scope_shape(rep1) == NOTHING


def test_a_user_who_sees_nothing_reads_nothing(book: list[Customer], rep1: Any) -> None:
    rep1.is_active = False
    with CaptureQueriesContext(connection) as queries:
        assert customer_one(user=rep1, pk=book[0].pk) is None
    assert len(queries) == 0


def test_the_statements_are_compiled_once_per_scope_form(
    book: list[Customer], rep1: Any, rep2: Any, manager: Any, admin_user: Any, watch_compiling: Any
) -> None:
    statement = ScopedStatement(lambda user, pk: Customer.objects.filter(pk=pk, owner=user), int)
    assert [c.pk for c in statement(rep1, book[0].pk)] == [book[0].pk]
    compiled = watch_compiling()
    assert statement(rep2, book[0].pk) == []  # another rep: the same statement, another id
    assert [c.pk for c in statement(rep2, book[1].pk)] == [book[1].pk]
    assert compiled == []
    for user in (rep1, manager, admin_user):  # the customer and its contacts: compiled
        customer_one(user=user, pk=book[0].pk)  # once for each form, then never again
    compiled.clear()
    for user in (rep1, rep2, manager, admin_user):
        customer_one(user=user, pk=book[0].pk)
    assert compiled == []


def test_the_api_answers_the_same_as_the_general_path(
    book: list[Customer], api: Any, rep1: Any, manager: Any, admin_user: Any
) -> None:
    """A detail without parameters takes the prepared statements; with one that changes
    nothing (a language given in the query) it takes the general path: the same answer."""
    for user in (rep1, manager, admin_user):
        client = api(user)
        for customer in book:
            prepared = client.get(f"/api/v1/customers/{customer.pk}/")
            general = client.get(f"/api/v1/customers/{customer.pk}/", {"unused": "1"})
            assert prepared.status_code == general.status_code
            if prepared.status_code == 200:
                assert prepared.json() == general.json()
                assert prepared["ETag"] == general["ETag"]
            else:
                assert prepared.status_code == 404 and prepared.json() == general.json()


def test_the_serializer_renders_the_prepared_record_as_the_queryset_s(book: list[Customer], manager: Any) -> None:
    for customer in book:
        one = customer_one(user=manager, pk=customer.pk)
        if one is None:
            continue
        (listed,) = customer_api_list(user=manager).filter(pk=customer.pk)
        context = {"request": None}
        assert CustomerSerializer(one, context=context).data == CustomerSerializer(listed, context=context).data


@pytest.mark.parametrize("key", ["abc", "1.0", "99999999999999999999999", "-1", "１２", "0"])
def test_a_key_that_is_no_id_answers_404(api: Any, rep1: Any, book: list[Customer], key: str) -> None:
    assert api(rep1).get(f"/api/v1/customers/{key}/").status_code == 404


def test_a_detail_reads_the_customer_and_its_contacts_in_two_statements(
    api: Any, rep1: Any, book: list[Customer]
) -> None:
    client = api(rep1)
    client.get(f"/api/v1/customers/{book[0].pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/customers/{book[0].pk}/").status_code == 200
    reads = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "customers_customer"' in sql for sql in reads) == 1
    assert sum('FROM "customers_contact"' in sql for sql in reads) == 1
    assert Contact.objects.filter(customer=book[0]).count() == 3


def test_a_list_page_shows_the_contacts_the_prefetch_shows(
    book: list[Customer], api: Any, rep1: Any, manager: Any, admin_user: Any
) -> None:
    """The list attaches each page's contacts with one prepared statement: the same rows,
    in the same order, as the selector's ``prefetch_related``."""
    for user in (rep1, manager, admin_user):
        answer = api(user).get("/api/v1/customers/", {"page_size": 3})
        assert answer.status_code == 200
        shown = answer.json()["results"]
        ids = [row["id"] for row in shown]
        expected = {c.pk: c for c in customer_api_list(user=user).filter(pk__in=ids)}
        context = {"request": answer.wsgi_request}
        for row in shown:
            want = CustomerSerializer(expected[row["id"]], context=context).data
            assert row["contacts"] == want["contacts"]
            assert row["completeness"] == want["completeness"]


def test_a_customer_without_contacts_gets_none(api: Any, rep1: Any) -> None:
    lonely = CustomerFactory(owner=rep1, team=rep1.team)
    assert api(rep1).get(f"/api/v1/customers/{lonely.pk}/").json()["contacts"] == []
    (row,) = api(rep1).get("/api/v1/customers/").json()["results"]
    assert row["contacts"] == []
