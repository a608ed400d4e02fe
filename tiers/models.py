"""Star tiers (Bronze to Diamond) and the history of every customer's moves between them."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access.scope import team_scope_q
from crm.core.localized import localized, localized_property
from crm.core.models import BackgroundJob, JobPart, VersionedModel
from customers.choices import LifecycleStage

from .choices import ChangeKind, ReviewPeriod, RunTrigger


class Tier(VersionedModel):
    """A customer tier.  A higher ``rank`` is a better tier; ranks and codes are unique.

    The five levels of the source documents ship as data: Bronze (青铜), Silver (白银),
    Gold (黄金), Platinum (铂金) and Diamond (钻石), each with its benefits.  Name, benefits
    and description are written in Chinese and in English; ``name``, ``benefits`` and
    ``description`` read the reader's language, falling back to the other
    (``crm.core.localized``).
    """

    scope_path: ClassVar[str | None] = None

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=50, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    colour = models.CharField(
        _("colour"), max_length=7, validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Use a colour like #C0C0C0."))]
    )
    min_score = models.DecimalField(_("minimum score"), max_digits=7, decimal_places=2, default=0)
    benefits_zh = models.JSONField(
        _("benefits (Chinese)"), default=list, blank=True, help_text=_("List of benefits, one string each.")
    )
    benefits_en = models.JSONField(
        _("benefits (English)"), default=list, blank=True, help_text=_("List of benefits, one string each.")
    )
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    verify_days = models.PositiveSmallIntegerField(
        _("verify every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How often owners confirm this tier's customers' archive; empty: the default period."),
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__gte=0),
                name="tier_min_score_positive",
                violation_error_message=_("A tier's minimum score cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(name_zh="") | ~Q(name_en=""),
                name="tier_named",
                violation_error_message=_("Give the tier a name in Chinese or in English."),
            ),
        ]

    name = localized_property("name")
    benefits = localized_property("benefits")
    description = localized_property("description")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The tier's name in the reader's language, else in the other."""
        return str(localized(self, "name") or self.code)


class TierChange(models.Model):
    """One move of one customer between tiers, with the reason it happened.

    History is never edited: a correction is another change.  ``explanation`` keeps the
    metric values, score and rule that led to an engine's decision.
    """

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, verbose_name=_("to tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ChangeKind.choices)
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, null=True, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    policy = models.ForeignKey(
        "tiers.ScoringPolicy",
        verbose_name=_("scoring policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    run = models.ForeignKey(
        "tiers.TierRun",
        verbose_name=_("evaluation run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    override_until = models.DateTimeField(_("override until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "changed_at"], name="tierchange_customer_time"),
            # The history's order, ending on the id: a grading writes every change at one
            # time, so the time's own index left a million ties to sort for a page (0.75 s
            # for a manager, 1.6-2.0 s for an admin at L, before).
            models.Index(fields=["changed_at", "id"], name="tierchange_changed_id"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"


class ScoringPolicy(models.Model):
    """How customers are graded: metrics, weights, caps, thresholds, grace and schedule.

    Policies are versions: saving a change creates the next version and makes it the
    active one, so every tier change in the history names the exact rules that made it.
    A customer's score is 0–100: each metric earns its weight in proportion to how far it
    reaches its cap (spend and orders over the trailing window, years as a customer,
    influence 0–10, average satisfaction 1–5).  The best tier whose threshold the score
    reaches is the customer's grade.  A customer who falls below its tier keeps it for
    ``grace_days`` (hysteresis); upgrades apply at once.
    """

    scope_path: ClassVar[str | None] = None

    version = models.PositiveIntegerField(_("version"), unique=True)
    is_active = models.BooleanField(_("active"), default=False)
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    window_days = models.PositiveIntegerField(_("trailing window (days)"), default=365)
    spend_weight = models.DecimalField(_("spend weight"), max_digits=5, decimal_places=2, default=40)
    spend_cap = models.DecimalField(_("spend for full points"), max_digits=14, decimal_places=2, default=500000)
    orders_weight = models.DecimalField(_("order count weight"), max_digits=5, decimal_places=2, default=20)
    orders_cap = models.PositiveIntegerField(_("orders for full points"), default=24)
    tenure_weight = models.DecimalField(_("tenure weight"), max_digits=5, decimal_places=2, default=15)
    tenure_cap_years = models.PositiveIntegerField(_("years for full points"), default=5)
    influence_weight = models.DecimalField(_("influence weight"), max_digits=5, decimal_places=2, default=15)
    satisfaction_weight = models.DecimalField(_("satisfaction weight"), max_digits=5, decimal_places=2, default=10)
    thresholds = models.JSONField(
        _("tier thresholds"), default=dict, help_text=_("Minimum score (0–100) of each tier, by tier code.")
    )
    grace_days = models.PositiveIntegerField(_("downgrade grace (days)"), default=90)
    period = models.CharField(
        _("review period"), max_length=20, choices=ReviewPeriod.choices, default=ReviewPeriod.QUARTERLY
    )
    churn_after_days = models.PositiveIntegerField(_("churned after days without an order"), default=365)
    key_account_tier = models.ForeignKey(
        Tier, verbose_name=_("key account from tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scoring policy")
        verbose_name_plural = _("scoring policies")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="one_active_scoring_policy",
                violation_error_message=_("Only one scoring policy can be active at a time."),
            ),
            models.CheckConstraint(
                condition=Q(orders_cap__gt=0) & Q(tenure_cap_years__gt=0),
                name="policy_caps_positive",
                violation_error_message=_("The caps on orders and on years as a customer must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(spend_cap__gt=0),
                name="policy_spend_cap_positive",
                violation_error_message=_("The cap on spend must be more than zero."),
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"

    @property
    def weights(self) -> dict[str, object]:
        return {
            "spend": self.spend_weight,
            "orders": self.orders_weight,
            "tenure": self.tenure_weight,
            "influence": self.influence_weight,
            "satisfaction": self.satisfaction_weight,
        }


class TierRun(BackgroundJob):
    """One evaluation of every customer under one policy, split into chunks of customer ids
    that workers evaluate in parallel; its summary adds up the chunks.  At most one run is
    queued or running at a time."""

    policy = models.ForeignKey(
        ScoringPolicy, verbose_name=_("scoring policy"), on_delete=models.PROTECT, related_name="runs"
    )
    trigger = models.CharField(_("started by"), max_length=10, choices=RunTrigger.choices)
    as_of = models.DateTimeField(_("evaluated as of"))
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)

    class Meta(BackgroundJob.Meta):
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        constraints = [
            models.UniqueConstraint(
                fields=["singleton"],
                condition=Q(state__in=["queued", "running"]),
                name="one_active_tier_run",
                violation_error_message=_("A tier evaluation is running already."),
            )
        ]


class TierRunChunk(JobPart):
    """A range of customer ids of one run.  A chunk is evaluated in one transaction that
    also marks it done, so a chunk retried after a worker died is done exactly once."""

    job_field = "run"

    run = models.ForeignKey(TierRun, verbose_name=_("evaluation run"), on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    first_id = models.BigIntegerField(_("first customer id"))
    last_id = models.BigIntegerField(_("last customer id"))

    class Meta:
        verbose_name = _("evaluation chunk")
        verbose_name_plural = _("evaluation chunks")
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "number"],
                name="tier_run_chunk_unique",
                violation_error_message=_("This part of the tier evaluation exists already."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number}"

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[TierRunChunk]:
        return cls.objects.all() if getattr(user, "is_authenticated", False) else cls.objects.none()


class LifecycleChange(models.Model):
    """One move of a customer between lifecycle stages, with its reason (never edited)."""

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="lifecycle_changes"
    )
    from_stage = models.CharField(_("from stage"), max_length=20)
    to_stage = models.CharField(_("to stage"), max_length=20)
    reason = models.CharField(_("reason"), max_length=200)
    changed_at = models.DateTimeField(_("changed at"))
    run = models.ForeignKey(
        TierRun, verbose_name=_("evaluation run"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "changed_at"], name="lifecycle_customer_time")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage}"

    COLUMN_LABELS: ClassVar[dict[str, object]] = {"reason_text": _("reason")}
    REASONS: ClassVar[dict[str, object]] = {
        "first_paid_order": _("first paid order"),
        "no_order_since": _("no order since %(date)s"),
        "new_order": _("new order on %(date)s"),
        "tier_reached_key": _("tier reached the key-account level"),
        "tier_below_key": _("tier fell below the key-account level"),
    }

    @property
    def reason_text(self) -> str:
        """The reason in words: the engine stores a code and the date it rests on."""
        code, _sep, day = self.reason.partition(":")
        text = str(self.REASONS.get(code, code))
        return text % {"date": day or "—"} if "%(date)s" in text else text

    def get_from_stage_display(self) -> str:

        return str(dict(LifecycleStage.choices).get(self.from_stage, self.from_stage))

    def get_to_stage_display(self) -> str:

        return str(dict(LifecycleStage.choices).get(self.to_stage, self.to_stage))


# ------------------------------------------------------------------ the dashboard's figures
class _TeamFigure(models.Model):
    """A row of one of the dashboard's figures, per team (abstract).

    The database keeps these tables itself (tiers migration 0010): every statement that
    inserts, changes or deletes customers, orders or tier changes appends the difference
    it makes, grouped, as new rows (never updating one, so that no two writers wait on
    each other); a figure is the sum of its rows.  ``tier_figures_compact`` folds the
    rows into one per key every few minutes, and ``tier_figures_rebuild`` recounts them
    from the records each night.  The application never writes them otherwise.

    Scoped per team: who sees every customer reads every row, a manager the rows of the
    teams they manage; what else a user may see (their own customers outside those
    teams) the dashboard counts from the records themselves.
    """

    scope_path: ClassVar[str | None] = ""

    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.DO_NOTHING, db_constraint=False,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    class Meta:
        abstract = True

    @classmethod
    def scope_queryset(cls, user: Any) -> models.QuerySet[Any]:
        return cls._default_manager.filter(team_scope_q(user))


class TierCount(_TeamFigure):
    """How many customers of a team hold a tier, by region and industry."""

    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    region = models.CharField(_("region"), max_length=20, blank=True)
    industry = models.CharField(_("industry"), max_length=30, blank=True)
    customers = models.IntegerField(_("customers"), default=0)

    class Meta:
        verbose_name = _("customers per tier")
        verbose_name_plural = _("customers per tier")

    def __str__(self) -> str:
        return f"{self.team_id}/{self.tier_id}/{self.region}/{self.industry}: {self.customers}"


class TierRevenue(_TeamFigure):
    """What a team's customers of a tier ordered in a month (neither cancelled nor
    refunded), by their tier now."""

    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("revenue per tier")
        verbose_name_plural = _("revenue per tier")
        indexes = [models.Index(fields=["month"], name="tierrevenue_month")]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.tier_id}/{self.month:%Y-%m}: {self.amount}"


class TierMoveCount(_TeamFigure):
    """How many of a team's customers an evaluation run moved from one tier to another."""

    run = models.ForeignKey(
        TierRun, verbose_name=_("evaluation run"), on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )  # fmt: skip
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from tier"), on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    to_tier = models.ForeignKey(
        Tier, verbose_name=_("to tier"), on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=ChangeKind.choices)
    moves = models.IntegerField(_("moves"), default=0)

    class Meta:
        verbose_name = _("tier moves per run")
        verbose_name_plural = _("tier moves per run")
        indexes = [models.Index(fields=["run"], name="tiermovecount_run")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.team_id}: {self.from_tier_id} → {self.to_tier_id} × {self.moves}"
