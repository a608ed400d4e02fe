"""Reading the files people bring (real files: a GB18030 CSV written the way Excel on a
Chinese Windows writes it, an .xls, an .xlsx with formulas and merged header cells) and
matching their headers to the fields they mean."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.test import override_settings

from crm.access.models import FieldPermission
from crm.access.registry import get_resource
from crm.core.errors import DomainError
from crm.core.spreadsheets.headers import Target, knows, match_headers, normalise, targets_for
from crm.core.spreadsheets.reading import detect_encoding, read_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED_003 = [
    "客户名称",
    "联系方式",
    "消费金额",
    "购买频次",
    "使用年限",
    "影响力评分",
    "当前等级",
    "上次评级日期",
    "下一次评级日期",
]


def _customer_headers() -> Any:
    resource = get_resource("customers")
    assert resource is not None
    return resource


def _rows(table: Any) -> list[tuple[int, list[Any]]]:
    return list(table.rows())


# ------------------------------------------------------------------ CSV
def test_a_gb18030_csv_with_chinese_headers_is_detected_and_read(tmp_path: Path) -> None:
    text = (
        "客户名称,联系方式,消费金额,购买日期\r\n"
        '华东重工股份有限公司,138-0013-8000,"¥10,000",2023/3/1\r\n'
        "𠀀字公司,13900139000,1.2万,2023年3月1日\r\n"
    )
    path = tmp_path / "客户.csv"
    path.write_bytes(text.encode("gb18030"))
    source = read_file(path)
    assert source.format == "csv" and source.encoding == "gb18030" and source.delimiter == ","
    table = source.tables[0]
    assert table.headers == ["客户名称", "联系方式", "消费金额", "购买日期"] and table.header_row == 1
    assert _rows(table) == [
        (2, ["华东重工股份有限公司", "138-0013-8000", "¥10,000", "2023/3/1"]),
        (3, ["𠀀字公司", "13900139000", "1.2万", "2023年3月1日"]),
    ], "a character beyond GBK (four bytes in GB18030) survives"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16"), ("gb18030", "gb18030")],
)
def test_encodings_are_told_apart(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes("名称;金额\n甲公司;100\n乙公司;200\n".encode(encoding))
    source = read_file(path)
    assert source.encoding == expected and source.delimiter == ";"
    assert [values for _n, values in source.tables[0].rows()] == [["甲公司", "100"], ["乙公司", "200"]]


def test_the_encoding_and_delimiter_can_be_chosen(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes("名称\t备注\n甲公司\t有,逗号\n".encode("gb18030"))
    sniffed = read_file(path)
    assert sniffed.delimiter == "\t"
    chosen = read_file(path, encoding="gb18030", delimiter="\t")
    assert _rows(chosen.tables[0]) == [(2, ["甲公司", "有,逗号"])]
    with pytest.raises(DomainError):
        read_file(path, encoding="no-such-encoding")
    with pytest.raises(DomainError, match="encoding|编码"):
        read_file(path, encoding="utf-8")


def test_a_truncated_sample_does_not_mislead_the_guess() -> None:
    text = ("客户" * 10).encode("utf-8")
    assert detect_encoding(text[:-1], truncated=True) == ("utf-8", 1.0)
    assert detect_encoding("客户名称".encode("gb18030"))[0] == "gb18030"


# ------------------------------------------------------------------ workbooks
def _xlsx_with_formulas_and_merged_headers(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户档案")
    sheet.write("A1", "2024年重点客户清单")  # a title above the table, as people write
    sheet.write("A3", "客户名称")
    sheet.merge_range("B3:C3", "联系方式")
    sheet.write("D3", "消费金额（元）")
    sheet.write("E3", "购买日期")
    sheet.write("B4", "手机")
    sheet.write("C4", "电话")
    sheet.write("A5", "华东重工股份有限公司")
    sheet.write_number("B5", 13800138000)
    sheet.write("C5", "021-61234567")
    sheet.write_formula("D5", "=10000*1.5", None, 15000)
    sheet.write_datetime("E5", dt.date(2023, 3, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write("A7", "杭州云栖科技有限公司")  # a blank row above is left out
    sheet.write_formula("D7", '="1"&"2万"', None, "12万")
    book.add_worksheet("空表")
    book.close()


def test_an_xlsx_with_formulas_and_merged_header_cells(tmp_path: Path) -> None:
    path = tmp_path / "客户.xlsx"
    _xlsx_with_formulas_and_merged_headers(path)
    resource = _customer_headers()
    known = knows(targets_for(resource, None)) | {normalise(name) for name in ("手机", "电话", "联系方式", "购买日期")}
    source = read_file(path, is_header=lambda text: normalise(text) in known)
    assert source.format == "xlsx" and len(source.tables) == 1, "an empty sheet is no table"
    table = source.tables[0]
    assert table.name == "客户档案"
    assert table.headers == ["客户名称", "手机", "电话", "消费金额（元）", "购买日期"]
    assert table.header_row == 4
    rows = _rows(table)
    assert rows[0] == (5, ["华东重工股份有限公司", 13800138000, "021-61234567", 15000, dt.date(2023, 3, 1)])
    assert rows[1][0] == 7 and rows[1][1][3] == "12万", "a formula reads as the value Excel computed"


def test_an_xls_workbook(tmp_path: Path) -> None:
    source = read_file(FIXTURES / "customers.xls")
    assert source.format == "xls"
    table = source.tables[0]
    assert table.headers == ["客户名称", "手机", "消费金额", "下单日期", "行业"]
    assert _rows(table)[0] == (2, ["华东重工股份有限公司", 13800138000, 12000.5, dt.date(2023, 3, 1), "制造业"])


# ------------------------------------------------------------------ refusals
def test_a_decompression_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (200 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(DomainError, match="bomb|炸弹"):
        read_file(path)


def test_password_protected_and_disguised_files_get_clear_messages(tmp_path: Path) -> None:
    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    with pytest.raises(DomainError, match="password|密码"):
        read_file(encrypted)
    disguised = tmp_path / "photo.xlsx"
    disguised.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DomainError):
        read_file(disguised)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(DomainError):
        read_file(broken)
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04")
    with pytest.raises(DomainError, match=r"\.xlsx"):
        read_file(other)


def test_size_rows_and_emptiness_are_limited(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DomainError):
        read_file(empty)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b",,\n,,\n")
    with pytest.raises(DomainError):
        read_file(blank)
    many = tmp_path / "many.csv"
    many.write_text("名称\n" + "".join(f"公司{n}\n" for n in range(30)), encoding="utf-8")
    with override_settings(CRM_IMPORT_MAX_ROWS=20):
        table = read_file(many).tables[0]
        with pytest.raises(DomainError, match="20"):
            _rows(table)
    with override_settings(CRM_IMPORT_MAX_BYTES=10):
        with pytest.raises(DomainError):
            read_file(many)


# ------------------------------------------------------------------ headers
def test_headers_match_by_synonym_in_both_languages_and_by_likeness() -> None:
    resource = _customer_headers()
    targets = targets_for(resource, None)
    headers = [
        "公司名称",
        "Industry",
        "所在城市",
        "统一社会信用代码",
        "客户简称：",
        "邮 箱",
        "年营业额（万元）",
        "不相干的列",
    ]
    matched = {match.header: (match.field, match.how) for match in match_headers(headers, targets)}
    assert matched["公司名称"] == ("name", "exact")
    assert matched["Industry"] == ("industry", "exact")
    assert matched["所在城市"] == ("city", "exact")
    assert matched["统一社会信用代码"] == ("tax_id", "exact")
    assert matched["客户简称："] == ("short_name", "exact")
    assert matched["邮 箱"] == ("email", "exact")
    assert matched["年营业额（万元）"] == ("annual_revenue", "exact")
    assert matched["不相干的列"] == (None, "")


def test_each_field_takes_one_column_the_best_first() -> None:
    targets = [Target("name", ("客户名称",)), Target("short_name", ("客户简称",))]
    matches = match_headers(["客户名称", "客户名称（全称）", "客户简称"], targets)
    assert [m.field for m in matches] == ["name", None, "short_name"]
    fuzzy = match_headers(["客户名", "Compnay name"], [Target("name", ("客户名称", "company name"))])
    assert fuzzy[0].field == "name" and fuzzy[0].how == "contains"


def test_the_seed_tables_headers_are_recognised() -> None:
    targets = targets_for(_customer_headers(), None)
    matched = {match.header: match.field for match in match_headers(SEED_003, targets)}
    assert matched["客户名称"] == "name"
    assert matched["影响力评分"] == "influence_score"


@pytest.mark.django_db
def test_a_field_the_role_may_not_write_is_matched_and_refused_with_the_reason(rep1: Any) -> None:
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "read"}
    )
    targets = {target.field: target for target in targets_for(_customer_headers(), rep1)}
    assert targets["tax_id"].refused and not targets["name"].refused
    assert targets["id"].refused, "a read-only field takes no column"
    match = match_headers(["税号"], targets.values())[0]
    assert match.field == "tax_id"


def test_every_csv_line_keeps_its_line_number_for_errors(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('名称,备注\n甲公司,"两行\n的备注"\n\n乙公司,\n', encoding="utf-8")
    rows = _rows(read_file(path).tables[0])
    assert [name for _n, (name, _note) in rows] == ["甲公司", "乙公司"]
    assert rows[0][1][1] == "两行\n的备注"
