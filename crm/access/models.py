"""Field-level permission data: per resource, field and role, one level."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.accounts.choices import Role
from crm.core.models import VersionedModel

from .choices import ChangeStatus, FieldLevel
from .scope import customers_visible_to, sees_everything


class FieldPermission(VersionedModel):
    """What one role may do with one field of one API resource: hidden < masked < read < write.

    One row per (resource, field, role).  Admins edit these rows; the field policy reads
    them on every channel.
    """

    scope_path: ClassVar[str | None] = None

    resource = models.CharField(_("resource"), max_length=50)
    field = models.CharField(_("field"), max_length=80)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    level = models.CharField(_("level"), max_length=10, choices=FieldLevel.choices)
    reveal_allowed = models.BooleanField(
        _("may reveal"),
        default=True,
        help_text=_("With the masked level: whether a user may ask to see one value in clear, giving a reason."),
    )

    class Meta:
        verbose_name = _("field permission")
        verbose_name_plural = _("field permissions")
        ordering = ["resource", "field", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "field", "role"],
                name="field_permission_unique",
                violation_error_message=_("This role already has a level for this field."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource}.{self.field} / {self.role}: {self.level}"

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[FieldPermission]:
        """Only admins read or write field permissions."""
        return cls.objects.all() if getattr(user, "is_admin", False) else cls.objects.none()


class ChangeRequest(VersionedModel):
    """A change to fields a user may only propose, waiting for a manager's decision.

    Generic over resources: it names the API resource, the record's id and (for scope)
    the record's customer.  ``changes`` holds field → proposed value and ``previous``
    the values when it was proposed, both as JSON; ``record_version`` the record's
    version then.  A user sees the requests of records they may see; a manager of the
    record's team (or an admin) approves or rejects them; the requester may withdraw a
    pending one.  The record changes only on approval.
    """

    scope_path: ClassVar[str | None] = None

    resource = models.CharField(_("resource"), max_length=50)
    record_id = models.PositiveBigIntegerField(_("record id"))
    record_repr = models.CharField(_("record"), max_length=200, blank=True)
    customer_id = models.PositiveBigIntegerField(_("customer id"), null=True, blank=True, db_index=True)
    changes = models.JSONField(_("proposed values"), default=dict)
    previous = models.JSONField(_("values when proposed"), default=dict)
    record_version = models.PositiveIntegerField(_("record version when proposed"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    #: The language the requester proposed in: the outcome is told to them in it.
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["resource", "record_id", "status"], name="change_request_record")]

    def __str__(self) -> str:
        return f"{self.resource} #{self.record_id}: {', '.join(self.changes)}"

    @classmethod
    def scope_queryset(cls, user: Any) -> models.QuerySet[ChangeRequest]:
        """The requests of records the user may see (their customers), and their own."""
        if sees_everything(user):
            return cls.objects.all()
        customers = customers_visible_to(user)
        return cls.objects.filter(models.Q(customer_id__in=customers.values("pk")) | models.Q(requested_by=user))
