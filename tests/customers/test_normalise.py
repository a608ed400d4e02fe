"""Company names, phones and e-mails reduced to the keys duplicates meet under."""

from __future__ import annotations

import pytest

from customers.normalise import (
    company_domain,
    normalise_company_name,
    normalise_email,
    normalise_phone,
    normalise_tax_id,
)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("杭州明远科技有限公司", "杭州明远科技股份有限公司"),
        ("杭州明远科技有限公司", "杭州明远科技有限责任公司"),
        ("明远科技（北京）有限公司", "明远科技(北京)有限公司"),
        ("（上海）华信贸易有限公司", "华信贸易公司"),
        ("深圳市腾达电子集团有限公司", "深圳市腾达电子"),
        ("苏州 工业园区 恒通 物流 有限公司", "苏州工业园区恒通物流有限公司"),
        ("ＡＢＣ贸易有限公司", "abc贸易有限公司"),
        ("ABC Trading Co., Ltd.", "abc trading co ltd"),
        ("Ｌｅｎｏｖｏ（北京）有限公司", "Lenovo"),
        ("Acme Inc.", "ACME"),
        ("宁波港·集装箱码头有限公司", "宁波港集装箱码头"),
        ("成都天府软件园股份公司", "成都天府软件园"),
    ],
)
def test_the_ways_of_writing_one_company_share_a_key(first: str, second: str) -> None:
    assert normalise_company_name(first) == normalise_company_name(second)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("杭州明远科技有限公司", "杭州明远科技"),
        ("上海浦东发展银行股份有限公司", "上海浦东发展银行"),
        ("华为技术有限公司", "华为技术"),
        ("ＡＢＣ  Trading Co., Ltd.", "abctrading"),
        ("Incubator Corporate Ltd", "incubatorcorporate"),  # "inc", "corp" only as words
        ("集团公司", "集团公司"),  # never empty by accident
        ("", ""),
    ],
)
def test_the_key_keeps_what_names_the_company(name: str, key: str) -> None:
    assert normalise_company_name(name) == key


def test_different_companies_keep_different_keys() -> None:
    assert normalise_company_name("杭州明远科技有限公司") != normalise_company_name("杭州明达科技有限公司")


@pytest.mark.parametrize(
    ("phone", "digits"),
    [
        ("+86 138-0998-5018", "13809985018"),
        ("0086 13809985018", "13809985018"),
        ("138 0998 5018", "13809985018"),
        ("（0571）8800 1234", "57188001234"),
        ("+86 571 8800 1234", "57188001234"),
        ("8001", ""),  # an extension is no key
        ("", ""),
        ("请联系前台", ""),
    ],
)
def test_phones_are_their_digits(phone: str, digits: str) -> None:
    assert normalise_phone(phone) == digits


def test_emails_are_lower_case_and_company_domains_only() -> None:
    assert normalise_email(" Li.Ming@MingYuan.COM.cn ") == "li.ming@mingyuan.com.cn"
    assert normalise_email("not an address") == ""
    assert company_domain("Li.Ming@MingYuan.COM.cn") == "mingyuan.com.cn"
    for free in ("a@qq.com", "b@163.com", "c@gmail.com", "d@126.com", "e@foxmail.com"):
        assert company_domain(free) == ""


def test_old_and_new_tax_ids_of_one_company_share_a_key() -> None:
    assert normalise_tax_id("91330100MA2B3C4D5E") == normalise_tax_id("330100MA2B3C4D5") == "330100MA2B3C4D5"
    assert normalise_tax_id(" 9133 0100ma2b3c4d5e ") == "330100MA2B3C4D5"
    assert normalise_tax_id("") == ""
