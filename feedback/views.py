"""Work queues: the feedback still to handle, and the latest service records."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.access.display import table
from crm.access.policy import policy_for

from .choices import FeedbackKind, FeedbackStatus, ServiceResult, ServiceType
from .models import Feedback, ServiceRecord
from .selectors import feedback_list, open_feedback, service_record_list

FEEDBACK_FIELDS = ("received_at", "customer", "kind", "subject", "channel", "status", "handler")
SERVICE_FIELDS = ("service_date", "customer", "service_type", "staff_name", "product", "result", "rating")


@login_required
def feedback_queue_view(request: HttpRequest) -> HttpResponse:
    """Feedback to handle, oldest first (what waits longest comes first); or any status."""
    status = request.GET.get("status", "open")
    kind = request.GET.get("kind", "")
    rows = feedback_list(user=request.user).select_related("handler")
    if status == "open":
        rows = rows.filter(open_feedback()).order_by("received_at", "id")
    else:
        rows = rows.order_by("-received_at", "-id")
        if status in FeedbackStatus.values:
            rows = rows.filter(status=status)
    if kind in FeedbackKind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "table": table(policy_for(request.user, request), "feedback", Feedback, page.object_list, FEEDBACK_FIELDS),
        "status": status,
        "kind": kind,
        "statuses": [
            ("open", FeedbackStatus.NEW.label + " / " + FeedbackStatus.IN_PROGRESS.label),
            *FeedbackStatus.choices,
        ],
        "kinds": FeedbackKind.choices,
        "query": f"status={status}&kind={kind}",
    }
    return render(request, "feedback/queue.html", context)


@login_required
def service_queue_view(request: HttpRequest) -> HttpResponse:
    """Service records, newest first, by result and type (unresolved ones need a revisit)."""
    result = request.GET.get("result", "")
    kind = request.GET.get("type", "")
    rows = service_record_list(user=request.user).select_related("product").order_by("-service_date", "-id")
    if result in ServiceResult.values:
        rows = rows.filter(result=result)
    if kind in ServiceType.values:
        rows = rows.filter(service_type=kind)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "table": table(
            policy_for(request.user, request), "service-records", ServiceRecord, page.object_list, SERVICE_FIELDS
        ),
        "result": result,
        "kind": kind,
        "results": ServiceResult.choices,
        "kinds": ServiceType.choices,
        "query": f"result={result}&type={kind}",
    }
    return render(request, "feedback/service_queue.html", context)
