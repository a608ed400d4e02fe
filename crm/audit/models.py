"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Action, Source


class AuditEvent(models.Model):
    """One create, update, delete (or other recorded act) on one record.

    Events are append-only: the database refuses UPDATE and DELETE on this table (see
    migration 0002).  A trigger numbers each event (``seq``) and chains it to its
    predecessor with a SHA-256 digest, so ``manage.py verify_audit`` can prove that no
    row was altered, removed or slipped in afterwards.

    ``actor`` and ``customer`` are plain references without a database constraint: an
    event must outlive the user or customer it speaks of.
    """

    seq = models.BigIntegerField(_("sequence"), unique=True, editable=False, null=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    resource = models.CharField(_("resource"), max_length=100, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous digest"), max_length=64, editable=False, blank=True)

    # Readers other than admins see the events of the customers they may see.
    scope_path: ClassVar[str | None] = "customer"
    hash = models.CharField(_("digest"), max_length=64, editable=False, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="audit_customer_time"),
            models.Index(fields=["resource", "object_id"], name="audit_resource_object"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.resource}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row holding the last sequence number and digest of the chain.

    The insert trigger locks this row, so events are chained in commit order even when
    many transactions write at once.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="", blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"head #{self.seq}"
