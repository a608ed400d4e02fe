"""Campaign pages: the list with each campaign's funnel figures; one campaign's
participants, statuses, conversion rate and attributed revenue; the form a manager plans
and edits a campaign with; and the bulk recording of the participants' progress.

Writes ask the registry (``may``): managers and admins run campaigns, reps read them.
Inviting customers from a filtered list is a workspace page (it filters like the
customer list): ``customers:campaign-invite``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.access.display import table
from crm.access.policy import policy_for
from crm.access.registry import CREATE, UPDATE, may
from crm.core.errors import DomainError
from crm.core.forms import submit
from crm.core.pagination import CappedPaginator

from . import services
from .forms import CampaignForm, RecordStepForm
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
        {
            "page": page,
            "status": status,
            "statuses": Campaign._meta.get_field("status").choices,
            "can_create": may(request.user, CREATE, "campaigns"),
        },
    )


@login_required
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaign_list(user=request.user), pk=pk)
    policy = policy_for(request.user, request)
    participants = participation_list(user=request.user).filter(campaign=campaign).order_by("status", "-id")
    status = request.GET.get("status", "")
    if status:
        participants = participants.filter(status=status)
    page = CappedPaginator(participants, 50).get_page(request.GET.get("page"))
    stats = campaign_stats(campaign=campaign, user=request.user)
    labels = dict(Participation._meta.get_field("status").choices or [])
    participants_table = table(policy, "participations", Participation, page.object_list, PARTICIPANT_FIELDS)
    headings = [label for _name, label in participants_table["columns"]]
    context = {
        "campaign": campaign,
        "stats": stats,
        "funnel": [(labels.get(step, step), count) for step, count in stats["funnel"].items()],
        "page": page,
        "participants": participants_table,
        # Each cell with its column's heading: below 768 px a row shows as a card of labelled values.
        "participant_rows": [
            (row, list(zip(headings, row["cells"], strict=True))) for row in participants_table["rows"]
        ],
        "status": status,
        "statuses": Participation._meta.get_field("status").choices,
        "can_edit": may(request.user, UPDATE, "campaigns"),
        "can_invite": may(request.user, "invite", "campaigns") and campaign.status not in services.CLOSED,
        "can_record": may(request.user, "record", "campaigns"),
        "record_form": RecordStepForm(),
    }
    return render(request, "campaigns/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    """A manager plans a campaign: channel, dates, budget, target and content."""
    if not may(request.user, CREATE, "campaigns"):
        raise PermissionDenied
    form = CampaignForm(request.POST or None, user=request.user, request=request)
    status = 200
    if request.method == "POST":
        campaign, status = submit(form, lambda: services.campaign_create(actor=request.user, data=form.writable_data()))
        if campaign is not None:
            messages.success(request, _("Created the campaign “%(name)s”.") % {"name": campaign.name})
            return HttpResponseRedirect(reverse("campaigns:detail", args=[campaign.pk]))
    return render(request, "campaigns/form.html", {"form": form, "campaign": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager edits a campaign; a stale form (someone saved in between) is a conflict."""
    campaign = get_object_or_404(campaign_list(user=request.user), pk=pk)
    if not may(request.user, UPDATE, "campaigns"):
        raise PermissionDenied
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user, request=request)
    status = 200
    if request.method == "POST":
        saved, status = submit(
            form,
            lambda: services.campaign_update(
                actor=request.user,
                instance=Campaign.objects.get(pk=campaign.pk),
                data=form.writable_data(),
                expected_version=form.expected_version(),
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("campaigns:detail", args=[campaign.pk]))
    context = {"form": form, "campaign": campaign, "conflict": status == 409}
    return render(request, "campaigns/form.html", context, status=status)


@login_required
@require_POST
def participation_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the ticked participants registered, attended, responded or converted."""
    campaign = get_object_or_404(campaign_list(user=request.user), pk=pk)
    if not may(request.user, "record", "campaigns"):
        raise PermissionDenied
    back = reverse("campaigns:detail", args=[campaign.pk])
    form = RecordStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(back)
    step = form.cleaned_data["status"]
    try:
        result = services.participation_bulk_record(
            actor=request.user,
            campaign=campaign,
            ids=form.cleaned_data["ids"],
            status=step,
            at=form.cleaned_data.get("at"),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        label = dict(Participation._meta.get_field("status").choices or []).get(step, step)
        messages.success(
            request,
            _("Marked %(changed)d as %(step)s; %(unchanged)d left as they were (already that far or further).")
            % {"changed": result.changed, "step": label, "unchanged": result.unchanged},
        )
    return HttpResponseRedirect(back)
