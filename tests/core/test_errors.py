"""Whatever a client sends, the answer is JSON with a code and a message, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


def _is_error_json(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] and body["message"]
    return body


def test_malformed_json(api: Any, rep1: Any) -> None:
    _is_error_json(api(rep1).post(URL, "{oops", content_type="application/json"), 400)


def test_unsupported_media_type(api: Any, rep1: Any) -> None:
    _is_error_json(api(rep1).post(URL, "name=x", content_type="application/x-www-form-urlencoded"), 415)


def test_wrong_method_and_unknown_id(api: Any, rep1: Any) -> None:
    _is_error_json(api(rep1).put("/api/v1/audit-events/1/", {}, format="json"), 405)
    _is_error_json(api(rep1).get(f"{URL}999999/"), 404)
    _is_error_json(api(rep1).get(f"{URL}not-a-number/"), 404)


def test_pages_and_page_sizes(api: Any, rep1: Any) -> None:
    for _ in range(3):
        CustomerFactory(owner=rep1)
    client = api(rep1)
    assert len(client.get(URL, {"page_size": 100000}).json()["results"]) == 3
    assert client.get(URL, {"page_size": "lots"}).status_code == 200
    _is_error_json(client.get(URL, {"page": "abc"}), 404)
    _is_error_json(client.get(URL, {"page": 0}), 404)


def test_wrong_types_everywhere_are_400(api: Any, rep1: Any) -> None:
    client = api(rep1)
    for payload in (
        [1, 2],
        "just a string",
        42,
        None,
        {"name": {"nested": True}},
        {"name": ["a"]},
        {"name": "ok", "employee_count": "many"},
        {"name": "ok", "annual_revenue": "1e400"},
        {"name": "ok", "annual_revenue": "NaN"},
        {"name": "ok", "customer_since": "0000-00-00"},
        {"name": "\x00"},
    ):
        response = client.post(URL, payload, format="json")
        assert response.status_code == 400, (payload, response.content)


def test_bad_if_match_is_a_412_not_a_crash(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = api(rep1).patch(f"{URL}{customer.pk}/", {"city": "x"}, format="json", HTTP_IF_MATCH="garbage")
    _is_error_json(response, 412)


def test_unknown_filter_values_and_ordering_fields(api: Any, rep1: Any) -> None:
    client = api(rep1)
    _is_error_json(client.get(URL, {"owner": "abc"}), 400)
    assert client.get(URL, {"ordering": "password"}).status_code == 200  # ignored, not an error
    _is_error_json(client.get(URL, {"created_after": "soon"}), 400)


def test_home_leads_to_sign_in_and_session_login_works(client: Any, rep1: Any) -> None:
    assert client.get("/").headers["Location"] == "/accounts/login/?next=/"
    assert client.get("/api/v1/customers/").status_code in (401, 403)
    page = client.get("/api-auth/login/")
    assert page.status_code == 200
    rep1.set_password("a-Long-enough-pass-42")
    rep1.save()
    response = client.post(
        "/api-auth/login/", {"username": "rep1", "password": "a-Long-enough-pass-42", "next": "/api/v1/customers/"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/customers/", HTTP_ACCEPT="application/json").status_code == 200
    assert client.get("/").status_code == 200  # my day
