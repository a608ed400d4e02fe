"""``scan_risks [--sync] [--if-never] [--full]``: apply every risk rule now.

Without ``--sync`` the scan is queued for the Celery workers; with it, this process runs
it and prints the summary, rule by rule.  ``--full`` compares every customer rather than
those changed since the previous scan (after restoring a backup, say, or a bulk load that
bypassed the database's triggers).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm.audit import context
from crm.audit.choices import Source
from risk import services
from risk.choices import ScanTrigger
from risk.models import RiskScan


class Command(BaseCommand):
    help = "Run the risk scan now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sync", action="store_true", help="scan in this process and print the summary")
        parser.add_argument("--if-never", action="store_true", help="only if no scan has finished yet")
        parser.add_argument("--full", action="store_true", help="compare every customer, not only the changed ones")

    def handle(self, *args: Any, **options: Any) -> None:

        if options["if_never"] and RiskScan.objects.filter(state="done").exists():
            self.stdout.write("Risks already scanned; nothing to do.")
            return
        token = context.set_for_request(context.AuditContext(source=Source.COMMAND))
        try:
            if not options["sync"]:
                scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.COMMAND, full=options["full"])
                self.stdout.write(f"scan #{scan.pk} {scan.state}: queued for the workers")
                return
            scan = services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, full=options["full"])
            self.stdout.write(f"scan #{scan.pk} {scan.state}")
            for code, counts in sorted((scan.summary.get("rules") or {}).items()):
                figures = "  ".join(f"{name} {value:,}" for name, value in counts.items())
                self.stdout.write(f"  {code:<24} {figures}")
        finally:
            context.reset(token)
