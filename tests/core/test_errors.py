"""Whatever a client sends, the answer is JSON with a code and a message, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

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


def test_json_nested_past_the_bound_is_a_400_not_a_recursion_error(api: Any, rep1: Any) -> None:
    client = api(rep1)
    for body in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 65 + "]" * 65):
        refused = _is_error_json(client.post(URL, body, content_type="application/json"), 400)
        assert refused["code"] == "parse_error" and "64" in refused["message"]
    # 64 levels is JSON the API reads (and then finds not to be a customer).
    assert (
        _is_error_json(client.post(URL, "[" * 64 + "]" * 64, content_type="application/json"), 400)["code"] == "invalid"
    )


def test_a_body_past_the_size_bound_is_a_413(api: Any, rep1: Any) -> None:
    client = api(rep1)
    body = '{"name": "' + "z" * (1024 * 1024) + '"}'
    assert _is_error_json(client.post(URL, body, content_type="application/json"), 413)["code"] == "too_large"
    with override_settings(CRM_REQUEST_MAX_BYTES=100, DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        small = client.post(URL, {"name": "x" * 50}, format="json")
        large = client.post(URL, {"name": "x" * 101}, format="json")
    assert small.status_code == 201 and _is_error_json(large, 413)["code"] == "too_large"


def test_the_timeline_refuses_times_it_cannot_place(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(rep1)
    url = f"{URL}{customer.pk}/timeline/"
    for before in ("9999-12-31T23:59:59Z", "0001-01-01", "0001-01-01T00:00:00Z", "٢٠٢٤-٠١-٠١", "soon"):
        assert "before" in _is_error_json(client.get(url, {"before": before}), 400)["fields"], before
    assert "limit" in _is_error_json(client.get(url, {"limit": "١٢"}), 400)["fields"]
    assert client.get(url, {"before": "2030-01-01T00:00"}).status_code == 200  # a local time is the business zone's
    assert client.get(url, {"before": "2030-01-01T00:00:00+08:00", "limit": "5000"}).status_code == 200


def test_a_nul_in_a_parameter_is_a_400(api: Any, rep1: Any, client: Any) -> None:
    assert _is_error_json(api(rep1).get(URL, {"city": "上海\x00"}), 400)["code"] == "invalid"
    client.force_login(rep1)
    assert client.get("/campaigns/", {"status": "\x00"}).status_code == 400
    assert client.get("/alerts/", {"q": "a\x00b"}).status_code == 400
    assert (
        client.post(f"/customers/{CustomerFactory(owner=rep1).pk}/tier-override/", {"tier": "\x00"}).status_code == 400
    )


def test_pages_take_ids_and_page_numbers_in_the_digits_0_to_9(client: Any, manager: Any, rep1: Any) -> None:
    client.force_login(manager)
    for run in ("abc", "١", "9" * 5000, "99999999999999999999", "-1"):
        assert client.get("/tiers/moves/", {"run": run}).status_code == 404, run
    for page in ("99999999999999999999", "9" * 5000, "١٢", "-3"):
        assert client.get("/customers/", {"page": page}).status_code == 200, page
