"""Inviting customers to a campaign from a filtered list: the customer list's own filters
and search (``customer_search``), a preview of what the invitation would do, and one
set-based invitation of every match (``campaigns.services.participation_invite``).

It lives here, not in the campaigns app, because it filters customers exactly as the
customer list does, and that search is the workspace's.  A manager's act: the registry's
``invite`` action on campaigns.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from campaigns.selectors import campaign_list
from campaigns.services import CLOSED, invite_preview, participation_invite
from crm.access.display import table
from crm.access.policy import policy_for
from crm.access.registry import may
from crm.core.errors import DomainError
from customers.forms import CustomerFilterForm
from customers.models import Customer

from .selectors import CustomerFilters, customer_search
from .views import _filters

#: Matching customers shown before inviting them all.
SAMPLE = 20
SAMPLE_FIELDS = ("code", "name", "lifecycle_stage", "industry", "city", "owner")


@login_required
@require_http_methods(["GET", "POST"])
def campaign_invite_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the filters, how many customers match and what inviting them would do (how
    many would be invited, already take part, have no contact who consents to marketing).
    POST (same filters in the query string): invite them all."""
    campaign = get_object_or_404(campaign_list(user=request.user), pk=pk)
    if not may(request.user, "invite", "campaigns"):
        raise PermissionDenied
    back = reverse("campaigns:detail", args=[campaign.pk])
    policy = policy_for(request.user, request)
    form = CustomerFilterForm(request.GET or None, user=request.user, policy=policy)
    valid = not form.is_bound or form.is_valid()
    filters = _filters(form) if form.is_bound and valid else CustomerFilters()
    customers = customer_search(user=request.user, policy=policy, filters=filters)
    if request.method == "POST" and valid:
        try:
            result = participation_invite(actor=request.user, campaign=campaign, customers=customers)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _(
                    "Invited %(invited)d customers; %(already)d already take part; %(no_consent)d skipped: "
                    "none of their contacts consents to marketing."
                )
                % {"invited": result.invited, "already": result.already, "no_consent": result.no_consent},
            )
        return HttpResponseRedirect(back)
    preview = invite_preview(actor=request.user, customers=customers, campaign=campaign)
    sample = list(customers.select_related("owner")[:SAMPLE])
    sample_table = table(policy, "customers", Customer, sample, SAMPLE_FIELDS)
    headings = [label for _name, label in sample_table["columns"]]
    context = {
        "campaign": campaign,
        "form": form,
        "preview": preview,
        "closed": campaign.status in CLOSED,
        "query": request.GET.urlencode(),
        "sample_table": sample_table,
        "sample_rows": [(row, list(zip(headings, row["cells"], strict=True))) for row in sample_table["rows"]],
    }
    return render(request, "customers/campaign_invite.html", context, status=200 if valid else 400)
