"""Masking (脱敏): how a value looks to someone allowed to know it exists, not what it is.

The kind of a field decides the mask: phone numbers keep their first three and last four
digits (``138****5678``), e-mail addresses their first letter and domain
(``z***@example.com``), people's names their family name (``张*``), tax ids and account
numbers their ends, amounts become a band (``100,000–1,000,000``), dates keep the year.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class MaskKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    PERSON = "person"
    IDENTIFIER = "identifier"
    AMOUNT = "amount"
    DATE = "date"
    TEXT = "text"


MASK = "****"
_BANDS = [Decimal(10) ** n for n in range(3, 13)]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return MASK


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    if not domain:
        return MASK
    return f"{local[:1]}***@{domain}"


def mask_person(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    if value.isascii():  # "Zhang Wei" → "Z*** W***"
        return " ".join(f"{part[:1]}***" for part in value.split())
    return value[0] + "*" * max(1, len(value) - 1)


def mask_identifier(value: str) -> str:
    if len(value) <= 6:
        return MASK
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}" if len(value) > 8 else f"{value[:2]}****{value[-2:]}"


def mask_amount(value: Any) -> str:
    try:
        amount = abs(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return MASK
    low = Decimal(0)
    for high in _BANDS:
        if amount < high:
            return f"{low:,.0f}–{high:,.0f}"
        low = high
    return f"≥ {low:,.0f}"


def mask_date(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return f"{text[:4]}-**-**" if len(text) >= 4 else MASK


def mask_text(value: str) -> str:
    return f"{value[:1]}***" if value else value


_BY_KIND = {
    MaskKind.PHONE: mask_phone,
    MaskKind.EMAIL: mask_email,
    MaskKind.PERSON: mask_person,
    MaskKind.IDENTIFIER: mask_identifier,
    MaskKind.AMOUNT: mask_amount,
    MaskKind.DATE: mask_date,
    MaskKind.TEXT: mask_text,
}


def mask_value(value: Any, kind: MaskKind) -> Any:
    """The masked form of ``value``; empty values stay empty (their emptiness is not secret)."""
    if value is None or value == "" or value == [] or value == {}:
        return value
    if isinstance(value, bool):
        return MASK
    if isinstance(value, list):
        return [MASK for _ in value]
    if isinstance(value, dict):
        return {key: MASK for key in value}
    if kind in (MaskKind.AMOUNT, MaskKind.DATE):
        return _BY_KIND[kind](value)
    return _BY_KIND[kind](str(value))


_PHONE_NAMES = {"phone", "mobile", "fax"}
_PERSON_NAMES = {"staff_name", "owner_name", "assignee_name", "handler_name", "contact_name", "actor_label"}
_IDENTIFIER_NAMES = {"tax_id", "wechat", "external_ref", "bank_account", "id_number"}
_AMOUNT_WORDS = ("amount", "revenue", "price", "budget", "credit", "limit", "score")


def kind_of(resource: str, field: str, serializer_field: Any = None) -> MaskKind:
    """The kind of a field, from its name and, when known, its serializer field type."""
    from rest_framework import serializers

    if field in _PHONE_NAMES or field.endswith("_phone"):
        return MaskKind.PHONE
    if field == "email" or field.endswith("_email") or isinstance(serializer_field, serializers.EmailField):
        return MaskKind.EMAIL
    if field in _PERSON_NAMES or (field == "name" and resource in ("contacts", "users")):
        return MaskKind.PERSON
    if field in _IDENTIFIER_NAMES:
        return MaskKind.IDENTIFIER
    if isinstance(
        serializer_field, serializers.DecimalField | serializers.IntegerField | serializers.FloatField
    ) or any(word in field for word in _AMOUNT_WORDS):
        return MaskKind.AMOUNT
    if isinstance(serializer_field, serializers.DateField | serializers.DateTimeField) or field in ("birthday",):
        return MaskKind.DATE
    return MaskKind.TEXT
