"""Benchmark dispatch: recipients per second through the whole pipeline vs a bare poster.

    DATABASE_URL=postgres://… python bench/dispatch_bench.py [--size N] [--audience M]

1. Builds an operator of about M customers (default 1 M) with the generator and importer and
   times *audience creation*: the outbox rows of a notice to everyone affected by an outage
   covering every state (one set-based INSERT … SELECT choosing each customer's channel).
2. Sends a notice to about N recipients (default 200,000; every one by SMS) through two
   ``amends worker`` processes to a local sink provider (HTTP batch endpoint, 500 per request,
   in its own process): claim with lease → render (Jinja) → POST → record. Ours = recipients /
   seconds from release to the last delivery recorded, once the workers have done the tasks
   queued before (the status page publications of the outage's changes).
3. The floor: a bare script posting the same number of pre-rendered messages, 500 per request,
   to the same sink.

Prints both rates and ``ratio`` = floor / ours (how many times slower we are). The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402

SINK = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = json.dumps({"results": [{"id": m.get("idempotency_key", ""), "status":
                             "accepted"} for m in body["messages"]]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000, help="recipients to send to")
    parser.add_argument(
        "--audience", type=int, default=1_000_000, help="customers for the audience-creation timing"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-dispatch-bench-") as tmp,
        scratch_database("amends_bench_dispatch") as url,
    ):
        os.environ.setdefault("AMENDS_DATA_DIR", tmp)
        sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)  # noqa: S603
        try:
            assert sink.stdout is not None
            sink_url = f"http://127.0.0.1:{sink.stdout.readline().strip()}"
            result = run(Path(tmp), url, sink_url, size=args.size, audience=args.audience)
        finally:
            sink.terminate()
    print(json.dumps(result))


def run(tmp: Path, url: str, sink_url: str, *, size: int, audience: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build_operator(tmp, customers=audience)
    audience_seconds, everyone = time_audience_creation()
    print(
        f"audience creation: {everyone:,} recipients in {audience_seconds:.2f} s "
        "(target ≤ 10 s for 1 M)"
    )
    ours, sent = time_dispatch(url, sink_url, size=size)
    floor = time_floor(sink_url, messages=sent)
    # The machine may be shared: how busy it was says how far to trust the rates.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"ours:  {sent:,} messages in {ours:.2f} s = {sent / ours:,.0f} messages/s "
        "(two workers; target ≥ 5,000/s)"
    )
    print(
        f"floor: {sent:,} messages in {floor:.2f} s = {sent / floor:,.0f} messages/s "
        "(bare poster, same sink, 500 per request)"
    )
    print(f"ours is {floor / ours * 100:.0f}% of the floor (target ≥ 50%)")
    return {
        "bench": "dispatch",
        "n": sent,
        "ours": round(ours, 3),
        "floor": round(floor, 3),
        "ratio": round(ours / floor, 3),
        "unit": "s",
    }


def build_operator(tmp: Path, *, customers: int) -> None:
    from amends.network.generator import generate
    from amends.network.importer import IMPORT_ORDER, run_import
    from amends.network.models import Customer

    started = time.perf_counter()
    generate(customers=customers, out_dir=tmp / "data", seed=1)
    for kind in IMPORT_ORDER:
        run_import(kind, tmp / "data" / f"{kind}.csv", actor="bench")
    # Everyone by SMS for the dispatch part (the sink is an SMS gateway).
    Customer.objects.update(channel_order="sms", consent_sms=True)
    print(
        f"setup: {customers:,} customers generated and imported in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _staff() -> tuple[object, object]:
    from amends.core.roles import Role
    from amends.core.services import staff_user_set

    return (
        staff_user_set(
            actor="bench", username="comms", role=Role.COMMUNICATIONS, password="bench-pw-123456"
        ),
        staff_user_set(
            actor="bench", username="approver", role=Role.APPROVER, password="bench-pw-123456"
        ),
    )


def _notice_for(states: list[str]) -> object:
    from amends.comms.services import notice_create
    from amends.outages.scope import ScopeSpec
    from amends.outages.services import outage_declare, outage_restore

    outage = outage_declare(
        actor="bench",
        title="Outage",
        scope_items=[ScopeSpec(kind="state", state=s) for s in states],
    ).outage
    outage_restore(actor="bench", outage=outage)  # mobiles work again: SMS is not held
    comms, _ = _staff()
    return notice_create(actor=comms, kind="restored", audience="restored", outage=outage)


def time_audience_creation() -> tuple[float, int]:
    """Seconds to create the outbox rows for everyone (the set-based INSERT … SELECT that
    choosing each customer's channel is), inside a transaction that is then rolled back."""
    from django.db import transaction

    from amends.comms.audience import insert_deliveries
    from amends.network.models import State

    notice = _notice_for(list(State.values))
    with transaction.atomic():
        started = time.perf_counter()
        rows = insert_deliveries(notice)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, rows


def _states_for(size: int) -> list[str]:
    from django.db.models import Count

    from amends.network.models import Service

    chosen, covered = [], 0
    for row in (
        Service.objects.filter(is_active=True)
        .values("state")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by("n")
    ):
        if covered >= size:
            break
        chosen.append(row["state"])
        covered += row["n"]
    return chosen


def time_dispatch(url: str, sink_url: str, *, size: int) -> tuple[float, int]:
    from django.test import override_settings

    from amends.comms.models import Delivery, DeliveryStatus
    from amends.comms.services import notice_submit

    notice = _notice_for(_states_for(size))
    comms, _ = _staff()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AMENDS_CHANNELS": "sms=http",
        "AMENDS_SMS_HTTP_URL": sink_url,
        "AMENDS_SMS_HTTP_BATCH": "true",
        "AMENDS_CHANNEL_RATES": "sms=100000000",
        "LOG_LEVEL": "WARNING",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "amends", "worker", "--interval", "0.1"],  # noqa: S603
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        _wait_for_idle_workers()  # e.g. the status page the outage's changes published
        with override_settings(AMENDS_APPROVAL_THRESHOLD=10**9):
            started = time.perf_counter()
            notice = notice_submit(actor=comms, notice=notice)  # type: ignore[arg-type]
        from amends.comms.tasks import dispatch_notice

        dispatch_notice.enqueue(notice.pk)  # a second task: both workers share the notice
        open_states = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
        while Delivery.objects.filter(notice=notice, status__in=open_states).exists():
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    sent = Delivery.objects.filter(notice=notice, status=DeliveryStatus.SENT).count()
    return seconds, sent


def _wait_for_idle_workers() -> None:
    """Both workers up, and every task queued before the notice (the status page publications
    that declaring and restoring the outage asked for) done: only dispatch is timed."""
    from django_tasks_db.models import DBTaskResult

    time.sleep(3)
    while (
        DBTaskResult.objects.ready().exists()
        or DBTaskResult.objects.filter(status="RUNNING").exists()
    ):
        time.sleep(0.2)


def time_floor(sink_url: str, *, messages: int) -> float:
    import httpx

    text = "Your internet is back on. If it isn't, restart your modem or reply STILL OUT."
    batches = [
        [
            {"to": f"+614{n:08d}", "text": text, "idempotency_key": f"floor-{n}"}
            for n in range(start, min(start + 500, messages))
        ]
        for start in range(0, messages, 500)
    ]
    with httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        for batch in batches:
            client.post(sink_url, json={"messages": batch}).raise_for_status()
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
