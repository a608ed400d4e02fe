"""The import pages.  So far: the template workbooks, for the user's role and language."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from .kinds import KINDS
from .templates import write_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def template_view(request: HttpRequest, kind: str) -> FileResponse:
    """The template workbook of ``kind``: the columns this user may fill in, headed in
    their language, with drop-down lists and instructions."""
    if kind not in KINDS:
        raise Http404
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    write_template(kind, request.user, target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=f"{kind}-template.xlsx", content_type=XLSX)
