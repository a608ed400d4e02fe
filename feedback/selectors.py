"""Reads of service, feedback and satisfaction, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from crm.access.scope import scoped_queryset

from .choices import FeedbackStatus
from .models import Feedback, SatisfactionResponse, ServiceRecord


def service_record_list(*, user: Any) -> QuerySet[ServiceRecord]:
    return scoped_queryset(ServiceRecord, user).select_related("customer", "staff", "product")


def feedback_list(*, user: Any) -> QuerySet[Feedback]:
    return scoped_queryset(Feedback, user).select_related("customer", "contact", "handler")


def open_feedback() -> Q:
    return Q(status__in=(FeedbackStatus.NEW, FeedbackStatus.IN_PROGRESS))


def satisfaction_list(*, user: Any) -> QuerySet[SatisfactionResponse]:
    return scoped_queryset(SatisfactionResponse, user).select_related("customer", "contact")


def satisfaction_summary(*, responses: QuerySet[SatisfactionResponse]) -> dict[str, Any]:
    """CSAT average and distribution, and the Net Promoter Score, in one aggregate query.

    NPS = % promoters (9-10) − % detractors (0-6) among the answers that gave an NPS.
    """
    figures = responses.aggregate(
        count=Count("id"),
        csat_count=Count("csat"),
        csat_average=Avg("csat"),
        **{f"csat_{n}": Count("id", filter=Q(csat=n)) for n in range(1, 6)},
        nps_count=Count("nps"),
        promoters=Count("id", filter=Q(nps__gte=9)),
        passives=Count("id", filter=Q(nps__in=(7, 8))),
        detractors=Count("id", filter=Q(nps__lte=6)),
    )
    nps_count = figures["nps_count"]
    average = figures["csat_average"]
    return {
        "count": figures["count"],
        "csat_count": figures["csat_count"],
        "csat_average": round(float(average), 2) if average is not None else None,
        "csat_distribution": {str(n): figures[f"csat_{n}"] for n in range(1, 6)},
        "nps_count": nps_count,
        "promoters": figures["promoters"],
        "passives": figures["passives"],
        "detractors": figures["detractors"],
        "nps": round(100 * (figures["promoters"] - figures["detractors"]) / nps_count, 1) if nps_count else None,
    }
