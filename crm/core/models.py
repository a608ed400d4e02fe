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


class ExportFile(models.Model):
    """A large export written by a worker (``crm.core.exports``): what was asked (the
    list, its query and columns, the format), how far it has come, and the file in parts
    (``ExportPart``), kept until ``expires_at``; only the person who asked may fetch it."""

    scope_path: ClassVar[str | None] = None

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    resource = models.CharField(_("list"), max_length=60)
    format = models.CharField(_("format"), max_length=4)
    query = models.JSONField(_("query"), default=dict, blank=True)
    #: The language of the headers (the asker's, when they asked).
    language = models.CharField(_("language"), max_length=10, blank=True)
    file_name = models.CharField(_("file"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    total = models.PositiveIntegerField(_("rows to write"), default=0)
    rows = models.PositiveIntegerField(_("rows written"), default=0)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        """How far the export has come, in whole per cent."""
        if self.state == JobState.DONE:
            return 100
        return min(99, self.rows * 100 // self.total) if self.total else 0


class ExportPart(models.Model):
    """One part of an export's file, in order: a file of hundreds of megabytes is kept
    and sent a part at a time, never whole in memory."""

    scope_path: ClassVar[str | None] = None

    export = models.ForeignKey(ExportFile, verbose_name=_("export"), on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField(_("number"))
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("export part")
        verbose_name_plural = _("export parts")
        constraints = [
            models.UniqueConstraint(
                fields=["export", "number"],
                name="export_part_once",
                violation_error_message=_("This part of the export was written already."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.export_id}:{self.number}"


class Generation(models.Model):
    """A token for each kind of data that the processes keep between requests (the field
    policy, the tier schedule).  A trigger on the tables the data is read from replaces
    the token in the same transaction as any change to them (``crm.core.generations``),
    so a process that finds the token it kept its copy under may use that copy, and a
    rolled-back change replaces nothing.  Written only by those triggers; never shown."""

    scope_path: ClassVar[str | None] = None

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    token = models.UUIDField(_("token"))

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[Generation]:
        """Internal bookkeeping: nobody reads it through the scope."""
        return cls.objects.none()
