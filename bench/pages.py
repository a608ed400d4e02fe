"""Workspace page render times at scale, against the raw SQL the same page runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/pages.py

Needs a database loaded with seed_demo (the README's M scale is 100,000 customers).
Each page is rendered in process (Django's test client, signed in; no network) and timed
as the median of repeated requests.  Its floor is the page's own SQL: the statements one
request ran, captured and then executed again directly, with no Python around them.
The target is a list and a 360 page under 150 ms at the M scale.
"""

from __future__ import annotations

from _setup import django_setup, line, median_ms


def main() -> None:
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.accounts.models import User
    from customers.models import Customer

    print(f"customers: {Customer.objects.count():,}")

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    def measure(name: str, client: Client, url: str, params: dict[str, str] | None = None) -> None:
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

        line(f"{name} ({len(statements)} queries), ms", median_ms(page), median_ms(raw), "ms")

    rep1 = client_for("rep1")
    manager = client_for("manager")
    admin = client_for("admin")
    customer = Customer.objects.filter(owner__username="rep1").order_by("-id").first()
    assert customer is not None
    measure("my day as rep1", rep1, "/")
    measure("customer list as rep1", rep1, "/customers/")
    measure("customer list as manager", manager, "/customers/")
    measure("customer list as admin", admin, "/customers/")
    measure("list, search by name as admin", admin, "/customers/", {"q": customer.name[:4]})
    measure("list, filter industry+stage as admin", admin, "/customers/", {"industry": "it", "stage": "active"})
    measure("list, sorted by tier as manager", manager, "/customers/", {"sort": "-tier"})
    measure("customer 360 as rep1", rep1, f"/customers/{customer.pk}/")
    measure("customer 360 as admin", admin, f"/customers/{customer.pk}/")
    measure("campaigns as manager", manager, "/campaigns/")
    measure("feedback queue as manager", manager, "/service/feedback/")


if __name__ == "__main__":
    main()
