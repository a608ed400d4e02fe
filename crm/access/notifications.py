"""Telling requesters the outcome of their proposed changes, in the app and by e-mail.

Each requester is told once per decision, or once for all of their requests decided
together (a bulk approval: one message listing them, not one per request), in the
language they proposed in (``ChangeRequest.language``; the site's language for
requests older than that).  The in-app notification is keyed by the requests it tells
about, so telling twice stores nothing new; the e-mail leaves once the decision is
committed, and only to an active requester with an address.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from crm.accounts.models import Notification, User

from .choices import ChangeStatus
from .models import ChangeRequest
from .registry import get_resource

#: Requests listed in one message; the rest are counted.
LISTED = 20

Mail = tuple[str, str, str, list[str]]


def _send(mails: list[Mail]) -> None:
    if mails:
        send_mass_mail(mails, fail_silently=True)


def _link(request: ChangeRequest) -> str:
    """Where the requester sees the outcome: the customer's page (beside the current
    values), else the request itself."""
    if request.customer_id is not None:
        return f"/customers/{request.customer_id}/"
    return f"/api/v1/change-requests/{request.pk}/"


def _fields(request: ChangeRequest) -> str:
    """The fields of a request as people name them, in the active language."""
    resource = get_resource(request.resource)
    names = []
    for name in request.changes:
        try:
            field = resource.model._meta.get_field(name) if resource else None
        except FieldDoesNotExist:
            field = None
        names.append(str(getattr(field, "verbose_name", name)))
    comma = "、" if (translation.get_language() or "").startswith("zh") else ", "
    return comma.join(names)


def _one(request: ChangeRequest) -> tuple[str, str]:
    """Title and body telling the outcome of one request."""
    record = request.record_repr
    if request.status == ChangeStatus.APPROVED:
        title = _("Your proposed change to %(record)s was approved") % {"record": record}
        body = _("The new values of %(fields)s are in place.") % {"fields": _fields(request)}
    else:
        title = _("Your proposed change to %(record)s was rejected") % {"record": record}
        body = request.reason
    return title, body


def _several(requests: Sequence[ChangeRequest], status: str) -> tuple[str, str]:
    """Title and body telling the outcome of several requests decided together."""
    if status == ChangeStatus.APPROVED:
        title = _("%(n)d of your proposed changes were approved") % {"n": len(requests)}
    else:
        title = _("%(n)d of your proposed changes were rejected") % {"n": len(requests)}
    lines = [f"■ {request.record_repr}: {_fields(request)}" for request in requests[:LISTED]]
    if len(requests) > LISTED:
        lines.append(_("… and %(n)d more.") % {"n": len(requests) - LISTED})
    reasons = dict.fromkeys(request.reason for request in requests if request.reason)
    lines += list(reasons)
    return title, "\n".join(lines)


def notify_decisions(requests: Sequence[ChangeRequest]) -> int:
    """Tell each requester the outcome of ``requests`` (decided ones), one message per
    requester and outcome.  Returns how many messages were made.  Two queries (the
    requesters, the notifications), however many requests."""
    groups: dict[tuple[int, str], list[ChangeRequest]] = {}
    for request in requests:
        if request.status in (ChangeStatus.APPROVED, ChangeStatus.REJECTED):
            groups.setdefault((request.requested_by_id, request.status), []).append(request)
    if not groups:
        return 0
    users = {user.pk: user for user in User.objects.filter(pk__in={user_id for user_id, _status in groups})}
    fresh: list[Notification] = []
    mails: list[Mail] = []
    for (user_id, status), decided in groups.items():
        decided.sort(key=lambda request: request.pk)
        language = decided[-1].language or settings.LANGUAGE_CODE
        with translation.override(language):
            title, body = _one(decided[0]) if len(decided) == 1 else _several(decided, status)
        if len(decided) == 1:
            key = f"change-request-{decided[0].pk}-{status}"
            link = _link(decided[0])
        else:
            key = f"change-requests-{decided[0].pk}-{decided[-1].pk}-{len(decided)}-{status}"
            customers = {request.customer_id for request in decided}
            link = _link(decided[0]) if len(customers) == 1 else "/notifications/"
        user = users.get(user_id)
        fresh.append(Notification(user_id=user_id, key=key[:100], title=title[:200], body=body, link=link))
        if user is not None and user.is_active and user.email:
            mails.append((title[:200], f"{body}\n\n{link}".strip(), settings.DEFAULT_FROM_EMAIL, [user.email]))
    with transaction.atomic():
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        transaction.on_commit(lambda: _send(mails))
    return len(fresh)
