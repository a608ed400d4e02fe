"""Field-permission data: admins only, validated against the API's resources and fields."""

from __future__ import annotations

from typing import Any

import pytest

from crm.access.models import FieldPermission
from crm.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/field-permissions/"


def test_admin_manages_levels_and_others_see_nothing(api: Any, admin_user: Any, manager: Any, rep1: Any) -> None:
    client = api(admin_user)
    created = client.post(
        URL, {"resource": "customers", "field": "website", "role": "rep", "level": "read"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert AuditEvent.objects.filter(resource="access.fieldpermission", action="create").exists()
    pk = created.json()["id"]
    assert api(manager).get(URL).json()["count"] == 0
    assert api(admin_user).get(URL).json()["count"] == FieldPermission.objects.count()
    assert api(rep1).get(f"{URL}{pk}/").status_code == 404
    assert (
        api(manager)
        .post(URL, {"resource": "customers", "field": "name", "role": "rep", "level": "read"}, format="json")
        .status_code
        == 403
    )
    updated = client.patch(f"{URL}{pk}/", {"level": "masked"}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert updated.status_code == 200 and updated.json()["level"] == "masked"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"resource": "spaceships", "field": "name", "role": "rep", "level": "read"}, "resource"),
        ({"resource": "customers", "field": "shoe_size", "role": "rep", "level": "read"}, "field"),
        ({"resource": "customers", "field": "name", "role": "pope", "level": "read"}, "role"),
        ({"resource": "customers", "field": "name", "role": "rep", "level": "godlike"}, "level"),
    ],
)
def test_bad_definitions_are_refused(api: Any, admin_user: Any, payload: dict[str, str], field: str) -> None:
    before = FieldPermission.objects.count()
    response = api(admin_user).post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]
    assert FieldPermission.objects.count() == before


def test_one_level_per_role_and_field(api: Any, admin_user: Any) -> None:
    payload = {"resource": "contacts", "field": "title", "role": "integration", "level": "masked"}
    client = api(admin_user)
    before = FieldPermission.objects.count()
    assert client.post(URL, payload, format="json").status_code == 201
    assert client.post(URL, {**payload, "level": "read"}, format="json").status_code == 400
    assert FieldPermission.objects.count() == before + 1
