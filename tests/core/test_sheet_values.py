"""The values people type into a spreadsheet are read the way they meant them
(crm.core.spreadsheets.values): money, numbers with units, dates in every order, phones,
choices in both languages, yes/no, places and text; and anything else is an error in
words, never an exception.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from crm.core.spreadsheets.values import (
    Parsed,
    Phone,
    Place,
    date_order,
    parse_bool,
    parse_choice,
    parse_date,
    parse_money,
    parse_number,
    parse_phone,
    parse_place,
    parse_text,
    phone_kind,
)
from customers.choices import Industry, Region
from transactions.choices import PaymentMethod, TransactionStatus

D = Decimal


def _refused(result: Parsed[Any], *words: str) -> str:
    """The error of a refused value, in English, checked to hold ``words``."""
    assert not result.ok and result.value is None, result
    with translation.override("en"):
        message = str(result.error)
    for word in words:
        assert word in message, message
    return message


# ------------------------------------------------------------------ money
@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("¥10,000", "10000.00"),
        ("￥10,000.50", "10000.50"),
        ("10,000元", "10000.00"),
        ("1.2万", "12000.00"),
        ("3.5万元", "35000.00"),
        ("1.5亿", "150000000.00"),
        ("2百万", "2000000.00"),
        ("1千万", "10000000.00"),
        ("5千", "5000.00"),
        ("10k", "10000.00"),
        ("1.2w", "12000.00"),
        ("RMB 5,000", "5000.00"),
        ("rmb5000", "5000.00"),
        ("CNY 5000", "5000.00"),
        ("人民币5000元", "5000.00"),
        ("5000.00", "5000.00"),
        ("5000", "5000.00"),
        (".5", "0.50"),
        ("-300", "-300.00"),
        ("−300", "-300.00"),
        ("+300", "300.00"),
        ("(300)", "-300.00"),
        ("（３００）", "-300.00"),
        ("(¥300)", "-300.00"),
        ("¥-300", "-300.00"),
        ("-¥300", "-300.00"),
        ("-0", "0.00"),
        ("１２，０００", "12000.00"),
        ("１２０００．５", "12000.50"),
        ("  1 000 000  ", "1000000.00"),
        ("1.005", "1.01"),
        ("1.004", "1.00"),
        ("99999999999999.99", "99999999999999.99"),
        (12, "12.00"),
        (12.5, "12.50"),
        (0.1 + 0.2, "0.30"),
        (-300, "-300.00"),
        (D("12.345"), "12.35"),
    ],
)
def test_money_is_read_as_people_write_it(raw: Any, amount: str) -> None:
    result = parse_money(raw)
    assert result.ok and result.value == D(amount), result
    assert str(result.value) == amount  # two places, always


@pytest.mark.parametrize(
    "raw",
    ["abc", "1.2.3", "¥", "元", "万", "-", "()", "NaN", "inf", "-inf", "1e400", "1e5", "1,2345", "1.234,56", "$100",
     "12 apples", "--300", "(300", float("nan"), float("inf"), True, dt.date(2023, 3, 1), D("NaN")],
)  # fmt: skip
def test_garbage_is_not_money(raw: Any) -> None:
    _refused(parse_money(raw), "Not an amount of money")


@pytest.mark.parametrize("raw", ["100000000000000", "1,000,000,000,000,000", "1000000亿", "99999999999999.999", 1e20])
def test_money_has_at_most_14_digits_before_the_point(raw: Any) -> None:
    _refused(parse_money(raw), "14 digits")


# ------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("raw", "number", "unit"),
    [
        ("3分", D("3"), "分"),
        ("4.5分", D("4.5"), "分"),
        ("5次/年", D("5"), "次/年"),
        ("5 次 / 年", D("5"), "次/年"),
        ("5次", D("5"), "次"),
        ("2年", D("2"), "年"),
        ("3个月", D("3"), "个月"),
        ("80%", D("80"), "%"),
        ("80 %", D("80"), "%"),
        ("１２", D("12"), ""),
        ("1,200", D("1200"), ""),
        ("-2", D("-2"), ""),
        ("1.2万人", D("12000"), "人"),
        ("3万", D("30000"), ""),
        ("3千克", D("3"), "千克"),
        ("12 kg", D("12"), "kg"),
        (7, D("7"), ""),
        (2.5, D("2.5"), ""),
        (0.1 + 0.2, D("0.3"), ""),
    ],
)
def test_numbers_drop_their_unit(raw: Any, number: Decimal, unit: str) -> None:
    result = parse_number(raw)
    assert result.ok and result.value == number and result.unit == unit, result


@pytest.mark.parametrize(("raw", "number"), [("3分", 3), ("4.0", 4), (4.0, 4), ("1.5万", 15000), ("5次/年", 5)])
def test_whole_numbers_are_ints(raw: Any, number: int) -> None:
    result = parse_number(raw, whole=True)
    assert result.ok and result.value == number and type(result.value) is int, result


@pytest.mark.parametrize("raw", ["4.5", "4.5分", 4.5, "0.1"])
def test_a_fraction_is_not_a_whole_number(raw: Any) -> None:
    _refused(parse_number(raw, whole=True), "Not a whole number")
    assert parse_number(raw).ok


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "分", "%", "12abc3", "1e5", "五", "3/4", True, float("nan")])
def test_garbage_is_not_a_number(raw: Any) -> None:
    _refused(parse_number(raw), "Not a number")


def test_a_number_has_at_most_15_digits_before_the_point() -> None:
    _refused(parse_number("9" * 5000), "15 digits")
    assert parse_number("9" * 15).ok


# ------------------------------------------------------------------ dates
MARCH_1 = dt.date(2023, 3, 1)
#: A spreadsheet's date and time cells have no time zone.
LATE_ON_MARCH_1 = dt.datetime(2023, 3, 1, 23, 59)  # noqa: DTZ001


@pytest.mark.parametrize(
    "raw",
    ["2023-03-01", "2023-3-1", "2023/3/1", "2023/03/01", "2023.3.1", "2023年3月1日", "2023年03月01号",
     "2023 年 3 月 1 日", "2023年3月", "2023-03", "20230301", "２０２３－０３－０１", "2023-03-01 00:00:00",
     "2023/3/1 9:30", "2023-03-01T10:00:00+08:00", MARCH_1, LATE_ON_MARCH_1, 44986, 44986.0,
     44986.99, D("44986")],
)  # fmt: skip
def test_dates_are_read_in_every_year_first_form(raw: Any) -> None:
    result = parse_date(raw)
    assert result.ok and result.value == MARCH_1, result


@pytest.mark.parametrize(
    ("serial", "day"),
    [(1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (61, dt.date(1900, 3, 1)), (36526, dt.date(2000, 1, 1)),
     (45658, dt.date(2025, 1, 1)), (73050, dt.date(2099, 12, 31))],
)  # fmt: skip
def test_excel_serial_numbers_count_from_excels_epoch(serial: int, day: dt.date) -> None:
    assert parse_date(serial).value == day


def test_serial_60_is_excels_day_that_never_was() -> None:
    _refused(parse_date(60), "No such day")


@pytest.mark.parametrize(
    ("raw", "order", "day"),
    [
        ("1/3/2023", "dmy", MARCH_1),
        ("01-03-2023", "dmy", MARCH_1),
        ("1.3.2023", "dmy", MARCH_1),
        ("3/1/2023", "mdy", MARCH_1),
        ("3/1/23", "mdy", MARCH_1),
        ("1/3/23", "dmy", MARCH_1),
        ("1/3/99", "dmy", dt.date(1999, 3, 1)),
        ("1/3/29", "dmy", dt.date(2029, 3, 1)),
        ("1/3/30", "dmy", dt.date(1930, 3, 1)),
        ("13/3/2023", None, dt.date(2023, 3, 13)),  # one reading only
        ("3/13/2023", None, dt.date(2023, 3, 13)),
        ("3/3/2023", None, dt.date(2023, 3, 3)),  # both readings the same day
        ("13/3/2023", "ambiguous", dt.date(2023, 3, 13)),
        ("2023-03-01", "dmy", MARCH_1),  # year first is year first, whatever the column
    ],
)
def test_year_last_dates_are_read_in_their_columns_order(raw: str, order: Any, day: dt.date) -> None:
    result = parse_date(raw, order)
    assert result.ok and result.value == day, result


@pytest.mark.parametrize(("raw", "order"), [("1/3/2023", None), ("1/3/2023", "ambiguous"), ("01-03-23", "ymd")])
def test_without_an_order_an_unclear_date_is_asked_about(raw: str, order: Any) -> None:
    _refused(parse_date(raw, order), "Day and month order is unclear", raw)


@pytest.mark.parametrize(
    ("raw", "order", "words"),
    [
        ("2023-02-30", None, "No such day"),
        ("2023-13-01", None, "No such day"),
        ("2024-02-30", None, "No such day"),
        ("20230230", None, "No such day"),
        ("2023年2月30日", None, "No such day"),
        ("13/3/2023", "mdy", "No such day"),
        ("32/13/2023", None, "No such day"),
        ("1899-12-31", None, "1900-01-01"),
        ("2200-01-01", None, "2199-12-31"),
        ("01/01/1850", "dmy", "between"),
        (dt.date(1800, 1, 1), None, "between"),
        (dt.datetime(2200, 1, 1, tzinfo=dt.UTC), None, "between"),
        (3_000_000, None, "between"),
        (1e300, None, "between"),
        ("abc", None, "Not a date"),
        ("2023", None, "Not a date"),
        ("2023-03-01-02", None, "Not a date"),
        ("2023-03/01", None, "Not a date"),
        ("1/3", None, "Not a date"),
        ("44986", None, "Not a date"),
        (0, None, "Not a date"),
        (-5, None, "Not a date"),
        (True, None, "Not a date"),
        (dt.time(10, 0), None, "Not a date"),
        (float("nan"), None, "Not a date"),
    ],
)
def test_impossible_dates_are_refused(raw: Any, order: Any, words: str) -> None:
    _refused(parse_date(raw, order), words)


@pytest.mark.parametrize(
    ("column", "order"),
    [
        (["1/3/2023", "13/3/2023", None, ""], "dmy"),
        (["1/3/2023", "3/13/2023"], "mdy"),
        (["01-03-23", "2/4/23"], "ambiguous"),
        (["13/3/2023", "3/13/2023"], "ambiguous"),  # the column points both ways
        (["2023-03-01", MARCH_1, 44986, "20230301"], "ymd"),
        ([], "ymd"),
        (["2023-03-01", "25/12/2023"], "dmy"),
        (["１３／３／２０２３"], "dmy"),
    ],
)
def test_the_order_of_a_column_comes_from_all_its_values(column: list[Any], order: str) -> None:
    assert date_order(column) == order


def test_the_order_of_a_column_reads_its_values() -> None:
    column = ["1/3/2023", "25/12/2023"]
    order = date_order(column)
    assert [parse_date(value, order).value for value in column] == [MARCH_1, dt.date(2023, 12, 25)]


# ------------------------------------------------------------------ phones
MOBILE = Phone("13800138000", "mobile")
SHANGHAI = Phone("021-61234567", "landline")


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("13800138000", MOBILE),
        ("+86 138 0013 8000", MOBILE),
        ("+86-13800138000", MOBILE),
        ("+8613800138000", MOBILE),
        ("0086 13800138000", MOBILE),
        ("8613800138000", MOBILE),
        ("138-0013-8000", MOBILE),
        ("138 0013 8000", MOBILE),
        ("１３８００１３８０００", MOBILE),
        (13800138000, MOBILE),
        (13800138000.0, MOBILE),
        ("19912345678", Phone("19912345678", "mobile")),
        ("(021) 6123-4567", SHANGHAI),
        ("021-61234567", SHANGHAI),
        ("021 6123 4567", SHANGHAI),
        ("（０２１）６１２３－４５６７", SHANGHAI),
        ("+86 21 6123 4567", SHANGHAI),
        ("+86 (0)21 6123 4567", SHANGHAI),
        ("0086-21-61234567", SHANGHAI),
        (2161234567, SHANGHAI),  # Excel dropped the leading 0
        ("010-88888888", Phone("010-88888888", "landline")),
        ("0571-8888888", Phone("0571-8888888", "landline")),
        ("0571 88888888", Phone("0571-88888888", "landline")),
        (57188888888, Phone("0571-88888888", "landline")),
        ("61234567", Phone("61234567", "landline")),
        ("021 6123 4567 转 8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567转8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567 分机 8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567 ext 8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567 EXT. 8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567 x8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567#8001", Phone("021-61234567-8001", "landline")),
        ("021-61234567-8001", Phone("021-61234567-8001", "landline")),
        ("400-820-8820", Phone("400-820-8820", "landline")),
        ("4008208820", Phone("400-820-8820", "landline")),
        ("800 820 8820", Phone("800-820-8820", "landline")),
        ("95588", Phone("95588", "landline")),
        ("10086", Phone("10086", "landline")),
        ("12345", Phone("12345", "landline")),
        ("+1 212 555 0100", Phone("+1 2125550100", "landline")),
        ("001 212 555 0100", Phone("+1 2125550100", "landline")),
        ("+852 2345 6789", Phone("+852 23456789", "landline")),
        ("+44 20 7946 0958 ext 12", Phone("+44 2079460958-12", "landline")),
        ("+12125550100", Phone("+12125550100", "landline")),
    ],
)
def test_phones_are_stored_in_one_shape(raw: Any, phone: Phone) -> None:
    result = parse_phone(raw)
    assert result.ok and result.value == phone, result
    assert parse_phone(phone.number).value == phone  # a stored number reads as itself


@pytest.mark.parametrize(
    "raw",
    ["abc", "1380013800", "138001380001", "13800138000/13900139000", "13800138000 转 8001", "+", "+86", "0086",
     "12345678", "021-1234567", "021-612345", "021", "110", "1234", "+1 23", "tel: 13800138000", "13800138000.5",
     13800138000.5, -13800138000, True, dt.date(2023, 3, 1)],
)  # fmt: skip
def test_garbage_is_not_a_phone(raw: Any) -> None:
    _refused(parse_phone(raw), "Not a phone number")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("+86 138 0013 8000", "mobile"),
        (13800138000.0, "mobile"),
        ("021-61234567", "landline"),
        ("400-820-8820", "landline"),
        ("+1 212 555 0100", "landline"),
        ("微信同号", None),
        ("", None),
    ],
)
def test_the_kind_of_a_phone_is_told_by_its_shape(raw: Any, kind: str | None) -> None:
    assert phone_kind(raw) == kind


# ------------------------------------------------------------------ choices
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("raw", "choices", "value"),
    [
        ("paid", TransactionStatus, "paid"),
        ("PAID", TransactionStatus, "paid"),
        ("已付款", TransactionStatus, "paid"),
        ("Paid", TransactionStatus, "paid"),
        ("  paid  ", TransactionStatus, "paid"),
        ("ｐａｉｄ", TransactionStatus, "paid"),
        ("待付款", TransactionStatus, "pending"),
        ("pending payment", TransactionStatus, "pending"),
        ("已退款", TransactionStatus, "refunded"),
        ("微信支付", PaymentMethod, "wechat_pay"),
        ("WeChat Pay", PaymentMethod, "wechat_pay"),
        ("ＷｅＣｈａｔ　Ｐａｙ", PaymentMethod, "wechat_pay"),
        ("wechat  pay", PaymentMethod, "wechat_pay"),
        ("支付宝", PaymentMethod, "alipay"),
        ("银行承兑汇票", PaymentMethod, "acceptance_bill"),
        ("制造业", Industry, "manufacturing"),
        ("IT & software", Industry, "it"),
        ("it", Industry, "it"),
        ("华东", Region, "east"),
        ("Hong Kong, Macao & Taiwan", Region, "hk_mo_tw"),
        ("A 级", [("a", "A 级"), ("b", "B 级")], "a"),
        ("a 级", [("a", "A 级"), ("b", "B 级")], "a"),
        ("b", [("a", "A 级"), ("b", "B 级")], "b"),
        (2, [(1, "一"), (2, "二")], 2),
        (2.0, [(1, "一"), (2, "二")], 2),
        ("二", [(1, "一"), (2, "二")], 2),
    ],
)
def test_a_choice_is_read_by_its_value_or_its_label_in_either_language(
    language: str, raw: Any, choices: Any, value: Any
) -> None:
    with translation.override(language):
        result = parse_choice(raw, choices)
    assert result.ok and result.value == value, result


def test_a_stored_value_wins_over_a_label_spelling_another_value() -> None:
    assert parse_choice("b", [("a", "b"), ("b", "Bee")]).value == "b"


@pytest.mark.parametrize("raw", ["nope", "已付", "paid!", "Bank", True])
def test_an_unknown_choice_names_the_allowed_labels_in_the_readers_language(raw: Any) -> None:
    with translation.override("en"):
        result = parse_choice(raw, TransactionStatus)
    assert "Paid" in _refused(result, "Not one of the choices", "Pending payment")
    with translation.override("zh-hans"):
        assert "已付款" in str(result.error)  # the labels are translated when shown


def test_a_long_list_of_choices_is_cut_short_in_the_error() -> None:
    choices = [(str(number), f"choice {number}") for number in range(20)]
    message = _refused(parse_choice("x", choices), "choice 0", "choice 7", "…")
    assert "choice 8" not in message


# ------------------------------------------------------------------ yes or no
@pytest.mark.parametrize(
    ("raw", "value"),
    [(word, True) for word in ["是", "对", "有", "Y", "y", "yes", "YES", "true", "True", "1", "✓", "✔", "√", "Ｙ"]]
    + [(word, False) for word in ["否", "错", "无", "N", "n", "no", "No", "false", "FALSE", "0", "✗", "✘", "×"]]
    + [(True, True), (False, False), (1, True), (0, False), (1.0, True), (0.0, False), (" 是 ", True)],
)
def test_yes_and_no_are_read_in_every_form(raw: Any, value: bool) -> None:
    result = parse_bool(raw)
    assert result.ok and result.value is value, result


@pytest.mark.parametrize("raw", ["maybe", "是的吧", "2", 2, -1, 0.5, "yesno", dt.date(2023, 3, 1)])
def test_garbage_is_not_yes_or_no(raw: Any) -> None:
    _refused(parse_bool(raw), "Not a yes or no")


# ------------------------------------------------------------------ places
ZHEJIANG_HANGZHOU = Place("浙江省", "杭州市", "east")


@pytest.mark.parametrize(
    ("raw", "place"),
    [
        ("浙江省杭州市", ZHEJIANG_HANGZHOU),
        ("浙江杭州", ZHEJIANG_HANGZHOU),
        ("浙江省 杭州市", ZHEJIANG_HANGZHOU),
        ("杭州", ZHEJIANG_HANGZHOU),
        ("杭州市", ZHEJIANG_HANGZHOU),
        ("杭州市西湖区", ZHEJIANG_HANGZHOU),
        ("中国浙江省杭州市", ZHEJIANG_HANGZHOU),
        ("浙江", Place("浙江省", "", "east")),
        ("浙江省温岭市", Place("浙江省", "温岭市", "east")),
        ("广东省深圳市南山区", Place("广东省", "深圳市", "south")),
        ("深圳", Place("广东省", "深圳市", "south")),
        ("东莞", Place("广东省", "东莞市", "south")),
        ("佛山", Place("广东省", "佛山市", "south")),
        ("苏州", Place("江苏省", "苏州市", "east")),
        ("无锡市", Place("江苏省", "无锡市", "east")),
        ("宁波", Place("浙江省", "宁波市", "east")),
        ("青岛", Place("山东省", "青岛市", "east")),
        ("厦门", Place("福建省", "厦门市", "east")),
        ("大连", Place("辽宁省", "大连市", "northeast")),
        ("哈尔滨", Place("黑龙江省", "哈尔滨市", "northeast")),
        ("郑州", Place("河南省", "郑州市", "central")),
        ("成都市高新区", Place("四川省", "成都市", "southwest")),
        ("拉萨", Place("西藏自治区", "拉萨市", "southwest")),
        ("乌鲁木齐", Place("新疆维吾尔自治区", "乌鲁木齐市", "northwest")),
        ("吉林", Place("吉林省", "", "northeast")),  # the province, not the city
        ("吉林市", Place("吉林省", "吉林市", "northeast")),
        ("吉林省吉林市", Place("吉林省", "吉林市", "northeast")),
        ("上海市", Place("上海市", "上海市", "east")),
        ("上海", Place("上海市", "上海市", "east")),
        ("上海市浦东新区", Place("上海市", "上海市", "east")),
        ("北京", Place("北京市", "北京市", "north")),
        ("北京市朝阳区", Place("北京市", "北京市", "north")),
        ("天津", Place("天津市", "天津市", "north")),
        ("重庆市渝中区", Place("重庆市", "重庆市", "southwest")),
        ("广西", Place("广西壮族自治区", "", "south")),
        ("广西壮族自治区南宁市", Place("广西壮族自治区", "南宁市", "south")),
        ("广西省南宁市", Place("广西壮族自治区", "南宁市", "south")),
        ("广西南宁", Place("广西壮族自治区", "南宁市", "south")),
        ("内蒙古", Place("内蒙古自治区", "", "north")),
        ("内蒙古包头", Place("内蒙古自治区", "包头市", "north")),
        ("内蒙呼和浩特", Place("内蒙古自治区", "呼和浩特市", "north")),
        ("新疆", Place("新疆维吾尔自治区", "", "northwest")),
        ("新疆伊犁哈萨克自治州", Place("新疆维吾尔自治区", "伊犁哈萨克自治州", "northwest")),
        ("宁夏银川", Place("宁夏回族自治区", "银川市", "northwest")),
        ("西藏", Place("西藏自治区", "", "southwest")),
        ("香港", Place("香港特别行政区", "香港特别行政区", "hk_mo_tw")),
        ("香港特区", Place("香港特别行政区", "香港特别行政区", "hk_mo_tw")),
        ("澳门特别行政区", Place("澳门特别行政区", "澳门特别行政区", "hk_mo_tw")),
        ("台湾", Place("台湾省", "", "hk_mo_tw")),
        ("台湾台北", Place("台湾省", "台北市", "hk_mo_tw")),
        ("海南三亚", Place("海南省", "三亚市", "south")),
        ("山西太原", Place("山西省", "太原市", "north")),
        ("陕西西安", Place("陕西省", "西安市", "northwest")),
    ],
)
def test_places_are_read_with_or_without_their_endings(raw: str, place: Place) -> None:
    result = parse_place(raw)
    assert result.ok and result.value == place, result


@pytest.mark.parametrize("raw", ["火星", "纽约", "朝阳区", "江苏杭州", "浙", "Hangzhou", "12345", 12345])
def test_an_unknown_place_is_refused(raw: Any) -> None:
    _refused(parse_place(raw), "Not a province or city in China")


def test_every_region_is_one_of_the_customer_regions() -> None:
    from crm.core.spreadsheets import values

    assert {region for _province, _short, region, _cities in values._PROVINCES} == set(Region.values) - {"overseas"}
    assert len(values._PROVINCES) == 34


@pytest.mark.parametrize(
    ("region", "provinces"),
    [
        ("north", "北京 天津 河北 山西 内蒙古"),
        ("northeast", "辽宁 吉林 黑龙江"),
        ("east", "上海 江苏 浙江 安徽 福建 江西 山东"),
        ("central", "河南 湖北 湖南"),
        ("south", "广东 广西 海南"),
        ("southwest", "重庆 四川 贵州 云南 西藏"),
        ("northwest", "陕西 甘肃 青海 宁夏 新疆"),
        ("hk_mo_tw", "香港 澳门 台湾"),
    ],
)
def test_provinces_lie_in_their_macro_region(region: str, provinces: str) -> None:
    assert {_place(name).region for name in provinces.split()} == {region}


def _place(raw: str) -> Place:
    place = parse_place(raw).value
    assert place is not None, raw
    return place


PROVINCIAL_CAPITALS = (
    "石家庄 太原 呼和浩特 沈阳 长春 哈尔滨 南京 杭州 合肥 福州 南昌 济南 郑州 武汉 长沙 广州 南宁 海口 成都 贵阳 "
    "昆明 拉萨 西安 兰州 西宁 银川 乌鲁木齐 台北"
)


@pytest.mark.parametrize("city", PROVINCIAL_CAPITALS.split())
def test_every_provincial_capital_is_known(city: str) -> None:
    place = _place(city)
    assert place.city == f"{city}市"
    assert parse_place(place.province + city).value == place


# ------------------------------------------------------------------ text
@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("  华东一组  ", "华东一组"),
        ("a   b", "a b"),
        ("a\u3000\u3000b", "a b"),
        ("a\u00a0b", "a b"),
        ("line one  \r\n  line two", "line one\nline two"),
        ("one\rtwo", "one\ntwo"),
        ("a\tb", "a\tb"),
        ("first\n\nthird", "first\n\nthird"),
        ("ＡＢＣ１２３", "ABC123"),
        ("你好，世界！（备注）：是。", "你好，世界！（备注）：是。"),  # Chinese punctuation stays
        ("\ufeffzero\u200bwidth", "zerowidth"),
        ("\u200b", None),
        (12345, "12345"),
        (12345.0, "12345"),
        (12.5, "12.5"),
        (MARCH_1, "2023-03-01"),
    ],
)
def test_text_is_tidied(raw: Any, text: str | None) -> None:
    result = parse_text(raw)
    assert result.ok and result.value == text, result


@pytest.mark.parametrize("raw", ["a\x00b", "bell\x07", "a\x1bb", "a\x7fb", "a\x85b", "a\x0bb", "\ud800"])
def test_text_with_control_characters_is_refused(raw: str) -> None:
    _refused(parse_text(raw), "control characters")


def test_over_long_text_is_refused() -> None:
    assert parse_text("一二三四五", max_length=5).value == "一二三四五"
    assert parse_text("  一二三四五  ", max_length=5).ok  # counted after tidying
    _refused(parse_text("一二三四五六", max_length=5), "at most 5 characters", "has 6")


# ------------------------------------------------------------------ all parsers
PARSERS = [
    parse_money,
    parse_number,
    lambda raw: parse_number(raw, whole=True),
    parse_date,
    lambda raw: parse_date(raw, "dmy"),
    parse_phone,
    lambda raw: parse_choice(raw, TransactionStatus),
    parse_bool,
    parse_place,
    lambda raw: parse_text(raw, 10),
]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", " \n ", "\r\n\t"])
def test_an_empty_cell_is_no_value_and_no_error(parse: Any, raw: Any) -> None:
    result = parse(raw)
    assert result == Parsed() and result.ok and result.empty


@pytest.mark.parametrize("parse", PARSERS)
def test_no_value_makes_a_parser_raise(parse: Any) -> None:
    nasty: list[Any] = [
        "\x00", "9" * 5000, "-" * 200, "(", ")", "()", "¥()", "+", "0", "00", "+86", "0086", "转", "年月日", "/",
        "1//1/2000", "99/99/99", "00/00/0000", "\ud800", "😀", "%", "万元", "1e999999", "-0", "ext", "市", "省",
        float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 10**400, -(10**400), D("1e999999"), D("-1e-999999"),
        D("sNaN"), True, False, dt.time(10, 0), dt.date.min, dt.datetime.max.replace(tzinfo=dt.UTC), object(), [1, 2],
    ]  # fmt: skip
    alphabet = "0123456789０１２３ ,.-+/()（）:年月日号万亿元¥$%次分转xX#省市区杭州北京是否√×\n\t\x00e"
    chance = random.Random(20230301)
    nasty += ["".join(chance.choice(alphabet) for _ in range(chance.randint(1, 16))) for _ in range(3000)]
    for raw in nasty:
        result = parse(raw)
        assert isinstance(result, Parsed)
        assert (result.error is None) or (result.value is None)
        if result.error is not None:
            assert str(result.error)


def test_an_error_quotes_what_was_typed_cut_short() -> None:
    message = _refused(parse_money("x" * 100), "x" * 39 + "…")
    assert "x" * 40 not in message


def test_an_error_is_translated_when_it_is_shown() -> None:
    with translation.override("en"):
        result = parse_text("a\x00b")
    with translation.override("zh-hans"):
        assert "控制字符" in str(result.error)
    with translation.override("en"):
        assert "control characters" in str(result.error)
