"""Customer archive serializers.  Validation of shape and type only; rules live in services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.access.serializers import FieldPolicySerializerMixin
from crm.accounts.models import Team, User
from crm.core.api import ScopedPrimaryKeyRelatedField
from tiers.models import Tier
from tiers.selectors import tier_schedule

from ..completeness import completeness
from ..models import Activity, Contact, Customer, ServiceNeed

STAMPS = ("version", "created_at", "updated_at")

#: Writes out the times a serializer computes (it holds no state of a request).
_TIME = serializers.DateTimeField()


class TierBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ("id", "code", "name", "name_en", "name_zh", "rank", "colour")
        read_only_fields = fields


class ContactBriefSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "contacts"

    class Meta:
        model = Contact
        fields = ("id", "name", "title", "department", "email", "phone", "mobile", "wechat", "is_primary")
        read_only_fields = fields


class CreateAnywayMixin:
    """A create that may go ahead although similar records exist (the 409 lists them):
    ``create_anyway`` is taken out of the data here and kept for the view as
    ``confirmed``.  Only the create's serializer has it: it is no field of the record
    (imports, exports, the field policy and the console never see it)."""

    #: Whether the caller sent ``create_anyway: true``.
    confirmed: bool = False

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        self.confirmed = bool(attrs.pop("create_anyway", False))
        return super().validate(attrs)  # type: ignore[misc, no-any-return]


class CustomerSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "customers"

    owner = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    owner_name = serializers.CharField(label=_("owner name"), source="owner.__str__", read_only=True)
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    tier = TierBriefSerializer(read_only=True)
    contacts = ContactBriefSerializer(label=_("contacts"), many=True, read_only=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=50)
    tier_evaluated_at = serializers.SerializerMethodField(label=_("last tier evaluation"))
    tier_next_evaluation_at = serializers.SerializerMethodField(label=_("next tier evaluation"))
    code = serializers.CharField(label=_("customer code"), max_length=20, required=False, allow_blank=True)
    completeness = serializers.SerializerMethodField(label=_("completeness"))

    class Meta:
        model = Customer
        fields: tuple[str, ...] = (
            "id",
            "code",
            "name",
            "short_name",
            "kind",
            "industry",
            "region",
            "province",
            "city",
            "address",
            "postal_code",
            "phone",
            "email",
            "website",
            "company_size",
            "employee_count",
            "annual_revenue",
            "tax_id",
            "credit_limit",
            "payment_terms_days",
            "lifecycle_stage",
            "influence_score",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "source",
            "tags",
            "customer_since",
            "history_spend",
            "history_orders",
            "history_until",
            "last_rated_on",
            "next_rating_on",
            "special_requirements",
            "cooperation_prospects",
            "notes",
            "consent_marketing",
            "consent_data_processing",
            "consent_updated_at",
            "tier",
            "tier_score",
            "tier_since",
            "tier_evaluated_at",
            "tier_next_evaluation_at",
            "tier_override_until",
            "contacts",
            "last_verified_at",
            "last_verified_by",
            "completeness",
            *STAMPS,
        )
        read_only_fields = (
            "consent_updated_at",
            "last_verified_at",
            "last_verified_by",
            "tier_score",
            "tier_since",
            "tier_override_until",
            *STAMPS,
        )
        # Uniqueness is checked by the model and the database (with a clear message), not
        # by a pre-read here that would race with concurrent writers.
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}}

    def _schedule(self) -> Any:
        """The tier schedule, read once for all the rows this serializer renders."""
        schedule = self.__dict__.get("_tier_schedule")
        if schedule is None:
            schedule = self._tier_schedule = tier_schedule(request=self.context.get("request"))
        return schedule

    @extend_schema_field(serializers.IntegerField(min_value=0, max_value=100))
    def get_completeness(self, customer: Customer) -> int:
        """How complete the archive is (0-100, customers.completeness), from the
        contacts prefetched with the customer (read here for a record just written)."""
        annotated = getattr(customer, "completeness", None)
        if annotated is not None:
            return int(annotated)
        return completeness(customer, customer.contacts.all()).percent

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_tier_evaluated_at(self, customer: Customer) -> Any:
        """When the latest finished evaluation graded this customer (None if it is newer)."""
        schedule = self._schedule()
        last = schedule.last_as_of
        if last is None or (customer.created_at and customer.created_at > last):
            return None
        return _TIME.to_representation(schedule.last_finished_at)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_tier_next_evaluation_at(self, customer: Customer) -> Any:
        due = self._schedule().next_due
        return _TIME.to_representation(due) if due else None

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))


class ContactSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "contacts"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contact
        fields: tuple[str, ...] = (
            "id",
            "customer",
            "customer_name",
            "name",
            "title",
            "department",
            "email",
            "phone",
            "mobile",
            "wechat",
            "social_accounts",
            "birthday",
            "is_primary",
            "is_decision_maker",
            "marketing_consent",
            "notes",
            *STAMPS,
        )
        read_only_fields = STAMPS
        validators: list[Any] = []

    def validate_social_accounts(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in value.items()
        ):
            raise serializers.ValidationError('Give an object of network → account, e.g. {"weibo": "@acme"}.')
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 accounts.")
        return value


def create_anyway_field(help_text: str) -> serializers.BooleanField:
    """The write-only ``create_anyway`` flag of a create (:class:`CreateAnywayMixin`)."""
    return serializers.BooleanField(
        label=_("create anyway"), write_only=True, required=False, default=False, help_text=help_text
    )


class CustomerCreateSerializer(CreateAnywayMixin, CustomerSerializer):
    """A new customer (``POST /customers/``), which may be confirmed despite similar ones."""

    create_anyway = create_anyway_field(
        "Create the customer even though similar customers exist (without it, a 409 lists them)."
    )

    class Meta(CustomerSerializer.Meta):
        fields = (*CustomerSerializer.Meta.fields, "create_anyway")


class ContactCreateSerializer(CreateAnywayMixin, ContactSerializer):
    """A new contact (``POST /contacts/``), which may be confirmed despite similar ones."""

    create_anyway = create_anyway_field(
        "Create the contact even though its customer has a similar one (without it, a 409 lists them)."
    )

    class Meta(ContactSerializer.Meta):
        fields = (*ContactSerializer.Meta.fields, "create_anyway")


class ActivitySerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "activities"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = ScopedPrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None)
    assignee = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    assignee_name = serializers.CharField(label=_("assignee name"), source="assignee.__str__", read_only=True)
    # A visit's check-in: the place as the phone gives it (any number of decimals); the
    # time is the server's.  Written once, on a visit (customers.services).
    latitude = serializers.FloatField(label=_("latitude"), required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(
        label=_("longitude"), required=False, allow_null=True, min_value=-180, max_value=180
    )
    location_accuracy = serializers.IntegerField(
        label=_("location accuracy (m)"), required=False, allow_null=True, min_value=0, max_value=100_000
    )

    class Meta:
        model = Activity
        fields = (
            "id",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "kind",
            "subject",
            "notes",
            "assignee",
            "assignee_name",
            "occurred_at",
            "due_at",
            "done",
            "done_at",
            "outcome",
            "checked_in_at",
            "latitude",
            "longitude",
            "location_accuracy",
            *STAMPS,
        )
        read_only_fields = (*STAMPS, "checked_in_at")


class ServiceNeedSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "service-needs"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = ServiceNeed
        fields = (
            "id",
            "customer",
            "customer_name",
            "kind",
            "title",
            "description",
            "priority",
            "status",
            "due_date",
            "resolution",
            *STAMPS,
        )
        read_only_fields = STAMPS


class SimilarReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="same_tax_id, same_phone, same_email, same_domain, same_name, similar_name")
    text = serializers.CharField(help_text="The reason in the caller's language (without values for a hidden match).")


class SimilarCustomerSerializer(serializers.Serializer):
    """A similar customer as the caller may be told of it: one outside their scope has
    null ``id``, ``code``, ``name`` and ``score``, and says whom to ask."""

    visible = serializers.BooleanField()
    id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    owner_name = serializers.CharField()
    manager_name = serializers.CharField(allow_null=True)
    score = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)
    reasons = SimilarReasonSerializer(many=True)


class SimilarContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    reasons = SimilarReasonSerializer(many=True)


class _RefusalSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="similar_customers / similar_contacts, or another conflict's code")
    message = serializers.CharField()


class SimilarCustomersRefusalSerializer(_RefusalSerializer):
    """409 on create: similar customers exist (``similar``), or another conflict (a tax id taken)."""

    similar = SimilarCustomerSerializer(many=True, required=False)


class SimilarContactsRefusalSerializer(_RefusalSerializer):
    """409 on create: the customer has similar contacts (``similar``), or another conflict."""

    similar = SimilarContactSerializer(many=True, required=False)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    detail = serializers.DictField()


class TimelineSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True)
    next_before = serializers.DateTimeField(allow_null=True)


class ActivityCompleteSerializer(serializers.Serializer):
    """``complete/``: what came of it, optionally."""

    outcome = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class ActivitySnoozeSerializer(serializers.Serializer):
    """``snooze/``: put off by ``option`` (``1d``, ``3d``, ``monday``) or until ``until``."""

    option = serializers.ChoiceField(choices=["1d", "3d", "monday"], required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("option" in attrs) == ("until" in attrs):
            raise serializers.ValidationError({"option": [_("Give either option or until.")]})
        return attrs


class ActivityCheckInSerializer(serializers.Serializer):
    """``check-in/``: where the phone is, if it shares it (all empty: not shared)."""

    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    accuracy = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100_000)


class ContactMergeSerializer(serializers.Serializer):
    """``merge/``: the contact merged into this one (and the version read of it), and per
    field whose value this one keeps: its own (``survivor``, the default) or the other's
    (``duplicate``)."""

    duplicate = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    duplicate_version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    values = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "duplicate"]), required=False, default=dict
    )


class ContactUnmergeSerializer(serializers.Serializer):
    """``unmerge/``: the audit event of the merge into this contact to undo."""

    event = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class ContactPairReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["same_mobile", "same_email", "same_wechat", "same_name"])
    text = serializers.CharField(help_text=_("The reason in the reader's language."))


class ContactPairSerializer(serializers.Serializer):
    """Two contacts of the customer that look like one person (``first`` the older)."""

    first = ContactBriefSerializer()
    second = ContactBriefSerializer()
    reasons = ContactPairReasonSerializer(many=True)
    strong = serializers.BooleanField(help_text=_("False when only the names are alike."))
