"""``find_duplicates [--sync]``: run the duplicate finder over the whole book now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate
from duplicates.reasons import describe
from duplicates.tasks import find_duplicates_task


class Command(BaseCommand):
    help = "Find customers entered twice (queued for a worker; --sync: here, printing the pairs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sync", action="store_true", help="Run in this process and print the pairs found.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["sync"]:
            find_duplicates_task.delay()
            self.stdout.write(_("The duplicate finder is queued."))
            return
        result = find_duplicates()
        pairs = (
            DuplicateCandidate.objects.filter(status="open")
            .select_related("customer_a", "customer_b")
            .order_by("-score", "customer_a_id", "customer_b_id")
        )
        for pair in pairs.iterator(chunk_size=2000):
            if pair.customer_a is None or pair.customer_b is None:  # open pairs have both sides
                continue
            reasons = "; ".join(describe(reason) for reason in pair.reasons)
            self.stdout.write(
                f"{pair.score:3d}  {pair.customer_a.code} {pair.customer_a.name}  ~  "
                f"{pair.customer_b.code} {pair.customer_b.name}  ({reasons})"
            )
        self.stdout.write(
            _("%(pairs)d pairs among %(customers)d customers.") % {"pairs": result.pairs, "customers": result.customers}
        )
