"""Marketing campaigns and each customer's participation in them, down to the resulting order."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel
from crm.core.validation import happened, planned

from .choices import CampaignStatus, Channel, ParticipationStatus


class Campaign(VersionedModel):
    """An online or offline campaign (exhibition, seminar, e-mail ...) with its budget and target.

    Campaigns are company-wide: every user may read them; managers run them.
    """

    scope_path: ClassVar[str | None] = None

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    start_date = models.DateField(_("start date"), validators=[planned])
    end_date = models.DateField(_("end date"), null=True, blank=True, validators=[planned])
    location = models.CharField(_("location"), max_length=200, blank=True)
    content = models.TextField(_("content"), blank=True, help_text=_("What is offered: talks, discounts, gifts ..."))
    budget = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    target_participants = models.PositiveIntegerField(_("target participants"), null=True, blank=True)
    target_revenue = models.DecimalField(
        _("target revenue"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    target_description = models.TextField(_("target audience"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="campaign_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0),
                name="campaign_budget_positive",
                violation_error_message=_("A campaign's budget cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Participation(VersionedModel):
    """One customer in one campaign, how far they went, and the order it led to.

    A customer takes part in a campaign once (unique pair).  ``converted`` means the
    campaign produced an order; linking that order ties revenue to the campaign.
    """

    scope_path: ClassVar[str | None] = "customer"

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="participations"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="participations"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ParticipationStatus.choices, default=ParticipationStatus.INVITED
    )
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True, validators=[happened])
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, validators=[happened])
    attended_at = models.DateTimeField(_("attended at"), null=True, blank=True, validators=[happened])
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True, validators=[happened])
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, validators=[happened])
    transaction = models.ForeignKey(
        "transactions.Transaction",
        verbose_name=_("resulting transaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaign_participations",
    )
    feedback = models.TextField(_("feedback"), blank=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["campaign_id", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"],
                name="participation_once_per_campaign",
                violation_error_message=_("This customer already takes part in this campaign."),
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="participation_campaign_status"),
            models.Index(fields=["customer", "campaign"], name="participation_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}: {self.status}"
