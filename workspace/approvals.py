"""The approvals inbox: the change requests a manager (or an admin) may decide.

Oldest first; each row approves, or rejects with a reason; ticked rows are approved at
once (those that cannot be, such as stale ones, are reported and left pending).
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

from crm.access.changes import change_bulk_approve, change_reject, decidable_requests
from crm.access.registry import may
from crm.core.errors import DomainError
from crm.core.validation import parse_id

#: How many pending requests the inbox shows at once (the oldest).
PAGE_SIZE = 100


@login_required
@require_http_methods(["GET", "POST"])
def approvals_view(request: HttpRequest) -> HttpResponse:
    """List the pending requests the user may decide; approve, reject or bulk approve."""
    if not may(request.user, "approve", "change-requests"):
        raise PermissionDenied
    pending = decidable_requests(request.user)
    if request.method == "POST":
        act = request.POST.get("act", "")
        if act == "reject":
            if not may(request.user, "reject", "change-requests"):
                raise PermissionDenied
            change = get_object_or_404(pending, pk=request.POST.get("id") or 0)
            try:
                change_reject(actor=request.user, request=change, reason=request.POST.get("reason", ""))
                messages.success(request, _("Rejected; the requester is told why."))
            except DomainError as error:
                messages.error(request, "; ".join([error.message, *sum(error.field_errors.values(), [])]))
        else:
            ids = [pk for pk in (parse_id(v) for v in request.POST.getlist("ids")) if pk is not None]
            approved, failed = change_bulk_approve(actor=request.user, ids=ids)
            if approved:
                messages.success(request, _("Approved: %(count)d.") % {"count": len(approved)})
            for pk, message in failed.items():
                messages.error(request, f"#{pk}: {message}")
        return HttpResponseRedirect(reverse("customers:approvals"))
    rows = list(pending[:PAGE_SIZE])
    return render(request, "customers/approvals.html", {"rows": rows})
