"""Application security: lockout, throttling, CSP, headers and the production profile."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import override_settings

from crm.access.models import FieldPermission
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_login_locks_after_five_failures_even_with_the_right_password(client: Any) -> None:
    user = UserFactory(username=f"lock-{secrets.token_hex(4)}")
    user.set_password("a-Long-enough-pass-42")
    user.save()
    try:
        codes = [
            client.post("/accounts/login/", {"username": user.username, "password": "wrong"}).status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]  # the form again with its error, then the lock
        locked = client.post("/accounts/login/", {"username": user.username, "password": "a-Long-enough-pass-42"})
        assert locked.status_code == 429
        assert 'data-testid="locked-out"' in locked.content.decode()
        assert "_auth_user_id" not in client.session
    finally:
        AxesProxyHandler.reset_attempts(username=user.username, ip_address="127.0.0.1")
    ok = client.post("/accounts/login/", {"username": user.username, "password": "a-Long-enough-pass-42"})
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_api_requests_are_throttled_per_user(api: Any, rep1: Any, rep2: Any) -> None:
    rates = {"anon": "2/minute", "user": "3/minute", "reveal": "100/minute"}
    with override_settings(CRM_THROTTLE_RATES=rates):
        client = api(rep1)
        assert [client.get("/api/v1/customers/").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert "Retry-After" in client.get("/api/v1/customers/")
        assert api(rep2).get("/api/v1/customers/").status_code == 200  # another user has their own budget
        anonymous, address = api(), f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
        assert [anonymous.get("/healthz", REMOTE_ADDR=address).status_code for _ in range(3)] == [200] * 3
        assert [anonymous.get("/api/schema/", REMOTE_ADDR=address).status_code for _ in range(3)] == [200, 200, 429]


def test_reveals_have_their_own_tighter_limit(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    contact = ContactFactory(customer=customer, mobile="13912345678")
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "masked"}
    )
    client = api(rep1)
    with override_settings(CRM_THROTTLE_RATES={"anon": "100/minute", "user": "100/minute", "reveal": "2/hour"}):
        url = f"/api/v1/contacts/{contact.pk}/reveal/"
        codes = [
            client.post(url, {"field": "mobile", "reason": "回访确认"}, format="json").status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        assert client.get("/api/v1/contacts/").status_code == 200  # reading goes on


def test_pages_carry_a_nonce_csp_and_security_headers(client: Any) -> None:
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["script-src"] == "'self'"  # this page has no inline script, so not even a nonce
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    html = response.content.decode()
    # No inline script without the nonce: every <script> has a src on this site.
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag, tag


def test_an_inline_script_runs_only_with_the_responses_nonce(client: Any, monkeypatch: Any) -> None:
    from drf_spectacular.settings import spectacular_settings

    # With settings, the reference page starts Redoc from an inline script.
    monkeypatch.setattr(spectacular_settings, "REDOC_UI_SETTINGS", {"hideDownloadButton": True})
    response = client.get("/api/redoc/")
    nonce = re.search(r"<script nonce=\"([^\"]+)\">", response.content.decode())
    assert nonce, "the page's inline script carries a nonce"
    assert f"'nonce-{nonce.group(1)}'" in response["Content-Security-Policy"]
    assert "fonts.googleapis.com" not in response.content.decode()


def test_session_and_csrf_cookies_are_http_only(client: Any, rep1: Any) -> None:
    rep1.set_password("a-Long-enough-pass-42")
    rep1.save()
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["httponly"] and page.cookies["csrftoken"]["samesite"] == "Lax"
    response = client.post("/accounts/login/", {"username": rep1.username, "password": "a-Long-enough-pass-42"})
    assert response.cookies["sessionid"]["httponly"] and response.cookies["sessionid"]["samesite"] == "Lax"


def test_password_validators_refuse_weak_passwords(client: Any, rep1: Any) -> None:
    rep1.set_password("a-Long-enough-pass-42")
    rep1.save()
    client.force_login(rep1)
    weak = client.post(
        "/accounts/password_change/",
        {"old_password": "a-Long-enough-pass-42", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert weak.status_code == 200 and weak.context["form"].errors
    rep1.refresh_from_db()
    assert rep1.check_password("a-Long-enough-pass-42")


def test_check_deploy_is_clean_under_the_production_profile() -> None:
    # The browser tests relax async safety for their own process only.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "crm.settings_production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_production_profile_refuses_a_missing_secret_key() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_production", "DJANGO_SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_a_garbage_forwarded_address_behind_a_proxy_breaks_no_write(api: Any, client: Any, rep1: Any) -> None:
    """The client writes the first entry of X-Forwarded-For: garbage there used to fail
    every write (the audit event's address column refused it)."""
    from crm.audit.models import AuditEvent

    client.force_login(rep1)
    url = "/api/v1/customers/"
    with override_settings(CRM_TRUST_X_FORWARDED_FOR=True):
        forged = api(rep1).post(url, {"name": "甲"}, format="json", HTTP_X_FORWARDED_FOR="not-an-ip, 10.0.0.9")
        page = client.post("/customers/new/", {"name": "乙"}, HTTP_X_FORWARDED_FOR="::::, 10.0.0.9")
        relayed = api(rep1).post(url, {"name": "丙"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.9")
    assert (forged.status_code, page.status_code, relayed.status_code) == (201, 302, 201)
    events = AuditEvent.objects.filter(resource="customers.customer", action="create").order_by("seq")
    assert list(events.values_list("ip", flat=True)) == ["127.0.0.1", "127.0.0.1", "203.0.113.7"]
