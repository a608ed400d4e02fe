"""The contract every scoped API resource keeps, written once and run for each resource.

A resource's test module subclasses :class:`ResourceContract`, says how to make a
record that belongs to a given rep and what valid and invalid payloads look like, and
inherits tests for: anonymous callers, the owner, a teammate, the manager, an outsider
and an admin; ETag / If-Match on updates and deletes (428 without it or with ``*``, 412
when stale or garbled); audit events with before/after values for every write; bad
input that writes nothing; and list query counts that do not grow with the number of
rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from crm.access.registry import CREATE, DELETE, get_resource
from crm.accounts.choices import Role
from crm.audit.models import AuditEvent
from crm.audit.services import snapshot

#: The fixture standing for each role in these tests.
ROLE_FIXTURES = {Role.REP: "rep1", Role.MANAGER: "manager", Role.ADMIN: "admin_user"}


def detail_url(base: str, pk: Any) -> str:
    return f"{base}{pk}/"


def ids_of(response: Any) -> set[Any]:
    return {row["id"] for row in response.json()["results"]}


def garbled_if_matches(version: int) -> list[str]:
    """If-Match values that are not exactly the ETag of a record at ``version``: each must
    be a 412 and write nothing, never a 500, never a write."""
    right = str(version)
    return [
        '"' + "9" * 5000 + '"',  # past Python's int conversion limit
        "9" * 5000,
        '"12345678901"',  # more digits than any version
        '"١٢٣"',  # Arabic-Indic digits
        "١",
        '"１"',  # a full-width 1, which int() would read as 1
        '"²"',
        f'"-{right}"',
        f"-{right}",
        f'"0{right}"',
        f'"{right}.0"',
        f'"{right}", "{version + 1}"',  # a list, even one holding the right ETag
        f'"{version + 1}", "{right}"',
        f'W/"{right}"',  # weak: never matches in If-Match
        right,  # unquoted
        f'" {right}"',
        f'"{right} "',
        f'"{right}',
        f'{right}"',
        '"*"',
        "**",
        "* ,*",
        "x" * 10240,  # a 10 KB header
        '"' + "1" * 10240 + '"',
        "null",
    ]


def list_query_count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.django_db
class ResourceContract(ABC):
    """Subclass and fill in the hooks; every test here then runs for the resource."""

    url: ClassVar[str]
    model: ClassVar[type[Model]]
    #: Records belong to no customer and every signed-in user may read them.
    company_wide: ClassVar[bool] = False
    #: No create/update/delete through the API at all.
    read_only: ClassVar[bool] = False
    #: A field changed by ``update_payload`` and its new value as the API returns it.
    update_payload: ClassVar[dict[str, Any]] = {}
    #: Pairs of (payload overrides, field named in the error).
    invalid_payloads: ClassVar[list[tuple[dict[str, Any], str]]] = []
    #: Upper bound for a list page's queries, whatever its length.
    max_list_queries: ClassVar[int] = 6

    # ---- hooks (each resource's contract implements both)
    @abstractmethod
    def make(self, owner: Any) -> Model:
        """A saved record of this resource belonging to a customer of ``owner``."""

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        """A body that creates a record for a customer of ``owner`` (writable resources
        define it; read-only ones never post one, and an empty body would be refused)."""
        return {}

    # ---- helpers
    def _user(self, request: Any, name: str) -> Any:
        return request.getfixturevalue(name)

    # ---- who may write, from the resource registry (crm.access.registry)
    def _fixtures_with(self, act: str, allowed: bool = True) -> tuple[str, ...]:
        resource = get_resource(self.url.removeprefix("/api/v1/").strip("/"))
        assert resource is not None, f"{self.url} is not a registered resource"
        roles = resource.roles(act)
        return tuple(name for role, name in ROLE_FIXTURES.items() if (role in roles) == allowed)

    @property
    def writers(self) -> tuple[str, ...]:
        """Fixtures (by name) of the users who may create (and so update) records."""
        return self._fixtures_with(CREATE)

    @property
    def deleters(self) -> tuple[str, ...]:
        return self._fixtures_with(DELETE)

    @property
    def refused_writers(self) -> tuple[str, ...]:
        """Fixtures of users refused a create with 403 (besides anonymous)."""
        return self._fixtures_with(CREATE, allowed=False)

    # ---- reading
    def test_anonymous_is_refused(self, api: Any, rep1: Any) -> None:
        record = self.make(rep1)
        client = api()
        assert client.get(self.url).status_code == 401
        assert client.get(detail_url(self.url, record.pk)).status_code == 401
        if not self.read_only:
            assert client.post(self.url, {}, format="json").status_code == 401

    def test_owner_manager_admin_see_it(self, api: Any, rep1: Any, manager: Any, admin_user: Any) -> None:
        record = self.make(rep1)
        for user in (rep1, manager, admin_user):
            client = api(user)
            assert record.pk in ids_of(client.get(self.url, {"page_size": 200})), user
            response = client.get(detail_url(self.url, record.pk))
            assert response.status_code == 200, (user, response.content)
            if hasattr(record, "version"):
                assert response["ETag"] == f'"{record.version}"'

    def test_other_reps_get_404_and_do_not_see_it_listed(self, api: Any, rep1: Any, rep2: Any, outsider: Any) -> None:
        record = self.make(rep1)
        for user in (rep2, outsider):
            client = api(user)
            if self.company_wide:
                assert client.get(detail_url(self.url, record.pk)).status_code == 200
                continue
            assert record.pk not in ids_of(client.get(self.url, {"page_size": 200}))
            assert client.get(detail_url(self.url, record.pk)).status_code == 404
            if not self.read_only:
                response = client.patch(
                    detail_url(self.url, record.pk), self.update_payload, format="json", HTTP_IF_MATCH='"1"'
                )
                assert response.status_code in (403, 404), response.content
                gone = client.delete(detail_url(self.url, record.pk), HTTP_IF_MATCH=f'"{record.version}"')
                assert gone.status_code in (403, 404)

    def test_detail_query_count_is_bounded(self, api: Any, rep1: Any) -> None:
        record = self.make(rep1)
        with CaptureQueriesContext(connection) as ctx:
            response = api(rep1).get(detail_url(self.url, record.pk))
        assert response.status_code == 200
        assert len(ctx.captured_queries) <= self.max_list_queries, [q["sql"] for q in ctx.captured_queries]

    def test_list_queries_do_not_grow_with_rows(self, api: Any, rep1: Any, admin_user: Any) -> None:
        self.make(rep1)
        client = api(admin_user)
        few = list_query_count(client, self.url)
        for _ in range(6):
            self.make(rep1)
        many = list_query_count(client, self.url)
        assert few == many, f"{few} queries for 1 row, {many} for 7: a query per row"
        assert many <= self.max_list_queries

    # ---- writing
    def test_create_is_audited(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            assert api(rep1).post(self.url, {}, format="json").status_code in (403, 405)
            return
        writer = self._user(request, self.writers[0])
        payload = self.valid_payload(rep1)
        response = api(writer).post(self.url, payload, format="json")
        assert response.status_code == 201, response.content
        created = self.model._default_manager.get(pk=response.json()["id"])
        event = AuditEvent.objects.get(resource=self.model._meta.label_lower, object_id=str(created.pk))
        assert event.action == "create"
        assert event.actor_id == writer.pk
        assert event.source == "api"
        for name, change in event.changes.items():
            assert change["before"] is None, name
        if hasattr(created, "version"):
            assert response["ETag"] == '"1"'

    def test_refused_writers_get_403(self, api: Any, request: Any, rep1: Any) -> None:
        for name in self.refused_writers:
            user = self._user(request, name)
            response = api(user).post(self.url, self.valid_payload(rep1), format="json")
            assert response.status_code == 403, (name, response.content)

    def test_update_needs_current_version(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            return
        record = self.make(rep1)
        client = api(self._user(request, self.writers[0]))
        url = detail_url(self.url, record.pk)
        missing = client.patch(url, self.update_payload, format="json")
        assert missing.status_code == 428, missing.content
        blank = client.patch(url, self.update_payload, format="json", HTTP_IF_MATCH="  ")
        assert blank.status_code == 428, blank.content
        for verb in (client.patch, client.put):
            star = verb(url, self.update_payload, format="json", HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="en")
            assert star.status_code == 428, star.content
            assert star.json()["code"] == "precondition_required"
            assert "If-Match: * is not accepted" in star.json()["message"]
        stale = client.patch(url, self.update_payload, format="json", HTTP_IF_MATCH='"99"')
        assert stale.status_code == 412, stale.content
        assert stale.json()["code"] == "version_conflict"
        assert not AuditEvent.objects.filter(action="update", object_id=str(record.pk)).exists()

        etag = client.get(url)["ETag"]
        # Spaces or tabs around the header's value are not part of it (RFC 9110 5.5).
        ok = client.patch(url, self.update_payload, format="json", HTTP_IF_MATCH=f" {etag}\t")
        assert ok.status_code == 200, ok.content
        assert ok["ETag"] == f'"{record.version + 1}"'
        event = AuditEvent.objects.get(action="update", resource=self.model._meta.label_lower, object_id=str(record.pk))
        record.refresh_from_db()
        stored = snapshot(record)
        assert set(event.changes) & set(self.update_payload), event.changes
        for name, change in event.changes.items():
            assert change["before"] != change["after"], name
            assert change["after"] == stored[name], (name, change, stored[name])

        again = client.patch(url, self.update_payload, format="json", HTTP_IF_MATCH=etag)
        assert again.status_code == 412, "the old ETag must be stale after an update"

    def test_delete_is_audited(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            return
        for name in self.deleters:
            record = self.make(rep1)
            response = api(self._user(request, name)).delete(
                detail_url(self.url, record.pk), HTTP_IF_MATCH=f'"{record.version}"'
            )
            assert response.status_code == 204, (name, response.content)
            assert not self.model._default_manager.filter(pk=record.pk).exists()
            event = AuditEvent.objects.get(
                action="delete", object_id=str(record.pk), resource=self.model._meta.label_lower
            )
            assert all(change["after"] is None for change in event.changes.values())

    def test_delete_needs_current_version(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            return
        record = self.make(rep1)
        client = api(self._user(request, self.deleters[0]))
        url = detail_url(self.url, record.pk)
        events = AuditEvent.objects.count()
        missing = client.delete(url)
        assert missing.status_code == 428, missing.content
        assert missing.json()["code"] == "precondition_required"
        star = client.delete(url, HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="en")
        assert star.status_code == 428, star.content
        assert "If-Match: * is not accepted" in star.json()["message"]
        star_zh = client.delete(url, HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert star_zh.status_code == 428 and "不接受 If-Match: *" in star_zh.json()["message"]
        stale = client.delete(url, HTTP_IF_MATCH=f'"{record.version + 41}"')
        assert stale.status_code == 412, stale.content
        assert stale.json()["code"] == "version_conflict"
        assert stale.json()["current_version"] == record.version
        assert self.model._default_manager.filter(pk=record.pk).exists()
        assert AuditEvent.objects.count() == events

    def test_garbled_if_match_is_a_412_on_update_and_delete(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            return
        record = self.make(rep1)
        url = detail_url(self.url, record.pk)
        writer = api(self._user(request, self.writers[0]))
        deleter = api(self._user(request, self.deleters[0]))
        events = AuditEvent.objects.count()
        for value in garbled_if_matches(record.version):
            for verb, client in (("patch", writer), ("delete", deleter)):
                if verb == "patch":
                    response = client.patch(
                        url, self.update_payload, format="json", HTTP_IF_MATCH=value, HTTP_ACCEPT_LANGUAGE="en"
                    )
                else:
                    response = client.delete(url, HTTP_IF_MATCH=value, HTTP_ACCEPT_LANGUAGE="en")
                assert response.status_code == 412, (verb, value[:40], response.content[:300])
                body = response.json()
                assert body["code"] == "version_conflict", (verb, value[:40])
                assert body["message"] == "If-Match does not hold a valid ETag of this record.", body
        stored = self.model._default_manager.get(pk=record.pk)
        assert getattr(stored, "version", None) == getattr(record, "version", None)
        assert AuditEvent.objects.count() == events

    def test_bad_input_writes_nothing(self, api: Any, request: Any, rep1: Any) -> None:
        if self.read_only:
            return
        client = api(self._user(request, self.writers[0]))
        rows = self.model._default_manager.count()
        events = AuditEvent.objects.count()
        for overrides, field in [*self.invalid_payloads, ({"__not_json__": True}, "")]:
            if "__not_json__" in overrides:
                response = client.post(self.url, "{not json", content_type="application/json")
                assert response.status_code == 400
                continue
            payload = {**self.valid_payload(rep1), **overrides}
            response = client.post(self.url, payload, format="json")
            assert response.status_code == 400, (overrides, response.content)
            body = response.json()
            assert body["message"]
            assert field in body.get("fields", {}), (field, body)
        assert self.model._default_manager.count() == rows
        assert AuditEvent.objects.count() == events
