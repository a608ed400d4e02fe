"""Every API list, as every role, searched, filtered and sorted by what it offers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/lists.py [--only customers]

Needs a database loaded with seed_demo.  For each resource of the API (``/api/v1/``),
as rep1, manager and admin: the first page (10 rows) as it comes, searched for a word
its own rows hold (and for two characters of it), sorted by each column it offers
either way, and narrowed by each of its choice, yes/no and number filters.  Each case
is requested in process (signed in with a token's user, no network) ``--runs`` times;
the figure is its 95th percentile (the slowest of 10), beside its floor: the same
statements run directly.  The goal at L is 30 ms; the slowest cases are listed again
at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

from _setup import Goal, django_setup, p95, samples_ms

GOAL_MS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", action="append", default=[], help="resource names (all when not given)")
    parser.add_argument("--roles", default="rep1,manager,admin")
    args = parser.parse_args()
    # One user makes every request here: the per-user rate limit would answer 429.
    os.environ.setdefault("CRM_THROTTLE_USER", "10000000/minute")
    django_setup()

    import django_filters
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from crm.access.registry import all_resources
    from crm.accounts.models import User

    goal = Goal(GOAL_MS, 70)
    for role in args.roles.split(","):
        client = APIClient()
        client.force_authenticate(User.objects.get(username=role))
        for resource in all_resources():
            if args.only and resource.name not in args.only:
                continue
            viewset = resource.viewset
            url = f"/api/v1/{resource.name}/"
            probe = client.get(url, {"page_size": 10})
            if probe.status_code != 200:
                continue  # not a list this role reads
            rows = probe.json().get("results", [])
            cases: list[tuple[str, dict[str, str]]] = [("first page", {})]
            search_fields = getattr(viewset, "search_fields", ()) or ()
            word = _search_word(rows, search_fields)
            if word:
                cases.append((f"search {word!r}", {"search": word}))
                # Two characters of it: most Chinese brand names, too short for trigrams.
                cases.append((f"search {word[2:4]!r}", {"search": word[2:4]}))
            ordering = getattr(viewset, "ordering_fields", ()) or ()
            if ordering == "__all__":
                ordering = ()
            for name in ordering:
                cases += [(f"ordering={name}", {"ordering": name}), (f"ordering=-{name}", {"ordering": f"-{name}"})]
            filterset = getattr(viewset, "filterset_class", None)
            for name, flt in filterset.base_filters.items() if filterset else ():
                value = _filter_value(flt, django_filters)
                if value is not None:
                    cases.append((f"{name}={value}", {name: value}))
            for label, params in cases:
                query = {"page_size": "10", **params}

                def request(query: dict[str, str] = query, client: Any = client, url: str = url) -> None:
                    answer = client.get(url, query)
                    assert answer.status_code == 200, (url, query, answer.status_code, answer.content[:200])

                samples = samples_ms(request, repeat=args.runs, warmup=1, enough_ms=2000)
                with CaptureQueriesContext(connection) as captured:
                    request()
                statements = [
                    q["sql"]
                    for q in captured.captured_queries
                    if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
                ]

                def raw(statements: list[str] = statements) -> None:
                    with connection.cursor() as cursor:
                        for sql in statements:
                            cursor.execute(sql)
                            cursor.fetchall()

                floor = statistics.median(samples_ms(raw, repeat=3, warmup=1))
                goal.case(f"{resource.name} {label} as {role}", p95(samples), floor, len(statements))
    goal.summary()


def _search_word(rows: list[dict[str, Any]], fields: Any) -> str:
    """A word of the first row's searched text, long enough for the trigram indexes."""
    for field in fields:
        name = str(field).lstrip("^=@$").split("__")[0]
        for row in rows[:1]:
            value = row.get(name) or row.get(f"{name}_name")
            if isinstance(value, str) and len(value.strip()) >= 3:
                return value.strip()[:6]
    return ""


def _filter_value(flt: Any, django_filters: Any) -> str | None:
    """A value a filter accepts: its first choice, true, or a number."""
    choices = flt.extra.get("choices")
    if isinstance(flt, (django_filters.ChoiceFilter, django_filters.MultipleChoiceFilter)) and choices:
        first = list(choices() if callable(choices) else choices)[0]
        return str(first[0])
    if isinstance(flt, django_filters.BooleanFilter):
        return "true"
    if isinstance(flt, django_filters.NumberFilter):
        return "1"
    if isinstance(flt, django_filters.IsoDateTimeFilter):
        return "2025-01-01T00:00:00Z"
    if isinstance(flt, django_filters.DateFilter):
        return "2025-01-01"
    return None


if __name__ == "__main__":
    main()
