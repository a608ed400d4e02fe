"""Users, teams and API tokens."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crm.accounts.models import APIToken, Team, User
from crm.accounts.services import api_token_create
from crm.audit.models import AuditEvent
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


class TestTeamContract(ResourceContract):
    url = "/api/v1/teams/"
    model = Team
    company_wide = True
    writers = ("admin_user",)
    deleters = ("admin_user",)
    refused_writers = ("rep1", "manager")
    update_payload = {"region": "south"}
    invalid_payloads = [({"name": ""}, "name"), ({"manager": 999999}, "manager")]

    def make(self, owner: Any) -> Team:
        return Team.objects.create(name=f"临时组 {Team.objects.count()}")

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {"name": "西南大客户组", "region": "southwest"}


def test_users_are_listed_without_passwords_and_me_works(api: Any, rep1: Any, rep2: Any) -> None:
    client = api(rep1)
    body = client.get("/api/v1/users/").json()
    assert {rep1.pk, rep2.pk} <= ids_of(client.get("/api/v1/users/"))
    assert all("password" not in row for row in body["results"])
    assert client.get("/api/v1/users/me/").json()["username"] == "rep1"
    assert api().get("/api/v1/users/").status_code == 401


def test_only_admins_manage_users_and_delete_deactivates(api: Any, admin_user: Any, rep1: Any, manager: Any) -> None:
    payload = {"username": "rep9", "password": "a-Long-enough-pass-42", "role": "rep", "first_name": "九"}
    assert api(manager).post("/api/v1/users/", payload, format="json").status_code == 403
    weak = api(admin_user).post("/api/v1/users/", {**payload, "password": "123"}, format="json")
    assert weak.status_code == 400 and "password" in weak.json()["fields"]
    created = api(admin_user).post("/api/v1/users/", payload, format="json")
    assert created.status_code == 201, created.content
    user = User.objects.get(username="rep9")
    assert user.check_password("a-Long-enough-pass-42")
    event = AuditEvent.objects.get(resource="accounts.user", object_id=str(user.pk), action="create")
    assert "password" not in event.changes
    dup = api(admin_user).post("/api/v1/users/", payload, format="json")
    assert dup.status_code == 400 and "username" in dup.json()["fields"]
    gone = api(admin_user).delete(detail_url("/api/v1/users/", user.pk))
    assert gone.status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    assert api(admin_user).delete(detail_url("/api/v1/users/", admin_user.pk)).status_code == 400


def test_team_manager_must_be_a_manager(api: Any, admin_user: Any, rep1: Any) -> None:
    response = api(admin_user).post("/api/v1/teams/", {"name": "新组", "manager": rep1.pk}, format="json")
    assert response.status_code == 400 and "manager" in response.json()["fields"]


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_read_token_reads_but_cannot_write(integration_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    _, key = api_token_create(actor=None, user=integration_user, name="BI", scopes=["read"])
    client = _token_client(key)
    assert customer.pk in ids_of(client.get("/api/v1/customers/"))
    assert client.post("/api/v1/customers/", {"name": "X"}, format="json").status_code == 403


def test_resource_scoped_token_is_limited_to_its_resource(integration_user: Any, rep1: Any) -> None:
    ContactFactory(customer=CustomerFactory(owner=rep1))
    _, key = api_token_create(actor=None, user=integration_user, name="shop", scopes=["customers:write"])
    client = _token_client(key)
    assert client.get("/api/v1/customers/").status_code == 200
    assert client.post("/api/v1/customers/", {"name": "商城客户"}, format="json").status_code == 201
    assert client.get("/api/v1/contacts/").status_code == 403


def test_revoked_expired_and_bogus_tokens_are_401(integration_user: Any) -> None:
    token, key = api_token_create(actor=None, user=integration_user, name="old", scopes=["read"])
    assert _token_client(key).get("/api/v1/customers/").status_code == 200
    APIToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _token_client(key).get("/api/v1/customers/").status_code == 401
    token2, key2 = api_token_create(actor=None, user=integration_user, name="new", scopes=["read"])
    APIToken.objects.filter(pk=token2.pk).update(revoked_at=timezone.now())
    assert _token_client(key2).get("/api/v1/customers/").status_code == 401
    assert _token_client("nonsense").get("/api/v1/customers/").status_code == 401


def test_a_reps_token_sees_only_the_reps_customers(rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1)
    CustomerFactory(owner=rep2)
    _, key = api_token_create(actor=None, user=rep1, name="phone", scopes=["read"])
    assert ids_of(_token_client(key).get("/api/v1/customers/")) == {mine.pk}


def test_tokens_endpoint_shows_key_once_and_revokes(api: Any, rep1: Any, rep2: Any) -> None:
    client = api(rep1)
    created = client.post("/api/v1/api-tokens/", {"name": "手机", "scopes": ["read"]}, format="json")
    assert created.status_code == 201, created.content
    key = created.json()["key"]
    listed = client.get("/api/v1/api-tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["手机"] and "key" not in listed[0]
    assert api(rep2).get("/api/v1/api-tokens/").json()["count"] == 0
    bad = client.post("/api/v1/api-tokens/", {"name": "x", "scopes": ["everything"]}, format="json")
    assert bad.status_code == 400 and "scopes" in bad.json()["fields"]
    token_id = created.json()["id"]
    assert api(rep2).delete(f"/api/v1/api-tokens/{token_id}/").status_code == 404
    assert client.delete(f"/api/v1/api-tokens/{token_id}/").status_code == 204
    assert _token_client(key).get("/api/v1/customers/").status_code == 401


def test_create_api_token_command_prints_a_working_key(rep1: Any) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "rep1", "--scopes", "customers:read", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert _token_client(key).get("/api/v1/customers/").status_code == 200
    event = AuditEvent.objects.get(resource="accounts.apitoken", action="create")
    assert event.source == "command" and event.request_id
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "nobody", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command("create_api_token", "rep1", "--scopes", "root", stdout=out, stderr=err)


def test_user_filters_ordering_and_constant_queries(api: Any, rep1: Any, rep2: Any, manager: Any) -> None:
    from tests.api_contract import list_query_count
    from tests.factories import UserFactory

    client = api(rep1)
    assert ids_of(client.get("/api/v1/users/", {"role": "manager"})) == {manager.pk}
    assert ids_of(client.get("/api/v1/users/", {"search": "rep2"})) == {rep2.pk}
    names = [r["username"] for r in client.get("/api/v1/users/", {"ordering": "-username"}).json()["results"]]
    assert names == sorted(names, reverse=True)
    few = list_query_count(client, "/api/v1/users/")
    for _ in range(5):
        UserFactory(team=rep1.team)
    assert list_query_count(client, "/api/v1/users/") == few
