"""``manage.py seed_demo --customers N [--seed S]``: load deterministic, realistic demo data."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.audit.choices import Source
from crm.audit.context import audit_context
from customers.models import Customer
from demo.seed import DEMO_PASSWORD, DemoSeeder


class Command(BaseCommand):
    help = "Load demo customers with contacts, orders, service, feedback and campaigns, and the demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=2000, help="How many customers (default 2000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--transactions-per-customer", type=int, default=10, help="Average orders per customer (default 10)."
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any customer exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        customers, per = options["customers"], options["transactions_per_customer"]
        if customers < 1 or customers > 20_000_000:
            raise CommandError("--customers must be between 1 and 20,000,000.")
        if per < 1 or per > 100:
            raise CommandError("--transactions-per-customer must be between 1 and 100.")
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Demo data not loaded: the database already has customers.")
            return
        self.stdout.write(f"Loading {customers:,} demo customers (seed {options['seed']}) ...")
        started = time.perf_counter()
        with audit_context(source=Source.COMMAND):
            report = DemoSeeder(
                customers=customers, seed=options["seed"], transactions_per_customer=per, log=self.stdout.write
            ).run()
        elapsed = time.perf_counter() - started
        # Fresh statistics, so that the first queries on millions of new rows get good plans,
        # and a visibility map, so that reads served by an index alone (the tier engine's
        # order metrics) need not visit the table: autovacuum would get there, minutes later.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if not connection.in_atomic_block else "ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {report.total_rows:,} rows in {elapsed:.1f} s. "
                f"Demo logins: admin, manager, rep1, rep2 — password {DEMO_PASSWORD!r}."
            )
        )
