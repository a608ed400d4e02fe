"""API routes of orders and products, registered by ``crm.api_urls``."""

from .views import ProductViewSet, TransactionViewSet

routes = [
    ("products", ProductViewSet, "product"),
    ("transactions", TransactionViewSet, "transaction"),
]
