"""The duplicate finder: which customers of the whole book look like one company twice.

Set-based, one transaction:

1. every customer's keys go into a temporary table (``dup_keys``): its tax id's core
   (:func:`~duplicates.normalise.normalise_tax_id`: old and new numbers agree), the
   digits of its switchboard and of its contacts' phones and mobiles, its and its
   contacts' e-mails, the company domains of those e-mails, and its name key
   (:func:`~duplicates.normalise.normalise_company_name`) with its city (or province
   when the city is empty);
2. the table is joined to itself per key: two customers with the same key are a
   candidate pair (``a < b``).  A key held by more than ``CROWDED`` customers (a shared
   group switchboard, a holding's domain) says nothing and is left out;
3. names not equal but alike (``pg_trgm`` similarity at least ``NAME_LIKENESS``, found
   through a trigram index) in the same city or province make a pair too;
4. each pair's reasons are scored (:mod:`duplicates.reasons`) and the pairs scoring at
   least ``MIN_SCORE`` are upserted: a pair found before keeps its row (its score and
   reasons refreshed while it is open); a pair called "not a duplicate" or merged is
   left as it is and so never proposed again.  Open pairs not found this time (a phone
   corrected since) are withdrawn.

Running it twice does the same as once; two runs at a time wait for each other.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Contact, Customer

from .models import DuplicateCandidate
from .normalise import company_domain, normalise_company_name, normalise_email, normalise_phone, normalise_tax_id
from .reasons import NAME_ENOUGH, WEIGHTS

#: Customers sharing one key beyond this many are not paired on it.
CROWDED = 20
#: Two name keys this alike (pg_trgm similarity) in one place make a pair.
NAME_LIKENESS = 0.5
#: A pair scoring less is not proposed (an e-mail domain alone is not enough).
MIN_SCORE = 40
#: The advisory lock that keeps two runs from overlapping.
_LOCK = 0x6475_7065  # "dupe"


@dataclass(frozen=True)
class FinderResult:
    pairs: int
    customers: int


def _copy(cursor: Any, table: str, rows: Any) -> None:
    """Load rows into a temporary table with COPY (tab-separated, tabs and newlines
    in values replaced: no key holds one)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(value).replace("\t", " ").replace("\n", " ").replace("\\", "") for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} FROM STDIN", buffer)  # type: ignore[attr-defined]


def _customer_keys() -> Any:
    """(customer, kind, value) for every key of every customer, and (customer, name key,
    place) for every customer with a name."""
    rows = Customer.objects.values_list("pk", "name", "tax_id", "phone", "email", "city", "province")
    for pk, name, tax_id, phone, email, city, province in rows.iterator(chunk_size=10_000):
        tax_key = normalise_tax_id(tax_id)
        if tax_key:
            yield pk, "same_tax_id", tax_key
        yield from _contact_keys(pk, phone, "", email)
        key = normalise_company_name(name)
        place = (city or "").strip() or (province or "").strip()
        if key and place:
            yield pk, "name", f"{place}\x1f{key}"


def _contact_keys(pk: int, phone: str, mobile: str, email: str) -> Any:
    for number in (phone, mobile):
        digits = normalise_phone(number)
        if digits:
            yield pk, "same_phone", digits
    address = normalise_email(email)
    if address:
        yield pk, "same_email", address
        domain = company_domain(address)
        if domain:
            yield pk, "same_domain", domain


def _all_keys() -> Any:
    yield from _customer_keys()
    contacts = Contact.objects.values_list("customer_id", "phone", "mobile", "email")
    for pk, phone, mobile, email in contacts.iterator(chunk_size=10_000):
        yield from _contact_keys(pk, phone, mobile, email)


_WEIGHT_SQL = (
    "CASE code "
    + " ".join(f"WHEN '{code}' THEN {weight}" for code, weight in WEIGHTS.items() if weight)
    + f" WHEN 'similar_name' THEN CASE WHEN likeness < {NAME_ENOUGH} THEN 20"
    + f" ELSE round(40 + least(1, (likeness - {NAME_ENOUGH}) / (1 - {NAME_ENOUGH})) * 30) END ELSE 0 END"
)

_PAIRS_SQL = f"""
CREATE TEMPORARY TABLE dup_reasons ON COMMIT DROP AS
WITH usable AS (
    SELECT DISTINCT customer_id, kind, value FROM dup_keys
    WHERE (kind, value) IN (
        SELECT kind, value FROM dup_keys GROUP BY kind, value
        HAVING count(DISTINCT customer_id) BETWEEN 2 AND {CROWDED}
    )
), same AS (
    SELECT a.customer_id AS a, b.customer_id AS b, a.kind, a.value
    FROM usable a JOIN usable b ON a.kind = b.kind AND a.value = b.value AND a.customer_id < b.customer_id
), alike AS (
    SELECT a.customer_id AS a, b.customer_id AS b, a.place, similarity(a.name_key, b.name_key) AS likeness
    FROM dup_names a JOIN dup_names b
      ON b.name_key % a.name_key AND a.place = b.place AND a.customer_id < b.customer_id
    WHERE a.name_key <> b.name_key
), reasons AS (
    SELECT a, b, CASE kind WHEN 'name' THEN 'same_name' ELSE kind END AS code,
           CASE kind WHEN 'name' THEN jsonb_build_object('likeness', 1, 'place', split_part(value, chr(31), 1))
                ELSE jsonb_build_object('value', value) END AS params,
           1.0::float AS likeness
    FROM same
    UNION ALL
    SELECT a, b, 'similar_name', jsonb_build_object('likeness', round(likeness::numeric, 2), 'place', place), likeness
    FROM alike
)
SELECT DISTINCT ON (a, b, code) a, b, code, params, {_WEIGHT_SQL} AS weight
FROM reasons ORDER BY a, b, code, likeness DESC, params
"""

_UPSERT_SQL = f"""
WITH scored AS (
    SELECT a, b,
           least(100, max(weight) + (sum(weight) - max(weight)) / 2)::int AS score,
           jsonb_agg(jsonb_build_object('code', code, 'params', params) ORDER BY weight DESC, code) AS reasons
    FROM dup_reasons GROUP BY a, b
)
INSERT INTO duplicates_duplicatecandidate AS c (customer_a_id, customer_b_id, score, reasons, status, found_at, version)
SELECT a, b, score, reasons, 'open', %(now)s, 1 FROM scored WHERE score >= {MIN_SCORE}
ON CONFLICT (customer_a_id, customer_b_id) DO UPDATE
   SET score = EXCLUDED.score, reasons = EXCLUDED.reasons, found_at = EXCLUDED.found_at
 WHERE c.status = 'open'
"""


#: The working tables go with the transaction, or here when it is a savepoint in another.
_DROP = "DROP TABLE IF EXISTS dup_keys, dup_names, dup_reasons"


def find_duplicates() -> FinderResult:
    """Run the finder over the whole book; return how many open pairs it holds now."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute(_DROP)
        cursor.execute(
            "CREATE TEMPORARY TABLE dup_keys (customer_id bigint, kind text, value text) ON COMMIT DROP;"
            "CREATE TEMPORARY TABLE dup_names (customer_id bigint, place text, name_key text) ON COMMIT DROP;"
        )
        raw = cursor.cursor  # the driver's own cursor, for COPY
        _copy(raw, "dup_keys", _all_keys())
        cursor.execute(
            "INSERT INTO dup_names SELECT customer_id, split_part(value, chr(31), 1), split_part(value, chr(31), 2)"
            " FROM dup_keys WHERE kind = 'name';"
            "CREATE INDEX ON dup_names USING gin (name_key gin_trgm_ops);"
            "ANALYZE dup_keys; ANALYZE dup_names;"
        )
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(NAME_LIKENESS)])
        cursor.execute(_PAIRS_SQL)
        cursor.execute(_UPSERT_SQL, {"now": now})
        DuplicateCandidate.objects.filter(status="open", found_at__lt=now).delete()
        pairs = DuplicateCandidate.objects.filter(status="open").count()
        cursor.execute("SELECT count(DISTINCT customer_id) FROM dup_keys")
        customers = cursor.fetchone()[0]
        cursor.execute(_DROP)
    return FinderResult(pairs=pairs, customers=customers)
