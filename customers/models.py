"""The customer archive: the company, its people, our follow-ups and its particular needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Substr, Upper
from django.utils.translation import gettext_lazy as _

from crm.access.scope import customer_scope_q
from crm.core.models import VersionedModel
from crm.core.phones import Digits
from crm.core.search import bigram_index
from crm.core.validation import happened, planned

from .choices import (
    ActivityKind,
    CompanySize,
    CustomerKind,
    CustomerSource,
    Industry,
    LifecycleStage,
    NeedKind,
    NeedStatus,
    Priority,
    Region,
)

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{4,30}$", _("Enter a phone number: digits, spaces, dashes, an optional leading +.")
)
# Unified social credit code (统一社会信用代码): 18 characters; older tax ids have 15-20.
tax_id_validator = RegexValidator(r"^[0-9A-Z]{15,20}$", _("Enter a tax id of 15 to 20 digits or capital letters."))

#: The text columns the searches of customers and of contacts cover (``search_bigrams``).
CUSTOMER_SEARCHED = ("name", "short_name", "code")
CONTACT_SEARCHED = ("name", "title", "department", "email")


class Customer(VersionedModel):
    """A customer account: the company (or person) we sell to, with its archive fields.

    A customer has exactly one owning rep and at most one team; the record scope
    follows them.  The tier fields are written only by the tier engine and by managers'
    overrides; the lifecycle stage moves prospect → active → key, and to at-risk,
    churned and won-back as the relationship changes.
    """

    scope_path: ClassVar[str | None] = ""
    #: The columns the list's search covers, whose two-character pieces one index keeps
    #: (``crm.core.search``: a two-character name such as 华为 is found on it).
    search_bigrams: ClassVar[tuple[str, ...]] = CUSTOMER_SEARCHED

    code = models.CharField(_("customer code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.ENTERPRISE)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, default=Industry.OTHER)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    phone = models.CharField(_("switchboard phone"), max_length=32, blank=True, validators=[phone_validator])
    email = models.EmailField(_("general e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    company_size = models.CharField(_("company size"), max_length=20, choices=CompanySize.choices, blank=True)
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    tax_id = models.CharField(_("tax id"), max_length=20, blank=True, validators=[tax_id_validator])
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    influence_score = models.PositiveSmallIntegerField(
        _("influence score"),
        default=0,
        validators=[MaxValueValidator(10)],
        help_text=_("0-10: how much this customer's word moves others (references, industry standing)."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_customers"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    source = models.CharField(_("source"), max_length=20, choices=CustomerSource.choices, blank=True)
    tags = ArrayField(models.CharField(max_length=40), verbose_name=_("tags"), default=list, blank=True)
    customer_since = models.DateField(_("customer since"), null=True, blank=True, validators=[happened])
    # What a customer bought before its orders were kept here (a star-rated table's
    # 消费金额 and 购买频次, per year up to ``history_until``): the tier engine counts it
    # in proportion to the part of that year still inside its window, so it fades out as
    # the orders recorded here take over.
    history_spend = models.DecimalField(
        _("spend per year before the CRM"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    history_orders = models.PositiveIntegerField(_("purchases per year before the CRM"), null=True, blank=True)
    history_until = models.DateField(
        _("history before the CRM up to"),
        null=True,
        blank=True,
        help_text=_("The last day of the year the spend and purchases before the CRM stand for."),
    )
    # The rating dates a previous table kept (the engine's own evaluations are in TierChange).
    last_rated_on = models.DateField(_("last rated on"), null=True, blank=True, validators=[happened])
    next_rating_on = models.DateField(_("next rating due"), null=True, blank=True, validators=[planned])
    special_requirements = models.TextField(_("special requirements"), blank=True)
    cooperation_prospects = models.TextField(_("cooperation prospects"), blank=True)
    notes = models.TextField(_("remarks"), blank=True)
    consent_marketing = models.BooleanField(_("consents to marketing"), default=False)
    consent_data_processing = models.BooleanField(_("consents to data processing"), default=True)
    consent_updated_at = models.DateTimeField(_("consent updated at"), null=True, blank=True)
    # Current tier, maintained by the tier engine (tiers app); history is in TierChange.
    tier = models.ForeignKey(
        "tiers.Tier", verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    # The rank of that tier (0: none), kept by the database (customers migration 0018), so
    # that a list sorted by tier reads an index instead of sorting the whole book.
    tier_rank = models.PositiveSmallIntegerField(_("tier rank"), default=0, db_default=0, editable=False)
    tier_score = models.DecimalField(_("tier score"), max_digits=7, decimal_places=2, null=True, blank=True)
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    # Since when the score has been below the tier's threshold (the downgrade grace runs
    # from here); and until when a manager's override holds against evaluations.
    tier_below_since = models.DateTimeField(_("below its tier since"), null=True, blank=True)
    tier_override_until = models.DateTimeField(_("tier override until"), null=True, blank=True)
    # When the owner last confirmed the archive ("still right") or edited the profile;
    # a customer never confirmed counts from its creation (customers.verification).
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    last_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_id"],
                condition=~Q(tax_id=""),
                name="customer_tax_id_unique_when_present",
                violation_error_message=_("Another customer already has this tax id."),
            ),
            models.CheckConstraint(
                condition=Q(influence_score__lte=10),
                name="customer_influence_0_10",
                violation_error_message=_("The influence score is from 0 to 10."),
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="customer_revenue_positive",
                violation_error_message=_("The annual revenue cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(history_spend__isnull=True) | Q(history_spend__gte=0),
                name="customer_history_spend_positive",
                violation_error_message=_("The spend before the CRM cannot be negative."),
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "lifecycle_stage"], name="customer_owner_stage"),
            models.Index(fields=["team", "lifecycle_stage"], name="customer_team_stage"),
            models.Index(fields=["tier", "lifecycle_stage"], name="customer_tier_stage"),
            models.Index(fields=["industry", "region"], name="customer_industry_region"),
            # The churned few: the risk scan's inactivity rule leaves them out.
            models.Index(fields=["id"], condition=Q(lifecycle_stage="churned"), name="customer_churned"),
            # The record scope of everything a customer holds (alerts, feedback, service
            # records ...): a look-up of each record's customer reads its owner and team
            # from this index alone, not from the customer's wide row.
            models.Index(fields=["id"], include=["owner", "team"], name="customer_scope_probe"),
            # The default list order; without it a page of a million customers is a full sort.
            models.Index(fields=["name", "id"], name="customer_name_id"),
            # Every other order the lists offer, each ending on the id as the lists' orders do.
            models.Index(fields=["tier_rank", "id"], name="customer_tier_rank_id"),
            models.Index(fields=["tier_score", "id"], name="customer_tier_score_id"),
            models.Index(fields=["lifecycle_stage", "id"], name="customer_stage_id"),
            models.Index(fields=["city", "id"], name="customer_city_id"),
            models.Index(fields=["annual_revenue", "id"], name="customer_revenue_id"),
            models.Index(fields=["influence_score", "id"], name="customer_influence_id"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_id"),
            # Key accounts by name: the tier dashboard's "at risk" and a rep's day list them.
            models.Index(fields=["name", "id"], condition=Q(lifecycle_stage="key"), name="customer_key_name"),
            GinIndex(fields=["tags"], name="customer_tags_gin"),
            # The list's search is a substring match; trigram indexes keep it off a full scan.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="customer_name_trgm"),
            GinIndex(OpClass(Upper("code"), name="gin_trgm_ops"), name="customer_code_trgm"),
            GinIndex(OpClass(Upper("short_name"), name="gin_trgm_ops"), name="customer_short_name_trgm"),
            GinIndex(OpClass(Digits("phone"), name="gin_trgm_ops"), name="customer_phone_digits_trgm"),
            # A term too short for trigrams (most Chinese brand names) is found on this one.
            GinIndex(bigram_index(CUSTOMER_SEARCHED), name="customer_search_bigrams"),
            # The duplicate check while a customer is created (customers.similar): a
            # unified code's core (the old tax number in it), and e-mails and their domains.
            models.Index(Substr("tax_id", 3, 15), name="customer_tax_id_core"),
            # The API's search matches a whole tax id, in any case (``=tax_id``).
            models.Index(Upper("tax_id"), name="customer_tax_id_upper"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="customer_email_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class _KeptTeamAndOwner(models.Model):
    """A row the database keeps (abstract) under a team and an owner, copied from the
    customers it stands for, and scoped by them exactly as those customers are."""

    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, null=True, blank=True, related_name="+",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, related_name="+",
    )  # fmt: skip

    class Meta:
        abstract = True

    @classmethod
    def scope_queryset(cls, user: Any) -> models.QuerySet[Any]:
        """The rows of the teams and owners whose customers ``user`` sees."""
        return cls._default_manager.filter(customer_scope_q(user))


class ArchiveState(_KeptTeamAndOwner):
    """What archive health counts of one customer, kept by the database: its team, owner
    and tier, since when its verification period runs (last verified, or created) and
    the points its archive scores (``customers.completeness``: from its own fields, and
    from its contacts).

    Triggers on customers and contacts keep it (customers migration 0019); the
    application never writes it.  It is a narrow copy so that archive health counts who
    is overdue from one index, and keeps its figures per team and owner
    (``ArchiveFigure``) from it, instead of reading every customer's wide row and two
    look-ups of its contacts.  It mirrors its customer's owner and team, so it is scoped
    by them exactly as the customer is.
    """

    scope_path: ClassVar[str | None] = "customer"

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.DO_NOTHING, db_constraint=False,
        primary_key=True, related_name="+",
    )  # fmt: skip
    tier = models.ForeignKey(
        "tiers.Tier", verbose_name=_("tier"), on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, null=True, blank=True, related_name="+",
    )  # fmt: skip
    verify_since = models.DateTimeField(_("verification period runs since"))
    field_points = models.PositiveSmallIntegerField(_("points from the customer's fields"), default=0)
    contact_points = models.PositiveSmallIntegerField(_("points from its contacts"), default=0)

    class Meta:
        verbose_name = _("archive state")
        verbose_name_plural = _("archive states")
        indexes = [
            # Who is overdue (archive health), the verification periods run out first: of
            # a team, of an owner (a manager's own customers elsewhere), of everyone.
            models.Index(fields=["team", "verify_since"], include=["tier", "owner"], name="archive_state_team_since"),
            models.Index(fields=["owner"], name="archive_state_owner"),
            models.Index(fields=["verify_since"], include=["tier", "team", "owner"], name="archive_state_since"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.field_points + self.contact_points}%"


class ArchiveFigure(_KeptTeamAndOwner):
    """Archive health's figures per team and owner that do not move with time: how many
    customers, how many of them complete (``COMPLETE_PERCENT`` or more) and their points
    in all, kept by the database (customers migration 0023).

    Every statement that writes archive states appends the difference it makes, grouped
    by team and owner, as new rows (never updating one, so that no two writers wait on
    each other); a figure is the sum of its rows.  ``archive_figures_compact`` folds them
    into one row per team and owner every few minutes, and ``archive_figures_rebuild``
    counts them again from the archive states each night.  The application never writes
    them otherwise.  What does move with time (who is verified within their period) is
    counted from the archive states that are overdue, on their own index.

    Scoped by the team and owner, as the customers they count are.
    """

    scope_path: ClassVar[str | None] = ""

    customers = models.IntegerField(_("customers"), default=0)
    complete = models.IntegerField(_("complete"), default=0)
    points = models.BigIntegerField(_("points"), default=0)

    class Meta:
        verbose_name = _("archive figure")
        verbose_name_plural = _("archive figures")
        indexes = [
            models.Index(
                fields=["team", "owner"], include=["customers", "complete", "points"], name="archive_figure_team"
            ),
            models.Index(fields=["owner"], name="archive_figure_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.owner_id}: {self.customers}"


class CustomerScopeCopy(models.Model):
    """A record of a customer's that carries a copy of its customer's owner and team, and
    is scoped by them exactly as its customer is (``crm.access.scope``), without looking
    up the customer of each record: a manager's queue of open feedback or alerts reads
    them from its own rows.

    The database keeps the copies (customers migration 0021 and the migrations of each
    app that copies): they are taken whenever a record is written with its customer,
    whatever the application wrote in them, and follow a customer whose owner or team
    changes, in the same transaction.  The application never writes them.
    """

    customer_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("customer's owner"), on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False, null=True, blank=True, editable=False, related_name="+",
    )  # fmt: skip
    customer_team = models.ForeignKey(
        "accounts.Team", verbose_name=_("customer's team"), on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False, null=True, blank=True, editable=False, related_name="+",
    )  # fmt: skip

    #: The copies are the database's, not a change anyone made to the record.
    audit_exclude: ClassVar[frozenset[str]] = VersionedModel.audit_exclude | {"customer_owner", "customer_team"}

    class Meta:
        abstract = True

    @classmethod
    def scope_queryset(cls, user: Any) -> models.QuerySet[Any]:
        """The records of the customers ``user`` sees, by the owner and team copied here."""
        return cls._default_manager.filter(  # type: ignore[attr-defined,no-any-return]
            customer_scope_q(user, owner="customer_owner", team="customer_team")
        )


class Contact(VersionedModel):
    """A person at a customer.  At most one contact per customer is the primary one."""

    scope_path: ClassVar[str | None] = "customer"
    #: The columns the searches of contacts cover (``crm.core.search``), as the customer's;
    #: the job title and department have no trigram index, so every term takes this one.
    search_bigrams: ClassVar[tuple[str, ...]] = CONTACT_SEARCHED
    search_bigrams_always: ClassVar[bool] = True

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("office phone"), max_length=32, blank=True, validators=[phone_validator])
    mobile = models.CharField(_("mobile"), max_length=32, blank=True, validators=[phone_validator])
    wechat = models.CharField(_("WeChat id"), max_length=64, blank=True)
    social_accounts = models.JSONField(
        _("other social accounts"),
        default=dict,
        blank=True,
        help_text=_('Other accounts by network, e.g. {"dingtalk": "...", "weibo": "...", "linkedin": "..."}.'),
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    marketing_consent = models.BooleanField(_("consents to marketing"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer_id", "-is_primary", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
                violation_error_message=_("This customer already has a primary contact."),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "is_primary"], name="contact_customer_primary"),
            models.Index(fields=["mobile"], name="contact_mobile"),
            models.Index(fields=["email"], name="contact_email"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="contact_name_trgm"),
            # Phones are searched by their digits, however they were typed (crm.core.phones).
            GinIndex(OpClass(Digits("mobile"), name="gin_trgm_ops"), name="contact_mobile_digits_trgm"),
            GinIndex(OpClass(Digits("phone"), name="gin_trgm_ops"), name="contact_phone_digits_trgm"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="contact_email_trgm"),
            GinIndex(bigram_index(CONTACT_SEARCHED), name="contact_search_bigrams"),
            # The orders the list offers on the contact's own columns, ending on the id as
            # the list's order does (contacts loaded together share one creation time).
            models.Index(fields=["name", "id"], name="contact_name_id"),
            models.Index(fields=["created_at", "id"], name="contact_created_id"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(VersionedModel):
    """A follow-up with a customer: done (a log entry) or planned (a task with a due time).

    A planned follow-up belongs to an assignee and shows on their list until it is done.
    A visit may carry its check-in (外勤签到): when the rep checked in and, if the phone
    shared it, where (latitude and longitude in degrees, the accuracy in metres).  A
    check-in without coordinates is a visit whose rep did not share the location.
    """

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices, default=ActivityKind.CALL)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="activities"
    )
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True, validators=[happened])
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, validators=[planned])
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, validators=[happened])
    outcome = models.TextField(_("outcome"), blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True, validators=[happened])
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    location_accuracy = models.PositiveIntegerField(
        _("location accuracy (m)"), null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-due_at", "-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False) | Q(done_at__isnull=False),
                name="activity_done_has_time",
                violation_error_message=_("A follow-up marked done needs the time it was done."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="activity_check_in_on_earth",
                violation_error_message=_("A check-in's latitude is -90 to 90 and its longitude -180 to 180."),
            ),
        ]
        indexes = [
            # "My follow-ups due today": open items of one assignee by due time.
            models.Index(fields=["assignee", "due_at"], condition=Q(done=False), name="activity_open_due"),
            models.Index(fields=["customer", "occurred_at"], name="activity_customer_time"),
            # Each order the list offers, ending on the id as the list's order does: a page
            # of a whole company's follow-ups, or of a manager's teams, reads its rows from
            # one end of one of these (either way), not from a sort of every row.
            models.Index(fields=["created_at", "id"], name="activity_created"),
            models.Index(fields=["due_at", "id"], name="activity_due"),
            models.Index(fields=["occurred_at", "id"], name="activity_occurred"),
            models.Index(fields=["done", "id"], name="activity_done"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def located(self) -> bool:
        """Whether the check-in carries the place (the phone shared its location)."""
        return self.latitude is not None and self.longitude is not None

    @property
    def check_in_map_url(self) -> str | None:
        """A map showing where the rep checked in (Amap, from the browser's WGS-84 degrees)."""
        if not self.located:
            return None
        return (
            f"https://uri.amap.com/marker?position={self.longitude},{self.latitude}"
            f"&coordinate=wgs84&name={quote(self.subject)}"
        )


class ServiceNeed(VersionedModel):
    """A personalised need of a customer (customisation, special requirement, care) and its follow-through."""

    scope_path: ClassVar[str | None] = "customer"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="service_needs"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NeedKind.choices, default=NeedKind.OTHER)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    due_date = models.DateField(_("due date"), null=True, blank=True, validators=[planned])
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("service need")
        verbose_name_plural = _("service needs")
        ordering = ["customer_id", "status", "-id"]
        indexes = [models.Index(fields=["customer", "status"], name="need_customer_status")]

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    """A user's named set of filters, search and sort on the customer list.

    Views are private to their user; the name is unique per user, so saving under an
    existing name replaces that view.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("query"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                name="saved_view_user_name",
                violation_error_message=_("You have a saved view of this name already."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_queryset(cls, user: object) -> models.QuerySet[SavedView]:
        """A user sees only their own views."""
        if not getattr(user, "is_authenticated", False):
            return cls.objects.none()
        return cls.objects.filter(user=user)
