"""Reads of imports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import ImportJob


def import_jobs_for(*, user: Any) -> QuerySet[ImportJob]:
    """The imports a user sees: their own; an admin everyone's.  The kept file and the
    error report are read only when asked for."""
    jobs = ImportJob.objects.select_related("created_by").defer("content", "error_report")
    if not getattr(user, "is_authenticated", False):
        return jobs.none()
    return jobs if getattr(user, "is_admin", False) else jobs.filter(created_by=user)
