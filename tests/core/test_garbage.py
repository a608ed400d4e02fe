"""Whatever a client sends to any endpoint or page, the answer is never a 5xx.

The walk is generated, not listed by hand: it takes every route of the API router (lists,
exports, details and every extra action), every page of the URLconf (workspace, console,
sign-in, API docs) and every list of the admin site, and requests each as an admin and
as a sales rep with garbage in every parameter the endpoint declares (its filterset's
filters, search, ordering, paging) or the page reads, and with garbage headers; then it
sends garbage bodies to every API create, update and action (the OpenAPI document names
their fields) and to every form of every page.  A new endpoint, filter, action or page
is walked without touching this file.

A garbage value goes into all the parameters of a route at once, and the ones the API
refuses (its 400 names them) are dropped and the rest sent again, so that each value
reaches the query through every parameter that accepts it.  The values each route, page
and form gets are drawn with a fixed seed, so a run is the same each time and takes
under a minute; ``CRM_GARBAGE_SEED`` draws others, ``CRM_GARBAGE_FULL=1`` sends every
value everywhere (many minutes).  Each test prints how many requests it made.
"""

from __future__ import annotations

import ast
import inspect
import os
import random
import re
import textwrap
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from crm.access.scope import scoped_queryset
from crm.accounts.models import User
from crm.api_urls import router
from tests.factories import restore_shipped_rules, restore_shipped_tiers

pytestmark = pytest.mark.django_db
SEED = int(os.environ.get("CRM_GARBAGE_SEED", "16"))
#: ``CRM_GARBAGE_FULL=1``: every value in every parameter and field (many minutes).
FULL = os.environ.get("CRM_GARBAGE_FULL") == "1"

#: Values no query parameter or form field should ever turn into a 5xx.
GARBAGE: tuple[str, ...] = (
    "abc",
    "",
    "-1",
    "0",
    "1.5",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "1e400",
    "NaN",
    "0001-01-01",
    "0001-01-01T00:00:00Z",
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "1899-12-31T23:59:59",
    "2024-02-30",
    "2024-01-01T25:61:61",
    "١٢٣",
    "٢٠٢٤-٠١-٠١",
    "１２３",
    "\x00",
    "a\x00b",
    "\x1b[31m\x07\u0085\u009f",
    "\ud7ff\ufffe🙂",
    "x" * 5000,
    "9" * 5000,
    "true",
    "null",
    "1,2,3",
    "-id,password,__class__,-",
    "customer__owner__password",
    "%00%",
    "<script>alert(1)</script>'\"",
)

#: Values that pass a lax parser and reach the database (or the calendar's ends).
REACHES_DATABASE = (
    "99999999999999999999999999",
    "9" * 5000,
    "-1",
    "١٢٣",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "a\x00",
)

#: JSON values no body field should ever turn into a 5xx.
JSON_GARBAGE: tuple[Any, ...] = (
    *GARBAGE,
    None,
    True,
    -1,
    0,
    2**70,
    -(2**70),
    1e308,
    0.1,
    [],
    [1, "a", None],
    {},
    {"id": 1, "x": [{}]},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    "y" * 200_000,
)

#: Whole bodies no endpoint should ever answer with a 5xx: (content type, body).
BODIES: tuple[tuple[str, str | bytes], ...] = (
    ("application/json", "[" * 1000 + "]" * 1000),
    ("application/json", '{"a":' * 1000 + "1" + "}" * 1000),
    ("application/json", "[" * 100_000),
    ("application/json", "[" * 65 + "]" * 65),
    ("application/json", '{"name": "' + "z" * 3_000_000 + '"}'),
    ("application/json", "{oops"),
    ("application/json", ""),
    ("application/json", "[]"),
    ("application/json", '"a string"'),
    ("application/json", "42"),
    ("application/json", "null"),
    ("application/json", "NaN"),
    ("application/json", b'{"name": "\xff\xfe\xc3"}'),
    ("application/json", b"\xef\xbb\xbf{}"),
    ("application/json; charset=ebcdic-klingon", "{}"),
    ("application/json; charset=utf-16", "{}"),
    ("text/plain", "hello"),
    ("application/xml", "<a><b/></a>"),
    ("application/x-www-form-urlencoded", "name=x&name=%00&" + "a=1&" * 2000),
    ("multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--'),
    ("multipart/form-data", "no boundary"),
    ("", "{}"),
)

BODIES = tuple((kind, raw if isinstance(raw, bytes) else raw.encode()) for kind, raw in BODIES)

#: Query parameters every list or page might read, besides the ones it declares.
GENERIC_PARAMS = ("page", "page_size", "cursor", "before", "after", "run", "limit", "ordering", "search", "format")

#: Headers with garbage values.
GARBAGE_HEADERS: tuple[dict[str, str], ...] = (
    {"HTTP_ACCEPT_LANGUAGE": "xx-YY;q=abc, *;q=2, zh-hans;q=-1"},
    {"HTTP_ACCEPT_LANGUAGE": "a-" * 5000},
    {"HTTP_ACCEPT_LANGUAGE": "\x00;q=\x00, 中文"},
    {"HTTP_X_REQUEST_ID": "r" * 100_000},
    {"HTTP_X_REQUEST_ID": "\x00\n\r💥"},
    {"HTTP_ACCEPT": "application/xml"},
    {"HTTP_ACCEPT": "text/html"},
    {"HTTP_ACCEPT": "*/*;q=abc, text/html;q=2"},
    {"HTTP_ACCEPT": "application/json; version=\x00; indent=-5"},
    {"HTTP_ACCEPT": "application/json; indent=999999999"},
    {"HTTP_ACCEPT": "text/csv"},
    {"HTTP_AUTHORIZATION": "Token"},
    {"HTTP_AUTHORIZATION": "Token a b c"},
    {"HTTP_AUTHORIZATION": "Token " + "k" * 10000},
    {"HTTP_AUTHORIZATION": "Token \x00"},
    {"HTTP_AUTHORIZATION": "Token ١٢٣"},
    {"HTTP_AUTHORIZATION": "Bearer abc"},
    {"HTTP_AUTHORIZATION": "Basic !!!notbase64"},
    {"HTTP_AUTHORIZATION": "Basic YTpi"},
    {"HTTP_IF_MODIFIED_SINCE": "9999-99-99"},
    {"HTTP_IF_NONE_MATCH": '"' + "9" * 5000 + '"'},
    {"HTTP_X_FORWARDED_FOR": "not-an-ip, ::::, 999.999.1.1"},
    {"HTTP_HOST": "evil.example.com"},
    {"HTTP_COOKIE": "sessionid=\x00; django_language=\x00xx; csrftoken=" + "c" * 5000},
    {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "\x00", "HTTP_HX_CURRENT_URL": "::"},
)

#: Pages that take seconds whatever they are asked (the OpenAPI document is generated).
SLOW_PAGES = ("/api/schema/",)

#: Pages that end the session: not posted, so that the walk keeps its own.
ENDS_SESSION = ("accounts/logout/", "api-auth/logout/")


@dataclass
class Walk:
    """The requests made and the 5xx answers met."""

    requests: int = 0
    answered: int = 0  # with a 2xx or 3xx: the walk reached the endpoint, not only its door
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def send(self, client: Client, method: str, url: str, what: str, *args: Any, **kwargs: Any) -> Any:
        """Make one request in a savepoint that is rolled back afterwards, so a failed
        statement does not poison the requests after it and each one sees the same book."""
        # As a WSGI server hands them over: the bytes sent (UTF-8) read as Latin-1.
        kwargs = {
            key: value.encode().decode("latin-1") if key.startswith("HTTP_") else value for key, value in kwargs.items()
        }
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        savepoint = transaction.savepoint()
        try:
            if args and isinstance(args[0], bytes):  # a body sent as it is, whatever its declared charset
                response = client.generic(method.upper(), url, args[0], **kwargs)
            else:
                response = getattr(client, method)(url, *args, **kwargs)
        finally:
            transaction.set_rollback(False)
            transaction.savepoint_rollback(savepoint)
            if session is not None:
                client.cookies[settings.SESSION_COOKIE_NAME] = session.value
        self.requests += 1
        self.answered += response.status_code < 400
        if response.status_code >= 500:
            where = ""
            if getattr(response, "exc_info", None):
                kind, error, trace = response.exc_info
                frame = traceback.extract_tb(trace)[-1]
                where = f" — {kind.__name__}: {str(error)[:160]} at {frame.filename}:{frame.lineno}"
            self.failures.append(f"{response.status_code} {method.upper()} {url} {what[:160]}{where}")
        return response

    def report(self, name: str, *, all_refused: bool = False) -> None:
        took = time.monotonic() - self.started
        print(f"\n{name}: {self.requests} requests ({self.answered} answered) in {took:.1f} s")  # noqa: T201
        if not all_refused:  # garbage is mostly refused, but a walk refused at the door proves nothing
            assert self.answered >= self.requests // 20, "the walk was turned away: is it signed in?"
        assert not self.failures, f"{len(self.failures)} answers were 5xx:\n" + "\n".join(self.failures[:60])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


# ------------------------------------------------------------------ the data walked over
@pytest.fixture(scope="module")
def book(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """A small demo book (customers with every kind of record), graded and scanned, so
    that every detail route and page has a real record to show; rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        from risk.models import RiskRule
        from tiers.models import ScoringPolicy, Tier

        if not Tier.objects.exists():  # an earlier transactional test emptied the tables
            restore_shipped_tiers()
        if not ScoringPolicy.objects.filter(is_active=True).exists():
            import_module("tiers.migrations.0004_default_scoring_policy").create(apps, None)
        if not RiskRule.objects.exists():
            restore_shipped_rules()
        quiet = StringIO()
        call_command("seed_demo", "--customers", "12", "--seed", "5", stdout=quiet)
        call_command("evaluate_tiers", "--sync", stdout=quiet)
        call_command("scan_risks", "--sync", stdout=quiet)
        yield {"admin": User.objects.get(username="admin"), "rep": User.objects.get(username="rep1")}
        transaction.set_rollback(True)


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _visible_pk(model: Any, user: Any) -> Any:
    """A record the user may see, else any record (a 404 is walked too), else 1."""
    pk = scoped_queryset(model, user).order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return pk if pk is not None else 1


# ------------------------------------------------------------------ what the API declares
@dataclass
class Route:
    url: str
    params: tuple[str, ...]
    kind: str  # list, export, detail, action


def _params_of(viewset: Any) -> tuple[str, ...]:
    """The query parameters a list declares: its filterset's filters (with the suffixes of
    range filters), then the paging, search and ordering ones."""
    names: list[str] = []
    filterset = getattr(viewset, "filterset_class", None)
    if filterset is not None:
        for name, flt in filterset.base_filters.items():
            widget = getattr(flt.field_class, "widget", None)
            suffixes = getattr(widget, "suffixes", None)
            names += [f"{name}_{suffix}" for suffix in suffixes] if suffixes else [name]
    names += list(getattr(viewset, "filterset_fields", None) or ())
    return tuple(dict.fromkeys([*names, *GENERIC_PARAMS]))


def _model_of(viewset: Any) -> Any:
    return getattr(viewset, "model", None) or viewset.queryset.model


def api_routes(user: Any) -> Iterator[Route]:
    """Every GET route of the router, detail routes with a record the user may see."""
    for prefix, viewset, _basename in router.registry:
        pk = _visible_pk(_model_of(viewset), user)
        base = f"/api/v1/{prefix}/"
        params = _params_of(viewset)
        yield Route(base, params, "list")
        yield Route(f"{base}export/", params, "export")
        yield Route(f"{base}{pk}/", ("format",), "detail")
        yield Route(f"{base}99999999999999999999/", (), "detail")
        for action in viewset.get_extra_actions():
            if "get" in action.mapping and action.__name__ != "export":
                url = f"{base}{pk}/{action.url_path}/" if action.detail else f"{base}{action.url_path}/"
                yield Route(url, ("before", "limit", "since", "until", "field", *GENERIC_PARAMS[:3]), "action")


# ------------------------------------------------------------------ what the pages read
_READS = re.compile(r"(?:GET|query_params)\.get(?:list)?\(\s*[\"']([\w-]+)[\"']")


def _page_params(callback: Any) -> tuple[str, ...]:
    """The query parameters a page reads: ``request.GET.get("...")`` in its view (function
    or class), and the fields of the filter forms it binds to ``request.GET``."""
    view = getattr(callback, "view_class", None) or inspect.unwrap(callback)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return ("next", "page")
    module = inspect.getmodule(view)
    names = set(_READS.findall(source)) | {"next", "page"}
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("FilterForm"):
            names |= set(getattr(getattr(module, node.func.id, None), "base_fields", ()))
    return tuple(sorted(names))


def _patterns(prefix: str = "", patterns: Any = None) -> Iterator[tuple[str, URLPattern]]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("admin/", "api/v1/")):
            continue
        if isinstance(pattern, URLResolver):
            yield from _patterns(route, pattern.url_patterns)
        else:
            yield route, pattern


def page_urls(user: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every page of the URLconf with its path filled from the demo book (every section of
    the customer page), and once more with an id no record has."""
    from campaigns.models import Campaign
    from crm.accounts.models import APIToken, Team
    from customers.models import Customer, SavedView
    from risk.models import RiskAlert, RiskRule
    from workspace.views import _sections

    ids = {
        "campaigns/": _visible_pk(Campaign, user),
        "alerts/": _visible_pk(RiskAlert, user),
        "users/": user.pk,
        "teams/": _visible_pk(Team, user),
        "tokens/": _visible_pk(APIToken, user),
        "risk-rules/": _visible_pk(RiskRule, user),
        "views/": _visible_pk(SavedView, user),
        "customers/": _visible_pk(Customer, user),
    }
    customer = scoped_queryset(Customer, user).order_by("pk").first()
    sections = _sections()
    seen: set[str] = set()
    for route, pattern in _patterns():
        params = _page_params(pattern.callback)
        if "<" not in route:
            if route not in seen:
                seen.add(route)
                yield "/" + route, params
            continue
        owner = next((key for key in ids if key in route), "customers/")
        filled = route.replace("<int:pk>", str(ids[owner]))
        filled = filled.replace("<slug:resource>", "customers")
        filled = filled.replace("<slug:kind>", "overdue_payment").replace("<drf_format_suffix:format>", ".json")
        filled = filled.replace("<uidb64>", "MQ").replace("<token>", "set-password")
        if "<slug:key>" in filled:
            for key, section in sections.items():
                url = filled.replace("<slug:key>", key)
                if "<int:row>" in url:
                    rows = section.rows(user, customer) if customer is not None else None
                    row = rows.values_list("pk", flat=True).first() if rows is not None else None
                    url = url.replace("<int:row>", str(row or 1))
                yield "/" + url, params
        else:
            yield "/" + filled, params
        if "<int:pk>" in route:
            garbage = route.replace("<int:pk>", "99999999999999999999").replace("<slug:key>", "contacts")
            yield "/" + garbage.replace("<int:row>", "1"), ()


# ------------------------------------------------------------------ the API's writes
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-any-return]


def _properties(schema: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of a request body in the OpenAPI document."""
    if not body:
        return {}
    content = body.get("content", {}).get("application/json", {}).get("schema", {})
    ref = content.get("$ref", "")
    if ref:
        content = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return dict(content.get("properties", {}))


def _example(spec: dict[str, Any]) -> Any:
    """A plausible value of a field by its type, for fields the record itself lacks."""
    kind, fmt = spec.get("type"), spec.get("format")
    if "enum" in spec:
        return spec["enum"][0]
    if fmt == "date":
        return "2024-05-06"
    if fmt == "date-time":
        return "2024-05-06T07:08:09+08:00"
    return {"integer": 1, "number": "1.00", "boolean": True, "array": [], "object": {}}.get(str(kind), "walk")


def api_writes(schema: dict[str, Any], user: Any, client: Client) -> Iterator[tuple[str, str, dict[str, Any], dict]]:
    """Every POST, PATCH and PUT of the API: (method, url, a plausible body, headers).

    The body is the record's own values (read from its detail route) for the fields the
    operation takes, so that one garbage field at a time reaches the deep checks."""
    by_prefix = {prefix: viewset for prefix, viewset, _basename in router.registry}
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        prefix = path.split("/")[3]
        viewset = by_prefix.get(prefix)
        if viewset is None:
            continue
        pk = _visible_pk(_model_of(viewset), user)
        url = path.replace("{id}", str(pk))
        record: dict[str, Any] = {}
        headers: dict[str, str] = {}
        detail = client.get(f"/api/v1/{prefix}/{pk}/", HTTP_ACCEPT="application/json")
        if detail.status_code == 200:
            record = detail.json()
            headers = {"HTTP_IF_MATCH": detail.get("ETag", "*")}
        for method in ("post", "patch", "put"):
            if method not in operations:
                continue
            properties = _properties(schema, operations[method].get("requestBody"))
            body = {
                name: record[name] if name in record and record[name] is not None else _example(spec)
                for name, spec in properties.items()
                if not spec.get("readOnly")
            }
            yield method, url, body, headers


# ------------------------------------------------------------------ the forms of the pages
class _Forms(HTMLParser):
    """The POST forms of a page: their action and their fields with the values shown."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = {}
            self.forms.append((a.get("action", "") or a.get("hx-post", ""), self._fields))
        elif self._fields is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "checkbox", "radio", "file"):
            self._fields[a["name"]] = a.get("value", "")
        elif tag == "input" and "checked" in a:
            self._fields[a["name"]] = a.get("value", "on")
        elif tag == "select":
            self._select = a["name"]
            self._fields.setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._fields[a["name"]] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._fields is not None and self._textarea:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _forms_of(html: str, url: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(action or url, fields) for action, fields in parser.forms]


# ------------------------------------------------------------------ the walks
def _some(rng: random.Random, values: tuple[Any, ...], k: int) -> tuple[Any, ...]:
    """``k`` of the values (all of them in the full walk)."""
    return values if FULL or k >= len(values) else tuple(rng.sample(values, k))


def _rejected(response: Any) -> set[str]:
    """The parameters or fields a 400 names."""
    if response.status_code != 400 or "json" not in response.get("Content-Type", ""):
        return set()
    return set(response.json().get("fields", {}))


@pytest.mark.parametrize("role", ["admin", "rep"])
def test_every_api_route_survives_garbage_parameters_and_headers(book: dict[str, Any], role: str) -> None:
    """Each garbage value goes into every parameter of a route at once; the parameters
    that refuse it (the 400 names them) are dropped and the rest sent again, so that
    every parameter that accepts the value reaches the query with it."""
    rng, walk = random.Random(SEED), Walk()
    client = _client(book[role])
    accept = {"HTTP_ACCEPT": "application/json"}
    for route in api_routes(book[role]):
        many = route.kind in ("list", "action")
        for value in _some(rng, GARBAGE, (24 if role == "admin" else 8) if many else 6):
            # A garbage page size means the default one: the rows of a whole page.
            params = {**dict.fromkeys(route.params, value), "page_size": rng.choice(("1", value))}
            for _round in range(3):
                response = walk.send(client, "get", route.url, f"{sorted(params)} = {_short(value)}", params, **accept)
                refused = _rejected(response) & set(params)
                if not refused:
                    break
                params = {name: v for name, v in params.items() if name not in refused}
        for headers in _some(rng, GARBAGE_HEADERS, 2 if many else 1):
            walk.send(client, "get", route.url, _short(headers), {"page_size": "1"}, **headers)
    walk.report(f"API routes as {role}")


@pytest.mark.parametrize("role", ["admin", "rep"])
def test_every_page_survives_garbage_parameters_and_headers(book: dict[str, Any], role: str) -> None:
    """Every page, bare and with each garbage value in every parameter it reads (pages
    ignore or refuse what they cannot use, so one request tries them all), then each
    parameter alone with a value that passes a lax parser and reaches the database."""
    rng, walk = random.Random(SEED), Walk()
    client = _client(book[role])
    for url, params in page_urls(book[role]):
        if walk.send(client, "get", url, "bare").status_code in (403, 404, 405) or url in SLOW_PAGES:
            continue
        reads = [name for name in params if name not in ("next", "page")]
        k = (6 if role == "admin" else 4) if reads else 2
        for value in _some(rng, GARBAGE, k):
            walk.send(client, "get", url, f"{params} = {_short(value)}", dict.fromkeys(params, value))
        for name in params if role == "admin" else ():
            for value in _some(rng, REACHES_DATABASE, 1):
                walk.send(client, "get", url, f"?{name}={_short(value)}", {name: value})
        for headers in _some(rng, GARBAGE_HEADERS, 1):
            walk.send(client, "get", url, _short(headers), **headers)
    walk.report(f"pages as {role}")


def test_every_api_write_survives_garbage_bodies(book: dict[str, Any]) -> None:
    """Every POST and PATCH of the API gets garbage bodies, then the record's own values
    with a garbage value in every field at once (the fields that refuse it put back and
    the rest sent again, as with parameters)."""
    rng, walk = random.Random(SEED), Walk()
    client = _client(book["admin"])
    json_body = {"content_type": "application/json"}
    for method, url, body, headers in api_writes(_schema(), book["admin"], client):
        if method == "put":
            continue  # the code of PATCH, with every field required
        for content_type, raw in _some(rng, BODIES, 3):
            walk.send(client, method, url, f"{content_type} {_short(raw)}", raw, content_type=content_type, **headers)
        walk.send(client, method, url, "the record's own values", body, **json_body, **headers)
        for garbage in _some(rng, GARBAGE_HEADERS, 1):  # behind a proxy, as the header rows say
            with override_settings(CRM_TRUST_X_FORWARDED_FOR=True):
                walk.send(client, method, url, _short(garbage), body, **json_body, **{**headers, **garbage})
        for value in _some(rng, JSON_GARBAGE, 4):
            data = dict.fromkeys(body, value)
            for _round in range(3):
                response = walk.send(
                    client, method, url, f"{sorted(data)} = {_short(value)}", data, **json_body, **headers
                )
                refused = _rejected(response) & set(data)
                if not refused:
                    break
                data = {**data, **{name: body[name] for name in refused}}
    walk.report("API writes")


def test_bodies_too_deep_too_large_or_malformed_are_refused_on_every_create(book: dict[str, Any]) -> None:
    """On every create of the API: JSON nested past the bound is a 400 (it used to be a
    RecursionError), a body past the size bound a 413, malformed JSON a 400, other media
    types a 415; each answer is the API's JSON error."""
    walk = Walk()
    client = _client(book["admin"])
    refused: dict[tuple[str, bytes], int] = {
        ("application/json", b"[" * 1000 + b"]" * 1000): 400,
        ("application/json", b'{"a":' * 1000 + b"1" + b"}" * 1000): 400,
        ("application/json", b"[" * 65 + b"]" * 65): 400,
        ("application/json", b'{"name": "' + b"z" * 3_000_000 + b'"}'): 413,
        ("application/json", b"{oops"): 400,
        ("application/json", b'{"name": "\xff"}'): 400,
        ("application/xml", b"<a/>"): 415,
    }
    for prefix, viewset, _basename in router.registry:
        if "post" not in viewset.http_method_names:
            continue
        url = f"/api/v1/{prefix}/"
        for (content_type, body), status in refused.items():
            response = walk.send(client, "post", url, f"{content_type} {_short(body)}", body, content_type=content_type)
            if response.status_code not in (403, 405):  # writes the admin may not make are refused first
                assert response.status_code == status, (prefix, body[:20], response.status_code)
                assert response.json()["code"], (prefix, response.content[:200])
    walk.report("bodies refused", all_refused=True)


def test_every_form_survives_garbage_fields(book: dict[str, Any]) -> None:
    """Every POST form of every page (as the admin sees them), as shown, then with a
    garbage value in some of its fields in turn, and with garbage bodies."""
    rng, walk = random.Random(SEED), Walk()
    client = _client(book["admin"])
    posted: set[str] = set()
    ends_session = tuple("/" + url for url in ENDS_SESSION)
    for url, _params in page_urls(book["admin"]):
        if url.startswith(("/api/", *ends_session)) or url in SLOW_PAGES:
            continue
        page = client.get(url)
        forms = _forms_of(page.content.decode(errors="replace"), url) if page.status_code == 200 else []
        for action, fields in forms:
            if action in posted or not action.startswith("/") or action.startswith(ends_session):
                continue
            posted.add(action)
            walk.send(client, "post", action, "the form as shown", fields)
            for name in _some(rng, tuple(name for name in fields if name != "csrfmiddlewaretoken"), 6):
                for value in _some(rng, GARBAGE, 1):
                    walk.send(client, "post", action, f"{name}={_short(value)}", {**fields, name: value})
            for content_type, raw in _some(rng, BODIES, 1):
                walk.send(client, "post", action, f"{content_type} {_short(raw)}", raw, content_type=content_type)
    walk.report("page forms")


_QUERY_NAMES = re.compile(r'href="[^"]*\?([^"#]+)"')


def test_every_admin_list_survives_garbage_parameters(book: dict[str, Any]) -> None:
    """Every list of the admin site, with garbage in the parameters its own links use
    (filters, sorting, paging) and in its search; and each model's page of an id no
    record has."""
    rng, walk = random.Random(SEED), Walk()
    client = _client(book["admin"])
    from django.contrib import admin
    from django.urls import reverse

    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        page = walk.send(client, "get", url, "bare")
        names = {"q", "o", "p", "e", "_to_field", "_popup"}
        for query in _QUERY_NAMES.findall(page.content.decode(errors="replace")):
            names |= {pair.split("=", 1)[0] for pair in query.replace("&amp;", "&").split("&") if "=" in pair}
        for value in _some(rng, GARBAGE, 4):
            walk.send(client, "get", url, f"{sorted(names)} = {_short(value)}", dict.fromkeys(names, value))
        walk.send(client, "get", reverse("admin:{}_{}_change".format(*info), args=["9" * 30]), "an id no record has")
    walk.report("admin lists")
