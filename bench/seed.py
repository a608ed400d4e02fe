"""Seed throughput: seed_demo's order load against a raw INSERT … SELECT of trivial rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/seed.py --customers 100000

Loads demo data into the (migrated, scratch) database, then times the floor — the same
number of constant-valued rows inserted into the same table with the same indexes, in a
transaction that is rolled back — and prints both as rows per second.
"""

from __future__ import annotations

import argparse
import time

from _setup import django_setup, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    django_setup()

    from django.db import connection, transaction

    from crm.audit.choices import Source
    from crm.audit.context import audit_context
    from demo.seed import DemoSeeder

    started = time.perf_counter()
    with audit_context(source=Source.COMMAND):
        report = DemoSeeder(customers=args.customers, seed=args.seed, log=lambda _m: None).run()
    total = time.perf_counter() - started
    rows, seconds = report.counts["transactions.transaction"], report.seconds["transactions.transaction"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM customers_customer")
        (customer_id,) = cursor.fetchone()
    floor_started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO transactions_transaction (created_at, updated_at, version, customer_id, product_id,
                description, quantity, unit_price, amount, currency, order_date, payment_method, status, due_date,
                paid_date, paid_amount, source, external_ref, sales_rep_id, notes)
            SELECT now(), now(), 1, %s, NULL, '', 1, NULL, 1, 'CNY', current_date, 'cash', 'pending', NULL, NULL,
                   0, '', '', NULL, ''
            FROM generate_series(1, %s)
            """,
            [customer_id, rows],
        )
        floor_seconds = time.perf_counter() - floor_started
        transaction.set_rollback(True)

    print(f"seed_demo --customers {args.customers}: {report.total_rows:,} rows in {total:.1f} s")
    # Rows per second: higher is better, so the ratio is floor speed over our speed.
    line(f"orders loaded ({rows:,} rows), s", seconds, floor_seconds, "s")


if __name__ == "__main__":
    main()
