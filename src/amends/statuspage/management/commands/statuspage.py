"""amends statuspage publish [--out DIR] | status — the public site from the shell.

``publish --out DIR`` writes the same site, with the same atomic ``current`` switch, to any
directory: point nginx's ``root`` at ``DIR/current``, or sync ``DIR/current/`` to object
storage or a CDN hosted away from the operator's own network.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amends.statuspage import publish
from amends.statuspage.models import Publication, PublicationStatus


class Command(BaseCommand):
    help = "Publish the public status page, or show the last publications."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("publish", help="render and switch in the site now")
        run.add_argument("--out", type=Path, help="publish root (default: AMENDS_STATUSPAGE_DIR)")
        sub.add_parser("status", help="the last publications")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "publish":
            self._publish(options["out"])
        else:
            self._status()

    def _publish(self, out: Path | None) -> None:
        root = out.expanduser().resolve() if out else None
        record = publish.publish_site(trigger="command", actor="cli", root=root)
        if record.status != PublicationStatus.SUCCEEDED:
            raise CommandError(f"publish failed; the previous site is unchanged: {record.error}")
        seconds = record.duration_seconds or 0.0
        self.stdout.write(
            f"Published {record.file_count} files ({record.size_bytes:,} bytes, "
            f"{record.reused_files} unchanged) to {record.target}/current in {seconds:.2f} s"
        )

    def _status(self) -> None:
        for record in Publication.objects.all()[:10]:
            when = record.finished_at or record.requested_at
            line = (
                f"{record.pk:>5} {when:%Y-%m-%d %H:%M:%S} {record.status:<9} {record.trigger:<13}"
            )
            line += f" {record.file_count:>6} files {record.size_bytes:>12,} bytes"
            self.stdout.write(line + (f"  {record.error}" if record.error else ""))
