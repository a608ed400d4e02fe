"""Campaign pages: the list with each campaign's funnel figures, and one campaign's
participants, statuses, conversion rate and attributed revenue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from crm.access.display import table
from crm.access.policy import policy_for

from .models import Campaign, Participation
from .selectors import campaign_figures, campaign_list, campaign_stats, participation_list

PARTICIPANT_FIELDS = ("customer", "contact", "status", "invited_at", "attended_at", "converted_at", "transaction")


@login_required
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    campaigns = campaign_list(user=request.user).order_by("-start_date", "-id")
    status = request.GET.get("status", "")
    if status:
        campaigns = campaigns.filter(status=status)
    page = Paginator(campaigns, 25).get_page(request.GET.get("page"))
    figures = campaign_figures(user=request.user, campaign_ids=[c.pk for c in page.object_list])
    for campaign in page.object_list:
        row = figures.get(campaign.pk, {})
        campaign.participant_count = row.get("participant_count", 0)  # type: ignore[attr-defined]
        campaign.converted_count = row.get("converted_count", 0)  # type: ignore[attr-defined]
        campaign.revenue = row.get("revenue")  # type: ignore[attr-defined]
    return render(
        request,
        "campaigns/list.html",
        {"page": page, "status": status, "statuses": Campaign._meta.get_field("status").choices},
    )


@login_required
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaign_list(user=request.user), pk=pk)
    policy = policy_for(request.user, request)
    participants = participation_list(user=request.user).filter(campaign=campaign).order_by("status", "-id")
    status = request.GET.get("status", "")
    if status:
        participants = participants.filter(status=status)
    page = Paginator(participants, 50).get_page(request.GET.get("page"))
    stats = campaign_stats(campaign=campaign, user=request.user)
    labels = dict(Participation._meta.get_field("status").choices or [])
    context = {
        "campaign": campaign,
        "stats": stats,
        "funnel": [(labels.get(step, step), count) for step, count in stats["funnel"].items()],
        "page": page,
        "participants": table(policy, "participations", Participation, page.object_list, PARTICIPANT_FIELDS),
        "status": status,
        "statuses": Participation._meta.get_field("status").choices,
    }
    return render(request, "campaigns/detail.html", context)
