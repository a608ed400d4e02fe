"""Merging duplicate contacts from the customer 360 page.

``/customers/<id>/contacts/merge/`` lists the customer's pairs of contacts that look
like one person (``customers.contact_duplicates``); with ``?a=<id>&b=<id>`` it shows the
two side by side, a choice per differing field the user may write, which of the two is
kept, and the Merge button with both versions.  Merging and unmerging go through
``customers.merging`` (one transaction, one audit event each); after a merge the page
says so and offers Unmerge for ``CRM_UNMERGE_DAYS`` days.  The registry's ``merge`` and
``unmerge`` on contacts decide who may.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.access.display import display_value
from crm.access.policy import Level, policy_for
from crm.access.registry import may
from crm.audit.choices import Action
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, VersionConflict
from crm.core.forms import CONFLICT, REFUSED
from customers import merging
from customers.contact_duplicates import contact_duplicates
from customers.models import Contact, Customer
from customers.selectors import contact_list

from .views import _customer


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pair(request: HttpRequest, customer: Customer) -> tuple[Contact, Contact] | None:
    """The two contacts named by ``a`` and ``b``, both the customer's and seen by the user."""
    a, b = _int(request.GET.get("a")), _int(request.GET.get("b"))
    if a is None or b is None:
        return None
    found = {c.pk: c for c in contact_list(user=request.user).filter(customer=customer, pk__in=[a, b])}
    if a == b or len(found) < 2:
        raise Http404
    return found[a], found[b]


def _rows(request: HttpRequest, a: Contact, b: Contact) -> list[dict[str, Any]]:
    """Each field the user may see, both values as the user may see them, and whether
    they may choose between them (they differ and the user may write the field)."""
    policy = policy_for(request.user, request)
    rows = []
    for name in merging.mergeable_fields():
        level = policy.level("contacts", name)
        if level == Level.HIDDEN:
            continue
        differs = getattr(a, name) != getattr(b, name)
        rows.append(
            {
                "name": name,
                "label": merging.field_label(name),
                "a": display_value(policy, "contacts", a, name),
                "b": display_value(policy, "contacts", b, name),
                "differs": differs,
                "choose": differs and level >= Level.WRITE,
            }
        )
    return rows


def _merge_of(request: HttpRequest, customer: Customer, event_id: int | None) -> tuple[AuditEvent, Contact]:
    """A merge of the customer's contacts (its audit event) and the contact it kept, if
    the user sees it; else a 404."""
    event = AuditEvent.objects.filter(
        pk=event_id or 0, action=Action.MERGE, resource=Contact._meta.label_lower, customer_id=customer.pk
    ).first()
    kept = contact_list(user=request.user).filter(pk=_int(event.object_id) or 0).first() if event else None
    if event is None or kept is None:
        raise Http404
    return event, kept


def _merged_context(request: HttpRequest, customer: Customer) -> dict[str, Any] | None:
    """After a merge: the event, the contact kept and whether Unmerge is still offered."""
    event_id = _int(request.GET.get("merged"))
    if event_id is None:
        return None
    event, kept = _merge_of(request, customer, event_id)
    open_ = timezone.now() <= merging.unmerge_deadline(event) and not merging.unmerged(event)
    return {
        "event": event,
        "kept": kept,
        "deadline": merging.unmerge_deadline(event),
        "can_unmerge": open_ and may(request.user, merging.UNMERGE, "contacts"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def contact_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's possible duplicate contacts; two of them side by side; the merge."""
    customer = _customer(request, pk)
    pair = _pair(request, customer)
    context: dict[str, Any] = {"customer": customer, "can_merge": may(request.user, merging.MERGE, "contacts")}
    status = 200
    if request.method == "POST":
        if pair is None:
            raise Http404
        if not context["can_merge"]:
            raise Http404
        a, b = pair
        survivor, duplicate = (b, a) if request.POST.get("keep") == "b" else (a, b)
        kept_side = "b" if survivor is b else "a"
        values = {
            row["name"]: ("survivor" if request.POST.get(row["name"], kept_side) == kept_side else "duplicate")
            for row in _rows(request, a, b)
            if row["choose"]
        }
        versions = {
            survivor.pk: _int(request.POST.get("survivor_version")),
            duplicate.pk: _int(request.POST.get("duplicate_version")),
        }
        if None in versions.values():
            versions = {survivor.pk: -1, duplicate.pk: -1}  # a form without versions is stale
        try:
            merged, event = merging.contact_merge(
                actor=request.user,
                survivor=survivor,
                duplicate=duplicate,
                values=values,  # type: ignore[arg-type]
                expected_versions=versions,
            )
        except VersionConflict:
            context["error"] = _("One of the two contacts was changed meanwhile; check them and merge again.")
            status = CONFLICT
        except DomainError as refusal:
            problems = [message for found in refusal.field_errors.values() for message in found]
            context["error"] = " ".join([refusal.message, *problems])
            status = REFUSED
        else:
            messages.success(request, _("Merged: %(name)s is one contact now.") % {"name": merged.name})
            target = reverse("customers:contact-merge", args=[customer.pk])
            return HttpResponseRedirect(f"{target}?merged={event.pk}")
        pair = (
            contact_list(user=request.user).filter(pk=a.pk).first() or a,
            contact_list(user=request.user).filter(pk=b.pk).first() or b,
        )
    if pair is not None:
        a, b = pair
        context.update({"a": a, "b": b, "rows": _rows(request, a, b)})
    else:
        context["merged"] = _merged_context(request, customer)
        policy = policy_for(request.user, request)
        context["pairs"] = [
            {
                "first": pair.first.pk,
                "second": pair.second.pk,
                "a": display_value(policy, "contacts", pair.first, "name"),
                "b": display_value(policy, "contacts", pair.second, "name"),
                "why": pair.descriptions,
            }
            for pair in contact_duplicates(user=request.user, customer=customer, request=request)
        ]
    return render(request, "customers/contact_merge.html", context, status=status)


@login_required
@require_POST
def contact_unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a merge of two of the customer's contacts (the merge's audit event and the
    kept contact's version the page showed); back to the 360 page's contacts."""
    customer = _customer(request, pk)
    if not may(request.user, merging.UNMERGE, "contacts"):
        raise Http404
    event, kept = _merge_of(request, customer, _int(request.POST.get("event")))
    try:
        back = merging.contact_unmerge(
            actor=request.user,
            survivor=kept,
            event_id=event.pk,
            expected_version=_int(request.POST.get("version")) or -1,
        )
    except VersionConflict:
        messages.error(request, _("The kept contact was changed meanwhile; reload the page and try again."))
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Unmerged: %(name)s is a contact of its own again.") % {"name": back.name})
    return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + "#contacts")
