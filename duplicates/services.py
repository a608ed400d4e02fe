"""Writes of duplicate candidates: the people's verdicts on the finder's proposals."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.errors import DomainError
from crm.core.services import record_update

from .choices import CandidateStatus
from .models import DuplicateCandidate


@transaction.atomic
def candidate_not_duplicate(
    *, actor: Any, candidate: DuplicateCandidate, expected_version: int | None
) -> DuplicateCandidate:
    """Say that the pair is two companies: it is kept so, and the finder never proposes
    it again.  Only an open pair can be decided (audited, at the version read)."""
    if candidate.status != CandidateStatus.OPEN:
        raise DomainError(_("This pair has been decided already."))
    return record_update(
        instance=candidate,
        actor=actor,
        data={"status": CandidateStatus.NOT_DUPLICATE, "decided_by": actor, "decided_at": timezone.now()},
        expected_version=expected_version,
    )
