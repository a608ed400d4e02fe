"""An admin unlocks a user locked out after too many failed sign-ins, from the console:
the users list says who is locked out, the unlock is audited, and the user signs in at
once.  The locked-out page says how long in minutes, in the reader's language."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import Client

from crm.accounts.choices import Role
from crm.audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-Long-enough-pass-42"


def _locked_out(client: Client) -> Any:
    user = UserFactory(username=f"lock-{secrets.token_hex(4)}", role=Role.REP)
    user.set_password(PASSWORD)
    user.save()
    for _ in range(5):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    return user


def test_an_admin_unlocks_a_locked_out_user(client: Client, admin_user: Any) -> None:
    user = _locked_out(client)
    try:
        locked = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        assert locked.status_code == 429
        text = locked.content.decode()
        assert "15 分钟后重试" in text and "PT15M" not in text

        admin = Client()
        admin.force_login(admin_user)
        listing = admin.get("/console/users/", {"q": user.username}).content.decode()
        assert f'data-testid="locked-{user.pk}"' in listing
        answer = admin.post(f"/console/users/{user.pk}/unlock/", follow=True)
        assert answer.status_code == 200 and f'data-testid="locked-{user.pk}"' not in answer.content.decode()
        event = AuditEvent.objects.filter(resource="accounts.user", object_id=str(user.pk)).latest("seq")
        assert event.actor_id == admin_user.pk and event.changes["sign-in"]["after"] == "unlocked"

        signed_in = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    finally:
        AxesProxyHandler.reset_attempts(username=user.username, ip_address="127.0.0.1")


def test_only_an_admin_may_unlock(client: Client, rep1: Any, manager: Any) -> None:
    user = _locked_out(client)
    try:
        for who in (rep1, manager):
            other = Client()
            other.force_login(who)
            assert other.post(f"/console/users/{user.pk}/unlock/").status_code == 403
        assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 429
    finally:
        AxesProxyHandler.reset_attempts(username=user.username, ip_address="127.0.0.1")


def test_the_locked_out_page_speaks_english_too(client: Client) -> None:
    user = _locked_out(client)
    try:
        locked = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert "Try again in 15 min" in locked.content.decode()
    finally:
        AxesProxyHandler.reset_attempts(username=user.username, ip_address="127.0.0.1")
