"""Risk pages: the alert inbox (mine, my team's, grouped by customer and rule, with its
group and bulk actions), one alert with its facts, playbook,
comments and the buttons that work it, and the scans with the button that starts one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access.display import HIDDEN, display_value
from crm.access.policy import Level, policy_for
from crm.access.registry import CREATE, UPDATE, may
from crm.access.scope import sees_everything
from crm.accounts.models import User
from crm.accounts.selectors import people_picker
from crm.core.errors import DomainError, VersionConflict
from crm.core.forms import submit
from crm.core.pages import JobListView, JobStartView
from crm.core.pagination import CappedPaginator, grouped_page
from crm.core.validation import parse_id

from . import display, selectors, services
from .choices import OPEN_STATUSES, URGENT_SEVERITIES, AlertStatus, ScanTrigger, Severity
from .forms import AlertAssignForm, AlertCommentForm, AlertStatusForm
from .models import RiskAlert, RiskRule, RiskScan

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


#: The inbox's views of whose alerts, by role: a rep their own; a manager their own or
#: the team's; an admin their own or everyone's.
WHO = {"mine": gettext_lazy("Assigned to me"), "team": gettext_lazy("My team's"), "all": gettext_lazy("All alerts")}


def _who_choices(user: Any) -> list[str]:
    default = selectors.risk_inbox_default(user=user)
    return ["mine"] if default == "mine" else ["mine", default]


def _inbox_alerts(request: HttpRequest, who: str) -> tuple[Any, dict[str, Any]]:
    """The alerts the inbox's filters leave, and the filters as understood."""
    user = request.user
    status = request.GET.get("status") or "open"
    severity = request.GET.get("severity") or ""
    rule = request.GET.get("rule") or ""
    breached = request.GET.get("breached") == "1"
    customer = request.GET.get("customer") or ""
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
    if (customer_id := parse_id(customer)) is not None:
        rows = rows.filter(customer_id=customer_id)
    if breached:
        rows = rows.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    if query := (request.GET.get("q") or "").strip():
        rows = rows.filter(
            Q(customer__name__icontains=query)
            | Q(title__icontains=query)
            | Q(title="", rule__name_zh__icontains=query)
            | Q(title="", rule__name_en__icontains=query)
        )
    filters = {"status": status, "severity": severity, "rule": rule, "breached": breached, "q": query,
               "customer": customer}  # fmt: skip
    return rows, filters


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    """Alerts to work, grouped by customer and rule (one line: the worst severity, how
    many, the earliest deadline; opened, the alerts and their orders), most urgent first.
    A rep lands on their own alerts, a manager on the team's (every alert in scope, with
    who holds each), an admin on every alert; each may still choose "assigned to me".
    Ticked groups are acknowledged, resolved, commented on or (managers) handed on
    together."""
    user = request.user
    choices = _who_choices(user)
    who = request.GET.get("who") or choices[-1]
    if who == "team" and "all" in choices:
        who = "all"
    if who not in choices:
        who = choices[-1] if who in WHO else "mine"
    sort = request.GET.get("sort") or "urgency"
    if sort not in selectors.GROUP_SORTS:
        sort = "urgency"
    alerts, filters = _inbox_alerts(request, who)
    grouped = selectors.risk_alert_groups(alerts=alerts, sort=sort)
    if sees_everything(user):
        # Every alert: the capped count streams the groups off the index and stops early.
        page = CappedPaginator(grouped, 25).get_page(request.GET.get("page"))
    else:
        # A scope reached through each alert's customer: counting costs as much as
        # grouping, so the page and its count come from one statement.
        page = grouped_page(grouped, 25, request.GET.get("page"))
    groups = selectors.risk_alert_group_fill(alerts=alerts, rows=page.object_list)
    items = []
    for group in groups:
        for alert in group.alerts:
            alert.headline = display.headline(alert.rule.kind, alert.explanation)  # type: ignore[attr-defined]
            alert.shown = _shown(request, alert)  # type: ignore[attr-defined]
            items.append((alert, alert.headline, alert.shown))  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    policy = policy_for(user, request)
    manages = _manages(user)
    context = {
        "page": page,
        "groups": groups,
        "items": items,
        "alert_count": sum(group.count for group in groups),
        "who": who,
        "who_tabs": [(value, WHO[value]) for value in choices] if len(choices) > 1 else [],
        **filters,
        "sort": sort,
        "query": params.urlencode(),
        "next": request.get_full_path(),
        "manages": manages,
        "show_assignee": who != "mine",
        **display.group_flags(user, policy),
        "may_comment": may(user, CREATE, "alert-comments") and policy.level("alert-comments", "body") >= Level.WRITE,
        "assignees": people_picker(selectors.risk_assignee_choices(user=user)) if manages else None,
        "statuses": [("open", _("Open or acknowledged")), *AlertStatus.choices, ("all", _("All"))],
        "severities": [("urgent", _("High or critical")), *Severity.choices],
        "rules": [
            (r.code, r.name) for r in RiskRule.objects.order_by("kind", "code").only("code", "name_zh", "name_en")
        ],
        "sorts": [
            ("urgency", _("Most urgent")),
            ("due", _("Act by")),
            ("raised", _("Newest")),
            ("customer", _("Customer")),
        ],  # fmt: skip
        "last_scan": RiskScan.objects.order_by("-id").first(),
    }
    return render(request, "risk/inbox.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the action was taken on (a path of this site only)."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or not target.startswith("/"):
        target = reverse("risk:inbox")
    return HttpResponseRedirect(target)


def _act(request: HttpRequest, work: Any, done: str) -> HttpResponse:
    """Run a group or bulk action; its outcome (or why nothing was done) as a message."""
    try:
        changed = work(selectors.parse_versions(request.POST.getlist("alerts")))
    except VersionConflict:
        messages.error(request, _("Some of these alerts changed since the page was shown; nothing was changed. "
                                  "Look again and repeat."))  # fmt: skip
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"n": changed})
    return _back(request)


@login_required
@require_POST
def group_status_view(request: HttpRequest) -> HttpResponse:
    """Acknowledge or resolve a group's alerts (one rule on one customer) together."""
    if not may(request.user, UPDATE, "risk-alerts"):
        raise PermissionDenied
    status = request.POST.get("status") or ""
    note = request.POST.get("note") or ""
    return _act(
        request,
        lambda versions: services.risk_alert_bulk_status(actor=request.user, versions=versions, status=status,
                                                         note=note),
        _("Done: %(n)d alerts changed."),
    )  # fmt: skip


@login_required
@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    """The inbox's ticked groups: acknowledge, resolve, comment on or hand on every alert
    in them at once."""
    action = request.POST.get("action") or ""
    note = request.POST.get("note") or ""
    if action in ("acknowledged", "resolved"):
        if not may(request.user, UPDATE, "risk-alerts"):
            raise PermissionDenied
        return _act(
            request,
            lambda versions: services.risk_alert_bulk_status(actor=request.user, versions=versions, status=action,
                                                             note=note),
            _("Done: %(n)d alerts changed."),
        )  # fmt: skip
    if action == "assign":
        if not may(request.user, "assign", "risk-alerts"):
            raise PermissionDenied
        assignee_id = request.POST.get("assignee") or ""
        assignee = User.objects.filter(pk=pk).first() if (pk := parse_id(assignee_id)) is not None else None
        if name := request.POST.get("assignee_name", "").strip():  # typed, from a picker of many
            assignee = selectors.risk_assignee_choices(user=request.user).filter(username=name).first()
        return _act(
            request,
            lambda versions: services.risk_alert_bulk_assign(actor=request.user, versions=versions,
                                                             assignee=assignee),
            _("Done: %(n)d alerts handed on."),
        )  # fmt: skip
    if action == "comment":
        if not may(request.user, CREATE, "alert-comments"):
            raise PermissionDenied
        if policy_for(request.user, request).level("alert-comments", "body") < Level.WRITE:
            raise PermissionDenied
        return _act(
            request,
            lambda versions: services.alert_comment_bulk_add(actor=request.user, versions=versions, body=note),
            _("Done: %(n)d alerts commented on."),
        )
    messages.error(request, _("Choose what to do with the ticked alerts."))
    return _back(request)


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
        return {"rules": {r.code: r.name for r in RiskRule.objects.only("code", "name_zh", "name_en")}}


class ScanStartView(JobStartView):
    """A manager starts a scan now."""

    resource = "risk-scans"
    back_to = "risk:scans"

    def start_job(self, actor: Any) -> RiskScan:
        return services.risk_scan_start(actor=actor, trigger=ScanTrigger.MANUAL)

    def started(self, job: RiskScan) -> str:
        return _("Scan #%(scan)d is %(state)s.") % {"scan": job.pk, "state": job.get_state_display()}
