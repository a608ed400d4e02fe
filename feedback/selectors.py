"""Reads of service, feedback and satisfaction, from the record scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from crm.access.scope import scoped_queryset, sees_everything
from crm.accounts.choices import Role
from crm.accounts.models import Team, User
from crm.core.pagination import capped_count

from .choices import FeedbackStatus, ServiceResult
from .models import Feedback, SatisfactionResponse, ServiceRecord


def service_record_list(*, user: Any) -> QuerySet[ServiceRecord]:
    return scoped_queryset(ServiceRecord, user).select_related("customer", "staff", "product")


def feedback_list(*, user: Any) -> QuerySet[Feedback]:
    return scoped_queryset(Feedback, user).select_related("customer", "contact", "handler")


def open_feedback() -> Q:
    return Q(status__in=(FeedbackStatus.NEW, FeedbackStatus.IN_PROGRESS))


# ------------------------------------------------------------------------ queues
@dataclass(frozen=True)
class QueueFilters:
    """What a queue page is narrowed to.  ``status``: a status, ``open`` or empty (all);
    ``handler``: ``mine``, ``none`` (nobody), a user's id or empty (anyone)."""

    status: str = ""
    kind: str = ""
    handler: str = ""
    overdue: bool = False
    search: str = ""


def feedback_response_deadline() -> dt.timedelta:
    """How soon feedback is to be answered (``CRM_FEEDBACK_RESPONSE_HOURS``)."""
    return dt.timedelta(hours=float(settings.CRM_FEEDBACK_RESPONSE_HOURS))


def feedback_overdue(now: dt.datetime | None = None) -> Q:
    """Feedback is overdue while it is open and unanswered past the response deadline."""
    now = now or timezone.now()
    return (
        open_feedback()
        & Q(first_response_at__isnull=True, responded_at__isnull=True)
        & Q(received_at__lt=now - feedback_response_deadline())
    )


def _handled_by(field: str, handler: str, user: Any) -> Q | None:
    if handler == "mine":
        return Q(**{f"{field}_id": user.pk})
    if handler == "none":
        return Q(**{f"{field}__isnull": True})
    if handler.isdigit():
        return Q(**{f"{field}_id": int(handler)})
    return None


def feedback_queue(*, user: Any, filters: QueueFilters, searchable: tuple[str, ...] = ()) -> QuerySet[Feedback]:
    """The feedback ``user`` may see, narrowed by every filter but the status (the page
    counts per status over this), with what each row shows and its handler's candidates."""
    rows = feedback_list(user=user).select_related("customer__owner", "customer__team__manager")
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if (by := _handled_by("handler", filters.handler, user)) is not None:
        rows = rows.filter(by)
    if filters.overdue:
        rows = rows.filter(feedback_overdue())
    if filters.search and searchable:
        found = Q()
        for path in searchable:
            found |= Q(**{f"{path}__icontains": filters.search})
        rows = rows.filter(found)
    return rows


def _in_order(rows: QuerySet[Any], field: str, oldest: bool) -> QuerySet[Any]:
    return rows.order_by(field, "id") if oldest else rows.order_by(f"-{field}", "-id")


def _tab(status: str, values: list[str]) -> str:
    """The queue tab a ``status`` parameter shows: ``open``, one of ``values``, or
    ``all`` for anything else.  The rows of a tab and their count both follow it."""
    return status if status == "open" or status in values else "all"


def feedback_by_status(*, rows: QuerySet[Feedback], status: str, sort: str = "") -> QuerySet[Feedback]:
    """``rows`` of one status (``open``: new or in progress).  ``sort``: ``oldest`` or
    ``newest`` first; by default what waits longest first when open, else the latest."""
    tab = _tab(status, FeedbackStatus.values)
    waiting = tab in ("open", FeedbackStatus.NEW, FeedbackStatus.IN_PROGRESS)
    if tab == "open":
        rows = rows.filter(open_feedback())
    elif tab != "all":
        rows = rows.filter(status=tab)
    return _in_order(rows, "received_at", sort == "oldest" or (waiting and sort != "newest"))


#: The key of the counts that holds the cap when there were more rows than it.
PAST_CAP = "past_cap"


def feedback_status_count(counts: dict[str, int], status: str) -> tuple[int | None, bool]:
    """How many rows :func:`feedback_by_status` gives for ``status``, read off ``counts``
    (:func:`feedback_counts` of the same rows), and whether there are more than that:
    None when they were not counted."""
    return _tab_count(counts, _tab(status, FeedbackStatus.values))


def tab_counts(counted: dict[str, int]) -> dict[str, int]:
    """The counts the status tabs show, of :func:`feedback_counts` or
    :func:`service_counts`: none past the cap (only the "All" tab's rows were counted)."""
    return {} if PAST_CAP in counted else counted


def _tab_count(counts: dict[str, int], tab: str) -> tuple[int | None, bool]:
    if tab == "all" and PAST_CAP in counts:  # all of them, counted up to the cap
        return counts[PAST_CAP], True
    return counts.get(tab), False


def feedback_counts(*, rows: QuerySet[Feedback]) -> dict[str, int]:
    """How many of ``rows`` are in each status, open, overdue and in all: one query, over
    at most ``CRM_LIST_COUNT_CAP`` rows.  When there are more, only the cap, under
    ``PAST_CAP`` (the "All" tab's count): counting a manager's whole queue at a million
    customers would cost seconds on every page."""
    counted, more = capped_count(rows)
    if more:
        return {PAST_CAP: counted}
    return rows.order_by().aggregate(
        all=Count("id"),
        open=Count("id", filter=open_feedback()),
        overdue=Count("id", filter=feedback_overdue()),
        **{status: Count("id", filter=Q(status=status)) for status in FeedbackStatus.values},
    )


@dataclass(frozen=True)
class Wait:
    """A response time: how long a record waited for its answer (``answered``), or has
    waited so far; ``late`` when past the deadline."""

    seconds: float
    answered: bool
    late: bool


def feedback_wait(item: Feedback, now: dt.datetime | None = None) -> Wait | None:
    """From received to the first response, or the age so far while open; None for
    feedback closed without a recorded answer."""
    now = now or timezone.now()
    first = item.first_response_at or item.responded_at
    limit = feedback_response_deadline().total_seconds()
    if first is not None:
        seconds = max(0.0, (first - item.received_at).total_seconds())
        return Wait(seconds, True, seconds > limit)
    if item.status not in (FeedbackStatus.NEW, FeedbackStatus.IN_PROGRESS):
        return None
    seconds = max(0.0, (now - item.received_at).total_seconds())
    return Wait(seconds, False, seconds > limit)


def service_follow_up_days() -> int:
    return int(settings.CRM_SERVICE_FOLLOW_UP_DAYS)


def open_service() -> Q:
    """A service record is open in the queue until its result is resolved."""
    return ~Q(result=ServiceResult.RESOLVED)


def service_overdue(today: dt.date | None = None) -> Q:
    """Open past its follow-up date: its own, else ``CRM_SERVICE_FOLLOW_UP_DAYS`` after the service."""
    today = today or timezone.localdate()
    default_start = today - dt.timedelta(days=service_follow_up_days())
    return open_service() & (Q(due_date__lt=today) | Q(due_date__isnull=True, service_date__lt=default_start))


def service_queue(*, user: Any, filters: QueueFilters, searchable: tuple[str, ...] = ()) -> QuerySet[ServiceRecord]:
    """The service records ``user`` may see, narrowed by every filter but the result."""
    rows = service_record_list(user=user).select_related("customer__owner", "customer__team__manager")
    if filters.kind:
        rows = rows.filter(service_type=filters.kind)
    if (by := _handled_by("staff", filters.handler, user)) is not None:
        rows = rows.filter(by)
    if filters.overdue:
        rows = rows.filter(service_overdue())
    if filters.search and searchable:
        found = Q()
        for path in searchable:
            found |= Q(**{f"{path}__icontains": filters.search})
        rows = rows.filter(found)
    return rows


def service_by_result(*, rows: QuerySet[ServiceRecord], status: str, sort: str = "") -> QuerySet[ServiceRecord]:
    """``rows`` of one result (``open``: any but resolved).  ``sort``: ``oldest`` or
    ``newest`` first; by default the oldest first when open, else the latest."""
    tab = _tab(status, ServiceResult.values)
    if tab == "open":
        rows = rows.filter(open_service())
    elif tab != "all":
        rows = rows.filter(result=tab)
    return _in_order(rows, "service_date", sort == "oldest" or (tab == "open" and sort != "newest"))


def service_result_count(counts: dict[str, int], status: str) -> tuple[int | None, bool]:
    """How many rows :func:`service_by_result` gives for ``status``, read off ``counts``
    (:func:`service_counts` of the same rows), and whether there are more than that: None
    when they were not counted."""
    return _tab_count(counts, _tab(status, ServiceResult.values))


def service_counts(*, rows: QuerySet[ServiceRecord]) -> dict[str, int]:
    """How many of ``rows`` have each result, are open, overdue and in all: one query, over
    at most ``CRM_LIST_COUNT_CAP`` rows (past it only the cap, as ``feedback_counts``)."""
    counted, more = capped_count(rows)
    if more:
        return {PAST_CAP: counted}
    return rows.order_by().aggregate(
        all=Count("id"),
        open=Count("id", filter=open_service()),
        overdue=Count("id", filter=service_overdue()),
        **{result: Count("id", filter=Q(result=result)) for result in ServiceResult.values},
    )


@dataclass(frozen=True)
class FollowUp:
    """How long a service record has been open (``days``), or took to resolve after the
    visit; ``at_visit`` when it was resolved there; ``late`` when open past its date."""

    days: int
    resolved: bool
    at_visit: bool
    late: bool
    due: dt.date | None


def service_follow_up(record: ServiceRecord, today: dt.date | None = None) -> FollowUp:
    today = today or timezone.localdate()
    due = record.due_date or record.service_date + dt.timedelta(days=service_follow_up_days())
    if record.result == ServiceResult.RESOLVED:
        if record.resolved_at is None:
            return FollowUp(0, True, True, False, None)
        days = max(0, (timezone.localdate(record.resolved_at) - record.service_date).days)
        return FollowUp(days, True, False, False, None)
    return FollowUp(max(0, (today - record.service_date).days), False, False, today > due, due)


def handlers_in(*, rows: QuerySet[Any], field: str, user: Any) -> QuerySet[User]:
    """The people who hold any of ``rows`` (for the handler filter), by name, among those
    who may hold work ``user`` sees: for who sees everything, anyone; else the user, the
    members of the teams they manage, their own team's manager and the administrators.

    Each candidate is one probe of the handler's index, so the filter costs the same for a
    manager's whole queue at a million customers as for a rep's own."""
    people = User.objects.all()
    if not sees_everything(user):
        people = people.filter(
            Q(pk=user.pk) | Q(team__manager=user) | Q(role=Role.ADMIN) | Q(is_superuser=True)
            | Q(pk__in=Team.objects.filter(pk=user.team_id).values("manager_id"))
        )  # fmt: skip
    holds = rows.order_by().filter(**{f"{field}_id": OuterRef("pk")})
    return people.filter(Exists(holds)).order_by("username")


def assignable_people() -> list[User]:
    """Who may be handed any customer's work besides its owner and its team's manager:
    the active administrators (they see every customer)."""
    return list(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).order_by("username"))


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
