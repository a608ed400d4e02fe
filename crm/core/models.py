"""Abstract bases shared by every editable record."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionedModel(models.Model):
    """An editable record with creation/update stamps and an optimistic-concurrency version.

    Every successful update increments ``version``; a writer must present the version it
    read (API: ``If-Match``; forms: a hidden field) or its write is refused, so two users
    can never silently overwrite each other.

    ``scope_path`` names the relation from this model to its ``Customer`` ("" for the
    customer itself, ``None`` for records that belong to no customer).  Record scope and
    the audit trail's customer timeline both follow it.
    """

    # Deliberately no default: every model states its scope (see crm.access.scope).
    scope_path: ClassVar[str | None]
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at", "version"})

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True
