"""Schemathesis over the whole API, once per role: no 5xx, and every answer as documented.

The OpenAPI document is read from the app itself (``/api/schema/``) and every operation
in it is called in process, through the WSGI application, as an admin, a manager and a
rep signed in with a session (and the CSRF token a browser sends), and as an
integration signed in with an API token scoped to a few resources.  Each operation gets
a few generated requests that fit the schema and a few that break it (``EXAMPLES``;
derandomized, so a run repeats).  Half of the time a request names a record of a small
dataset, in its path and in the body fields that link to a record, so requests reach
real records (and other reps' records, which must be a documented 404) and get past
validation, not only ids that do not exist.

Each request runs in a savepoint that is rolled back after it, so the generated
POST/PUT/PATCH/DELETE requests never change what the next request sees, and the test's
transaction is rolled back at the end as usual.  Updates and deletes require
``If-Match``: the generated header is an ETag of the documented form, seldom the
record's current one, so most of them are a documented 412 (428 when a request that
breaks the schema leaves it out).

Checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance and response_headers_conformance.  With ``-s`` each role
prints its operations, requests, time and the statuses it got.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from itertools import product
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework import serializers
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_headers_conformance

from crm.accounts.services import api_token_create
from crm.api_urls import router
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ParticipationFactory,
    ProductFactory,
    RiskAlertFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TierChangeFactory,
    TransactionFactory,
    tier,
)

pytestmark = pytest.mark.django_db

#: Generated requests per operation and role: valid ones, and ones that break the schema
#: (``CRM_SCHEMATHESIS_EXAMPLES`` / ``CRM_SCHEMATHESIS_NEGATIVE_EXAMPLES`` to explore more).
EXAMPLES = {
    GenerationMode.POSITIVE: int(os.environ.get("CRM_SCHEMATHESIS_EXAMPLES", "5")),
    GenerationMode.NEGATIVE: int(os.environ.get("CRM_SCHEMATHESIS_NEGATIVE_EXAMPLES", "3")),
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
#: What the integration's token holds: reading everything, writing orders and customers.
INTEGRATION_SCOPES = ["read", "customers:write", "transactions:write"]
#: Any 32 letters and digits are a CSRF secret Django accepts from the cookie and header.
CSRF_SECRET = "schemathesis0schemathesis0schema"


def isolated(app: WSGIHandler) -> Callable[..., list[bytes]]:
    """The WSGI app with each request in a savepoint rolled back after it (the whole
    answer, streamed or not, is read inside it)."""

    def call(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        savepoint = transaction.savepoint()
        try:
            answer = app(environ, start_response)
            try:
                return list(answer)
            finally:
                answer.close()
        finally:
            transaction.savepoint_rollback(savepoint)

    return call


@pytest.fixture
def wsgi_app() -> Iterator[Callable[..., list[bytes]]]:
    """In-process requests inside the test's transaction, which Django would otherwise
    close at the end of every request (as its own test client prevents).  Thousands of
    4xx are expected, so only 5xx are logged."""
    log = logging.getLogger("django.request")
    level = log.level
    log.setLevel(logging.ERROR)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield isolated(WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        log.setLevel(level)


@pytest.fixture
def dataset(
    rep1: Any, rep2: Any, outsider: Any, manager: Any, reference_tiers: None, reference_risk_rules: None
) -> dict[str, list[int]]:
    """A few records of every resource, for two reps of one team and a rep of another,
    with the empty values answers must allow (no team, no tier, no contact) and the values
    the default field policy masks for integrations; the ids per route prefix."""
    for number, owner in enumerate((rep1, rep1, rep2, outsider)):
        customer = CustomerFactory(owner=owner, tier=tier("gold") if number % 2 else None)
        contact = ContactFactory(
            customer=customer, birthday=dt.date(1990, 5, 6), phone="021-5555 0101", social_accounts={"weibo": "@a"}
        )
        ActivityFactory(customer=customer, contact=contact if number % 2 else None)
        ServiceNeedFactory(customer=customer)
        order = TransactionFactory(customer=customer)
        ServiceRecordFactory(customer=customer, product=order.product)
        FeedbackFactory(customer=customer, contact=contact)
        SatisfactionResponseFactory(customer=customer, contact=contact)
        ParticipationFactory(customer=customer, campaign=CampaignFactory(owner=manager if number % 2 else None))
        RiskAlertFactory(customer=customer, assignee=owner)
        TierChangeFactory(customer=customer)
    CustomerFactory(owner=rep1, team=None)
    ProductFactory()
    ids: dict[str, list[int]] = {}
    for prefix, viewset, _basename in router.registry:
        model = viewset.model
        ids[prefix] = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:6])
    return ids


Credentials = tuple[dict[str, str], dict[str, str]]


def _session(user: Any) -> Credentials:
    """A browser's: the session cookie, and the CSRF token as cookie and header."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: CSRF_SECRET}
    return {"X-CSRFToken": CSRF_SECRET}, cookies


def _credentials(role: str, request: pytest.FixtureRequest) -> Credentials:
    if role == "integration":
        user = request.getfixturevalue("integration_user")
        _token, key = api_token_create(actor=None, user=user, name="schemathesis", scopes=INTEGRATION_SCOPES)
        return {"Authorization": f"Token {key}"}, {}
    fixture = {"admin": "admin_user", "manager": "manager", "rep": "rep1"}[role]
    return _session(request.getfixturevalue(fixture))


def _operations(app: Callable[..., Any]) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    schema.config.generation.update(
        deterministic=True,
        no_shrink=True,
        # Credentials are the role's own, sent with every request.
        with_security_parameters=False,
    )
    return [result.ok() for result in schema.get_all_operations()]


@cache
def links() -> dict[str, str]:
    """The body fields that link to a record (``customer``, ``owner``, ...) and the route
    of the records they link to, from the serializers."""
    routes = {viewset.model: prefix for prefix, viewset, _basename in router.registry}
    found: dict[str, str] = {}
    for _prefix, viewset, _basename in router.registry:
        for name, field in viewset.serializer_class().fields.items():
            if isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only:
                model = field.queryset.model  # type: ignore[union-attr]
                if model in routes:
                    found.setdefault(name, routes[model])
    return found


def _cases(operation: Any, mode: GenerationMode, ids: dict[str, list[int]]) -> st.SearchStrategy[Any]:
    """Generated requests, which half of the time name a record of the dataset: on a
    record's route, in its path; in a body, in each field that links to a record."""
    generated = operation.as_strategy(generation_mode=mode)
    prefix = operation.path.removeprefix("/api/v1/").split("/", 1)[0]
    if "{id}" in operation.path and ids.get(prefix):
        known = st.sampled_from(ids[prefix]).flatmap(
            lambda pk: operation.as_strategy(generation_mode=mode, path_parameters={"id": pk})
        )
        generated = st.one_of(generated, known)
    linked = {name: ids[route] for name, route in links().items() if ids.get(route)}

    @st.composite
    def linking(draw: st.DrawFn) -> Any:
        case = draw(generated)
        if isinstance(case.body, dict):
            for name, known_ids in linked.items():
                if isinstance(case.body.get(name), int) and draw(st.booleans()):
                    case.body[name] = draw(st.sampled_from(known_ids))
        return case

    return linking()


def _first_lines(text: str, count: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[:count])


class Run:
    """Generated requests sent to the app as one role: the answers and the failures."""

    def __init__(self, app: Callable[..., Any], credentials: Credentials, ids: dict[str, list[int]]) -> None:
        self.app = app
        self.headers, self.cookies = credentials
        self.ids = ids
        self.statuses: Counter[int] = Counter()
        #: One per operation and kind of failure, with a request that shows it.
        self.failures: dict[tuple[str, str], str] = {}

    def operation(self, operation: Any, mode: GenerationMode) -> None:
        @hypothesis_settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_cases(operation, mode, self.ids))
        def send(case: Any) -> None:
            self.send(case, f"{operation.label} ({mode.value})")

        try:
            send()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, operation.label  # nothing in the request can be made invalid

    def send(self, case: Any, label: str) -> None:
        try:
            response = case.call(app=self.app, headers=self.headers, cookies=self.cookies)
        except Exception as exc:  # raised through Django's handler: a streamed answer broke off
            message = f"{type(exc).__name__} raised while answering: {_first_lines(str(exc), 1)}"
            self.failures.setdefault((label, "Server error"), f"{message}\n{case.as_curl_command()}")
            return
        self.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.failures.setdefault(
                    (label, failure.title),
                    f"{failure.title} ({response.status_code})\n{_first_lines(failure.message)}\n"
                    f"{case.as_curl_command()}\n{_first_lines(response.text or '', 3)}",
                )


@pytest.mark.parametrize("role", ["admin", "manager", "rep", "integration"])
def test_every_operation_answers_as_documented(
    role: str,
    dataset: dict[str, list[int]],
    wsgi_app: Any,
    request: pytest.FixtureRequest,
) -> None:
    started = time.monotonic()
    operations = _operations(wsgi_app)
    run = Run(wsgi_app, _credentials(role, request), dataset)
    for operation, mode in product(operations, EXAMPLES):
        run.operation(operation, mode)
    elapsed = time.monotonic() - started
    statuses, failures = run.statuses, run.failures
    answers = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    summary = f"{role}: {len(operations)} operations, {statuses.total()} requests in {elapsed:.0f} s ({answers})"
    print(summary)
    assert len(operations) > 150, summary
    # The run reaches real records and gets past validation, not only refusals.
    assert sum(count for status, count in statuses.items() if status < 300) > len(operations) // 2, summary
    assert not failures, f"{summary}, {len(failures)} failures:\n\n" + "\n\n".join(failures.values())
