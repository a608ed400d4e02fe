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
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.jobs import LAST_ID, local_settings, part_settings

from .choices import SEVERITY_ORDER, RiskKind
from .models import RiskRule, RiskSettings


@dataclass(frozen=True)
class Kind:
    """How one kind of rule finds its risks.

    ``findings`` selects every (customer, subject) where the risk is there now, with the
    rule's ``measure`` and the raw figures behind it; ``facts`` turns one such row (alias
    ``d``) into the alert's explanation.  The facts are built only for the alerts a scan
    raises or re-grades, never for the many it finds again unchanged.
    """

    findings: str
    facts: str
    # The customer column of the table the findings start from: ``{scope}`` in them
    # becomes a condition on it when only some customers are compared.
    scope: str
    # The customers whose findings may have changed only because time passed since the
    # previous scan (``since_*`` parameters): their figures crossed a threshold or a level,
    # or rows entered or left a window.
    moved: str
    # Which logged changes can move the findings (besides a tier or stage, and a person's
    # change to an alert, which can move any rule's).
    sources: tuple[str, ...] = ()
    # How a finding is matched with an open alert: by customer and subject, or (one alert
    # per order) by customer and order, comparing integers rather than built strings.
    match: str = "a.alert_customer_id = d.customer_id AND a.alert_subject = d.subject"
    # The findings are read for a range of customers from an index that leads with the
    # customer, and each customer's are many (open orders, each one's alert): a scan
    # applies the rule in parts (ranges of customers) that the workers share.  A kind
    # whose findings start from a window of time reads that window whole whatever the
    # range, and one with a row per customer (the rhythms) reads it fastest in one pass:
    # each is applied in one part.
    split: bool = False
    # Joined to a finding (``d``) only where an alert is raised or re-graded, for figures
    # the facts show but the comparison does not need: a kind with a finding per order
    # compares hundreds of thousands of them and writes a few thousand.
    details: str = ""
    # The subject of an alert raised from a finding.
    subject: str = "d.subject"


BY_ORDER = "a.alert_transaction_id = d.transaction_id AND a.alert_customer_id = d.customer_id"


KINDS: dict[str, Kind] = {
    # Unpaid orders past their due date by at least the rule's days, for at least the
    # rule's amount in the order's own currency.  Served by the partial indexes of open
    # receivables, by due date (txn_open_due) or, for a range of customers, by customer
    # and due date (txn_open_customer_due).  The comparison carries only the order and its
    # days overdue; the figures the facts show are read again (by primary key) for the
    # orders whose alert is raised or re-graded.
    RiskKind.OVERDUE_PAYMENT: Kind(
        findings="""
            SELECT t.customer_id, t.id AS transaction_id, (%(today)s::date - t.due_date)::numeric AS measure
            FROM transactions_transaction t
            WHERE t.status IN ('pending', 'shipped')
              AND t.due_date <= %(today)s::date - %(days_overdue)s::int
              AND t.paid_amount < t.amount
              AND t.amount - t.paid_amount
                  >= coalesce((%(min_amount_by_currency)s::jsonb ->> t.currency)::numeric, %(min_amount)s::numeric)
              AND {scope}
        """,
        facts="""jsonb_build_object(
            'order_id', d.transaction_id, 'reference', nullif(o.external_ref, ''), 'order_date', o.order_date,
            'due_date', o.due_date, 'days_overdue', d.measure, 'amount', o.amount,
            'paid', o.paid_amount, 'outstanding', o.amount - o.paid_amount, 'currency', o.currency,
            'min_days', %(days_overdue)s::int,
            'min_amount',
            coalesce((%(min_amount_by_currency)s::jsonb ->> o.currency)::numeric, %(min_amount)s::numeric))""",
        details="JOIN transactions_transaction o ON o.id = d.transaction_id",
        subject="'order:' || d.transaction_id",
        scope="t.customer_id",
        # Open orders whose days overdue reached the rule's days or a level's start since
        # (``{crossed}``: one due-date range per such day count, from the partial index).
        moved="""
            SELECT t.customer_id FROM transactions_transaction t
            WHERE t.status IN ('pending', 'shipped') AND ({crossed})
        """,
        sources=("order",),
        match=BY_ORDER,
        split=True,
    ),
    # Orders cancelled within the window, not counting one the customer placed again
    # (the same product, ordered within the reorder days after it): at least ``count``
    # of them, or at least ``rate`` of the window's orders when there were ``min_orders``.
    RiskKind.CANCELLATIONS: Kind(
        findings="""
            WITH cancelled AS (
                SELECT x.customer_id, count(*) AS cancelled, max(x.order_date) AS last_cancelled
                FROM transactions_transaction x
                WHERE x.status = 'cancelled'
                  AND x.order_date > %(today)s::date - %(window_days)s::int AND x.order_date <= %(today)s::date
                  AND {scope}
                  AND NOT EXISTS (  -- not cancelled itself, so never the same order
                      SELECT 1 FROM transactions_transaction again
                      WHERE again.customer_id = x.customer_id AND again.product_id = x.product_id
                        AND again.status NOT IN ('cancelled', 'refunded')
                        AND again.order_date >= x.order_date
                        AND again.order_date <= x.order_date + %(reorder_days)s::int
                  )
                GROUP BY x.customer_id
            ),
            rated AS (
                SELECT c.*, o.orders, round(c.cancelled::numeric / greatest(o.orders, 1), 3) AS rate
                FROM cancelled c
                CROSS JOIN LATERAL (
                    SELECT count(*) AS orders FROM transactions_transaction t
                    WHERE t.customer_id = c.customer_id
                      AND t.order_date > %(today)s::date - %(window_days)s::int AND t.order_date <= %(today)s::date
                ) o
            )
            SELECT r.customer_id, '' AS subject, NULL::bigint AS transaction_id, r.cancelled::numeric AS measure,
                   r.cancelled, r.orders, r.rate, r.last_cancelled
            FROM rated r
            WHERE r.cancelled >= %(count)s::int
               OR (r.orders >= %(min_orders)s::int AND r.rate >= %(rate)s::numeric)
        """,
        facts="""jsonb_build_object(
            'cancelled', d.cancelled, 'orders', d.orders, 'rate', d.rate, 'last_cancelled', d.last_cancelled,
            'window_days', %(window_days)s::int, 'min_count', %(count)s::int, 'min_rate', %(rate)s::numeric,
            'min_orders', %(min_orders)s::int)""",
        scope="x.customer_id",
        # Orders that entered the window (dated up to today) or left it since.
        moved="""
            SELECT t.customer_id FROM transactions_transaction t
            WHERE (t.order_date > %(since_today)s::date AND t.order_date <= %(today)s::date)
               OR (t.order_date > %(since_today)s::date - %(window_days)s::int
                   AND t.order_date <= %(today)s::date - %(window_days)s::int)
        """,
        sources=("order",),
    ),
    # Average CSAT over the window against the customer's own average over the baseline
    # before it, each with at least ``min_responses`` answers; NPS the same way.  One pass
    # over each customer's answers in both periods, read in customer order from the index
    # that carries the scores (satisfaction_customer_time): no hash table, no second read.
    # (Every answer has a CSAT or an NPS score: a check constraint says so.)
    RiskKind.SATISFACTION_DROP: Kind(
        findings="""
            WITH answers AS (
                SELECT s.customer_id,
                       avg(s.csat) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_csat,
                       count(s.csat) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_n,
                       avg(s.nps) FILTER (WHERE s.responded_at > %(window_start)s) AS recent_nps,
                       max(s.responded_at) AS last_answer,
                       avg(s.csat) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_csat,
                       count(s.csat) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_n,
                       avg(s.nps) FILTER (WHERE s.responded_at <= %(window_start)s) AS baseline_nps
                FROM feedback_satisfactionresponse s
                WHERE s.responded_at > %(baseline_start)s AND s.responded_at <= %(as_of)s AND {scope}
                GROUP BY s.customer_id
            )
            SELECT a.customer_id, '' AS subject, NULL::bigint AS transaction_id,
                   round(coalesce(a.baseline_csat - a.recent_csat, 0), 2) AS measure, a.recent_csat, a.recent_n,
                   a.baseline_csat, a.baseline_n, a.recent_nps, a.baseline_nps, a.last_answer
            FROM answers a
            WHERE a.recent_n >= %(min_responses)s::int AND a.baseline_n >= %(min_responses)s::int
              AND (a.baseline_csat - a.recent_csat >= %(drop)s::numeric
                   OR a.baseline_nps - a.recent_nps >= %(nps_drop)s::numeric)
        """,
        facts="""jsonb_build_object(
            'recent_csat', round(d.recent_csat, 2), 'baseline_csat', round(d.baseline_csat, 2),
            'recent_responses', d.recent_n, 'baseline_responses', d.baseline_n,
            'recent_nps', round(d.recent_nps, 1), 'baseline_nps', round(d.baseline_nps, 1),
            'last_answer', d.last_answer, 'window_days', %(window_days)s::int,
            'min_drop', %(drop)s::numeric, 'min_nps_drop', %(nps_drop)s::numeric)""",
        scope="s.customer_id",
        # Answers that entered the recent window, moved from it to the baseline, or left
        # the baseline since.
        moved="""
            SELECT s.customer_id FROM feedback_satisfactionresponse s
            WHERE (s.responded_at > %(since_as_of)s AND s.responded_at <= %(as_of)s)
               OR (s.responded_at > %(since_window_start)s AND s.responded_at <= %(window_start)s)
               OR (s.responded_at > %(since_baseline_start)s AND s.responded_at <= %(baseline_start)s)
        """,
        sources=("answer",),
    ),
    # Silent for at least ``min_days`` and for ``factor`` times the customer's usual gap
    # between orders (from its first to its last order), once it has ordered on
    # ``min_orders`` different days to show a rhythm.  A churned customer is past this
    # warning.  The rhythm is read from the order statistics the database keeps per
    # customer (transactions.CustomerOrderStats), not from the orders themselves.
    RiskKind.INACTIVITY: Kind(
        findings="""
            WITH gaps AS (
                SELECT st.customer_id, st.order_days AS orders, st.last_order_date AS last_order,
                       (st.last_order_date - st.first_order_date)::float8 / (st.order_days - 1) AS exact_gap,
                       round((st.last_order_date - st.first_order_date)::numeric / (st.order_days - 1), 1) AS usual_gap,
                       %(today)s::date - st.last_order_date AS silent
                FROM transactions_customerorderstats st
                WHERE st.order_days >= greatest(%(min_orders)s::int, 2)
                  AND st.last_order_date <= %(today)s::date - %(min_days)s::int AND {scope}
            )
            SELECT g.customer_id, '' AS subject, NULL::bigint AS transaction_id,
                   round(g.silent / greatest(g.usual_gap, 1), 2) AS measure, g.last_order, g.silent, g.usual_gap,
                   g.orders
            FROM gaps g
            -- First a cheap test in floating point that every finding passes (the rounded
            -- gap is within 0.05 of the exact one): most silent customers are far from
            -- their threshold, and the exact figures are dear for half a million of them.
            -- The daily pass (``moved``) tests the same bound: keep the two alike.
            WHERE CASE WHEN g.silent::float8 + 0.01 >= %(factor)s::float8 * (g.exact_gap - 0.05)
                       THEN g.silent >= %(factor)s::numeric * greatest(g.usual_gap, 1)
                       ELSE false END
              AND NOT EXISTS (  -- from the small index of churned customers
                  SELECT 1 FROM customers_customer c WHERE c.id = g.customer_id AND c.lifecycle_stage = 'churned'
              )
        """,
        facts="""jsonb_build_object(
            'last_order', d.last_order, 'days_silent', d.silent, 'usual_gap_days', d.usual_gap, 'orders', d.orders,
            'times_usual_gap', d.measure, 'min_days', %(min_days)s::int, 'factor', %(factor)s::numeric)""",
        scope="st.customer_id",
        # Every silent customer drifts further from its own rhythm each day; the ones
        # that crossed the rule's days, its factor or a level's start (in times their
        # own gap) since are found in one pass over the rhythms, without reading their
        # alerts.  Silence only grows: a customer not silent enough now was not then.
        moved="""
            SELECT st.customer_id
            FROM transactions_customerorderstats st
            CROSS JOIN LATERAL (
                SELECT greatest(round((st.last_order_date - st.first_order_date)::numeric / (st.order_days - 1), 1), 1)
                           AS gap,
                       (st.last_order_date - st.first_order_date)::float8 / (st.order_days - 1) AS exact_gap,
                       %(today)s::date - st.last_order_date AS silent,
                       %(since_today)s::date - st.last_order_date AS silent_then
            ) g
            WHERE st.order_days >= greatest(%(min_orders)s::int, 2)
              AND st.last_order_date <= %(today)s::date - %(min_days)s::int
              -- First cheap conditions in floating point, with margins that the exact
              -- figures cannot cross (the rounded gap is within 0.05 of the exact one, a
              -- rounded measure within 0.005): silent enough now, and below the factor or
              -- a level's start then (``_silence_crossed``).  Of a million rhythms a few
              -- thousand pass, and only those have their exact figures worked out.
              AND CASE WHEN g.silent::float8 + 0.01 >= %(factor)s::float8 * (g.exact_gap - 0.05)
                            AND (g.silent_then < %(min_days)s::int OR {crossed})
                       THEN g.silent >= %(factor)s::numeric * g.gap
                            AND (g.silent_then < %(min_days)s::int OR g.silent_then < %(factor)s::numeric * g.gap
                                 OR width_bucket(round(g.silent_then / g.gap, 2), %(level_starts)s::numeric[])
                                    <> width_bucket(round(g.silent / g.gap, 2), %(level_starts)s::numeric[]))
                       ELSE false END
        """,
        sources=("order",),
    ),
    # At least ``count`` complaints received within the window.
    RiskKind.COMPLAINT_SPIKE: Kind(
        findings="""
            SELECT f.customer_id, '' AS subject, NULL::bigint AS transaction_id, count(*)::numeric AS measure,
                   max(f.received_at) AS latest
            FROM feedback_feedback f
            WHERE f.kind = 'complaint' AND f.received_at > %(window_start)s AND f.received_at <= %(as_of)s
              AND {scope}
            GROUP BY f.customer_id
            HAVING count(*) >= %(count)s::int
        """,
        facts="""jsonb_build_object(
            'complaints', d.measure, 'latest', d.latest, 'window_days', %(window_days)s::int,
            'min_count', %(count)s::int)""",
        scope="f.customer_id",
        # Complaints that entered or left the window since.
        moved="""
            SELECT f.customer_id FROM feedback_feedback f
            WHERE f.kind = 'complaint'
              AND ((f.received_at > %(since_as_of)s AND f.received_at <= %(as_of)s)
                   OR (f.received_at > %(since_window_start)s AND f.received_at <= %(window_start)s))
        """,
        sources=("feedback",),
    ),
}


@dataclass(frozen=True)
class Param:
    """One parameter of a kind of rule: what it means, its default, and what it may be."""

    label: Any
    default: Any
    whole: bool = False  # a whole number (days, counts)
    most: float | None = None  # an upper bound (a share is at most 1)
    per_currency: bool = False  # a mapping of currency code to amount


#: The parameters each kind understands (a rule's ``params`` override the defaults).
PARAMS: dict[str, dict[str, Param]] = {
    RiskKind.OVERDUE_PAYMENT: {
        "days_overdue": Param(_("Days past the due date"), 1, whole=True),
        "min_amount": Param(_("Smallest outstanding amount"), 0),
        "min_amount_by_currency": Param(_("Smallest outstanding amount in a currency"), {}, per_currency=True),
    },
    RiskKind.CANCELLATIONS: {
        "count": Param(_("Cancelled orders"), 2, whole=True),
        "rate": Param(_("Share of the window's orders cancelled (0–1)"), 0.3, most=1),
        "min_orders": Param(_("Orders in the window before the share counts"), 3, whole=True),
        "window_days": Param(_("Window, in days"), 90, whole=True),
        "reorder_days": Param(_("An order placed again within this many days does not count"), 7, whole=True),
    },
    RiskKind.SATISFACTION_DROP: {
        "drop": Param(_("Fall of the average CSAT"), 1.0),
        "nps_drop": Param(_("Fall of the average NPS"), 3.0),
        "window_days": Param(_("Recent answers: the last this many days"), 90, whole=True),
        "baseline_days": Param(_("Compared with this many days before them"), 365, whole=True),
        "min_responses": Param(_("Answers needed in each period"), 1, whole=True),
    },
    RiskKind.INACTIVITY: {
        "factor": Param(_("Times the customer's usual gap between orders"), 2.0),
        "min_days": Param(_("Silent for at least this many days"), 60, whole=True),
        "min_orders": Param(_("Days with orders needed to know the rhythm"), 3, whole=True),
    },
    RiskKind.COMPLAINT_SPIKE: {
        "count": Param(_("Complaints"), 3, whole=True),
        "window_days": Param(_("Window, in days"), 30, whole=True),
    },
}

#: What each kind's measure counts: severity levels start at a value of it.
MEASURES: dict[str, Any] = {
    RiskKind.OVERDUE_PAYMENT: _("days overdue"),
    RiskKind.CANCELLATIONS: _("cancelled orders"),
    RiskKind.SATISFACTION_DROP: _("CSAT points lost"),
    RiskKind.INACTIVITY: _("times the usual gap between orders"),
    RiskKind.COMPLAINT_SPIKE: _("complaints"),
}

#: Each kind's parameters and their defaults.
DEFAULTS: dict[str, dict[str, Any]] = {
    kind: {name: param.default for name, param in params.items()} for kind, params in PARAMS.items()
}

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

# Why an overdue-payment alert cleared, from the order as it is now.
_OVERDUE_REASON = """(
    SELECT CASE WHEN t.id IS NULL THEN 'order_gone'
                WHEN t.customer_id <> a.customer_id THEN 'order_moved'
                WHEN t.status IN ('cancelled', 'refunded') THEN 'order_cancelled'
                WHEN t.paid_amount >= t.amount OR t.status IN ('paid', 'completed') THEN 'paid'
                ELSE 'below_threshold' END
    FROM (SELECT 1) one LEFT JOIN transactions_transaction t ON t.id = a.transaction_id
)"""

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
        "title": rule.name,
        "playbook": rule.playbook,
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


def _crossed(params: dict[str, Any]) -> str:
    """One due-date range per day count that changes an overdue order's standing: the
    rule's days and each level's start (a whole day: the measure counts days)."""
    days = {int(params["days_overdue"])} | {math.ceil(start) for start in params["level_starts"]}
    return " OR ".join(
        f"(t.due_date > %(since_today)s::date - {d} AND t.due_date <= %(today)s::date - {d})" for d in sorted(days)
    )


def _silence_crossed(params: dict[str, Any]) -> str:
    """For each multiple of its own gap that changes a silent customer's standing (the
    rule's factor and each level's start), a cheap test in floating point that the
    customer may have crossed it since: above it now and below it then, each within
    margins wider than the rounding of the gap (0.05 day) and of the measure (0.005).
    The multiples go into ``params`` (``silence_multiples``), which the test reads."""
    params["silence_multiples"] = sorted({float(params["factor"]), *(float(s) for s in params["level_starts"])})
    return (
        "("
        + " OR ".join(
            f"(g.silent::float8 + 0.01 >= ((%(silence_multiples)s::float8[])[{i}] - 0.005) * (g.exact_gap - 0.05)"
            f" AND g.silent_then::float8 < ((%(silence_multiples)s::float8[])[{i}] + 0.005)"
            f" * greatest(g.exact_gap + 0.05, 1) + 0.01)"
            for i in range(1, len(params["silence_multiples"]) + 1)
        )
        + ")"
    )


#: How a kind names the thresholds that time alone can carry a customer across.
_CROSSINGS: dict[str, Callable[[dict[str, Any]], str]] = {
    RiskKind.OVERDUE_PAYMENT: _crossed,
    RiskKind.INACTIVITY: _silence_crossed,
}


def _compare_changed_only(cursor: Any, *, code: str, params: dict[str, Any], since: Since) -> bool:
    """Fill the temporary table ``risk_affected`` with the customers whose findings may
    differ since ``since`` (logged changes from the sources that can move this kind, and
    figures moved with time); False when so many changed that comparing every customer
    is cheaper."""
    kind, crossings = KINDS[code], _CROSSINGS.get(code)
    for name, instant in _instants(params, since.as_of).items():
        params[f"since_{name}"] = instant
    params["since_xmin"] = since.xmin
    params["sources"] = [*kind.sources, "customer", "alert"]
    moved = kind.moved.format(crossed=crossings(params) if crossings else "")
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
    reason = _OVERDUE_REASON if rule.kind == RiskKind.OVERDUE_PAYMENT else "'condition_cleared'"
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
            cursor.execute(_RESOLVE.format(reason=reason), params)
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
