"""What the imports API reads and writes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import ImportMode
from ..committing import DUPLICATE_CHOICES
from ..kinds import ARCHIVE, KINDS
from ..models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    """An import: its file, how it was read, what its dry run found and what it did."""

    created_by = serializers.CharField(source="created_by.username", read_only=True)
    has_error_report = serializers.SerializerMethodField(label=_("error report"))
    percent = serializers.IntegerField(label=_("per cent written"), read_only=True)

    class Meta:
        model = ImportJob
        fields = (
            "id", "kind", "mode", "key", "file_name", "encoding", "delimiter", "mapping", "create_duplicates",
            "state", "counts", "rows", "problems", "details", "has_error_report", "message", "to_write",
            "done_rows", "percent", "cancel_requested", "created_by", "created_at", "finished_at", "version",
        )  # fmt: skip
        read_only_fields = fields

    def get_has_error_report(self, job: ImportJob) -> bool:
        return job.error_report is not None


class ImportUploadSerializer(serializers.Serializer):
    """A file to check: what it holds and how its rows meet the book."""

    file = serializers.FileField(label=_("file"))
    kind = serializers.ChoiceField(
        label=_("kind"),
        choices=[*sorted(KINDS), ARCHIVE],
        help_text=_("archive: a workbook of several sheets, each recognised by its headers and imported together."),
    )
    mode = serializers.ChoiceField(label=_("mode"), choices=ImportMode.choices, default=ImportMode.UPSERT)
    key = serializers.CharField(label=_("key"), max_length=40, required=False, allow_blank=True)
    encoding = serializers.CharField(label=_("encoding"), max_length=30, required=False, allow_blank=True)
    delimiter = serializers.CharField(label=_("delimiter"), max_length=1, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key = attrs.get("key") or ""
        if key and attrs["kind"] == ARCHIVE:
            raise serializers.ValidationError({"key": [_("Each sheet of a workbook is matched by its own keys.")]})
        if key and key not in KINDS[attrs["kind"]].keys:
            raise serializers.ValidationError({"key": [_("Records of this kind are found by %(keys)s.") % {
                "keys": ", ".join(KINDS[attrs["kind"]].keys)}]})  # fmt: skip
        return attrs


class ImportRunSerializer(serializers.Serializer):
    """What running an import may say: per suspected duplicate (by its ``position`` in the
    dry run's ``details.duplicates``), skip it, create it, or update the customer it
    looks like."""

    duplicate_choices = serializers.DictField(
        label=_("choices for suspected duplicates"),
        child=serializers.ChoiceField(choices=DUPLICATE_CHOICES),
        required=False,
    )
