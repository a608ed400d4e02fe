"""The duplicate-candidates endpoint: the finder's proposals, and the "not a duplicate" verdict."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api import ScopedModelViewSet, etag_for, expected_version

from .. import merging, selectors, services
from ..models import DuplicateCandidate
from .filtersets import DuplicateCandidateFilterSet
from .serializers import DuplicateCandidateSerializer, MergeSerializer


class DuplicateCandidateViewSet(ScopedModelViewSet):
    """Pairs of customers that may be one company twice, most likely first; a pair shows
    only to whoever may see both customers (a merged pair, to whoever sees the customer
    kept).  Managers and admins decide, sending the pair's ETag in ``If-Match``:
    ``POST {id}/not-duplicate/`` says the two are different companies, for good;
    ``POST {id}/merge/`` merges them into one; ``POST {id}/unmerge/`` undoes a merge
    within ``CRM_UNMERGE_DAYS``."""

    model = DuplicateCandidate
    resource = "duplicate-candidates"
    serializer_class = DuplicateCandidateSerializer
    filterset_class = DuplicateCandidateFilterSet
    ordering_fields = ("score", "found_at")
    ordering = ("-score", "customer_a_id", "customer_b_id")
    search_fields = ("customer_a__name", "customer_b__name", "customer_a__code", "customer_b__code")
    http_method_names = ["get", "post", "head", "options"]

    selector = staticmethod(selectors.candidate_list)
    if_match_actions = frozenset({"not_duplicate", "merge", "unmerge"})

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

    @extend_schema(request=MergeSerializer, responses={200: DuplicateCandidateSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge the two customers into the one on side ``keep``: every contact, order,
        follow-up, service record, feedback, survey answer, participation, need, alert
        and tier or stage change moves to it in one transaction; ``values`` says per
        field which side's value it keeps.  One audit event keeps the other whole."""
        pair: DuplicateCandidate = self.get_object()
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        merged = merging.customer_merge(
            actor=request.user,
            candidate=pair,
            keep=body.validated_data["keep"],
            values=body.validated_data["values"],
            expected_version=expected_version(request),
        )
        return self._answer(merged)

    @extend_schema(request=None, responses={200: DuplicateCandidateSerializer})
    @action(detail=True, methods=["post"])
    def unmerge(self, request: Request, pk: str | None = None) -> Response:
        """Undo the pair's merge: the customer merged away is back with everything that
        moved; the pair is open again."""
        pair: DuplicateCandidate = self.get_object()
        version = expected_version(request)
        restored = merging.customer_unmerge(actor=request.user, candidate=pair, expected_version=version)
        return self._answer(restored)

    def _answer(self, pair: DuplicateCandidate) -> Response:
        fresh = selectors.candidate_list(user=self.request.user).filter(pk=pair.pk).first() or pair
        response = Response(self.get_serializer(fresh).data)
        response["ETag"] = etag_for(fresh)
        return response
