"""Masking rules (脱敏) by kind of value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm.access.masking import MaskKind, kind_of, mask_value


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("13812345678", MaskKind.PHONE, "138****5678"),
        ("+86 138-1234-5678", MaskKind.PHONE, "861****5678"),
        ("0571-88886666", MaskKind.PHONE, "057****6666"),
        ("12", MaskKind.PHONE, "****"),
        ("zhang.wei@example.com", MaskKind.EMAIL, "z***@example.com"),
        ("张伟", MaskKind.PERSON, "张*"),
        ("欧阳娜娜", MaskKind.PERSON, "欧***"),
        ("Zhang Wei", MaskKind.PERSON, "Z*** W***"),
        ("91330100MA2B3C4D5E", MaskKind.IDENTIFIER, "9133**********4D5E"),
        (Decimal("2400.00"), MaskKind.AMOUNT, "1,000–10,000"),
        ("125000000.00", MaskKind.AMOUNT, "100,000,000–1,000,000,000"),
        (dt.date(1988, 5, 17), MaskKind.DATE, "1988-**-**"),
        ("重要客户", MaskKind.TEXT, "重***"),
        ("", MaskKind.PHONE, ""),
        (None, MaskKind.AMOUNT, None),
        (True, MaskKind.TEXT, "****"),
    ],
)
def test_masks(value: object, kind: MaskKind, masked: object) -> None:
    assert mask_value(value, kind) == masked


def test_kinds_follow_field_names() -> None:
    assert kind_of("contacts", "mobile") is MaskKind.PHONE
    assert kind_of("contacts", "email") is MaskKind.EMAIL
    assert kind_of("contacts", "name") is MaskKind.PERSON
    assert kind_of("customers", "name") is MaskKind.TEXT
    assert kind_of("customers", "tax_id") is MaskKind.IDENTIFIER
    assert kind_of("transactions", "amount") is MaskKind.AMOUNT
    assert kind_of("customers", "annual_revenue") is MaskKind.AMOUNT
