"""The tier console pages: the policy editor (``/console/tier-policy/``) and the tiers'
own words, their names, benefits and descriptions in both languages (``/console/tiers/``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.access.registry import UPDATE, may
from crm.core.errors import DomainError
from crm.core.forms import show_refusal, submit
from crm.core.pages import AdminOnly, ConsoleLink

from . import engine, services
from .forms import ScoringPolicyForm, TierForm
from .models import ScoringPolicy, Tier
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


class TierListView(AdminOnly, View):
    """The tier ladder as customers and reps read it: each tier's name and benefits in
    both languages."""

    def get(self, request: HttpRequest) -> HttpResponse:
        tiers = Tier.objects.order_by("rank")
        return render(request, "tiers/tiers.html", {"tiers": tiers})


class TierEditView(AdminOnly, View):
    """Edit what a tier says: its name, benefits and description in Chinese and English
    side by side, and its colour.  Its code and rank stay (the policy's thresholds and
    other systems name it by its code)."""

    template = "tiers/tier_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        tier = get_object_or_404(Tier, pk=pk)
        return render(request, self.template, {"form": TierForm(instance=tier), "object": tier})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not may(request.user, UPDATE, "tiers"):
            raise PermissionDenied
        tier = get_object_or_404(Tier, pk=pk)
        form = TierForm(request.POST, instance=tier)
        saved, status = submit(
            form,
            lambda: services.tier_update(
                actor=request.user,
                instance=tier,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved %(record)s.") % {"record": saved})
            return HttpResponseRedirect(reverse("console:tiers"))
        return render(request, self.template, {"form": form, "object": tier}, status=status)


urlpatterns = [
    path("tier-policy/", ScoringPolicyView.as_view(), name="tier-policy"),
    path("tiers/", TierListView.as_view(), name="tiers"),
    path("tiers/<int:pk>/", TierEditView.as_view(), name="tier-edit"),
]
navigation = [
    ConsoleLink(gettext_lazy("Tier policy"), "tier-policy"),
    ConsoleLink(gettext_lazy("Tiers"), "tiers"),
]
