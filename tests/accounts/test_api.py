"""Users, teams and API tokens."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crm.access.registry import resource_names
from crm.accounts import services
from crm.accounts.models import APIToken, Team, User
from crm.accounts.services import api_token_create
from crm.audit.models import AuditEvent
from crm.core.errors import NotPermitted
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


class TestTeamContract(ResourceContract):
    url = "/api/v1/teams/"
    model = Team
    company_wide = True
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
    assert api(admin_user).delete(detail_url("/api/v1/users/", user.pk)).status_code == 428
    gone = api(admin_user).delete(detail_url("/api/v1/users/", user.pk), HTTP_IF_MATCH=f'"{user.version}"')
    assert gone.status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    myself = api(admin_user).delete(
        detail_url("/api/v1/users/", admin_user.pk), HTTP_IF_MATCH=f'"{admin_user.version}"'
    )
    assert myself.status_code == 400


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


# ------------------------------------------------------- tokens created with tokens
#: A small lattice of scopes: the two global ones and both modes of two resources.
LATTICE = ("read", "write", "customers:read", "customers:write", "contacts:write")
MINT = "api-tokens:write"


def _subsets(scopes: tuple[str, ...]) -> list[list[str]]:
    return [list(combo) for n in range(1, len(scopes) + 1) for combo in itertools.combinations(scopes, n)]


def _abilities(scopes: list[str]) -> set[tuple[str, bool]]:
    """What a token with these scopes may actually do, asked of the permission check
    itself: the oracle the minting rule is tested against."""
    probe = APIToken(scopes=scopes)
    return {(r, write) for r in resource_names() for write in (False, True) if probe.allows(r, write=write)}


def _may_mint(parent: list[str], child: list[str]) -> bool:
    return _abilities(child) <= _abilities(parent)


def test_every_pair_of_scope_sets_on_the_lattice_mints_only_within_the_parent(integration_user: Any) -> None:
    """31 parent scope sets x 31 child scope sets: a child is issued exactly when it can
    do nothing its parent cannot."""
    subsets = _subsets(LATTICE)
    parents = {
        tuple(scopes): api_token_create(actor=None, user=integration_user, name="p", scopes=scopes)[0]
        for scopes in subsets
    }
    walked = minted = 0
    for parent_scopes, parent in parents.items():
        for child_scopes in subsets:
            walked += 1
            expected = _may_mint(list(parent_scopes), child_scopes)
            try:
                child, _key = api_token_create(
                    actor=integration_user, user=integration_user, name="c", scopes=child_scopes, parent=parent
                )
            except NotPermitted as refusal:
                assert not expected, (parent_scopes, child_scopes)
                assert "scopes" in refusal.field_errors
                continue
            assert expected, (parent_scopes, child_scopes)
            assert _abilities(child.scopes) <= _abilities(parent.scopes)
            assert child.parent_id == parent.pk and child.ancestors == [parent.pk]
            minted += 1
    assert walked == 31 * 31
    assert 0 < minted < walked
    assert APIToken.objects.filter(parent__isnull=False).count() == minted


@pytest.mark.parametrize("parent_scope", LATTICE)
def test_minting_through_the_api_walks_every_single_scope_pair(integration_user: Any, parent_scope: str) -> None:
    parent, key = api_token_create(actor=None, user=integration_user, name="p", scopes=[parent_scope, MINT])
    client = _token_client(key)
    for child_scope in (*LATTICE, MINT, "api-tokens:read"):
        response = client.post("/api/v1/api-tokens/", {"name": "c", "scopes": [child_scope]}, format="json")
        if _may_mint(parent.scopes, [child_scope]):
            assert response.status_code == 201, (parent_scope, child_scope, response.content)
            body = response.json()
            assert body["parent"] == parent.pk and body["user"] == integration_user.pk
            assert _token_client(body["key"]).get("/api/v1/users/me/").status_code != 401  # it authenticates
        else:
            assert response.status_code == 403, (parent_scope, child_scope, response.content)
            assert "scopes" in response.json()["fields"]
    assert APIToken.objects.filter(parent=parent).count() == sum(
        _may_mint(parent.scopes, [c]) for c in (*LATTICE, MINT, "api-tokens:read")
    )


def test_read_plus_mint_cannot_mint_write_and_a_write_child_cannot_patch(integration_user: Any, rep1: Any) -> None:
    """The reported case: ``read`` + ``api-tokens:write`` minted ``read`` + ``write``."""
    customer = CustomerFactory(owner=rep1)
    _, key = api_token_create(actor=None, user=integration_user, name="p", scopes=["read", MINT])
    client = _token_client(key)
    refused = client.post("/api/v1/api-tokens/", {"name": "c", "scopes": ["read", "write"]}, format="json")
    assert refused.status_code == 403 and "write" in refused.json()["fields"]["scopes"][0]
    assert APIToken.objects.count() == 1
    child = client.post("/api/v1/api-tokens/", {"name": "c", "scopes": ["customers:read"]}, format="json").json()
    url = f"/api/v1/customers/{customer.pk}/"
    patched = _token_client(child["key"]).patch(url, {"city": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert patched.status_code == 403


IN_AN_HOUR = dt.timedelta(hours=1)
MISSING = object()


@pytest.mark.parametrize(
    ("parent_expiry", "asked", "expected"),
    [
        # parent never expires: any expiry, or none
        (None, MISSING, None),
        (None, None, None),
        (None, IN_AN_HOUR, IN_AN_HOUR),
        (None, dt.timedelta(days=3650), dt.timedelta(days=3650)),
        # parent expires in an hour: missing means the parent's; never, or later, is refused
        (IN_AN_HOUR, MISSING, IN_AN_HOUR),
        (IN_AN_HOUR, None, 403),
        (IN_AN_HOUR, IN_AN_HOUR, IN_AN_HOUR),
        (IN_AN_HOUR, IN_AN_HOUR - dt.timedelta(minutes=30), IN_AN_HOUR - dt.timedelta(minutes=30)),
        (IN_AN_HOUR, IN_AN_HOUR + dt.timedelta(seconds=1), 403),
        (IN_AN_HOUR, dt.timedelta(days=1), 403),
    ],
)
def test_a_minted_token_expires_no_later_than_its_parent(
    integration_user: Any, parent_expiry: Any, asked: Any, expected: Any
) -> None:
    now = timezone.now().replace(microsecond=0)
    parent, key = api_token_create(
        actor=None,
        user=integration_user,
        name="p",
        scopes=["read", MINT],
        expires_at=now + parent_expiry if parent_expiry else None,
    )
    payload: dict[str, Any] = {"name": "c", "scopes": ["read"]}
    if asked is not MISSING:
        payload["expires_at"] = (now + asked).isoformat() if asked is not None else None
    response = _token_client(key).post("/api/v1/api-tokens/", payload, format="json")
    if expected == 403:
        assert response.status_code == 403, response.content
        assert "expires_at" in response.json()["fields"]
        assert APIToken.objects.count() == 1
        return
    assert response.status_code == 201, response.content
    child = APIToken.objects.get(pk=response.json()["id"])
    assert child.expires_at == (now + expected if expected is not None else None)


def test_a_person_creates_tokens_as_before(api: Any, rep1: Any) -> None:
    created = api(rep1).post("/api/v1/api-tokens/", {"name": "手机", "scopes": ["write"]}, format="json")
    assert created.status_code == 201, created.content
    token = APIToken.objects.get(pk=created.json()["id"])
    assert token.expires_at is None and token.parent is None and token.scopes == ["write"]


def _chain(user: Any, *, scopes: list[str] | None = None) -> dict[str, tuple[APIToken, str]]:
    """a → b → c → d, a → b2, and e unrelated, all of ``user``."""
    scopes = scopes or ["write"]
    tokens: dict[str, tuple[APIToken, str]] = {}
    tokens["a"] = api_token_create(actor=None, user=user, name="a", scopes=scopes)
    tokens["e"] = api_token_create(actor=None, user=user, name="e", scopes=scopes)
    for name, parent in (("b", "a"), ("c", "b"), ("d", "c"), ("b2", "a")):
        tokens[name] = api_token_create(actor=user, user=user, name=name, scopes=scopes, parent=tokens[parent][0])
    return tokens


def _working(tokens: dict[str, tuple[APIToken, str]]) -> set[str]:
    return {
        name for name, (_t, key) in tokens.items() if _token_client(key).get("/api/v1/users/me/").status_code == 200
    }


def test_revoking_a_token_revokes_what_it_minted_at_every_depth(integration_user: Any) -> None:
    tokens = _chain(integration_user)
    assert tokens["d"][0].ancestors == [tokens["c"][0].pk, tokens["b"][0].pk, tokens["a"][0].pk]
    assert _working(tokens) == {"a", "b", "c", "d", "b2", "e"}
    # b revoked by a sibling-line token of the same user, through the API
    response = _token_client(tokens["b2"][1]).delete(f"/api/v1/api-tokens/{tokens['b'][0].pk}/")
    assert response.status_code == 204
    assert _working(tokens) == {"a", "b2", "e"}
    revoked = set(APIToken.objects.filter(revoked_at__isnull=False).values_list("name", flat=True))
    assert revoked == {"b", "c", "d"}
    events = AuditEvent.objects.filter(resource="accounts.apitoken", action="update")
    assert {e.object_repr.split(" ")[0] for e in events} == {"b", "c", "d"}
    assert all("revoked_at" in e.changes for e in events)
    # revoking again keeps the first time and writes nothing
    first = APIToken.objects.get(name="b").revoked_at
    services.api_token_revoke(actor=None, token=tokens["b"][0])
    assert APIToken.objects.get(name="b").revoked_at == first and events.count() == 3
    services.api_token_revoke(actor=None, token=tokens["a"][0])
    assert _working(tokens) == {"e"}


@pytest.mark.parametrize("how", ["revoked", "expired"])
@pytest.mark.parametrize("ancestor", ["a", "b", "c"])
def test_a_token_whose_ancestor_stopped_is_refused_even_if_not_revoked(
    integration_user: Any, how: str, ancestor: str
) -> None:
    """As if a race had left the descendants unrevoked: authentication checks every
    ancestor, so they are refused all the same."""
    tokens = _chain(integration_user)
    pk = tokens[ancestor][0].pk
    now = timezone.now()
    change = {"revoked_at": now} if how == "revoked" else {"expires_at": now - dt.timedelta(seconds=1)}
    APIToken.objects.filter(pk=pk).update(**change)  # the token alone, no cascade
    below = {"a": {"a", "b", "c", "d", "b2"}, "b": {"b", "c", "d"}, "c": {"c", "d"}}[ancestor]
    assert _working(tokens) == {"a", "b", "c", "d", "b2", "e"} - below
    # nor can a service call mint from one of them
    for name in below - {ancestor}:
        with pytest.raises(NotPermitted):
            api_token_create(actor=None, user=integration_user, name="x", scopes=["read"], parent=tokens[name][0])


def test_a_token_mints_only_for_its_own_user(integration_user: Any, rep1: Any) -> None:
    parent, key = api_token_create(actor=None, user=integration_user, name="p", scopes=["write"])
    with pytest.raises(NotPermitted):
        api_token_create(actor=None, user=rep1, name="x", scopes=["read"], parent=parent)
    body = {"name": "c", "scopes": ["read"], "user": rep1.pk}
    created = _token_client(key).post("/api/v1/api-tokens/", body, format="json")
    assert created.status_code == 201 and created.json()["user"] == integration_user.pk


def test_a_token_without_the_token_scope_cannot_mint(integration_user: Any) -> None:
    _, key = api_token_create(actor=None, user=integration_user, name="p", scopes=["read", "customers:write"])
    response = _token_client(key).post("/api/v1/api-tokens/", {"name": "c", "scopes": ["read"]}, format="json")
    assert response.status_code == 403
    assert APIToken.objects.count() == 1


def test_a_token_sees_and_revokes_only_its_own_users_tokens(api: Any, admin_user: Any, rep1: Any) -> None:
    reps, _ = api_token_create(actor=None, user=rep1, name="rep's", scopes=["read"])
    mine, key = api_token_create(actor=None, user=admin_user, name="admin's", scopes=["write"])
    by_token = _token_client(key)
    assert ids_of(by_token.get("/api/v1/api-tokens/")) == {mine.pk}
    assert by_token.get(f"/api/v1/api-tokens/{reps.pk}/").status_code == 404
    assert by_token.delete(f"/api/v1/api-tokens/{reps.pk}/").status_code == 404
    export = by_token.get("/api/v1/api-tokens/export/")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ["admin's"]
    assert APIToken.objects.get(pk=reps.pk).revoked_at is None
    # the same admin as a person still sees and revokes everyone's
    assert ids_of(api(admin_user).get("/api/v1/api-tokens/")) == {mine.pk, reps.pk}


def test_a_token_cannot_raise_its_own_scopes_or_expiry(integration_user: Any) -> None:
    soon = timezone.now() + dt.timedelta(hours=1)
    token, key = api_token_create(actor=None, user=integration_user, name="p", scopes=["read"], expires_at=soon)
    url = f"/api/v1/api-tokens/{token.pk}/"
    client = _token_client(key)
    for verb in (client.patch, client.put):
        response = verb(url, {"scopes": ["write"], "expires_at": None}, format="json", HTTP_IF_MATCH='"1"')
        assert response.status_code in (403, 405), response.content
    token.refresh_from_db()
    assert token.scopes == ["read"] and token.expires_at == soon
