"""The review pages of the duplicate finder: the pairs, most likely first, and one pair
side by side, every customer field as the field policy lets the viewer read it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.display import HIDDEN, display_value
from crm.access.policy import policy_for
from crm.access.registry import may
from crm.core.errors import DomainError, VersionConflict
from customers.models import Customer

from . import selectors, services
from .choices import CandidateStatus
from .models import DuplicateCandidate
from .reasons import describe

#: The customer's fields not shown side by side: bookkeeping, not the company's facts.
NOT_COMPARED = frozenset({"id", "created_at", "updated_at", "version"})
PAGE_SIZE = 50


def _decides(user: Any) -> bool:
    return may(user, "not_duplicate", "duplicate-candidates")


@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    """The open pairs the user may see (both customers), most likely first."""
    status = request.GET.get("status") or CandidateStatus.OPEN
    if status not in CandidateStatus.values:
        status = CandidateStatus.OPEN
    pairs = selectors.candidate_list(user=request.user).filter(status=status)
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"pair": pair, "reasons": [describe(reason) for reason in pair.reasons]} for pair in page]
    context = {"page": page, "rows": rows, "status": status, "statuses": CandidateStatus.choices}
    return render(request, "duplicates/list.html", context)


def _pair(request: HttpRequest, pk: int) -> DuplicateCandidate:
    """The pair, if the user may see both customers: any other is a 404."""
    return get_object_or_404(selectors.candidate_list(user=request.user), pk=pk)


def _side_by_side(request: HttpRequest, pair: DuplicateCandidate) -> list[dict[str, Any]]:
    """Every customer field with each side's value as the viewer may read it (a hidden
    field is left out; a masked one masked); ``differs`` marks the fields that differ."""
    policy = policy_for(request.user, request)
    rows = []
    for field in Customer._meta.concrete_fields:
        if field.name in NOT_COMPARED:
            continue
        name = field.name
        first = display_value(policy, "customers", pair.customer_a, name)
        second = display_value(policy, "customers", pair.customer_b, name)
        if first is HIDDEN or second is HIDDEN:
            continue
        rows.append({"label": field.verbose_name, "a": first, "b": second, "differs": str(first) != str(second)})
    return rows


@login_required
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    counts = selectors.side_counts(pair)
    context = {
        "pair": pair,
        "reasons": [describe(reason) for reason in pair.reasons],
        "rows": _side_by_side(request, pair),
        "counts_a": counts[pair.customer_a_id],
        "counts_b": counts[pair.customer_b_id],
        "decides": _decides(request.user) and pair.status == CandidateStatus.OPEN,
    }
    return render(request, "duplicates/detail.html", context)


@login_required
@require_POST
def not_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the pair is two companies (managers and admins)."""
    if not may(request.user, "not_duplicate", "duplicate-candidates"):
        raise PermissionDenied
    pair = _pair(request, pk)
    try:
        version = int(request.POST.get("version") or "")
    except ValueError:
        version = -1
    try:
        services.candidate_not_duplicate(actor=request.user, candidate=pair, expected_version=version)
    except VersionConflict:
        messages.error(request, _("This pair changed since the page was shown; look again."))
        return HttpResponseRedirect(reverse("duplicates:detail", args=[pair.pk]))
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("duplicates:detail", args=[pair.pk]))
    messages.success(request, _("Marked as not a duplicate; this pair will not be proposed again."))
    return HttpResponseRedirect(reverse("duplicates:list"))
