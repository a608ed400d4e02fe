"""Tier pages: the manager's dashboard, the drill-down lists behind its numbers, and the
evaluation runs (with the button that starts one)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access.registry import may
from crm.access.scope import customers_visible_to
from crm.core.pages import JobListView, JobStartView
from crm.core.pagination import CappedPaginator
from crm.core.validation import parse_id

from . import services
from .choices import RunTrigger
from .models import TierChange, TierRun
from .selectors import tier_dashboard, tier_schedule


def _may_start(user: object) -> bool:
    return may(user, "start", "tier-runs")


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    dashboard = tier_dashboard(user=request.user)
    peak = max([row["customers"] for row in dashboard.tiers] + [1])
    trend_peak = max([max(row["up"], row["down"]) for row in dashboard.trend] + [1])
    context = {
        "d": dashboard,
        "peak": peak,
        "trend_peak": trend_peak,
        "schedule": tier_schedule(request=request),
        "active_run": TierRun.objects.filter(state__in=["queued", "running"]).first(),
        "may_start": _may_start(request.user),
    }
    return render(request, "tiers/dashboard.html", context)


@login_required
def moves_view(request: HttpRequest) -> HttpResponse:
    """The customers behind one number of the dashboard: the moves of a run, optionally
    from one tier to another (``from``/``to``: tier ids, or ``none``)."""
    run = get_object_or_404(TierRun, pk=parse_id(request.GET.get("run")) or 0)
    changes = TierChange.objects.filter(run=run, customer__in=customers_visible_to(request.user)).select_related(
        "customer", "from_tier", "to_tier", "customer__owner"
    )
    for param, field in (("from", "from_tier"), ("to", "to_tier")):
        value = request.GET.get(param)
        if value == "none":
            changes = changes.filter(**{f"{field}__isnull": True})
        elif parse_id(value) is not None:
            changes = changes.filter(**{field: parse_id(value)})
    kind = request.GET.get("kind")
    if kind == "upgrade":  # a first grade counts as a move up, as on the dashboard
        changes = changes.filter(kind__in=["upgrade", "initial"])
    elif kind in ("downgrade", "override", "override_expired"):
        changes = changes.filter(kind=kind)
    page = CappedPaginator(changes.order_by("customer__name", "id"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "tiers/moves.html", {"run": run, "page": page, "query": query.urlencode()})


class RunsView(JobListView):
    """Evaluation runs with their progress and the moves each made."""

    model = TierRun
    resource = "tier-runs"
    template = "tiers/runs.html"
    title = gettext_lazy("Evaluation runs")
    parent = (gettext_lazy("Tiers"), "tiers:dashboard")
    start = ("tiers:start", gettext_lazy("Evaluate now"))
    empty = gettext_lazy("No evaluation has run yet.")
    row_name = "run"
    select_related = ("policy", "requested_by")


class StartView(JobStartView):
    """A manager starts an evaluation now."""

    resource = "tier-runs"
    back_to = "tiers:runs"

    def start_job(self, actor: Any) -> TierRun:
        return services.tier_run_start(actor=actor, trigger=RunTrigger.MANUAL)

    def started(self, job: TierRun) -> str:
        return _("Evaluation #%(run)d is %(state)s.") % {"run": job.pk, "state": job.get_state_display()}
