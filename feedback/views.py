"""Work queues: the feedback to answer and the service records to follow up.

Each row is worked where it stands (htmx swaps the row in place): take it or hand it to
someone, move its status, answer it (feedback) or note the follow-up and its result
(service).  Selected rows are assigned or moved together.  Every act goes through the
feedback services (scope, version, audit); a refused act comes back as the row with its
errors (422, or 409 when the row changed meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access.display import HIDDEN, display_value
from crm.access.policy import Level, UserPolicy, policy_for
from crm.access.registry import UPDATE, may
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.accounts.selectors import people_picker
from crm.core.errors import DomainError
from crm.core.forms import submit
from crm.core.pages import Addresses
from crm.core.pagination import CappedPaginator
from crm.core.statements import without_parallel_workers
from crm.core.validation import parse_id

from . import selectors, services
from .choices import FEEDBACK_MOVES, FeedbackKind, FeedbackStatus, ServiceResult, ServiceType
from .forms import (
    FeedbackAssignForm,
    FeedbackRespondForm,
    FeedbackStatusForm,
    ServiceAssignForm,
    ServiceFollowUpForm,
)
from .models import Feedback, ServiceRecord
from .selectors import QueueFilters

PER_PAGE = 50
SORTS = [("", gettext_lazy("Longest waiting first when open")), ("oldest", gettext_lazy("Oldest first")),
         ("newest", gettext_lazy("Newest first"))]  # fmt: skip
#: What selected feedback may be moved to (nothing moves back to new).
BULK_STATUSES = [(value, label) for value, label in FeedbackStatus.choices if value != FeedbackStatus.NEW]
SERVICE_FILTERED = ("result", "service_type", "staff", "service_date")
FEEDBACK_SHOWN = ("customer", "kind", "channel", "subject", "content", "received_at", "status", "handler", "response")
SERVICE_SHOWN = ("customer", "service_date", "service_type", "staff", "staff_name", "content", "result", "follow_up",
                 "due_date", "customer_comment")  # fmt: skip


# ----------------------------------------------------------------------- shared
def _shown(policy: UserPolicy, resource: str, obj: Model, names: tuple[str, ...]) -> dict[str, Any]:
    """The record's fields as the viewer may see them: a hidden one is None."""
    values = {name: display_value(policy, resource, obj, name) for name in names}
    return {name: (None if value is HIDDEN else value) for name, value in values.items()}


def duration_text(seconds: float) -> str:
    """A response time as people say it: minutes, hours and minutes, or days and hours."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def _sort(params: QueryDict) -> str:
    """``oldest`` or ``newest`` first, if asked (else the queue's default for the status)."""
    sort = params.get("sort") or ""
    return sort if sort in ("oldest", "newest") else ""


def _last_line(text: Any) -> str:
    """The latest of dated notes written one a line (a masked value is one line)."""
    lines = str(text or "").strip().splitlines()
    return lines[-1] if lines else ""


def _reads(policy: UserPolicy, resource: str, *names: str) -> bool:
    return all(policy.level(resource, name) >= Level.READ for name in names)


def _writes(policy: UserPolicy, resource: str, name: str) -> bool:
    return policy.level(resource, name) == Level.WRITE


def _filters(
    policy: UserPolicy, resource: str, params: QueryDict, fields: dict[str, str], default_status: str = "open"
) -> QueueFilters:
    """The filters a page was asked for, each only if the viewer may read the field it
    filters on (no probing a hidden field by filtering on it)."""
    handler = (params.get("handler") or "").strip()
    if handler not in ("mine", "none") and parse_id(handler) is None:
        handler = ""
    if name := (params.get("handler_name") or "").strip()[:150]:
        # A typed user name (a picker of many people): its holder, or nobody's id (0).
        handler = str(User.objects.filter(username=name).values_list("pk", flat=True).first() or 0)
    kind = params.get("kind") or ""
    return QueueFilters(
        status=params.get("status", default_status) if _reads(policy, resource, fields["status"]) else "",
        kind=kind if _reads(policy, resource, fields["kind"]) else "",
        handler=handler if _reads(policy, resource, fields["handler"]) else "",
        overdue=params.get("overdue") == "1" and _reads(policy, resource, fields["status"], fields["received"]),
        search=(params.get("q") or "").strip()[:100],
    )


def _searchable(policy: UserPolicy, resource: str, own: tuple[str, ...]) -> tuple[str, ...]:
    """The text a queue's search looks in: the customer's name and the record's own
    fields, those the viewer may read in clear."""
    paths = [name for name in own if policy.level(resource, name) >= Level.READ]
    if policy.level("customers", "name") >= Level.READ and policy.level(resource, "customer") >= Level.READ:
        paths.insert(0, "customer__name")
    return tuple(paths)


def _candidates(obj: Any, admins: list[User]) -> list[tuple[int, str]]:
    """Whom a row may be handed to: its customer's owner, the team's manager and the
    administrators, all of whom see the customer."""
    customer = obj.customer
    people = [customer.owner, customer.team.manager if customer.team_id else None, *admins]
    seen: set[int] = set()
    found = []
    for person in people:
        if person is not None and person.pk not in seen and person.is_active:
            seen.add(person.pk)
            found.append((person.pk, str(person)))
    return found


def _bulk_people(user: Any) -> QuerySet[User]:
    """Whom a manager may hand selected rows to: the members of the teams they manage
    and themselves (an admin: any active rep or manager).  Each must see every selected
    customer, which the service checks."""
    people = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    if not getattr(user, "is_admin", False):
        people = people.filter(Q(team__manager=user) | Q(pk=user.pk))
    return people.order_by("username")


def _back(name: str, params: str) -> str:
    """The queue's address with the filters the user was on (a query string, nothing else)."""
    return reverse(name) + (f"?{params.lstrip('?')}" if params else "")


def _row_response(
    request: HttpRequest,
    template: str,
    item: dict[str, Any],
    status: int,
    back: str,
    counting: dict[str, Any] | None = None,
) -> HttpResponse:
    """The row alone for htmx (after a save, with the status counts of the queue's filters
    swapped in out of band); without htmx, back to the queue when saved, else a page
    holding the refused row."""
    if request.htmx:  # type: ignore[attr-defined]
        html = render_to_string(template, {"item": item}, request)
        if counting and counting["counts"]:
            html += render_to_string("feedback/partials/counts.html", {**counting, "oob": True}, request)
        return HttpResponse(html, status=status)
    if status == 200:
        return HttpResponseRedirect(back)
    context = {"item": item, "back": back, "row_template": template}
    return render(request, "feedback/queue_item.html", context, status=status)


class _RowAddresses:
    """Where a queue row links: its customer, and each act on its record (``act=view
    name``), each address reversed once per page (``crm.core.pages.Addresses``)."""

    def __init__(self, **acts: str) -> None:
        self.customer = Addresses("customers:detail")
        self.acts = {act: Addresses(name) for act, name in acts.items()}

    def of(self, obj: Any) -> dict[str, str]:
        return {"customer": self.customer(obj.customer_id), **{act: at(obj.pk) for act, at in self.acts.items()}}


def _act(form: Any, fields: tuple[str, ...], save: Callable[[], Any]) -> tuple[Any, int]:
    """Validate and save one act; an act on fields the viewer may not write is a 403."""
    if not any(form.levels.get(field) == Level.WRITE for field in fields):
        raise PermissionDenied
    return submit(form, save)


# --------------------------------------------------------------------- feedback


def _feedback_row_words() -> dict[str, str]:
    """The words every row shows, translated once per page instead of once per row."""
    return {
        "actions": _("Actions"),
        "assign": _("Assign"),
        "change": _("Change"),
        "customer": _("Customer"),
        "handler": _("Handler"),
        "new_status": _("New status"),
        "nobody": _("Nobody"),
        "overdue": _("Overdue"),
        "received": _("Received"),
        "resolved_with_this_response": _("Resolved with this response"),
        "response": _("Response"),
        "response_time": _("Response time"),
        "response_to_the_customer": _("Response to the customer"),
        "save_the_response": _("Save the response"),
        "select": _("Select"),
        "status": _("Status"),
        "subject": _("Subject"),
        "take_it": _("Take it"),
        "current_version": _("The row now shows the current version."),
        "what_the_customer_said": _("What the customer said"),
        "work": _("Work"),
    }


class _FeedbackRows:
    """What every feedback row of one request shares: read once, not per row.  ``query``:
    the queue's filters, for going back to them after an act without htmx."""

    def __init__(self, request: HttpRequest, query: str = "") -> None:
        self.query = query
        self.user = request.user
        self.policy = policy_for(request.user, request)
        self.now = timezone.now()
        self.may_update = may(request.user, UPDATE, "feedback")
        self.may_assign = self.may_update and may(request.user, "assign", "feedback")
        self.admins = selectors.assignable_people() if self.may_assign else []
        self.writes = {
            name: self.may_update and _writes(self.policy, "feedback", name)
            for name in ("handler", "status", "response")
        }
        self.addresses = _RowAddresses(
            assign="feedback:feedback-assign", respond="feedback:feedback-respond", status="feedback:feedback-status"
        )
        self.words = _feedback_row_words()

    def item(self, obj: Feedback, *, form: Any = None, panel: str = "", saved: str = "") -> dict[str, Any]:
        shown = _shown(self.policy, "feedback", obj, FEEDBACK_SHOWN)
        wait = selectors.feedback_wait(obj, self.now) if _reads(self.policy, "feedback", "received_at") else None
        return {
            "obj": obj,
            "shown": shown,
            "t": self.words,
            "urls": self.addresses.of(obj),
            "status_code": obj.status if shown["status"] is not None else "",
            "wait": wait,
            "wait_text": duration_text(wait.seconds) if wait else "",
            "next": self.query,
            "mine": obj.handler_id == self.user.pk,
            "take": self.writes["handler"] and obj.handler_id != self.user.pk,
            "assign": self.writes["handler"] and self.may_assign,
            "candidates": _candidates(obj, self.admins) if self.writes["handler"] and self.may_assign else [],
            "moves": [(value, FeedbackStatus(value).label) for value in FEEDBACK_MOVES[obj.status]]
            if self.writes["status"]
            else [],
            "respond": self.writes["response"],
            "form": form,
            "panel": panel,
            "conflict": bool(form is not None and getattr(form, "conflict", False)),
            "saved": saved,
        }


def _feedback_narrowed(request: HttpRequest, params: QueryDict) -> tuple[QuerySet[Feedback], dict[str, Any]]:
    """The feedback the filters of ``params`` leave (but the status), and the counts per
    status over it with what the status tabs need."""
    policy = policy_for(request.user, request)
    fields = {"status": "status", "kind": "kind", "handler": "handler", "received": "received_at"}
    filters = _filters(policy, "feedback", params, fields)
    narrowed = selectors.feedback_queue(
        user=request.user, filters=filters, searchable=_searchable(policy, "feedback", ("subject", "content"))
    )
    counted = selectors.feedback_counts(rows=narrowed) if _reads(policy, "feedback", "status") else {}
    counts = selectors.tab_counts(counted)
    kept = params.copy()
    kept.pop("page", None)
    return narrowed, {
        "filters": filters,
        "counts": counts,
        "counted": counted,
        "tabs": [
            ("open", _("Open"), counts.get("open")),
            *((value, label, counts.get(value)) for value, label in FeedbackStatus.choices),
            ("", _("All"), counts.get("all")),
        ],
        "query": kept.urlencode(),
        "filter_query": _without(kept, "status"),
    }


@without_parallel_workers
def _feedback_page(request: HttpRequest, params: QueryDict, *, status: int = 200, bulk_error: str = "") -> HttpResponse:
    user = request.user
    policy = policy_for(user, request)
    narrowed, counting = _feedback_narrowed(request, params)
    tab = counting["filters"].status
    rows = selectors.feedback_by_status(rows=narrowed, status=tab, sort=_sort(params))
    known = selectors.feedback_status_count(counting["counted"], tab)
    page = CappedPaginator(rows, PER_PAGE).counted(*known).get_page(params.get("page"))
    shared = _FeedbackRows(request, counting["query"])
    context = {
        **counting,
        "page": page,
        "items": [shared.item(obj) for obj in page.object_list],
        "kinds": FeedbackKind.choices,
        "handlers": people_picker(selectors.handlers_in(rows=narrowed, field="handler", user=user)),
        "handler_name": (params.get("handler_name") or "").strip()[:150],
        "shows": {name: _reads(policy, "feedback", name) for name in ("status", "kind", "handler", "received_at")},
        "bulk_statuses": BULK_STATUSES if shared.writes["status"] else [],
        "bulk_people": people_picker(_bulk_people(user)) if shared.may_assign else None,
        "bulk_take": shared.writes["handler"],
        "bulk_error": bulk_error,
        "deadline_hours": selectors.feedback_response_deadline().total_seconds() / 3600,
        "sort": _sort(params),
        "sorts": SORTS,
    }
    return render(request, "feedback/queue.html", context, status=status)


def _without(params: QueryDict, name: str) -> str:
    kept = params.copy()
    kept.pop(name, None)
    return kept.urlencode()


@login_required
def feedback_queue_view(request: HttpRequest) -> HttpResponse:
    """Feedback to handle, what waits longest first; with the counts per status, the
    response time of each and the acts that work it."""
    return _feedback_page(request, request.GET)


def _feedback(request: HttpRequest, pk: int) -> Feedback:
    """The feedback, if the user may see its customer: another's is a 404."""
    rows = selectors.feedback_list(user=request.user).select_related("customer__owner", "customer__team__manager")
    return get_object_or_404(rows, pk=pk)


def _feedback_act(
    request: HttpRequest,
    pk: int,
    form_class: type,
    field: str,
    panel: str,
    save: Callable[[Feedback, Any], Feedback],
    done: Callable[[Feedback], str],
) -> HttpResponse:
    if not may(request.user, UPDATE, "feedback"):
        raise PermissionDenied
    obj = _feedback(request, pk)
    form = form_class(request.POST, instance=obj, user=request.user, request=request)
    saved, status = _act(form, (field,), lambda: save(obj, form))
    shared = _FeedbackRows(request, request.POST.get("next", ""))
    back = _back("feedback:queue", shared.query)
    if saved is None:
        form.conflict = status == 409
        fresh = _feedback(request, pk) if status == 409 else obj
        item = shared.item(fresh, form=form, panel=panel)
    else:
        if not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, done(saved))
        item = shared.item(_feedback(request, pk), saved=done(saved))
    counting = _feedback_narrowed(request, QueryDict(shared.query))[1] if saved and request.htmx else None  # type: ignore[attr-defined]
    return _row_response(request, "feedback/partials/feedback_row.html", item, status, back, counting)


@login_required
@require_POST
def feedback_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the feedback, or (a manager) hand it to someone who sees its customer."""
    if not may(request.user, UPDATE, "feedback"):
        raise PermissionDenied
    return _feedback_act(
        request, pk, FeedbackAssignForm, "handler", "assign",
        lambda obj, form: services.feedback_assign(
            actor=request.user, instance=obj, handler=form.cleaned_data.get("handler"),
            expected_version=form.expected_version(),
        ),
        lambda saved: _("Now handled by %(user)s.") % {"user": saved.handler} if saved.handler else _("Unassigned."),
    )  # fmt: skip


@login_required
@require_POST
def feedback_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the feedback to a status its workflow allows."""
    if not may(request.user, UPDATE, "feedback"):
        raise PermissionDenied
    return _feedback_act(
        request, pk, FeedbackStatusForm, "status", "status",
        lambda obj, form: services.feedback_status_change(
            actor=request.user, instance=obj, status=form.cleaned_data["status"],
            expected_version=form.expected_version(),
        ),
        lambda saved: _("The feedback is %(status)s.") % {"status": saved.get_status_display()},
    )  # fmt: skip


@login_required
@require_POST
def feedback_respond_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the response given to the customer (and resolve it, if asked)."""
    if not may(request.user, UPDATE, "feedback"):
        raise PermissionDenied
    return _feedback_act(
        request, pk, FeedbackRespondForm, "response", "respond",
        lambda obj, form: services.feedback_respond(
            actor=request.user, instance=obj, response=form.cleaned_data["response"],
            resolve=bool(form.cleaned_data.get("resolve")), expected_version=form.expected_version(),
        ),
        lambda saved: _("Response saved; the feedback is %(status)s.") % {"status": saved.get_status_display()},
    )  # fmt: skip


def _ids(request: HttpRequest) -> list[int]:
    return [pk for pk in (parse_id(value) for value in request.POST.getlist("ids")) if pk is not None]


def _person(request: HttpRequest, value: str) -> Any:
    """The person a bulk assign names: a typed user name (``person_name``) if one is
    given, else ``me``, ``none`` (nobody) or a user id."""
    name = request.POST.get("person_name", "").strip()
    if name:
        person = _bulk_people(request.user).filter(username=name).first()
        if person is None:
            raise DomainError(_("No such user among those you may choose."))
        return person
    if value == "me":
        return request.user
    if value == "none":
        return None
    pk = parse_id(value)
    person = User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if person is None:
        raise DomainError(_("Choose whom to give the selected rows to."))
    return person


def _bulk(
    request: HttpRequest,
    resource: str,
    field: str,
    status_field: str,
    assign: Callable[..., int],
    move: Callable[..., tuple[int, int]],
) -> str:
    """Run the bulk act the form asks for and say what it did; raises DomainError."""
    policy = policy_for(request.user, request)
    ids = _ids(request)
    if request.POST.get("act") == "assign":
        if not _writes(policy, resource, field):
            raise PermissionDenied
        changed = assign(actor=request.user, ids=ids, person=_person(request, request.POST.get("person", "")))
        return _("%(count)d rows assigned.") % {"count": changed}
    if request.POST.get("act") == "status":
        if not _writes(policy, resource, status_field):
            raise PermissionDenied
        changed, skipped = move(actor=request.user, ids=ids, status=request.POST.get("status", ""))
        if skipped:
            return _("%(count)d rows changed; %(skipped)d could not move to that status.") % {
                "count": changed,
                "skipped": skipped,
            }
        return _("%(count)d rows changed.") % {"count": changed}
    raise DomainError(_("Choose what to do with the selected rows."))


@login_required
@require_POST
def feedback_bulk_view(request: HttpRequest) -> HttpResponse:
    """Assign or move the selected feedback; back to the queue as it was."""
    if not may(request.user, UPDATE, "feedback"):
        raise PermissionDenied
    query = request.POST.get("next", "")
    try:
        done = _bulk(
            request, "feedback", "handler", "status",
            lambda actor, ids, person: services.feedback_bulk_assign(actor=actor, ids=ids, handler=person),
            lambda actor, ids, status: services.feedback_bulk_status(actor=actor, ids=ids, status=status),
        )  # fmt: skip
    except DomainError as error:
        return _feedback_page(request, QueryDict(query), status=422, bulk_error=_refusal(error))
    messages.success(request, done)
    return HttpResponseRedirect(_back("feedback:queue", query))


def _refusal(error: DomainError) -> str:
    problems = [str(p) for problems in error.field_errors.values() for p in problems]
    return " ".join([error.message, *problems]) if problems else error.message


# ---------------------------------------------------------------------- service


def _service_row_words() -> dict[str, str]:
    """The words every row shows, translated once per page instead of once per row."""
    return {
        "actions": _("Actions"),
        "assign": _("Assign"),
        "customer": _("Customer"),
        "customer_comment": _("Customer comment"),
        "follow_up": _("Follow-up"),
        "follow_up_by": _("Follow up by"),
        "follow_up_notes": _("Follow-up notes"),
        "follow_up_time": _("Follow-up time"),
        "nobody": _("Nobody"),
        "overdue": _("Overdue"),
        "resolved_at_the_visit": _("Resolved at the visit"),
        "result": _("Result"),
        "save_the_follow_up": _("Save the follow-up"),
        "select": _("Select"),
        "service": _("Service"),
        "service_date": _("Service date"),
        "staff": _("Staff"),
        "take_it": _("Take it"),
        "current_version": _("The row now shows the current version."),
        "what_was_done": _("What was done"),
        "work": _("Work"),
    }


class _ServiceRows:
    """What every service row of one request shares: read once, not per row."""

    def __init__(self, request: HttpRequest, query: str = "") -> None:
        self.query = query
        self.user = request.user
        self.policy = policy_for(request.user, request)
        self.today = timezone.localdate()
        self.may_update = may(request.user, UPDATE, "service-records")
        self.may_assign = self.may_update and may(request.user, "assign", "service-records")
        self.admins = selectors.assignable_people() if self.may_assign else []
        self.writes = {
            name: self.may_update and _writes(self.policy, "service-records", name)
            for name in ("staff", "result", "follow_up", "due_date")
        }
        self.addresses = _RowAddresses(assign="feedback:service-assign", follow_up="feedback:service-follow-up")
        self.words = _service_row_words()

    def item(self, obj: ServiceRecord, *, form: Any = None, panel: str = "", saved: str = "") -> dict[str, Any]:
        shown = _shown(self.policy, "service-records", obj, SERVICE_SHOWN)
        reads_dates = _reads(self.policy, "service-records", "service_date", "result")
        return {
            "obj": obj,
            "shown": shown,
            "t": self.words,
            "urls": self.addresses.of(obj),
            "result_code": obj.result if shown["result"] is not None else "",
            "wait": selectors.service_follow_up(obj, self.today) if reads_dates else None,
            "due_visible": self.policy.level("service-records", "due_date") >= Level.READ,
            "last_note": _last_line(shown["follow_up"]),
            "next": self.query,
            "mine": obj.staff_id == self.user.pk,
            "take": self.writes["staff"] and obj.staff_id != self.user.pk,
            "assign": self.writes["staff"] and self.may_assign,
            "candidates": _candidates(obj, self.admins) if self.writes["staff"] and self.may_assign else [],
            "moves": [(v, label) for v, label in ServiceResult.choices if v != obj.result]
            if self.writes["result"]
            else [],
            "respond": self.writes["follow_up"] or self.writes["result"] or self.writes["due_date"],
            "note": self.writes["follow_up"],
            "due_writable": self.writes["due_date"],
            "results": ServiceResult.choices,
            "form": form,
            "panel": panel,
            "conflict": bool(form is not None and getattr(form, "conflict", False)),
            "saved": saved,
        }


def _service_narrowed(request: HttpRequest, params: QueryDict) -> tuple[QuerySet[ServiceRecord], dict[str, Any]]:
    """The service records the filters of ``params`` leave (but the result), and the
    counts per result over them with what the result tabs need."""
    policy = policy_for(request.user, request)
    fields = {"status": "result", "kind": "service_type", "handler": "staff", "received": "service_date"}
    # The service queue shows every record unless asked for open ones or a result.
    filters = _filters(policy, "service-records", params, fields, default_status="")
    narrowed = selectors.service_queue(
        user=request.user,
        filters=filters,
        searchable=_searchable(policy, "service-records", ("content", "staff_name")),
    )
    counted = selectors.service_counts(rows=narrowed) if _reads(policy, "service-records", "result") else {}
    counts = selectors.tab_counts(counted)
    kept = params.copy()
    kept.pop("page", None)
    return narrowed, {
        "filters": filters,
        "counts": counts,
        "counted": counted,
        "tabs": [
            ("open", _("Open"), counts.get("open")),
            *((value, label, counts.get(value)) for value, label in ServiceResult.choices),
            ("", _("All"), counts.get("all")),
        ],
        "query": kept.urlencode(),
        "filter_query": _without(kept, "status"),
    }


@without_parallel_workers
def _service_page(request: HttpRequest, params: QueryDict, *, status: int = 200, bulk_error: str = "") -> HttpResponse:
    user = request.user
    policy = policy_for(user, request)
    narrowed, counting = _service_narrowed(request, params)
    tab = counting["filters"].status
    rows = selectors.service_by_result(rows=narrowed, status=tab, sort=_sort(params))
    known = selectors.service_result_count(counting["counted"], tab)
    page = CappedPaginator(rows, PER_PAGE).counted(*known).get_page(params.get("page"))
    shared = _ServiceRows(request, counting["query"])
    context = {
        **counting,
        "page": page,
        "items": [shared.item(obj) for obj in page.object_list],
        "kinds": ServiceType.choices,
        "handlers": people_picker(selectors.handlers_in(rows=narrowed, field="staff", user=user)),
        "handler_name": (params.get("handler_name") or "").strip()[:150],
        "shows": {name: _reads(policy, "service-records", name) for name in SERVICE_FILTERED},
        "bulk_statuses": ServiceResult.choices if shared.writes["result"] else [],
        "bulk_people": people_picker(_bulk_people(user)) if shared.may_assign else None,
        "bulk_take": shared.writes["staff"],
        "bulk_error": bulk_error,
        "follow_up_days": selectors.service_follow_up_days(),
        "sort": _sort(params),
        "sorts": SORTS,
    }
    return render(request, "feedback/service_queue.html", context, status=status)


@login_required
def service_queue_view(request: HttpRequest) -> HttpResponse:
    """Service records to follow up: the open ones oldest first on their tab, each with
    how long it has been open (or took to resolve) and the acts that work it."""
    return _service_page(request, request.GET)


def _record(request: HttpRequest, pk: int) -> ServiceRecord:
    rows = selectors.service_record_list(user=request.user).select_related("customer__owner", "customer__team__manager")
    return get_object_or_404(rows, pk=pk)


def _service_act(
    request: HttpRequest,
    pk: int,
    form_class: type,
    fields: tuple[str, ...],
    panel: str,
    save: Callable[[ServiceRecord, Any], ServiceRecord],
    done: Callable[[ServiceRecord], str],
) -> HttpResponse:
    if not may(request.user, UPDATE, "service-records"):
        raise PermissionDenied
    obj = _record(request, pk)
    form = form_class(request.POST, instance=obj, user=request.user, request=request)
    saved, status = _act(form, fields, lambda: save(obj, form))
    shared = _ServiceRows(request, request.POST.get("next", ""))
    back = _back("feedback:service-queue", shared.query)
    if saved is None:
        form.conflict = status == 409
        item = shared.item(_record(request, pk) if status == 409 else obj, form=form, panel=panel)
    else:
        if not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, done(saved))
        item = shared.item(_record(request, pk), saved=done(saved))
    counting = _service_narrowed(request, QueryDict(shared.query))[1] if saved and request.htmx else None  # type: ignore[attr-defined]
    return _row_response(request, "feedback/partials/service_row.html", item, status, back, counting)


@login_required
@require_POST
def service_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the follow-up, or (a manager) hand it to someone who sees the customer."""
    if not may(request.user, UPDATE, "service-records"):
        raise PermissionDenied
    return _service_act(
        request, pk, ServiceAssignForm, ("staff",), "assign",
        lambda obj, form: services.service_record_assign(
            actor=request.user, instance=obj, staff=form.cleaned_data.get("staff"),
            expected_version=form.expected_version(),
        ),
        lambda saved: _("Now followed up by %(user)s.") % {"user": saved.staff} if saved.staff else _("Unassigned."),
    )  # fmt: skip


@login_required
@require_POST
def service_follow_up_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Note what was done and set the result (resolved closes it in the queue)."""
    if not may(request.user, UPDATE, "service-records"):
        raise PermissionDenied
    return _service_act(
        request, pk, ServiceFollowUpForm, ("result", "note", "due_date"), "respond",
        lambda obj, form: services.service_record_follow_up(
            actor=request.user, instance=obj, note=form.cleaned_data.get("note", ""),
            result=form.cleaned_data.get("result"), expected_version=form.expected_version(),
            due_date=form.writable_data().get("due_date", services.UNCHANGED),
        ),
        lambda saved: _("Saved; the result is %(result)s.") % {"result": saved.get_result_display()},
    )  # fmt: skip


@login_required
@require_POST
def service_bulk_view(request: HttpRequest) -> HttpResponse:
    """Assign or set the result of the selected service records; back to the queue."""
    if not may(request.user, UPDATE, "service-records"):
        raise PermissionDenied
    query = request.POST.get("next", "")
    try:
        done = _bulk(
            request, "service-records", "staff", "result",
            lambda actor, ids, person: services.service_record_bulk_assign(actor=actor, ids=ids, staff=person),
            lambda actor, ids, status: services.service_record_bulk_result(actor=actor, ids=ids, result=status),
        )  # fmt: skip
    except DomainError as error:
        return _service_page(request, QueryDict(query), status=422, bulk_error=_refusal(error))
    messages.success(request, done)
    return HttpResponseRedirect(_back("feedback:service-queue", query))
