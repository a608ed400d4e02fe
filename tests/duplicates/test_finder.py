"""The finder pairs customers by each blocking key, scores them and remembers decisions."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate
from duplicates.reasons import describe, score
from tests.factories import ContactFactory

from .conftest import customer

pytestmark = pytest.mark.django_db


def pair_of(first: Any, second: Any) -> DuplicateCandidate | None:
    low, high = sorted([first.pk, second.pk])
    return DuplicateCandidate.objects.filter(customer_a_id=low, customer_b_id=high).first()


def codes(pair: DuplicateCandidate | None) -> set[str]:
    assert pair is not None
    return {reason["code"] for reason in pair.reasons}


def test_same_tax_id(rep1: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司", tax_id="91330100MA2B3C4D5E")
    second = customer(rep1, "明远信息技术", tax_id="330100MA2B3C4D5", city="宁波")
    find_duplicates()
    pair = pair_of(first, second)
    assert codes(pair) == {"same_tax_id"}
    assert pair is not None and pair.score == 90
    with translation.override("en"):
        assert describe(pair.reasons[0]) == "same tax id"
    with translation.override("zh-hans"):
        assert describe(pair.reasons[0]) == "税号相同"


def test_same_phone_however_written_of_the_company_or_a_contact(rep1: Any) -> None:
    first = customer(rep1, "甲公司", phone="+86 571-8800-1234", city="宁波")
    second = customer(rep1, "乙公司", city="温州")
    ContactFactory(customer=second, mobile="", phone="0571 88001234", email="")
    find_duplicates()
    assert codes(pair_of(first, second)) == {"same_phone"}


def test_same_email_and_domain(rep1: Any) -> None:
    first = customer(rep1, "甲公司", email="sales@mingyuan.com.cn", city="宁波")
    second = customer(rep1, "乙公司", city="温州")
    ContactFactory(customer=second, mobile="", email="SALES@MingYuan.com.cn")
    find_duplicates()
    assert codes(pair_of(first, second)) == {"same_email", "same_domain"}


def test_a_domain_alone_is_not_enough_and_free_mail_is_no_domain(rep1: Any) -> None:
    first = customer(rep1, "甲公司", email="li@mingyuan.com.cn", city="宁波")
    second = customer(rep1, "乙公司", email="wang@mingyuan.com.cn", city="温州")
    third = customer(rep1, "丙公司", email="zhao@qq.com", city="台州")
    fourth = customer(rep1, "丁公司", email="qian@qq.com", city="丽水")
    find_duplicates()
    assert pair_of(first, second) is None
    assert pair_of(third, fourth) is None


def test_names_alike_in_the_same_city(rep1: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司")
    second = customer(rep1, "杭州明远科技股份有限公司")
    typo = customer(rep1, "杭州明远科枝有限公司", phone="0571-8800-1234")
    ContactFactory(customer=first, mobile="", phone="+86 571 8800 1234", email="")
    other_trade = customer(rep1, "杭州明达科技有限公司")
    elsewhere = customer(rep1, "杭州明远科技有限公司", city="上海", province="上海市")
    find_duplicates()
    same = pair_of(first, second)
    assert codes(same) == {"same_name"}
    with translation.override("en"):
        assert same is not None and describe(same.reasons[0]) == "names 100% alike, both in 杭州"
    alike = pair_of(first, typo)
    assert codes(alike) == {"similar_name", "same_phone"}
    with translation.override("zh-hans"):
        assert alike is not None and any("均在杭州" in describe(reason) for reason in alike.reasons)
    # One character apart and nothing else alike: as likely another company of the trade.
    assert pair_of(first, other_trade) is None
    assert pair_of(first, elsewhere) is None


def test_the_province_stands_for_an_empty_city(rep1: Any) -> None:
    first = customer(rep1, "ＡＢＣ贸易有限公司", city="", province="浙江省")
    second = customer(rep1, "abc贸易公司", city="", province="浙江省")
    find_duplicates()
    pair = pair_of(first, second)
    assert codes(pair) == {"same_name"}
    assert pair is not None and pair.reasons[0]["params"]["place"] == "浙江省"


def test_reasons_add_up_to_a_score() -> None:
    tax = {"code": "same_tax_id", "params": {}}
    phone = {"code": "same_phone", "params": {"value": "13809985018"}}
    assert score([tax]) == 90
    assert score([tax, phone]) == 100
    assert score([phone]) == 55
    assert score([{"code": "similar_name", "params": {"likeness": 0.6}}]) == 20
    assert score([{"code": "similar_name", "params": {"likeness": 0.8}}]) == 40
    assert score([{"code": "similar_name", "params": {"likeness": 0.9}}]) == 55
    assert score([]) == 0


def test_a_pair_found_again_keeps_its_row_and_not_a_duplicate_is_remembered(rep1: Any, manager: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司", tax_id="91330100MA2B3C4D5E")
    second = customer(rep1, "杭州明远科技股份有限公司", tax_id="330100MA2B3C4D5")
    find_duplicates()
    pair = pair_of(first, second)
    assert pair is not None and pair.score == 100
    find_duplicates()
    assert DuplicateCandidate.objects.get().pk == pair.pk
    pair.status = "not_duplicate"
    pair.save()
    result = find_duplicates()
    assert result.pairs == 0
    kept = DuplicateCandidate.objects.get()
    assert kept.status == "not_duplicate"


def test_a_pair_no_longer_alike_is_withdrawn(rep1: Any) -> None:
    first = customer(rep1, "甲公司", tax_id="91330100MA2B3C4D5E", city="宁波")
    second = customer(rep1, "乙公司", tax_id="330100MA2B3C4D5", city="温州")
    find_duplicates()
    assert pair_of(first, second) is not None
    second.tax_id = "330100MA2B3C4D6"
    second.save()
    find_duplicates()
    assert pair_of(first, second) is None


def test_a_key_many_customers_share_pairs_none_of_them(rep1: Any) -> None:
    crowd = [customer(rep1, f"公司{n}", phone="0571-88001234", city=f"城{n}") for n in range(22)]
    find_duplicates()
    assert pair_of(crowd[0], crowd[1]) is None


def test_the_command_prints_the_pairs(rep1: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司", tax_id="91330100MA2B3C4D5E")
    second = customer(rep1, "杭州明远科技股份有限公司", tax_id="330100MA2B3C4D5")
    out = StringIO()
    call_command("find_duplicates", "--sync", stdout=out)
    text = out.getvalue()
    assert f"{first.code} 杭州明远科技有限公司  ~  {second.code} 杭州明远科技股份有限公司" in text
    assert "税号相同" in text
    assert "在 2 个客户中找到 1 对。" in text


def test_the_command_queues_the_task(rep1: Any, tasks_run_here: list[str]) -> None:
    customer(rep1, "甲公司", tax_id="91330100MA2B3C4D5E", city="宁波")
    customer(rep1, "乙公司", tax_id="330100MA2B3C4D5", city="温州")
    call_command("find_duplicates", stdout=StringIO())
    assert DuplicateCandidate.objects.count() == 1
