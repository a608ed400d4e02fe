"""The admins' console: thin views over the access, accounts and audit services.

Every page requires an admin (a rep or manager gets 403, a visitor the sign-in page);
every write goes through a service, which validates, applies optimistic concurrency
and leaves an audit event.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.access.choices import FieldLevel
from crm.access.models import FieldPermission
from crm.access.registry import UPDATE, field_labels, governed_resources, may, resource_names
from crm.access.scope import customers_visible_to
from crm.access.services import field_policy_apply, policy_digest, resource_fields
from crm.accounts import lockouts
from crm.accounts import selectors as account_selectors
from crm.accounts import services as account_services
from crm.accounts.choices import Role
from crm.accounts.models import APIToken, Team, User
from crm.audit.selectors import audit_chain_breaks, audit_event_search
from crm.core.errors import DomainError, VersionConflict
from crm.core.forms import show_refusal, submit
from crm.core.pages import AdminOnly
from crm.core.validation import parse_id

from .forms import APITokenForm, AuditFilterForm, TeamForm, UserFilterForm, UserForm

PAGE_SIZE = 50


class HomeView(AdminOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        counts = User.objects.aggregate(
            users=Count("pk", filter=Q(is_active=True)), deactivated=Count("pk", filter=Q(is_active=False))
        )
        context = {
            "counts": counts,
            "teams": Team.objects.count(),
            "tokens": APIToken.objects.filter(revoked_at__isnull=True).count(),
            "rules": FieldPermission.objects.count(),
            "resources": len(governed_resources()),
        }
        return render(request, "console/home.html", context)


# ------------------------------------------------------------------ field policy
class FieldPolicyIndexView(AdminOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        per_resource = dict(
            FieldPermission.objects.values_list("resource").annotate(n=Count("pk")).values_list("resource", "n")
        )
        resources = [
            {
                "name": resource.name,
                "label": resource.model._meta.verbose_name_plural,
                "fields": len(resource.fields),
                "rules": per_resource.get(resource.name, 0),
            }
            for resource in governed_resources()
        ]
        return render(request, "console/fields_index.html", {"resources": resources})


class FieldPolicyEditView(AdminOnly, View):
    """The grid of one resource: a row per field, a column per role, a level in each cell."""

    def _viewset(self, resource: str) -> Any:
        for governed in governed_resources():
            if governed.name == resource:
                return governed.viewset
        raise Http404

    def _render(
        self, request: HttpRequest, resource: str, cells: dict[tuple[str, str], tuple[str, bool]], **extra: Any
    ) -> HttpResponse:
        viewset = self._viewset(resource)
        rows = [
            {
                "field": name,
                "label": label,
                "cells": [
                    {
                        "role": role,
                        "role_label": role_label,
                        "level": cells.get((name, role), ("write", True))[0],
                        "reveal": cells.get((name, role), ("write", True))[1],
                    }
                    for role, role_label in Role.choices
                ],
            }
            for name, label in field_labels(viewset)
        ]
        context = {
            "resource": resource,
            "label": viewset.model._meta.verbose_name_plural,
            "roles": Role.choices,
            "levels": FieldLevel.choices,
            "rows": rows,
            "digest": extra.pop("digest", policy_digest(resource)),
            **extra,
        }
        return render(request, "console/fields_edit.html", context, status=extra.get("status", 200))

    def get(self, request: HttpRequest, resource: str) -> HttpResponse:
        self._viewset(resource)
        stored = {
            (row.field, row.role): (row.level, row.reveal_allowed)
            for row in FieldPermission.objects.filter(resource=resource)
        }
        return self._render(request, resource, stored)

    def post(self, request: HttpRequest, resource: str) -> HttpResponse:
        self._viewset(resource)
        fields = resource_fields(resource) or []
        cells: dict[tuple[str, str], tuple[str, bool]] = {}
        for field in fields:
            for role in Role.values:
                level = request.POST.get(f"level-{field}-{role}")
                if level is None:
                    continue
                # "May reveal" only means something for a masked field; elsewhere it keeps its default.
                reveal = f"reveal-{field}-{role}" in request.POST if level == FieldLevel.MASKED else True
                cells[(field, role)] = (level, reveal)
        try:
            changed = field_policy_apply(
                actor=request.user, resource=resource, cells=cells, expected_digest=request.POST.get("digest") or None
            )
        except DomainError as error:
            messages.error(request, error.message)
            status = 409 if isinstance(error, VersionConflict) else 400
            return self._render(request, resource, cells, status=status, digest=request.POST.get("digest", ""))
        messages.success(
            request, _("Saved: %(n)d cells changed. Every user sees the change on their next request.") % {"n": changed}
        )
        return HttpResponseRedirect(reverse("console:fields-edit", args=[resource]))


# ------------------------------------------------------------------ users, teams, roles
class UserListView(AdminOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = UserFilterForm(request.GET or None)
        users = account_selectors.user_list(user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            if data["q"]:
                q = data["q"]
                users = users.filter(
                    Q(username__icontains=q)
                    | Q(first_name__icontains=q)
                    | Q(last_name__icontains=q)
                    | Q(email__icontains=q)
                )
            if data["role"]:
                users = users.filter(role=data["role"])
            if data["team"]:
                users = users.filter(team=data["team"])
            if data["active"]:
                users = users.filter(is_active=data["active"] == "1")
        page = Paginator(users.order_by("username"), PAGE_SIZE).get_page(request.GET.get("page"))
        locked = lockouts.locked_out(person.get_username() for person in page)
        return render(request, "console/users.html", {"form": form, "page": page, "locked": locked})


class UserUnlockView(AdminOnly, View):
    """Let a user locked out after too many failed sign-ins try again now."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        person = get_object_or_404(account_selectors.user_list(user=request.user), pk=pk)
        if not may(request.user, UPDATE, "users"):
            raise PermissionDenied
        if account_services.user_unlock(actor=request.user, user=person):
            messages.success(request, _("%(user)s may sign in again.") % {"user": person.get_username()})
        else:
            messages.info(request, _("%(user)s was not locked out.") % {"user": person.get_username()})
        return HttpResponseRedirect(reverse("console:users"))


class RecordEditView(AdminOnly, View):
    """Create (no id) or edit one record through its services, with the version check."""

    form_class: Any
    selector: Any
    create_service: Any
    update_service: Any
    template: str
    done_url: str

    def _instance(self, pk: int | None) -> Any:
        return get_object_or_404(self.selector(user=self.request.user), pk=pk) if pk else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        instance = self._instance(pk)
        return render(request, self.template, {"form": self.form_class(instance=instance), "object": instance})

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        instance = self._instance(pk)
        form = self.form_class(request.POST, instance=instance)

        def save() -> Any:
            if instance is None:
                return self.create_service(actor=request.user, data=form.service_data())
            return self.update_service(
                actor=request.user,
                instance=type(instance).objects.get(pk=instance.pk),
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )

        saved, status = submit(form, save)
        if saved is not None:
            messages.success(request, _("Saved %(record)s.") % {"record": saved})
            return HttpResponseRedirect(reverse(self.done_url))
        return render(request, self.template, {"form": form, "object": instance}, status=status)


class UserEditView(RecordEditView):
    """Users: a password, if typed, must pass the validators."""

    form_class = UserForm
    selector = staticmethod(account_selectors.user_list)
    create_service = staticmethod(account_services.user_create)
    update_service = staticmethod(account_services.user_update)
    template = "console/user_form.html"
    done_url = "console:users"


class TeamListView(AdminOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        teams = account_selectors.team_list(user=request.user).annotate(
            member_count=Count("members", filter=Q(members__is_active=True))
        )
        return render(request, "console/teams.html", {"teams": teams})


class TeamEditView(RecordEditView):
    """Teams: led by a user with the manager role."""

    form_class = TeamForm
    selector = staticmethod(account_selectors.team_list)
    create_service = staticmethod(account_services.team_create)
    update_service = staticmethod(account_services.team_update)
    template = "console/team_form.html"
    done_url = "console:teams"


class RoleListView(AdminOnly, View):
    """The four roles: who holds them, what records they reach, how many field rules apply."""

    def get(self, request: HttpRequest) -> HttpResponse:
        members = dict(
            User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")).values_list("role", "n")
        )
        rules = dict(FieldPermission.objects.values_list("role").annotate(n=Count("pk")).values_list("role", "n"))
        scopes = {
            Role.REP: _("The customers they own, and those customers' records."),
            Role.MANAGER: _("Every customer of the teams they manage."),
            Role.ADMIN: _("Every customer; the console and the audit log."),
            Role.INTEGRATION: _("Every customer, through API tokens limited by their scopes."),
        }
        roles = [
            {
                "value": value,
                "label": label,
                "members": members.get(value, 0),
                "rules": rules.get(value, 0),
                "scope": scopes[Role(value)],
            }
            for value, label in Role.choices
        ]
        return render(request, "console/roles.html", {"roles": roles})


# ------------------------------------------------------------------ API tokens
class TokenListView(AdminOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        tokens = account_selectors.api_token_list(user=request.user).order_by("-created_at")
        page = Paginator(tokens, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "console/tokens.html", {"page": page})


class TokenCreateView(AdminOnly, View):
    """Issue a token; its key is shown on the answering page once and never stored."""

    def _form(self, data: Any = None) -> APITokenForm:
        return APITokenForm(data, resources=resource_names())

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "console/token_form.html", {"form": self._form()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                token, key = account_services.api_token_create(
                    actor=request.user,
                    user=form.cleaned_data["user"],
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                )
            except DomainError as error:
                show_refusal(form, error)
            else:
                response = render(request, "console/token_created.html", {"token": token, "key": key})
                response["Cache-Control"] = "no-store"
                return response
        return render(request, "console/token_form.html", {"form": form}, status=400)


class TokenRevokeView(AdminOnly, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(account_selectors.api_token_list(user=request.user), pk=pk)
        if token.revoked_at is None:
            account_services.api_token_revoke(actor=request.user, token=token)
            messages.success(request, _("Revoked %(token)s.") % {"token": token})
        return HttpResponseRedirect(reverse("console:tokens"))


# ------------------------------------------------------------------ audit log
def _audited_resources() -> list[tuple[str, str]]:
    return sorted(
        (
            (model._meta.label_lower, f"{model._meta.verbose_name} ({model._meta.label_lower})")
            for model in apps.get_models()
        ),
        key=lambda pair: pair[0],
    )


class AuditLogView(AdminOnly, View):
    """The trail, newest first, with filters; values at the viewer's field level."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET or None, resources=_audited_resources())
        events: list[Any] = []
        has_more = False
        if form.is_bound and not form.is_valid():
            return render(request, "console/audit.html", {"form": form, "events": events}, status=400)
        data = form.cleaned_data if form.is_bound else {}
        customer_id = self._customer_id(data.get("customer", ""))
        if customer_id == -1:
            form.add_error("customer", _("No customer has this code or id."))
            return render(request, "console/audit.html", {"form": form, "events": events}, status=400)
        before = parse_id(request.GET.get("before"))
        events = audit_event_search(
            user=request.user,
            actor=data.get("actor", ""),
            resource=data.get("resource", ""),
            customer_id=customer_id,
            action=data.get("action", ""),
            source=data.get("source", ""),
            since=data.get("since"),
            until=data.get("until"),
            before_seq=before,
            limit=PAGE_SIZE,
        )
        has_more = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        query = request.GET.copy()
        query.pop("before", None)
        context = {
            "form": form,
            "events": events,
            "next_before": events[-1].seq if has_more and events else None,
            "query": query.urlencode(),
            "chain": request.session.pop("audit_chain_result", None),
        }
        return render(request, "console/audit.html", context)

    def _customer_id(self, text: str) -> int | None:
        """The customer named by a code or an id; None without one, -1 when none matches."""
        text = text.strip()
        if not text:
            return None
        customers = customers_visible_to(self.request.user)
        match = (
            customers.filter(Q(code=text) | (Q(pk=pk) if (pk := parse_id(text)) is not None else Q(pk__in=[])))
            .values_list("pk", flat=True)
            .first()
        )
        return match if match is not None else -1


class AuditVerifyView(AdminOnly, View):
    """Recompute the hash chain (one set-based pass) and report the first broken links."""

    def post(self, request: HttpRequest) -> HttpResponse:
        count, breaks = audit_chain_breaks(limit=20)
        request.session["audit_chain_result"] = {
            "count": count,
            "ok": not breaks,
            "breaks": [{"seq": b.seq, "problem": b.problem} for b in breaks],
        }
        return HttpResponseRedirect(reverse("console:audit"))
