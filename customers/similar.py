"""The duplicate check while a customer (or a contact) is created.

Before a new customer is written, the whole book is searched for customers that look
like the same company, under the duplicate finder's keys (:mod:`customers.normalise`):

* the same tax id core (an 18-character unified code holds the old 15-character number,
  so a company entered once under each is found);
* the same phone digits (``+86 571 8800 1234`` is ``0571-88001234``), of the switchboard
  or of a contact, against the switchboards and contacts' phones of the book;
* the same e-mail, or the same company domain (never a free-mail one);
* the same name key anywhere, or a name key at least :data:`~customers.reasons.NAME_ENOUGH`
  alike (``pg_trgm`` similarity) in the same city (or province when the city is empty).

Every key is looked up through an index (the tax id, its core, the trigram indexes on
the digits of the phones, on the upper-cased e-mails and names), so a check is a few
queries however large the book is.  Each match carries its reasons
(:mod:`customers.reasons`) and their score, best first, at most :data:`MOST`.

The search runs over the whole book, since the point is to find the customer someone
else holds; what the user is told follows the record scope (:func:`shown_to`): a match
they may see is named (its name and code through the field policy), one they may not
see is only "a similar customer exists — ask its owner (or the team's manager)", with
the kinds of its reasons and nothing of its values.

Upserts and imports (``customer_create_many``) do not run the check; the API and the
create page do, unless the user confirms (``create_anyway``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr, Upper
from django.utils.translation import gettext_lazy as _

from crm.access.masking import kind_of, mask_value
from crm.access.policy import Level, UserPolicy
from crm.access.scope import customers_visible_to
from crm.core.errors import DomainError
from crm.core.phones import Digits

from .models import Contact, Customer
from .normalise import company_domain, normalise_company_name, normalise_email, normalise_phone, normalise_tax_id
from .reasons import NAME_ENOUGH, describe, score

#: At most this many matches are shown, best first.
MOST = 5
#: Names read near the proposed one, most alike first.
_CANDIDATES = 50


@dataclass(frozen=True)
class Proposal:
    """What a new customer would hold: the keys the check looks for."""

    name: str = ""
    tax_id: str = ""
    phone: str = ""
    email: str = ""
    city: str = ""
    province: str = ""
    contact_phones: Sequence[str] = ()
    contact_emails: Sequence[str] = ()

    @property
    def place(self) -> str:
        return _place_of(self.city, self.province)


@dataclass
class Match:
    """An existing customer that looks like the proposed one, and why."""

    customer: Customer
    visible: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> int:
        return score(self.reasons)


def _place_of(city: str, province: str) -> str:
    """Where a customer is, as the finder compares places: its city, or its province
    when the city is empty."""
    return (city or "").strip() or (province or "").strip()


class _Found:
    """The reasons found so far, per customer; one reason of each kind."""

    def __init__(self) -> None:
        self.reasons: dict[int, dict[str, dict[str, Any]]] = {}

    def add(self, pk: int, code: str, params: dict[str, Any]) -> None:
        self.reasons.setdefault(pk, {}).setdefault(code, {"code": code, "params": params})


def _phone_keys(numbers: Iterable[str]) -> set[str]:
    return {key for key in (normalise_phone(number) for number in numbers) if key}


def _email_keys(addresses: Iterable[str]) -> tuple[set[str], set[str]]:
    emails = {key for key in (normalise_email(address) for address in addresses) if key}
    return emails, {domain for domain in (company_domain(address) for address in emails) if domain}


def _match_contact_keys(
    found: _Found, pk: int, numbers: Iterable[str], address: str, phones: set[str], emails: set[str], domains: set[str]
) -> None:
    for number in numbers:
        digits = normalise_phone(number)
        if digits and digits in phones:
            found.add(pk, "same_phone", {"value": digits})
    email = normalise_email(address)
    if email and email in emails:
        found.add(pk, "same_email", {"value": email})
    domain = company_domain(email)
    if domain and domain in domains:
        found.add(pk, "same_domain", {"value": domain})


def _key_conditions(columns: Sequence[str], phones: set[str], emails: set[str], domains: set[str]) -> list[Q]:
    """Rows holding one of the phone or e-mail keys, each through the column's trigram
    index: a number ends with its key (before it only ``86``, ``0086`` or a trunk 0)."""
    conditions = [Q(**{f"{column}_digits__endswith": digits}) for column in columns for digits in phones]
    conditions += [Q(email_upper=email.upper()) for email in emails]
    conditions += [Q(email_upper__endswith=f"@{domain.upper()}") for domain in domains]
    return conditions


def _any(rows: QuerySet[Any], conditions: list[Q]) -> QuerySet[Any]:
    """The rows meeting any of ``conditions``, as one statement of one indexed lookup per
    condition (``UNION ALL``): an ``OR`` of them would have the planner weigh one scan of
    the whole table against them all, and it underrates what ``Digits`` costs per row."""
    parts = [rows.filter(condition).order_by() for condition in conditions]
    return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]


def _by_keys(proposal: Proposal, found: _Found) -> None:
    """Customers sharing a tax id core, a phone or an e-mail (or its domain) with the
    proposal, directly or through a contact: two queries of index lookups (:func:`_any`).
    Neither is limited, which would make a scan along another index (or the table) look
    cheaper than the lookups; the rows holding one company's keys are few."""
    phones = _phone_keys([proposal.phone, *proposal.contact_phones])
    emails, domains = _email_keys([proposal.email, *proposal.contact_emails])
    tax_core = normalise_tax_id(proposal.tax_id)
    customers = []
    if tax_core:
        # An old number is its own core; a unified code holds it at its 3rd to 17th places.
        customers += [Q(tax_id__in={tax_core, "".join(proposal.tax_id.split()).upper()})]
        if len(tax_core) == 15:
            customers += [Q(tax_core=tax_core)]
    customers += _key_conditions(["phone"], phones, emails, domains)
    if customers:
        rows = _any(
            Customer.objects.annotate(
                tax_core=Substr("tax_id", 3, 15), phone_digits=Digits("phone"), email_upper=Upper("email")
            ).values_list("pk", "tax_id", "phone", "email"),
            customers,
        )
        for pk, tax_id, phone, email in rows:
            if tax_core and normalise_tax_id(tax_id) == tax_core:
                found.add(pk, "same_tax_id", {"value": tax_core})
            _match_contact_keys(found, pk, [phone], email, phones, emails, domains)
    if phones or emails:
        contacts = _any(
            Contact.objects.annotate(
                phone_digits=Digits("phone"), mobile_digits=Digits("mobile"), email_upper=Upper("email")
            ).values_list("customer_id", "phone", "mobile", "email"),
            _key_conditions(["phone", "mobile"], phones, emails, domains),
        )
        for pk, phone, mobile, email in contacts:
            _match_contact_keys(found, pk, [phone, mobile], email, phones, emails, domains)


def _likeness(key: str, others: list[str]) -> dict[str, float]:
    """The ``pg_trgm`` similarity of ``key`` to each of ``others`` (as the finder compares
    name keys): one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT other, similarity(%s, other) FROM unnest(%s::text[]) AS other", [key, others])
        return {other: float(likeness) for other, likeness in cursor.fetchall()}


def _by_name(proposal: Proposal, found: _Found) -> None:
    """Customers of the same name key anywhere, or of a name key ``NAME_ENOUGH`` alike in
    the same place: the names near the key (the trigram index on the upper-cased name),
    then their keys compared."""
    key = normalise_company_name(proposal.name)
    if not key:
        return
    rows = (
        Customer.objects.annotate(name_upper=Upper("name"))
        .filter(name_upper__trigram_similar=key.upper())
        .annotate(likeness=TrigramSimilarity(Upper("name"), key.upper()))
        .order_by("-likeness", "pk")
        .values_list("pk", "name", "city", "province")[:_CANDIDATES]
    )
    place = proposal.place
    alike: dict[str, list[tuple[int, str]]] = {}
    for pk, name, city, province in rows:
        other = normalise_company_name(name)
        their_place = _place_of(city, province)
        if other == key:
            found.add(pk, "same_name", {"likeness": 1, "place": place if place and their_place == place else ""})
        elif place and their_place == place and other:
            alike.setdefault(other, []).append((pk, place))
    if not alike:
        return
    for other, likeness in _likeness(key, list(alike)).items():
        if likeness >= NAME_ENOUGH:
            for pk, where in alike[other]:
                found.add(pk, "similar_name", {"likeness": round(likeness, 2), "place": where})


def similar_customers(*, user: Any, proposal: Proposal, most: int = MOST) -> list[Match]:
    """The existing customers that look like ``proposal``, best first (at most ``most``),
    each with its reasons and whether ``user`` may see it.  Searches the whole book; at
    most five queries, whatever its size."""
    found = _Found()
    _by_keys(proposal, found)
    _by_name(proposal, found)
    if not found.reasons:
        return []
    ranked = sorted(found.reasons.items(), key=lambda item: (-score(list(item[1].values())), item[0]))[:most]
    customers = (
        Customer.objects.filter(pk__in=[pk for pk, _ in ranked])
        .select_related("owner", "team__manager")
        .annotate(visible=Exists(customers_visible_to(user).filter(pk=OuterRef("pk"))))
        .in_bulk()
    )
    return [
        Match(customer=customers[pk], visible=bool(customers[pk].visible), reasons=list(reasons.values()))  # type: ignore[attr-defined]
        for pk, reasons in ranked
        if pk in customers
    ]


def _through_policy(policy: UserPolicy, resource: str, name: str, value: Any) -> Any:
    level = policy.level(resource, name)
    if level == Level.HIDDEN:
        return None
    if level == Level.MASKED:
        return mask_value(value, kind_of(resource, name))
    return value


def shown_to(matches: Sequence[Match], *, policy: UserPolicy) -> list[dict[str, Any]]:
    """The matches as the user may be told of them.

    A customer they may see: its id, code and name (through the field policy, as any
    read), its owner, the reasons with their values and the score.  One they may not:
    only that it exists and whom to ask (its owner, and its team's manager if any), with
    the kinds of its reasons; ``id``, ``code``, ``name`` and ``score`` are null.
    """
    shown = []
    for match in matches:
        customer = match.customer
        manager = customer.team.manager if customer.team and customer.team.manager else None
        entry: dict[str, Any] = {
            "visible": match.visible,
            "id": None,
            "code": None,
            "name": None,
            "owner_name": str(customer.owner),
            "manager_name": str(manager) if manager and manager != customer.owner else None,
            "score": None,
            "reasons": [
                {"code": reason["code"], "text": describe(reason, values=match.visible)} for reason in match.reasons
            ],
        }
        if match.visible:
            entry.update(
                id=customer.pk,
                code=_through_policy(policy, "customers", "code", customer.code),
                name=_through_policy(policy, "customers", "name", customer.name),
                score=match.score,
            )
        shown.append(entry)
    return shown


def proposal_from(data: dict[str, Any]) -> Proposal:
    """The keys of a customer's data as a form or the API gives it."""
    return Proposal(
        name=str(data.get("name") or ""),
        tax_id=str(data.get("tax_id") or ""),
        phone=str(data.get("phone") or ""),
        email=str(data.get("email") or ""),
        city=str(data.get("city") or ""),
        province=str(data.get("province") or ""),
    )


# --------------------------------------------------------------------- contacts
@dataclass
class ContactMatch:
    """A contact of the same customer that looks like the new one, and why."""

    contact: Contact
    reasons: list[dict[str, Any]]


def similar_contacts(*, customer: Customer, name: str = "", mobile: str = "", email: str = "") -> list[ContactMatch]:
    """The contacts of ``customer`` that look like a new one: the same mobile digits (as
    a mobile or an office phone), the same e-mail or the same name (spaces and case
    aside).  One query, over the customer's contacts through their index; the user sees
    them already, as they see the customer."""
    phone_key = normalise_phone(mobile)
    email_key = normalise_email(email)
    name_key = "".join((name or "").split()).casefold()
    matches = []
    for contact in Contact.objects.filter(customer=customer).order_by("pk"):
        reasons: list[dict[str, Any]] = []
        if name_key and "".join(contact.name.split()).casefold() == name_key:
            reasons.append({"code": "same_name", "params": {}})
        if phone_key and phone_key in {normalise_phone(contact.mobile), normalise_phone(contact.phone)}:
            reasons.append({"code": "same_phone", "params": {"value": phone_key}})
        if email_key and normalise_email(contact.email) == email_key:
            reasons.append({"code": "same_email", "params": {"value": email_key}})
        if reasons:
            matches.append(ContactMatch(contact=contact, reasons=reasons))
    matches.sort(key=lambda match: -score(match.reasons))
    return matches[:MOST]


def contacts_shown_to(matches: Sequence[ContactMatch], *, policy: UserPolicy) -> list[dict[str, Any]]:
    """The matching contacts as the user reads them: id, name (through the field policy)
    and the reasons."""
    return [
        {
            "id": match.contact.pk,
            "name": _through_policy(policy, "contacts", "name", match.contact.name),
            "reasons": [{"code": reason["code"], "text": describe(reason)} for reason in match.reasons],
        }
        for match in matches
    ]


# ----------------------------------------------------------------- refusals
class SimilarCustomersExist(DomainError):
    """A new customer looks like one (or more) already in the book; nothing was written.
    The answer lists them as the user may be told of them (:func:`shown_to`)."""

    status_code = 409
    default_code = "similar_customers"
    default_message = _(
        "Similar customers exist already: look at them first. To create this customer all the same, "
        "send create_anyway: true."
    )


class SimilarContactsExist(DomainError):
    """A new contact looks like one the customer has already; nothing was written."""

    status_code = 409
    default_code = "similar_contacts"
    default_message = _(
        "This customer has a similar contact already: look at it first. To create this contact all the same, "
        "send create_anyway: true."
    )


def refuse_similar_customer(*, user: Any, data: dict[str, Any], policy: UserPolicy) -> None:
    """Raise :class:`SimilarCustomersExist` when the customer ``data`` describes looks
    like existing ones."""
    matches = similar_customers(user=user, proposal=proposal_from(data))
    if matches:
        raise SimilarCustomersExist(extra={"similar": shown_to(matches, policy=policy)})


def refuse_similar_contact(*, data: dict[str, Any], policy: UserPolicy) -> None:
    """Raise :class:`SimilarContactsExist` when the contact ``data`` describes looks like
    one its customer has."""
    matches = similar_contacts(
        customer=data["customer"],
        name=str(data.get("name") or ""),
        mobile=str(data.get("mobile") or ""),
        email=str(data.get("email") or ""),
    )
    if matches:
        raise SimilarContactsExist(extra={"similar": contacts_shown_to(matches, policy=policy)})
