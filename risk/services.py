"""Risk rules and the alert workflow.

An alert moves open → acknowledged → resolved, or is dismissed with a note; a closed
alert stays closed (the scan raises a new one if the risk returns).  Every function is
one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from numbers import Real
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import CREATE, UPDATE, may
from crm.access.scope import customers_visible_to, scoped_queryset
from crm.audit.services import audit_bulk
from crm.core.errors import DomainError, NotPermitted
from crm.core.jobs import (
    SILENT_AFTER,
    JobKind,
    fail_part,
    job_active,
    job_close,
    job_follow_up,
    job_hand_out,
    job_part_run,
    job_rescue,
)
from crm.core.services import record_create, record_create_many, record_delete, record_update, record_update_many
from customers.models import Customer

from . import kinds
from .choices import (
    ACTIVE_SCAN_STATES,
    OPEN_STATUSES,
    URGENT_SEVERITIES,
    AlertStatus,
    ScanState,
    ScanTrigger,
    Severity,
)
from .engine import EVERY_CUSTOMER, FULL_EVERY, KINDS, PARAMS, Since, apply_rule, fingerprint, parameters, retire_rule
from .models import AlertComment, RiskAlert, RiskChange, RiskRule, RiskScan, RiskScanStep, RiskSettings
from .notifications import notify_reassigned, notify_reassigned_many, notify_urgent_alerts, send_digests
from .selectors import risk_assignee_choices


def _param_error(name: str, value: Any, param: Any) -> str | None:
    """Why ``value`` cannot be the parameter ``name``, or None."""
    if isinstance(value, bool) or not isinstance(value, Real) or value < 0:
        return _("%(name)s must be a number of zero or more.") % {"name": name}
    if param is not None and param.whole and float(value) != int(float(value)):
        return _("%(name)s must be a whole number.") % {"name": name}
    if param is not None and param.most is not None and value > param.most:
        return _("%(name)s must be at most %(most)s.") % {"name": name, "most": param.most}
    return None


def check_rule(data: Mapping[str, Any], instance: RiskRule | None) -> None:
    """Refuse parameters the rule's kind does not know, negative numbers, fractions where
    a whole number is meant, severity levels that are not ``[[from, severity], ...]`` with
    known severities, and a change of kind once the rule has raised alerts (its alerts'
    facts would no longer match it)."""

    kind = data.get("kind", instance.kind if instance else None)
    params = data.get("params", instance.params if instance else {})
    levels = data.get("severity_levels", instance.severity_levels if instance else [])
    if kind is None:
        return
    known = PARAMS.get(kind, {})
    errors: dict[str, list[str]] = {}
    if instance is not None and kind != instance.kind and instance.alerts.exists():
        errors["kind"] = [_("This rule has raised alerts: add a new rule instead of changing its kind.")]
    if not isinstance(params, dict):
        errors["params"] = [_("Give an object of parameter names and numbers.")]
    else:
        for name, value in params.items():
            param = known.get(name)
            if param is None:
                errors.setdefault("params", []).append(
                    _("Unknown parameter %(name)s; use %(known)s.") % {"name": name, "known": ", ".join(known)}
                )
            elif param.per_currency:
                if not isinstance(value, dict):
                    errors.setdefault("params", []).append(
                        _('%(name)s must map currencies to amounts, e.g. {"USD": 150}.') % {"name": name}
                    )
                    continue
                for currency, amount in value.items():
                    if problem := _param_error(f"{name}.{currency}", amount, None):
                        errors.setdefault("params", []).append(problem)
            elif problem := _param_error(name, value, param):
                errors.setdefault("params", []).append(problem)
    if not isinstance(levels, list) or any(
        not isinstance(level, list | tuple)
        or len(level) != 2
        or _param_error("from", level[0], None)
        or level[1] not in Severity.values
        for level in levels
    ):
        errors["severity_levels"] = [_('Give a list of [from, severity] pairs, e.g. [[1, "low"], [31, "medium"]].')]
    if errors:
        raise DomainError(_("The rule's parameters are not valid."), field_errors=errors)


def risk_rule_create(*, actor: Any, data: Mapping[str, Any]) -> RiskRule:
    check_rule(data, None)
    return record_create(model=RiskRule, actor=actor, data=data)


def risk_rule_update(
    *, actor: Any, instance: RiskRule, data: Mapping[str, Any], expected_version: int | None
) -> RiskRule:
    check_rule(data, instance)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def risk_settings_update(*, actor: Any, data: Mapping[str, Any], expected_version: int | None) -> RiskSettings:
    """Change when the daily scan runs, the hours each severity gives to act, and the
    digest.  Every severity needs a positive number of hours; the new deadlines apply to
    alerts raised or escalated from now on (a deadline already set does not move)."""

    sla = data.get("sla_hours")
    if sla is not None:
        sla = sla if isinstance(sla, dict) else {}

        def hours_ok(value: Any) -> bool:
            return not isinstance(value, bool) and isinstance(value, Real) and 0 < float(value) <= 24 * 365

        missing = [severity for severity in Severity.values if not hours_ok(sla.get(severity))]
        if missing or set(sla) - set(Severity.values):
            raise DomainError(
                _("Give every severity a number of hours to act, more than 0 and at most a year."),
                field_errors={"sla_hours": [_("Hours needed for: %(which)s.") % {"which": ", ".join(missing) or "-"}]},
            )
    return record_update(instance=RiskSettings.current(), actor=actor, data=data, expected_version=expected_version)


def risk_rule_delete(*, actor: Any, instance: RiskRule, expected_version: int | None) -> None:
    """A rule that raised alerts is kept (409): disable it instead."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


def _workflow(data: dict[str, Any], instance: RiskAlert | None) -> dict[str, Any]:
    status = data.get("status", instance.status if instance else AlertStatus.OPEN)
    previous = instance.status if instance else None
    if previous is not None and previous not in OPEN_STATUSES and status != previous:
        raise DomainError(
            _("A closed alert cannot be reopened; the next scan raises a new one if the risk is still there."),
            field_errors={"status": [_("This alert is already %(status)s.") % {"status": previous}]},
        )
    now = timezone.now()
    if status == AlertStatus.ACKNOWLEDGED and not (instance and instance.acknowledged_at):
        data["acknowledged_at"] = now
    if status in (AlertStatus.RESOLVED, AlertStatus.DISMISSED) and status != previous:
        data["resolved_at"] = now
        if status == AlertStatus.DISMISSED and not data.get("resolution_note", instance and instance.resolution_note):
            raise DomainError(
                _("Say why the alert is dismissed."),
                field_errors={"resolution_note": [_("Required to dismiss an alert.")]},
            )
    return data


@transaction.atomic
def risk_alert_create(*, actor: Any, data: Mapping[str, Any]) -> RiskAlert:
    """Raise an alert by hand.  Severity defaults to the rule's; a title or action left
    empty is the rule's name or playbook in each reader's language; it is assigned to the
    customer's owner unless someone else is named."""
    data = dict(data)
    rule: RiskRule = data["rule"]
    data.setdefault("severity", rule.severity)
    if not data.get("severity"):
        data["severity"] = rule.severity
    data["title"] = (data.get("title") or "").strip()
    data["recommended_action"] = (data.get("recommended_action") or "").strip()
    if data.get("assignee") is None:
        data["assignee"] = data["customer"].owner
    data["raised_at"] = data.get("raised_at") or timezone.now()
    data["to_tell"] = data["severity"] in URGENT_SEVERITIES
    alert = record_create(model=RiskAlert, actor=actor, data=_workflow(data, None))

    transaction.on_commit(notify_urgent_alerts)
    return alert


@transaction.atomic
def risk_alert_update(
    *, actor: Any, instance: RiskAlert, data: Mapping[str, Any], expected_version: int | None
) -> RiskAlert:
    """Work an alert: acknowledge, resolve or dismiss it, reassign it, add notes."""
    data = dict(data)
    if "assignee" in data and data["assignee"] != instance.assignee and not may(actor, "assign", "risk-alerts"):
        raise DomainError(
            _("Only managers can reassign alerts."),
            field_errors={"assignee": [_("Ask your manager to give this alert to someone else.")]},
        )
    alert = record_update(
        instance=instance, actor=actor, data=_workflow(data, instance), expected_version=expected_version
    )
    if alert.assignee_id != instance.assignee_id and alert.assignee_id and alert.status in OPEN_STATUSES:
        transaction.on_commit(lambda: notify_reassigned(alert_id=alert.pk, actor_id=getattr(actor, "pk", None)))
    return alert


@transaction.atomic
def alert_comment_add(*, actor: Any, alert: RiskAlert, body: str) -> AlertComment:
    """Add a note to an alert the actor may see; a closed alert takes notes too (what
    happened afterwards).  Audited like every write."""
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write something first."), field_errors={"body": [_("This field is required.")]})
    if len(body) > 4000:
        raise DomainError(_("Keep a comment under 4,000 characters."), field_errors={"body": [_("Too long.")]})
    return record_create(model=AlertComment, actor=actor, data={"alert": alert, "author": actor, "body": body})


def risk_alert_delete(*, actor: Any, instance: RiskAlert, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ------------------------------------------------------------------ groups and bulk
#: The statuses a group or a bulk action may move open alerts to.
BULK_STATUSES = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED, AlertStatus.DISMISSED)


def _alerts_to_work(actor: Any, versions: Mapping[int, int | None]) -> dict[int, RiskAlert]:
    """The alerts named, locked, if the actor may see every one of them (their customer is
    in the actor's scope); otherwise nothing is done.  One query."""
    if not versions:
        raise DomainError(_("Choose at least one alert."))
    if len(versions) > BULK_MAX:
        raise DomainError(_("Work on at most %(n)d alerts at a time.") % {"n": BULK_MAX})
    found = (
        scoped_queryset(RiskAlert, actor)
        .select_related("customer")
        .select_for_update(of=("self",))
        .in_bulk(list(versions))
    )
    if len(found) != len(versions):
        raise DomainError(_("Some of these alerts are not yours to work on; nothing was changed."))
    return found


#: Alerts one group or bulk action may change at once.
BULK_MAX = 1000


def _sees(actor_or_user: Any, alerts: Mapping[int, RiskAlert]) -> dict[tuple[int, int], bool]:
    """Whether the user sees each alert's customer, asked once for them all (the write
    rules ask it of every person a record names)."""
    customers = {alert.customer_id for alert in alerts.values()}
    seen = set(customers_visible_to(actor_or_user).filter(pk__in=customers).values_list("pk", flat=True))
    return {(actor_or_user.pk, customer): customer in seen for customer in customers}


@transaction.atomic
def risk_alert_bulk_status(*, actor: Any, versions: Mapping[int, int | None], status: str, note: str = "") -> int:
    """Acknowledge, resolve or dismiss many alerts together (a group, or the inbox's
    ticked rows), in one transaction and a few statements whatever their number.

    Every alert must be one the actor may see and work, still at the version the page
    showed (else nothing is written: 409), and open: a closed alert stays closed.  An
    alert already in the wanted status is left as it is.  Each changed alert gets a new
    version and its own audit event.  Returns how many changed."""
    if not may(actor, UPDATE, "risk-alerts"):
        raise NotPermitted(_("You may not work on risk alerts."))
    if status not in BULK_STATUSES:
        raise DomainError(_("Choose acknowledge, resolve or dismiss."), field_errors={"status": [_("Not allowed.")]})
    note = (note or "").strip()
    alerts = _alerts_to_work(actor, versions)
    changes = []
    for pk, alert in alerts.items():
        if alert.status == status:
            continue
        if alert.status not in OPEN_STATUSES:
            raise DomainError(
                _("A closed alert cannot be reopened; the next scan raises a new one if the risk is still there."),
                field_errors={"status": [_("This alert is already %(status)s.") % {"status": alert.status}]},
            )
        data: dict[str, Any] = {"status": status}
        if note and status != AlertStatus.ACKNOWLEDGED:
            data["resolution_note"] = note
        changes.append((pk, _workflow(data, alert), versions[pk]))
    written = record_update_many(model=RiskAlert, actor=actor, changes=changes)
    return sum(1 for alert in written if alert is not None)


@transaction.atomic
def risk_alert_bulk_assign(*, actor: Any, versions: Mapping[int, int | None], assignee: Any) -> int:
    """Hand many open alerts to one person: a manager's act, to a member of a team they
    manage (an admin: to anyone), who must see every alert's customer.  As for
    :func:`risk_alert_bulk_status`: the actor's alerts only, at their versions, an audit
    event each; the new assignee is told once about them all.  Returns how many changed."""
    if not may(actor, "assign", "risk-alerts"):
        raise NotPermitted(
            _("Only managers can reassign alerts."),
            field_errors={"assignee": [_("Ask your manager to give this alert to someone else.")]},
        )
    if assignee is None or not risk_assignee_choices(user=actor).filter(pk=assignee.pk).exists():
        raise DomainError(
            _("Choose someone in your team."), field_errors={"assignee": [_("Not someone you can hand alerts to.")]}
        )
    alerts = _alerts_to_work(actor, versions)
    known = _sees(assignee, alerts)
    blind = sorted({alert.customer.name for alert in alerts.values() if not known[(assignee.pk, alert.customer_id)]})
    if blind:
        raise DomainError(
            _("%(user)s cannot see %(customers)s; give the customers to them first.")
            % {"user": assignee, "customers": ", ".join(blind[:5])},
            field_errors={"assignee": [_("This person cannot see the customer.")]},
        )
    changes = []
    for pk, alert in alerts.items():
        if alert.status not in OPEN_STATUSES:
            raise DomainError(_("Only open alerts can be handed on."), field_errors={"status": [alert.status]})
        if alert.assignee_id != assignee.pk:
            changes.append((pk, {"assignee": assignee}, versions[pk]))
    written = [
        alert for alert in record_update_many(model=RiskAlert, actor=actor, changes=changes, known=known) if alert
    ]
    if written and assignee.pk != getattr(actor, "pk", None):
        ids = [alert.pk for alert in written]
        transaction.on_commit(lambda: notify_reassigned_many(alert_ids=ids, assignee_id=assignee.pk))
    return len(written)


@transaction.atomic
def alert_comment_bulk_add(*, actor: Any, versions: Mapping[int, int | None], body: str) -> int:
    """The same note on many alerts (e.g. "called the finance department about all five
    invoices"): one comment per alert, each audited, in a few statements.  The actor's
    alerts only; a comment changes no alert, so their versions are not checked."""
    if not may(actor, CREATE, "alert-comments"):
        raise NotPermitted(_("You may not comment on alerts."))
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write something first."), field_errors={"body": [_("This field is required.")]})
    if len(body) > 4000:
        raise DomainError(_("Keep a comment under 4,000 characters."), field_errors={"body": [_("Too long.")]})
    alerts = _alerts_to_work(actor, versions)
    rows = [{"alert": alert, "author": actor, "body": body} for alert in alerts.values()]
    record_create_many(model=AlertComment, actor=actor, rows=rows, known=_sees(actor, alerts))
    return len(rows)


# ------------------------------------------------------------------ scans
#: The kinds of rule by how long they usually take to apply, the longest first (each
#: kind's cost rank, in ``risk.kinds``).
LONGEST_FIRST = kinds.LONGEST_FIRST

#: A rule whose findings are read by customer is applied in parts of this many customer
#: ids (two at a million customers), which the workers share with the other rules: each
#: part costs a pass over the change log and its own share of the indexes, so few parts,
#: but enough that the longest rule does not keep one worker busy while the others wait.
PART_SIZE = 500_000


@transaction.atomic
def risk_scan_start(
    *,
    actor: Any,
    trigger: str,
    as_of: Any = None,
    queue: bool = True,
    full: bool = False,
    part_size: int = PART_SIZE,
) -> RiskScan:
    """Queue a scan of every enabled rule, one step per rule, or per range of
    ``part_size`` customer ids for a rule that can be applied in parts.  If a scan is
    already queued or running it is returned instead: at most one runs at a time (the
    database enforces it).  A scan in the way whose steps are all done lost its closing
    when its worker died: it is closed now, and the new one starts.  ``full``: compare
    every customer, not only those changed since the previous scan."""

    active = job_active(SCAN_JOB, queued=queue)
    if active is not None:
        return active
    try:
        with transaction.atomic():
            scan = RiskScan.objects.create(
                trigger=trigger,
                requested_by=actor if getattr(actor, "pk", None) else None,
                as_of=as_of or timezone.now(),
            )
    except IntegrityError:  # another request started one a moment ago
        return RiskScan.objects.get(state__in=ACTIVE_SCAN_STATES)
    bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
    starts = list(range((bounds["low"] or 0) + part_size, (bounds["high"] or 0) + 1, part_size))
    # Open at both ends, so that a customer added during the scan is in a part too.
    lowest, highest = EVERY_CUSTOMER
    parts = list(zip([lowest, *starts], [start - 1 for start in starts] + [highest], strict=True))
    # The longest first (as they usually are), so that the workers finish together.
    rules = sorted(RiskRule.objects.all(), key=lambda rule: (LONGEST_FIRST.index(rule.kind), rule.pk))
    # A step created "full" compares every customer of its range (see ``_since``).
    RiskScanStep.objects.bulk_create(
        RiskScanStep(scan=scan, rule=rule, first_id=first, last_id=last, full=full)
        for rule in rules
        for first, last in (parts if rule.enabled and KINDS[rule.kind].split else [EVERY_CUSTOMER])
    )
    job_hand_out(SCAN_JOB, job_id=scan.pk, queue=queue)
    return scan


def risk_step_run(*, step_id: int, on_worker: bool = False) -> bool:
    """Apply one step of a scan, exactly once (its alerts and its "done" mark are one
    transaction, the step row locked), then close the scan if its steps are all done
    (``crm.core.jobs.job_part_run``).  Returns whether the step was applied now.

    ``on_worker``: the step runs on a worker, beside the scan's other steps on the other
    workers: its statements run in this process alone (``crm.core.jobs.part_settings``),
    and once the scan is closed its assignees are told (``risk_scan_tell``) by a task of
    its own, so that the last step is done when its alerts are and a slow mail server
    holds up no part of the scan.  In one process (``scan_risks --sync``, tests) the
    telling runs here and now."""
    return job_part_run(SCAN_JOB, part_id=step_id, on_worker=on_worker)


def risk_scan_run(*, scan_id: int) -> RiskScan | None:
    """Apply every step of the scan not applied yet, one after the other in this process
    (``scan_risks --sync``), then close the scan."""
    for step_id in RiskScanStep.objects.filter(scan_id=scan_id, done=False).order_by("pk").values_list("pk", flat=True):
        risk_step_run(step_id=step_id)
    job_close(SCAN_JOB, job_id=scan_id)
    return RiskScan.objects.filter(pk=scan_id).first()


def risk_scan_rescue(*, silent_for: timedelta = SILENT_AFTER) -> list[int]:
    """Celery beat's check: a scan gone silent (its tasks lost, its worker dead) gets its
    steps not done handed out again, or, when they are all done, is closed (see
    ``crm.core.jobs.job_rescue``).  Returns the ids of the scans rescued."""
    return job_rescue(SCAN_JOB, silent_for=silent_for)


@transaction.atomic
def _apply_step(step_id: int, *, on_worker: bool = False) -> bool:
    """Apply one step: its alerts and its "done" mark are one transaction, the step's row
    locked; a step done already, or of a scan no longer active, is skipped.  Returns
    whether it was applied now."""

    # Only the step's own row: locking the scan's (or the rule's) with it would make every
    # other worker's step wait for this one to finish.
    step = (
        RiskScanStep.objects.select_for_update(of=("self",), no_key=True)
        .select_related("scan", "rule")
        .filter(pk=step_id)
        .first()
    )
    if step is None or step.done or step.scan.state not in ACTIVE_SCAN_STATES:
        return False
    rule = step.rule
    if rule.enabled:
        applied = apply_rule(
            rule=rule,
            as_of=step.scan.as_of,
            scan_id=step.scan_id,
            since=_since(step),
            customers=(step.first_id, step.last_id),
            on_worker=on_worker,
        )
        step.counts, step.full, step.fingerprint, step.read_horizon = (
            applied.counts,
            applied.full,
            applied.fingerprint,
            applied.xmin,
        )
    else:
        step.counts = {"resolved": retire_rule(rule=rule, as_of=step.scan.as_of)}
    step.done, step.finished_at = True, timezone.now()
    step.save(update_fields=["done", "counts", "full", "fingerprint", "read_horizon", "finished_at"])
    return True


def _since(step: RiskScanStep) -> Any:
    """Where this rule's previous application left off, if the step may compare only the
    customers changed since: the last scan that completed applied the rule as it is now,
    as of no later than this scan, and a scan that completed within ``FULL_EVERY``
    compared every customer with it.  None otherwise (the first scan, a changed rule, a
    scan back in time, the weekly full pass, or a scan asked to compare everyone).

    The previous application is a whole completed scan's, whatever its parts: its oldest
    read horizon covers every customer.  A scan that failed half-way is passed over, so
    the customers it changed are compared again (which changes nothing)."""

    if step.full:
        return None
    as_of, rule = step.scan.as_of, step.rule
    current = fingerprint(parameters(rule=rule, as_of=as_of, scan_id=None), rule.kind)
    completed = RiskScanStep.objects.filter(rule=rule, scan__state=ScanState.DONE).exclude(scan_id=step.scan_id)
    last = completed.order_by("-scan__finished_at", "-scan_id").values("scan_id", "scan__as_of").first()
    if last is None or last["scan__as_of"] > as_of:
        return None
    applied = completed.filter(scan_id=last["scan_id"]).aggregate(
        horizon=Min("read_horizon"),
        unknown=Count("pk", filter=Q(read_horizon__isnull=True)),
        other=Count("pk", filter=~Q(fingerprint=current)),
    )
    if applied["horizon"] is None or applied["unknown"] or applied["other"]:
        return None
    partial = RiskScanStep.objects.filter(rule=rule).filter(Q(full=False) | ~Q(fingerprint=current))
    compared_all = (
        completed.filter(scan__as_of__gt=as_of - FULL_EVERY).exclude(scan_id__in=partial.values("scan_id")).exists()
    )
    if not compared_all:
        return None
    return Since(as_of=last["scan__as_of"], xmin=applied["horizon"])


def _close_scan(job: RiskScan, *, on_worker: bool = False) -> None:
    """What closing a scan adds (once, in the closing transaction): its summary, each
    rule's counts added up over its parts; the change log read by every rule dropped;
    the audit event."""

    scan = job
    by_rule: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for code, counts in scan.steps.values_list("rule__code", "counts"):  # a rule's parts add up
        rule_counts = by_rule.setdefault(code, {})
        for name, value in (counts or {}).items():
            rule_counts[name] = rule_counts.get(name, 0) + int(value)
            totals[name] = totals.get(name, 0) + int(value)
    scan.summary = {**totals, "rules": by_rule}
    scan.save(update_fields=["summary"])
    # Every rule has read the changes logged before its step's transaction horizon: the
    # next scan starts from there, so the older ones go.
    oldest = scan.steps.filter(read_horizon__isnull=False).aggregate(oldest=Min("read_horizon"))["oldest"]
    if oldest is not None:
        RiskChange.objects.filter(txid__lt=oldest).delete()
    audit_bulk(resource="risk.riskscan", actor=scan.requested_by, summary={"label": f"risk scan #{scan.pk}", **totals})


#: A scan, as the shared job base runs it: its steps, and once closed, the telling of its
#: assignees (which picks up every urgent alert not told yet, so nothing waits for long
#: even if a scan's telling were lost).
SCAN_JOB = JobKind(
    part_model=RiskScanStep,
    apply_part=_apply_step,
    close=_close_scan,
    part_task="risk.tasks.run_risk_step",
    follow_up_task="risk.tasks.tell_after_scan",
)


def risk_scan_tell(*, scan_id: int) -> int:
    """Tell the assignees of a closed scan's alerts: each about their new urgent alerts,
    and, after the scheduled scan, everyone their daily digest.  Safe to repeat, even at
    the same time (``crm.core.jobs.job_follow_up``): an alert is told about once, a
    digest goes out once a day.  Returns how many alerts were told about now (none if the
    scan is not done)."""

    def tell() -> int:
        told = notify_urgent_alerts()
        if RiskScan.objects.filter(pk=scan_id, trigger=ScanTrigger.SCHEDULE).exists():
            send_digests()
        return told

    return job_follow_up(SCAN_JOB, job_id=scan_id, work=tell) or 0


def risk_step_fail(*, step_id: int, error: str) -> None:
    """A rule's task gave up after its retries: its scan fails (the rules it applied stay
    applied)."""
    fail_part(RiskScanStep, part_id=step_id, error=error)


def risk_scan_now(*, actor: Any, trigger: str, as_of: Any = None, full: bool = False) -> RiskScan:
    """Start a scan and run it in this process (the command's ``--sync``)."""
    scan = risk_scan_start(actor=actor, trigger=trigger, as_of=as_of, queue=False, full=full)
    return risk_scan_run(scan_id=scan.pk) or scan
