"""Star tiers (Bronze to Diamond) and the history of every customer's moves between them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel

from .choices import ChangeKind


class Tier(VersionedModel):
    """A customer tier.  A higher ``rank`` is a better tier; ranks and codes are unique.

    The five levels of the source documents ship as data: Bronze (青铜), Silver (白银),
    Gold (黄金), Platinum (铂金) and Diamond (钻石), each with its benefits.
    """

    scope_path: ClassVar[str | None] = None

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=50)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    colour = models.CharField(
        _("colour"), max_length=7, validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Use a colour like #C0C0C0."))]
    )
    min_score = models.DecimalField(_("minimum score"), max_digits=7, decimal_places=2, default=0)
    benefits = models.JSONField(
        _("benefits"), default=list, blank=True, help_text=_("List of benefits, one string each.")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [models.CheckConstraint(condition=Q(min_score__gte=0), name="tier_min_score_positive")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "changed_at"], name="tierchange_customer_time")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"
