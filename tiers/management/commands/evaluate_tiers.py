"""``evaluate_tiers [--sync] [--if-never]``: grade every customer now.

Without ``--sync`` the run is queued for the Celery workers (several share it, chunk by
chunk); with it, this process evaluates every chunk and prints the summary.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm.audit import context
from crm.audit.choices import Source
from crm.core.errors import DomainError
from tiers import services
from tiers.choices import RunTrigger
from tiers.models import TierRun


class Command(BaseCommand):
    help = "Run a tier and lifecycle evaluation now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sync", action="store_true", help="evaluate in this process and print the summary")
        parser.add_argument("--if-never", action="store_true", help="only if no evaluation has finished yet")

    def handle(self, *args: Any, **options: Any) -> None:

        if options["if_never"] and TierRun.objects.filter(state="done").exists():
            self.stdout.write("Tiers already evaluated; nothing to do.")
            return
        token = context.set_for_request(context.AuditContext(source=Source.COMMAND))
        try:
            if options["sync"]:
                run = services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
                self.stdout.write(f"run #{run.pk} {run.state} (policy v{run.policy.version})")
                for name, value in sorted(run.summary.items()):
                    self.stdout.write(f"  {name:<14} {value:>10,}")
            else:
                run = services.tier_run_start(actor=None, trigger=RunTrigger.COMMAND)
                self.stdout.write(f"run #{run.pk} {run.state}: {run.chunk_count} chunks queued for the workers")
        except DomainError as error:
            raise CommandError(error.message) from error
        finally:
            context.reset(token)
