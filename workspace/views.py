"""The workspace pages: my day, the customer list, the customer 360 page and its in-place
sections, which bring together the records of every app.

Views are thin: they read through the selectors (record scope first), render values
through the field policy's one helper (``crm.access.display``), and write through the
services, which validate, check the version and audit.  Sections are htmx partials: a
section's form is fetched into it and posted back, and the answer is the refreshed
section (or the form with its errors, or the conflict).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.selectors import participation_list
from crm.access.changes import pending_values, update_with_proposal
from crm.access.display import table
from crm.access.policy import Level, policy_for
from crm.access.registry import CREATE, UPDATE, may, role_of
from crm.accounts.choices import Role
from crm.core.errors import DomainError, VersionConflict
from crm.core.forms import submit
from crm.core.pagination import capped_count
from crm.core.validation import parse_id, parse_page
from customers import services
from customers.completeness import completeness
from customers.contact_duplicates import contact_pairs, readable_reasons
from customers.forms import ActivityForm, BulkForm, ContactForm, CustomerFilterForm, CustomerForm, ServiceNeedForm
from customers.models import Customer, SavedView
from customers.selectors import (
    activity_list,
    contact_list,
    customer_count,
    customer_list,
    customer_timeline,
    service_need_list,
)
from customers.similar import contacts_shown_to, proposal_from, shown_to, similar_contacts, similar_customers
from customers.verification import is_due, verify_due_at
from feedback import services as feedback_services
from feedback.forms import FeedbackForm, SatisfactionForm, ServiceRecordForm
from feedback.selectors import feedback_list, satisfaction_list, service_record_list
from risk.selectors import risk_alert_list, risk_alert_open_groups
from tiers.engine import explain_customer
from tiers.models import Tier
from tiers.selectors import lifecycle_change_list, tier_change_list, tier_schedule
from tiers.services import tier_override
from transactions import services as transaction_services
from transactions.forms import PaymentForm, TransactionForm
from transactions.models import Payment
from transactions.selectors import payment_list, transaction_list

from .selectors import (
    CustomerFilters,
    archive_health,
    customer_call_link,
    customer_figures,
    customer_search,
    my_day,
)

PAGE_SIZE = 25
#: Owners' rows per page of archive health.
HEALTH_OWNERS_PER_PAGE = 50
LIST_FIELDS = ("code", "name", "tier", "lifecycle_stage", "industry", "city", "owner", "updated_at")


# ------------------------------------------------------------------ my day
@login_required
def my_day_view(request: HttpRequest) -> HttpResponse:
    """The start page of a rep or manager: what to do today and where to look."""
    day = my_day(user=request.user)
    return render(request, "customers/my_day.html", {"day": day})


@login_required
def archive_health_view(request: HttpRequest) -> HttpResponse:
    """Managers and admins: how current and complete their team's archive is, per rep."""
    if role_of(request.user) not in (Role.MANAGER, Role.ADMIN) and not request.user.is_superuser:
        raise PermissionDenied
    team = parse_id(request.GET.get("team", ""))
    health = archive_health(user=request.user, team=team)
    # A manager of hundreds of reps reads their rows a page at a time; the totals are of all.
    owners = Paginator(health.owners, HEALTH_OWNERS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({"team": team}) if team is not None else ""
    return render(request, "customers/archive_health.html", {"health": health, "page": owners, "query": query})


# ------------------------------------------------------------------ customer list
def _filters(form: CustomerFilterForm) -> CustomerFilters:
    data = form.cleaned_data
    open_alert = {"1": True, "0": False}.get(data.get("open_alert") or "")
    return CustomerFilters(
        q=data.get("q") or "",
        tier=data.get("tier"),
        stage=data.get("stage") or "",
        industry=data.get("industry") or "",
        region=data.get("region") or "",
        owner=data.get("owner"),
        open_alert=open_alert,
        verify_due=data.get("verify") == "due",
        sort=data.get("sort") or "name",
    )


def _export_query(filters: CustomerFilters) -> str:
    """The same list, as the API's export understands it."""
    params: dict[str, Any] = {}
    if filters.q:
        params["search"] = filters.q
    if filters.tier is not None:
        params["tier"] = filters.tier.code
    for name, value in (("lifecycle_stage", filters.stage), ("industry", filters.industry), ("region", filters.region)):
        if value:
            params[name] = value
    if filters.owner is not None:
        params["owner"] = filters.owner.pk
    if filters.open_alert is not None:
        params["has_open_alert"] = str(filters.open_alert).lower()
    return urlencode(params)


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the customers the user may see."""
    policy = policy_for(request.user, request)
    form = CustomerFilterForm(request.GET or None, user=request.user, policy=policy)
    if form.is_bound and not form.is_valid():
        filters = CustomerFilters()
        status = 400
    else:
        filters = _filters(form) if form.is_bound else CustomerFilters()
        status = 200
    sort_field = {"name": "name", "code": "code", "tier": "tier", "stage": "lifecycle_stage", "updated": "updated_at"}
    if policy.level("customers", sort_field.get(filters.sort.lstrip("-"), "name")) < Level.READ:
        filters = CustomerFilters(**{**filters.__dict__, "sort": "name"})
    customers = customer_search(user=request.user, policy=policy, filters=filters)
    page_number = parse_page(request.GET.get("page"))
    offset = (page_number - 1) * PAGE_SIZE
    rows = list(customers[offset : offset + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if replace(filters, sort=CustomerFilters.sort) == CustomerFilters():
        total, more = customer_count(user=request.user)  # every customer seen: the kept figures count them
    else:
        total, more = capped_count(customers)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "table": table(policy, "customers", Customer, rows, LIST_FIELDS),
        "page_number": page_number,
        "has_next": has_next,
        "total": total,
        "more": more,
        "query": query.urlencode(),
        "sort": filters.sort,
        "sortable": {
            "code": "code",
            "name": "name",
            "tier": "tier",
            "lifecycle_stage": "stage",
            "updated_at": "updated",
        },
        "saved_views": SavedView.scope_queryset(request.user),
        "export_query": _export_query(filters),
        "can_bulk": may(request.user, "bulk_assign", "customers"),
        "bulk_form": BulkForm(user=request.user),
        "contact_levels": {name: int(policy.level("contacts", name)) for name in ("name", "mobile")},
    }
    return render(request, "customers/list.html", context, status=status)


@login_required
@require_POST
def saved_view_save_view(request: HttpRequest) -> HttpResponse:
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("page", None)
    try:
        view = services.saved_view_save(actor=request.user, name=request.POST.get("name", ""), query=query.urlencode())
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(f"{reverse('customers:list')}?{query.urlencode()}")
    messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return HttpResponseRedirect(f"{reverse('customers:list')}?{view.query}")


@login_required
@require_POST
def saved_view_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView.scope_queryset(request.user), pk=pk)
    services.saved_view_delete(actor=request.user, view=view)
    messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
    return HttpResponseRedirect(reverse("customers:list"))


@login_required
@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    """A manager's bulk action on the ticked rows: assign an owner or add a tag."""
    back = f"{reverse('customers:list')}?{request.POST.get('query', '')}"
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(back)
    try:
        if form.cleaned_data["action"] == "assign":
            owner = form.cleaned_data["owner"]
            changed = services.customer_bulk_assign(actor=request.user, ids=form.cleaned_data["ids"], owner=owner)
        else:
            tag = form.cleaned_data["tag"]
            changed = services.customer_bulk_tag(actor=request.user, ids=form.cleaned_data["ids"], tag=tag)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done: %(n)d customers changed.") % {"n": changed})
    return HttpResponseRedirect(back)


# ------------------------------------------------------------------ create
def _confirmed(request: HttpRequest) -> bool:
    """Whether the user pressed "Create anyway" under the similar records shown."""
    return request.POST.get("create_anyway") == "1"


@login_required
@require_http_methods(["GET", "POST"])
def customer_create_view(request: HttpRequest) -> HttpResponse:
    """A new customer.  Before it is written the book is searched for similar customers
    (customers.similar); when there are some and the user has not confirmed, the form
    comes back (409, nothing written, the values kept) listing them — those the user may
    not see only as "ask their owner" — with a "Create anyway" button."""
    if not may(request.user, CREATE, "customers"):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, user=request.user, request=request)
    status = 200
    similar: list[dict[str, Any]] = []
    if request.method == "POST":
        if form.is_valid() and not _confirmed(request):
            matches = similar_customers(user=request.user, proposal=proposal_from(form.writable_data()))
            similar = shown_to(matches, policy=policy_for(request.user, request))
        if similar:
            status = 409
        else:
            customer, status = submit(
                form, lambda: services.customer_create(actor=request.user, data=form.writable_data())
            )
            if customer is not None:
                messages.success(request, _("Created %(customer)s.") % {"customer": customer})
                return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]))
    return render(request, "customers/create.html", {"form": form, "similar": similar}, status=status)


# ------------------------------------------------------------------ the 360 page
@dataclass(frozen=True)
class Section:
    """One block of the 360 page: which records, shown how, edited with which form and services."""

    key: str
    title: Any
    resource: str
    fields: tuple[str, ...]
    rows: Callable[[Any, Customer], QuerySet[Any]]
    form: type | None = None
    create: Callable[..., Model] | None = None
    update: Callable[..., Model] | None = None
    limit: int = 10
    #: The URL name of a record's own page (taking its pk), when it has one.
    detail_url: str | None = None
    #: The fields a row's card shows on a phone under its title (the first field);
    #: empty: the next three.
    card: tuple[str, ...] = ()
    #: Buttons of a row beside editing (a payment's reverse), for users whom the registry
    #: lets do ``row_action`` on the section's resource.
    row_actions: str | None = None
    row_action: str | None = None
    #: How the section is drawn, and, for a section drawn as groups of records (the open
    #: risk alerts, by rule), the groups.
    template: str = "customers/partials/section.html"
    groups: Callable[[Any, Customer], Any] | None = None
    #: A line above the rows, worked out from them: ``(policy, customer, rows)`` → a dict
    #: with its ``text`` and ``url``, or None (possible duplicate contacts).
    notice: Callable[[Any, Customer, list[Any]], Any] | None = None
    #: The records like a new one, as the user may be told of them (the form comes back
    #: listing them, with "Create anyway"): ``(request, customer, data) -> [...]``.
    similar: Callable[[HttpRequest, Customer, dict[str, Any]], list[dict[str, Any]]] | None = None


def _duplicate_contacts_notice(policy: Any, customer: Customer, rows: list[Any]) -> dict[str, str] | None:
    """ "N possible duplicate contacts", leading to the merge page (to the pair itself when
    there is one), found among the contacts the section shows."""
    pairs = contact_pairs(rows, readable=readable_reasons(policy))
    if not pairs:
        return None
    url = reverse("customers:contact-merge", args=[customer.pk])
    if len(pairs) == 1:
        url += "?" + urlencode({"a": pairs[0].first.pk, "b": pairs[0].second.pk})
    count = len(pairs)
    text = ngettext("%(count)d possible duplicate contact", "%(count)d possible duplicate contacts", count)
    return {"text": text % {"count": count}, "url": url}


def _similar_contacts(request: HttpRequest, customer: Customer, data: dict[str, Any]) -> list[dict[str, Any]]:
    matches = similar_contacts(
        customer=customer,
        name=str(data.get("name") or ""),
        mobile=str(data.get("mobile") or ""),
        email=str(data.get("email") or ""),
    )
    return contacts_shown_to(matches, policy=policy_for(request.user, request))


def _sections() -> dict[str, Section]:
    sections = [
        Section(
            "contacts", gettext_lazy("Contacts"), "contacts",
            ("name", "title", "mobile", "email", "wechat", "is_primary", "is_decision_maker"),
            lambda user, c: contact_list(user=user).filter(customer=c).order_by("-is_primary", "name", "id"),
            ContactForm, services.contact_create, services.contact_update, limit=50,
            card=("title", "mobile", "wechat", "email"), notice=_duplicate_contacts_notice,
            similar=_similar_contacts,
        ),
        Section(
            "activities", gettext_lazy("Follow-ups"), "activities",
            ("kind", "subject", "due_at", "occurred_at", "done", "assignee", "outcome"),
            lambda user, c: activity_list(user=user).filter(customer=c).order_by("done", "-due_at", "-id"),
            ActivityForm, services.activity_create, services.activity_update,
            card=("subject", "due_at", "done"),
        ),
        Section(
            "transactions", gettext_lazy("Orders and payments"), "transactions",
            ("order_date", "product", "description", "amount", "status", "due_date", "payment_state", "paid_amount"),
            lambda user, c: transaction_list(user=user).filter(customer=c).order_by("-order_date", "-id"),
            TransactionForm, transaction_services.transaction_create, transaction_services.transaction_update,
            card=("description", "amount", "status"),
        ),
        Section(
            "payments", gettext_lazy("Payments received"), "payments",
            ("paid_on", "order", "kind", "amount", "method", "reference", "reason", "recorded_by"),
            lambda user, c: payment_list(user=user).filter(customer=c)
            .annotate(is_reversed=Exists(Payment.objects.filter(reverses=OuterRef("pk"))))
            .order_by("-paid_on", "-id"),
            PaymentForm, transaction_services.payment_create,
            card=("order", "amount", "kind"), row_actions="customers/partials/payment_actions.html",
            row_action="reverse",
        ),
        Section(
            "service-records", gettext_lazy("Service records"), "service-records",
            ("service_date", "service_type", "staff_name", "product", "result", "rating"),
            lambda user, c: service_record_list(user=user).filter(customer=c).order_by("-service_date", "-id"),
            ServiceRecordForm, feedback_services.service_record_create, feedback_services.service_record_update,
            card=("service_type", "result", "rating"),
        ),
        Section(
            "feedback", gettext_lazy("Feedback"), "feedback",
            ("received_at", "kind", "subject", "status", "handler"),
            lambda user, c: feedback_list(user=user).filter(customer=c).order_by("-received_at", "-id"),
            FeedbackForm, feedback_services.feedback_create, feedback_services.feedback_update,
        ),
        Section(
            "satisfaction", gettext_lazy("Satisfaction surveys"), "satisfaction-responses",
            ("responded_at", "method", "csat", "nps", "contact", "comment"),
            lambda user, c: satisfaction_list(user=user).filter(customer=c).order_by("-responded_at", "-id"),
            SatisfactionForm, feedback_services.satisfaction_create, feedback_services.satisfaction_update,
        ),
        Section(
            "service-needs", gettext_lazy("Personalised needs"), "service-needs",
            ("kind", "title", "priority", "status", "due_date"),
            lambda user, c: service_need_list(user=user).filter(customer=c).order_by("status", "-id"),
            ServiceNeedForm, services.service_need_create, services.service_need_update,
        ),
        Section(
            "participations", gettext_lazy("Campaign participation"), "participations",
            ("campaign", "status", "invited_at", "attended_at", "converted_at"),
            lambda user, c: participation_list(user=user).filter(customer=c).order_by("-id"),
        ),
        Section(
            "risk-alerts", gettext_lazy("Risk alerts"), "risk-alerts",
            ("severity", "title", "status", "rule", "assignee", "created_at"),
            lambda user, c: risk_alert_list(user=user).filter(customer=c).order_by("status", "-id"),
            detail_url="risk:detail", template="customers/partials/risk_section.html",
            groups=lambda user, c: risk_alert_open_groups(
                user=user, alerts=risk_alert_list(user=user).filter(customer=c)),
        ),
        Section(
            "tier-history", gettext_lazy("Tier history"), "tier-changes",
            ("changed_at", "from_tier", "to_tier", "kind", "score", "policy", "reason", "override_until"),
            lambda user, c: tier_change_list(user=user).filter(customer=c).select_related("policy")
            .order_by("-changed_at", "-id"),
        ),
        Section(
            "lifecycle", gettext_lazy("Lifecycle history"), "lifecycle-changes",
            ("changed_at", "from_stage", "to_stage", "reason_text"),
            lambda user, c: lifecycle_change_list(user=user).filter(customer=c).order_by("-changed_at", "-id"),
        ),
    ]  # fmt: skip
    return {section.key: section for section in sections}


def _customer(request: HttpRequest, pk: int) -> Customer:
    """The customer, if the user may see it: another rep's customer is a 404, as in the API."""
    return get_object_or_404(customer_list(user=request.user), pk=pk)


def _section_context(request: HttpRequest, customer: Customer, section: Section, **extra: Any) -> dict[str, Any]:
    policy = policy_for(request.user, request)
    rows = section.rows(request.user, customer)
    # A section drawn as groups shows the groups, not the rows.
    shown = [] if section.groups else list(rows[: section.limit + 1])
    model = rows.model
    return {
        "customer": customer,
        "section": section,
        "table": table(policy, section.resource, model, shown[: section.limit], section.fields, section.card or None),
        "more": len(shown) > section.limit,
        "can_add": section.form is not None
        and section.create is not None
        and may(request.user, CREATE, section.resource),
        "can_edit": section.update is not None and may(request.user, UPDATE, section.resource),
        "groups": section.groups(request.user, customer) if section.groups else None,
        "notice": section.notice(policy, customer, shown) if section.notice else None,
        "row_actions": section.row_actions
        if section.row_actions and section.row_action and may(request.user, section.row_action, section.resource)
        else None,
        **extra,
    }


@login_required
def customer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360: header with tier and key figures, every section, the timeline."""
    customer = _customer(request, pk)
    sections = [_section_context(request, customer, section) for section in _sections().values()]
    context = {
        **_profile_context(request, customer),
        "tier_panel": _tier_panel(request, customer),
        "figures": customer_figures(customer=customer),
        "sections": sections,
        "timeline": customer_timeline(customer=customer, user=request.user, limit=30),
        "call_link": customer_call_link(customer=customer, policy=policy_for(request.user, request)),
        "can_log": may(request.user, CREATE, "activities"),
    }
    return render(request, "customers/detail.html", context)


def _tier_panel(request: HttpRequest, customer: Customer) -> dict[str, Any] | None:
    """ "Why this tier": the live breakdown under the active policy, the schedule, the
    benefits and any override — for viewers who may read the tier in clear."""

    policy = policy_for(request.user, request)
    if policy.level("customers", "tier") < Level.READ:
        return None
    schedule = tier_schedule(request=request)
    if schedule.policy is None:
        return None
    explanation = explain_customer(policy=schedule.policy, customer_id=customer.pk)

    may_override = may(request.user, "override", "tier-changes")
    return {
        "explanation": explanation,
        "may_override": may_override,
        "all_tiers": list(Tier.objects.order_by("rank")) if may_override else [],
        "schedule": schedule,
        "benefits": customer.tier.benefits if customer.tier else [],
        "show_spend": policy.level("transactions", "amount") >= Level.READ,
        "override_until": customer.tier_override_until,
    }


def _render_section(
    request: HttpRequest, customer: Customer, section: Section, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(request, section.template, _section_context(request, customer, section, **extra), status=status)


def _make_form(
    section: Section, request: HttpRequest, customer: Customer, data: Any = None, instance: Any = None
) -> Any:
    assert section.form is not None
    return section.form(data, user=request.user, request=request, instance=instance, customer=customer)


def _initial(section: Section, form: Any) -> None:

    today = timezone.localdate()
    for name in ("order_date", "service_date", "paid_on"):
        if name in form.fields and not form.is_bound:
            form.initial.setdefault(name, today)


@login_required
@require_http_methods(["GET", "POST"])
def section_form_view(request: HttpRequest, pk: int, key: str, row: int | None = None) -> HttpResponse:
    """Add (no ``row``) or edit one record of a section, in place."""
    customer = _customer(request, pk)
    section = _sections().get(key)
    if (
        section is None
        or section.form is None
        or (section.create if row is None else section.update) is None
        or not may(request.user, CREATE if row is None else UPDATE, section.resource)
    ):
        raise Http404
    instance = get_object_or_404(section.rows(request.user, customer), pk=row) if row else None
    form = _make_form(section, request, customer, request.POST if request.method == "POST" else None, instance)
    _initial(section, form)
    status = 200
    similar: list[dict[str, Any]] = []
    if request.method == "POST" and instance is None and section.similar and not _confirmed(request):
        if form.is_valid():
            similar = section.similar(request, customer, form.writable_data())
        status = 409 if similar else status
    if request.method == "POST" and not similar:

        def save() -> Model:
            data = form.writable_data()
            if instance is None:
                assert section.create is not None
                return section.create(actor=request.user, data={**data, "customer": customer})
            assert section.update is not None
            # As on the profile: the writable fields are written, changed propose-level
            # ones become one change request, in the same transaction.
            updated, change = update_with_proposal(
                actor=request.user,
                resource=section.resource,
                update=section.update,
                instance=type(instance).objects.get(pk=instance.pk),
                data=data,
                proposed=form.proposed_data(),
                expected_version=form.expected_version(),
            )
            if change is not None:
                messages.info(request, _("Your change to the reviewed fields goes to a manager for approval."))
            return updated  # type: ignore[no-any-return]

        saved, status = submit(form, save)
        if saved is not None:
            if not request.htmx:  # type: ignore[attr-defined]
                return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + f"#{section.key}")
            return _render_section(request, customer, section, saved=True)
    context = {
        "customer": customer,
        "section": section,
        "form": form,
        "row": instance,
        "conflict": status == 409 and not similar,
        "similar": similar,
    }
    if not request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/section_form_page.html", context, status=status)
    response = render(request, "customers/partials/section_form.html", context, status=status)
    # The form was posted into its section; a refused form goes back where it was.
    response["HX-Retarget"] = f"#{section.key}-form"
    response["HX-Reswap"] = "innerHTML"
    return response


@login_required
def section_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """One section, refreshed (the form's cancel button comes back here); opened as a
    page of its own (a bookmarked or shared link), the 360 page at that section."""
    customer = _customer(request, pk)
    section = _sections().get(key)
    if section is None:
        raise Http404
    if not request.htmx:  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + f"#{section.key}")
    return _render_section(request, customer, section)


def _profile_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    policy = policy_for(request.user, request)
    fields = [name for name in CustomerForm.Meta.fields if name != "owner"]
    return {
        "customer": customer,
        "profile": table(policy, "customers", Customer, [customer], fields),
        # Computed on the record whatever the reader may see; only the names of the
        # missing fields are shown, never values.
        "completeness": completeness(customer, customer.contacts.all()),
        "verify_due": is_due(customer),
        "verify_due_at": verify_due_at(customer),
        "can_verify": may(request.user, "verify", "customers"),
        "pending": pending_values(request.user, "customers", customer.pk),
    }


@login_required
@require_POST
def verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner confirms the customer's archive is still right ("still right"), with the
    version the page showed; back to the page it was pressed on (the 360 page or My day)."""
    customer = _customer(request, pk)
    if not may(request.user, "verify", "customers"):
        raise PermissionDenied
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.customer_verify(actor=request.user, instance=customer, expected_version=version)
    except VersionConflict:
        messages.error(request, _("This customer was changed meanwhile; check the profile and confirm again."))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Confirmed: the archive of %(name)s is still right.") % {"name": customer.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("customers:detail", args=[customer.pk])
    return HttpResponseRedirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def profile_form_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the customer's archive (profile) in place, with the version check."""
    customer = _customer(request, pk)
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if htmx and request.GET.get("view"):
        return render(request, "customers/partials/profile.html", _profile_context(request, customer))
    if request.method == "POST" and not may(request.user, UPDATE, "customers"):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, instance=customer, user=request.user, request=request)
    status = 200
    if request.method == "POST":

        def save() -> Customer:
            # The writable fields are written; changed propose-level ones become one
            # change request for a manager, in the same transaction.
            updated, change = update_with_proposal(
                actor=request.user,
                resource="customers",
                update=services.customer_update,
                instance=Customer.objects.get(pk=customer.pk),
                data=form.writable_data(),
                proposed=form.proposed_data(),
                expected_version=form.expected_version(),
            )
            if change is not None:
                messages.info(request, _("Your change to the reviewed fields goes to a manager for approval."))
            return updated  # type: ignore[no-any-return]

        saved, status = submit(form, save)
        if saved is not None:
            if htmx:
                context = {**_profile_context(request, saved), "saved": True}
                return render(request, "customers/partials/profile.html", context)
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]))
    context = {"customer": customer, "form": form, "conflict": status == 409}
    if not htmx:
        return render(request, "customers/profile_form.html", context, status=status)
    response = render(request, "customers/partials/profile_form.html", context, status=status)
    if request.method == "POST":
        response["HX-Retarget"] = "#profile-body"
        response["HX-Reswap"] = "innerHTML"
    return response


@login_required
@require_POST
def tier_override_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager sets the customer's tier by hand, with a reason and an end date."""

    customer = _customer(request, pk)
    if not may(request.user, "override", "tier-changes"):
        raise Http404
    tier = Tier.objects.filter(code=request.POST.get("tier", "")).first()
    until = None
    try:
        day = dt.date.fromisoformat(request.POST.get("until", ""))
        until = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))
    except ValueError:
        until = None
    if tier is None or until is None:
        messages.error(request, _("Choose a tier and the day the override ends."))
    else:
        try:
            tier_override(
                actor=request.user, customer=customer, tier=tier, reason=request.POST.get("reason", ""), until=until
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Tier set by hand until %(day)s.") % {"day": until.date().isoformat()})
    return HttpResponseRedirect(reverse("customers:detail", args=[customer.pk]) + "#tier")
