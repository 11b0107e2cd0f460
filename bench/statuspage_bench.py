"""Benchmark the public status page: serving /status/ against a plain static server, and
publishing a site with two years of history.

    [DATABASE_URL=postgres://…] python bench/statuspage_bench.py [--customers N]
        [--history 500] [--duration 10] [--connections 32]

1. Builds an operator of about N customers (default 50,000) with the generator and importer,
   declares ``--history`` outages (default 500) on postcodes spread over the last two years
   and resolves them, then declares 10 open ones.
2. Times publishing the whole site: cold (every outage's digest aggregated from the impact
   table) and warm (settled outages read from their stored digest: every later publish).
   Target: ≤ 2 s for 500 historical outages.
3. Serves the published site twice over loopback: ours, ``amends serve`` (gunicorn, its
   defaults: 2 processes × 4 threads, no task worker) answering ``/status/``; the floor,
   ``python -m http.server`` over the same published directory. Both are loaded by ``wrk``
   (Debian's; a small threaded Python client if wrk is missing) for the same duration and
   connections.

Prints requests/s and the time per request of each, and ``ratio`` = ours / floor in ms per
request (how many times slower we are). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPEN_OUTAGES = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=500, help="resolved outages")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-statuspage-bench-") as tmp,
        scratch_database("amends_bench_statuspage") as url,
    ):
        os.environ["AMENDS_DATA_DIR"] = tmp
        result = run(Path(tmp), url, args)
    print(json.dumps(result))


def run(tmp: Path, url: str, args: argparse.Namespace) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build_operator(tmp, customers=args.customers)
    build_history(history=args.history)
    cold, warm, files, size = time_publish()
    print(
        f"publish: {files:,} files, {size:,} bytes; cold {cold:.2f} s, warm {warm:.2f} s "
        f"({args.history} historical + {OPEN_OUTAGES} open outages; target ≤ 2 s)"
    )
    site = tmp / "statuspage" / "current"
    ours_rps = serve_ours(tmp, url, args)
    floor_rps = serve_floor(site, args)
    ours_ms, floor_ms = 1000 / ours_rps, 1000 / floor_rps
    print(f"ours:  {ours_rps:,.0f} requests/s = {ours_ms:.3f} ms/request (amends serve)")
    print(f"floor: {floor_rps:,.0f} requests/s = {floor_ms:.3f} ms/request (python -m http.server)")
    print(f"ours takes {ours_ms / floor_ms:.2f}× the floor's time per request")
    return {
        "bench": "statuspage",
        "n": args.history,
        "ours": round(ours_ms, 4),
        "floor": round(floor_ms, 4),
        "ratio": round(ours_ms / floor_ms, 3),
        "unit": "ms",
        "ours_rps": round(ours_rps),
        "floor_rps": round(floor_rps),
        "publish_cold_s": round(cold, 3),
        "publish_s": round(warm, 3),
        "load_generator": "wrk" if shutil.which("wrk") else "python",
    }


def build_operator(tmp: Path, *, customers: int) -> None:
    from amends.network.generator import generate
    from amends.network.importer import IMPORT_ORDER, run_import

    started = time.perf_counter()
    generate(customers=customers, out_dir=tmp / "data", seed=1)
    for kind in IMPORT_ORDER:
        run_import(kind, tmp / "data" / f"{kind}.csv", actor="bench")
    print(f"setup: {customers:,} customers in {time.perf_counter() - started:.0f} s")


def build_history(*, history: int) -> None:
    """``history`` resolved outages on random postcodes over two years, then open ones."""
    from django.utils import timezone

    from amends.network.models import Service
    from amends.outages.models import Outage
    from amends.outages.scope import ScopeSpec
    from amends.outages.services import outage_declare, outage_post_update, outage_transition

    started = time.perf_counter()
    rng = random.Random(7)  # noqa: S311 - reproducible data
    postcodes = sorted(set(Service.objects.values_list("postcode", flat=True)))
    now = timezone.now()
    for i in range(history + OPEN_OUTAGES):
        begin = now - timedelta(minutes=rng.randint(60, 729 * 24 * 60))
        outage = outage_declare(
            actor="bench",
            title=f"Outage {i}: equipment failure",
            scope_items=[ScopeSpec(kind="postcode", postcode=rng.choice(postcodes))],
            summary="Services in the area are down while we repair a fault.",
            cause_public="A failed card in the local exchange.",
            started_at=begin,
        ).outage
        outage_post_update(actor="bench", outage=outage, message="Technicians are on site.")
        if i < history:
            outage_transition(actor="bench", outage=outage, to="resolved", message="Fixed.")
            end = begin + timedelta(minutes=rng.randint(20, 24 * 60))
            Outage.objects.filter(pk=outage.pk).update(resolved_at=end, restored_at=end)
    print(f"setup: {history + OPEN_OUTAGES} outages in {time.perf_counter() - started:.0f} s")


def time_publish() -> tuple[float, float, int, int]:
    from amends.statuspage.publish import publish_site

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        record = publish_site(trigger="bench")
        timings.append(time.perf_counter() - started)
        assert record.status == "succeeded", record.error
    return timings[0], min(timings[1:]), record.file_count, record.size_bytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _load(url: str, args: argparse.Namespace, *, strict: bool = True) -> float:
    """Requests per second against ``url``, by wrk or, without it, a threaded client.

    ``strict``: any socket error fails the run. The floor is not strict about timeouts:
    http.server listens with a backlog of 5, so under 32 connections a few connects wait
    for a SYN retry; that is the floor's own behaviour, reported and not hidden.
    """
    _wait(url, time.monotonic() + 60)
    wrk = shutil.which("wrk")
    if wrk is None:
        return _python_load(url, args)
    done = subprocess.run(  # noqa: S603
        [wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    errors = re.search(r"Socket errors: .*", done.stdout)
    if "Non-2xx" in done.stdout or (errors and strict):
        raise RuntimeError(f"errors under load:\n{done.stdout}")
    if errors:
        print(f"  ({url}: {errors.group(0)})")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert match, done.stdout
    return float(match.group(1))


def _python_load(url: str, args: argparse.Namespace) -> float:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    deadline = time.monotonic() + args.duration
    counts = [0] * args.connections

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            conn.request("GET", parts.path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
            counts[slot] += 1
            if response.getheader("Connection", "").lower() == "close" or response.version < 11:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / args.duration


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_ours(tmp: Path, url: str, args: argparse.Namespace) -> float:
    port = _free_port()
    env = {**os.environ, "AMENDS_DATA_DIR": str(tmp), "DATABASE_URL": url}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "amends", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--no-worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return _load(f"http://127.0.0.1:{port}/status/", args)
    finally:
        _stop(server)


def serve_floor(site: Path, args: argparse.Namespace) -> float:
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site),
         str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return _load(f"http://127.0.0.1:{port}/", args, strict=False)
    finally:
        _stop(server)


if __name__ == "__main__":
    main()
