"""An import: the file a user brought, how it was read and matched, what its dry run
found, and, once imported, what it wrote (for the history and for undoing it)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ImportMode, ImportState


class ImportJob(models.Model):
    """One file imported (or checked) by one user.

    The file is kept in the database, so the web server that received it and the worker
    that imports it need no shared disk.  Its :class:`ImportedRecord` rows list every
    record the import created or updated with the version it left it at: undoing the
    import restores exactly those, and a record changed since is reported, not
    overwritten.
    """

    #: Imports belong to the person who ran them, not to a customer.
    scope_path: ClassVar[str | None] = None

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=30)
    mode = models.CharField(_("mode"), max_length=10, choices=ImportMode.choices, default=ImportMode.UPSERT)
    key = models.CharField(_("key"), max_length=40)
    file_name = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(_("content"), editable=False)
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    #: The user's choices of field by header, over the automatic match.
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    create_duplicates = models.BooleanField(_("create suspected duplicates"), default=False)
    #: What the user chose for each suspected duplicate, by its place in the file
    #: (``kinds.position``): skip, create or update (the customer it looks like).
    duplicate_choices = models.JSONField(_("choices for suspected duplicates"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=ImportState.choices, default=ImportState.CHECKED)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    problems = models.PositiveIntegerField(_("problems"), default=0)
    error_report = models.BinaryField(_("error report"), null=True, editable=False)
    #: What the dry run found, for the API: the columns as matched, those refused, and
    #: the first problems at their rows and columns.
    details = models.JSONField(_("details"), default=dict, blank=True)
    #: How many rows the import writes, how many it has written, and the last row of the
    #: file written (a resumed import goes on after it).
    to_write = models.PositiveIntegerField(_("rows to write"), default=0)
    done_rows = models.PositiveIntegerField(_("rows written"), default=0)
    last_row = models.PositiveIntegerField(_("last row written"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "-id"], name="import_by_user")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.kind})"

    @property
    def percent(self) -> int:
        """How far the import has come, in whole per cent."""
        if not self.to_write:
            return 100 if self.state == "done" else 0
        return min(100, self.done_rows * 100 // self.to_write)


class ImportedRecord(models.Model):
    """One record an import created or updated: the version it left it at and, for an
    update, the values it had before (what undoing the import gives back)."""

    scope_path: ClassVar[str | None] = None

    job = models.ForeignKey(ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="records")
    #: The kind of the record (an archive's sheets write several); empty: the job's.
    kind = models.CharField(_("kind"), max_length=30, blank=True)
    record_id = models.BigIntegerField(_("record"))
    action = models.CharField(_("action"), max_length=10)
    version = models.PositiveIntegerField(_("version"))
    before = models.JSONField(_("values before"), default=dict, blank=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        constraints = [
            models.UniqueConstraint(
                fields=["job", "kind", "record_id"],
                name="imported_record_once",
                violation_error_message=_("This record is listed in the import already."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.record_id}"


class SavedMapping(models.Model):
    """How a file's columns map to fields, kept so that the same headers are mapped the
    same way next time, by anyone (a mapping names only headers and fields); a named one
    can also be chosen by name (``import_xlsx --mapping NAME``)."""

    scope_path: ClassVar[str | None] = None

    kind = models.CharField(_("kind"), max_length=30)
    #: A digest of the file's headers, as matched (normalised).
    headers_key = models.CharField(_("headers"), max_length=64)
    name = models.CharField(_("name"), max_length=80, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "headers_key"],
                name="mapping_one_per_headers",
                violation_error_message=_("A mapping of these headers is saved already."),
            ),
            models.UniqueConstraint(
                fields=["kind", "name"],
                condition=~models.Q(name=""),
                name="mapping_unique_name",
                violation_error_message=_("A mapping of this kind and name exists already."),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.kind} {self.headers_key[:8]}"
