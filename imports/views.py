"""The import pages: upload a file, see its dry run and choose how its columns map, import
it (on a worker, the page follows it), see the history, download the error report, undo.

Views are thin: the services check the role (``may``), plan, import and undo; a user sees
their own imports, an admin everyone's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.access.registry import CREATE, get_resource, may
from crm.core.errors import DomainError
from crm.core.spreadsheets import xlsx_download
from crm.core.spreadsheets.headers import targets_for
from crm.core.validation import parse_id

from . import services, tasks
from .choices import ImportState
from .forms import KIND_LABELS, CheckForm, UploadForm
from .kinds import ARCHIVE, KINDS, resource_of
from .models import ImportJob
from .planning import import_targets
from .report import error_report_download
from .selectors import import_jobs_for
from .templates import PRESETS, TEMPLATES, write_template

#: How many problems and rows the dry run's page shows (the error report has them all).
SHOWN = 50


def _jobs(user: Any) -> Any:
    return import_jobs_for(user=user)


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(_jobs(request.user), pk=pk)


def _may_import_something(user: Any) -> bool:
    """Whether the role may create records of some kind an import brings."""
    return any(may(user, CREATE, kind.resource) for kind in KINDS.values())


@login_required
@require_GET
def history_view(request: HttpRequest) -> HttpResponse:
    """Every import the user ran (an admin: everyone's), newest first."""
    page = Paginator(_jobs(request.user), 25).get_page(request.GET.get("page"))
    kinds = [(code, KIND_LABELS[code]) for code in KINDS]
    kinds += [("archive", _("Key-account archive (every sheet)"))]
    kinds += [(code, preset.title) for code, preset in PRESETS.items()]
    context = {"page": page, "kinds": kinds, "labels": KIND_LABELS, "may_import": _may_import_something(request.user)}
    return render(request, "imports/history.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload_view(request: HttpRequest) -> HttpResponse:
    """Upload a file; its dry run follows at once (the service asks ``may`` for the kind)."""
    if not any(may(request.user, CREATE, kind.resource) for kind in KINDS.values()):
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > services.max_bytes():
                    raise DomainError(_("The file is larger than %(most)d MB.") % {
                        "most": services.max_bytes() // (1024 * 1024)})  # fmt: skip
                job, _plan = services.import_check(
                    actor=request.user,
                    file_name=upload.name,
                    content=upload.read(),
                    kind=form.cleaned_data["kind"],
                    mode=form.cleaned_data["mode"],
                    encoding=form.cleaned_data["encoding"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return HttpResponseRedirect(reverse("imports:detail", args=[job.pk]))
    return render(request, "imports/upload.html", {"form": form}, status=status)


def _field_choices(job: ImportJob, user: Any) -> list[tuple[str, str]]:
    if job.kind == ARCHIVE:
        return []  # each sheet is matched by its headers
    resource = get_resource(KINDS[job.kind].resource)
    assert resource is not None
    options = [(t.field, _label(t)) for t in targets_for(resource, user) if not t.refused]
    if KINDS[job.kind].customer_link:
        options = [("customer_code", _("Customer code")), *options]
    return options


def _detail(request: HttpRequest, job: ImportJob, form: CheckForm | None, status: int = 200) -> HttpResponse:
    """The page of a job, from what its last check kept (the file is not read again)."""
    details = job.details or {}
    context = {
        "job": job,
        "kind_label": KIND_LABELS.get(job.kind, job.kind),
        "form": form,
        "headers": details.get("headers", []),
        "problems": details.get("problems", [])[:SHOWN],
        "preview": details.get("preview", []),
        "refused": details.get("refused", []),
        "counts": job.counts,
        "importing": job.state == ImportState.IMPORTING,
        "may_undo": job.state in services.UNDOABLE and (job.state == ImportState.DONE or job.done_rows > 0),
        "may_resume": job.state in (ImportState.FAILED, ImportState.CANCELLED),
        "mapping_fields": [form[name] for name in form.columns] if form else [],
        "duplicate_fields": [(form[name], duplicate) for name, duplicate in form.duplicates] if form else [],
        "settings_fields": [
            form[name]
            for name in ("mode", "key", "encoding", "create_duplicates", "mapping_name")
            # Only a text file has an encoding to correct.
            if form is not None and name in form.fields and (name != "encoding" or _is_text(job.file_name))
        ],
        "sheets": [_sheet(sheet, request.user) for sheet in details.get("sheets", [])],
    }
    return render(request, "imports/detail.html", context, status=status)


def _label(target: Any) -> str:
    """A field's name in the user's language (a target's names start with its Chinese and
    English labels)."""
    chinese = (translation.get_language() or "").lower().startswith("zh")
    return str(target.names[0] if chinese or len(target.names) < 2 else target.names[1])


def _sheet(sheet: dict[str, Any], user: Any) -> dict[str, Any]:
    """One sheet of a workbook's dry run, for the page: its kind, and each column with
    the field it fills, named in the user's language."""
    names = {t.field: _label(t) for t in import_targets(KINDS[sheet["kind"]], user)}
    columns = [{**column, "label": names.get(column["field"], "")} for column in sheet.get("columns", [])]
    return {
        **sheet,
        "label": KIND_LABELS.get(sheet["kind"], sheet["kind"]),
        "columns": columns,
        "problems": sheet.get("problems", [])[:SHOWN],
    }


@login_required
@require_http_methods(["GET", "POST"])
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run: counts, how each column maps (the user may change it), what is wrong
    where, the first rows; or, once imported, what the import did."""
    job = _job(request, pk)
    if request.method == "POST" and not may(request.user, CREATE, resource_of(job.kind)):
        raise Http404
    if job.state != ImportState.CHECKED:
        return _detail(request, job, None)
    details = job.details or {}
    headers = details.get("headers") or [column["header"] for column in details.get("columns", [])]
    fields = _field_choices(job, request.user)
    known = dict(fields)
    initial = {
        "mode": job.mode, "key": job.key, "encoding": job.encoding, "create_duplicates": job.create_duplicates,
        **{f"column_{index}": column.get("field") or "" for index, column in enumerate(details.get("columns", []))
           if column.get("field") in known},
    }  # fmt: skip
    duplicates = [*details.get("duplicates", [])]
    for sheet in details.get("sheets", []):
        duplicates += sheet.get("duplicates", [])
    if request.method == "GET":
        form = CheckForm(initial=initial, job=job, headers=headers, fields=fields, duplicates=duplicates)
        return _detail(request, job, form)
    form = CheckForm(request.POST, job=job, headers=headers, fields=fields, duplicates=duplicates)
    if not form.is_valid():
        return _detail(request, job, form, status=400)
    choices = {
        "mapping": form.mapping(headers),
        "mode": form.cleaned_data["mode"],
        "key": form.cleaned_data.get("key", job.key),
        "encoding": form.cleaned_data["encoding"],
        "create_duplicates": form.cleaned_data["create_duplicates"],
        "mapping_name": form.cleaned_data.get("mapping_name", ""),
        "duplicate_choices": form.duplicate_choices(),
    }
    try:
        job, _plan = services.import_recheck(
            actor=request.user, job=job, choices=choices, expected_version=form.cleaned_data["version"]
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _detail(request, job, form, status=409 if error.status_code == 412 else 400)
    if "import" not in request.POST:
        return HttpResponseRedirect(reverse("imports:detail", args=[job.pk]))
    try:
        job = services.import_start(actor=request.user, job=job, expected_version=job.version)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
        messages.success(request, _("Importing %(file)s…") % {"file": job.file_name})
    return HttpResponseRedirect(reverse("imports:detail", args=[job.pk]))


@login_required
@require_GET
def report_view(request: HttpRequest, pk: int) -> FileResponse:
    """The error report: the file's own rows, the bad cells marked and commented."""
    return error_report_download(_job(request, pk))


@login_required
@require_POST
def undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo an import: what it created is removed, what it updated gets its values back."""
    job = _job(request, pk)
    if not may(request.user, CREATE, resource_of(job.kind)):
        raise Http404
    version = parse_id(request.POST.get("version"))
    try:
        if version is None:
            raise DomainError(_("This form does not say which version it edits; reload the page."))
        undone, kept = services.import_undo(actor=request.user, job=job, expected_version=version)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(n)d records put back as they were.") % {"n": undone})
        for line in kept[:20]:
            messages.warning(request, line)
    return HttpResponseRedirect(reverse("imports:detail", args=[job.pk]))


def _act(request: HttpRequest, job: ImportJob, act: Any, done: str) -> HttpResponse:
    """Run a service on a job from a button that posts the version the page showed."""
    version = parse_id(request.POST.get("version"))
    try:
        if version is None:
            raise DomainError(_("This form does not say which version it edits; reload the page."))
        job = act(actor=request.user, job=job, expected_version=version)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("imports:detail", args=[job.pk]))


@login_required
@require_POST
def cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop an import after the chunk it is writing; what it wrote stays, to resume or undo."""
    job = _job(request, pk)
    if not may(request.user, CREATE, resource_of(job.kind)):
        raise Http404
    return _act(request, job, services.import_cancel, _("The import stops after the rows it is writing."))


@login_required
@require_POST
def resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Go on with a failed or cancelled import after the last row it wrote."""

    def resume(*, actor: Any, job: ImportJob, expected_version: int | None) -> ImportJob:
        job = services.import_start(actor=actor, job=job, expected_version=expected_version)
        transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
        return job

    job = _job(request, pk)
    if not may(request.user, CREATE, resource_of(job.kind)):
        raise Http404
    with transaction.atomic():
        return _act(request, job, resume, _("Importing the rest of the file…"))


@login_required
@require_GET
def template_view(request: HttpRequest, kind: str) -> FileResponse:
    """The template workbook of ``kind``: the columns this user may fill in, headed in
    their language, with drop-down lists and instructions."""
    if kind not in TEMPLATES:
        raise Http404
    return xlsx_download(lambda target: write_template(kind, request.user, target), f"{kind}-template.xlsx")


def _is_text(file_name: str) -> bool:
    return Path(file_name).suffix.lower() in (".csv", ".txt")
