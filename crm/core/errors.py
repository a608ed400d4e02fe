"""Domain errors raised by services and turned into HTTP answers by the API layer.

Services never speak HTTP; they raise these, and ``crm.core.api.exception_handler`` maps
each to one status code with a JSON body that names the fields involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A write was refused by a business rule; nothing was written."""

    status_code = 400
    default_code = "invalid"
    default_message = _("The request was refused.")
    #: Where a write of many records stopped: the place of the record at fault.
    row_index: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        field_errors: dict[str, list[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = str(message or self.default_message)
        self.field_errors = field_errors or {}
        #: More of the answer beside code, message and fields (what a refusal found).
        self.extra = dict(extra or {})
        super().__init__(self.message)


class VersionConflict(DomainError):
    """The record changed since the writer read it (optimistic concurrency)."""

    status_code = 412
    default_code = "version_conflict"
    default_message = _("This record was changed by someone else since you read it. Reload it and try again.")

    def __init__(self, *, current_version: int | None = None, message: str | None = None) -> None:
        self.current_version = current_version
        super().__init__(message)


class NotPermitted(DomainError):
    """The caller may not ask for this (a token asking for more than it holds)."""

    status_code = 403
    default_code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class PreconditionRequired(DomainError):
    """An update or delete arrived without the version it was based on (or with ``*``,
    which names no version)."""

    status_code = 428
    default_code = "precondition_required"
    default_message = _("Send the If-Match header with the ETag of the version you are updating.")


class RecordInUse(DomainError):
    """A delete would orphan records that must be kept (orders, payments)."""

    status_code = 409
    default_code = "in_use"
    default_message = _("This record is still referenced by other records and cannot be deleted.")


class KeyTaken(DomainError):
    """A natural key (an external reference, a code) is held by a record the writer may
    not see.  Keys are unique, so that record can neither be updated nor created again by
    this writer; the answer says only that the key is taken, nothing of the record."""

    status_code = 409
    default_code = "key_taken"
    default_message = _("This key is already used by another record.")


class OutOfScope(DomainError):
    """A write would move a record out of the writer's record scope, or link it to people
    or records that do not belong with it.  A 400 naming the fields, like any refused
    value: the values the writer chose are the problem, not the writer."""

    status_code = 400
    default_code = "out_of_scope"
    default_message = _("You may not move this record out of your reach.")
