"""Customer archive endpoints: declarative viewsets over the scope, writes through services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.masking import kind_of, mask_value
from crm.access.policy import Level, policy_for
from crm.access.reveal import RevealMixin
from crm.access.serializers import mask_changes
from crm.core.api import ScopedModelViewSet, etag_for, expected_version
from crm.core.archive import MOST_CUSTOMERS, archive_response
from crm.core.spreadsheets import XLSX

from .. import merging, selectors, services
from ..contact_duplicates import contact_duplicates, describe
from ..models import Activity, Contact, Customer, ServiceNeed
from ..similar import refuse_similar_contact, refuse_similar_customer
from .filtersets import ActivityFilterSet, ContactFilterSet, CustomerFilterSet, ServiceNeedFilterSet
from .serializers import (
    ActivityCheckInSerializer,
    ActivityCompleteSerializer,
    ActivitySerializer,
    ActivitySnoozeSerializer,
    ContactCreateSerializer,
    ContactMergeSerializer,
    ContactPairSerializer,
    ContactSerializer,
    ContactUnmergeSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    ServiceNeedSerializer,
    SimilarContactsRefusalSerializer,
    SimilarCustomersRefusalSerializer,
    TimelineSerializer,
)

# Which resource field each value in a timeline entry's detail comes from.
_TIMELINE_FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "activity": (
        "activities",
        {
            "activity_kind": "kind",
            "done": "done",
            "due_at": "due_at",
            "checked_in_at": "checked_in_at",
            # Whether, where and the map of where a rep checked in: the place's fields.
            "located": "latitude",
            "latitude": "latitude",
            "longitude": "longitude",
            "location_accuracy": "location_accuracy",
            "check_in_map_url": "latitude",
        },
    ),
    "transaction": ("transactions", {"amount": "amount", "currency": "currency", "status": "status"}),
    "service_record": ("service-records", {"service_type": "service_type", "result": "result", "rating": "rating"}),
    "feedback": ("feedback", {"feedback_kind": "kind", "status": "status"}),
    "satisfaction": ("satisfaction-responses", {"csat": "csat", "nps": "nps"}),
    "risk_alert": ("risk-alerts", {"severity": "severity", "status": "status"}),
}


def _apply_field_policy(entries: list[selectors.TimelineEntry], policy: Any) -> None:
    """Show each entry's details at the viewer's level of the fields they come from."""
    for entry in entries:
        if entry.kind == "audit":
            entry.detail["changes"] = mask_changes(policy, entry.detail["resource"], entry.detail["changes"])
            continue
        resource, fields = _TIMELINE_FIELDS.get(entry.kind, ("", {}))
        for key, field in fields.items():
            level = policy.level(resource, field)
            if level == Level.HIDDEN:
                entry.detail.pop(key, None)
            elif level == Level.MASKED and key in entry.detail:
                entry.detail[key] = mask_value(entry.detail[key], kind_of(resource, field))


class TimelineQuerySerializer(serializers.Serializer):
    """The timeline's parameters: ``limit`` (clamped to 1-200) and ``before``, a time in
    the business date range (garbage, or a time out of the range, is a 400)."""

    limit = serializers.IntegerField(required=False, default=50, error_messages={"invalid": _("Give a whole number.")})
    before = serializers.DateTimeField(required=False)


_CREATE_ANYWAY = OpenApiParameter(
    "create_anyway",
    OpenApiTypes.BOOL,
    description="Create even though similar records exist (as the body's create_anyway).",
)


def _create_anyway(request: Request, serializer: serializers.BaseSerializer) -> bool:
    """Whether the caller confirmed a create despite similar records: the body's
    ``create_anyway`` or ``?create_anyway=true``."""
    flag = str(request.query_params.get("create_anyway", "")).strip().lower()
    return bool(getattr(serializer, "confirmed", False)) or flag in ("true", "1", "yes", "on")


class CreateCheckedMixin:
    """A create through its own serializer (``create_serializer_class``, which takes
    ``create_anyway``); every other action through ``serializer_class``."""

    create_serializer_class: type[serializers.BaseSerializer]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if getattr(self, "action", None) == "create":
            return self.create_serializer_class
        return super().get_serializer_class()  # type: ignore[misc, no-any-return]


@extend_schema_view(
    create=extend_schema(
        parameters=[_CREATE_ANYWAY],
        responses={201: CustomerSerializer, 409: SimilarCustomersRefusalSerializer},
    )
)
class CustomerViewSet(CreateCheckedMixin, RevealMixin, ScopedModelViewSet):
    """Customers the caller may see.  Reps create and edit their own; managers also delete.

    A create is refused with 409 (``code: similar_customers``) when the book holds
    customers like the new one (:mod:`customers.similar`: the whole book is searched, and
    the answer's ``similar`` names only those the caller may see); ``create_anyway``
    creates it all the same.  Updates and imports (``customer_create_many``) do not run
    the check; there is no upsert by natural key here.
    """

    model = Customer
    resource = "customers"
    serializer_class = CustomerSerializer
    create_serializer_class = CustomerCreateSerializer
    filterset_class = CustomerFilterSet
    # Each searched column has an index the search can use (trigrams on the names and the
    # code, a whole tax id on its own): one column without would scan the whole book.
    # The city is a filter (``?city=``), not a search.
    search_fields = ("name", "short_name", "code", "=tax_id")
    #: A phone number is found however it is typed: the switchboard, or a contact's.
    phone_search = selectors.CUSTOMER_PHONES
    ordering_fields = (
        "name",
        "code",
        "created_at",
        "updated_at",
        "annual_revenue",
        "influence_score",
        "tier__rank",
        "tier_score",
        "lifecycle_stage",
        "city",
    )
    #: Sorting by tier reads the customer's own copy of its tier's rank (0: no tier, the
    #: lowest), which an index keeps in order.
    ordering_columns = {"tier__rank": "tier_rank"}
    ordering = selectors.LIST_ORDER
    create_service = staticmethod(services.customer_create)
    update_service = staticmethod(services.customer_update)
    create_many_service = staticmethod(services.customer_create_many)
    update_many_service = staticmethod(services.customer_update_many)
    delete_service = staticmethod(services.customer_delete)

    selector = staticmethod(selectors.customer_api_list)
    one_record = staticmethod(selectors.customer_one)
    page_related = staticmethod(selectors.attach_contacts)
    list_page = staticmethod(selectors.customer_list_page)
    list_count = staticmethod(selectors.customer_count)

    def perform_create(self, serializer: serializers.BaseSerializer) -> Customer:  # type: ignore[override]
        if not _create_anyway(self.request, serializer):
            refuse_similar_customer(
                user=self.request.user,
                data=dict(serializer.validated_data),
                policy=policy_for(self.request.user, self.request),
            )
        return super().perform_create(serializer)  # type: ignore[return-value]

    file_actions = frozenset({"export", "archive", "archive_set"})
    #: Business verbs that take the version the caller saw (If-Match) and answer the new ETag.
    if_match_actions = frozenset({"verify"})

    @extend_schema(request=None, responses={200: CustomerSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """The owner confirms the archive is still right (stamps ``last_verified_at``);
        send the ETag you read in If-Match."""
        customer = self.get_object()
        version = expected_version(request)
        verified = services.customer_verify(actor=request.user, instance=customer, expected_version=version)
        response = Response(self.get_serializer(verified).data)
        response["ETag"] = etag_for(verified)
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="How many entries (1-200, default 50)."),
            OpenApiParameter("before", OpenApiTypes.DATETIME, description="Only entries before this time (paging)."),
        ],
        responses=TimelineSerializer,
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """Everything that happened to this customer, newest first, across all record kinds."""
        customer = self.get_object()
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = min(max(query.validated_data["limit"], 1), 200)
        before = query.validated_data.get("before")
        entries = selectors.customer_timeline(customer=customer, user=request.user, limit=limit, before=before)
        _apply_field_policy(entries, policy_for(request.user, request))
        next_before = entries[-1].at if len(entries) == limit else None
        return Response(TimelineSerializer({"results": entries, "next_before": next_before}).data)

    @extend_schema(responses={200: ContactPairSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="contact-duplicates", url_name="contact-duplicates")
    def contact_duplicates(self, request: Request, pk: str | None = None) -> Response:
        """The pairs of this customer's contacts that look like one person entered twice
        (same mobile digits, e-mail, WeChat id, or name without spaces), strongest first;
        merge them with ``POST /api/v1/contacts/{id}/merge/``.  A reason resting on a
        field hidden from the caller is left out."""
        customer = self.get_object()
        pairs = contact_duplicates(user=request.user, customer=customer, request=request)
        rows = [
            {
                "first": pair.first,
                "second": pair.second,
                "reasons": [{"code": code, "text": describe(code)} for code in pair.reasons],
                "strong": pair.strong,
            }
            for pair in pairs
        ]
        return Response(ContactPairSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(operation_id="v1_customers_archive_retrieve", responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def archive(self, request: Request, pk: str | None = None) -> FileResponse:
        """This customer's key-account archive as an Excel workbook: a sheet per section
        (basic information, contacts, transactions, feedback, needs, campaigns, risks,
        service, tier history …), each as the caller may see it."""
        customer = self.get_object()
        return archive_response(request, [customer.pk], name=f"archive-{customer.code or customer.pk}")

    @extend_schema(operation_id="v1_customers_archive_set", responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], url_path="archive", url_name="archive-set")
    def archive_set(self, request: Request) -> FileResponse:
        """The archive workbook of every customer of the list as filtered, searched and
        ordered here (at most 1,000 customers; a 400 asks to narrow the list)."""
        ids = list(self.filter_queryset(self.get_queryset()).values_list("pk", flat=True)[: MOST_CUSTOMERS + 1])
        if len(ids) > MOST_CUSTOMERS:
            message = _("An archive holds at most %(most)d customers; narrow the list.") % {"most": MOST_CUSTOMERS}
            raise exceptions.ValidationError({"non_field_errors": [message]})
        return archive_response(request, ids, name="archive")


def _answer_header(name: str, kind: OpenApiTypes, description: str) -> OpenApiParameter:
    """A header every 200 answer of an action carries."""
    return OpenApiParameter(name, kind, OpenApiParameter.HEADER, required=True, response=[200], description=description)


@extend_schema_view(
    create=extend_schema(
        parameters=[_CREATE_ANYWAY],
        responses={201: ContactSerializer, 409: SimilarContactsRefusalSerializer},
    )
)
class ContactViewSet(CreateCheckedMixin, RevealMixin, ScopedModelViewSet):
    """Contacts of the customers the caller may see.

    A create is refused with 409 (``code: similar_contacts``) when the customer has a
    contact with the same mobile, e-mail or name (listed in ``similar``);
    ``create_anyway`` creates it all the same.  Imports do not run the check.
    """

    model = Contact
    resource = "contacts"
    serializer_class = ContactSerializer
    create_serializer_class = ContactCreateSerializer
    filterset_class = ContactFilterSet
    search_fields = ("name", "title", "department", "email", "customer__name")
    phone_search = (("contacts", "mobile", "mobile"), ("contacts", "phone", "phone"))
    ordering_fields = ("name", "created_at", "updated_at", "customer__name")
    ordering = ("customer_id", "-is_primary", "name", "id")
    create_service = staticmethod(services.contact_create)
    update_service = staticmethod(services.contact_update)
    create_many_service = staticmethod(services.contact_create_many)
    update_many_service = staticmethod(services.contact_update_many)
    delete_service = staticmethod(services.contact_delete)

    selector = staticmethod(selectors.contact_list)
    #: Merging into a contact and undoing it: If-Match of this contact in, its new ETag out.
    if_match_actions = frozenset({"merge", "unmerge"})

    @extend_schema(
        request=ContactMergeSerializer,
        responses={200: ContactSerializer},
        parameters=[
            _answer_header(
                "Merge-Event", OpenApiTypes.INT, "The id of the merge's audit event: send it to unmerge/ to undo it."
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge another contact of the same customer (``duplicate``, at
        ``duplicate_version``) into this one: per field in ``values``, this contact keeps
        its own value or takes the other's (a field you may not write keeps its own);
        every record naming the other now names this one; a primary duplicate makes this
        one primary; the other is deleted.  One transaction, one audit event (its id in
        ``Merge-Event``), undone with ``unmerge/`` within ``CRM_UNMERGE_DAYS`` days.  Send
        this contact's ETag in If-Match; a contact you may not see is a 404, another
        customer's contact a 400, a stale version of either a 412."""
        survivor = self.get_object()
        version = expected_version(request)
        body = ContactMergeSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        duplicate = self.get_queryset().filter(pk=body.validated_data["duplicate"]).first()
        if duplicate is None:
            raise exceptions.NotFound(_("No such contact to merge: the duplicate is not one you may see."))
        merged, event = merging.contact_merge(
            actor=request.user,
            survivor=survivor,
            duplicate=duplicate,
            values=body.validated_data["values"],
            expected_versions={survivor.pk: version, duplicate.pk: body.validated_data["duplicate_version"]},
        )
        response = Response(self.get_serializer(merged).data)
        response["ETag"] = etag_for(merged)
        response["Merge-Event"] = str(event.pk)
        return response

    @extend_schema(
        request=ContactUnmergeSerializer,
        responses={200: ContactSerializer},
        parameters=[_answer_header("Location", OpenApiTypes.STR, "The address of the contact brought back.")],
    )
    @action(detail=True, methods=["post"])
    def unmerge(self, request: Request, pk: str | None = None) -> Response:
        """Undo the merge into this contact recorded as audit event ``event`` (the
        ``Merge-Event`` of ``merge/``): the merged contact comes back with its id
        (``Location``), this one gets back its values, and the moved records that still
        name this one name the other again.  Within ``CRM_UNMERGE_DAYS`` days and once
        (later, or again, is a 400).  Send this contact's ETag in If-Match; the answer is
        this contact with its new ETag."""
        survivor = self.get_object()
        version = expected_version(request)
        body = ContactUnmergeSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        back = merging.contact_unmerge(
            actor=request.user, survivor=survivor, event_id=body.validated_data["event"], expected_version=version
        )
        kept = get_object_or_404(self.get_queryset(), pk=survivor.pk)
        response = Response(self.get_serializer(kept).data)
        response["ETag"] = etag_for(kept)
        response["Location"] = f"/api/v1/contacts/{back.pk}/"
        return response

    def perform_create(self, serializer: serializers.BaseSerializer) -> Contact:  # type: ignore[override]
        if not _create_anyway(self.request, serializer):
            refuse_similar_contact(
                data=dict(serializer.validated_data), policy=policy_for(self.request.user, self.request)
            )
        return super().perform_create(serializer)  # type: ignore[return-value]


class ActivityViewSet(RevealMixin, ScopedModelViewSet):
    model = Activity
    resource = "activities"
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    search_fields = ("subject", "notes", "customer__name")
    ordering_fields = ("due_at", "occurred_at", "created_at", "done")
    ordering = ("-created_at", "-id")
    create_service = staticmethod(services.activity_create)
    update_service = staticmethod(services.activity_update)
    delete_service = staticmethod(services.activity_delete)

    selector = staticmethod(selectors.activity_list)
    #: The actions that change the follow-up: If-Match in, the new ETag out.
    if_match_actions = frozenset({"complete", "snooze", "check_in"})

    def _answer(self, activity: Activity) -> Response:
        response = Response(self.get_serializer(activity).data)
        response["ETag"] = etag_for(activity)
        return response

    @extend_schema(request=ActivityCompleteSerializer, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark the follow-up done (now; it happened now unless it says when), with its
        outcome if given; send the ETag you read in If-Match.  Done already: unchanged."""
        activity = self.get_object()
        version = expected_version(request)
        body = ActivityCompleteSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        outcome = body.validated_data.get("outcome", "")
        return self._answer(
            services.activity_complete(actor=request.user, instance=activity, expected_version=version, outcome=outcome)
        )

    @extend_schema(request=ActivitySnoozeSerializer, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        """Put an open follow-up off: ``option`` ``1d``, ``3d`` or ``monday`` (at the time
        of day it was due), or ``until`` a later time; send the ETag in If-Match."""
        activity = self.get_object()
        version = expected_version(request)
        body = ActivitySnoozeSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        until = body.validated_data.get("until") or services.snooze_until(
            body.validated_data["option"], due_at=activity.due_at
        )
        return self._answer(
            services.activity_snooze(actor=request.user, instance=activity, until=until, expected_version=version)
        )

    @extend_schema(request=ActivityCheckInSerializer, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"], url_path="check-in", url_name="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        """Check in at a visit (外勤签到): now, and the place if the phone shared it (a
        check-in without one still counts); once per visit; send the ETag in If-Match."""
        activity = self.get_object()
        version = expected_version(request)
        body = ActivityCheckInSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        checked_in = services.activity_check_in(
            actor=request.user, instance=activity, expected_version=version, **body.validated_data
        )
        return self._answer(checked_in)


class ServiceNeedViewSet(RevealMixin, ScopedModelViewSet):
    model = ServiceNeed
    resource = "service-needs"
    serializer_class = ServiceNeedSerializer
    filterset_class = ServiceNeedFilterSet
    search_fields = ("title", "description", "customer__name")
    ordering_fields = ("due_date", "priority", "status", "created_at")
    ordering = ("-created_at", "-id")
    create_service = staticmethod(services.service_need_create)
    update_service = staticmethod(services.service_need_update)
    delete_service = staticmethod(services.service_need_delete)

    selector = staticmethod(selectors.service_need_list)
