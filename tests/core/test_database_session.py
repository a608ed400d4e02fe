"""Every database session the application opens runs its statements without JIT
compilation (``CRM_DATABASE_JIT``), keeping the options the connection already had."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.server_settings import current


@pytest.mark.django_db
def test_statements_are_not_compiled_to_machine_code() -> None:
    assert current("jit") == "off"
    # The tests' own option (emptying the audit table between transactional tests) stays.
    assert current("crm.audit_maintenance") == "on"
    assert settings.DATABASES["default"]["OPTIONS"]["options"].split(" -c ") == [
        "-c jit=off",
        "crm.audit_maintenance=on",
    ]
