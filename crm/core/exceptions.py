"""JSON errors for every endpoint: ``{"code", "message", "fields"?}``, never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, RecordInUse, VersionConflict
from .parsers import BodyTooLarge


def _flatten(detail: Any) -> Any:
    if isinstance(detail, Mapping):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_dict(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _body(code: str, message: str, fields: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = _flatten(fields)
    body.update(extra)
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every error as JSON ``{"code", "message", "fields"?}``.

    Anything a client can send (bad JSON, wrong types, unknown ids, values the database
    rejects) becomes a 4xx here, never a 500.
    """
    if isinstance(exc, VersionConflict):
        return Response(
            _body(exc.default_code, exc.message, exc.field_errors, current_version=exc.current_version),
            status=exc.status_code,
        )
    if isinstance(exc, DomainError):
        return Response(_body(exc.default_code, exc.message, exc.field_errors, **exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = _validation_dict(exc)
        return Response(_body("invalid", _("Some fields are not valid."), fields), status=400)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(_body(RecordInUse.default_code, str(RecordInUse.default_message)), status=409)
    if isinstance(exc, IntegrityError):
        return Response(_body("conflict", _("The data conflicts with an existing record.")), status=409)
    if isinstance(exc, DataError):
        return Response(_body("invalid", _("A value is out of range or malformed.")), status=400)
    if isinstance(exc, RequestDataTooBig):  # more than CRM_REQUEST_MAX_BYTES
        return Response(_body(BodyTooLarge.default_code, str(BodyTooLarge.default_detail)), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, Mapping) else {"non_field_errors": exc.detail}
        response.data = _body("invalid", _("Some fields are not valid."), detail)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = _body(codes if isinstance(codes, str) else exc.default_code, str(exc.detail))
    return response
