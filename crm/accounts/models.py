"""Users, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.choices import Region
from crm.core.models import VersionedModel

from .choices import Role


class Team(VersionedModel):
    """A sales team. Its manager sees and manages every customer assigned to the team."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
    )
    region = models.CharField(_("region"), max_length=50, blank=True)

    scope_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_label(self) -> str:
        """The team's region as people read it: a region's name in the reader's
        language when it names one of the regions (``east`` → 华东), else as written."""
        return str(Region(self.region).label) if self.region in Region.values else self.region


class User(AbstractUser):
    """A person or a system that uses the CRM.

    The role decides the record scope: a rep sees the customers they own, a manager the
    customers of the teams they manage, an admin and an integration every customer.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP, db_index=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_path: ClassVar[str | None] = None
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"password", "last_login", "updated_at", "version"})

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """Chinese names read family name first, without a space (李一); others given name first."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class APIToken(models.Model):
    """A bearer token for an integration, acting as its user within the token's scopes.

    Only a SHA-256 digest of the key is stored; the key itself is shown once, at creation.
    Scopes are ``read``/``write`` for every resource or ``<resource>:read`` /
    ``<resource>:write`` for one (``write`` implies ``read``).

    A token created with another token (``parent``) never holds more than it: the same
    user, scopes its parent covers, an expiry no later. ``ancestors`` lists its parent,
    its parent's parent and so on, so that revoking a token reaches every token minted
    from it in one statement, and a token whose ancestor is revoked or expired is refused.
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=8, db_index=True)
    key_hash = models.CharField(_("key digest"), max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("created with token"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    ancestors = ArrayField(
        models.BigIntegerField(), verbose_name=_("created with tokens"), default=list, blank=True, editable=False
    )

    scope_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        indexes = [GinIndex(fields=["ancestors"], name="apitoken_ancestors")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def scope_queryset(cls, user: User) -> models.QuerySet[APIToken]:
        """A user sees their own tokens; an admin sees everyone's."""
        tokens = cls.objects.select_related("user")
        return tokens if user.is_admin else tokens.filter(user=user)

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def digest(key: str) -> str:
        return _hash_key(key)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, resource: str, *, write: bool) -> bool:
        """Whether the token's scopes cover reading (or writing) the named API resource."""
        return self.covers(f"{resource}:write" if write else f"{resource}:read")

    def covers(self, scope: str) -> bool:
        """Whether the token's scopes give everything ``scope`` gives: ``write`` covers
        every scope, ``read`` every reading one, ``<resource>:write`` that resource's
        reading and writing, ``<resource>:read`` only itself."""
        return any(scope_covers(held, scope) for held in self.scopes)


def scope_covers(held: str, wanted: str) -> bool:
    """Whether holding the scope ``held`` gives everything the scope ``wanted`` gives."""
    held_resource, _sep, held_mode = held.rpartition(":")
    wanted_resource, _sep, wanted_mode = wanted.rpartition(":")
    if held_resource and held_resource != wanted_resource:
        return False
    return held_mode == "write" or wanted_mode == held_mode


class Notification(models.Model):
    """A message to one user in the app (and usually by e-mail): "3 of your customers
    moved up a tier".  ``key`` makes each notification unique, so a job that runs twice
    notifies once."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(_("key"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    scope_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                name="notification_user_key",
                violation_error_message=_("This notification was sent to this user already."),
            )
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[Notification]:
        """Everyone reads only their own notifications."""
        if not getattr(user, "is_authenticated", False):
            return cls.objects.none()
        return cls.objects.filter(user=user)
