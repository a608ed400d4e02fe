"""API read latency at scale, against the raw SQL a page needs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/api.py

Needs a database loaded with seed_demo.  Times, in process (no network), the median of
repeated requests: the customer list (50 rows) as rep1 and as admin, one customer's
detail, and one customer's timeline; each beside the raw SQL of the same rows.
"""

from __future__ import annotations

from _setup import django_setup, line, median_ms


def main() -> None:
    django_setup()
    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from crm.accounts.models import User
    from customers.models import Customer

    cap = settings.CRM_LIST_COUNT_CAP

    def client_for(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(User.objects.get(username=username))
        return client

    def raw(sql: str, params: list[object]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    customers = Customer.objects.count()
    print(f"customers: {customers:,}")
    rep1 = User.objects.get(username="rep1")
    columns = "c.*, u.username, t.name, tr.code"
    joins = (
        "customers_customer c JOIN accounts_user u ON u.id = c.owner_id "
        "LEFT JOIN accounts_team t ON t.id = c.team_id LEFT JOIN tiers_tier tr ON tr.id = c.tier_id"
    )

    manager = User.objects.get(username="manager")
    cases = (
        ("rep1", "WHERE c.owner_id = %s", [rep1.pk]),
        (
            "manager",
            "WHERE c.owner_id = %s OR c.team_id IN (SELECT id FROM accounts_team WHERE manager_id = %s)",
            [manager.pk, manager.pk],
        ),
        ("admin", "", []),
    )
    for username, where, params in cases:
        client = client_for(username)

        def api_page(client: APIClient = client) -> None:
            assert client.get("/api/v1/customers/", {"page_size": 50}).status_code == 200

        def sql_page(where: str = where, params: list[object] = params) -> None:
            # The list counts up to CRM_LIST_COUNT_CAP rows (crm.core.pagination), and so does its floor.
            raw(f"SELECT count(*) FROM (SELECT 1 FROM customers_customer c {where} LIMIT {cap + 1}) x", params)
            raw(f"SELECT {columns} FROM {joins} {where} ORDER BY c.name, c.id LIMIT 50", params)
            raw(
                "SELECT * FROM customers_contact WHERE customer_id IN "
                f"(SELECT c.id FROM customers_customer c {where} ORDER BY c.name, c.id LIMIT 50)",
                params,
            )

        line(f"GET /customers/?page_size=50 as {username}, ms", median_ms(api_page), median_ms(sql_page), "ms")

    customer = Customer.objects.filter(owner=rep1).order_by("id").first()
    client = client_for("rep1")
    line(
        "GET /customers/{id}/ as rep1, ms",
        median_ms(lambda: client.get(f"/api/v1/customers/{customer.pk}/")),
        median_ms(
            lambda: (
                raw(f"SELECT {columns} FROM {joins} WHERE c.id = %s", [customer.pk]),
                raw("SELECT * FROM customers_contact WHERE customer_id = %s", [customer.pk]),
            )
        ),
        "ms",
    )
    union = " UNION ALL ".join(
        f"(SELECT {time_col}::timestamptz AS at, '{table}' AS kind, id FROM {table} WHERE customer_id = %s "
        f"ORDER BY {time_col} DESC LIMIT 50)"
        for table, time_col in (
            ("customers_activity", "coalesce(occurred_at, due_at, created_at)"),
            ("transactions_transaction", "order_date"),
            ("feedback_servicerecord", "service_date"),
            ("feedback_feedback", "received_at"),
            ("feedback_satisfactionresponse", "responded_at"),
            ("tiers_tierchange", "changed_at"),
            ("risk_riskalert", "raised_at"),
            ("audit_auditevent", "occurred_at"),
        )
    )
    line(
        "GET /customers/{id}/timeline/ as rep1, ms",
        median_ms(lambda: client.get(f"/api/v1/customers/{customer.pk}/timeline/")),
        median_ms(lambda: raw(f"SELECT * FROM ({union}) x ORDER BY at DESC LIMIT 50", [customer.pk] * 8)),
        "ms",
    )


if __name__ == "__main__":
    main()
