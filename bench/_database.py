"""A scratch database for one benchmark run, on the server DATABASE_URL names (or SQLite).

Benchmarks never touch the database DATABASE_URL names: they create their own next to it and
drop it afterwards.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Yield a DATABASE_URL for a new, empty database; set it in the environment too."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            os.environ["DATABASE_URL"] = url
            yield url
        return
    parts = urlsplit(base)
    database = f"{name}_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = urlunsplit(parts._replace(path=f"/{database}"))
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
