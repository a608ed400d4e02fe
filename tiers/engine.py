"""The tier and lifecycle engine: a few set-based SQL statements per chunk of customers.

For the customers whose ids lie in ``[first_id, last_id]`` one read-only statement

1. aggregates their orders (spend and count over the trailing window, last order, any
   paid order) and satisfaction answers once — the only pass over the big tables;
2. scores each customer (0–100) from the policy's weights and caps and finds the best
   tier whose threshold the score reaches;
3. decides: an active override holds; an upgrade (or a first grade) applies at once; a
   downgrade only after the score has stayed below the tier for the grace period;
4. moves lifecycle stages by their rules (prospect → active on a first paid order,
   → churned after the configured time without an order, churned → won back on a new
   order, → key account when the tier reaches the configured level, and back);
and keeps the decisions in a temporary table; then one UPDATE writes only the customers
where something changed, and one INSERT each adds the history rows of the tier and stage
changes, each with its explanation.  The counts come back.  Running it twice with the same ``as_of`` changes nothing the
second time: every decision depends only on the data and the stored state it writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from crm.core.jobs import LAST_ID, local_settings, part_settings
from customers.models import Customer
from transactions.choices import PAID_STATUSES, sql_list

from .models import ScoringPolicy, Tier

# The statement is built from its steps, each a CTE that reads the ones before it.  The
# score (floating point, rounded to cents) is computed once per row and kept
# (MATERIALIZED): inlined, it would be recomputed at every use.

#: Each customer's orders up to the day graded, once: spend and count over the trailing
#: window, last order, any paid order.  Cancelled and refunded orders count for nothing.
#: The only pass over the orders (served by the index txn_customer_metrics alone).
ORDERS = f"""orders AS (
    SELECT customer_id,
           sum(amount) FILTER (WHERE order_date >= %(window_start)s) AS spend,
           count(*) FILTER (WHERE order_date >= %(window_start)s) AS orders,
           max(order_date) AS last_order,
           bool_or(status IN ({sql_list(PAID_STATUSES)})) AS paid
    FROM transactions_transaction
    WHERE customer_id BETWEEN %(first_id)s AND %(last_id)s
      AND order_date <= %(as_of_date)s
      AND status NOT IN ('cancelled', 'refunded')
    GROUP BY customer_id
)"""  # noqa: S608 - the statuses are constants

#: Each customer's average CSAT over the window.
SURVEYS = """surveys AS (
    SELECT customer_id, avg(csat) AS csat
    FROM feedback_satisfactionresponse
    WHERE customer_id BETWEEN %(first_id)s AND %(last_id)s
      AND csat IS NOT NULL AND responded_at >= %(window_start_ts)s AND responded_at <= %(as_of)s
    GROUP BY customer_id
)"""

#: What each customer bought before the CRM kept its orders (spend and purchases per year
#: up to ``history_until``, from an imported table), counted in proportion to the part of
#: that year inside the window: all of it while the whole year is inside, less as the
#: window moves on, nothing once it has passed.  So imported history carries a customer's
#: grade until the orders recorded here take over, without a cliff on the first order.
HISTORY = """CROSS JOIN LATERAL (
        SELECT round(c.history_spend * x.share, 2) AS spend,
               round(c.history_orders * x.share)::bigint AS orders,
               CASE WHEN c.history_spend > 0 OR c.history_orders > 0 THEN x.until END AS until
        FROM (
            SELECT coalesce(c.history_until, c.created_at::date) AS until,
                   greatest(0, least(coalesce(c.history_until, c.created_at::date), %(as_of_date)s::date)
                               - greatest(coalesce(c.history_until, c.created_at::date) - 365, %(window_start)s::date)
                   )::numeric / 365 AS share
        ) x
    ) h"""

#: Every customer of the range with its metrics (the two above, the history, tenure,
#: influence) and the tier, grace, override and stage it holds.
METRICS = """metrics AS (
    SELECT c.id, c.tier_id, cur.rank AS cur_rank, c.tier_below_since, c.tier_override_until, c.lifecycle_stage,
           c.influence_score AS influence,
           coalesce(o.spend, 0) + coalesce(h.spend, 0) AS spend, coalesce(o.orders, 0) + coalesce(h.orders, 0) AS orders,
           coalesce(h.spend, 0) AS history_spend, coalesce(h.orders, 0) AS history_orders,
           o.last_order, coalesce(o.paid, false) OR h.until IS NOT NULL AS paid,
           greatest(0, (%(as_of_date)s::date - coalesce(c.customer_since, c.created_at::date))::float8 / 365.25) AS tenure,
           coalesce(greatest(o.last_order, h.until), c.customer_since, c.created_at::date) AS last_sign,
           s.csat
    FROM customers_customer c
    LEFT JOIN tiers_tier cur ON cur.id = c.tier_id
    LEFT JOIN orders o ON o.customer_id = c.id
    {history}
    LEFT JOIN surveys s ON s.customer_id = c.id
    WHERE c.id BETWEEN %(first_id)s AND %(last_id)s
)""".replace("{history}", HISTORY)

#: The points each metric earns (weight times the share of its cap reached) and the score.
POINTS = """points AS MATERIALIZED (
    SELECT q.*, round((q.p_spend + q.p_orders + q.p_tenure + q.p_influence + q.p_satisfaction) * 100) / 100 AS score
    FROM (
        SELECT m.*,
               %(w_spend)s::float8 * least(m.spend::float8 / %(spend_cap)s::float8, 1) AS p_spend,
               %(w_orders)s::float8 * least(m.orders::float8 / %(orders_cap)s::float8, 1) AS p_orders,
               %(w_tenure)s::float8 * least(m.tenure::float8 / %(tenure_cap)s::float8, 1) AS p_tenure,
               %(w_influence)s::float8 * m.influence / 10.0 AS p_influence,
               %(w_satisfaction)s::float8 * coalesce(greatest(m.csat::float8 - 1, 0) / 4.0, 0) AS p_satisfaction
        FROM metrics m
    ) q
)"""

#: The best tier whose threshold the score reaches.
GRADED = """graded AS (
    -- width_bucket: how many thresholds (ascending, one per tier) the score reaches.
    SELECT t.*,
           (%(tier_ids)s::bigint[])[width_bucket(t.score, %(tier_mins)s::float8[])] AS computed_tier,
           (%(tier_ranks)s::int[])[width_bucket(t.score, %(tier_mins)s::float8[])] AS computed_rank,
           (%(tier_mins)s::numeric[])[width_bucket(t.score, %(tier_mins)s::float8[])] AS computed_min
    FROM points t
)"""

#: The graded customers the decision takes: those that may change at all.  A cheap
#: condition, true for every row that the full decision below would write or count (an
#: override or a grace under way, a grade that differs from the tier held, a stage rule
#: that fires at the tier held).  Periodic runs change few customers, so the long decision
#: expressions run on these rows only.
CANDIDATES = """candidates AS (
    SELECT g.* FROM graded g
    WHERE g.tier_override_until IS NOT NULL
       OR g.tier_below_since IS NOT NULL
       OR g.computed_rank IS DISTINCT FROM g.cur_rank
       OR (g.lifecycle_stage = 'prospect' AND g.paid)
       OR (g.lifecycle_stage IN ('active', 'key', 'won_back', 'at_risk') AND g.last_sign < %(churn_cutoff)s)
       OR (g.lifecycle_stage = 'churned' AND g.last_order >= %(churn_cutoff)s)
       OR (g.lifecycle_stage IN ('active', 'won_back') AND g.cur_rank >= %(key_rank)s::int)
       OR (g.lifecycle_stage = 'key' AND %(key_rank)s::int IS NOT NULL
           AND (g.cur_rank IS NULL OR g.cur_rank < %(key_rank)s::int))
)"""

#: Every graded customer: the explanation and the preview take every row.
EVERY_CANDIDATE = """candidates AS (
    SELECT g.* FROM graded g
)"""

#: An active override holds; an upgrade (or a first grade) applies at once; a downgrade
#: only after the score has stayed below the tier for the grace period.
DECIDED = """decided AS (
    SELECT g.*,
           CASE
               WHEN g.tier_override_until > %(as_of)s THEN 'overridden'
               -- An override that has run out is replaced by the grade at once, without grace.
               WHEN g.tier_override_until IS NOT NULL AND g.computed_tier IS DISTINCT FROM g.tier_id THEN 'override_expired'
               WHEN g.tier_id IS NULL AND g.computed_tier IS NOT NULL THEN 'initial'
               WHEN g.tier_id IS NULL THEN 'unchanged'
               WHEN g.computed_rank > g.cur_rank THEN 'upgrade'
               WHEN (g.computed_rank IS NULL OR g.computed_rank < g.cur_rank)
                    AND g.tier_below_since IS NOT NULL AND g.tier_below_since <= %(grace_cutoff)s THEN 'downgrade'
               WHEN g.computed_rank IS NULL OR g.computed_rank < g.cur_rank THEN 'grace'
               ELSE 'unchanged'
           END AS decision
    FROM candidates g
)"""

#: The tier, grace and override each decision leaves.
FINAL = """final AS (
    SELECT d.*,
           CASE WHEN d.decision IN ('initial', 'upgrade', 'downgrade', 'override_expired') THEN d.computed_tier
                ELSE d.tier_id END AS new_tier,
           CASE WHEN d.decision IN ('initial', 'upgrade', 'downgrade', 'override_expired') THEN d.computed_rank
                ELSE d.cur_rank END AS new_rank,
           CASE WHEN d.decision = 'grace' THEN coalesce(d.tier_below_since, %(as_of)s)
                WHEN d.decision = 'overridden' THEN d.tier_below_since END AS new_below_since,
           CASE WHEN d.tier_override_until > %(as_of)s THEN d.tier_override_until END AS new_override_until
    FROM decided d
)"""

#: The lifecycle stage, rule after rule: prospect → active on a first paid order; →
#: churned after the configured time without an order, churned → won back on a new
#: order; → key account when the new tier reaches the configured level, and back.
STAGES = """stage1 AS (
    SELECT f.*, CASE WHEN f.lifecycle_stage = 'prospect' AND f.paid THEN 'active' ELSE f.lifecycle_stage END AS s1
    FROM final f
),
stage2 AS (
    SELECT s.*,
           CASE
               WHEN s.s1 IN ('active', 'key', 'won_back', 'at_risk') AND s.last_sign < %(churn_cutoff)s THEN 'churned'
               WHEN s.s1 = 'churned' AND s.last_order >= %(churn_cutoff)s THEN 'won_back'
               ELSE s.s1
           END AS s2
    FROM stage1 s
),
staged AS (
    SELECT s.*,
           CASE
               WHEN s.s2 IN ('active', 'won_back') AND %(key_rank)s::int IS NOT NULL AND s.new_rank >= %(key_rank)s::int
                   THEN 'key'
               WHEN s.s2 = 'key' AND %(key_rank)s::int IS NOT NULL AND (s.new_rank IS NULL OR s.new_rank < %(key_rank)s::int)
                   THEN 'active'
               ELSE s.s2
           END AS new_stage
    FROM stage2 s
)"""

#: Only the rows with something to write or to count; "unchanged" is the remainder.
CHANGED = """WHERE decision <> 'unchanged'
   OR new_stage <> lifecycle_stage
   OR new_below_since IS DISTINCT FROM tier_below_since
   OR new_override_until IS DISTINCT FROM tier_override_until
"""

# What changed is written by three statements over the decisions (kept in a temporary
# table, built by one read-only statement that the database may run in parallel).
_UPDATE = """
UPDATE customers_customer c
SET tier_id = s.new_tier,
    tier_rank = COALESCE(s.new_rank, 0),
    tier_score = CASE WHEN s.new_tier IS DISTINCT FROM s.tier_id THEN round(s.score::numeric, 2) ELSE c.tier_score END,
    tier_since = CASE WHEN s.new_tier IS DISTINCT FROM s.tier_id THEN %(as_of)s ELSE c.tier_since END,
    tier_below_since = s.new_below_since,
    tier_override_until = s.new_override_until,
    lifecycle_stage = s.new_stage,
    version = c.version + 1,
    updated_at = %(now)s
FROM tier_eval s
WHERE c.id = s.id
  AND (s.new_tier IS DISTINCT FROM s.tier_id
       OR s.new_below_since IS DISTINCT FROM s.tier_below_since
       OR s.new_override_until IS DISTINCT FROM s.tier_override_until
       OR s.new_stage <> s.lifecycle_stage)
"""

_TIER_HISTORY = """
INSERT INTO tiers_tierchange
    (customer_id, from_tier_id, to_tier_id, kind, changed_at, reason, score, explanation, policy_id, run_id,
     override_until, created_at)
SELECT s.id, s.tier_id, s.new_tier, s.decision, %(as_of)s, '', round(s.score::numeric, 2),
       jsonb_build_object(
           'policy', %(policy_version)s::int,
           'metrics', jsonb_build_object('spend', s.spend, 'orders', s.orders, 'tenure_years', round(s.tenure::numeric, 2),
                                         'influence', s.influence, 'csat', round(s.csat, 2),
                                         'history_spend', s.history_spend, 'history_orders', s.history_orders),
           'points', jsonb_build_object('spend', round(s.p_spend::numeric, 2), 'orders', round(s.p_orders::numeric, 2),
                                        'tenure', round(s.p_tenure::numeric, 2), 'influence', round(s.p_influence::numeric, 2),
                                        'satisfaction', round(s.p_satisfaction::numeric, 2)),
           'score', round(s.score::numeric, 2), 'threshold', s.computed_min, 'below_since', s.tier_below_since),
       %(policy_id)s, %(run_id)s, NULL, %(now)s
FROM tier_eval s
WHERE s.new_tier IS DISTINCT FROM s.tier_id
"""

_STAGE_HISTORY = """
INSERT INTO tiers_lifecyclechange (customer_id, from_stage, to_stage, reason, changed_at, run_id)
SELECT s.id, s.lifecycle_stage, s.new_stage,
       CASE
           WHEN s.new_stage = 'churned' THEN 'no_order_since'
           WHEN s.new_stage = 'won_back' THEN 'new_order'
           WHEN s.new_stage = 'key' THEN 'tier_reached_key'
           WHEN s.new_stage = 'active' AND s.lifecycle_stage = 'key' THEN 'tier_below_key'
           ELSE 'first_paid_order'
       END || ':' || coalesce(s.last_order::text, ''),
       %(as_of)s, %(run_id)s
FROM tier_eval s
WHERE s.new_stage <> s.lifecycle_stage
"""

_COUNTS = """
WITH chunk AS (SELECT count(*) AS total FROM customers_customer WHERE id BETWEEN %(first_id)s AND %(last_id)s)
SELECT chunk.total AS evaluated,
       count(e.id) FILTER (WHERE e.decision = 'initial') AS graded,
       count(e.id) FILTER (WHERE e.decision = 'upgrade') AS upgraded,
       count(e.id) FILTER (WHERE e.decision = 'downgrade') AS downgraded,
       count(e.id) FILTER (WHERE e.decision = 'grace') AS in_grace,
       count(e.id) FILTER (WHERE e.decision = 'overridden') AS overridden,
       count(e.id) FILTER (WHERE e.decision = 'override_expired') AS override_ended,
       chunk.total - count(e.id) FILTER (WHERE e.decision <> 'unchanged') AS unchanged,
       count(e.id) FILTER (WHERE e.new_stage <> e.lifecycle_stage) AS stage_moves
FROM chunk LEFT JOIN tier_eval e ON true
GROUP BY chunk.total
"""

COUNT_NAMES = (
    "evaluated",
    "graded",
    "upgraded",
    "downgraded",
    "in_grace",
    "overridden",
    "override_ended",
    "unchanged",
    "stage_moves",
    "rows_written",
    "tier_changes",
    "stage_changes",
)


def statement(only_changes: bool = True) -> str:
    """The read-only statement; ``only_changes=False`` returns every customer's row
    (explanations, previews), not only those with something to write or count."""
    steps = (
        ORDERS,
        SURVEYS,
        METRICS,
        POINTS,
        GRADED,
        CANDIDATES if only_changes else EVERY_CANDIDATE,
        DECIDED,
        FINAL,
        STAGES,
    )
    select = "WITH " + ",\n".join(steps) + "\nSELECT * FROM staged\n"
    return select + CHANGED if only_changes else select


def parameters(
    *, policy: ScoringPolicy, as_of: dt.datetime, first_id: int, last_id: int, run_id: int | None
) -> dict[str, Any]:
    """The statement's parameters for one policy, instant and id range."""
    tiers = list(Tier.objects.filter(code__in=list(policy.thresholds)).order_by("rank"))
    as_of_date = timezone.localtime(as_of).date()
    window_start = as_of_date - dt.timedelta(days=policy.window_days)
    key_rank = policy.key_account_tier.rank if policy.key_account_tier_id else None  # type: ignore[union-attr]
    return {
        "tier_ids": [tier.pk for tier in tiers],
        "tier_ranks": [tier.rank for tier in tiers],
        "tier_mins": [Decimal(str(policy.thresholds[tier.code])) for tier in tiers],
        "first_id": first_id,
        "last_id": last_id,
        "as_of": as_of,
        "as_of_date": as_of_date,
        "now": timezone.now(),
        "window_start": window_start,
        "window_start_ts": timezone.make_aware(dt.datetime.combine(window_start, dt.time.min)),
        "grace_cutoff": as_of - dt.timedelta(days=policy.grace_days),
        "churn_cutoff": as_of_date - dt.timedelta(days=policy.churn_after_days),
        "key_rank": key_rank,
        "w_spend": policy.spend_weight,
        "w_orders": policy.orders_weight,
        "w_tenure": policy.tenure_weight,
        "w_influence": policy.influence_weight,
        "w_satisfaction": policy.satisfaction_weight,
        "spend_cap": policy.spend_cap,
        "orders_cap": policy.orders_cap,
        "tenure_cap": policy.tenure_cap_years,
        "policy_id": policy.pk,
        "policy_version": policy.version,
        "run_id": run_id,
    }


def evaluate_range(
    *,
    policy: ScoringPolicy,
    as_of: dt.datetime,
    first_id: int,
    last_id: int,
    run_id: int | None,
    on_worker: bool = False,
) -> dict[str, int]:
    """Grade the customers with ids in ``[first_id, last_id]`` and write what changed.

    Call inside a transaction (the caller marks its chunk done in the same one).
    ``on_worker``: other workers evaluate the run's other chunks meanwhile (see
    ``crm.core.jobs.part_settings``).
    """
    params = parameters(policy=policy, as_of=as_of, first_id=first_id, last_id=last_id, run_id=run_id)
    # JIT would cost tens of seconds compiling this statement at a few hundred thousand rows.
    with connection.cursor() as cursor, local_settings(cursor, **part_settings(on_worker=on_worker)):
        cursor.execute("DROP TABLE IF EXISTS tier_eval")
        cursor.execute(f"CREATE TEMPORARY TABLE tier_eval ON COMMIT DROP AS {statement()}", params)
        cursor.execute(_UPDATE, params)
        written = cursor.rowcount
        cursor.execute(_TIER_HISTORY, params)
        tier_changes = cursor.rowcount
        cursor.execute(_STAGE_HISTORY, params)
        stage_changes = cursor.rowcount
        cursor.execute(_COUNTS, params)
        row = cursor.fetchone()
        cursor.execute("DROP TABLE tier_eval")
    counts = dict(zip(COUNT_NAMES, (int(v or 0) for v in (*row, written, tier_changes, stage_changes)), strict=True))
    return counts


def _rows(policy: ScoringPolicy, as_of: dt.datetime, first_id: int, last_id: int, select: str) -> list[dict[str, Any]]:
    params = parameters(policy=policy, as_of=as_of, first_id=first_id, last_id=last_id, run_id=None)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off" if connection.in_atomic_block else "SET jit = off")
        cursor.execute(select.format(rows=statement(only_changes=False)), params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def explain_customer(
    *, policy: ScoringPolicy, customer_id: int, as_of: dt.datetime | None = None
) -> dict[str, Any] | None:
    """Why a customer has (or would get) its tier: each metric, the points it earns, the
    score, the grade it reaches and how many points the next tier needs — the same SQL as
    the evaluation, for one customer, written nowhere."""
    rows = _rows(policy, as_of or timezone.now(), customer_id, customer_id, "SELECT * FROM ({rows}) r")
    if not rows:
        return None
    row = rows[0]
    ranked = list(Tier.objects.filter(code__in=list(policy.thresholds)).order_by("rank"))
    better = [t for t in ranked if row["computed_rank"] is None or t.rank > row["computed_rank"]]
    following = better[0] if better else None
    weights = policy.weights
    return {
        "metrics": {
            "spend": row["spend"], "orders": row["orders"], "tenure_years": round(row["tenure"], 1),
            "influence": row["influence"], "csat": round(row["csat"], 2) if row["csat"] is not None else None,
            # Of the spend and orders, what counts from before the CRM (imported history).
            "history_spend": row["history_spend"], "history_orders": row["history_orders"],
        },
        "points": {
            name: (round(Decimal(str(row[f"p_{name}"])), 2), weights[name])
            for name in ("spend", "orders", "tenure", "influence", "satisfaction")
        },
        "score": round(Decimal(str(row["score"])), 2),
        "grade": next((t for t in ranked if t.pk == row["computed_tier"]), None),
        "next_tier": following,
        "next_needs": (
            round(Decimal(str(policy.thresholds[following.code])) - Decimal(str(row["score"])), 2) if following else None
        ),
        "in_grace_since": row["tier_below_since"],
        "decision": row["decision"],
    }  # fmt: skip


@dataclass
class Preview:
    """What a candidate policy would do now, exactly as a run would: how many customers
    move, between which tiers, and some of them (the furthest movers first); and how many
    would be held where they are by a manager's override, or by the grace period while
    their score is below their tier."""

    evaluated: int
    up: int
    down: int
    same: int
    ungraded: int
    # (tier held, tier it would get, customers): every pair with at least one customer
    moves: list[tuple[Tier | None, Tier | None, int]]
    sample_up: list[dict[str, Any]]
    sample_down: list[dict[str, Any]]
    #: Held by an override that is still running, whatever their grade.
    overridden: int = 0
    #: Graded below their tier, kept in it until the grace period ends (they drop then,
    #: unless their score recovers).
    in_grace: int = 0
    sample_grace: list[dict[str, Any]] = field(default_factory=list)


def preview(*, policy: ScoringPolicy, sample: int = 20) -> Preview:
    """Grade every customer under ``policy`` (saved or not) and decide as a run would now
    (an override holds, a downgrade waits for the grace period, an expired override gives
    way at once), without writing anything.  One read-only pass, like an evaluation,
    grouped by (tier held, tier the run would leave)."""
    select = """
        SELECT r.cur_rank, r.new_rank, r.computed_rank, r.tier_id, r.new_tier, r.computed_tier, r.decision,
               count(*) AS customers,
               (array_agg(r.id ORDER BY r.score DESC))[1:%(sample)s] AS top_ids,
               (array_agg(r.score ORDER BY r.score DESC))[1:%(sample)s] AS top_scores,
               (array_agg(r.id ORDER BY r.score))[1:%(sample)s] AS bottom_ids,
               (array_agg(r.score ORDER BY r.score))[1:%(sample)s] AS bottom_scores
        FROM ({rows}) r
        GROUP BY r.cur_rank, r.new_rank, r.computed_rank, r.tier_id, r.new_tier, r.computed_tier, r.decision
    """.replace("%(sample)s", str(int(sample)))
    groups = _rows(policy, timezone.now(), 0, LAST_ID, select)

    def went_up(g: dict[str, Any]) -> bool:
        return g["new_rank"] is not None and g["new_rank"] > (g["cur_rank"] or 0)

    def went_down(g: dict[str, Any]) -> bool:
        return g["cur_rank"] is not None and (g["new_rank"] is None or g["new_rank"] < g["cur_rank"])

    def in_grace(g: dict[str, Any]) -> bool:
        return bool(g["decision"] == "grace")

    def movers(keep: Any, end: str, highest: bool, to: str = "new_tier") -> list[tuple[float, int, int | None]]:
        """The furthest movers: the highest scores among those going up, the lowest going down."""
        rows = [
            (score, pk, g[to])
            for g in groups
            if keep(g)
            for pk, score in zip(g[f"{end}_ids"], g[f"{end}_scores"], strict=True)
        ]
        return sorted(rows, key=lambda row: row[0], reverse=highest)[:sample]

    ups, downs = movers(went_up, "top", True), movers(went_down, "bottom", False)
    # Those in grace, with the tier they would drop to once it runs out.
    waiting = movers(in_grace, "bottom", False, to="computed_tier")
    tiers: dict[int | None, Tier] = {t.pk: t for t in Tier.objects.all()}
    wanted = [pk for _, pk, _ in ups + downs + waiting]
    by_id = {c.pk: c for c in Customer.objects.filter(pk__in=wanted).select_related("tier")}

    def sample_of(rows: list[tuple[float, int, int | None]]) -> list[dict[str, Any]]:
        return [
            {"customer": by_id[pk], "score": round(Decimal(str(score)), 2), "to": tiers.get(to)}
            for score, pk, to in rows
            if pk in by_id
        ]

    moved: dict[tuple[int | None, int | None], int] = {}
    for g in groups:
        if g["tier_id"] != g["new_tier"]:
            moved[(g["tier_id"], g["new_tier"])] = moved.get((g["tier_id"], g["new_tier"]), 0) + g["customers"]
    moves = sorted(
        ((tiers.get(held), tiers.get(to), count) for (held, to), count in moved.items()),
        key=lambda m: (-(m[0].rank if m[0] else 0), -(m[1].rank if m[1] else 0)),
    )
    return Preview(
        evaluated=sum(g["customers"] for g in groups),
        up=sum(g["customers"] for g in groups if went_up(g)),
        down=sum(g["customers"] for g in groups if went_down(g)),
        same=sum(g["customers"] for g in groups if g["new_rank"] == g["cur_rank"]),
        ungraded=sum(g["customers"] for g in groups if g["computed_rank"] is None),
        moves=moves,
        sample_up=sample_of(ups),
        sample_down=sample_of(downs),
        overridden=sum(g["customers"] for g in groups if g["decision"] == "overridden"),
        in_grace=sum(g["customers"] for g in groups if in_grace(g)),
        sample_grace=sample_of(waiting),
    )
