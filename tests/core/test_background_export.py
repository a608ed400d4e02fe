"""A large export becomes a background job: the API answers 202 with its progress (a
browser is sent to its page), a worker writes the file as the person who asked (the same
scope, filters and field policy), and the file is fetched a part at a time until its
link expires."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.test import override_settings
from django.utils import timezone

from crm.access.models import FieldPermission
from crm.core import exports
from crm.core.models import ExportFile, ExportPart
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(rep1: Any, rep2: Any) -> None:
    for n in range(5):
        CustomerFactory(owner=rep1, name=f"后台导出客户{n}", tax_id=f"9133010000000000{n:02d}")
    for n in range(3):
        CustomerFactory(owner=rep2, name=f"别人的客户{n}")


def _run(client: Any, url: str, django_capture_on_commit_callbacks: Any, **extra: Any) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        return client.get(url, **extra)


@override_settings(CRM_EXPORT_BACKGROUND_ROWS=2)
def test_a_large_export_is_written_by_a_worker_and_fetched_until_it_expires(
    api: Any, rep1: Any, rep2: Any, book: None, tasks_run_here: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    client = api(rep1)
    started = _run(client, "/api/v1/customers/export/?format=xlsx&ordering=name", django_capture_on_commit_callbacks)
    assert started.status_code == 202, started.content[:300]
    body = started.json()
    assert body["state"] == "queued" and started["Location"] == body["url"]
    assert "core.run_export" in tasks_run_here
    done = client.get(body["url"])
    assert done.status_code == 200 and done["X-Rows"] == "5"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(done.streaming_content))).active
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f"后台导出客户{n}" for n in range(5)], "the rep's own customers, in the list's order"
    assert api(rep2).get(body["url"]).status_code == 404, "nobody else's export, whatever the number"
    ExportFile.objects.filter(pk=body["export"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(body["url"]).status_code == 410
    assert exports.exports_purge() >= 1
    assert not ExportFile.objects.exists() and not ExportPart.objects.exists()


@override_settings(CRM_EXPORT_BACKGROUND_ROWS=2)
def test_the_worker_keeps_the_filters_and_the_field_policy(
    api: Any, rep1: Any, book: None, tasks_run_here: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    FieldPermission.objects.update_or_create(
        role="rep", resource="customers", field="tax_id", defaults={"level": "masked"}
    )
    client = api(rep1)
    url = "/api/v1/customers/export/?search=后台导出&ordering=-name"
    started = _run(client, url, django_capture_on_commit_callbacks)
    assert started.status_code == 202
    text = b"".join(client.get(started.json()["url"]).streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 6 and "后台导出客户4" in lines[1] and "别人的客户" not in text
    assert "913301000000000004" not in text, "a masked field stays masked"


@override_settings(CRM_EXPORT_BACKGROUND_ROWS=2)
def test_a_browser_is_sent_to_the_exports_page(
    client: Any, rep1: Any, book: None, tasks_run_here: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rep1)
    answer = _run(
        client, "/api/v1/customers/export/?format=xlsx", django_capture_on_commit_callbacks, HTTP_ACCEPT="text/html"
    )
    assert answer.status_code == 303
    page = client.get(answer["Location"])
    text = page.content.decode()
    assert page.status_code == 200 and 'data-testid="download"' in text
    assert client.get(answer["Location"].replace(str(ExportFile.objects.get().pk), "999999")).status_code == 404


@override_settings(CRM_EXPORT_BACKGROUND_ROWS=2)
def test_a_small_export_is_still_sent_at_once_and_a_rerun_writes_nothing_twice(
    api: Any, rep1: Any, book: None
) -> None:
    client = api(rep1)
    small = client.get("/api/v1/customers/export/?search=后台导出客户1")
    assert small.status_code == 200 and "后台导出客户1" in b"".join(small.streaming_content).decode("utf-8-sig")
    job = exports.export_start(
        actor=rep1, resource="customers", format="csv", query={"ordering": ["name"]}, file_name="c.csv"
    )
    exports.export_run(export_id=job.pk)
    ExportFile.objects.filter(pk=job.pk).update(state="running")  # as if the worker died before acknowledging
    again = exports.export_run(export_id=job.pk)
    assert again is not None and again.state == "done" and again.rows == 5
    assert ExportPart.objects.filter(export=job).count() == 1
    assert client.get("/api/v1/customers/export/?export=abc").status_code == 404
