"""Tier definitions and managers' manual overrides of a customer's tier.

The engine that grades customers automatically builds on ``tier_change_record``; every
change is history (``TierChange``) and is also audited on the customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.registry import may
from crm.audit.choices import Action
from crm.audit.services import audit_bulk, audit_record, snapshot
from crm.core.errors import DomainError, NotPermitted
from crm.core.figures import figures_fold, figures_recount
from crm.core.jobs import (
    SILENT_AFTER,
    JobKind,
    fail_part,
    job_active,
    job_follow_up,
    job_hand_out,
    job_part_run,
    job_rescue,
)
from crm.core.services import record_create, record_delete, record_update, record_update_many
from customers.models import Customer

from .choices import ACTIVE_RUN_STATES, ChangeKind
from .engine import evaluate_range
from .models import ScoringPolicy, Tier, TierChange, TierRun, TierRunChunk
from .notifications import notify_tier_moves
from .selectors import active_policy


def tier_create(*, actor: Any, data: Mapping[str, Any]) -> Tier:
    return record_create(model=Tier, actor=actor, data=data)


def tier_update(*, actor: Any, instance: Tier, data: Mapping[str, Any], expected_version: int | None) -> Tier:
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def tier_delete(*, actor: Any, instance: Tier, expected_version: int | None) -> None:
    """A tier that customers hold (or held, in history) cannot be deleted (409)."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


@transaction.atomic
def tier_change_record(
    *,
    actor: Any,
    customer: Customer,
    tier: Tier | None,
    kind: str,
    reason: str,
    score: Any = None,
    explanation: Mapping[str, Any] | None = None,
    override_until: Any = None,
) -> TierChange:
    """Move one customer to ``tier``: write the history row and update the customer (audited)."""
    now = timezone.now()
    change = TierChange.objects.create(
        customer=customer,
        from_tier=customer.tier,
        to_tier=tier,
        kind=kind,
        changed_at=now,
        reason=reason,
        score=score,
        explanation=dict(explanation or {}),
        changed_by=actor if getattr(actor, "pk", None) else None,
        override_until=override_until,
    )
    fields: dict[str, Any] = {"tier": tier, "tier_since": now}
    if kind == ChangeKind.OVERRIDE:
        fields.update(tier_override_until=override_until, tier_below_since=None)
    if score is not None:
        fields["tier_score"] = score
    record_update(instance=customer, actor=actor, data=fields, expected_version=None)
    return change


OVERRIDE_DAYS = 180


@transaction.atomic
def tier_override(*, actor: Any, customer: Customer, tier: Tier, reason: str, until: Any = None) -> TierChange:
    """A manager sets a customer's tier by hand, with a reason and an end date.

    Evaluations leave the tier alone until the override ends (180 days unless said
    otherwise); the first evaluation after that grades the customer again.  The reason
    and the end stay in the history; the change is audited on the customer.
    """

    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Say why the tier is set by hand."), field_errors={"reason": [_("This field may not be blank.")]}
        )
    pinning = until is not None  # the same tier with an end date pins it against downgrades
    until = until or timezone.now() + dt.timedelta(days=OVERRIDE_DAYS)
    if until <= timezone.now():
        raise DomainError(
            _("The override must end in the future."), field_errors={"until": [_("Choose a later time.")]}
        )
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    held = locked.tier_override_until
    if locked.tier_id == tier.pk and (not pinning or (held is not None and held >= until)):
        raise DomainError(
            _("The customer already has this tier."), field_errors={"tier": [_("Choose a different tier.")]}
        )
    return tier_change_record(
        actor=actor, customer=locked, tier=tier, kind=ChangeKind.OVERRIDE, reason=reason, override_until=until
    )


def tiers_import(
    *, actor: Any, entries: Sequence[tuple[Customer, Tier, dt.date | None]], source: str
) -> list[TierChange]:
    """Give customers the tier a table kept for them before the CRM (an import's
    当前等级), each rated on the day given (else now): one history entry each, of kind
    "imported", naming ``source``, and the customer updated and audited.

    It is the customer's grade until the next evaluation, which treats it as any tier
    held: an upgrade at once, a downgrade only after the grace period.  Setting a tier is
    a manager's act (the same rule as an override); a customer already at the tier is
    left alone.  A few statements whatever the number of customers.
    """
    if not may(actor, "override", "tier-changes"):
        raise NotPermitted(_("Only a manager may set a customer's tier."))
    now = timezone.now()
    moving = [(customer, tier, rated_on) for customer, tier, rated_on in entries if customer.tier_id != tier.pk]
    if not moving:
        return []
    reason = _("Imported from %(source)s") % {"source": source[:150]}
    changes = []
    updates: list[tuple[int, Mapping[str, Any], int | None]] = []
    for customer, tier, rated_on in moving:
        when = timezone.make_aware(dt.datetime.combine(rated_on, dt.time.min)) if rated_on else now
        changes.append(
            TierChange(
                customer=customer,
                from_tier_id=customer.tier_id,
                to_tier=tier,
                kind=ChangeKind.IMPORTED,
                changed_at=min(when, now),
                reason=reason,
                explanation={"imported": source[:150]},
                changed_by=actor if getattr(actor, "pk", None) else None,
            )
        )
        updates.append((customer.pk, {"tier": tier, "tier_since": min(when, now), "tier_below_since": None}, None))
    created = TierChange.objects.bulk_create(changes)
    record_update_many(model=Customer, actor=actor, changes=updates)
    return created


def tier_import_undo(
    *, actor: Any, customer: Customer, tier: Tier | None, since: Any, below_since: Any, source: str
) -> None:
    """Give a customer back the tier it held before an import set one (undoing the
    import): a history entry says so, and the tier's start and grace are restored."""
    if customer.tier_id == getattr(tier, "pk", None):
        return
    TierChange.objects.create(
        customer=customer,
        from_tier_id=customer.tier_id,
        to_tier=tier,
        kind=ChangeKind.IMPORTED,
        changed_at=timezone.now(),
        reason=_("Import of %(source)s undone") % {"source": source[:150]},
        changed_by=actor if getattr(actor, "pk", None) else None,
    )
    record_update(
        instance=customer,
        actor=actor,
        data={"tier": tier, "tier_since": since, "tier_below_since": below_since},
        expected_version=None,
    )


# ------------------------------------------------------------------ scoring policy
POLICY_FIELDS = (
    "window_days", "spend_weight", "spend_cap", "orders_weight", "orders_cap", "tenure_weight", "tenure_cap_years",
    "influence_weight", "satisfaction_weight", "thresholds", "grace_days", "period", "churn_after_days",
    "key_account_tier",
)  # fmt: skip


def _score(value: Any) -> Decimal | None:
    """A threshold's score as a number, or ``None`` when it is not one (a list, ``true``,
    ``"abc"``, digits other than 0-9)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    if isinstance(value, str) and not value.isascii():
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def check_policy(data: Mapping[str, Any]) -> None:
    """Refuse a policy that cannot grade fairly: weights that are negative or do not add up
    to 100, thresholds that do not rise with the tiers, and the like (a DomainError naming
    the field).  Saving checks it; the editor checks it before a preview too."""
    weights = [Decimal(str(data[name])) for name in POLICY_FIELDS if name.endswith("_weight")]
    if any(w < 0 for w in weights) or sum(weights) != 100:
        raise DomainError(
            _("The weights must be zero or more and add up to 100."),
            field_errors={
                "spend_weight": [_("The five weights add up to %(total)s, not 100.") % {"total": sum(weights)}]
            },
        )
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, Mapping) or any(_score(value) is None for value in thresholds.values()):
        raise DomainError(
            _("Give the thresholds as a score per tier."),
            field_errors={"thresholds": [_('A score (a number) for each tier code, such as {"gold": 60}.')]},
        )
    known = set(Tier.objects.values_list("code", flat=True))
    if not thresholds or set(thresholds) - known:
        raise DomainError(
            _("Give a threshold for known tiers only."),
            field_errors={
                "thresholds": [_("Unknown tiers: %(codes)s") % {"codes": ", ".join(set(thresholds) - known)}]
            },
        )
    ranks = dict(Tier.objects.filter(code__in=thresholds).values_list("code", "rank"))
    ordered = sorted(thresholds, key=lambda code: ranks[code])
    values = [Decimal(str(thresholds[code])) for code in ordered]
    if any(v < 0 or v > 100 for v in values) or values != sorted(values) or len(set(values)) != len(values):
        raise DomainError(
            _("Thresholds are scores from 0 to 100 that rise with the tier."),
            field_errors={"thresholds": [_("A better tier needs a higher score.")]},
        )


@transaction.atomic
def scoring_policy_save(*, actor: Any, data: Mapping[str, Any], note: str = "") -> ScoringPolicy:
    """Save a new version of the scoring policy and make it the active one.

    Earlier versions stay, unchanged, so the history keeps naming the rules that made
    each past grade.  The change is audited.
    """

    current = ScoringPolicy.objects.select_for_update().filter(is_active=True).first()
    values = {name: data.get(name, getattr(current, name) if current else None) for name in POLICY_FIELDS}
    values = {k: v for k, v in values.items() if v is not None}
    check_policy({**{f.name: f.get_default() for f in ScoringPolicy._meta.fields}, **values})
    last = ScoringPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0
    ScoringPolicy.objects.filter(is_active=True).update(is_active=False)
    policy = ScoringPolicy(
        version=last + 1,
        is_active=True,
        note=note[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
        **values,
    )
    policy.full_clean()
    policy.save()
    audit_record(
        action=Action.CREATE,
        instance=policy,
        actor=actor,
        before=snapshot(current) if current else {},
        after=snapshot(policy),
    )
    return policy


# ------------------------------------------------------------------ evaluation runs
# Small enough that several workers share a large run (twenty chunks at a million
# customers) and that the database reads a chunk's orders from the customer index alone,
# in customer order, rather than hashing a sweep of the whole table (which it prefers
# from about a third of the table up); large enough that the per-chunk work is noise.
CHUNK_SIZE = 50_000


@transaction.atomic
def tier_run_start(
    *, actor: Any, trigger: str, as_of: Any = None, chunk_size: int = CHUNK_SIZE, queue: bool = True
) -> TierRun:
    """Queue an evaluation of every customer under the active policy.

    The customers are split into ranges of ids (``chunk_size`` ids each) that workers
    evaluate in parallel.  If a run is already queued or running it is returned instead:
    at most one runs at a time (the database enforces it).  A run in the way whose chunks
    are all done lost its closing when its worker died: it is closed now, and the new one
    starts.
    """

    policy = active_policy()
    if policy is None:
        raise DomainError(_("There is no active scoring policy."))
    active = job_active(TIER_RUN_JOB, queued=queue)
    if active is not None:
        return active
    bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"] or 0, bounds["high"] or 0
    ranges = [(start, min(start + chunk_size - 1, high)) for start in range(low, high + 1, chunk_size)] if high else []
    try:
        with transaction.atomic():
            run = TierRun.objects.create(
                policy=policy,
                trigger=trigger,
                requested_by=actor if getattr(actor, "pk", None) else None,
                as_of=as_of or timezone.now(),
                chunk_count=len(ranges),
            )
    except IntegrityError:  # another request started one a moment ago
        return TierRun.objects.get(state__in=ACTIVE_RUN_STATES)
    TierRunChunk.objects.bulk_create(
        TierRunChunk(run=run, number=n, first_id=first, last_id=last) for n, (first, last) in enumerate(ranges)
    )
    job_hand_out(TIER_RUN_JOB, job_id=run.pk, queue=queue)
    if not ranges:
        run.refresh_from_db()  # closed at once: no customer to evaluate
    return run


def _close_run(job: TierRun, *, on_worker: bool = False) -> None:
    """What closing a run adds (once, in the closing transaction): its summary, the
    chunks' counts added up; fresh planner statistics after many moves; the audit event.
    The owners of the customers that moved are told afterwards (``tier_run_notify``)."""

    run = job
    totals: dict[str, int] = {}
    for counts in run.chunks.values_list("counts", flat=True):
        for name, value in (counts or {}).items():
            totals[name] = totals.get(name, 0) + int(value)
    run.summary = totals
    run.save(update_fields=["summary"])
    if totals.get("rows_written", 0) > max(10_000, totals.get("evaluated", 0) // 10):
        # Many tiers and stages moved: refresh the planner's statistics now, not when
        # autovacuum gets to it, so that the pages' queries keep their plans (with a
        # million new history rows it thought a run had one, and the tier dashboard read
        # every move of the run to find a rep's 246 customers': 1.8 s instead of 48 ms).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer, tiers_tierchange, tiers_lifecyclechange")
    audit_bulk(
        resource="tiers.tierrun",
        actor=run.requested_by,
        summary={"label": f"tier evaluation #{run.pk}", "policy": run.policy.version, **totals},
    )


def tier_run_evaluate_chunk(*, chunk_id: int, on_worker: bool = False) -> bool:
    """Evaluate one chunk, exactly once: its changes and its "done" mark are one
    transaction, and the chunk row is locked, so a retried or duplicated task finds it
    done and does nothing.  The run is closed once its chunks are all done
    (``crm.core.jobs.job_part_run``).  ``on_worker``: the chunk runs on a worker beside the
    run's other chunks (``crm.core.jobs.part_settings``), and the run's owners are told by
    a task of their own.  Returns whether it worked."""
    worked = job_part_run(TIER_RUN_JOB, part_id=chunk_id, on_worker=on_worker)
    if worked:
        # A chunk appends a few thousand rows to the dashboard's figures: fold them now,
        # so that the dashboard sums a few rows per key even while a run goes on.
        tier_figures_compact()
    return worked


@transaction.atomic
def _evaluate_chunk(chunk_id: int, *, on_worker: bool = False) -> bool:
    """Evaluate one chunk and mark it done, in one transaction, the chunk's row locked; a
    chunk done already, or of a run no longer active, is skipped.  Returns whether it was
    evaluated now."""

    # Only the chunk's own row: locking the run's (or the policy's) with it would make every
    # other worker's chunk wait for this one to finish.
    chunk = (
        TierRunChunk.objects.select_for_update(of=("self",), no_key=True)
        .select_related("run", "run__policy")
        .filter(pk=chunk_id)
        .first()
    )
    if chunk is None or chunk.done or chunk.run.state not in ACTIVE_RUN_STATES:
        return False
    run = chunk.run
    counts = evaluate_range(
        policy=run.policy,
        as_of=run.as_of,
        first_id=chunk.first_id,
        last_id=chunk.last_id,
        run_id=run.pk,
        on_worker=on_worker,
    )
    chunk.done = True
    chunk.counts = counts
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["done", "counts", "finished_at"])
    # The progress shown while the run goes on; the run's row is locked only now, for the
    # end of this transaction.
    TierRun.objects.filter(pk=run.pk).update(chunks_done=F("chunks_done") + 1)
    return True


#: A tier evaluation, as the shared job base runs it: its chunks, and once closed, the
#: telling of the owners whose customers moved.
TIER_RUN_JOB = JobKind(
    part_model=TierRunChunk,
    apply_part=_evaluate_chunk,
    close=_close_run,
    part_task="tiers.tasks.evaluate_tier_chunk",
    follow_up_task="tiers.tasks.tell_tier_moves",
)


def tier_run_notify(*, run_id: int) -> int:
    """Tell the owners whose customers a closed run moved up or down: once each, even if
    asked twice at the same time (``crm.core.jobs.job_follow_up``).  Returns how many
    owners were told now (none if the run is not done)."""

    return job_follow_up(TIER_RUN_JOB, job_id=run_id, work=lambda: notify_tier_moves(run_id=run_id)) or 0


def tier_run_rescue(*, silent_for: timedelta = SILENT_AFTER) -> list[int]:
    """Celery beat's check: a run gone silent (its tasks lost, its worker dead) gets its
    chunks not done handed out again, or, when they are all done, is closed (see
    ``crm.core.jobs.job_rescue``).  Returns the ids of the runs rescued."""
    return job_rescue(TIER_RUN_JOB, silent_for=silent_for)


def tier_chunk_fail(*, chunk_id: int, error: str) -> None:
    """A chunk gave up after its retries: its run fails (its done chunks stay done)."""
    fail_part(TierRunChunk, part_id=chunk_id, error=error)


def tier_run_evaluate_now(*, actor: Any, trigger: str, as_of: Any = None) -> TierRun:
    """Start a run and evaluate every chunk in this process (the command's ``--sync``)."""
    with transaction.atomic():
        run = tier_run_start(actor=actor, trigger=trigger, as_of=as_of, queue=False)
    for chunk_id in run.chunks.filter(done=False).values_list("pk", flat=True):
        tier_run_evaluate_chunk(chunk_id=chunk_id)
    run.refresh_from_db()
    return run


# ------------------------------------------------------------------ the dashboard's figures
def tier_figures_compact() -> None:
    """Fold the dashboard's figures (``tiers.models.TierCount``, ``TierRevenue``,
    ``TierMoveCount``) into one row per key, dropping keys that sum to nothing
    (``crm.core.figures``)."""
    figures_fold("tiers_figures_compact")


def tier_figures_rebuild() -> None:
    """Count the dashboard's figures again from the customers, orders and tier changes,
    in one snapshot (``crm.core.figures``).  About four seconds at a million customers."""
    figures_recount("tiers_figures_rebuild", lock="tiers_figures")
