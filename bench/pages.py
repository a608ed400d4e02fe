"""Every workspace page at scale, as the heaviest role that sees it, against the raw SQL
the same page runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/pages.py [--runs 20] [--only text]

Needs a database loaded with seed_demo (L: a million customers), graded and scanned.
Each page is rendered in process (Django's test client, signed in; no network); the
figure is its 95th percentile over ``--runs`` requests, beside its floor: the statements
one request ran, captured and then executed again directly, with no Python around them.
The goal at L is 100 ms; the pages over it are listed again at the end.
"""

from __future__ import annotations

import argparse
import statistics

from _setup import Goal, django_setup, p95, samples_ms

GOAL_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="time only the cases whose name holds this text")
    args = parser.parse_args()
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.accounts.models import User
    from customers.models import Customer
    from tiers.models import TierRun

    print(f"customers: {Customer.objects.count():,}")
    goal = Goal(GOAL_MS, 44)

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    def measure(name: str, client: Client, url: str, params: dict[str, str] | None = None) -> None:
        if args.only not in name:
            return

        def page() -> None:
            response = client.get(url, params or {})
            assert response.status_code == 200, (url, response.status_code)

        page()
        with CaptureQueriesContext(connection) as captured:
            page()
        statements = [
            q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        ]

        def raw() -> None:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description:
                        cursor.fetchall()

        figure = p95(samples_ms(page, repeat=args.runs, warmup=1, enough_ms=2000))
        floor = statistics.median(samples_ms(raw, repeat=3, warmup=1))
        goal.case(name, figure, floor, len(statements))

    rep1 = client_for("rep1")
    manager = client_for("manager")
    admin = client_for("admin")
    customer = Customer.objects.filter(owner__username="rep1").order_by("-id").first()
    assert customer is not None
    run = TierRun.objects.filter(state="done").order_by("-as_of").first()
    measure("my day as rep1", rep1, "/")
    measure("my day as manager", manager, "/")
    measure("customer list as rep1", rep1, "/customers/")
    measure("customer list as manager", manager, "/customers/")
    measure("customer list as admin", admin, "/customers/")
    measure("list, search by name as admin", admin, "/customers/", {"q": customer.name[:4]})
    # Two characters (most Chinese brand names): one of the customer's brand, and one
    # that no name holds (the search reads nothing but its index either way).
    measure("list, two-character search as admin", admin, "/customers/", {"q": customer.name[2:4]})
    measure("list, two-character search, no match, admin", admin, "/customers/", {"q": "华为"})
    measure("list, filter industry+stage as admin", admin, "/customers/", {"industry": "it", "stage": "active"})
    for sort in ("name", "-code", "tier", "-tier", "stage", "-updated"):
        measure(f"list, sorted by {sort} as manager", manager, "/customers/", {"sort": sort})
        measure(f"list, sorted by {sort} as admin", admin, "/customers/", {"sort": sort})
    measure("customer 360 as rep1", rep1, f"/customers/{customer.pk}/")
    measure("customer 360 as admin", admin, f"/customers/{customer.pk}/")
    measure("archive health as manager", manager, "/archive-health/")
    measure("archive health as admin", admin, "/archive-health/")
    measure("approvals as manager", manager, "/approvals/")
    measure("tier dashboard as rep1", rep1, "/tiers/")
    measure("tier dashboard as manager", manager, "/tiers/")
    measure("tier dashboard as admin", admin, "/tiers/")
    if run is not None:
        measure("tier moves of the last run as manager", manager, "/tiers/moves/", {"run": str(run.pk)})
    measure("tier runs as manager", manager, "/tiers/runs/")
    measure("alerts as rep1", rep1, "/alerts/")
    measure("alerts as manager", manager, "/alerts/")
    measure("alerts as admin", admin, "/alerts/")
    measure("risk scans as admin", admin, "/alerts/scans/")
    measure("campaigns as manager", manager, "/campaigns/")
    measure("campaigns as admin", admin, "/campaigns/")
    measure("feedback queue as manager", manager, "/service/feedback/")
    measure("feedback queue as admin", admin, "/service/feedback/")
    measure("service queue as manager", manager, "/service/records/")
    measure("service queue as admin", admin, "/service/records/")
    measure("duplicates as admin", admin, "/duplicates/")
    measure("imports as admin", admin, "/imports/")
    measure("notifications as rep1", rep1, "/notifications/")
    measure("console as admin", admin, "/console/")
    measure("console users as admin", admin, "/console/users/")
    measure("console teams as admin", admin, "/console/teams/")
    measure("console audit log as admin", admin, "/console/audit/")

    goal.summary()


if __name__ == "__main__":
    main()
