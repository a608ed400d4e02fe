"""HTML forms of the customer archive.  Each lists its fields; the field policy, the
version check and the widgets come from ``crm.core.forms.RecordForm``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access.policy import Level
from crm.access.scope import scoped_queryset
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.accounts.selectors import PICKER_LIMIT
from crm.core.errors import DomainError
from crm.core.forms import RecordForm, formfield
from tiers.models import Tier

from .choices import ActivityKind, Industry, LifecycleStage, Region
from .models import Activity, Contact, Customer, ServiceNeed
from .services import CHECK_IN_FIELDS, check_in_place, follow_up_due


def assignable_owners(user: Any) -> Any:
    """Whom ``user`` may give a customer to: a rep only themself, a manager the members of
    the teams they manage, an admin anyone active."""
    users = User.objects.filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
    if getattr(user, "is_admin", False):
        return users
    if user.role == Role.MANAGER:
        return users.filter(team__manager=user) | User.objects.filter(pk=user.pk)
    return User.objects.filter(pk=user.pk)


class UserByNameField(forms.CharField):
    """A person picked by user name from ``queryset`` (typed, with suggestions): a select
    of every rep of a large company would be thousands of options."""

    SUGGESTIONS = PICKER_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.queryset = User.objects.none()
        super().__init__(*args, max_length=150, **kwargs)

    def suggestions(self) -> list[Any]:
        return list(self.queryset.order_by("username")[: self.SUGGESTIONS])

    def clean(self, value: Any) -> Any:
        name = super().clean(value)
        if not name:
            return None
        user = self.queryset.filter(username=name.strip()).first()
        if user is None:
            raise forms.ValidationError(_("No such user among those you may choose."))
        return user


class CustomerForm(RecordForm):
    policy_resource = "customers"

    class Meta:
        model = Customer
        formfield_callback = formfield
        fields = [
            "name", "short_name", "kind", "industry", "lifecycle_stage", "owner", "region", "province", "city",
            "address", "postal_code", "phone", "email", "website", "company_size", "employee_count",
            "annual_revenue", "tax_id", "credit_limit", "payment_terms_days", "influence_score", "source", "tags",
            "customer_since", "history_spend", "history_orders", "history_until", "last_rated_on", "next_rating_on",
            "special_requirements", "cooperation_prospects", "notes", "consent_marketing", "consent_data_processing",
        ]  # fmt: skip
        widgets = {
            "special_requirements": forms.Textarea(attrs={"rows": 3}),
            "cooperation_prospects": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if "owner" in self.fields and not self.fields["owner"].disabled:
            self.fields["owner"].queryset = assignable_owners(user).order_by("username")  # type: ignore[attr-defined]
            self.fields["owner"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("owner") is None:
            cleaned.pop("owner", None)  # no choice made: the creator, or the current owner
        return cleaned


class ContactForm(RecordForm):
    policy_resource = "contacts"

    class Meta:
        model = Contact
        formfield_callback = formfield
        fields = [
            "name", "title", "department", "mobile", "phone", "email", "wechat", "birthday", "is_primary",
            "is_decision_maker", "marketing_consent", "notes",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class ActivityForm(RecordForm):
    policy_resource = "activities"

    class Meta:
        model = Activity
        formfield_callback = formfield
        fields = ["kind", "subject", "contact", "due_at", "occurred_at", "done", "outcome", "notes"]
        widgets = {"outcome": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 2})}


class LogForm(RecordForm):
    """The one-step log's first part: what happened (a call, visit, meeting, message),
    with its outcome; it happened now unless the rep says when.  A visit can be checked
    in (``check_in``): the page's script fills the place the phone shares, if it does."""

    policy_resource = "activities"
    now_if_empty = ("occurred_at",)
    wide_fields = ("outcome",)

    check_in = forms.BooleanField(label=_("Check in here (time and, if the phone shares it, place)"), required=False)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    accuracy = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    #: Why the phone shared no place (``denied``, ``unavailable``), as its script says.
    location_status = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)

    class Meta:
        model = Activity
        formfield_callback = formfield
        fields = ["kind", "subject", "contact", "occurred_at", "outcome", "notes"]
        widgets = {"outcome": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        # The place is a check-in's: without the right to write it, there is no check-in.
        if any(self.policy.level("activities", name) < Level.WRITE for name in CHECK_IN_FIELDS):
            for name in ("check_in", "latitude", "longitude", "accuracy", "location_status"):
                del self.fields[name]

    #: The check-in's inputs: not the record's fields as such (the service turns them into it).
    FORM_ONLY = ("check_in", "latitude", "longitude", "accuracy", "location_status")

    def _model_field(self, name: str) -> Any:
        return None if name in self.FORM_ONLY else super()._model_field(name)

    def writable_data(self) -> dict[str, Any]:
        return {name: value for name, value in super().writable_data().items() if name not in self.FORM_ONLY}

    def check_in_data(self) -> dict[str, Any] | None:
        """The check-in the rep asked for (its place possibly empty), or None."""
        if not self.cleaned_data.get("check_in"):
            return None
        return {name: self.cleaned_data.get(name) or None for name in ("latitude", "longitude", "accuracy")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("check_in"):
            if cleaned.get("kind") and cleaned["kind"] != ActivityKind.VISIT:
                self.add_error("check_in", _("Only a visit is checked in."))
            try:
                check_in_place(
                    latitude=cleaned.get("latitude"),
                    longitude=cleaned.get("longitude"),
                    accuracy=cleaned.get("accuracy"),
                )
            except DomainError as error:
                for problems in error.field_errors.values():
                    for problem in problems:
                        self.add_error("check_in", problem)
        return cleaned


class NextStepForm(RecordForm):
    """The one-step log's second part: the next follow-up, pre-filled (the same kind, due
    ``CRM_FOLLOW_UP_DAYS`` from now); the rep may tick "no next step"."""

    policy_resource = "activities"
    prefix = "next"

    none = forms.BooleanField(label=_("No next step"), required=False)

    class Meta:
        model = Activity
        formfield_callback = formfield
        fields = ["kind", "due_at", "subject"]

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("subject", "due_at"):
            if name in self.fields:
                self.fields[name].required = False
        if "subject" in self.fields:
            self.fields["subject"].help_text = _("Empty: “Follow up:” and the subject above.")
        if not self.is_bound:
            self.initial.setdefault("due_at", timezone.localtime(follow_up_due()))
            if kind:
                self.initial.setdefault("kind", kind)

    def writable_data(self) -> dict[str, Any]:
        return {name: value for name, value in super().writable_data().items() if name != "none"}

    def skipped(self) -> bool:
        """Whether the rep chose no next step (then this part is not checked at all)."""
        return bool(self.is_bound and self.data.get(self.add_prefix("none")))


class PlanForm(RecordForm):
    """A planned follow-up: what to do, with whom and by when (due ``CRM_FOLLOW_UP_DAYS``
    from now unless the rep picks another time)."""

    policy_resource = "activities"
    wide_fields = ("notes",)

    class Meta:
        model = Activity
        formfield_callback = formfield
        fields = ["kind", "subject", "contact", "due_at", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "due_at" in self.fields:
            self.fields["due_at"].required = True
        if not self.is_bound:
            self.initial.setdefault("due_at", timezone.localtime(follow_up_due()))


class ServiceNeedForm(RecordForm):
    policy_resource = "service-needs"

    class Meta:
        model = ServiceNeed
        formfield_callback = formfield
        fields = ["kind", "title", "description", "priority", "status", "due_date", "resolution"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "resolution": forms.Textarea(attrs={"rows": 2})}


class CustomerFilterForm(forms.Form):
    """The list's search box and filters; fields the viewer may not read are removed."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=Tier.objects.order_by("rank"), required=False, empty_label=_("All")
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"), required=False, choices=[("", _("All")), *LifecycleStage.choices]
    )
    industry = forms.ChoiceField(label=_("Industry"), required=False, choices=[("", _("All")), *Industry.choices])
    region = forms.ChoiceField(label=_("Region"), required=False, choices=[("", _("All")), *Region.choices])
    owner = UserByNameField(label=_("Owner"), required=False)
    open_alert = forms.ChoiceField(
        label=_("Open risk alert"), required=False, choices=[("", _("All")), ("1", _("Yes")), ("0", _("No"))]
    )
    verify = forms.ChoiceField(
        label=_("Verification"),
        required=False,
        choices=[("", _("All")), ("due", _("Due for verification"))],
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    #: filter → the customer field it reveals
    GOVERNED = {
        "tier": "tier",
        "stage": "lifecycle_stage",
        "industry": "industry",
        "region": "region",
        "owner": "owner",
    }

    def __init__(self, *args: Any, user: Any, policy: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        for name, governed in self.GOVERNED.items():
            if policy.level("customers", governed) < Level.READ:
                del self.fields[name]
        if "owner" in self.fields:
            if user.role == Role.REP and not user.is_admin:
                del self.fields["owner"]
            else:
                owners = scoped_queryset(User, user).filter(is_active=True, role__in=[Role.REP, Role.MANAGER])
                self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
                self.fields["owner"].widget.attrs["list"] = "owner-names"
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select form-select-sm"
            elif not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs["class"] = "form-control form-control-sm"


class BulkForm(forms.Form):
    """A manager's action on the ticked customers."""

    ACTIONS = [("assign", _("Assign owner")), ("tag", _("Add tag"))]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    owner = UserByNameField(label=_("New owner"), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=40, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user)  # type: ignore[attr-defined]
        # Any id may be posted; the service keeps only those in the actor's scope.
        self.fields["ids"].choices = [(v, v) for v in self.data.getlist("ids")] if self.is_bound else []  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "assign" and not cleaned.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if cleaned.get("action") == "tag" and not cleaned.get("tag"):
            self.add_error("tag", _("Type the tag to add."))
        return cleaned
