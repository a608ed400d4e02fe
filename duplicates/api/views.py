"""The duplicate-candidates endpoint: the finder's proposals, and the "not a duplicate" verdict."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api import ScopedModelViewSet, etag_for, expected_version

from .. import selectors, services
from ..models import DuplicateCandidate
from .filtersets import DuplicateCandidateFilterSet
from .serializers import DuplicateCandidateSerializer


class DuplicateCandidateViewSet(ScopedModelViewSet):
    """Pairs of customers that may be one company twice, most likely first; a pair shows
    only to whoever may see both customers.  ``POST {id}/not-duplicate/`` (managers,
    admins; ``If-Match``) says the two are different companies, for good."""

    model = DuplicateCandidate
    resource = "duplicate-candidates"
    serializer_class = DuplicateCandidateSerializer
    filterset_class = DuplicateCandidateFilterSet
    ordering_fields = ("score", "found_at")
    ordering = ("-score", "customer_a_id", "customer_b_id")
    search_fields = ("customer_a__name", "customer_b__name", "customer_a__code", "customer_b__code")
    http_method_names = ["get", "post", "head", "options"]

    selector = staticmethod(selectors.candidate_list)

    @extend_schema(exclude=True)  # pairs are found, never created by hand
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=None, responses={200: DuplicateCandidateSerializer})
    @action(detail=True, methods=["post"], url_path="not-duplicate")
    def not_duplicate(self, request: Request, pk: str | None = None) -> Response:
        """Mark the pair as two different companies; it is never proposed again."""
        pair: DuplicateCandidate = self.get_object()
        decided = services.candidate_not_duplicate(
            actor=request.user, candidate=pair, expected_version=expected_version(request)
        )
        response = Response(self.get_serializer(decided).data)
        response["ETag"] = etag_for(decided)
        return response
