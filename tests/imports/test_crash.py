"""An import whose worker dies, on the real broker, at each boundary of its work: while
writing its second chunk (the first has landed), after recording a chunk's progress
but before that commits, after marking the job done but before that commits, and after
the task returned but before its message is acknowledged.  Each time the task comes
back (the dead worker's waiting tasks go to a healthy worker, and those it held when
the broker's visibility timeout passes) and goes on from the last chunk that landed;
the import ends done, every record written once."""

from __future__ import annotations

import pytest

from crm.audit.models import AuditEvent
from customers.models import Customer
from imports import services, tasks
from imports.models import ImportJob
from tests.crash_worker import CrashLab, wait_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

POINTS = {
    "while-writing-the-second-chunk": 'sql-before:INSERT INTO "customers_customer"@2',
    "after-recording-a-chunk": 'sql-after:UPDATE "imports_importjob" SET "counts"',
    "after-marking-done": 'sql-after:UPDATE "imports_importjob" SET "created_by_id"',
    "before-the-ack": "postrun:imports.run",
}


def test_an_import_finishes_once_wherever_its_worker_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_IMPORT_CHUNK_ROWS", "2")  # the workers write three rows in two chunks
    rep = UserFactory(role="rep")
    with CrashLab(POINTS) as lab:
        for n, name in enumerate(POINTS):
            lines = "".join(f"C-CRASH-{n}-{row},崩溃测试公司{n}-{row}\n" for row in range(3))
            job, _plan = services.import_check(
                actor=rep, file_name="crash.csv", content=f"客户编号,客户名称\n{lines}".encode(), kind="customers"
            )
            assert job.counts == {"create": 3}
            job = services.import_start(actor=rep, job=job, expected_version=job.version)
            with lab.dying(name):
                tasks.run_import.delay(job.pk)
            lab.visibility_timeout_passes(name)
            wait_for(ImportJob.objects.filter(pk=job.pk, state="done").exists, f"the import ({name})")
            lab.settled()
            made = Customer.objects.filter(code__startswith=f"C-CRASH-{n}-")
            assert made.count() == 3, name
            events = AuditEvent.objects.filter(request_id=job.request_id, action="create", source="import")
            assert events.count() == 3, name
            job.refresh_from_db()
            assert job.records.count() == 3 and job.counts["written"] == {"create": 3}, name
