"""The resources of orders and products (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, NOBODY, STAFF_ROLES, Resource, register

from .api.views import PaymentViewSet, ProductViewSet, TransactionViewSet

register(
    Resource("products", ProductViewSet, basename="product", update=MANAGERS),
    Resource(
        "transactions",
        TransactionViewSet,
        basename="transaction",
        delete=MANAGERS,
        governed=True,
        archive=(3, _("Transaction history")),
        synonyms={
            "product": ("产品", "产品名称", "商品", "购买产品"),
            "quantity": ("数量", "购买数量"),
            "unit_price": ("单价",),
            "amount": ("消费金额", "交易金额", "金额", "订单金额", "合同金额"),
            "currency": ("币种", "货币"),
            "order_date": ("购买日期", "下单日期", "订单日期", "交易日期"),
            "payment_method": ("支付方式", "付款方式"),
            "status": ("订单状态", "状态"),
            "due_date": ("付款到期日", "应付日期", "到期日"),
            "paid_date": ("付款日期", "回款日期"),
            "paid_amount": ("已付金额", "回款金额", "已收金额"),
            "external_ref": ("订单号", "订单编号", "外部单号"),
            "description": ("描述", "订单描述"),
            "notes": ("备注",),
        },
    ),
    # Reps record payments and refunds on their customers' orders; managers (and admins,
    # integrations) reverse a payment or remove a record entered in error.  Records are
    # never edited.  The field policy on ``payments`` decides who may write their amount.
    Resource(
        "payments",
        PaymentViewSet,
        basename="payment",
        update=NOBODY,
        create=STAFF_ROLES,
        delete=MANAGERS,
        actions={"reverse": MANAGERS},
        governed=True,
    ),
)
