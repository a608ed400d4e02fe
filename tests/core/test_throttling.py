"""Rate limits let through exactly their number of requests, however many arrive at once.

The count is kept by one atomic script in the real Redis (crm.core.throttling); these
tests race many threads, and many requests to a real server, against one limit.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from crm.core.throttling import AnonThrottle, RevealThrottle, UserThrottle

RATES = {"anon": "40/hour", "user": "40/hour", "reveal": "40/hour"}


def _request(user_pk: int | None, address: str) -> Request:
    """A request from ``address``, of a user with that id (or anonymous)."""
    request = Request(APIRequestFactory().get("/api/v1/customers/", REMOTE_ADDR=address))
    request.user = SimpleNamespace(is_authenticated=user_pk is not None, pk=user_pk)
    return request


def _race(throttle_class: type, request: Any, view: Any, *, threads: int = 16, each: int = 8) -> list[bool]:
    """Every thread waits for the others, then asks the throttle ``each`` times."""
    start = threading.Barrier(threads)

    def ask() -> list[bool]:
        start.wait()
        return [throttle_class().allow_request(request, view) for _ in range(each)]

    with ThreadPoolExecutor(threads) as pool:
        return [answer for answers in pool.map(lambda _i: ask(), range(threads)) for answer in answers]


@pytest.mark.parametrize(
    ("throttle_class", "signed_in", "action"),
    [(UserThrottle, True, "list"), (AnonThrottle, False, "list"), (RevealThrottle, True, "reveal")],
)
def test_exactly_the_limit_passes_when_threads_race(throttle_class: type, signed_in: bool, action: str) -> None:
    ident = secrets.randbelow(10**9) + 10**9  # a client no other test (or run) counts for
    request = _request(ident if signed_in else None, f"10.9.{ident % 250}.{ident % 249}")
    with override_settings(CRM_THROTTLE_RATES=RATES):
        answers = _race(throttle_class, request, SimpleNamespace(action=action))
    assert len(answers) == 128
    assert answers.count(True) == 40


def test_a_refused_request_is_not_counted_and_says_when_to_come_back() -> None:
    request, view = _request(secrets.randbelow(10**9) + 10**9, "10.0.0.1"), SimpleNamespace(action="list")
    with override_settings(CRM_THROTTLE_RATES={**RATES, "user": "3/second"}):
        throttle = UserThrottle()
        assert [UserThrottle().allow_request(request, view) for _ in range(3)] == [True] * 3
        assert not throttle.allow_request(request, view)
        assert throttle.wait() == 1
        time.sleep(1.05)  # the window slides past the first three
        assert [UserThrottle().allow_request(request, view) for _ in range(4)] == [True, True, True, False]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_under_concurrent_load_lets_exactly_the_limit_through(live_server: Any) -> None:
    from tests.factories import UserFactory

    user = UserFactory(username=f"load-{secrets.token_hex(4)}")
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"

    def get(_i: int) -> tuple[int, str, str]:
        url = f"{live_server.url}/api/v1/users/me/"  # the test's own server, over http
        request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test's own server
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers.get("Retry-After", ""), refused.read().decode()

    with override_settings(CRM_THROTTLE_RATES={**RATES, "user": "25/hour"}), ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(get, range(60)))
    codes = [code for code, _wait, _body in answers]
    assert codes.count(200) == 25, codes
    assert codes.count(429) == 35, codes
    for code, wait, body in answers:
        if code == 429:
            assert 1 <= int(wait) <= 3600
            assert '"code":"throttled"' in body.replace(" ", "")
