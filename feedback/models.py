"""After-sales service, what customers tell us, and how satisfied they are."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel
from crm.core.validation import happened, planned
from customers.models import CustomerScopeCopy

from .choices import FeedbackChannel, FeedbackKind, FeedbackStatus, ServiceResult, ServiceType, SurveyMethod


class ServiceRecord(CustomerScopeCopy, VersionedModel):
    """One service visit or call: what was done, by whom, with what result and rating."""

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="service_records"
    )
    service_date = models.DateField(_("service date"), db_index=True, validators=[happened])
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    staff_name = models.CharField(_("staff name"), max_length=100, blank=True)
    product = models.ForeignKey(
        "transactions.Product",
        verbose_name=_("product"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    content = models.TextField(_("service content"), blank=True)
    result = models.CharField(_("result"), max_length=20, choices=ServiceResult.choices, default=ServiceResult.RESOLVED)
    rating = models.PositiveSmallIntegerField(
        _("customer rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    customer_comment = models.TextField(_("customer comment"), blank=True)
    # A result other than "resolved" leaves the record open in the service queue: someone
    # follows it up by this date (else within CRM_SERVICE_FOLLOW_UP_DAYS of the service).
    due_date = models.DateField(_("follow up by"), null=True, blank=True, validators=[planned])
    follow_up = models.TextField(_("follow-up notes"), blank=True, db_default="")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, validators=[happened])

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-service_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="service_rating_1_5",
                violation_error_message=_("A service rating is from 1 to 5."),
            )
        ]
        indexes = [models.Index(fields=["customer", "service_date"], name="service_customer_date")]

    def __str__(self) -> str:
        return f"{self.service_date} {self.get_service_type_display()}"


class Feedback(CustomerScopeCopy, VersionedModel):
    """A suggestion, complaint, praise or question from a customer, and our response."""

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="feedback"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FeedbackKind.choices)
    channel = models.CharField(
        _("channel"), max_length=20, choices=FeedbackChannel.choices, default=FeedbackChannel.PHONE
    )
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True, validators=[happened])
    status = models.CharField(_("status"), max_length=20, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    response = models.TextField(_("response"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True, validators=[happened])
    # Kept when the response is later rewritten: the response time is measured to it.
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True, validators=[happened])

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "received_at"], name="feedback_customer_time"),
            models.Index(fields=["kind", "status"], name="feedback_kind_status"),
        ]

    def __str__(self) -> str:
        return self.subject


class SatisfactionResponse(VersionedModel):
    """One answer to a satisfaction survey: CSAT (1-5) and/or NPS (0-10)."""

    scope_path: ClassVar[str | None] = "customer"

    # Looked up through the (customer, responded at) index below, which leads with it.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="satisfaction",
        db_index=False,
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("responded at"), db_index=True, validators=[happened])
    method = models.CharField(
        _("survey method"), max_length=20, choices=SurveyMethod.choices, default=SurveyMethod.ONLINE
    )
    csat = models.PositiveSmallIntegerField(
        _("CSAT (1-5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(_("NPS (0-10)"), null=True, blank=True, validators=[MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        ordering = ["-responded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="csat_1_5",
                violation_error_message=_("A satisfaction score is from 1 to 5."),
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10),
                name="nps_0_10",
                violation_error_message=_("A likelihood to recommend (NPS) is from 0 to 10."),
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=False) | Q(nps__isnull=False),
                name="satisfaction_has_a_score",
                violation_error_message=_("Give a CSAT or an NPS score."),
            ),
        ]
        indexes = [
            # A customer's answers in time order, with their scores: the satisfaction-drop
            # rule reads every customer's windows from this index alone.
            models.Index(
                fields=["customer", "responded_at"], include=["csat", "nps"], name="satisfaction_customer_time"
            ),
        ]

    def __str__(self) -> str:
        return f"CSAT {self.csat} / NPS {self.nps}"
