"""The duplicate finder: which customers of the whole book look like one company twice.

Set-based, one transaction:

1. every customer's keys go into a temporary table (``dup_keys``): its tax id's core
   (:func:`~customers.normalise.normalise_tax_id`: old and new numbers agree), the
   digits of its switchboard and of its contacts' phones and mobiles, its and its
   contacts' e-mails, the company domains of those e-mails, and its name key
   (:func:`~customers.normalise.normalise_company_name`) with its city (or province
   when the city is empty);
2. the table is joined to itself per key: two customers with the same key are a
   candidate pair (``a < b``).  A key held by more than ``CROWDED`` customers (a shared
   group switchboard, a holding's domain) says nothing and is left out;
3. names not equal but alike in the same city or province make a pair too: at least
   ``NAME_ENOUGH`` alike (``pg_trgm`` similarity, the share of trigrams the two have in
   common) on their own, found by *prefix filtering* (two names that alike must share
   one of the few rarest trigrams of each, so only names sharing a rare trigram are
   compared: linear in the book, where comparing every name of a city with every other
   grows with the square of the city); and at least ``NAME_LIKENESS`` alike as support
   for a pair found by another key;
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
from customers.normalise import (
    company_domain,
    normalise_company_name,
    normalise_email,
    normalise_phone,
    normalise_tax_id,
)

from .models import DuplicateCandidate
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
    SELECT c.a, c.b, x.place, similarity(x.name_key, y.name_key) AS likeness
    FROM (
        SELECT DISTINCT p.customer_id AS a, q.customer_id AS b
        FROM dup_prefix p JOIN dup_prefix q
          ON p.place = q.place AND p.gram = q.gram AND p.customer_id < q.customer_id
    ) c
    JOIN dup_names x ON x.customer_id = c.a
    JOIN dup_names y ON y.customer_id = c.b
    WHERE x.name_key <> y.name_key AND similarity(x.name_key, y.name_key) >= {NAME_ENOUGH}
), support AS (
    SELECT s.a, s.b, x.place, similarity(x.name_key, y.name_key) AS likeness
    FROM (SELECT DISTINCT a, b FROM same) s
    JOIN dup_names x ON x.customer_id = s.a
    JOIN dup_names y ON y.customer_id = s.b AND y.place = x.place
    WHERE x.name_key <> y.name_key AND similarity(x.name_key, y.name_key) >= {NAME_LIKENESS}
), reasons AS (
    SELECT a, b, CASE kind WHEN 'name' THEN 'same_name' ELSE kind END AS code,
           CASE kind WHEN 'name' THEN jsonb_build_object('likeness', 1, 'place', split_part(value, chr(31), 1))
                ELSE jsonb_build_object('value', value) END AS params,
           1.0::float AS likeness
    FROM same
    UNION ALL
    SELECT a, b, 'similar_name', jsonb_build_object('likeness', round(likeness::numeric, 2), 'place', place), likeness
    FROM (SELECT * FROM alike UNION ALL SELECT * FROM support) named
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
_DROP = "DROP TABLE IF EXISTS dup_keys, dup_names, dup_prefix, dup_reasons"

#: Each name's prefix: its rarest trigrams (rarest in its place; ties by the trigram),
#: as many as a name ``NAME_ENOUGH`` alike must share at least one of — a name of n
#: trigrams shares at least ceil(t·n) with any name t alike, so it shares one of any
#: n − ceil(t·n) + 1 of them.  A trigram no other name of the place has joins nothing
#: and is left out once counted.
_PREFIX_SQL = f"""
CREATE TEMPORARY TABLE dup_prefix ON COMMIT DROP AS
WITH grams AS (
    SELECT customer_id, place, gram FROM dup_names, unnest(show_trgm(name_key)) AS gram
), ranked AS (
    SELECT g.customer_id, g.place, g.gram, f.n,
           row_number() OVER (PARTITION BY g.customer_id ORDER BY f.n, g.gram) AS r,
           count(*) OVER (PARTITION BY g.customer_id) AS size
    FROM grams g
    JOIN (SELECT place, gram, count(*) AS n FROM grams GROUP BY place, gram) f
      ON f.place = g.place AND f.gram = g.gram
)
SELECT customer_id, place, gram FROM ranked
WHERE n > 1 AND r <= size - ceil({NAME_ENOUGH} * size - 1e-9) + 1
"""


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
            "ANALYZE dup_keys; ANALYZE dup_names;"
        )
        cursor.execute(_PREFIX_SQL)
        cursor.execute("ANALYZE dup_prefix")
        cursor.execute(_PAIRS_SQL)
        cursor.execute(_UPSERT_SQL, {"now": now})
        DuplicateCandidate.objects.filter(status="open", found_at__lt=now).delete()
        pairs = DuplicateCandidate.objects.filter(status="open").count()
        cursor.execute("SELECT count(DISTINCT customer_id) FROM dup_keys")
        customers = cursor.fetchone()[0]
        cursor.execute(_DROP)
    return FinderResult(pairs=pairs, customers=customers)
