"""Telling people about risk alerts, in the app and by e-mail, exactly once each.

- New urgent alerts (high, critical), and alerts that became urgent: one message per
  assignee listing them.  The alerts leave the list to tell (``to_tell``) in the same
  transaction that stores the in-app notification, so a retried scan or task finds
  nothing left to tell.
- A reassigned alert: its new assignee is told.
- The daily digest: each assignee's open alerts by severity, those past their SLA and
  those raised in the last day; keyed by date, so it goes out once a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import Notification, User

from .choices import OPEN_STATUSES
from .engine import scan_writes
from .models import RiskAlert, RiskSettings

#: Alerts listed in one message; the rest are counted.
LISTED = 20


def _send(mails: list[tuple[str, str, str, list[str]]]) -> None:
    if mails:
        send_mass_mail(mails, fail_silently=True)


# Takes every alert waiting to be told about off the list (a closed one is not told), and
# returns per assignee how many open ones and the first few, most severe first: one
# statement over the small partial index of alerts to tell.
_TELL = """
WITH told AS (
    UPDATE risk_riskalert SET to_tell = false,
                              notified_at = CASE WHEN status = ANY(%(open)s) THEN %(now)s ELSE notified_at END
    WHERE to_tell AND assignee_id IS NOT NULL
    RETURNING id, assignee_id, severity, status
)
SELECT assignee_id, count(*),
       (array_agg(id ORDER BY severity = 'critical' DESC, id))[1:%(listed)s]
FROM told WHERE status = ANY(%(open)s)
GROUP BY assignee_id
"""


def notify_urgent_alerts() -> int:
    """Tell each assignee about their open urgent alerts not told yet.  Returns how many
    alerts were told about now."""
    from django.db import connection

    now = timezone.now()
    with transaction.atomic():
        # Marking alerts told changes nothing a scan looks at: not logged as a change.
        with connection.cursor() as cursor, scan_writes(cursor):
            cursor.execute(_TELL, {"now": now, "listed": LISTED, "open": list(OPEN_STATUSES)})
            per_user = {assignee: (count, ids) for assignee, count, ids in cursor.fetchall()}
        if not per_user:
            return 0
        listed = {
            a.pk: a
            for a in RiskAlert.objects.filter(pk__in=[pk for _, ids in per_user.values() for pk in ids]).select_related(
                "customer"
            )
        }
        users = {u.pk: u for u in User.objects.filter(pk__in=per_user)}
        fresh, mails = [], []
        for user_id, (count, ids) in per_user.items():
            user = users[user_id]
            with translation.override(settings.LANGUAGE_CODE):
                title = _("%(n)d new urgent risk alerts") % {"n": count}
                lines = [
                    f"[{listed[pk].get_severity_display()}] {listed[pk].customer.name} — {listed[pk].title}"
                    for pk in ids
                ]
                if count > len(ids):
                    lines.append(_("… and %(n)d more.") % {"n": count - len(ids)})
            body = "\n".join(lines)
            link = "/alerts/?severity=urgent"
            fresh.append(Notification(user=user, key=f"risk-urgent-{ids[0]}-{now:%Y%m%d%H%M%S}", title=title,
                                      body=body, link=link))  # fmt: skip
            if user.email and user.is_active:
                mails.append((title, f"{body}\n\n{link}", settings.DEFAULT_FROM_EMAIL, [user.email]))
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        transaction.on_commit(lambda: _send(mails))
    return sum(count for count, _ids in per_user.values())


def notify_reassigned(*, alert_id: int, actor_id: int | None) -> bool:
    """Tell an alert's new assignee that it is theirs now (once per assignment)."""
    alert = RiskAlert.objects.select_related("customer", "assignee").filter(pk=alert_id).first()
    if alert is None or alert.assignee is None or alert.assignee_id == actor_id:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Risk alert assigned to you: %(customer)s") % {"customer": alert.customer.name}
    key = f"risk-alert-{alert.pk}-v{alert.version}"
    _notification, created = Notification.objects.get_or_create(
        user=alert.assignee, key=key, defaults={"title": title, "body": alert.title, "link": f"/alerts/{alert.pk}/"}
    )
    if created and alert.assignee.email:
        _send([(title, f"{alert.title}\n\n/alerts/{alert.pk}/", settings.DEFAULT_FROM_EMAIL, [alert.assignee.email])])
    return created


def send_digests(*, day: dt.date | None = None) -> int:
    """The day's digest to every active user with open alerts assigned: how many by
    severity, how many past their SLA, how many new since yesterday.  Once a day each."""
    if not RiskSettings.current().digest_enabled:
        return 0
    now = timezone.now()
    day = day or timezone.localdate()
    rows = (
        RiskAlert.objects.filter(status__in=OPEN_STATUSES, assignee__is_active=True)
        .values("assignee")
        .annotate(
            total=Count("id"),
            critical=Count("id", filter=Q(severity="critical")),
            high=Count("id", filter=Q(severity="high")),
            breached=Count("id", filter=Q(due_at__lt=now)),
            new=Count("id", filter=Q(raised_at__gte=now - dt.timedelta(days=1))),
        )
    )
    counts: dict[int, dict[str, Any]] = {row["assignee"]: dict(row) for row in rows}
    key = f"risk-digest-{day.isoformat()}"
    already = set(Notification.objects.filter(key=key, user__in=counts).values_list("user_id", flat=True))
    users = User.objects.filter(pk__in=set(counts) - already)
    fresh, mails = [], []
    for user in users:
        row = counts[user.pk]
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Risk digest for %(day)s: %(total)d open alerts") % {
                "day": day.isoformat(),
                "total": row["total"],
            }
            body = (
                _(
                    "Critical %(critical)d, high %(high)d; %(breached)d past their deadline; "
                    "%(new)d new since yesterday."
                )
                % row
            )
        fresh.append(Notification(user=user, key=key, title=title, body=body, link="/alerts/"))
        if user.email:
            mails.append((title, f"{body}\n\n/alerts/", settings.DEFAULT_FROM_EMAIL, [user.email]))
    with transaction.atomic():
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        transaction.on_commit(lambda: _send(mails))
    return len(fresh)
