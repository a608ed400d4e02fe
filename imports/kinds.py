"""What can be imported, and how a row finds the record it updates and its customer."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

#: Columns that name the customer a row belongs to, and what people call them.
CUSTOMER_LINKS = {
    "customer_code": ("客户编号", "客户编码", "客户代码", "customer code"),
    "customer_tax_id": ("客户税号", "税号", "统一社会信用代码", "customer tax id"),
    "customer_name": ("客户名称", "公司名称", "单位名称", "客户", "customer", "customer name", "company"),
}

#: Each of those columns and the customer's field it names.
CUSTOMER_REFERENCES = (("customer_code", "code"), ("customer_tax_id", "tax_id"), ("customer_name", "name"))


#: Columns of a customers table that fill no field of the API but still land somewhere
#: meaningful (a star-rated table's): the tier it gave, kept with a history entry that
#: says it was imported (``tiers.services.tiers_import``), and the years the customer
#: has been one, which give the day it became one (``customer_since``).
CUSTOMER_EXTRAS = {
    "current_tier": ("当前等级", "客户等级", "等级", "星级", "客户星级", "会员等级", "current tier", "tier"),
    "years_as_customer": ("使用年限", "合作年限", "客户年限", "合作年数", "years as customer", "years as a customer"),
}


#: What those columns are called on the pages and in templates.
EXTRA_LABELS = {"current_tier": _("Current tier"), "years_as_customer": _("Years as a customer")}


@dataclass(frozen=True)
class ImportKind:
    """One kind of record an import creates or updates.

    ``keys`` are the fields that identify an existing record for an update, the usual
    one first; ``customer_link`` says its rows belong to a customer named by one of the
    ``CUSTOMER_LINKS`` columns (a customer's code, tax id or exact name).
    """

    code: str
    resource: str
    keys: tuple[str, ...]
    customer_link: bool = False
    #: Columns beyond the resource's fields (names as in ``CUSTOMER_EXTRAS``).
    extras: tuple[str, ...] = ()


KINDS = {
    "customers": ImportKind("customers", "customers", keys=("code", "tax_id"), extras=tuple(CUSTOMER_EXTRAS)),
    "contacts": ImportKind("contacts", "contacts", keys=("email", "mobile"), customer_link=True),
    "transactions": ImportKind("transactions", "transactions", keys=("external_ref",), customer_link=True),
    # Records without a natural key are found by the id the exports write.
    "activities": ImportKind("activities", "activities", keys=("id",), customer_link=True),
    "service-records": ImportKind("service-records", "service-records", keys=("id",), customer_link=True),
    "feedback": ImportKind("feedback", "feedback", keys=("id",), customer_link=True),
    "satisfaction-responses": ImportKind(
        "satisfaction-responses", "satisfaction-responses", keys=("id",), customer_link=True
    ),
    "participations": ImportKind("participations", "participations", keys=("id",), customer_link=True),
    "service-needs": ImportKind("service-needs", "service-needs", keys=("id",), customer_link=True),
}
#: How rows meet the records already in the book.
MODES = ("create", "update", "upsert")
#: A workbook of several sheets, each holding one kind (recognised by its headers),
#: checked and imported together: the key-account archive.
ARCHIVE = "archive"


def resource_of(kind: str) -> str:
    """The resource whose rights an import of ``kind`` needs first: an archive is a
    customer archive."""
    return KINDS["customers" if kind == ARCHIVE else kind].resource


def position(sheet: int, row: int) -> int:
    """Where a row stands in a whole import: the sheets in the order they are written
    (customers first), then the rows of each; a file of one sheet counts its rows."""
    return sheet * 10_000_000 + row
