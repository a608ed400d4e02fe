"""The imports API: a multipart upload answers its dry run; run and undo need the ETag;
the error report downloads; a caller sees their own imports; a token needs write access
to the records the file brings."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.accounts.services import api_token_create
from customers.models import Customer
from imports.models import ImportJob

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
CSV = "客户编号,客户名称,所属行业\nC-API-1,接口导入甲公司,制造业\nC-API-2,接口导入乙公司,没有这个行业\n".encode()


def _upload(client: Any, content: bytes = CSV, **extra: Any) -> Any:
    return client.post(
        URL, {"kind": "customers", "file": SimpleUploadedFile("api.csv", content), **extra}, format="multipart"
    )


def test_upload_run_errors_and_undo(
    api: Any, rep1: Any, tasks_run_here: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = api(rep1)
    checked = _upload(client)
    assert checked.status_code == 201, checked.content
    body = checked.json()
    assert body["counts"] == {"create": 1, "error": 1} and body["state"] == "checked" and body["has_error_report"]
    assert body["details"]["columns"][1] == {
        "column": "B",
        "header": "客户名称",
        "field": "name",
        "how": "exact",
        "review": False,
    }
    assert body["details"]["problems"][0]["row"] == 3 and body["details"]["problems"][0]["column"] == "C"
    job_url = f"{URL}{body['id']}/"
    report = client.get(f"{job_url}errors/")
    assert report.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active["C3"].comment is not None
    assert client.post(f"{job_url}run/").status_code == 428
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{job_url}run/", HTTP_IF_MATCH=checked["ETag"])
    assert started.status_code == 202, started.content
    done = client.get(job_url)
    assert done.json()["state"] == "done" and done.json()["counts"]["written"] == {"create": 1}
    assert Customer.objects.get(code="C-API-1").owner == rep1
    undone = client.post(f"{job_url}undo/", HTTP_IF_MATCH=done["ETag"])
    assert undone.status_code == 200 and undone.json() == {"undone": 1, "kept": []}
    assert not Customer.objects.filter(code="C-API-1").exists()


def test_bad_requests_are_refused_in_words(api: Any, rep1: Any) -> None:
    client = api(rep1)
    assert client.post(URL, {"kind": "customers"}, format="json").status_code == 400
    assert _upload(client, b"").status_code == 400
    assert _upload(client, kind="nothing").status_code == 400
    assert _upload(client, key="email").status_code == 400
    not_a_sheet = client.post(
        URL, {"kind": "customers", "file": SimpleUploadedFile("x.xlsx", b"\x89PNG")}, format="multipart"
    )
    assert not_a_sheet.status_code == 400 and not ImportJob.objects.exists()
    job = ImportJob.objects.create(created_by=rep1, kind="customers", key="code", file_name="x.csv", content=b"")
    assert client.patch(f"{URL}{job.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"{URL}{job.pk}/").status_code == 405


def test_a_caller_sees_only_their_own_imports(api: Any, rep1: Any, rep2: Any, admin_user: Any) -> None:
    job_id = _upload(api(rep1)).json()["id"]
    assert api(rep2).get(f"{URL}{job_id}/").status_code == 404
    assert api(rep2).get(URL).json()["results"] == []
    assert api(admin_user).get(f"{URL}{job_id}/").status_code == 200


def test_a_token_needs_write_access_to_what_the_file_brings(api: Any, integration_user: Any) -> None:
    _token, key = api_token_create(actor=None, user=integration_user, name="erp", scopes=["imports:write"])
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert _upload(client).status_code == 403
    _token, key = api_token_create(
        actor=None, user=integration_user, name="erp", scopes=["imports:write", "customers:write"]
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert _upload(client).status_code == 201
