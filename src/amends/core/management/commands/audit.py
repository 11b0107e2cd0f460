"""amends audit verify | export — check the hash chain, or write the log as JSON Lines."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from amends.core import audit
from amends.core.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or export the log as JSON Lines."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "export"])
        parser.add_argument("--out", help="export to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify()
        else:
            self._export(options["out"])

    def _verify(self) -> None:
        problems = list(audit.verify())
        if problems:
            for problem in problems:
                self.stderr.write(f"audit entry #{problem.seq}: {problem.message}")
            raise CommandError(f"the audit chain is broken at {len(problems)} place(s)")
        count = AuditEntry.objects.count()
        self.stdout.write(f"audit chain verified: {count:,} entries, unbroken")

    def _export(self, out: str | None) -> None:
        handle = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
        try:
            for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=5000):
                row = {
                    "seq": entry.seq,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                    "before": entry.before,
                    "after": entry.after,
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                }
                handle.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n")
        finally:
            if out:
                handle.close()
