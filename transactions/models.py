"""What customers buy: the product catalogue and each order with its payment state."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import VersionedModel
from crm.core.validation import happened, planned

from .choices import OPEN_STATUSES, Currency, PaymentKind, PaymentMethod, PaymentState, TransactionStatus


def open_due_expression() -> Case:
    """An order's due date while it is open (pending or shipped), else nothing: the
    overdue are those whose open due date has passed.  PostgreSQL keeps statistics of
    this expression (``transactions`` migration 0013), so it knows how few open orders
    are past due; on the status and the due date apart it takes them as independent
    and guesses thirty times too many (632,000 of ten million orders at L for 19,494)."""
    return Case(When(status__in=OPEN_STATUSES, then=F("due_date")), output_field=models.DateField())


def payment_state_expression() -> Case:
    """An order's payment state from its figures: paid when what arrived covers what is
    owed after refunds, partly paid while something short of it arrived, refunded when
    everything paid was given back, else unpaid.  The database computes it (a generated
    column), so it is right whoever writes the figures."""
    return Case(
        When(
            Q(paid_amount__gt=0) & Q(paid_amount__gte=F("amount") - F("refunded_amount")),
            then=Value(PaymentState.PAID.value),
        ),
        When(paid_amount__gt=0, then=Value(PaymentState.PARTLY_PAID.value)),
        When(refunded_amount__gt=0, then=Value(PaymentState.REFUNDED.value)),
        default=Value(PaymentState.UNPAID.value),
    )


class Product(VersionedModel):
    """A product or service we sell.  Company-wide reference data; SKUs are unique."""

    scope_path: ClassVar[str | None] = None

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="件")
    list_price = models.DecimalField(
        _("list price"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    is_service = models.BooleanField(_("is a service"), default=False)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0),
                name="product_price_positive",
                violation_error_message=_("A product's list price cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Transaction(VersionedModel):
    """One order of a customer and its payment.

    ``amount`` is what the customer owes; ``paid_amount`` what has arrived, net of
    refunds and reversals, and ``refunded_amount`` what was given back.  All three
    payment figures, ``paid_date``, ``payment_state`` and the paid/refunded statuses
    follow the order's :class:`Payment` records: the database recomputes them whenever
    payments are written (transactions migration 0010), whatever the channel.  An order
    past its ``due_date`` with less paid than owed is overdue (the risk engine watches
    this).  Integrations upsert orders idempotently by ``(source, external_ref)``.
    """

    scope_path: ClassVar[str | None] = "customer"
    #: Found by a search of three characters or more on their trigram indexes.
    search_trigrams: ClassVar[tuple[str, ...]] = ("description", "external_ref")

    # Indexed by txn_customer_metrics below, whose first column it is.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    order_date = models.DateField(_("order date"), validators=[happened])
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    status = models.CharField(
        _("status"), max_length=20, choices=TransactionStatus.choices, default=TransactionStatus.PENDING
    )
    due_date = models.DateField(_("payment due date"), null=True, blank=True, validators=[planned])
    paid_date = models.DateField(_("paid date"), null=True, blank=True, validators=[happened])
    paid_amount = models.DecimalField(
        _("paid amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    refunded_amount = models.DecimalField(
        _("refunded amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    payment_state = models.GeneratedField(
        expression=payment_state_expression(),
        output_field=models.CharField(_("payment state"), max_length=20, choices=PaymentState.choices),
        db_persist=True,
        verbose_name=_("payment state"),
    )
    source = models.CharField(_("source system"), max_length=40, blank=True, help_text=_("e.g. erp, shop, manual"))
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    sales_rep = models.ForeignKey(
        "accounts.User", verbose_name=_("sales rep"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~Q(external_ref=""),
                name="transaction_external_ref_unique",
                violation_error_message=_("An order with this external reference already exists for this source."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="transaction_amount_positive",
                violation_error_message=_("An order's amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="transaction_quantity_positive",
                violation_error_message=_("An order's quantity must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0),
                name="transaction_paid_positive",
                violation_error_message=_("The amount paid cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0),
                name="transaction_refunded_positive",
                violation_error_message=_("The amount refunded cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | Q(due_date__gte=F("order_date")),
                name="transaction_due_after_order",
                violation_error_message=_("The due date cannot be before the order date."),
            ),
        ]
        indexes = [
            # A customer's orders by date, with what the tier engine sums: a chunk of
            # customers is aggregated from this index alone (index-only, in customer order,
            # no hash table), never from the table.
            models.Index(fields=["customer", "order_date"], include=["amount", "status"], name="txn_customer_metrics"),
            models.Index(fields=["status", "due_date"], name="txn_status_due"),
            # Each order the list offers, ending on the id as the list's order does: a page of
            # a whole company's orders is read from one end of one of these (either way),
            # not from a sort of ten million rows (33-43 s at L, before).  The order date's
            # also serves every look-up by date.
            models.Index(fields=["order_date", "id"], name="txn_order_date_id"),
            models.Index(fields=["amount", "id"], name="txn_amount_id"),
            models.Index(fields=["due_date", "id"], name="txn_due_date_id"),
            models.Index(fields=["created_at", "id"], name="txn_created_id"),
            models.Index(fields=["status", "id"], name="txn_status_id"),
            models.Index(fields=["payment_state", "id"], name="txn_payment_state_id"),
            # A search of the orders' descriptions and references (an integration's order
            # number): a term of three characters or more is found on these, not by
            # reading ten million orders (2.4 s at L for one reference, before).
            GinIndex(OpClass(Upper("description"), name="gin_trgm_ops"), name="txn_description_trgm"),
            GinIndex(OpClass(Upper("external_ref"), name="gin_trgm_ops"), name="txn_external_ref_trgm"),
            # Recent cancellations: the risk scan's cancellation rule reads only these, all
            # of the window's by date, or some customers' by customer.
            models.Index(
                fields=["order_date"],
                include=["customer", "product"],
                condition=Q(status="cancelled"),
                name="txn_cancelled_date",
            ),
            models.Index(
                fields=["customer", "order_date"],
                include=["product"],
                condition=Q(status="cancelled"),
                name="txn_cancelled_customer",
            ),
            # Open receivables: the risk engine's overdue scan reads only these rows.
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=OPEN_STATUSES),
                name="txn_open_due",
            ),
            # Some customers' open receivables, by due date: the daily risk scan reads the
            # changed customers' through this index, and each part of a full scan (a range
            # of customers) those past due in its range.
            models.Index(
                fields=["customer", "due_date"],
                condition=Q(status__in=OPEN_STATUSES),
                name="txn_open_customer_due",
            ),
            # The overdue receivables, whoever's: found on their open due date, not by
            # reading a team's customers first (a manager's overdue orders took 0.6-1.4 s
            # at L, before).  It holds what the overdue test, the scope and the default
            # order read, so a page's ids and the count come from it alone.
            models.Index(
                open_due_expression(),
                include=[
                    "id",
                    "customer",
                    "status",
                    "order_date",
                    "due_date",
                    "amount",
                    "paid_amount",
                    "refunded_amount",
                ],
                condition=Q(status__in=OPEN_STATUSES),
                name="txn_overdue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_date} {self.amount} {self.currency}"

    @property
    def outstanding(self) -> Decimal:
        """What the customer still owes: the amount less refunds, less what was paid."""
        return max(self.amount - self.refunded_amount - self.paid_amount, Decimal("0"))

    @property
    def is_overdue(self) -> bool:
        """Past its due date, still open and not fully paid (same rule as ``selectors.overdue_condition``)."""

        return bool(
            self.due_date
            and self.due_date < timezone.localdate()
            and self.status in OPEN_STATUSES
            and self.outstanding > 0
        )


class Payment(VersionedModel):
    """One payment record of an order (回款): money in, or a refund or reversal out.

    A payment is more than zero; a refund or a reversal is less than zero and gives its
    reason.  The order's paid and refunded amounts, paid date, payment state and the
    paid/refunded statuses follow these records, kept by the database for every write
    (transactions migration 0010).  Records are not edited: a wrong payment is reversed
    (a new record pointing at it), so the history stays readable.  An order with
    payments cannot be deleted until they are reversed or removed.
    """

    scope_path: ClassVar[str | None] = "customer"
    #: The link the customer follows from: a payment is the order's customer's, whatever
    #: order it names (the database keeps the two equal).
    customer_from: ClassVar[str] = "order"
    #: Found by a search of three characters or more on their trigram indexes.
    search_trigrams: ClassVar[tuple[str, ...]] = ("reference", "reason")
    fixed_fields: ClassVar[tuple[str, ...]] = ("customer", "order", "kind", "amount", "reverses")

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
    )
    order = models.ForeignKey(Transaction, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=20, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    paid_on = models.DateField(_("payment date"), validators=[happened])
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("e.g. the bank slip or transaction number")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
    )
    recorded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    #: Recorded from the order's own paid figures as an integration or an import sent them
    #: (not by a person): such records go with the order when the order is deleted.
    from_order = models.BooleanField(_("from the order's figures"), default=False, db_default=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=PaymentKind.PAYMENT) & Q(amount__gt=0))
                | (Q(kind__in=[PaymentKind.REFUND, PaymentKind.REVERSAL]) & Q(amount__lt=0)),
                name="payment_sign_follows_kind",
                violation_error_message=_(
                    "A payment must be more than zero; a refund or a reversal must be less than zero."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind=PaymentKind.PAYMENT) | ~Q(reason=""),
                name="payment_refund_has_reason",
                violation_error_message=_("A refund or a reversal needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind=PaymentKind.REVERSAL),
                name="payment_only_reversal_reverses",
                violation_error_message=_("Only a reversal can name the payment it reverses."),
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="payment_reversed_once",
                violation_error_message=_("This payment has already been reversed."),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "paid_on"], name="payment_customer_date"),
            # Each order the list offers, ending on the id as the list's order does: a page of
            # a manager's or an admin's payments is read from one end of one of these, not
            # from a sort of nine million rows (2.4-5.6 s at L, before).
            models.Index(fields=["paid_on", "id"], name="payment_paid_on_id"),
            models.Index(fields=["amount", "id"], name="payment_amount_id"),
            models.Index(fields=["created_at", "id"], name="payment_created_id"),
            # A search of the references and reasons: a term of three characters or more is
            # found on these, not by reading every payment.
            GinIndex(OpClass(Upper("reference"), name="gin_trgm_ops"), name="payment_reference_trgm"),
            GinIndex(OpClass(Upper("reason"), name="gin_trgm_ops"), name="payment_reason_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


class CustomerOrderStats(models.Model):
    """A customer's buying rhythm: on how many days it ordered, first and last, counting
    neither cancelled nor refunded orders.

    Kept by the database itself: a trigger on orders recomputes the row of every customer
    whose orders a statement touched (transactions migration 0004), so the risk scan reads
    a million customers' rhythm from this narrow table instead of ten million orders.  The
    application never writes it.
    """

    scope_path: ClassVar[str | None] = "customer"

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="order_stats",
    )
    order_days = models.PositiveIntegerField(_("days with orders"), default=0)
    first_order_date = models.DateField(_("first order"), null=True, blank=True)
    last_order_date = models.DateField(_("last order"), null=True, blank=True)

    class Meta:
        verbose_name = _("order rhythm")
        verbose_name_plural = _("order rhythms")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.order_days} days, last {self.last_order_date}"
