"""API plumbing shared by every app: versioned writes and scoped viewsets.

Every viewset in the project derives from :class:`ScopedModelViewSet`, so the three
rules that must hold on every endpoint live here once:

* the queryset is built from the record scope (``crm.access.scope``), so another
  rep's record is a 404 and never appears in a list;
* reads carry an ``ETag`` and every update and delete must send it back in
  ``If-Match`` (428 without it or with ``*``, 412 when stale or not one of our ETags);
* writes go through the app's service functions, which are atomic and audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, cast

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.api.serializers import ChangeRequestSerializer
from crm.access.changes import change_propose
from crm.access.scope import scoped_queryset

from .errors import PreconditionRequired, VersionConflict
from .export import ExportMixin
from .pagination import StandardPagination
from .validation import parse_id

# --------------------------------------------------------------- optimistic locking
# Our ETags are strong and are the record's version in quotes: "7".  If-Match compares
# strongly (RFC 9110 13.1.1), so a weak W/"7" never matches, and we take exactly one ETag:
# a list would let a write through on any of several versions.
_ETAG = re.compile(r'"(?P<version>0|[1-9][0-9]{0,9})"')
#: Longer than any ETag of ours; a longer header is refused before it is parsed.
_IF_MATCH_MAX = 24


def etag_for(instance: Model) -> str:
    return f'"{instance.version}"'  # type: ignore[attr-defined]


def expected_version(request: Request) -> int:
    """The version the client based its update or delete on, from ``If-Match``.

    Every change of a versioned record must name the version it was based on, so that a
    change made in the meantime is never overwritten or deleted unseen:

    * no header (or an empty one) is a 428;
    * ``*`` is a 428 too: it means "any current version", which protects nothing;
    * anything but exactly one of our ETags (a weak one, a list, a number too long,
      digits of another script, a header too long) is a 412, as it can never match.
    """
    header = request.headers.get("If-Match", "").strip(" \t")
    if not header:
        raise PreconditionRequired()
    if header == "*":
        raise PreconditionRequired(_("If-Match: * is not accepted; send the ETag you read from this record."))
    match = _ETAG.fullmatch(header) if len(header) <= _IF_MATCH_MAX else None
    if match is None:
        raise VersionConflict(message=_("If-Match does not hold a valid ETag of this record."))
    return int(match.group("version"))


# --------------------------------------------------------------------- fields
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to another record that the requesting user may see.

    An id outside the user's scope reads exactly like an id that does not exist, so a
    client cannot probe for other reps' records by linking to them.
    """

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        model = cast(QuerySet[Any], self.queryset).model  # type: ignore[arg-type]
        user = getattr(request, "user", None)
        return scoped_queryset(model, user)


# --------------------------------------------------------------------- viewsets
class ScopedModelViewSet(ExportMixin, viewsets.ModelViewSet):
    """A model endpoint whose rows come from the record scope and whose writes are services.

    Subclasses set ``model``, ``resource`` (the name the app declares in its
    ``resources`` module, used by token scopes, the role rules and the field policy)
    and the serializer; they implement ``perform_create``/``perform_update``/
    ``perform_destroy`` by calling their app's services.  ``select_related`` /
    ``prefetch_related`` name what the serializer reads so lists run a constant number
    of queries.
    """

    #: Marks this class for the schema generator, which cannot import it (``crm.core.schema``).
    scoped_base: ClassVar[bool] = True
    model: type[Model]
    resource: str
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[Any, ...] = ()
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    #: A selector ``(user=...) -> QuerySet`` that shapes the rows (it starts from the scope).
    selector: Any = None
    #: ``(user=..., pk=...) -> record or None``: the one record a detail shows, as the
    #: selector gives it, read with prepared statements (``crm.access.scope.ScopedStatement``).
    one_record: Any = None
    #: ``(records) -> None``: attaches what the serializer reads of related records to one
    #: page of the list with prepared statements, in place of the selector's
    #: ``prefetch_related`` (which compiles its statement for every page).
    page_related: Any = None
    #: ``(user=..., limit=..., offset=...) -> records`` and ``(user=...) -> (count, more)``:
    #: the list as it opens, with no parameter but the page and its size, read with
    #: statements compiled once (``ScopedStatement``, ``paged``) in the viewset's default
    #: ``ordering``, and counted as ``crm.core.pagination.capped_count`` counts the
    #: selector's rows, but from figures kept for it.  Both or neither.
    list_page: Any = None
    list_count: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        if self.selector is not None:
            return self.selector(user=self.request.user)  # type: ignore[no-any-return]
        queryset = scoped_queryset(self.model, self.request.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def get_object(self) -> Any:
        """The one record the URL names, from the scope; the list's filter, search and
        ordering backends only run when the request names a parameter (they would
        build a whole filter form to narrow one row by its key)."""
        if self.one_record is not None and self.action == "retrieve" and not self.request.query_params:
            key = parse_id(str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")))
            instance = None if key is None else self.one_record(user=self.request.user, pk=key)
            if instance is not None:
                self.check_object_permissions(self.request, instance)
                return instance
            # Not found (or not a key): the general path answers, with its own 404.
        self._one_record = True
        try:
            return super().get_object()
        finally:
            self._one_record = False

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list; as it opens (:meth:`_opens_as_is`), from ``list_page`` and ``list_count``
        without building the queryset at all."""
        if self.list_page is None or not self._opens_as_is():
            return super().list(request, *args, **kwargs)
        user = request.user
        page = cast(StandardPagination, self.paginator).paginate_rows(
            lambda offset, limit: self.list_page(user=user, limit=limit, offset=offset),
            lambda: self.list_count(user=user),
            request,
        )
        assert page is not None  # StandardPagination always has a page size (25 unless asked)
        if self.page_related is not None:
            self.page_related(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def paginate_queryset(self, queryset: Any) -> Any:
        if self.page_related is None or not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset)
        page = super().paginate_queryset(queryset.prefetch_related(None))
        if page is not None:
            self.page_related(page)
        return page

    def _opens_as_is(self) -> bool:
        """Whether this is the list as it opens: no parameter but the page and its size,
        so that no filter, search or sort applies and the rows come in ``ordering``."""
        paginator = self.paginator
        if self.action != "list" or not isinstance(paginator, StandardPagination):
            return False
        return set(self.request.query_params) <= {paginator.page_query_param, paginator.page_size_query_param}

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "_one_record", False) and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        if hasattr(instance, "version"):
            response["ETag"] = etag_for(instance)
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_create(serializer)
        data = self.get_serializer(instance).data
        response = Response(data, status=status.HTTP_201_CREATED)
        if hasattr(instance, "version"):
            response["ETag"] = etag_for(instance)
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        version = expected_version(request)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        proposed = getattr(serializer, "proposed", None)
        if proposed:
            return self._update_with_proposal(instance, serializer.validated_data, proposed, version)
        updated = self.perform_update_versioned(instance, serializer.validated_data, version)
        response = Response(self.get_serializer(updated).data)
        response["ETag"] = etag_for(updated)
        return response

    def _update_with_proposal(
        self, instance: Model, data: dict[str, Any], proposed: dict[str, Any], version: int
    ) -> Response:
        """An update that names fields the caller may only propose (``crm.access.changes``).

        The fields the caller may write are written as usual; the proposed ones become
        one change request, in the same transaction.  When only proposals changed, the
        answer is 202 with the change request; otherwise the updated record, with the
        request's address in ``Content-Location``.
        """
        with transaction.atomic():
            updated = self.perform_update_versioned(instance, data, version) if data else instance
            written = bool(data) and getattr(updated, "version", None) != getattr(instance, "version", None)
            change = change_propose(
                actor=self.request.user,
                resource=self.resource,
                instance=updated,
                data=proposed,
                expected_version=None if written else version,
            )
        if change is not None and not written:
            response = Response(ChangeRequestSerializer(change).data, status=status.HTTP_202_ACCEPTED)
            response["Location"] = f"/api/v1/change-requests/{change.pk}/"
            response["ETag"] = etag_for(updated)
            return response
        response = Response(self.get_serializer(updated).data)
        response["ETag"] = etag_for(updated)
        if change is not None:
            response["Content-Location"] = f"/api/v1/change-requests/{change.pk}/"
        return response

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        version = expected_version(request)
        self.perform_destroy_versioned(instance, version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # The app's services, declared on each viewset with ``staticmethod(...)``.
    create_service: Any = None
    update_service: Any = None
    delete_service: Any = None
    #: The same writes for many records at once, in a few statements (imports use them
    #: where a resource offers them): ``create_many_service(actor=, rows=[data, …])`` and
    #: ``update_many_service(actor=, changes=[(record, data, version), …])``.
    create_many_service: Any = None
    update_many_service: Any = None

    def perform_create(self, serializer: serializers.BaseSerializer) -> Model:  # type: ignore[override]
        if self.create_service is None:
            raise exceptions.MethodNotAllowed(self.request.method or "POST")
        return self.create_service(actor=self.request.user, data=dict(serializer.validated_data))

    def perform_update_versioned(self, instance: Model, data: dict[str, Any], version: int | None) -> Model:
        if self.update_service is None:
            raise exceptions.MethodNotAllowed(self.request.method or "PATCH")
        return self.update_service(
            actor=self.request.user, instance=instance, data=dict(data), expected_version=version
        )

    def perform_destroy_versioned(self, instance: Model, version: int | None) -> None:
        if self.delete_service is None:
            raise exceptions.MethodNotAllowed(self.request.method or "DELETE")
        self.delete_service(actor=self.request.user, instance=instance, expected_version=version)


class JobViewSet(ScopedModelViewSet):
    """The API of a kind of background job (tier runs, risk scans): its jobs with their
    state and summary, and ``POST start/``, which queues one now or, when one is already
    queued or running, returns that one (202 either way).

    A subclass declares ``start_job(actor)`` (the app's service, with the manual trigger)
    along with the model, serializer and resource; who may start one is the registry's
    ``start`` action.  Jobs are made by starting them, so there is no create.
    """

    filterset_fields = ("state", "trigger")
    ordering_fields = ("id", "as_of")
    ordering = ("-id",)
    http_method_names = ["get", "post", "head", "options"]
    #: The app's service that starts a job (with the manual trigger) or gives the active one.
    start_job: Callable[[Any], Model]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "start_job", None)):
            raise TypeError(f"{cls.__name__} must declare start_job(actor)")

    @extend_schema(exclude=True)  # POST is for the start action; there is no create
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed("POST")

    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        job = self.start_job(request.user)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
