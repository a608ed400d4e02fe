"""The keys under which two records of the same company meet.

People write one company's name many ways: ``杭州明远科技有限公司``, ``杭州明远科技股份有限公司``,
``（杭州）明远科技``, full-width ``ＡＢＣ`` letters, spaces in between.  Its *name key* is the
name with all of that taken away, so that the finder compares what is left.  Phones are
reduced to their digits (:func:`crm.core.phones.phone_digits`), e-mails to lower case; an
e-mail's domain is a key only when it is the company's own (not a free-mail service).
"""

from __future__ import annotations

import re
import unicodedata

from crm.core.phones import phone_digits

#: What companies add to their names, longest first (so 有限责任公司 goes before 公司).
LEGAL_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "分公司",
    "总公司",
    "集团",
    "公司",
    "company limited",
    "co ltd",
    "coltd",
    "limited",
    "ltd",
    "inc",
    "corporation",
    "corp",
    "company",
    "llc",
    "gmbh",
)

#: Free-mail services: two people with a 163.com address are not one company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "vip.163.com", "sina.com",
        "sina.cn", "sohu.com", "139.com", "189.cn", "wo.cn", "aliyun.com", "outlook.com", "hotmail.com",
        "live.com", "gmail.com", "yahoo.com", "icloud.com", "me.com", "msn.com",
    }
)  # fmt: skip

#: A place in brackets, such as (北京) or （上海）: at most twelve characters.
_BRACKETED = re.compile(r"[(\[【][^)\]】]{1,12}[)\]】]")
_SUFFIXES = re.compile(
    "|".join(rf"\b{re.escape(suffix)}\b" if suffix.isascii() else re.escape(suffix) for suffix in LEGAL_SUFFIXES)
)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_company_name(name: str) -> str:
    """A company name's key: half-width, lower case, without places in brackets, legal
    forms (有限公司, Co., Ltd. …), spaces or punctuation.  A name that is nothing but those
    keeps its letters (``集团公司`` stays ``集团公司``) so that it is never empty by accident."""
    text = unicodedata.normalize("NFKC", name or "").lower().strip()
    if not text:
        return ""
    text = _BRACKETED.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    spaced = " ".join(text.split())
    # Latin forms are matched on words ("co ltd"), Chinese ones anywhere.
    stripped = _SUFFIXES.sub("", spaced)
    key = _NOT_WORD.sub("", stripped)
    return key or _NOT_WORD.sub("", spaced)


def normalise_phone(phone: str) -> str:
    """A phone's digits without China's country code or a landline's trunk 0 (written
    with ``+86`` a landline loses it: ``+86 571 8800 1234`` is ``0571 8800 1234``);
    "" when it is no phone number.  Numbers shorter than seven digits (an extension)
    are no key."""
    digits = phone_digits(phone or "") or ""
    if digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) >= 7 else ""


def normalise_email(email: str) -> str:
    """An e-mail address in half-width lower case ("" when it has no ``@``)."""
    text = unicodedata.normalize("NFKC", email or "").strip().lower()
    return text if "@" in text.strip("@") else ""


def company_domain(email: str) -> str:
    """An e-mail's domain when it is a company's own, "" for a free-mail service."""
    address = normalise_email(email)
    if not address:
        return ""
    domain = address.rsplit("@", 1)[1]
    return "" if domain in FREE_MAIL_DOMAINS else domain


def normalise_tax_id(tax_id: str) -> str:
    """A tax id's core, the same for a company's old and new numbers.

    The unified social credit code (18 characters) holds the old 15-character tax
    registration number (area code and organisation code) at its 3rd to 17th places, so
    a company entered once under each has one key; any other id is itself in capitals.
    """
    text = "".join(unicodedata.normalize("NFKC", tax_id or "").split()).upper()
    return text[2:17] if len(text) == 18 else text
