"""The imports API: upload a file for its dry run, read what it found, run it, undo it.

``POST /api/v1/imports/`` takes the file as multipart form data (``file``, ``kind``,
``mode``, ``key``, ``encoding``, ``delimiter``) and answers the job with its counts, its
columns as matched and its first problems; ``POST …/{id}/run/`` (with ``If-Match``)
queues the import (202); ``POST …/{id}/undo/`` undoes it; ``GET …/{id}/errors/`` is the
error report.  A caller sees their own imports, an admin everyone's; an API token must
also hold write access to the records the file brings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api import ScopedModelViewSet, etag_for, expected_version
from crm.core.parsers import BoundedJSONParser
from crm.core.spreadsheets import XLSX

from .. import services, tasks
from ..kinds import ARCHIVE, KINDS
from ..models import ImportJob
from ..report import error_report_download
from ..selectors import import_jobs_for
from .serializers import ImportJobSerializer, ImportRunSerializer, ImportUploadSerializer


class UndoneSerializer(serializers.Serializer):
    undone = serializers.IntegerField()
    kept = serializers.ListField(child=serializers.CharField())


class ImportJobViewSet(ScopedModelViewSet):
    """Imports of spreadsheets and CSV files: each checked first (a dry run), then run."""

    model = ImportJob
    resource = "imports"
    serializer_class = ImportJobSerializer
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    filterset_fields = ("state", "kind")
    ordering_fields = ("id", "created_at")
    ordering = ("-id",)
    http_method_names = ["get", "post", "head", "options"]
    selector = staticmethod(import_jobs_for)
    file_actions = frozenset({"export", "errors"})

    def _check_token(self, request: Request, kind: str) -> None:
        token = getattr(request, "auth", None)
        if token is None or not hasattr(token, "allows"):
            return
        # A workbook of several sheets may write every kind.
        resources = {found.resource for found in KINDS.values()} if kind == ARCHIVE else {KINDS[kind].resource}
        if not all(token.allows(resource, write=True) for resource in resources):
            raise exceptions.PermissionDenied(_("This token may not write these records."))

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a file and get its dry run: nothing is written to the book."""
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        self._check_token(request, data["kind"])
        file = data["file"]
        if file.size > services.max_bytes():
            raise exceptions.ValidationError({"file": [_("The file is larger than %(most)d MB.") % {
                "most": services.max_bytes() // (1024 * 1024)}]})  # fmt: skip
        job, _plan = services.import_check(
            actor=request.user,
            file_name=file.name or "upload",
            content=file.read(),
            kind=data["kind"],
            mode=data["mode"],
            key=data.get("key") or "",
            encoding=data.get("encoding") or "",
            delimiter=data.get("delimiter") or "",
        )
        response = Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag_for(job)
        return response

    @extend_schema(request=ImportRunSerializer, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        """Import the checked file (on a worker), or go on with a failed or cancelled import
        after the last row it wrote; send the ETag you read in If-Match.  Follow
        ``done_rows`` / ``to_write`` (``percent``) by reading the import.  For the suspected
        duplicates the dry run lists (``details.duplicates``, each with its
        ``position``), ``duplicate_choices`` says per position: skip (the default),
        create, or update (the existing customer it looks like)."""
        job = self.get_object()
        version = expected_version(request)
        self._check_token(request, job.kind)
        body = ImportRunSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        job = services.import_start(
            actor=request.user,
            job=job,
            expected_version=version,
            duplicate_choices=body.validated_data.get("duplicate_choices"),
        )
        transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
        response = Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["ETag"] = etag_for(job)
        return response

    @extend_schema(request=None, responses={200: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Stop a running import after the chunk it is writing; what it wrote stays, to
        resume (``run``) or undo."""
        job = self.get_object()
        version = expected_version(request)
        self._check_token(request, job.kind)
        job = services.import_cancel(actor=request.user, job=job, expected_version=version)
        response = Response(ImportJobSerializer(job).data)
        response["ETag"] = etag_for(job)
        return response

    @extend_schema(request=None, responses={200: UndoneSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Undo an import that ran: what it created is removed, what it updated gets its
        values back; a record changed since is kept and named."""
        job = self.get_object()
        version = expected_version(request)
        self._check_token(request, job.kind)
        undone, kept = services.import_undo(actor=request.user, job=job, expected_version=version)
        return Response({"undone": undone, "kept": [str(line) for line in kept]})

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY, 404: OpenApiResponse(description="No problems.")})
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: str | None = None) -> FileResponse:
        """The error report: the file's own rows, the bad cells marked and commented."""
        return error_report_download(self.get_object())
