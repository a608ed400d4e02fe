"""The import pages: upload, the dry run with its mapping, import on a worker (eager in
tests), the history, the error report, undo; each user sees their own imports."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.audit.models import AuditEvent
from customers.models import Customer
from imports.models import ImportJob
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CSV = (
    "客户编号,客户名称,所属行业,年营业额,城市\n"
    'C-WEB-1,网页导入甲公司,制造业,"¥10,000",杭州\n'
    "C-WEB-2,网页导入乙公司,不存在的行业,200,上海\n"
    "C-WEB-3,网页导入丙公司,零售批发,300,苏州\n"
).encode("gb18030")


def _upload(client: Any, content: bytes = CSV, name: str = "客户.csv", **extra: Any) -> Any:
    data = {"kind": "customers", "mode": "upsert", "encoding": "", **extra}
    return client.post("/imports/new/", {**data, "file": SimpleUploadedFile(name, content)})


def test_upload_check_fix_import_and_undo(
    client: Any, rep1: Any, tasks_run_here: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rep1)
    assert client.get("/imports/").status_code == 200
    response = _upload(client)
    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.get()
    assert job.created_by == rep1 and job.counts == {"create": 2, "error": 1} and job.encoding == "gb18030"
    assert not Customer.objects.filter(code__startswith="C-WEB").exists(), "the check writes nothing"
    page = client.get(f"/imports/{job.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "不存在的行业" in text and 'data-testid="mapping"' in text
    report = client.get(f"/imports/{job.pk}/errors.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    assert sheet["C3"].comment is not None
    form = page.context["form"]
    data = {name: field.initial if field.initial is not None else "" for name, field in form.fields.items()}
    data.update({key: value for key, value in form.initial.items()})
    data["version"] = job.version
    data["column_2"] = ""  # leave the industry out: every row is now fine
    data["import"] = "1"
    data["create_duplicates"] = ""
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/imports/{job.pk}/", data, follow=True)
    assert done.status_code == 200
    job.refresh_from_db()
    assert job.state == "done", job.message
    made = Customer.objects.filter(code__startswith="C-WEB")
    assert made.count() == 3 and all(customer.owner == rep1 for customer in made)
    assert AuditEvent.objects.filter(source="import", action="create", request_id=job.request_id).count() == 3
    history = client.get("/imports/").content.decode()
    assert "客户.csv" in history
    made.filter(code="C-WEB-3").update(version=9)  # changed since by someone else
    undone = client.post(f"/imports/{job.pk}/undo/", {"version": job.version}, follow=True)
    assert undone.status_code == 200
    job.refresh_from_db()
    assert job.state == "undone" and "C-WEB-3" in job.message
    assert list(Customer.objects.filter(code__startswith="C-WEB").values_list("code", flat=True)) == ["C-WEB-3"]


def test_an_import_updates_and_undo_puts_the_values_back(
    client: Any, rep1: Any, tasks_run_here: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CustomerFactory(owner=rep1, code="C-WEB-1", name="旧名字", city="宁波市")
    client.force_login(rep1)
    _upload(client, "客户编号,客户名称,城市\nC-WEB-1,新名字,杭州\n".encode())
    job = ImportJob.objects.get()
    assert job.counts == {"update": 1}
    page = client.get(f"/imports/{job.pk}/")
    form = page.context["form"]
    data = {**form.initial, "version": job.version, "import": "1", "create_duplicates": ""}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/", data)
    assert Customer.objects.get(code="C-WEB-1").name == "新名字"
    job.refresh_from_db()
    client.post(f"/imports/{job.pk}/undo/", {"version": job.version})
    fresh = Customer.objects.get(code="C-WEB-1")
    assert (fresh.name, fresh.city) == ("旧名字", "宁波市")


def test_bad_files_are_refused_in_words_and_nothing_is_kept(client: Any, rep1: Any) -> None:
    client.force_login(rep1)
    for content, name in ((b"", "empty.csv"), (b"\x89PNG\r\n", "photo.xlsx"), (b"x", "notes.docx")):
        response = _upload(client, content, name)
        assert response.status_code == 400 and response.context["form"].errors, name
    assert not ImportJob.objects.exists()


def test_each_user_sees_their_own_imports(client: Any, rep1: Any, rep2: Any, admin_user: Any) -> None:
    client.force_login(rep1)
    _upload(client)
    job = ImportJob.objects.get()
    client.force_login(rep2)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/errors.xlsx").status_code == 404
    assert client.post(f"/imports/{job.pk}/undo/", {"version": 1}).status_code == 404
    assert "客户.csv" not in client.get("/imports/").content.decode()
    client.force_login(admin_user)
    assert client.get(f"/imports/{job.pk}/").status_code == 200


def test_a_stale_form_is_refused(client: Any, rep1: Any) -> None:
    client.force_login(rep1)
    _upload(client)
    job = ImportJob.objects.get()
    form = client.get(f"/imports/{job.pk}/").context["form"]
    stale = {**form.initial, "version": job.version + 5, "check": "1"}
    assert client.post(f"/imports/{job.pk}/", stale).status_code == 409


def test_the_dry_run_page_does_not_read_the_file_again(client: Any, rep1: Any, monkeypatch: Any) -> None:
    client.force_login(rep1)
    _upload(client)
    job = ImportJob.objects.get()

    def no_reading(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the page read the kept file again")

    monkeypatch.setattr("imports.services.windows_of", no_reading)
    page = client.get(f"/imports/{job.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "网页导入乙公司" in text and "不存在的行业" in text, "the preview and the problems come from the check"
