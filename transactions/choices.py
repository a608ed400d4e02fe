from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill")
    OTHER = "other", _("Other")


class TransactionStatus(models.TextChoices):
    PENDING = "pending", _("Pending payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class PaymentState(models.TextChoices):
    """How far an order is paid, derived from its payment records (never set by hand)."""

    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")


class PaymentKind(models.TextChoices):
    """A payment record brings money in; a refund gives some back to the customer (what
    the customer owes shrinks with it); a reversal undoes a payment that did not happen
    after all (bounced, recorded on the wrong order), so the money is owed again."""

    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")
    HKD = "HKD", _("Hong Kong dollar")
    JPY = "JPY", _("Japanese yen")


#: An order still owed (not yet paid, not closed): the receivables the risk scan watches,
#: read through the partial indexes of open orders (``Transaction.Meta.indexes``).
OPEN_STATUSES = (TransactionStatus.PENDING, TransactionStatus.SHIPPED)

#: The statuses an order takes from its payments: nobody sets them by hand in a form.
PAYMENT_STATUSES = (TransactionStatus.PAID, TransactionStatus.REFUNDED)

#: An order that counts as a sale: a prospect with one becomes an active customer.
PAID_STATUSES = (TransactionStatus.PAID, TransactionStatus.SHIPPED, TransactionStatus.COMPLETED)


def sql_list(statuses: tuple[TransactionStatus, ...]) -> str:
    """``statuses`` as SQL literals for an ``IN (...)`` written into a statement's text,
    e.g. ``'pending', 'shipped'``: a partial index serves a statement only when the
    planner sees the index's own condition in it, which a bound parameter would hide."""
    return ", ".join(f"'{status.value}'" for status in statuses)
