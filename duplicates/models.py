"""A pair of customers that may be one company entered twice."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.access.scope import customers_visible_to

from .choices import CandidateStatus


class DuplicateCandidate(models.Model):
    """Two customers the finder proposes as one (``customer_a`` has the lower id).

    A pair is found again on every run and keeps its row; a pair someone has called
    "not a duplicate" is never proposed again.  It is visible only to whoever may see
    both customers: a rep the pairs of their own customers, a manager those of their
    teams, an admin all.
    """

    scope_path: ClassVar[str | None] = "customer_a"
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"version", "found_at"})

    # A side is null only once a merge has removed that customer: the pair is kept, as
    # the merge's record and the way to undo it (``merged_id`` names the removed side).
    customer_a = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("customer A")
    )
    customer_b = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("customer B")
    )
    score = models.PositiveSmallIntegerField(_("score"))
    #: Why the pair is proposed: [{"code": "same_tax_id", "params": {...}}, ...].
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(_("status"), max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    found_at = models.DateTimeField(_("found at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The merge, while it stands: the customer kept, the one merged into it (its id and
    # how it read), and the audit event that holds everything needed to undo it.
    survivor = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer kept"),
    )
    merged_id = models.PositiveBigIntegerField(_("customer merged away"), null=True, blank=True)
    merged_repr = models.CharField(_("customer merged away"), max_length=250, blank=True, db_default="")
    merge_event_id = models.PositiveBigIntegerField(_("merge event"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(customer_a__lt=F("customer_b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_status_score")]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id} ({self.score})"

    @classmethod
    def scope_queryset(cls, user: Any) -> QuerySet[DuplicateCandidate]:
        """The pairs whose two customers ``user`` may both see; a merged pair, whoever
        may see the customer kept."""
        visible = customers_visible_to(user).values("pk")
        return cls.objects.filter(
            Q(customer_a__in=visible, customer_b__in=visible) | Q(status=CandidateStatus.MERGED, survivor__in=visible)
        )
