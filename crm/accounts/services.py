"""Users, teams and API tokens: every change goes through here and is audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import UPDATE, may, resource_names
from crm.audit.choices import Action
from crm.audit.services import audit_act, audit_record, snapshot
from crm.core.errors import DomainError, NotPermitted
from crm.core.services import record_create, record_delete, record_update

from . import lockouts, selectors
from .choices import Role
from .models import APIToken, Team, User

KNOWN_SCOPES = ("read", "write")


def _check_scopes(scopes: Iterable[str], resources: Iterable[str]) -> list[str]:
    allowed = set(KNOWN_SCOPES) | {f"{r}:{m}" for r in resources for m in KNOWN_SCOPES}
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in allowed]
    if unknown or not scopes:
        raise DomainError(
            _("Unknown scopes: %(scopes)s") % {"scopes": ", ".join(unknown)}
            if unknown
            else _("Give at least one scope."),
            field_errors={"scopes": [_("Use read, write, or <resource>:read / <resource>:write.")]},
        )
    return scopes


def _usable_parent(parent: APIToken) -> APIToken:
    """The parent token, locked (so that revoking it waits for, and then reaches, the
    token being created), refused if it or a token it was created with no longer works."""
    locked = APIToken.objects.select_for_update().get(pk=parent.pk)
    if not locked.is_active or not selectors.api_token_ancestors_active(token=locked):
        raise NotPermitted(_("The token you signed in with is revoked or expired."))
    return locked


def _check_within(*, parent: APIToken, user: User, scopes: list[str], expires_at: datetime | None) -> None:
    if user.pk != parent.user_id:
        raise NotPermitted(_("A token can only create tokens for its own user."))
    refused = [scope for scope in scopes if not parent.covers(scope)]
    if refused:
        raise NotPermitted(
            _("A token can only give scopes that its own scopes cover."),
            field_errors={
                "scopes": [
                    _("Not covered by %(held)s: %(refused)s")
                    % {"held": ", ".join(parent.scopes), "refused": ", ".join(refused)}
                ]
            },
        )
    limit = parent.expires_at
    if limit is not None and (expires_at is None or expires_at > limit):
        raise NotPermitted(
            _("A token can only create tokens that expire no later than itself."),
            field_errors={"expires_at": [_("Choose a time no later than %(limit)s.") % {"limit": limit.isoformat()}]},
        )


@transaction.atomic
def api_token_create(
    *,
    actor: Any,
    user: User,
    name: str,
    scopes: Iterable[str] = ("read",),
    expires_at: datetime | None = None,
    resources: Iterable[str] = (),
    parent: APIToken | None = None,
) -> tuple[APIToken, str]:
    """Issue a token for ``user``; return it with its key, which is never stored or shown again.

    ``expires_at`` None means the token never expires.  A token created with another
    token (``parent``, the one the caller signed in with) never holds more than its
    parent: it is for the same user, each of its scopes is covered by the parent's
    (``read`` covers ``customers:read``; ``customers:write`` does not cover ``write``),
    and it expires no later than the parent (so a parent that expires cannot create a
    token that never does).  It records its parent and every earlier ancestor, so that
    revoking any of them revokes it.  A person (no ``parent``) creates any token.
    """
    checked = _check_scopes(scopes, resources or resource_names())
    ancestors: list[int] = []
    if parent is not None:
        parent = _usable_parent(parent)
        _check_within(parent=parent, user=user, scopes=checked, expires_at=expires_at)
        ancestors = [parent.pk, *parent.ancestors]
    key = APIToken.generate_key()
    token = APIToken.objects.create(
        user=user,
        name=name,
        prefix=key[:8],
        key_hash=APIToken.digest(key),
        scopes=checked,
        expires_at=expires_at,
        parent=parent,
        ancestors=ancestors,
    )
    after = snapshot(token)
    audit_record(action=Action.CREATE, instance=token, actor=actor, before={}, after=after)
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Any, token: APIToken) -> APIToken:
    """Revoke a token and every token created from it, at any depth: no token outlives
    the one it was created with.  Revoking a revoked token keeps its time of revocation
    and revokes any token created from it that is still working."""
    now = timezone.now()
    locked = APIToken.objects.select_for_update().get(pk=token.pk)
    minted = APIToken.objects.select_for_update().filter(ancestors__contains=[locked.pk], revoked_at__isnull=True)
    revoked = ([locked] if locked.revoked_at is None else []) + list(minted.order_by("pk"))
    befores = [snapshot(row) for row in revoked]
    APIToken.objects.filter(pk__in=[row.pk for row in revoked]).update(revoked_at=now)
    for row, before in zip(revoked, befores, strict=True):
        row.revoked_at = now
        audit_record(action=Action.UPDATE, instance=row, actor=actor, before=before, after=snapshot(row))
    return locked


def user_unlock(*, actor: Any, user: User) -> bool:
    """Let a user locked out after too many failed sign-ins try again at once (an admin's
    act, audited); returns whether they were locked out."""
    if not may(actor, UPDATE, "users"):
        raise NotPermitted(_("Only an administrator may unlock a user."))
    if not lockouts.unlock(user.get_username()):
        return False
    audit_act(action=Action.UPDATE, instance=user, actor=actor, details={"sign-in": "unlocked"})
    return True


def _password_from(data: Mapping[str, Any], user: User | None) -> str | None:
    password = data.get("password")
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(_("The password is too weak."), field_errors={"password": list(exc.messages)}) from exc
    return password


@transaction.atomic
def user_create(*, actor: Any, data: Mapping[str, Any]) -> User:
    """Create a user; a password, if given, must pass the password validators."""
    data = dict(data)
    password = _password_from(data, None)
    data.pop("password", None)
    user = record_create(model=User, actor=actor, data=data, exclude_clean=("password",))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_update(*, actor: Any, instance: User, data: Mapping[str, Any], expected_version: int | None) -> User:
    data = dict(data)
    password = _password_from(data, instance)
    data.pop("password", None)
    user = record_update(
        instance=instance, actor=actor, data=data, expected_version=expected_version, exclude_clean=("password",)
    )
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            action=Action.UPDATE, instance=user, actor=actor, before={"password": "…"}, after={"password": "(changed)"}
        )
    return user


def user_delete(*, actor: Any, instance: User, expected_version: int | None) -> None:
    """Users are deactivated, never deleted: their name stays on the records they touched."""
    if actor is not None and getattr(actor, "pk", None) == instance.pk:
        raise DomainError(_("You cannot deactivate yourself."))
    record_update(
        instance=instance,
        actor=actor,
        data={"is_active": False},
        expected_version=expected_version,
        exclude_clean=("password",),
    )


def _check_manager(data: Mapping[str, Any]) -> None:
    manager = data.get("manager")
    if manager is not None and manager.role != Role.MANAGER:
        raise DomainError(
            _("A team is led by a user with the manager role."),
            field_errors={"manager": [_("This user is not a manager.")]},
        )


def team_create(*, actor: Any, data: Mapping[str, Any]) -> Team:
    """Create a team; its manager (who then sees all its customers) must have the manager role."""
    _check_manager(data)
    return record_create(model=Team, actor=actor, data=data)


def team_update(*, actor: Any, instance: Team, data: Mapping[str, Any], expected_version: int | None) -> Team:
    _check_manager(data)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def team_delete(*, actor: Any, instance: Team, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)
