"""Telling owners about their customers' tier moves, in the app and by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _

from crm.accounts.models import Notification, User

from .choices import ChangeKind
from .models import TierChange, TierRun


def notify_tier_moves(*, run_id: int) -> int:
    """One notification per owner whose customers moved up or down in the run, and one
    e-mail each.  Notifications are keyed by run, so calling this twice sends nothing new.
    Returns how many owners were notified now."""
    run = TierRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    moves = (
        TierChange.objects.filter(run=run, kind__in=[ChangeKind.UPGRADE, ChangeKind.DOWNGRADE])
        .values("customer__owner")
        .annotate(
            up=Count("id", filter=Q(kind=ChangeKind.UPGRADE)), down=Count("id", filter=Q(kind=ChangeKind.DOWNGRADE))
        )
    )
    per_owner = {row["customer__owner"]: (row["up"], row["down"]) for row in moves if row["customer__owner"]}
    if not per_owner:
        return 0
    owners = {user.pk: user for user in User.objects.filter(pk__in=per_owner, is_active=True)}
    key = f"tier-run-{run.pk}"
    already = set(Notification.objects.filter(key=key, user__in=owners).values_list("user_id", flat=True))
    fresh: list[Notification] = []
    mails = []
    for owner_id, (up, down) in per_owner.items():
        owner = owners.get(owner_id)
        if owner is None or owner_id in already:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Tier changes for your customers: %(up)d up, %(down)d down") % {"up": up, "down": down}
            body = _("The tier evaluation of %(date)s moved %(up)d of your customers up and %(down)d down.") % {
                "date": run.as_of.date().isoformat(),
                "up": up,
                "down": down,
            }
        link = f"/tiers/?run={run.pk}&owner={owner_id}"
        fresh.append(Notification(user=owner, key=key, title=title, body=body, link=link))
        if owner.email:
            mails.append((title, f"{body}\n\n{link}", settings.DEFAULT_FROM_EMAIL, [owner.email]))
    with transaction.atomic():
        created = Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    if mails:
        send_mass_mail(mails, fail_silently=True)
    return len(created)
