"""Lookups by a natural key go through the record scope.

An external reference, a code, a tax id or a name names a record as surely as its id.
Looking one up must not reach past the caller's scope: a key held by a record they may
not see is refused as taken (409) and says nothing of that record.  The static walk
finds every lookup by such a key in the code; the API tests exercise each one.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from crm.accounts.choices import Role
from tests.api_contract import detail_url
from tests.factories import ContactFactory, CustomerFactory, TransactionFactory, UserFactory
from tests.project import top_packages
from transactions.models import Transaction

ROOT = Path(__file__).resolve().parents[2]
APPS = top_packages()
QUERY_METHODS = {"filter", "get", "exclude", "get_or_create", "update_or_create", "first", "exists"}

#: Lookups by a natural key that reach past the scope on purpose, with the reason.
REVIEWED = {
    ("customers/services.py", "Customer", "code"): "finding the next free code; answers nothing to the caller",
    ("duplicates/merging.py", "RiskAlert", "subject"): (
        "a merge matching the two customers' open alerts by rule and subject; the pair, and so"
        " both customers, come from the merging user's scope"
    ),
}


def _natural_keys() -> dict[str, set[str]]:
    """For each customer-scoped model, the fields that name one of its records."""
    keys: dict[str, set[str]] = {}
    for model in apps.get_models():
        if getattr(model, "scope_path", None) is None:
            continue
        names = {f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key}
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                names |= set(constraint.fields)
        names = {n for n in names if not model._meta.get_field(n).is_relation}
        if any(f.name == "name" for f in model._meta.concrete_fields):
            names.add("name")
        if names:
            keys[model.__name__] = names
    return keys


def _lookups() -> list[tuple[str, str, str, int]]:
    """Every ``Model.objects...filter(key=...)`` on a natural key in the apps' code."""
    keys = _natural_keys()
    found = []
    for folder in APPS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in QUERY_METHODS:
                    continue
                root: Any = node.func.value
                while isinstance(root, ast.Call | ast.Attribute):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if not isinstance(root, ast.Name) or root.id not in keys:
                    continue
                for keyword in node.keywords:
                    field = (keyword.arg or "").split("__")[0]
                    if field in keys[root.id]:
                        found.append((str(path.relative_to(ROOT)), root.id, field, node.lineno))
    return found


def test_the_walk_knows_the_natural_keys() -> None:
    keys = _natural_keys()
    assert {"code", "tax_id", "name"} <= keys["Customer"]
    assert {"source", "external_ref"} <= keys["Transaction"]
    assert "name" in keys["Contact"]


def test_every_natural_key_lookup_goes_through_the_scope() -> None:
    """Outside ``crm.access.scope.scoped_lookup`` no code looks a customer's record up by
    a natural key on the unscoped manager (a reviewed exception names its reason)."""
    unreviewed = [hit for hit in _lookups() if hit[:3] not in REVIEWED]
    assert unreviewed == []
    assert {hit[:3] for hit in _lookups()} == set(REVIEWED), "a reviewed exception no longer exists"


# ------------------------------------------------------------------ orders by reference
pytestmark = pytest.mark.django_db


def _order(owner: Any, ref: str = "SHOP-1") -> Transaction:
    return TransactionFactory(
        customer=CustomerFactory(owner=owner), source="shop", external_ref=ref, amount="888.00", description="秘密订单"
    )


def test_a_rep_cannot_take_over_another_reps_order_by_its_reference(api: Any, rep1: Any, outsider: Any) -> None:
    theirs = _order(outsider)
    mine = CustomerFactory(owner=rep1)
    before = Transaction.objects.values().get(pk=theirs.pk)
    for body in (
        {"source": "shop", "external_ref": "SHOP-1", "customer": mine.pk, "amount": "1.00"},
        {"source": "shop", "external_ref": "SHOP-1", "customer": mine.pk, "amount": "1.00", "status": "refunded"},
        {"source": "shop", "external_ref": "SHOP-1", "customer": mine.pk, "paid_amount": "99999.00"},
        {"source": "shop", "external_ref": "SHOP-1", "order_date": "not a date"},
        {"source": "shop", "external_ref": "SHOP-1"},
    ):
        response = api(rep1).post("/api/v1/transactions/upsert/", body, format="json")
        assert response.status_code == 409, response.content
        text = response.content.decode()
        for secret in ("888", "秘密", str(theirs.customer_id), theirs.customer.name, str(theirs.pk)):
            assert secret not in text
        assert "fields" not in response.json()
    assert Transaction.objects.values().get(pk=theirs.pk) == before
    created = api(rep1).post(
        "/api/v1/transactions/",
        {"source": "shop", "external_ref": "SHOP-1", "customer": mine.pk, "amount": "1", "order_date": "2026-11-01"},
        format="json",
    )
    assert created.status_code == 409
    assert Transaction.objects.filter(external_ref="SHOP-1").count() == 1


def test_a_teammate_of_the_same_manager_is_as_far_as_another_team(api: Any, rep1: Any, rep2: Any) -> None:
    _order(rep2)
    body = {"source": "shop", "external_ref": "SHOP-1", "customer": CustomerFactory(owner=rep1).pk, "amount": "1.00"}
    assert api(rep1).post("/api/v1/transactions/upsert/", body, format="json").status_code == 409


def test_the_owner_their_manager_and_an_integration_upsert_as_before(
    api: Any, rep1: Any, manager: Any, integration_user: Any, outsider: Any
) -> None:
    order = _order(rep1)
    for user, amount in ((rep1, "100.00"), (manager, "200.00"), (integration_user, "300.00")):
        body = {"source": "shop", "external_ref": "SHOP-1", "customer": order.customer_id, "amount": amount}
        response = api(user).post("/api/v1/transactions/upsert/", body, format="json")
        assert response.status_code == 200, response.content
        order.refresh_from_db()
        assert str(order.amount) == amount
    # The manager does not reach another team's order.
    _order(outsider, "SHOP-2")
    body = {"source": "shop", "external_ref": "SHOP-2", "customer": order.customer_id, "amount": "1.00"}
    assert api(manager).post("/api/v1/transactions/upsert/", body, format="json").status_code == 409
    integration = api(integration_user).post("/api/v1/transactions/upsert/", body, format="json")
    assert integration.status_code == 200


def test_a_new_reference_is_created_for_the_rep(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    body = {"source": "shop", "external_ref": "NEW-1", "customer": customer.pk, "amount": "5.00"}
    incomplete = api(rep1).post("/api/v1/transactions/upsert/", body, format="json")
    assert incomplete.status_code == 400 and "order_date" in incomplete.json()["fields"]
    body["order_date"] = "2026-11-01"
    first = api(rep1).post("/api/v1/transactions/upsert/", body, format="json")
    again = api(rep1).post("/api/v1/transactions/upsert/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    partial = api(rep1).post(
        "/api/v1/transactions/upsert/", {"source": "shop", "external_ref": "NEW-1", "status": "paid"}, format="json"
    )
    assert partial.status_code == 200, partial.content
    assert partial.json()["status"] == "paid" and partial.json()["customer"] == customer.pk


# ------------------------------------------------------------------ customers by code, tax id, name
def test_a_customer_code_or_tax_id_held_elsewhere_is_taken_and_nothing_more(
    api: Any, rep1: Any, outsider: Any
) -> None:
    theirs = CustomerFactory(owner=outsider, code="C7777777", tax_id="91310000MA1FL0000X", name="远方机密公司")
    client = api(rep1)
    for body in ({"name": "我的公司", "code": "C7777777"}, {"name": "我的公司", "tax_id": "91310000MA1FL0000X"}):
        response = client.post("/api/v1/customers/", body, format="json")
        assert response.status_code in (400, 409), response.content
        text = response.content.decode()
        assert "远方机密公司" not in text and str(theirs.pk) not in text and "outsider" not in text
    mine = CustomerFactory(owner=rep1)
    url = detail_url("/api/v1/customers/", mine.pk)
    response = client.patch(url, {"code": "C7777777"}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
    assert response.status_code in (400, 409)
    assert "远方机密公司" not in response.content.decode()


def test_search_by_a_contacts_name_reaches_only_the_callers_contacts(client: Any, rep1: Any, outsider: Any) -> None:
    """A term matching many other reps' contacts neither shows them nor crowds out the
    rep's own match."""
    from workspace.selectors import CONTACT_MATCHES

    for _ in range(CONTACT_MATCHES + 5):
        ContactFactory(customer=CustomerFactory(owner=outsider), name="王经理")
    mine = ContactFactory(customer=CustomerFactory(owner=rep1, name="我的客户甲"), name="王经理").customer
    client.force_login(rep1)
    page = client.get("/customers/", {"q": "王经理"}).content.decode()
    assert mine.name in page
    assert "上海测试科技有限公司" not in page


def test_an_integration_sees_and_an_inactive_rep_reaches_nothing(api: Any, integration_user: Any) -> None:
    former = UserFactory(username="former", role=Role.REP, is_active=False)
    _order(former)
    body = {"source": "shop", "external_ref": "SHOP-1", "customer": CustomerFactory(owner=former).pk, "amount": "2"}
    assert api(integration_user).post("/api/v1/transactions/upsert/", body, format="json").status_code == 200
