"""Payments on the customer 360 page: a manager reverses a payment that did not happen
after all (bounced, booked on the wrong order).

Recording a payment or a refund is the payments section's own form; reversing is a
business verb of its own (``payments`` → ``reverse`` in the registry: managers and
admins by default), a POST with its reason that goes through
``transactions.services.payment_reverse`` (one transaction, audited; the order's
figures and status follow).  The answer is the payments section again (htmx) or a
redirect back to it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.registry import may
from crm.core.errors import DomainError
from crm.core.forms import REFUSED
from transactions import services
from transactions.selectors import payment_list

from .views import _customer, _render_section, _sections

#: The registry's verb for undoing a payment.
REVERSE = "reverse"


@login_required
@require_POST
def payment_reverse_view(request: HttpRequest, pk: int, row: int) -> HttpResponse:
    """Reverse one payment of the customer, with the reason typed beside the button."""
    customer = _customer(request, pk)
    if not may(request.user, REVERSE, "payments"):
        raise Http404
    payment = get_object_or_404(payment_list(user=request.user).filter(customer=customer), pk=row)
    reason = (request.POST.get("reason") or "").strip()[:200]
    error, status = "", 200
    try:
        services.payment_reverse(actor=request.user, instance=payment, reason=reason)
    except DomainError as refusal:
        problems = [message for messages_ in refusal.field_errors.values() for message in messages_]
        error, status = " ".join([refusal.message, *problems]), REFUSED
    done = _("Payment reversed: the order is owed %(amount)s again.") % {"amount": payment.amount}
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + "#payments")
    extra = {"error": error} if error else {"saved": True, "message": done}
    return _render_section(request, customer, _sections()["payments"], status=status, **extra)
