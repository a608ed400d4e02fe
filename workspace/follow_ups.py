"""The rep's follow-ups on the pages: log a contact and plan the next one in one step,
plan a follow-up, mark one done, put one off, check in at a visit.

Every write is a POST that asks ``may(...)`` and goes through the customers' services
(one transaction, audited, version-checked).  Each answers an htmx request with the
piece of page it changed (the 360 page's follow-ups section, or the item on My day) and
a plain request with a redirect, so the pages work on a phone without scripts too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.access.registry import CREATE, UPDATE, may
from crm.core.errors import DomainError, VersionConflict
from crm.core.forms import CONFLICT, REFUSED, show_refusal
from crm.core.validation import parse_id
from customers import services
from customers.choices import ActivityKind
from customers.forms import LogForm, NextStepForm, PlanForm
from customers.models import Activity, Customer
from customers.selectors import activity_list

from .views import _customer, _render_section, _sections

#: Where a one-tap button was pressed: the answer is that piece of page again.
MY_DAY, SECTION = "my-day", "section"


def _back(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "#activities"


def _form_response(
    request: HttpRequest, customer: Customer, template: str, context: dict[str, Any], status: int
) -> HttpResponse:
    """A form, in place in the follow-ups section (htmx) or as a page of its own (a phone
    without scripts, a link opened in a new tab)."""
    context = {"customer": customer, **context}
    if not request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/follow_up_page.html", {**context, "template": template}, status=status)
    response = render(request, template, context, status=status)
    if request.method == "POST":  # a refused form goes back where it was
        response["HX-Retarget"] = "#activities-form"
        response["HX-Reswap"] = "innerHTML"
    return response


def _saved(request: HttpRequest, customer: Customer, message: str, **extra: Any) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, message)
        return HttpResponseRedirect(_back(customer))
    return _render_section(request, customer, _sections()["activities"], saved=True, message=message, **extra)


# ------------------------------------------------------------------ one-step log
@login_required
@require_http_methods(["GET", "POST"])
def log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call, visit, meeting or message with its outcome and the next follow-up, in
    one form: both parts are checked together and saved together."""
    customer = _customer(request, pk)
    if not may(request.user, CREATE, "activities"):
        raise Http404
    data = request.POST if request.method == "POST" else None
    kind = request.GET.get("kind") if request.GET.get("kind") in ActivityKind.values else ActivityKind.CALL
    form = LogForm(data, user=request.user, request=request, customer=customer, initial={"kind": kind})
    next_form = NextStepForm(data, user=request.user, request=request, kind=kind)
    status = 200
    if data is not None:
        skipped = next_form.skipped()
        valid = form.is_valid()
        valid = (skipped or next_form.is_valid()) and valid  # both parts' errors at once
        if valid:
            try:
                activity, follow_up = services.activity_log(
                    actor=request.user,
                    customer=customer,
                    data=form.writable_data(),
                    next_step=None if skipped else next_form.writable_data(),
                    check_in=form.check_in_data(),
                )
            except (DomainError, ValidationError) as error:
                _split_refusal(error, form, next_form)
                status = REFUSED
            else:
                return _saved(request, customer, _logged_message(activity, follow_up))
        else:
            status = REFUSED
    return _form_response(
        request, customer, "customers/partials/log_form.html", {"form": form, "next_form": next_form}, status
    )


def _split_refusal(error: DomainError | ValidationError, form: LogForm, next_form: NextStepForm) -> None:
    """Put each of the service's problems on the part it concerns (the next step's names
    start with ``next-``); a check-in's place is the check-in box's."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        problems: dict[str, list[str]] = error.message_dict
    elif isinstance(error, DomainError) and error.field_errors:
        problems = error.field_errors
    else:
        show_refusal(form, error)
        return
    for name, messages_ in problems.items():
        target: Any = form
        if name.startswith(services.NEXT):
            target, name = next_form, name.removeprefix(services.NEXT)
        elif name in ("latitude", "longitude", "location_accuracy", "checked_in_at") and "check_in" in form.fields:
            name = "check_in"
        for problem in messages_:
            target.add_error(name if name in target.fields else None, problem)


def _logged_message(activity: Activity, follow_up: Activity | None) -> str:
    parts = [_("Logged “%(subject)s”.") % {"subject": activity.subject}]
    if activity.checked_in_at and not activity.located:
        parts.append(_("Checked in; location not shared."))
    elif activity.checked_in_at:
        parts.append(_("Checked in here."))
    if follow_up is not None:
        due = date_format(timezone.localtime(follow_up.due_at), "SHORT_DATETIME_FORMAT")
        parts.append(_("Next follow-up due %(due)s.") % {"due": due})
    return " ".join(parts)


# ------------------------------------------------------------------ plan one
@login_required
@require_http_methods(["GET", "POST"])
def plan_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan a follow-up (the 360 header's button, and the offer after one is done)."""
    customer = _customer(request, pk)
    if not may(request.user, CREATE, "activities"):
        raise Http404
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {}
    source = request.GET.get("after")
    if (after := parse_id(source)) is not None:
        done = activity_list(user=request.user).filter(customer=customer, pk=after).first()
        if done is not None:  # the follow-up of a done one: the same kind, contact and subject
            initial = {"kind": done.kind, "contact": done.contact_id, "subject": done.subject}
    form = PlanForm(data, user=request.user, request=request, customer=customer, initial=initial)
    status = 200
    if data is not None:
        if form.is_valid():
            try:
                planned = services.activity_create(
                    actor=request.user, data={**form.writable_data(), "customer": customer}
                )
            except (DomainError, ValidationError) as error:
                show_refusal(form, error)
                status = REFUSED
            else:
                due = date_format(timezone.localtime(planned.due_at), "SHORT_DATETIME_FORMAT")
                return _saved(request, customer, _("Follow-up planned for %(due)s.") % {"due": due})
        else:
            status = REFUSED
    return _form_response(request, customer, "customers/partials/plan_form.html", {"form": form}, status)


# ------------------------------------------------------------------ one tap
def _follow_up(request: HttpRequest, pk: int) -> Activity:
    """A follow-up the user may see: another rep's is a 404."""
    return get_object_or_404(activity_list(user=request.user), pk=pk)


def _version(request: HttpRequest) -> int:
    """The version the button was shown with: a tap never changes a record blind."""
    value = request.POST.get("version", "")
    version = parse_id(value)
    if version is None:
        raise VersionConflict(message=_("This button does not say which version it changes; reload the page."))
    return version


def _tapped(
    request: HttpRequest, item: Activity, write: Callable[[], Activity], said: Callable[[Activity], str]
) -> HttpResponse:
    """Run a one-tap write and answer where the button was: the item on My day, the
    follow-ups section of the 360 page, or (no scripts) a redirect back."""
    place = request.POST.get("place", SECTION)
    error: str | None = None
    status = 200
    try:
        item = write()
        done_message = said(item)
    except VersionConflict as refusal:
        error, status = refusal.message, CONFLICT
        item = Activity.objects.select_related("customer", "contact").get(pk=item.pk)
    except DomainError as refusal:
        messages_ = [m for problems in refusal.field_errors.values() for m in problems]
        error, status = " ".join([refusal.message, *messages_]), REFUSED
    except ValidationError as refusal:
        error, status = " ".join(refusal.messages), REFUSED
    if error:
        done_message = ""
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done_message)
        if place == MY_DAY:
            return HttpResponseRedirect(reverse("customers:my-day"))
        return HttpResponseRedirect(_back(item.customer))
    if place == MY_DAY:
        context = {"item": item, "message": None if error else done_message, "error": error}
        return render(request, "customers/partials/follow_up_item.html", context, status=status)
    section = _sections()["activities"]
    extra = {"error": error} if error else {"saved": True, "message": done_message, "done_item": item}
    return _render_section(request, item.customer, section, status=status, **extra)


@login_required
@require_POST
def done_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a follow-up done with one tap; the answer offers to plan the next one."""
    if not may(request.user, UPDATE, "activities"):
        raise Http404
    item = _follow_up(request, pk)
    return _tapped(
        request,
        item,
        lambda: services.activity_complete(actor=request.user, instance=item, expected_version=_version(request)),
        lambda done: _("Done: %(subject)s.") % {"subject": done.subject},
    )


@login_required
@require_POST
def snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a follow-up off with one tap: +1 day, +3 days or to next Monday."""
    if not may(request.user, UPDATE, "activities"):
        raise Http404
    item = _follow_up(request, pk)

    def write() -> Activity:
        until = services.snooze_until(request.POST.get("option", ""), due_at=item.due_at)
        return services.activity_snooze(
            actor=request.user, instance=item, until=until, expected_version=_version(request)
        )

    def said(snoozed: Activity) -> str:
        due = date_format(timezone.localtime(snoozed.due_at), "SHORT_DATETIME_FORMAT")
        return _("Put off until %(due)s.") % {"due": due}

    return _tapped(request, item, write, said)


@login_required
@require_POST
def check_in_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Check in at a planned visit: now, and the place if the phone shared it."""
    if not may(request.user, UPDATE, "activities"):
        raise Http404
    item = _follow_up(request, pk)
    return _tapped(
        request,
        item,
        lambda: services.activity_check_in(
            actor=request.user,
            instance=item,
            expected_version=_version(request),
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
            accuracy=request.POST.get("accuracy") or None,
        ),
        lambda visit: _("Checked in here.") if visit.located else _("Checked in; location not shared."),
    )
