"""Mappings are kept: the same headers map the way the user chose last time, and a named
mapping can be chosen by name on the command line."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from imports.models import ImportJob, SavedMapping

pytestmark = pytest.mark.django_db

ODD = "抬头,所属行业\n甲公司,制造业\n".encode()


def _upload(client: Any, content: bytes = ODD) -> ImportJob:
    client.post(
        "/imports/new/", {"kind": "customers", "mode": "upsert", "file": SimpleUploadedFile("erp.csv", content)}
    )
    return ImportJob.objects.latest("id")


def test_a_mapping_chosen_once_is_used_for_the_same_headers_next_time(client: Any, rep1: Any, rep2: Any) -> None:
    client.force_login(rep1)
    job = _upload(client)
    assert job.counts == {"error": 1}, "抬头 means nothing on its own: the name is missing"
    form = client.get(f"/imports/{job.pk}/").context["form"]
    data = {**form.initial, "version": job.version, "column_0": "name", "mapping_name": "ERP 导出", "check": "1"}
    client.post(f"/imports/{job.pk}/", data)
    job.refresh_from_db()
    assert job.counts == {"create": 1}
    saved = SavedMapping.objects.get()
    assert saved.name == "ERP 导出" and saved.mapping["抬头"] == "name" and saved.saved_by == rep1
    client.force_login(rep2)
    again = _upload(client, "抬头,所属行业\n乙公司,零售批发\n".encode())
    assert again.counts == {"create": 1} and again.mapping["抬头"] == "name"


def test_the_command_takes_a_named_mapping(tmp_path: Path, rep1: Any) -> None:
    SavedMapping.objects.create(kind="customers", headers_key="x", name="ERP 导出", mapping={"抬头": "name"})
    path = tmp_path / "erp.csv"
    path.write_bytes(ODD)
    out = StringIO()
    call_command(
        "import_xlsx", "customers", str(path), "--dry-run", "--mapping", "ERP 导出", "--as", rep1.username, stdout=out
    )
    assert "1 create" in out.getvalue() and "'抬头' -> name (chosen)" in out.getvalue()
    with pytest.raises(Exception, match="No mapping"):
        call_command("import_xlsx", "customers", str(path), "--mapping", "nothing", "--as", rep1.username)
