"""Risk rules and risk settings, console pages (``/console/risk-rules/``, ``/console/risk-settings/``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.access.display import display_value
from crm.access.policy import policy_for
from crm.access.scope import customers_visible_to
from crm.core.errors import DomainError
from crm.core.forms import show_refusal, submit
from crm.core.localized import localized_expression
from crm.core.pages import AdminOnly, ConsoleLink

from . import engine, services
from .choices import OPEN_STATUSES, SEVERITY_ORDER, RiskKind, Severity
from .engine import MEASURES
from .forms import RiskRuleForm, RiskSettingsForm
from .models import RiskRule, RiskScan, RiskSettings


class RiskRuleListView(AdminOnly, View):
    """Every risk rule with what it watches and its open alerts, and the scan settings."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rules = list(
            RiskRule.objects.prefetch_related("tiers")
            .annotate(open_alerts=Count("alerts", filter=Q(alerts__status__in=OPEN_STATUSES)))
            .order_by("kind", localized_expression("name"))
        )
        for rule in rules:
            rule.levels = [  # type: ignore[attr-defined]
                (Severity(severity).label, start) for start, severity in rule.severity_levels or []
            ]
            rule.measure = MEASURES[rule.kind]  # type: ignore[attr-defined]
        settings_row = RiskSettings.current()
        context = {
            "rules": rules,
            "kinds": RiskKind.choices,
            "settings": settings_row,
            "sla": [
                (Severity(severity).label, f"{settings_row.sla_for(severity).total_seconds() / 3600:g}")
                for severity in reversed(SEVERITY_ORDER)
            ],
            "last_scan": RiskScan.objects.order_by("-created_at").first(),
        }
        return render(request, "risk/rules.html", context)


class RiskRuleEditView(AdminOnly, View):
    """Create (``kind`` in the address) or edit a risk rule; "Preview" shows what the rule
    as typed would raise, re-grade and resolve if a scan ran now, without saving."""

    template = "risk/rule_form.html"

    def _context(self, form: Any, rule: Any, **extra: Any) -> dict[str, Any]:
        return {"form": form, "object": rule, "kind_label": form.kind_label, "measure": MEASURES[form.kind], **extra}

    def _form(self, rule: Any, kind: str | None, data: Any = None) -> Any:
        kind = rule.kind if rule is not None else kind
        if kind is None or kind not in RiskKind.values:
            raise Http404
        return RiskRuleForm(data, instance=rule, kind=kind)

    def get(self, request: HttpRequest, pk: int | None = None, kind: str | None = None) -> HttpResponse:
        rule = get_object_or_404(RiskRule, pk=pk) if pk else None
        form = self._form(rule, kind)
        return render(request, self.template, self._context(form, rule))

    def post(self, request: HttpRequest, pk: int | None = None, kind: str | None = None) -> HttpResponse:
        rule = get_object_or_404(RiskRule, pk=pk) if pk else None
        form = self._form(rule, kind, request.POST)
        if "preview" in request.POST:
            return self._preview(request, form, rule)

        def save() -> Any:
            if rule is None:
                return services.risk_rule_create(actor=request.user, data=form.service_data())
            return services.risk_rule_update(
                actor=request.user,
                instance=rule,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )

        saved, status = submit(form, save)
        if saved is not None:
            messages.success(request, _("Saved %(record)s; the next scan applies it.") % {"record": saved})
            return HttpResponseRedirect(reverse("console:risk-rules"))
        return render(request, self.template, self._context(form, rule), status=status)

    def _preview(self, request: HttpRequest, form: Any, rule: Any) -> HttpResponse:
        if not form.is_valid():
            return render(request, self.template, self._context(form, rule), status=422)
        data = form.service_data()
        try:
            services.check_rule(data, rule)
        except DomainError as error:
            show_refusal(form, error)
            return render(request, self.template, self._context(form, rule), status=422)
        tiers = data.pop("tiers", [])
        candidate = RiskRule(pk=rule.pk if rule else None, **data)
        preview = engine.preview_rule(rule=candidate, tier_ids=[tier.pk for tier in tiers], as_of=timezone.now())
        policy = policy_for(request.user, request)
        customers = customers_visible_to(request.user).in_bulk([sample["customer_id"] for sample in preview.samples])
        samples = [
            {**sample, "customer": customers[sample["customer_id"]]}
            for sample in preview.samples
            if sample["customer_id"] in customers
        ]
        for sample in samples:
            sample["name"] = display_value(policy, "customers", sample["customer"], "name")
            sample["severity_label"] = Severity(sample["severity"]).label
        by_severity = [(severity, Severity(severity).label, count) for severity, count in preview.by_severity]
        context = self._context(form, rule, preview=preview, samples=samples, by_severity=by_severity)
        return render(request, self.template, context)


class RiskSettingsView(AdminOnly, View):
    """When the daily scan runs, the digest, and the hours each severity gives to act."""

    template = "risk/settings.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template, {"form": RiskSettingsForm(instance=RiskSettings.current())})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RiskSettingsForm(request.POST, instance=RiskSettings.current())

        def save() -> Any:
            return services.risk_settings_update(
                actor=request.user, data=form.service_data(), expected_version=form.cleaned_data.get("version")
            )

        saved, status = submit(form, save)
        if saved is not None:
            messages.success(request, _("Risk settings saved."))
            return HttpResponseRedirect(reverse("console:risk-rules"))
        return render(request, self.template, {"form": form}, status=status)


urlpatterns = [
    path("risk-rules/", RiskRuleListView.as_view(), name="risk-rules"),
    path("risk-rules/new/<slug:kind>/", RiskRuleEditView.as_view(), name="risk-rule-create"),
    path("risk-rules/<int:pk>/", RiskRuleEditView.as_view(), name="risk-rule-edit"),
    path("risk-settings/", RiskSettingsView.as_view(), name="risk-settings"),
]
navigation = [ConsoleLink(gettext_lazy("Risk rules"), "risk-rules", also=("risk-settings",))]
