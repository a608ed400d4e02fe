"""Abstract bases shared by every editable record."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import JobState


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


class BackgroundJob(models.Model):
    """A job the workers run for the whole book (a tier evaluation, a risk scan): its
    state, who or what started it, when it ran and what it did.  At most one of a kind is
    queued or running at a time: each concrete model adds a partial unique index on the
    constant ``singleton`` over the active states.  Subclasses add ``trigger`` (with their
    own choices) and ``as_of``."""

    scope_path: ClassVar[str | None] = None

    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    singleton = models.BooleanField(_("single active run"), default=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.state}"

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[Any]:
        """Jobs concern the whole book: every signed-in user may see their state."""
        return cls.objects.all() if getattr(user, "is_authenticated", False) else cls.objects.none()  # type: ignore[attr-defined]


class JobPart(models.Model):
    """One part of a background job (a chunk of customers, a rule): done in one
    transaction that also sets ``done`` and its ``counts``, so a retried part is done
    exactly once.  Subclasses add the job they belong to (named by ``job_field``) and
    what the part covers."""

    scope_path: ClassVar[str | None] = None
    job_field: ClassVar[str]

    done = models.BooleanField(_("done"), default=False)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True
