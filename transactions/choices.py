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


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")
    HKD = "HKD", _("Hong Kong dollar")
    JPY = "JPY", _("Japanese yen")
