"""The tier policy editor, a console page (``/console/tier-policy/``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.core.errors import DomainError
from crm.core.forms import show_refusal
from crm.core.pages import AdminOnly, ConsoleLink

from . import engine, services
from .forms import ScoringPolicyForm
from .models import ScoringPolicy
from .selectors import active_policy


class ScoringPolicyView(AdminOnly, View):
    """Edit the scoring policy: preview what the change would do, then save it as the next
    version (the earlier versions stay, named by the history they produced)."""

    def _render(self, request: HttpRequest, form: Any, status: int = 200, **extra: Any) -> HttpResponse:
        versions = ScoringPolicy.objects.select_related("created_by").order_by("-version")[:10]
        context = {"form": form, "versions": versions, **extra}
        return render(request, "tiers/policy.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ScoringPolicyForm(instance=active_policy()))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ScoringPolicyForm(request.POST, instance=active_policy())
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            services.check_policy({**form.policy_data()})
        except DomainError as error:
            show_refusal(form, error)
            return self._render(request, form, status=400)
        if "preview" in request.POST:
            preview = engine.preview(policy=form.candidate())
            samples = [
                (_("Some that would move up"), preview.sample_up, "preview-up"),
                (_("Some that would move down"), preview.sample_down, "preview-down"),
                (_("Some below their tier, held for the grace period (they drop then unless their score recovers)"),
                 preview.sample_grace, "preview-grace"),
            ]  # fmt: skip
            return self._render(request, form, preview=preview, preview_samples=samples)
        policy = services.scoring_policy_save(
            actor=request.user, data=form.policy_data(), note=form.cleaned_data.get("note") or ""
        )
        messages.success(request, _("Saved as version %(v)d; the next evaluation uses it.") % {"v": policy.version})
        return HttpResponseRedirect(reverse("console:tier-policy"))


urlpatterns = [path("tier-policy/", ScoringPolicyView.as_view(), name="tier-policy")]
navigation = [ConsoleLink(gettext_lazy("Tier policy"), "tier-policy")]
