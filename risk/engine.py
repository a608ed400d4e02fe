"""The risk scan: one set-based pass per rule over every customer it watches.

For one rule, one read-only statement finds every (customer, subject) where the risk is
there now, with the rule's measure (days overdue, cancelled orders, CSAT points lost,
times the usual gap between orders, complaints) and the severity it reaches, compares
them with the rule's open alerts, and keeps only the differences in a temporary table.
Then three statements write them:

1. an INSERT raises an alert, with the facts that show why, for each finding without an
   open one (the unique partial index on open alerts makes a second alert impossible;
   ``ON CONFLICT DO NOTHING`` makes a concurrent or retried scan harmless);
2. an UPDATE moves the severity (and the facts) of open alerts whose measure crossed a
   level since, so a payment 61 days late is high where it was medium at 31;
3. an UPDATE resolves, saying why, every open alert the scan raised whose condition is
   gone: the order was paid or cancelled, the customer ordered again, and so on.

Running a rule twice at the same instant changes nothing the second time.

What a rule finds, and how, is its kind's (``risk.kinds``, one module per kind: the
findings, the facts, the customers time may have moved, why an alert clears); the
statements here are the same for every kind.

The daily scan compares only the customers whose findings may have changed since the
rule was last applied: those the database's change log names (triggers on orders,
answers, feedback, tiers and stages, and alerts worked by people) and those whose figures
crossed a threshold or a window's edge with time.  Every customer is compared the first
time, when the rule changed, weekly, and when most customers changed.

A rule whose findings are read by customer from an index (overdue payments) is applied
in parts, ranges of customer ids that the workers share with the other rules: each part
compares and writes only its own customers' alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from crm.core.jobs import LAST_ID, local_settings, part_settings

from .choices import SEVERITY_ORDER
from .kinds import KINDS, Param
from .models import RiskRule, RiskSettings

#: Each kind's parameters (what they mean, their defaults and bounds), what its measure
#: counts (severity levels start at a value of it), and its parameters' defaults, from
#: the kinds' modules (``risk.kinds``) for the code that reads them here.
PARAMS: dict[str, dict[str, Param]] = {code: kind.params for code, kind in KINDS.items()}
MEASURES: dict[str, Any] = {code: kind.measure for code, kind in KINDS.items()}
DEFAULTS: dict[str, dict[str, Any]] = {code: kind.defaults for code, kind in KINDS.items()}

# What differs between the rule's findings now and its open alerts, in one read-only pass
# (a hash join of both; the open alerts are read from their unique index, which carries
# the severity): a finding without an alert (raise), an alert without a finding (resolve),
# or both with another severity (re-grade).  Findings and alerts that agree — nearly all,
# on a periodic scan — are not kept.
_COMPARE = """
WITH found AS (
    SELECT f.*, coalesce((%(level_severities)s::text[])[width_bucket(f.measure, %(level_starts)s::numeric[])],
                         %(severity)s) AS severity
    FROM ({findings}) f
    {tier_filter}
),
open_alerts AS (
    SELECT a.id AS alert_id, a.customer_id AS alert_customer_id, a.subject AS alert_subject,
           a.transaction_id AS alert_transaction_id, a.severity AS alert_severity, a.scan_id AS alert_scan_id
    FROM risk_riskalert a
    WHERE a.rule_id = %(rule_id)s AND a.status IN ('open', 'acknowledged') AND {alert_scope}
)
"""

_DIFF = (
    "CREATE TEMPORARY TABLE risk_diff ON COMMIT DROP AS"
    + _COMPARE
    + """
SELECT d.*, a.*
FROM found d
FULL JOIN open_alerts a ON {match}
WHERE a.alert_id IS NULL OR d.customer_id IS NULL OR a.alert_severity <> d.severity
"""
)

# What a rule would do if it ran now, without doing it: the console's preview.
_PREVIEW = (
    _COMPARE
    + """
SELECT count(d.customer_id) AS found,
       count(*) FILTER (WHERE d.severity = 'low') AS low,
       count(*) FILTER (WHERE d.severity = 'medium') AS medium,
       count(*) FILTER (WHERE d.severity = 'high') AS high,
       count(*) FILTER (WHERE d.severity = 'critical') AS critical,
       count(DISTINCT d.customer_id) AS customers,
       count(*) FILTER (WHERE d.customer_id IS NOT NULL AND a.alert_id IS NULL) AS raised,
       count(*) FILTER (WHERE d.customer_id IS NOT NULL AND a.alert_id IS NOT NULL
                          AND a.alert_severity <> d.severity) AS reseverity,
       count(*) FILTER (WHERE d.customer_id IS NULL AND a.alert_scan_id IS NOT NULL) AS resolved,
       (array_agg(jsonb_build_object('customer_id', d.customer_id, 'measure', d.measure, 'severity', d.severity)
                  ORDER BY d.measure DESC, d.customer_id)
            FILTER (WHERE d.customer_id IS NOT NULL AND a.alert_id IS NULL))[1:%(samples)s] AS samples
FROM found d
FULL JOIN open_alerts a ON {match}
"""
)

_TIER_FILTER = """
    WHERE EXISTS (SELECT 1 FROM customers_customer c WHERE c.id = f.customer_id AND c.tier_id = ANY(%(tier_ids)s))
"""

_RAISE = """
INSERT INTO risk_riskalert
    (customer_id, rule_id, subject, transaction_id, severity, status, title, explanation, recommended_action,
     assignee_id, raised_at, due_at, scan_id, auto_resolved, resolution_note, to_tell, version, created_at, updated_at)
SELECT d.customer_id, %(rule_id)s, {subject}, d.transaction_id, d.severity, 'open', %(title)s,
       {facts} || jsonb_build_object('measure', d.measure), %(playbook)s, c.owner_id, %(as_of)s,
       %(as_of)s + make_interval(secs => (%(sla_hours)s::jsonb ->> d.severity)::float8 * 3600),
       %(scan_id)s, false, '', d.severity IN ('high', 'critical'), 1, %(now)s, %(now)s
FROM risk_diff d
JOIN customers_customer c ON c.id = d.customer_id
{details}
WHERE d.alert_id IS NULL
ON CONFLICT (customer_id, rule_id, subject) WHERE status IN ('open', 'acknowledged') DO NOTHING
"""

# A severity that moves keeps the earlier of the two deadlines: escalating never buys time.
# An alert that becomes urgent is told about again.
_RESEVER = """
UPDATE risk_riskalert a
SET severity = d.severity,
    explanation = {facts} || jsonb_build_object('measure', d.measure, 'severity_from', a.severity),
    due_at = least(a.due_at, %(as_of)s + make_interval(secs => (%(sla_hours)s::jsonb ->> d.severity)::float8 * 3600)),
    to_tell = a.to_tell OR (d.severity IN ('high', 'critical') AND a.severity NOT IN ('high', 'critical')),
    version = a.version + 1,
    updated_at = %(now)s
FROM risk_diff d
{details}
WHERE a.id = d.alert_id AND d.customer_id IS NOT NULL AND a.status IN ('open', 'acknowledged')
"""

# Only alerts the scan raised: one raised by hand is closed by hand.
_RESOLVE = """
UPDATE risk_riskalert a
SET status = 'resolved', resolved_at = %(as_of)s, auto_resolved = true,
    explanation = a.explanation || jsonb_build_object('cleared', {reason}, 'cleared_at', %(as_of)s),
    version = a.version + 1, updated_at = %(now)s
FROM risk_diff d
WHERE a.id = d.alert_id AND d.customer_id IS NULL AND d.alert_scan_id IS NOT NULL
  AND a.status IN ('open', 'acknowledged')
"""

_RETIRE = """
UPDATE risk_riskalert
SET status = 'resolved', resolved_at = %(as_of)s, auto_resolved = true, version = version + 1, updated_at = %(now)s,
    explanation = explanation || jsonb_build_object('cleared', 'rule_disabled', 'cleared_at', %(as_of)s::timestamptz)
WHERE rule_id = %(rule_id)s AND status IN ('open', 'acknowledged') AND scan_id IS NOT NULL
"""

COUNT_NAMES = ("raised", "reseverity", "resolved")

#: The range of ids of a rule applied to every customer at once.
EVERY_CUSTOMER = (0, LAST_ID)


def parameters(
    *, rule: RiskRule, as_of: dt.datetime, scan_id: int | None, tier_ids: list[int] | None = None
) -> dict[str, Any]:
    """The statements' parameters for one rule at one instant (``tier_ids``: the tiers of
    a rule not saved yet; a saved rule's own otherwise)."""
    params = {**DEFAULTS[rule.kind], **(rule.params or {})}
    levels = sorted(
        (
            (Decimal(str(start)), severity)
            for start, severity in rule.severity_levels or []
            if severity in SEVERITY_ORDER
        ),
        key=lambda level: level[0],
    )
    if tier_ids is None:
        tier_ids = [tier.pk for tier in rule.tiers.all()]
    settings_row = RiskSettings.current()
    return {
        **params,
        "min_amount_by_currency": json.dumps(params.get("min_amount_by_currency") or {}),
        **_instants(params, as_of),
        "now": timezone.now(),
        "level_starts": [start for start, _severity in levels] or [Decimal("0")],
        "level_severities": [severity for _start, severity in levels] or [None],
        "severity": rule.severity,
        "tier_ids": tier_ids or None,
        "rule_id": rule.pk,
        # An alert the scan raises reads its title and playbook from its rule, in the
        # reader's language (RiskAlert.display_title): it stores none of its own.
        "title": "",
        "playbook": "",
        "scan_id": scan_id,
        "sla_hours": json.dumps({sev: settings_row.sla_for(sev).total_seconds() / 3600 for sev in SEVERITY_ORDER}),
    }


def _instants(params: dict[str, Any], as_of: dt.datetime) -> dict[str, Any]:
    """The instants a rule's windows are measured from when it is applied ``as_of``."""
    window_days = int(params.get("window_days", 0))
    return {
        "as_of": as_of,
        "today": timezone.localtime(as_of).date(),
        "window_start": as_of - dt.timedelta(days=window_days),
        "baseline_start": as_of - dt.timedelta(days=window_days + int(params.get("baseline_days", 0))),
    }


#: The customers a scan compares when it need not compare them all: those the change log
#: names (written since the previous scan read the data) and those whose figures moved
#: with time.  Analyzed, so that a few customers are looked up by index and many are
#: hashed.
_AFFECTED = """
CREATE TEMPORARY TABLE risk_affected ON COMMIT DROP AS
SELECT customer_id FROM (
    SELECT customer_id FROM risk_riskchange WHERE txid >= %(since_xmin)s AND source = ANY(%(sources)s)
    UNION
    {moved}
) changed
WHERE customer_id BETWEEN %(first_id)s AND %(last_id)s
"""

#: Compare every customer when more than this share of them changed (and more than a
#: few thousand: below that, looking them up is cheap whatever the share).
FULL_ABOVE, FULL_ABOVE_AT_LEAST = 0.2, 5_000

#: Compare every customer at least this often, whatever the change log says: a safety net
#: for writes that bypass the triggers (a restore, a replica's bulk load).
FULL_EVERY = dt.timedelta(days=7)


@dataclass(frozen=True)
class Since:
    """What the previous application of the same rule left: the instant it scanned as of
    and the oldest transaction that was still running when it read the data."""

    as_of: dt.datetime
    xmin: int


@dataclass(frozen=True)
class Applied:
    """What applying a rule did, and what the next scan needs to start from."""

    counts: dict[str, int]
    full: bool
    fingerprint: str
    xmin: int


def fingerprint(params: dict[str, Any], kind: str) -> str:
    """Everything about a rule that decides its findings and their severity: a scan may
    compare only the changed customers only if this is what the previous scan applied."""
    decisive = {
        name: params[name] for name in (*DEFAULTS[kind], "severity", "level_starts", "level_severities", "tier_ids")
    }
    text = json.dumps({"kind": kind, **decisive}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _compare_changed_only(cursor: Any, *, code: str, params: dict[str, Any], since: Since) -> bool:
    """Fill the temporary table ``risk_affected`` with the customers whose findings may
    differ since ``since`` (logged changes from the sources that can move this kind, and
    figures moved with time); False when so many changed that comparing every customer
    is cheaper."""
    kind = KINDS[code]
    for name, instant in _instants(params, since.as_of).items():
        params[f"since_{name}"] = instant
    params["since_xmin"] = since.xmin
    params["sources"] = [*kind.sources, "customer", "alert"]
    moved = kind.moved.format(crossed=kind.crossed(params) if kind.crossed else "")
    cursor.execute(_AFFECTED.format(moved=moved), params)
    affected = cursor.rowcount
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'customers_customer'::regclass")
    (customers,) = cursor.fetchone()
    # Ids are dense: a range holds about as many customers as ids.
    customers = min(customers, params["last_id"] - params["first_id"] + 1)
    # When most customers changed (a bulk import), one pass over all is cheaper than
    # looking each one up.
    return affected <= max(FULL_ABOVE * customers, FULL_ABOVE_AT_LEAST)


@contextmanager
def scan_writes(cursor: Any) -> Iterator[None]:
    """Alerts the scan writes itself (raised, re-graded, resolved, retired, marked told)
    are not changes for the next scan to look at: the change log's trigger on alerts
    skips them (risk migration 0010).  Within the block only: a caller's own writes later
    in the same transaction are changes like any other.  Call inside a transaction."""
    cursor.execute("SET LOCAL crm.risk_scan = 'on'")
    yield
    cursor.execute("SET LOCAL crm.risk_scan = 'off'")


def apply_rule(
    *,
    rule: RiskRule,
    as_of: dt.datetime,
    scan_id: int | None,
    since: Since | None = None,
    customers: tuple[int, int] = EVERY_CUSTOMER,
    on_worker: bool = False,
) -> Applied:
    """Apply one rule to the customers whose ids are in the range ``customers``: raise,
    re-grade and resolve their alerts.  Call inside a transaction (the caller marks its
    step done in the same one).

    With ``since`` (the same rule applied before, as of no later), only the customers
    whose findings may differ are compared: those the change log names and those whose
    figures moved with time.  The result is the same as comparing every customer.

    ``on_worker``: other workers apply the scan's other steps meanwhile (see
    ``crm.core.jobs.part_settings``)."""
    params = parameters(rule=rule, as_of=as_of, scan_id=scan_id)
    params["first_id"], params["last_id"] = customers
    kind = KINDS[rule.kind]
    full = since is None
    tier_filter = _TIER_FILTER if params["tier_ids"] else ""
    with connection.cursor() as cursor, local_settings(cursor, **part_settings(on_worker=on_worker)):
        # Read before the data: a change logged by a transaction still running now is
        # read again by the next scan (reading it twice is harmless).
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        (xmin,) = cursor.fetchone()
        cursor.execute("DROP TABLE IF EXISTS risk_diff")
        cursor.execute("DROP TABLE IF EXISTS risk_affected")
        if not full:
            assert since is not None
            full = not _compare_changed_only(cursor, code=rule.kind, params=params, since=since)
        if full and customers == EVERY_CUSTOMER:
            scope, alert_scope = "TRUE", "TRUE"
        elif full:
            scope = f"{kind.scope} BETWEEN %(first_id)s AND %(last_id)s"
            alert_scope = "a.customer_id BETWEEN %(first_id)s AND %(last_id)s"
        else:
            # An array of the few customers: looked up one by one through each table's
            # customer index, never by reading the whole table.
            scope = f"{kind.scope} = ANY(ARRAY(SELECT customer_id FROM risk_affected))"  # noqa: S608 - a column
            alert_scope = "a.customer_id = ANY(ARRAY(SELECT customer_id FROM risk_affected))"
        findings = kind.findings.format(scope=scope)
        cursor.execute(
            _DIFF.format(findings=findings, tier_filter=tier_filter, match=kind.match, alert_scope=alert_scope), params
        )
        with scan_writes(cursor):
            cursor.execute(_RAISE.format(facts=kind.facts, subject=kind.subject, details=kind.details), params)
            raised = cursor.rowcount
            cursor.execute(_RESEVER.format(facts=kind.facts, details=kind.details), params)
            reseverity = cursor.rowcount
            cursor.execute(_RESOLVE.format(reason=kind.reason), params)
            resolved = cursor.rowcount
        cursor.execute("DROP TABLE risk_diff")
        cursor.execute("DROP TABLE IF EXISTS risk_affected")
    return Applied(
        counts=dict(zip(COUNT_NAMES, (raised, reseverity, resolved), strict=True)),
        full=full,
        fingerprint=fingerprint(params, rule.kind),
        xmin=xmin,
    )


def retire_rule(*, rule: RiskRule, as_of: dt.datetime) -> int:
    """A rule switched off: resolve the open alerts it raised, saying so."""
    with connection.cursor() as cursor, scan_writes(cursor):
        cursor.execute(_RETIRE, {"rule_id": rule.pk, "as_of": as_of, "now": timezone.now()})
        return cursor.rowcount


@dataclass(frozen=True)
class Preview:
    """What a rule would find and change if it ran now."""

    found: int
    customers: int
    by_severity: list[tuple[str, int]]
    raised: int
    reseverity: int
    resolved: int
    samples: list[dict[str, Any]]


def preview_rule(*, rule: RiskRule, tier_ids: list[int], as_of: dt.datetime, samples: int = 5) -> Preview:
    """What ``rule`` (saved or not, with these tiers) would raise, re-grade and resolve if
    a scan ran at ``as_of``: one read-only statement, nothing written.  A rule switched
    off would resolve the open alerts it raised."""
    if not rule.enabled:
        resolved = rule.alerts.filter(status__in=["open", "acknowledged"], scan__isnull=False).count() if rule.pk else 0
        return Preview(0, 0, [(severity, 0) for severity in SEVERITY_ORDER], 0, 0, resolved, [])
    params = {**parameters(rule=rule, as_of=as_of, scan_id=None, tier_ids=tier_ids), "samples": samples}
    tier_filter = _TIER_FILTER if params["tier_ids"] else ""
    with connection.cursor() as cursor:
        kind = KINDS[rule.kind]
        statement = _PREVIEW.format(
            findings=kind.findings.format(scope="TRUE"), tier_filter=tier_filter, match=kind.match, alert_scope="TRUE"
        )
        cursor.execute(statement, params)
        row = cursor.fetchone()
    found, low, medium, high, critical, customers, raised, reseverity, resolved, sample_rows = row
    sample_list = [json.loads(item) if isinstance(item, str) else item for item in sample_rows or []]
    return Preview(
        found=found,
        customers=customers,
        by_severity=list(zip(SEVERITY_ORDER, (low, medium, high, critical), strict=True)),
        raised=raised,
        reseverity=reseverity,
        resolved=resolved,
        samples=sample_list,
    )
