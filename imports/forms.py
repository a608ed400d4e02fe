"""The forms of the import pages: the upload, and the choices made on the dry run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import require_version

from .choices import ImportMode
from .kinds import ARCHIVE, KINDS
from .models import ImportJob

#: What each kind of import is called on the pages.
KIND_LABELS: dict[str, Any] = {
    "customers": _("Customers"),
    "contacts": _("Contacts"),
    "transactions": _("Orders and payments"),
    "activities": _("Follow-ups"),
    "service-records": _("Service records"),
    "feedback": _("Feedback and suggestions"),
    "satisfaction-responses": _("Satisfaction answers"),
    "participations": _("Campaign participation"),
    "service-needs": _("Personalised service needs"),
    ARCHIVE: _("A workbook of several sheets (the archive)"),
}


_SELECT = {"class": "form-select"}
_TEXT = {"class": "form-control"}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[(code, KIND_LABELS[code]) for code in (*KINDS, ARCHIVE)],
        widget=forms.Select(attrs=_SELECT),
    )
    file = forms.FileField(label=_("File (.xlsx, .xls, .csv)"), widget=forms.ClearableFileInput(attrs=_TEXT))
    mode = forms.ChoiceField(
        label=_("Rows that name an existing record"), choices=ImportMode.choices, widget=forms.Select(attrs=_SELECT)
    )
    encoding = forms.CharField(
        label=_("Encoding of a CSV file"),
        max_length=30,
        required=False,
        help_text=_("Leave empty to have it detected."),
        widget=forms.TextInput(attrs=_TEXT),
    )


class CheckForm(forms.Form):
    """The dry run's choices: a field for each column, the mode, the key, the encoding."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    mode = forms.ChoiceField(label=_("Mode"), choices=ImportMode.choices, widget=forms.Select(attrs=_SELECT))
    key = forms.ChoiceField(label=_("Existing records are found by"), widget=forms.Select(attrs=_SELECT))
    encoding = forms.CharField(label=_("Encoding"), max_length=30, required=False, widget=forms.TextInput(attrs=_TEXT))
    create_duplicates = forms.BooleanField(label=_("Create suspected duplicates anyway"), required=False)
    mapping_name = forms.CharField(
        label=_("Save this mapping as"),
        max_length=80,
        required=False,
        help_text=_("Files with the same headers are mapped this way from now on; a name lets you choose it."),
        widget=forms.TextInput(attrs=_TEXT),
    )

    def __init__(
        self,
        *args: Any,
        job: ImportJob,
        headers: list[str],
        fields: list[tuple[str, str]],
        duplicates: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        require_version(self.fields["version"], job)
        if job.kind == ARCHIVE:
            del self.fields["key"]  # each sheet is matched by its own keys
            del self.fields["mapping_name"]
        else:
            key_field: Any = self.fields["key"]
            labels = dict(fields)
            key_field.choices = [(key, labels.get(key, key)) for key in KINDS[job.kind].keys]
        self.columns: list[str] = []
        options = [("", _("(not imported)")), *fields]
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or f"#{index + 1}",
                choices=options,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            self.columns.append(name)
        #: A choice per suspected duplicate: skip it, create it anyway, or update the
        #: customer it looks like (when the user may see that one).
        self.duplicates: list[tuple[str, dict[str, Any]]] = []
        default = "create" if job.create_duplicates else "skip"
        for duplicate in duplicates or []:
            place = str(duplicate["position"])
            options = [("skip", _("Skip it")), ("create", _("Create it anyway"))]
            if duplicate.get("existing"):
                options.append(("update", _("Update the existing customer")))
            name = f"duplicate_{place}"
            self.fields[name] = forms.ChoiceField(
                label=_("Row %(row)s") % {"row": duplicate["row"]},
                choices=options,
                initial=job.duplicate_choices.get(place, default),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            self.duplicates.append((name, duplicate))

    def duplicate_choices(self) -> dict[str, str]:
        """What the user chose for each suspected duplicate, by its place in the file."""
        return {name.removeprefix("duplicate_"): self.cleaned_data[name] for name, _duplicate in self.duplicates}

    def mapping(self, headers: list[str]) -> dict[str, str | None]:
        return {
            header: (self.cleaned_data.get(f"column_{index}") or None) for index, header in enumerate(headers) if header
        }
