"""The customer list as it opens (no search, filter or sort named) is read with statements
compiled once per scope form and counted from the figures kept per team and owner: for
every role, every page and every moment, exactly what the general path answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.accounts.choices import Role
from customers.api.views import CustomerViewSet
from customers.models import Customer
from customers.selectors import LIST_ORDER, customer_count, customer_list
from customers.services import customer_delete, customer_update
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(rep1: Any, rep2: Any, outsider: Any, manager: Any, team: Any, other_team: Any) -> list[Customer]:
    """Customers of each owner, some with the same name (the id breaks the tie), one of the
    manager's team owned by an outsider and one the manager owns in another team."""
    customers = []
    for index, (owner, where) in enumerate(
        [(rep1, team), (rep2, team), (outsider, other_team), (outsider, team), (manager, other_team)] * 3
    ):
        customer = CustomerFactory(owner=owner, team=where, name=f"客户{index % 4}")
        ContactFactory(customer=customer, name="张三", is_primary=True)
        customers.append(customer)
    return customers


def _cast(rep1: Any, rep2: Any, outsider: Any, manager: Any, admin_user: Any, integration_user: Any) -> list[Any]:
    inactive = UserFactory(username="left", role=Role.REP, team=rep1.team, is_active=False)
    no_role = UserFactory(username="viewer", role="", team=rep1.team)
    return [rep1, rep2, outsider, manager, admin_user, integration_user, inactive, no_role]


def _without_links(answer: Any) -> Any:
    body = answer.json()
    if isinstance(body, dict) and "results" in body:
        body["next"], body["previous"] = bool(body["next"]), bool(body["previous"])
    return answer.status_code, body


def test_every_role_every_page_as_the_general_path(
    book: list[Customer],
    api: Any,
    rep1: Any,
    rep2: Any,
    outsider: Any,
    manager: Any,
    admin_user: Any,
    integration_user: Any,
    settings: Any,
) -> None:
    """The general path is taken by naming a parameter that changes nothing (the default
    order); both answer the same rows, count, cap and links."""
    settings.CRM_LIST_COUNT_CAP = 7  # the manager's and the admin's lists go past it
    assert CustomerViewSet.ordering == LIST_ORDER
    for user in _cast(rep1, rep2, outsider, manager, admin_user, integration_user):
        client = api(user)
        for size in (1, 2, 4, None):
            for page in ("1", "2", "3", "last", "9", "0", "x"):
                params = {"page": page} | ({"page_size": str(size)} if size else {})
                opens = client.get("/api/v1/customers/", params)
                general = client.get("/api/v1/customers/", params | {"ordering": "name,id"})
                assert _without_links(opens) == _without_links(general), (user.username, size, page)
        if user.is_active and user.role:
            seen = customer_list(user=user).count()
            body = client.get("/api/v1/customers/", {"page_size": "2"}).json()
            assert (body["count"], body["count_capped"]) == (min(seen, 7), seen > 7)
            body = client.get("/api/v1/customers/", {"page_size": "200"}).json()
            assert (body["count"], body["count_capped"]) == (seen, False)  # all on one page: counted


def test_the_count_follows_every_write_at_once(
    book: list[Customer], rep1: Any, manager: Any, admin_user: Any, outsider: Any, other_team: Any
) -> None:
    """The figures change with the customers, in the same transaction: no count lags."""
    cast = (rep1, manager, admin_user, outsider)

    def agree() -> None:
        for user in cast:
            assert customer_count(user=user, cap=10_000) == (customer_list(user=user).count(), False), user.username

    agree()
    with transaction.atomic():
        CustomerFactory(owner=rep1, team=rep1.team)
        agree()
        moved = book[0]
        customer_update(
            actor=admin_user, instance=moved, data={"owner": outsider, "team": other_team}, expected_version=None
        )
        agree()
    customer_delete(actor=admin_user, instance=book[1], expected_version=None)
    agree()
    assert customer_count(user=manager, cap=1) == (1, True)


def test_the_list_as_it_opens_compiles_nothing_once_warm(
    book: list[Customer], api: Any, rep1: Any, rep2: Any, manager: Any, admin_user: Any, watch_compiling: Any
) -> None:
    for user in (rep1, manager, admin_user):
        api(user).get("/api/v1/customers/", {"page_size": "2"})
    compiled = watch_compiling()
    for user in (rep2, manager, admin_user):  # another rep: the rep's statements, another id
        with CaptureQueriesContext(connection) as queries:
            answer = api(user).get("/api/v1/customers/", {"page_size": "2", "page": "2"})
        assert answer.status_code == 200
        # The page, the count, the contacts, and the generations of the kept policy (which
        # a token's look-up reads with the token; this client signs in without one).
        assert len(queries) == 4, [q["sql"] for q in queries]
    assert compiled == []


def test_the_workspace_list_counts_every_customer_from_the_figures(
    book: list[Customer], client: Any, rep1: Any, manager: Any, admin_user: Any, settings: Any
) -> None:
    settings.CRM_LIST_COUNT_CAP = 7
    for user in (rep1, manager, admin_user):
        client.force_login(user)
        seen = customer_list(user=user).count()
        for params in ({}, {"sort": "-code"}, {"page": "2"}):
            context = client.get("/customers/", params).context
            assert (context["total"], context["more"]) == (min(seen, 7), seen > 7), (user.username, params)
        narrowed = client.get("/customers/", {"q": "客户1"}).context  # a search counts its own rows
        matching = customer_list(user=user).filter(name__contains="客户1").count()
        assert (narrowed["total"], narrowed["more"]) == (min(matching, 7), matching > 7)
