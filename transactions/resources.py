"""The resources of orders and products (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import ProductViewSet, TransactionViewSet

register(
    Resource("products", ProductViewSet, basename="product", update=MANAGERS),
    Resource(
        "transactions",
        TransactionViewSet,
        basename="transaction",
        delete=MANAGERS,
        governed=True,
        archive=(3, _("Transaction history")),
    ),
)
