"""Writes stay inside the record scope, on every resource (crm.access.writes).

The fields that decide who sees a record (a customer's owner and team, a child's
customer, an alert's customer and subject) change only as the rules allow and only to
values inside the writer's scope; every person a record names can see its customer;
every record it links to belongs to its customer.  The walks below are generated from
the resource registry and each resource's contract (tests/api_contract.py), so a new resource
or a new related field is covered without a line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db.models import Model
from factory.django import DjangoModelFactory

from crm.access.registry import get_resource
from crm.core.api import ScopedPrimaryKeyRelatedField
from customers.models import Customer
from tests.api_contract import ResourceContract, detail_url
from tests.factories import CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
WALKED: dict[str, int] = {}


def _contracts() -> list[type[ResourceContract]]:
    for path in (ROOT / "tests").rglob("test_*.py"):
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    found: list[type[ResourceContract]] = []
    pending = list(ResourceContract.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__name__.startswith("Test") and not cls.read_only:
            found.append(cls)
    return sorted(found, key=lambda cls: cls.url)


def _viewset(url: str) -> Any:
    prefix = url.removeprefix("/api/v1/").strip("/")
    resource = get_resource(prefix)
    assert resource is not None, prefix
    return resource.viewset


def _related_fields(contract: type[ResourceContract]) -> Iterator[tuple[str, type[Model]]]:
    """The writable related fields of the resource's serializer, with their target model."""
    serializer = _viewset(contract.url).serializer_class()
    for name, field in serializer.fields.items():
        if isinstance(field, ScopedPrimaryKeyRelatedField) and not field.read_only:
            yield name, field.queryset.model


def _customer_scoped(model: type[Model]) -> bool:
    return getattr(model, "scope_path", None) not in (None, "")


def _cases(kind: str) -> list[Any]:
    cases = []
    user_model = settings.AUTH_USER_MODEL.lower()
    for contract in _contracts():
        if not _customer_scoped(contract.model):
            continue
        for name, target in _related_fields(contract):
            is_user = target._meta.label_lower == user_model
            if kind == "person" and is_user:
                cases.append(pytest.param(contract, name, id=f"{contract.url}:{name}"))
            # A link the record takes its customer from (a payment's order) cannot name
            # another customer's record: it names the customer.
            follows = getattr(contract.model, "customer_from", None)
            if kind == "link" and _customer_scoped(target) and name not in ("customer", follows) and not is_user:
                cases.append(pytest.param(contract, name, target, id=f"{contract.url}:{name}"))
            if kind == "customer" and name == "customer":
                cases.append(pytest.param(contract, id=contract.url))
    return cases


def _factory_for(model: type[Model]) -> Any:
    import tests.factories as factories

    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, DjangoModelFactory) and value._meta.model is model:
            return value
    raise LookupError(model)


def _payload(contract: type[ResourceContract], owner: Any) -> dict[str, Any]:
    return contract().valid_payload(owner)


def _count(model: type[Model]) -> int:
    return model._default_manager.count()


def _fields(response: Any) -> dict[str, Any]:
    return response.json().get("fields", {})


# ------------------------------------------------------------------ people
@pytest.mark.parametrize(("contract", "field"), _cases("person"))
def test_a_person_named_on_a_record_must_see_its_customer(
    contract: Any, field: str, api: Any, rep1: Any, manager: Any, outsider: Any, admin_user: Any
) -> None:
    """Even an admin cannot assign another team's rep to rep1's customer's record; the
    team's manager (who sees the customer) may be named."""
    WALKED["person"] = WALKED.get("person", 0) + 1
    client = api(admin_user)
    before = _count(contract.model)
    refused = client.post(contract.url, {**_payload(contract, rep1), field: outsider.pk}, format="json")
    assert refused.status_code == 400, refused.content
    assert field in _fields(refused)
    assert _count(contract.model) == before

    accepted = client.post(contract.url, {**_payload(contract, rep1), field: manager.pk}, format="json")
    assert accepted.status_code == 201, accepted.content

    record = contract().make(rep1)
    url = detail_url(contract.url, record.pk)
    etag = client.get(url)["ETag"]
    moved = client.patch(url, {field: outsider.pk}, format="json", HTTP_IF_MATCH=etag)
    assert moved.status_code == 400, moved.content
    record.refresh_from_db()
    assert getattr(record, f"{field}_id") != outsider.pk


# ------------------------------------------------------------------ linked records
@pytest.mark.parametrize(("contract", "field", "target"), _cases("link"))
def test_a_linked_record_must_belong_to_the_same_customer(
    contract: Any, field: str, target: Any, api: Any, rep1: Any, admin_user: Any
) -> None:
    """A contact, order or service record of another customer (one the writer sees) is
    refused on create and update; one of the record's own customer is accepted."""
    WALKED["link"] = WALKED.get("link", 0) + 1
    factory = _factory_for(target)
    elsewhere = factory(customer=CustomerFactory(owner=rep1))
    for user in (rep1, admin_user):
        client = api(user)
        payload = _payload(contract, rep1)
        before = _count(contract.model)
        refused = client.post(contract.url, {**payload, field: elsewhere.pk}, format="json")
        assert refused.status_code in (400, 403), refused.content
        assert _count(contract.model) == before
        if refused.status_code == 400:
            assert field in _fields(refused)
    payload = _payload(contract, rep1)
    own = factory(customer=Customer.objects.get(pk=payload["customer"]))
    accepted = api(admin_user).post(contract.url, {**payload, field: own.pk}, format="json")
    assert accepted.status_code == 201, accepted.content

    record = contract().make(rep1)
    url = detail_url(contract.url, record.pk)
    client = api(admin_user)
    moved = client.patch(url, {field: elsewhere.pk}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
    assert moved.status_code == 400, moved.content
    record.refresh_from_db()
    assert getattr(record, f"{field}_id") != elsewhere.pk


# ------------------------------------------------------------------ a child's customer
@pytest.mark.parametrize("contract", _cases("customer"))
def test_a_record_never_moves_to_a_customer_out_of_reach(
    contract: Any, api: Any, rep1: Any, manager: Any, outsider: Any
) -> None:
    """Neither the rep nor the manager can move a record to another team's customer: the
    id reads as unknown, and nothing changes."""
    WALKED["customer"] = WALKED.get("customer", 0) + 1
    foreign = CustomerFactory(owner=outsider)
    for user in (rep1, manager):
        client = api(user)
        record = contract().make(rep1)
        url = detail_url(contract.url, record.pk)
        moved = client.patch(url, {"customer": foreign.pk}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
        assert moved.status_code == 400, moved.content
        assert "customer" in _fields(moved)
        record.refresh_from_db()
        assert record.customer_id != foreign.pk  # type: ignore[attr-defined]
        created = client.post(contract.url, {**_payload(contract, rep1), "customer": foreign.pk}, format="json")
        assert created.status_code in (400, 403)  # 403: not a creator of this resource at all
        assert not contract.model._default_manager.filter(customer=foreign).exists()


def test_an_alert_keeps_its_customer_rule_and_subject(api: Any, rep1: Any, manager: Any) -> None:
    from tests.factories import RiskAlertFactory, RiskRuleFactory

    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1), assignee=rep1)
    other_customer = CustomerFactory(owner=rep1)
    url = detail_url("/api/v1/risk-alerts/", alert.pk)
    for user in (rep1, manager):
        client = api(user)
        for change in ({"customer": other_customer.pk}, {"subject": "SO-forged"}, {"rule": RiskRuleFactory().pk}):
            response = client.patch(url, change, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
            assert response.status_code == 400, (change, response.content)
            assert set(change) <= set(_fields(response))
    alert.refresh_from_db()
    assert alert.customer.owner == rep1 and alert.subject.startswith("order-")


# ------------------------------------------------------------------ owner and team
@pytest.fixture
def far_team(db: Any) -> Any:
    return TeamFactory(name="西北一组", region="west")


def _patch(client: Any, customer: Customer, body: dict[str, Any]) -> Any:
    url = detail_url("/api/v1/customers/", customer.pk)
    return client.patch(url, body, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])


@pytest.mark.parametrize("team_value", ["other", None])
def test_a_rep_cannot_move_a_customer_to_another_team_or_none(
    api: Any, rep1: Any, manager: Any, other_team: Any, team_value: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    response = _patch(api(rep1), customer, {"team": other_team.pk if team_value else None})
    assert response.status_code == 400, response.content
    assert set(_fields(response)) == {"team"}
    customer.refresh_from_db()
    assert customer.team == rep1.team
    assert api(manager).get(detail_url("/api/v1/customers/", customer.pk)).status_code == 200


def test_a_rep_creates_customers_only_in_their_own_team(api: Any, rep1: Any, other_team: Any) -> None:
    client = api(rep1)
    refused = client.post("/api/v1/customers/", {"name": "越界公司", "team": other_team.pk}, format="json")
    assert refused.status_code == 400 and "team" in _fields(refused)
    assert not Customer.objects.filter(name="越界公司").exists()
    own = client.post("/api/v1/customers/", {"name": "本组公司", "team": rep1.team_id}, format="json")
    assert own.status_code == 201, own.content
    default = client.post("/api/v1/customers/", {"name": "默认公司"}, format="json")
    assert default.status_code == 201 and default.json()["team"] == rep1.team_id


def test_a_rep_cannot_give_a_customer_away(api: Any, rep1: Any, rep2: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = _patch(api(rep1), customer, {"owner": rep2.pk})
    assert response.status_code == 400 and "owner" in _fields(response)
    customer.refresh_from_db()
    assert customer.owner == rep1


@pytest.mark.parametrize("change", ["far team", "no team", "outsider owner"])
def test_a_manager_moves_customers_only_within_the_teams_they_manage(
    api: Any, rep1: Any, manager: Any, outsider: Any, far_team: Any, change: str
) -> None:
    customer = CustomerFactory(owner=rep1)
    body = {"far team": {"team": far_team.pk}, "no team": {"team": None}, "outsider owner": {"owner": outsider.pk}}
    response = _patch(api(manager), customer, body[change])
    assert response.status_code == 400, response.content
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (rep1, rep1.team)


def test_a_manager_still_reassigns_inside_their_teams_and_an_admin_anywhere(
    api: Any, rep1: Any, rep2: Any, manager: Any, outsider: Any, admin_user: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    assert _patch(api(manager), customer, {"owner": rep2.pk}).status_code == 200
    moved = _patch(api(admin_user), customer, {"owner": outsider.pk, "team": outsider.team_id})
    assert moved.status_code == 200, moved.content
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (outsider, outsider.team)
    assert api(manager).get(detail_url("/api/v1/customers/", customer.pk)).status_code == 404


def test_a_manager_of_two_teams_moves_a_customer_between_them(api: Any, rep1: Any, manager: Any) -> None:
    second = TeamFactory(name="华东二组", manager=manager)
    member = UserFactory(username="rep3", role="rep", team=second)
    customer = CustomerFactory(owner=rep1)
    response = _patch(api(manager), customer, {"owner": member.pk, "team": second.pk})
    assert response.status_code == 200, response.content


def test_every_walk_covered_every_resource_it_should(rep1: Any) -> None:
    """The generated walks are not empty: each kind finds the fields it is about."""
    assert len(_cases("person")) >= 5  # assignee, sales rep, staff, handler, alert assignee, ...
    assert len(_cases("link")) >= 4  # activity, feedback, survey and participation contacts, ...
    assert len(_cases("customer")) >= 8
    assert apps.get_model("customers", "Activity") in {c.values[0].model for c in _cases("person")}


def test_the_pages_keep_the_same_rules(client: Any, rep1: Any) -> None:
    """The workspace's forms write through the same services: a follow-up naming a
    contact of another customer is refused at the field and nothing is saved."""
    from customers.models import Activity
    from tests.factories import ContactFactory

    customer = CustomerFactory(owner=rep1)
    elsewhere = ContactFactory(customer=CustomerFactory(owner=rep1))
    client.force_login(rep1)
    response = client.post(
        f"/customers/{customer.pk}/activities/new/",
        {"kind": "call", "subject": "回访", "contact": elsewhere.pk, "occurred_at": "2026-12-01T10:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422, response.status_code
    assert not Activity.objects.filter(customer=customer).exists()
