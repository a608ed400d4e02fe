"""The OpenAPI document, true to what every operation answers.

drf-spectacular documents each operation's success from its serializer.  This schema
class (``DEFAULT_SCHEMA_CLASS``) adds what the shared machinery answers, worked out from
the operation rather than declared view by view:

* 401 without valid credentials and 429 when throttled, on every operation; 403 on every
  operation too, since an API token's scopes may leave out reading a resource as well as
  writing it, and a role may not write;
* 404 on a record's routes (another rep's record is a 404) and on a list page past the end;
* 400 where the client sends a body or query parameters, and on every write (a business
  rule refused it); 413 where it sends a body (``crm.core.parsers`` reads a bounded one);
* 409 on writes (a key already taken, a record still in use);
* on updates and deletes of versioned records the ``If-Match`` header, required: 428
  without it, 412 when it is not the record's current ETag; reads and writes of one
  record answer with its ``ETag``.

Every error has the body ``crm.core.exceptions`` gives it: ``{"code", "message",
"fields"?}`` (the ``Error`` component).

It also keeps the answers' schemas true:

* a read-only field that reads through a nullable relation (``source="team.name"``), or
  that says ``default=None``, may be null;
* a field under the field policy (``crm.access.serializers.FieldPolicySerializerMixin``)
  may be left out (hidden) or masked (a string, or a list or object of strings) for the
  caller's role, which admins change at runtime: it is never required in an answer and
  may be a ``MaskedValue``;
* ``export/`` answers CSV or an xlsx workbook and takes the list's filters.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.fields import empty

from crm.access.permissions import READ_ACTIONS
from crm.access.serializers import FieldPolicySerializerMixin

from .export import FORMATS as EXPORT_FORMATS
from .spreadsheets import XLSX

#: Marks an answer's component whose fields follow the field policy of the named resource.
POLICY_EXTENSION = "x-field-policy"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The ETags ``crm.core.api`` gives and accepts: the record's version, in quotes.
ETAG_PATTERN = r'^"(0|[1-9][0-9]{0,9})"$'

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: a code for programs, a message for people, the fields involved.",
    "properties": {
        "code": {"type": "string", "description": "e.g. invalid, not_found, version_conflict, throttled"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": "Field name → its messages (a list; an object for nested fields).",
        },
        "current_version": {
            "type": "integer",
            "nullable": True,
            "description": "With 412 from a service: the record's version now.",
        },
    },
    "required": ["code", "message"],
}

MASKED_SCHEMA: dict[str, Any] = {
    "description": (
        "A value masked by the field policy for the caller's role (138****5678, z***@example.com, "
        "100,000–1,000,000, 1990-**-**); a list or object keeps its shape with each value masked."
    ),
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "string"}},
    ],
}

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid; `fields` names what is wrong. Nothing was written.",
    "401": "Not signed in, or the token is unknown, expired or revoked.",
    "403": "The caller's role, or the API token's scopes, do not allow this.",
    "404": "No such record, or not one the caller may see (or no such page).",
    "409": "Conflicts with stored data: a key already taken, or a record still in use.",
    "412": "If-Match is not the record's current ETag: it changed since it was read. Nothing was written.",
    "413": "The request body is larger than the API reads (CRM_REQUEST_MAX_BYTES, 1 MiB unless set).",
    "428": "If-Match is missing (or `*`): send the ETag of the version you read.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}


def _model_of(serializer: Any) -> Any:
    return getattr(getattr(serializer, "Meta", None), "model", None)


def reads_null(field: serializers.Field) -> bool:
    """Whether a read-only field may answer null though it does not say ``allow_null``.

    DRF answers null for ``default=None`` and for a dotted source that meets a null on
    the way (``team.name`` of a customer without a team).
    """
    if not field.read_only:
        return False
    if getattr(field, "default", empty) is None:
        return True
    model = _model_of(field.parent)
    if model is None or not field.source or field.source == "*":
        return False
    for attr in field.source.split("."):
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if not model_field.concrete:
            return False  # a reverse relation is a list, never null
        if model_field.null:
            return True
        if not model_field.is_relation:
            return False
        model = model_field.related_model
    return False


def _maskable(schema: dict[str, Any]) -> dict[str, Any]:
    if not schema or set(schema) <= {"readOnly", "description", "title"}:
        return schema  # any JSON value already
    masked = {"$ref": "#/components/schemas/MaskedValue"}
    return {"anyOf": [schema, masked], **({"readOnly": True} if schema.get("readOnly") else {})}


class CRMAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the answers and headers every endpoint shares."""

    # ------------------------------------------------------------------ helpers
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _base(self) -> Any:
        """``ScopedModelViewSet`` when the view derives from it.  Found by its mark rather
        than imported: DRF loads this class while the API's modules are still importing."""
        return next((cls for cls in type(self.view).__mro__ if cls.__dict__.get("scoped_base")), None)

    def _versioned(self) -> bool:
        model = getattr(self.view, "model", None)
        if model is None:
            return False
        try:
            model._meta.get_field("version")
        except FieldDoesNotExist:
            return False
        return True

    def _inherits(self, method: str) -> bool:
        """Whether the view answers ``method`` with ``ScopedModelViewSet``'s own handler."""
        base = self._base()
        own = getattr(type(self.view), method, None)
        # extend_schema_view documents an inherited handler through a copy that wraps it.
        return base is not None and own is not None and inspect.unwrap(own) is getattr(base, method)

    def _versioned_action(self) -> bool:
        """One of the view's own actions that change a versioned record (its
        ``if_match_actions``): they take If-Match and answer with the new ETag."""
        return self._action() in getattr(self.view, "if_match_actions", ()) and self._versioned()

    def _takes_if_match(self) -> bool:
        """An update or delete of a versioned record through ``ScopedModelViewSet``."""
        handler = {"update": "update", "partial_update": "update", "destroy": "destroy"}.get(self._action() or "")
        return (handler is not None and self._inherits(handler) and self._versioned()) or self._versioned_action()

    def _gives_etag(self) -> bool:
        """A read, create or update of one versioned record through ``ScopedModelViewSet``."""
        handler = {"retrieve": "retrieve", "create": "create", "update": "update", "partial_update": "update"}.get(
            self._action() or ""
        )
        return (handler is not None and self._inherits(handler) and self._versioned()) or self._versioned_action()

    def _is_export(self) -> bool:
        return self._action() == "export" and self.method == "GET"

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    # --------------------------------------------------------------- parameters
    def get_filter_backends(self) -> list[Any]:
        if self._is_export():
            return list(getattr(self.view, "filter_backends", []))
        return super().get_filter_backends()  # type: ignore[no-any-return]

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._is_export():
            parameters.append(
                OpenApiParameter(
                    "format",
                    OpenApiTypes.STR,
                    OpenApiParameter.QUERY,
                    enum=list(EXPORT_FORMATS),
                    description="The file's format: csv (the default) or xlsx.",
                )
            )
        if self._takes_if_match():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=True,
                    pattern=ETAG_PATTERN,
                    description="The ETag of the version you read (428 without it, 412 when it is not current).",
                )
            )
        if self._gives_etag():
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=True,
                    pattern=ETAG_PATTERN,
                    response=[200, 201],
                    description="The record's version; send it back as If-Match to update or delete it.",
                )
            )
        return parameters

    # ---------------------------------------------------------------- responses
    def _error_statuses(self, operation_has_query: bool, operation_has_body: bool) -> list[str]:

        statuses = ["401", "403", "429"]
        write = self.method in _WRITES and self._action() not in READ_ACTIONS
        if write or operation_has_query or operation_has_body:
            statuses.append("400")
        if operation_has_body:
            statuses.append("413")
        if "{" in self.path or self._is_list_view():
            statuses.append("404")
        if write:
            statuses.append("409")
        if self._takes_if_match():
            statuses += ["412", "428"]
        return sorted(statuses)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        if self._is_export():
            responses: dict[str, Any] = {
                "200": {
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        XLSX: {"schema": {"type": "string", "format": "binary"}},
                    },
                    "description": (
                        "Every row the caller may see, as CSV (UTF-8 with a byte-order mark) or, "
                        "with format=xlsx, as an Excel workbook with typed cells."
                    ),
                }
            }
        else:
            responses = super()._get_response_bodies(direction)
        has_query = any(
            parameter.get("in") == "query" for parameter in self._get_parameters() if isinstance(parameter, dict)
        )
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        error_ref = self._component("Error", ERROR_SCHEMA)
        for status in self._error_statuses(has_query, has_body):
            if "content" not in responses.get(status, {}):
                responses[status] = {
                    "content": {"application/json": {"schema": error_ref}},
                    "description": ERROR_DESCRIPTIONS[status],
                }
        return dict(sorted(responses.items()))

    # -------------------------------------------------------------- serializers
    def _get_serializer_field_meta(self, field: Any, direction: Any) -> dict[str, Any]:
        meta: dict[str, Any] = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.Field) and reads_null(field):
            meta["nullable"] = True
        return meta

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:

        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and isinstance(serializer, FieldPolicySerializerMixin):
            # Any field may be hidden for some role; postprocess_field_policy adds the masks.
            schema.pop("required", None)
            schema[POLICY_EXTENSION] = serializer.policy_resource
        return schema


def postprocess_field_policy(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Let every field of an answer under the field policy be a ``MaskedValue``.

    A hook after drf-spectacular's own enum hook, which only finds enums that are a
    property's schema itself, not one alternative of it.
    """
    schemas = result.get("components", {}).get("schemas", {})
    governed = [schema for schema in schemas.values() if POLICY_EXTENSION in schema]
    for schema in governed:
        schema["properties"] = {
            name: _maskable(property_schema) for name, property_schema in schema["properties"].items()
        }
    if governed:
        result["components"]["schemas"] = dict(sorted({**schemas, "MaskedValue": MASKED_SCHEMA}.items()))
    return result
