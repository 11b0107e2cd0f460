"""amends serve — migrate, then run the web server (gunicorn) and a task worker together."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from amends.core.supervisor import Supervisor


def web_command(*, host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "amends.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", "4",
        "--graceful-timeout", "10",
        "--access-logfile", "-",
        # One shared socket path in $HOME would collide between several instances.
        "--no-control-socket",
    ]  # fmt: skip


def link_to(*, host: str, port: int) -> None:
    """Unless the operator set ``AMENDS_SITE_URL``, the links this process and the web server
    and worker it starts put in messages (the status page's address too) lead to where it
    serves: ``--port 8105`` must not send customers to :8000."""
    if "AMENDS_SITE_URL" in os.environ:
        return
    address = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    site = f"http://{f'[{address}]' if ':' in address else address}:{port}"
    os.environ["AMENDS_SITE_URL"] = site  # what the children's settings are read from
    settings.SITE_URL = site
    if "AMENDS_STATUSPAGE_URL" not in os.environ:
        settings.AMENDS_STATUSPAGE_URL = f"{site}/status/"


def worker_command() -> list[str]:
    return [sys.executable, "-m", "amends", "worker"]


class Command(BaseCommand):
    help = "Apply migrations, then serve the console, API and status page with a task worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
        parser.add_argument(
            "--no-worker", action="store_true", help="serve only; run `amends worker` elsewhere"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port {options['port']} is not a TCP port")
        if options["web_workers"] < 1:
            raise CommandError("--web-workers must be at least 1")
        call_command("migrate", interactive=False, verbosity=0)
        link_to(host=options["host"], port=options["port"])
        commands = {
            "web server": web_command(
                host=options["host"], port=options["port"], workers=options["web_workers"]
            )
        }
        if not options["no_worker"]:
            commands["task worker"] = worker_command()
        self.stdout.write(
            f"Amends is serving on http://{options['host']}:{options['port']}/ (Ctrl-C to stop)"
        )
        status = Supervisor(commands).run()
        self.stdout.write("Amends stopped.")
        if status:
            raise CommandError("a child process stopped unexpectedly")
