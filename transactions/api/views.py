"""Order and product endpoints."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.reveal import RevealMixin
from crm.core.api import ScopedModelViewSet, etag_for

from .. import selectors, services
from ..models import Payment, Product, Transaction
from .filtersets import PaymentFilterSet, ProductFilterSet, TransactionFilterSet
from .serializers import PaymentReverseSerializer, PaymentSerializer, ProductSerializer, TransactionSerializer


class ProductViewSet(ScopedModelViewSet):
    """The product catalogue: everyone reads it, managers maintain it."""

    model = Product
    resource = "products"
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    search_fields = ("sku", "name", "category")
    ordering_fields = ("name", "sku", "list_price", "created_at")
    ordering = ("name", "id")
    create_service = staticmethod(services.product_create)
    update_service = staticmethod(services.product_update)
    delete_service = staticmethod(services.product_delete)

    selector = staticmethod(selectors.product_list)


class TransactionViewSet(RevealMixin, ScopedModelViewSet):
    """Orders of the customers the caller may see; integrations upsert by external reference."""

    model = Transaction
    resource = "transactions"
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilterSet
    search_fields = ("description", "external_ref", "customer__name", "customer__code")
    ordering_fields = ("order_date", "amount", "due_date", "created_at", "status", "payment_state")
    ordering = ("-order_date", "-id")
    create_service = staticmethod(services.transaction_create)
    update_service = staticmethod(services.transaction_update)
    create_many_service = staticmethod(services.transaction_create_many)
    update_many_service = staticmethod(services.transaction_update_many)
    delete_service = staticmethod(services.transaction_delete)

    selector = staticmethod(selectors.transaction_list)

    @extend_schema(
        request=TransactionSerializer,
        responses={
            200: TransactionSerializer,
            201: TransactionSerializer,
            400: OpenApiResponse(description="Invalid"),
            409: OpenApiResponse(description="The reference is held by an order beyond the caller's scope"),
        },
    )
    @action(detail=False, methods=["post"])
    def upsert(self, request: Request) -> Response:
        """Create or update the order known by ``(source, external_ref)``: safe to repeat.

        An order the caller may see is updated with the fields sent (the others are
        kept); a new reference needs a whole order.  A ``paid_amount``, or the status
        ``paid``/``completed``/``refunded``, is recorded as the payment record that brings
        the order there (a payment, a reversal or a refund), so repeating it records
        nothing more.  A reference held by an order beyond
        the caller's scope is a bare 409, answered before the body is looked at.
        """
        data = request.data if isinstance(request.data, Mapping) else {}
        existing = selectors.transaction_by_reference(
            user=request.user, source=str(data.get("source") or ""), external_ref=str(data.get("external_ref") or "")
        )
        serializer = self.get_serializer(existing, data=request.data, partial=existing is not None)
        serializer.is_valid(raise_exception=True)
        instance, created = services.transaction_upsert(actor=request.user, data=dict(serializer.validated_data))
        response = Response(
            self.get_serializer(instance).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
        response["ETag"] = etag_for(instance)
        return response


class PaymentViewSet(ScopedModelViewSet):
    """An order's payment records (回款): reps record payments and refunds on their
    customers' orders; managers reverse a payment (``POST {id}/reverse/``) or remove a
    record entered in error.  Records are never edited."""

    model = Payment
    resource = "payments"
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    search_fields = ("reference", "reason", "order__external_ref", "customer__name")
    ordering_fields = ("paid_on", "amount", "created_at")
    ordering = ("-paid_on", "-id")
    http_method_names = ["get", "post", "delete", "head", "options"]
    create_service = staticmethod(services.payment_create)
    delete_service = staticmethod(services.payment_delete)

    selector = staticmethod(selectors.payment_list)

    @extend_schema(
        request=PaymentReverseSerializer,
        responses={201: PaymentSerializer, 400: OpenApiResponse(description="Refused")},
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        """Reverse a payment that did not happen after all: a new record of the opposite
        amount; the order is owed the money again."""
        payment = self.get_object()
        given = PaymentReverseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        reversal = services.payment_reverse(
            actor=request.user,
            instance=payment,
            reason=given.validated_data["reason"],
            paid_on=given.validated_data.get("paid_on"),
        )
        response = Response(self.get_serializer(reversal).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag_for(reversal)
        return response
