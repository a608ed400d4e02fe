"""Risk rule and alert serializers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.access.serializers import FieldPolicySerializerMixin
from crm.accounts.models import User
from crm.core.api import ScopedPrimaryKeyRelatedField
from crm.core.localized import LocalizedField
from customers.models import Customer

from ..choices import Severity
from ..models import AlertComment, RiskAlert, RiskRule, RiskScan

STAMPS = ("version", "created_at", "updated_at")


class ShownAs(serializers.CharField):
    """A text written to the field of its name and read from ``shown``: an alert's title
    and action, which show the rule's in the reader's language when none was written."""

    def __init__(self, shown: str, **kwargs: Any) -> None:
        self.shown = shown
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return getattr(instance, self.shown)


class RiskRuleSerializer(serializers.ModelSerializer):
    """A rule's name and playbook in both languages (``name_zh``, ``name_en`` ...) to edit,
    and ``name``/``playbook`` in the reader's language with the fallback (writing one of
    them sets the request's language)."""

    name = LocalizedField("name", child=serializers.CharField(max_length=200, allow_blank=True))
    playbook = LocalizedField("playbook")

    class Meta:
        model = RiskRule
        fields = (
            "id", "code", "name", "name_zh", "name_en", "kind", "severity", "params", "severity_levels", "tiers",
            "playbook", "playbook_zh", "playbook_en", "enabled", *STAMPS,
        )  # fmt: skip
        read_only_fields = STAMPS
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}}


class RiskAlertSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "risk-alerts"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    rule = ScopedPrimaryKeyRelatedField(queryset=RiskRule.objects.all())
    rule_name = serializers.CharField(source="rule.name", read_only=True, help_text="In the reader's language.")
    assignee = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    assignee_name = serializers.CharField(
        label=_("assignee name"), source="assignee.__str__", read_only=True, default=None
    )
    severity = serializers.CharField(required=False)
    title = ShownAs(
        "display_title",
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The alert's own title; when none was written, its rule's name in the reader's language.",
    )
    recommended_action = ShownAs(
        "display_action",
        required=False,
        allow_blank=True,
        help_text="The alert's own action; when none was written, its rule's playbook in the reader's language.",
    )

    class Meta:
        model = RiskAlert
        fields = (
            "id",
            "customer",
            "customer_name",
            "rule",
            "rule_name",
            "subject",
            "severity",
            "status",
            "title",
            "explanation",
            "recommended_action",
            "assignee",
            "assignee_name",
            "raised_at",
            "acknowledged_at",
            "resolved_at",
            "resolution_note",
            "transaction",
            "due_at",
            "auto_resolved",
            "scan",
            *STAMPS,
        )
        read_only_fields = (
            "raised_at", "acknowledged_at", "resolved_at", "transaction", "due_at", "auto_resolved", "scan", *STAMPS,
        )  # fmt: skip
        validators: list[Any] = []

    def validate_severity(self, value: str) -> str:

        if value not in Severity.values:
            raise serializers.ValidationError(f'"{value}" is not a valid choice.')
        return value


class AlertCommentSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    """Comments are notes written once and never edited; their fields follow the field
    policy like any other (an admin may hide the notes from a role, say)."""

    policy_resource = "alert-comments"

    alert = ScopedPrimaryKeyRelatedField(queryset=RiskAlert.objects.all())
    author_name = serializers.CharField(label=_("author name"), source="author.__str__", read_only=True, default=None)

    class Meta:
        model = AlertComment
        fields = ("id", "alert", "author", "author_name", "body", "created_at")
        read_only_fields = ("author", "created_at")


class RiskScanSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskScan
        fields = (
            "id", "state", "trigger", "requested_by", "as_of", "created_at", "started_at", "finished_at", "summary",
            "error",
        )  # fmt: skip
        read_only_fields = fields
