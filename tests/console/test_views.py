"""The admin console through Django's test client: who may open it, and what each page does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access.models import FieldPermission
from crm.access.services import policy_digest
from crm.accounts.models import APIToken, Team, User
from crm.audit.models import AuditEvent
from crm.audit.services import audit_bulk
from crm.console import urls as console_urls
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/",
    "/console/fields/",
    "/console/fields/customers/",
    "/console/users/",
    "/console/users/new/",
    "/console/teams/",
    "/console/teams/new/",
    "/console/roles/",
    "/console/tokens/",
    "/console/tokens/new/",
    "/console/audit/",
]


def _every_console_url() -> list[str]:
    """Every address under /console/, the shell's and the apps', read from the URLconf."""
    samples = {"<int:pk>": "1", "<slug:resource>": "customers", "<slug:kind>": "inactivity"}
    urls = []
    for pattern in console_urls.urlpatterns:
        route = str(pattern.pattern)
        for converter, value in samples.items():
            route = route.replace(converter, value)
        assert "<" not in route, f"give test_views a sample for {route}"
        urls.append(f"/console/{route}")
    return urls


def test_the_walk_finds_the_apps_console_pages() -> None:
    urls = _every_console_url()
    assert {"/console/tier-policy/", "/console/risk-rules/", "/console/risk-settings/"} <= set(urls)
    assert set(PAGES) <= set(urls)


@pytest.mark.parametrize("url", _every_console_url())
def test_every_console_url_refuses_reps_and_managers(
    client: Any, rep1: Any, manager: Any, admin_user: Any, url: str
) -> None:
    for user in (rep1, manager):
        client.force_login(user)
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    client.force_login(admin_user)
    assert client.get(url).status_code in (200, 404, 405), url


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_only_admins_open_the_console(client: Any, rep1: Any, manager: Any, admin_user: Any, url: str) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/?next=")
    for user in (rep1, manager):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    assert b"<h1" in page.content


def _grid_post(resource: str, changes: dict[tuple[str, str], str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"digest": policy_digest(resource), **extra}
    stored = {(r.field, r.role): r for r in FieldPermission.objects.filter(resource=resource)}
    for (field, role), row in stored.items():
        data[f"level-{field}-{role}"] = row.level
        if row.reveal_allowed:
            data[f"reveal-{field}-{role}"] = "on"
    for (field, role), level in changes.items():
        data[f"level-{field}-{role}"] = level
    return data


def test_saving_the_grid_applies_at_once_and_is_audited(admin_client: Any, api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, website="https://secret.example.com")
    assert "website" in api(rep1).get(f"/api/v1/customers/{customer.pk}/").json()
    before = AuditEvent.objects.count()
    response = admin_client.post(
        "/console/fields/customers/", _grid_post("customers", {("website", "rep"): "hidden"}), follow=True
    )
    assert response.status_code == 200
    row = FieldPermission.objects.get(resource="customers", field="website", role="rep")
    assert row.level == "hidden"
    events = AuditEvent.objects.filter(resource="access.fieldpermission").order_by("-seq")
    assert AuditEvent.objects.count() == before + 1 and events[0].action == "create"
    assert "website" not in api(rep1).get(f"/api/v1/customers/{customer.pk}/").json()
    # Back to the default level: the rule is removed (and that is audited too).
    admin_client.post("/console/fields/customers/", _grid_post("customers", {("website", "rep"): "write"}))
    assert not FieldPermission.objects.filter(resource="customers", field="website", role="rep").exists()
    assert events.first().action == "delete"


def test_a_stale_grid_is_refused_and_writes_nothing(admin_client: Any) -> None:
    stale = _grid_post("customers", {("website", "rep"): "masked"})
    admin_client.post("/console/fields/customers/", _grid_post("customers", {("name", "integration"): "read"}))
    rules = FieldPermission.objects.count()
    response = admin_client.post("/console/fields/customers/", stale)
    assert response.status_code == 409
    assert FieldPermission.objects.count() == rules
    assert not FieldPermission.objects.filter(field="website", role="rep").exists()


def test_unknown_levels_are_refused(admin_client: Any) -> None:
    response = admin_client.post("/console/fields/customers/", _grid_post("customers", {("website", "rep"): "owner"}))
    assert response.status_code == 400
    assert admin_client.get("/console/fields/no-such-thing/").status_code == 404


def test_create_and_edit_users(admin_client: Any, team: Any) -> None:
    data = {
        "username": "wang",
        "first_name": "王",
        "last_name": "芳",
        "email": "w@example.com",
        "role": "rep",
        "team": team.pk,
        "is_active": "on",
        "password": "123",
    }
    weak = admin_client.post("/console/users/new/", data)
    assert weak.status_code == 422 and not User.objects.filter(username="wang").exists()
    data["password"] = "a-Long-enough-pass-42"
    assert admin_client.post("/console/users/new/", data).status_code == 302
    user = User.objects.get(username="wang")
    assert user.check_password("a-Long-enough-pass-42") and user.team == team
    assert AuditEvent.objects.filter(resource="accounts.user", object_id=str(user.pk), action="create").exists()
    edit = {**data, "password": "", "role": "manager", "version": user.version}
    assert admin_client.post(f"/console/users/{user.pk}/", edit).status_code == 302
    user.refresh_from_db()
    assert user.role == "manager" and user.check_password("a-Long-enough-pass-42")
    stale = admin_client.post(f"/console/users/{user.pk}/", {**edit, "role": "rep"}, HTTP_ACCEPT_LANGUAGE="en")
    assert stale.status_code == 409
    assert "changed by someone else" in " ".join(stale.context["form"].non_field_errors())
    user.refresh_from_db()
    assert user.role == "manager"


def test_user_list_filters_and_costs_constant_queries(admin_client: Any, team: Any) -> None:
    for n in range(3):
        UserFactory(username=f"few{n}", team=team)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/console/users/").status_code == 200
    for n in range(20):
        UserFactory(username=f"many{n}", team=team)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get("/console/users/")
    assert len(many) == len(few)
    assert "many19" in page.content.decode()
    only = admin_client.get("/console/users/", {"q": "few1"}).content.decode()
    assert "few1" in only and "many1" not in only


def test_teams_are_led_by_managers(admin_client: Any, manager: Any, rep1: Any) -> None:
    refused = admin_client.post("/console/teams/new/", {"name": "北方组", "manager": rep1.pk, "region": "north"})
    assert refused.status_code == 422 and not Team.objects.filter(name="北方组").exists()
    ok = admin_client.post("/console/teams/new/", {"name": "北方组", "manager": manager.pk, "region": "north"})
    assert ok.status_code == 302 and Team.objects.get(name="北方组").manager == manager


def test_tokens_are_shown_once_used_and_revoked(admin_client: Any, integration_user: Any, api: Any) -> None:
    created = admin_client.post(
        "/console/tokens/new/",
        {"user": integration_user.pk, "name": "ERP", "scopes": ["customers:read"], "expires_on": "2099-12-31"},
    )
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    token = APIToken.objects.get(name="ERP")
    key = created.context["key"]
    assert token.prefix == key[:8] and key not in admin_client.get("/console/tokens/").content.decode()
    reader = api()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert reader.get("/api/v1/customers/").status_code == 200
    assert reader.get("/api/v1/transactions/").status_code == 403  # outside its scopes
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert admin_client.post(f"/console/tokens/{token.pk}/revoke/").status_code == 302
    assert reader.get("/api/v1/customers/").status_code == 401
    past = admin_client.post(
        "/console/tokens/new/",
        {"user": integration_user.pk, "name": "old", "scopes": ["read"], "expires_on": "2000-01-01"},
    )
    assert past.status_code == 400 and not APIToken.objects.filter(name="old").exists()


def test_audit_log_filters_masks_and_checks_the_chain(admin_client: Any, admin_user: Any, api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, code="C-AUDIT-1")
    other = CustomerFactory(owner=rep1)
    client = api(rep1)
    etag = client.get(f"/api/v1/customers/{customer.pk}/")["ETag"]
    client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"website": "https://private.example.com"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    etag = client.get(f"/api/v1/customers/{other.pk}/")["ETag"]
    client.patch(f"/api/v1/customers/{other.pk}/", {"city": "杭州"}, format="json", HTTP_IF_MATCH=etag)

    page = admin_client.get("/console/audit/", {"customer": "C-AUDIT-1", "actor": rep1.username})
    html = page.content.decode()
    assert page.status_code == 200 and "https://private.example.com" in html and "杭州" not in html
    # Values are shown at the viewer's level: with the website masked for admins, so it is here.
    FieldPermission.objects.update_or_create(
        resource="customers", field="website", role="admin", defaults={"level": "masked"}
    )
    html = admin_client.get("/console/audit/", {"customer": "C-AUDIT-1"}).content.decode()
    assert "https://private.example.com" not in html
    assert admin_client.get("/console/audit/", {"customer": "nope"}).status_code == 400
    assert (
        admin_client.get("/console/audit/", {"since": "2026-02-01T00:00", "until": "2026-01-01T00:00"}).status_code
        == 400
    )

    intact = admin_client.post("/console/audit/verify/", follow=True).content.decode()
    assert 'data-testid="chain-result"' in intact and "alert-success" in intact
    victim = AuditEvent.objects.filter(customer_id=customer.pk).order_by("seq").first()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = %s", [victim.seq])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")
    broken = admin_client.post("/console/audit/verify/", follow=True).content.decode()
    assert "alert-danger" in broken and f"#{victim.seq}" in broken


def test_audit_log_pages_by_sequence_with_constant_queries(admin_client: Any, rep1: Any) -> None:
    for n in range(3):
        audit_bulk(resource="customers.customer", actor=rep1, summary={"label": f"import {n}", "rows": n})
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/console/audit/")
    for n in range(60):
        audit_bulk(resource="customers.customer", actor=rep1, summary={"label": f"import {n}", "rows": n})
    with CaptureQueriesContext(connection) as many:
        first = admin_client.get("/console/audit/")
    assert len(many) == len(few)
    assert first.context["next_before"] is not None
    older = admin_client.get("/console/audit/", {"before": first.context["next_before"]})
    assert older.status_code == 200
    assert all(e.seq < first.context["next_before"] for e in older.context["events"])
