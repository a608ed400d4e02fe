"""Contacts of one customer that look like the same person entered twice.

The same person is often typed in twice: the mobile once as ``+86 138 0000 0000`` and
once as ``13800000000``, the e-mail in another case.  Two contacts of one customer are
proposed as a pair when they share

* the digits of their mobile (China's country code dropped, at least seven digits),
* their e-mail, whatever its case and width,
* their WeChat id, whatever its case, or
* their name once spaces are dropped (a weaker reason: two people may share a name).

Only the reader's own view counts: a reason that rests on a field the field policy hides
from them is left out, and so is a pair with no other reason, so that the list never
tells what a hidden field holds.  A customer's pairs cost one query whatever its number
of contacts.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.utils.translation import gettext as _

from crm.access.policy import Level, policy_for
from crm.core.phones import phone_digits

from .models import Contact, Customer
from .selectors import contact_list

#: The reasons, strongest first, with the contact field each rests on.
REASONS: dict[str, str] = {
    "same_mobile": "mobile",
    "same_email": "email",
    "same_wechat": "wechat",
    "same_name": "name",
}
#: A name alone is a weaker reason than a number or an address.
WEAK_REASONS = frozenset({"same_name"})
#: Fewer digits than this are an extension or a typo, not a mobile number.
SHORTEST_MOBILE = 7


def mobile_key(value: str) -> str:
    """A mobile's digits without China's country code ("" when it is no number)."""
    digits = phone_digits(value or "") or ""
    return digits if len(digits) >= SHORTEST_MOBILE else ""


def _text_key(value: str) -> str:
    """Half-width, lower case, without any space (``Wang  Li`` is ``wangli``)."""
    return "".join(unicodedata.normalize("NFKC", value or "").casefold().split())


def email_key(value: str) -> str:
    key = _text_key(value)
    return key if "@" in key.strip("@") else ""


KEYS = {"same_mobile": mobile_key, "same_email": email_key, "same_wechat": _text_key, "same_name": _text_key}


def describe(code: str) -> str:
    """A reason in the reader's language."""
    return {
        "same_mobile": _("same mobile number"),
        "same_email": _("same e-mail"),
        "same_wechat": _("same WeChat id"),
        "same_name": _("same name"),
    }.get(code, code)


@dataclass
class ContactPair:
    """Two contacts of one customer (``first`` the older) and why they look alike."""

    first: Contact
    second: Contact
    reasons: list[str] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        """Whether a reason other than the name alone ties them."""
        return any(code not in WEAK_REASONS for code in self.reasons)

    @property
    def descriptions(self) -> list[str]:
        return [describe(code) for code in self.reasons]


def contact_pairs(contacts: list[Contact], *, readable: set[str] | None = None) -> list[ContactPair]:
    """The pairs among ``contacts`` (all of one customer) that look like one person,
    strongest first.  ``readable``: the fields the reader may see (all when None)."""
    codes = [code for code, name in REASONS.items() if readable is None or name in readable]
    by_id = {contact.pk: contact for contact in contacts}
    found: dict[tuple[int, int], list[str]] = {}
    for code in codes:
        buckets: dict[str, list[int]] = defaultdict(list)
        for contact in sorted(contacts, key=lambda contact: contact.pk):
            key = KEYS[code](getattr(contact, REASONS[code]))
            if key:
                buckets[key].append(contact.pk)
        for members in buckets.values():
            for pair in combinations(members, 2):
                found.setdefault(pair, []).append(code)
    pairs = [ContactPair(by_id[first], by_id[second], reasons) for (first, second), reasons in found.items()]
    pairs.sort(key=lambda pair: (not pair.strong, -len(pair.reasons), pair.first.pk, pair.second.pk))
    return pairs


def contact_duplicates(*, user: Any, customer: Customer, request: Any = None) -> list[ContactPair]:
    """The pairs of the customer's contacts that ``user`` sees and that look like the
    same person, as the user may see them (one query for the contacts)."""
    contacts = list(contact_list(user=user).filter(customer=customer))
    return contact_pairs(contacts, readable=readable_reasons(policy_for(user, request)))


def readable_reasons(policy: Any) -> set[str]:
    """The fields a reason may rest on for a reader: those not hidden from them."""
    return {name for name in REASONS.values() if policy.level("contacts", name) > Level.HIDDEN}
