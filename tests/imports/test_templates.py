"""Template workbooks: the columns the user may fill in, in their language, with
drop-down lists and instructions; filled in and imported back, they match at once."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation

from crm.access.models import FieldPermission
from customers.models import Customer
from imports.committing import commit_plan
from imports.kinds import KINDS
from imports.planning import plan_import, plan_workbook
from imports.templates import write_template
from tests.core.test_sheet_reading import SEED_003

pytestmark = pytest.mark.django_db


def _book(kind: str, user: Any, language: str = "zh-hans") -> Any:
    target = io.BytesIO()
    with translation.override(language):
        write_template(kind, user, target)
    target.seek(0)
    return openpyxl.load_workbook(target)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_template_that_imports_back_as_it_is(kind: str, admin_user: Any, tmp_path: Path) -> None:
    book = _book(kind, admin_user)
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers and all(headers)
    assert book.sheetnames[1] == "填写说明"
    path = tmp_path / f"{kind}.xlsx"
    book.save(path)
    plan = plan_import(path, user=admin_user, kind=kind)
    unmatched = [match.header for match in plan.matches if match.field is None]
    assert unmatched == [], f"every column of the template is understood: {unmatched}"


def test_choices_have_drop_down_lists_and_the_headers_follow_the_language(admin_user: Any) -> None:
    sheet = _book("customers", admin_user).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert "名称" in headers and "行业" in headers
    industry = headers.index("行业")
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    covered = {str(rng) for v in lists for rng in v.sqref.ranges}
    column = openpyxl.utils.get_column_letter(industry + 1)
    assert any(ref.startswith(f"{column}2:") for ref in covered)
    assert any("制造业" in (v.formula1 or "") for v in lists)
    english = [cell.value for cell in _book("customers", admin_user, "en").worksheets[0][1]]
    assert "Name" in english and "Industry" in english


def test_a_role_gets_only_the_columns_it_may_fill_in(rep1: Any, admin_user: Any) -> None:
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "read"}
    )
    rep_headers = [cell.value for cell in _book("customers", rep1).worksheets[0][1]]
    admin_headers = [cell.value for cell in _book("customers", admin_user).worksheets[0][1]]
    assert "年营业额" in admin_headers and "年营业额" not in rep_headers
    # Reps propose a tax id (the default policy): the column is theirs to fill in, and
    # importing it makes a change request for review.
    assert "税号" in rep_headers


def test_the_example_row_imports_once_filled_in(admin_user: Any, tmp_path: Path) -> None:
    book = _book("customers", admin_user)
    path = tmp_path / "filled.xlsx"
    book.save(path)
    plan = plan_import(path, user=admin_user, kind="customers")
    assert plan.counts == {"create": 1}, [p.message for p in plan.problems]
    commit_plan(plan, user=admin_user, file_name="filled.xlsx")
    made = Customer.objects.get(code="C-0001")
    assert made.name == "华东重工股份有限公司" and made.city == "杭州市"


def test_the_template_downloads_from_the_page_and_the_command(client: Any, rep1: Any, tmp_path: Path) -> None:
    client.force_login(rep1)
    response = client.get("/imports/templates/contacts.xlsx")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [cell.value for cell in book.worksheets[0][1]][0] == "客户编号"
    assert client.get("/imports/templates/nothing.xlsx").status_code == 404
    assert "/imports/templates/customers.xlsx" in client.get("/customers/").content.decode()
    target = tmp_path / "t.xlsx"
    call_command("import_template", "transactions", str(target), "--language", "en", stdout=StringIO())
    assert "Amount" in [cell.value for cell in openpyxl.load_workbook(target).worksheets[0][1]]


@pytest.mark.parametrize("name", ["archive", "star-table", "asset-table"])
def test_the_archive_and_the_presets_import_back_as_a_whole(
    name: str, admin_user: Any, tmp_path: Path, reference_tiers: None
) -> None:
    book = _book(name, admin_user)
    assert book.sheetnames[-1] == "填写说明" and len(book.sheetnames) >= 2
    for sheet in book.worksheets[:-1]:
        headers = [cell.value for cell in sheet[1]]
        assert headers and all(headers), sheet.title
    path = tmp_path / f"{name}.xlsx"
    book.save(path)
    plans = plan_workbook(path, user=admin_user)
    assert len(plans) == len(book.sheetnames) - 1, "every sheet is recognised by its headers"
    for plan in plans:
        unmatched = [match.header for match in plan.matches if match.field is None]
        assert unmatched == [], f"{plan.kind.code}: every column is understood: {unmatched}"


def test_the_star_table_preset_has_the_seed_tables_columns(admin_user: Any, rep1: Any) -> None:
    headers = [cell.value for cell in _book("star-table", admin_user).worksheets[0][1]]
    assert headers == SEED_003
    assert "当前等级" not in [cell.value for cell in _book("star-table", rep1).worksheets[0][1]], (
        "a rep may not set a tier: the column is left out of their template"
    )
    english = [cell.value for cell in _book("star-table", admin_user, "en").worksheets[0][1]]
    assert "Current tier" in english and "Name" in english


def test_the_archive_has_a_sheet_per_section_of_the_key_account_archive(admin_user: Any) -> None:
    names = _book("archive", admin_user).sheetnames
    assert names[:4] == ["基本信息", "联系信息", "历史交易记录", "反馈与建议"]
