"""Benchmark the synthetic data generator against a floor of plain csv.writer output.

    python bench/generate_bench.py [--size N]

Times ``generate(customers=N)`` into a temporary directory, then the floor: writing as many
rows (customers + services) of constant, pre-built tuples with ``csv.writer.writerows``, in the
same run and the same directory. The last line printed is one JSON object for tooling.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from itertools import repeat
from pathlib import Path

from amends.network.generator import generate


def _first_row(path: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return tuple(next(reader))


def _floor(out_dir: Path, rows: dict[str, tuple[int, tuple[str, ...]]]) -> float:
    """Seconds to write ``count`` copies of each kind's row, with no generation at all."""
    started = time.perf_counter()
    for kind, (count, row) in rows.items():
        with (out_dir / f"floor-{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(repeat(row, count))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers (default 1M)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amends-bench-") as tmp:
        out_dir = Path(tmp)
        started = time.perf_counter()
        counts = generate(customers=args.size, out_dir=out_dir / "generated", seed=args.seed)
        ours = time.perf_counter() - started
        floor_rows = {
            kind: (counts[kind], _first_row(out_dir / "generated" / f"{kind}.csv"))
            for kind in ("customers", "services")
        }
        floor = _floor(out_dir, floor_rows)
    rows = counts["customers"] + counts["services"]
    print(f"generate: {args.size:,} customers, {counts['services']:,} services in {ours:.2f} s")
    print(f"  {rows / ours:,.0f} rows/s; network {counts['network']:,} elements")
    print(f"floor (csv.writer of {rows:,} constant rows): {floor:.2f} s")
    print(f"ratio: {ours / floor:.2f}x the floor")
    result = {
        "bench": "generate",
        "n": args.size,
        "ours": round(ours, 3),
        "floor": round(floor, 3),
        "ratio": round(ours / floor, 3),
        "unit": "s",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
