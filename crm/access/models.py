"""Field-level permission data: per resource, field and role, one level."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.accounts.choices import Role
from crm.core.models import VersionedModel

from .choices import FieldLevel


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
