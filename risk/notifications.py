"""Telling people about risk alerts, in the app and by e-mail, exactly once each.

- New urgent alerts (high, critical), and alerts that became urgent: one message per
  assignee listing them.  The alerts leave the list to tell (``to_tell``) in the same
  transaction that stores the in-app notification, so a retried scan or task finds
  nothing left to tell.
- A reassigned alert: its new assignee is told.
- Alerts handed on together: their new assignee is told once, with the list.
- The daily digest: each assignee's open alerts by severity, those past their SLA and
  those raised in the last day, then a readable list grouped by customer (each
  customer's rules with their worst severity, count and earliest deadline); keyed by
  date, so it goes out once a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import Notification, User
from crm.core.localized import localized_expression

from .choices import OPEN_STATUSES, SEVERITY_ORDER, Severity
from .engine import scan_writes
from .models import RiskAlert, RiskSettings
from .selectors import SEVERITY_RANK

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
                "customer", "rule"
            )
        }
        users = {u.pk: u for u in User.objects.filter(pk__in=per_user)}
        fresh, mails = [], []
        for user_id, (count, ids) in per_user.items():
            user = users[user_id]
            with translation.override(settings.LANGUAGE_CODE):
                title = _("%(n)d new urgent risk alerts") % {"n": count}
                lines = [
                    f"[{listed[pk].get_severity_display()}] {listed[pk].customer.name} — {listed[pk].display_title}"
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
    alert = RiskAlert.objects.select_related("customer", "assignee", "rule").filter(pk=alert_id).first()
    if alert is None or alert.assignee is None or alert.assignee_id == actor_id:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Risk alert assigned to you: %(customer)s") % {"customer": alert.customer.name}
        body = alert.display_title
    key = f"risk-alert-{alert.pk}-v{alert.version}"
    _notification, created = Notification.objects.get_or_create(
        user=alert.assignee, key=key, defaults={"title": title, "body": body, "link": f"/alerts/{alert.pk}/"}
    )
    if created and alert.assignee.email:
        _send([(title, f"{body}\n\n/alerts/{alert.pk}/", settings.DEFAULT_FROM_EMAIL, [alert.assignee.email])])
    return created


def notify_reassigned_many(*, alert_ids: list[int], assignee_id: int) -> bool:
    """Tell the new assignee of alerts handed on together, once for them all."""
    user = User.objects.filter(pk=assignee_id, is_active=True).first()
    if user is None or not alert_ids:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(n)d risk alerts assigned to you") % {"n": len(alert_ids)}
        lines = _digest_lines(RiskAlert.objects.filter(pk__in=alert_ids), now=timezone.now()).get(user.pk, [])
    body = "\n".join(lines)
    key = f"risk-alerts-{min(alert_ids)}-{len(alert_ids)}-{timezone.now():%Y%m%d%H%M%S}"
    _notification, created = Notification.objects.get_or_create(
        user=user, key=key[:100], defaults={"title": title, "body": body, "link": "/alerts/?who=mine"}
    )
    if created and user.email:
        _send([(title, f"{body}\n\n/alerts/?who=mine", settings.DEFAULT_FROM_EMAIL, [user.email])])
    return created


#: Customers listed in one digest; the rest are counted.
DIGEST_CUSTOMERS = 30


def _digest_lines(alerts: Any, *, now: dt.datetime) -> dict[int | None, list[str]]:
    """Each assignee's open alerts as a list a person reads, grouped by customer and
    within it by rule: one line per customer, then one indented line per rule with its
    worst severity, how many alerts and the earliest deadline; the most urgent customers
    first.  One ``GROUP BY`` statement for every assignee."""
    rows = (
        alerts.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee_id", "customer_id", "rule_id")
        .annotate(
            customer_name=Min("customer__name"),
            rule_name=Min(localized_expression("name", through="rule__")),
            worst=Max(SEVERITY_RANK),
            n=Count("id"),
            due=Min("due_at"),
            breached=Count("id", filter=Q(due_at__lt=now)),
        )
        .order_by("assignee_id", "customer_id", "-worst", "rule_id")
    )
    by_owner: dict[Any, dict[int, list[dict[str, Any]]]] = {}
    for row in rows:
        by_owner.setdefault(row["assignee_id"], {}).setdefault(row["customer_id"], []).append(row)
    severity = dict(Severity.choices)
    result: dict[Any, list[str]] = {}
    for owner, customers in by_owner.items():
        ordered = sorted(
            customers.values(), key=lambda rules: (-max(r["worst"] for r in rules), rules[0]["customer_name"])
        )
        lines: list[str] = []
        for rules in ordered[:DIGEST_CUSTOMERS]:
            total = sum(r["n"] for r in rules)
            lines.append(
                _("■ %(customer)s — %(n)d open alerts") % {"customer": rules[0]["customer_name"], "n": total}
                if total != 1
                else _("■ %(customer)s — 1 open alert") % {"customer": rules[0]["customer_name"]}
            )
            for r in rules:
                due = timezone.localtime(r["due"]).strftime("%Y-%m-%d %H:%M") if r["due"] else "—"
                line = _("    [%(severity)s] %(rule)s × %(n)d, act by %(due)s") % {
                    "severity": severity[SEVERITY_ORDER[r["worst"]]], "rule": r["rule_name"], "n": r["n"], "due": due,
                }  # fmt: skip
                if r["breached"]:
                    line += _(" (%(n)d past the deadline)") % {"n": r["breached"]}
                lines.append(line)
        if len(ordered) > DIGEST_CUSTOMERS:
            lines.append(_("… and %(n)d more customers.") % {"n": len(ordered) - DIGEST_CUSTOMERS})
        result[owner] = lines
    return result


def send_digests(*, day: dt.date | None = None) -> int:
    """The day's digest to every active user with open alerts assigned: how many by
    severity, how many past their SLA, how many new since yesterday, then the alerts as
    a list grouped by customer (each customer's rules, their worst severity, count and
    earliest deadline).  Once a day each; in the site's language."""
    if not RiskSettings.current().digest_enabled:
        return 0
    now = timezone.now()
    day = day or timezone.localdate()
    open_alerts = RiskAlert.objects.filter(status__in=OPEN_STATUSES, assignee__is_active=True)
    rows = (
        open_alerts.values("assignee")
        .annotate(
            total=Count("id"),
            critical=Count("id", filter=Q(severity="critical")),
            high=Count("id", filter=Q(severity="high")),
            breached=Count("id", filter=Q(due_at__lt=now)),
            new=Count("id", filter=Q(raised_at__gte=now - dt.timedelta(days=1))),
        )
        .order_by()
    )
    counts: dict[int, dict[str, Any]] = {row["assignee"]: dict(row) for row in rows}
    key = f"risk-digest-{day.isoformat()}"
    already = set(Notification.objects.filter(key=key, user__in=counts).values_list("user_id", flat=True))
    wanted = set(counts) - already
    users = User.objects.filter(pk__in=wanted)
    fresh, mails = [], []
    with translation.override(settings.LANGUAGE_CODE):
        listed = _digest_lines(open_alerts.filter(assignee__in=wanted), now=now)
        for user in users:
            row = counts[user.pk]
            title = _("Risk digest for %(day)s: %(total)d open alerts") % {
                "day": day.isoformat(),
                "total": row["total"],
            }
            summary = (
                _(
                    "Critical %(critical)d, high %(high)d; %(breached)d past their deadline; "
                    "%(new)d new since yesterday."
                )
                % row
            )
            body = "\n".join([summary, "", *listed.get(user.pk, [])])
            fresh.append(Notification(user=user, key=key, title=title, body=body, link="/alerts/"))
            if user.email:
                mails.append((title, f"{body}\n\n/alerts/", settings.DEFAULT_FROM_EMAIL, [user.email]))
    with transaction.atomic():
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        transaction.on_commit(lambda: _send(mails))
    return len(fresh)
