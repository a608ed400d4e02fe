"""The review pages of the duplicate finder: the pairs, most likely first, and one pair
side by side, every customer field as the field policy lets the viewer read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.display import HIDDEN, display_value
from crm.access.policy import Level, policy_for
from crm.access.registry import may
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, VersionConflict
from crm.core.pagination import CappedPaginator
from customers.models import Customer

from . import merging, selectors, services
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
    page = CappedPaginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"pair": pair, "reasons": [describe(reason) for reason in pair.reasons]} for pair in page]
    context = {"page": page, "rows": rows, "status": status, "statuses": CandidateStatus.choices}
    return render(request, "duplicates/list.html", context)


def _pair(request: HttpRequest, pk: int) -> DuplicateCandidate:
    """The pair, if the user may see both customers: any other is a 404."""
    return get_object_or_404(selectors.candidate_list(user=request.user), pk=pk)


def _side_by_side(request: HttpRequest, pair: DuplicateCandidate) -> list[dict[str, Any]]:
    """Every customer field with each side's value as the viewer may read it (a hidden
    field is left out; a masked one masked); ``differs`` marks the fields that differ,
    ``choosable`` those a merge lets the viewer choose (they may write the field), and
    ``side`` the one proposed: A's value, unless only B has one."""
    policy = policy_for(request.user, request)
    chosen = {field.name for field in merging.chosen_fields()}
    rows = []
    for field in Customer._meta.concrete_fields:
        if field.name in NOT_COMPARED:
            continue
        name = field.name
        first = display_value(policy, "customers", pair.customer_a, name)
        second = display_value(policy, "customers", pair.customer_b, name)
        if first is HIDDEN or second is HIDDEN:
            continue
        differs = getattr(pair.customer_a, field.attname) != getattr(pair.customer_b, field.attname)
        empty_a = getattr(pair.customer_a, field.attname) in (None, "", [])
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "a": first,
                "b": second,
                "differs": differs,
                "choosable": differs and name in chosen and policy.level("customers", name) >= Level.WRITE,
                "side": "b" if empty_a else "a",
            }
        )
    return rows


def _merge_summary(pair: DuplicateCandidate) -> dict[str, Any]:
    """What a merge that stands moved, per kind of record, from its audit event."""
    event = AuditEvent.objects.filter(pk=pair.merge_event_id or 0).first()
    if event is None:
        return {"moved": [], "event": None}
    moved = (event.changes.get("moved") or {}).get("after") or {}
    labels = []
    for label, ids in sorted(moved.items()):
        try:
            verbose = merging.child_model(label)._meta.verbose_name_plural
        except LookupError:
            verbose = label
        labels.append({"label": verbose, "count": len(ids)})
    return {"moved": labels, "event": event}


@login_required
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    context: dict[str, Any] = {"pair": pair, "reasons": [describe(reason) for reason in pair.reasons]}
    if pair.status == CandidateStatus.MERGED:
        deadline = merging.unmerge_deadline(pair)
        context.update(
            summary=_merge_summary(pair),
            unmerge_until=deadline,
            may_unmerge=bool(
                deadline and deadline >= timezone.now() and may(request.user, "unmerge", "duplicate-candidates")
            ),
        )
        return render(request, "duplicates/merged.html", context)
    if pair.customer_a is None or pair.customer_b is None:  # decided long ago, one side merged away since
        context["gone"] = True
        return render(request, "duplicates/merged.html", context)
    counts = selectors.side_counts(pair)
    open_pair = pair.status == CandidateStatus.OPEN
    context.update(
        rows=_side_by_side(request, pair),
        counts_a=counts[pair.customer_a.pk],
        counts_b=counts[pair.customer_b.pk],
        decides=_decides(request.user) and open_pair,
        merges=open_pair and may(request.user, "merge", "duplicate-candidates"),
        unmerge_days=settings.CRM_UNMERGE_DAYS,
    )
    return render(request, "duplicates/detail.html", context)


def _posted_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version") or "")
    except ValueError:
        return -1


def _decide(
    request: HttpRequest,
    pk: int,
    write: Callable[[DuplicateCandidate, int], DuplicateCandidate],
    done: Callable[[DuplicateCandidate], tuple[str, str]],
) -> HttpResponse:
    """A decision on a pair from its page, by someone the registry let decide: the pair
    in the user's scope, at the version shown.  A refusal goes back to the pair's page
    with its reasons; ``done`` gives the success message and where to go."""
    pair = _pair(request, pk)
    try:
        decided = write(pair, _posted_version(request))
    except VersionConflict:
        messages.error(request, _("This pair changed since the page was shown; look again."))
        return HttpResponseRedirect(reverse("duplicates:detail", args=[pair.pk]))
    except DomainError as error:
        problems = [error.message, *(f"{name}: {' '.join(texts)}" for name, texts in error.field_errors.items())]
        messages.error(request, " ".join(problems))
        return HttpResponseRedirect(reverse("duplicates:detail", args=[pair.pk]))
    message, url = done(decided)
    messages.success(request, message)
    return HttpResponseRedirect(url)


@login_required
@require_POST
def merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge the pair as chosen on its page: the customer kept and, per differing field,
    the side whose value it keeps."""
    keep = request.POST.get("keep", "")
    values = {key.removeprefix("value-"): str(value) for key, value in request.POST.items() if key.startswith("value-")}

    def done(merged: DuplicateCandidate) -> tuple[str, str]:
        message = _(
            "Merged: %(merged)s is now part of this customer. You can undo it for %(days)d days from the pair's page."
        ) % {"merged": merged.merged_repr, "days": settings.CRM_UNMERGE_DAYS}
        return message, reverse("customers:detail", args=[merged.survivor_id])

    if not may(request.user, "merge", "duplicate-candidates"):
        raise PermissionDenied
    return _decide(
        request,
        pk,
        lambda pair, version: merging.customer_merge(
            actor=request.user, candidate=pair, keep=keep, values=values, expected_version=version
        ),
        done,
    )


@login_required
@require_POST
def unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the pair's merge, within the window."""
    if not may(request.user, "unmerge", "duplicate-candidates"):
        raise PermissionDenied
    return _decide(
        request,
        pk,
        lambda pair, version: merging.customer_unmerge(actor=request.user, candidate=pair, expected_version=version),
        lambda pair: (
            _("Unmerged: both customers are back as they were, and the pair is open again."),
            reverse("duplicates:detail", args=[pair.pk]),
        ),
    )


@login_required
@require_POST
def not_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the pair is two companies."""
    if not may(request.user, "not_duplicate", "duplicate-candidates"):
        raise PermissionDenied
    return _decide(
        request,
        pk,
        lambda pair, version: services.candidate_not_duplicate(
            actor=request.user, candidate=pair, expected_version=version
        ),
        lambda pair: (
            _("Marked as not a duplicate; this pair will not be proposed again."),
            reverse("duplicates:list"),
        ),
    )
