"""Risk pages: the alert inbox (mine, my team's), one alert with its facts, playbook,
comments and the buttons that work it, and the scans with the button that starts one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access.display import HIDDEN, display_value
from crm.access.policy import Level, policy_for
from crm.access.registry import CREATE, UPDATE, may
from crm.core.forms import submit
from crm.core.pages import JobListView, JobStartView

from . import display, selectors, services
from .choices import OPEN_STATUSES, SEVERITY_ORDER, URGENT_SEVERITIES, AlertStatus, ScanTrigger, Severity
from .forms import AlertAssignForm, AlertCommentForm, AlertStatusForm
from .models import RiskAlert, RiskRule, RiskScan

SORTS = {
    "urgency": ("-severity_rank", "due_at", "id"),
    "due": ("due_at", "id"),
    "raised": ("-raised_at", "-id"),
    "customer": ("customer__name", "id"),
}


#: The alert's own fields the pages show, each at the viewer's level of the field policy.
SHOWN = ("title", "severity", "status", "raised_at", "due_at", "assignee", "resolved_at", "resolution_note",
         "recommended_action")  # fmt: skip
#: A comment's fields the alert page shows.
COMMENT_SHOWN = ("author", "created_at", "body")


def _shown(request: HttpRequest, alert: RiskAlert) -> dict[str, Any]:
    """The alert as this viewer may see it: a hidden field is None, a masked one masked;
    ``facts`` says whether the explanation may be read, ``severity_code`` whether the
    severity's colour may be shown."""
    policy = policy_for(request.user, request)
    values = {name: display_value(policy, "risk-alerts", alert, name) for name in SHOWN}
    shown: dict[str, Any] = {name: (None if value is HIDDEN else value) for name, value in values.items()}
    shown["facts"] = policy.level("risk-alerts", "explanation") >= Level.READ
    shown["severity_code"] = alert.severity if policy.level("risk-alerts", "severity") >= Level.READ else None
    shown["breached"] = bool(
        shown["due_at"] is not None and alert.status in OPEN_STATUSES and alert.due_at and alert.due_at < timezone.now()
    )
    return shown


def _manages(user: Any) -> bool:
    """Whether the user hands alerts to others (and so sees the team's inbox)."""
    return may(user, "assign", "risk-alerts")


def _severity_rank() -> Case:
    return Case(*(When(severity=s, then=Value(n)) for n, s in enumerate(SEVERITY_ORDER)), output_field=IntegerField())


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    """Alerts to work, most urgent first: the user's own by default; a manager also sees
    the team's (every alert in scope), with who holds each and which are past their SLA."""
    user = request.user
    who = request.GET.get("who") or "mine"
    if who not in ("mine", "team") or (who == "team" and not _manages(user)):
        who = "mine"
    status = request.GET.get("status") or "open"
    severity = request.GET.get("severity") or ""
    rule = request.GET.get("rule") or ""
    breached = request.GET.get("breached") == "1"
    sort = request.GET.get("sort") or "urgency"
    if sort not in SORTS:
        sort = "urgency"
    now = timezone.now()
    rows = selectors.risk_alert_list(user=user)
    if who == "mine":
        rows = rows.filter(assignee_id=user.pk)
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status in AlertStatus.values:
        rows = rows.filter(status=status)
    if severity == "urgent":
        rows = rows.filter(severity__in=URGENT_SEVERITIES)
    elif severity in Severity.values:
        rows = rows.filter(severity=severity)
    if rule:
        rows = rows.filter(rule__code=rule)
    if breached:
        rows = rows.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    if query := (request.GET.get("q") or "").strip():
        rows = rows.filter(Q(customer__name__icontains=query) | Q(title__icontains=query))
    rows = rows.annotate(severity_rank=_severity_rank()).order_by(*SORTS[sort])
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "items": [
            (alert, display.headline(alert.rule.kind, alert.explanation), _shown(request, alert))
            for alert in page.object_list
        ],
        "who": who,
        "status": status,
        "severity": severity,
        "rule": rule,
        "breached": breached,
        "sort": sort,
        "q": query,
        "query": params.urlencode(),
        "manages": _manages(user),
        "statuses": [("open", _("Open or acknowledged")), *AlertStatus.choices, ("all", _("All"))],
        "severities": [("urgent", _("High or critical")), *Severity.choices],
        "rules": RiskRule.objects.order_by("kind", "code").values_list("code", "name"),
        "sorts": [
            ("urgency", _("Most urgent")),
            ("due", _("Act by")),
            ("raised", _("Newest")),
            ("customer", _("Customer")),
        ],  # fmt: skip
        "last_scan": RiskScan.objects.order_by("-id").first(),
    }
    return render(request, "risk/inbox.html", context)


def _alert(request: HttpRequest, pk: int) -> RiskAlert:
    """The alert, if the user may see its customer: another team's alert is a 404."""
    return get_object_or_404(
        selectors.risk_alert_list(user=request.user).select_related("transaction", "scan", "customer__team"), pk=pk
    )


def _comments(request: HttpRequest, alert: RiskAlert) -> list[dict[str, Any]]:
    """The alert's comments as this viewer may see them (a hidden field is None)."""
    policy = policy_for(request.user, request)
    rows = []
    for comment in alert.comments.select_related("author"):
        values = {name: display_value(policy, "alert-comments", comment, name) for name in COMMENT_SHOWN}
        rows.append({name: (None if value is HIDDEN else value) for name, value in values.items()})
    return rows


def _detail(request: HttpRequest, alert: RiskAlert, status: int = 200, **forms: Any) -> HttpResponse:
    context = {
        "alert": alert,
        "shown": _shown(request, alert),
        "facts": display.fact_rows(alert.rule.kind, alert.explanation),
        "cleared": display.cleared_reason(alert.explanation),
        "comments": _comments(request, alert),
        "status_form": forms.get("status_form") or AlertStatusForm(instance=alert, user=request.user),
        "assign_form": forms.get("assign_form") or AlertAssignForm(instance=alert, user=request.user),
        "comment_form": forms.get("comment_form") or AlertCommentForm(user=request.user, request=request),
        "manages": _manages(request.user),
        "is_open": alert.status in OPEN_STATUSES,
    }
    return render(request, "risk/detail.html", context, status=status)


@login_required
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _alert(request, pk))


def _update(request: HttpRequest, alert: RiskAlert, form_class: type, form_name: str) -> tuple[RiskAlert | None, Any]:
    """Save one of the alert's forms through the alert service; on a refusal, the page
    again with the form's errors (409 for a stale edit, 422 otherwise)."""
    form = form_class(request.POST, instance=alert, user=request.user)
    saved, status = submit(
        form,
        lambda: services.risk_alert_update(
            actor=request.user, instance=alert, data=form.writable_data(), expected_version=form.expected_version()
        ),
    )
    if saved is None:
        return None, _detail(request, alert, status, **{form_name: form})
    return saved, HttpResponseRedirect(reverse("risk:detail", args=[alert.pk]))


@login_required
@require_POST
def status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge, resolve or dismiss an alert the user may see."""
    if not may(request.user, UPDATE, "risk-alerts"):
        raise PermissionDenied
    saved, response = _update(request, _alert(request, pk), AlertStatusForm, "status_form")
    if saved is not None:
        messages.success(request, _("The alert is %(status)s.") % {"status": saved.get_status_display()})
    return response


@login_required
@require_POST
def assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager gives the alert to someone else who can see its customer."""
    alert = _alert(request, pk)
    if not _manages(request.user):
        raise PermissionDenied
    saved, response = _update(request, alert, AlertAssignForm, "assign_form")
    if saved is not None:
        messages.success(request, _("The alert is now with %(user)s.") % {"user": saved.assignee})
    return response


@login_required
@require_POST
def comment_view(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request, pk)
    form = AlertCommentForm(request.POST, user=request.user, request=request)
    if not (may(request.user, CREATE, "alert-comments") and form.may_write):
        raise PermissionDenied
    saved, status = submit(
        form, lambda: services.alert_comment_add(actor=request.user, alert=alert, body=form.cleaned_data["body"])
    )
    if saved is None:
        return _detail(request, alert, status, comment_form=form)
    return HttpResponseRedirect(reverse("risk:detail", args=[alert.pk]) + "#comments")


class ScansView(JobListView):
    """Risk scans with what each raised, re-graded and resolved, by rule."""

    model = RiskScan
    resource = "risk-scans"
    template = "risk/scans.html"
    title = gettext_lazy("Risk scans")
    parent = (gettext_lazy("Risk alerts"), "risk:inbox")
    start = ("risk:scan-start", gettext_lazy("Scan now"))
    empty = gettext_lazy("No scan has run yet.")
    row_name = "scan"

    def extra_context(self) -> dict[str, Any]:
        return {"rules": dict(RiskRule.objects.values_list("code", "name"))}


class ScanStartView(JobStartView):
    """A manager starts a scan now."""

    resource = "risk-scans"
    back_to = "risk:scans"

    def start_job(self, actor: Any) -> RiskScan:
        return services.risk_scan_start(actor=actor, trigger=ScanTrigger.MANUAL)

    def started(self, job: RiskScan) -> str:
        return _("Scan #%(scan)d is %(state)s.") % {"scan": job.pk, "state": job.get_state_display()}
