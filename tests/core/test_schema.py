"""The OpenAPI document: generated without warnings, covering every route, served without a CDN."""

from __future__ import annotations

import re
from functools import cache
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from crm.api_urls import router

pytestmark = pytest.mark.django_db


@cache
def _schema() -> dict[str, Any]:
    """Generated once per run (it reads no data): a warning or an invalid document fails it."""
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_schema_generates_cleanly_and_documents_every_route() -> None:
    schema = _schema()
    paths = set(schema["paths"])
    for prefix, _viewset, _basename in router.registry:
        assert f"/api/v1/{prefix}/" in paths, prefix
        assert f"/api/v1/{prefix}/{{id}}/" in paths, prefix
    assert "/api/v1/customers/{id}/timeline/" in paths
    assert "/api/v1/transactions/upsert/" in paths
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    expected = {
        "customers",
        "contacts",
        "transactions",
        "service-records",
        "feedback",
        "campaigns",
        "participations",
        "risk-alerts",
        "tiers",
        "tier-changes",
        "audit-events",
        "field-permissions",
        "users",
    }
    assert expected <= {prefix for prefix, _v, _b in router.registry}


def test_schema_endpoint_serves_the_document(client: Any) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content


def test_docs_page_loads_only_local_assets(client: Any) -> None:
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page references its assets"
    # The page's own script is served by the page itself (so it runs under the CSP).
    assert all(url.startswith(("/static/", "/api/docs/?script=")) for url in assets), assets
    assert "cdn" not in html.lower()


# ------------------------------------------------------------ every status, every answer
def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's own schema, without the masked alternative the field policy adds."""
    return schema["anyOf"][0] if "anyOf" in schema else schema


def _extends_error(schema: dict[str, Any], body: dict[str, Any]) -> bool:
    """An error answer that says more than ``Error`` (a refused create's ``similar``
    records), with the same required ``code`` and ``message``."""
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return set(component.get("required", [])) == {"code", "message"} and {"code", "message"} <= set(
        component["properties"]
    )


def test_every_operation_documents_the_errors_it_can_answer() -> None:
    schema = _schema()
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        label = f"{method.upper()} {path}"
        expected = {"401", "403", "429"}
        if "{id}" in path:
            expected.add("404")
        if method != "get":
            expected |= {"400", "409"} if not path.endswith("/reveal/") else {"400"}
        if "requestBody" in operation:
            expected |= {"400", "413"}
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            expected.add("400")
        if any(parameter["name"] == "page" for parameter in operation.get("parameters", [])):
            expected.add("404")
        assert expected <= set(responses), (label, sorted(responses))
        for status in set(responses) - {"200", "201", "202", "204"}:
            body = responses[status]["content"]["application/json"]["schema"]
            assert body == error or _extends_error(schema, body), (label, status)
        assert any(status < "300" for status in responses), label
    assert {"code", "message"} == set(schema["components"]["schemas"]["Error"]["required"])


def test_writes_of_versioned_records_need_if_match_and_reads_give_the_etag() -> None:
    paths = _schema()["paths"]
    record = paths["/api/v1/customers/{id}/"]
    for method in ("put", "patch", "delete"):
        if_match = [p for p in record[method]["parameters"] if p["name"] == "If-Match"]
        assert if_match and if_match[0]["in"] == "header" and if_match[0]["required"], method
        assert {"412", "428"} <= set(record[method]["responses"]), method
    assert record["get"]["responses"]["200"]["headers"]["ETag"]["required"]
    assert record["patch"]["responses"]["200"]["headers"]["ETag"]["required"]
    assert "ETag" in paths["/api/v1/customers/"]["post"]["responses"]["201"]["headers"]
    assert set(record["delete"]["responses"]) >= {"204"}
    assert "201" in paths["/api/v1/customers/"]["post"]["responses"]
    # A token has no version: revoking it asks for no If-Match.
    revoke = paths["/api/v1/api-tokens/{id}/"]["delete"]
    assert not any(p["name"] == "If-Match" for p in revoke["parameters"])
    assert "428" not in revoke["responses"]


def test_answers_that_can_be_null_say_so() -> None:
    schemas = _schema()["components"]["schemas"]
    for component, field in [
        ("Activity", "contact_name"),
        ("Customer", "team_name"),
        ("Customer", "tier"),
        ("Customer", "tier_evaluated_at"),
        ("TierChange", "from_tier_code"),
        ("TierChange", "to_tier_code"),
        ("Transaction", "product_name"),
        ("Campaign", "owner_name"),
        ("User", "team_name"),
        ("Team", "manager_name"),
    ]:
        assert _plain(schemas[component]["properties"][field]).get("nullable"), (component, field)
    # A field through a relation that is never null is not.
    assert not _plain(schemas["Activity"]["properties"]["customer_name"]).get("nullable")
    assert "customer_count" in schemas["Tier"]["required"]


def test_fields_under_the_field_policy_may_be_hidden_or_masked() -> None:
    schemas = _schema()["components"]["schemas"]
    masked = {"$ref": "#/components/schemas/MaskedValue"}
    contact = schemas["Contact"]
    assert contact["x-field-policy"] == "contacts"
    assert "required" not in contact
    assert masked in contact["properties"]["birthday"]["anyOf"]
    assert masked in contact["properties"]["phone"]["anyOf"]
    # Choices keep their shared enum component.
    kind = schemas["Customer"]["properties"]["kind"]["anyOf"][0]
    enum = {"$ref": "#/components/schemas/CustomerKindEnum"}
    assert kind == enum or (kind["allOf"] == [enum] and set(kind) <= {"allOf", "title", "description"})
    # Requests and resources outside the policy are as the serializer says.
    assert "x-field-policy" not in schemas["ContactRequest"] and "required" in schemas["ContactRequest"]
    assert "x-field-policy" not in schemas["Tier"] and "required" in schemas["Tier"]


def test_export_answers_csv_or_xlsx_and_takes_the_lists_filters() -> None:
    export = _schema()["paths"]["/api/v1/customers/export/"]["get"]
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    names = {parameter["name"] for parameter in export["parameters"]}
    assert {"search", "ordering", "lifecycle_stage", "format"} <= names
    assert "page" not in names


def test_posts_that_only_refuse_are_not_operations() -> None:
    paths = _schema()["paths"]
    for prefix in ("tier-changes", "tier-runs", "risk-scans"):
        assert set(paths[f"/api/v1/{prefix}/"]) == {"get"}, prefix
        assert "post" in paths[f"/api/v1/{prefix}/{'override' if prefix == 'tier-changes' else 'start'}/"]


def test_an_api_url_that_matches_no_route_is_a_json_404(client: Any) -> None:
    response = client.get("/api/v1/customers/1.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]


def test_tier_writes_answer_with_the_customer_count(api: Any, admin_user: Any, reference_tiers: None) -> None:
    client = api(admin_user)
    created = client.post(
        "/api/v1/tiers/",
        {"code": "platinum-x", "name_en": "Platinum X", "name_zh": "铂金 X", "rank": 77, "colour": "#aabbcc"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["customer_count"] == 0
    changed = client.patch(
        f"/api/v1/tiers/{created.json()['id']}/",
        {"name_en": "Platinum Y"},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["customer_count"] == 0
