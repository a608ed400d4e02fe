"""The resource registry: one declaration per resource, one answer to who may write.

The matrix below is the product's rule of who may create, update, delete and run each
action, written out once; the API (``RolePermission``), the pages and the services all
ask :func:`crm.access.registry.may`, and the API contract tests take their writers from
the registry, so this table is what every channel is held to.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from crm.access.registry import (
    CREATE,
    DELETE,
    UPDATE,
    all_resources,
    get_resource,
    governed_resources,
    may,
    resource_names,
    resource_of_model,
)
from crm.accounts.choices import Role
from crm.api_urls import router

R, M, A, INT = Role.REP, Role.MANAGER, Role.ADMIN, Role.INTEGRATION
EVERY = {R, M, A, INT}
MANAGERS = {M, A, INT}
ADMINS = {A}

#: resource -> {act: roles}; acts left out are every staff role.
MATRIX: dict[str, dict[str, set[str]]] = {
    "users": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    "teams": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    "api-tokens": {},
    "audit-events": {},
    "field-permissions": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    # Proposals are made by updating a record; a manager of its team or an admin decides.
    "change-requests": {
        CREATE: set(),
        UPDATE: set(),
        DELETE: set(),
        "approve": {M, A},
        "reject": {M, A},
        "bulk_approve": {M, A},
        "withdraw": EVERY,
    },
    "customers": {DELETE: MANAGERS, "bulk_assign": MANAGERS, "bulk_tag": MANAGERS},
    "contacts": {},
    "activities": {},
    "service-needs": {},
    "products": {CREATE: MANAGERS, UPDATE: MANAGERS, DELETE: MANAGERS},
    "transactions": {DELETE: MANAGERS, "upsert": EVERY},
    "payments": {CREATE: EVERY, UPDATE: set(), DELETE: MANAGERS, "reverse": MANAGERS},
    "service-records": {"assign": MANAGERS},
    "feedback": {DELETE: MANAGERS, "assign": MANAGERS},
    "satisfaction-responses": {DELETE: MANAGERS},
    "campaigns": {CREATE: MANAGERS, UPDATE: MANAGERS, DELETE: MANAGERS, "invite": MANAGERS, "record": MANAGERS},
    "participations": {},
    "tiers": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    "tier-changes": {"override": MANAGERS},
    "tier-runs": {"start": MANAGERS},
    "scoring-policies": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    "risk-rules": {CREATE: ADMINS, UPDATE: ADMINS, DELETE: ADMINS},
    "risk-alerts": {CREATE: MANAGERS, DELETE: MANAGERS, "assign": MANAGERS},
    "alert-comments": {},
    "risk-scans": {"start": MANAGERS},
    "imports": {},
    "duplicate-candidates": {
        CREATE: set(),
        UPDATE: set(),
        DELETE: set(),
        "not_duplicate": MANAGERS,
        "merge": MANAGERS,
        "unmerge": MANAGERS,
    },
}


class _User:
    is_authenticated = True
    is_active = True
    is_superuser = False

    def __init__(self, role: str) -> None:
        self.role = role


def test_the_registry_holds_every_resource_of_the_matrix_and_no_other() -> None:
    assert set(resource_names()) == set(MATRIX)
    assert len(all_resources()) == len(MATRIX), "a resource is declared once"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_may_do_exactly_what_the_matrix_says(name: str) -> None:
    resource = get_resource(name)
    assert resource is not None
    acts = {CREATE, UPDATE, DELETE, *resource.actions, *MATRIX[name]}
    for act in acts:
        expected = MATRIX[name].get(act, EVERY)
        allowed = {role for role in EVERY if may(_User(role), act, name)}
        assert allowed == expected, (name, act)
        assert may(_User(R), act, resource) == (R in expected), "a Resource answers like its name"


def test_an_unknown_action_counts_as_an_update() -> None:
    assert may(_User(R), "acknowledge", "risk-alerts")
    assert not may(_User(R), "rename", "products")


def test_nobody_may_write_an_unknown_resource_or_as_a_stranger() -> None:
    assert not may(_User(A), UPDATE, "no-such-resource")
    assert not may(AnonymousUser(), UPDATE, "contacts")
    assert not may(None, UPDATE, "contacts")
    inactive: Any = _User(A)
    inactive.is_active = False
    assert not may(inactive, UPDATE, "contacts")
    superuser: Any = _User(R)
    superuser.is_superuser = True
    assert may(superuser, DELETE, "users"), "a superuser has an admin's rights"


def test_the_api_router_is_built_from_the_registry_in_its_order() -> None:
    assert [(p, v, b) for p, v, b in router.registry] == [(r.name, r.viewset, r.basename) for r in all_resources()]
    for resource in all_resources():
        assert resource.viewset.resource == resource.name


def test_governed_resources_are_those_whose_serializer_follows_the_policy() -> None:
    governed = {r.name for r in governed_resources()}
    for resource in all_resources():
        names_policy = getattr(resource.viewset.serializer_class, "policy_resource", None)
        assert (names_policy == resource.name) == (resource.name in governed), resource.name
    assert "customers" in governed and "users" not in governed


def test_a_model_is_found_by_its_label() -> None:
    found = resource_of_model("customers.customer")
    assert found is not None and found.name == "customers"
    assert resource_of_model("auth.permission") is None
