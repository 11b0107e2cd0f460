"""Publishing: render the whole site into a new directory, then switch it in atomically.

A publish root holds ``versions/<name>/`` (complete sites) and ``current``, a relative symlink
to one of them. A new site is written into ``versions/.tmp-<name>/``, renamed into place, and
switched in by ``os.replace`` of a fresh symlink over ``current``: a rename, atomic on POSIX,
so a reader (this app, nginx, a sync to object storage) resolves either the old site or the
new one, never a mixture or a half-written file. The previous ``keep - 1`` versions stay on
disk, so a reader that resolved ``current`` just before the switch finishes reading, and a
person can roll back by pointing ``current`` at an older version.

Files whose bytes did not change are hard-linked from the previous version, which keeps their
modification time (``Last-Modified``) and ETag stable across publishes so caches answer 304,
and makes a publish write little. Text files get a gzip twin (``.gz``, fixed mtime, so it is
byte-identical when its source is) for this app and for nginx's ``gzip_static``.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from amends.statuspage.models import Publication, PublicationStatus
from amends.statuspage.queries import site_snapshot
from amends.statuspage.site import SiteFile, site_files

logger = logging.getLogger(__name__)

MANIFEST = ".manifest.json"
COMPRESSIBLE = (".html", ".json", ".atom", ".csv")
COMPRESS_MIN_BYTES = 512
_SAFE_PATH = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*$")

# path -> [etag, size, gzip size (0: none), mtime]
Manifest = dict[str, list[Any]]


class PublishBusy(Exception):
    """Another publish holds the lock of this root (only raised when asked not to wait)."""


@dataclass(frozen=True)
class WriteResult:
    version: str
    file_count: int
    size_bytes: int
    reused: int


def current_version_dir(root: Path) -> Path | None:
    try:
        return root / os.readlink(root / "current")
    except OSError:
        return None


def read_manifest(version_dir: Path) -> Manifest:
    try:
        data: Manifest = json.loads((version_dir / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return {}
    return data


@contextmanager
def publish_lock(root: Path, *, wait: bool = True) -> Iterator[None]:
    """One publish per root at a time, across processes (two workers, the CLI, the console)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise PublishBusy(f"a publish to {root} is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reuse(
    previous: Path | None, old: list[Any] | None, etag: str, path: str, target: Path
) -> bool:
    """Hard-link an unchanged file (and its gzip twin) from the previous version."""
    if previous is None or old is None or old[0] != etag:
        return False
    try:
        os.link(previous / path, target)
        if old[2]:
            os.link(previous / f"{path}.gz", target.with_name(f"{target.name}.gz"))
    except OSError:
        target.unlink(missing_ok=True)
        return False
    return True


def _write_file(directory: Path, path: str, data: bytes) -> int:
    target = directory / path
    target.write_bytes(data)
    if path.endswith(COMPRESSIBLE) and len(data) >= COMPRESS_MIN_BYTES:
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < len(data):
            target.with_name(f"{target.name}.gz").write_bytes(packed)
            return len(packed)
    return 0


class _VersionWriter:
    """Writes one version directory, linking what the previous version already has."""

    def __init__(self, directory: Path, previous: Path | None) -> None:
        self.directory = directory
        self.previous = previous
        self.previous_manifest = read_manifest(previous) if previous else {}
        self.manifest: Manifest = {}
        self.size = self.reused = 0
        self.made: set[Path] = set()

    def add(self, path: str, data: bytes) -> None:
        if not _SAFE_PATH.match(path) or path.endswith(".gz") or path in self.manifest:
            raise ValueError(f"refusing to publish {path!r}")
        target = self.directory / path
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        etag = hashlib.sha256(data).hexdigest()[:32]
        old = self.previous_manifest.get(path)
        if old is not None and _reuse(self.previous, old, etag, path, target):
            gz_size, self.reused = int(old[2]), self.reused + 1
        else:
            gz_size = _write_file(self.directory, path, data)
        self.manifest[path] = [etag, len(data), gz_size, int(target.stat().st_mtime)]
        self.size += len(data)

    def finish(self) -> None:
        (self.directory / MANIFEST).write_text(json.dumps(self.manifest, separators=(",", ":")))


def _clean_leftovers(versions: Path, root: Path) -> None:
    """Remove what a crashed publish left (safe: we hold the lock, so nobody is writing)."""
    for leftover in versions.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in root.glob(".current-*"):
        link.unlink(missing_ok=True)


def _switch(root: Path, name: str) -> None:
    link = root / f".current-{name}"
    os.symlink(f"versions/{name}", link)
    os.replace(link, root / "current")


def _prune(root: Path, keep: int) -> None:
    versions = root / "versions"
    current = current_version_dir(root)
    names = sorted(p.name for p in versions.iterdir() if not p.name.startswith("."))
    for name in names[:-keep]:
        if current is None or (versions / name) != current:
            shutil.rmtree(versions / name, ignore_errors=True)


def write_version(root: Path, files: Iterable[SiteFile], *, keep: int) -> WriteResult:
    """Write ``files`` as a new version under ``root`` and make it current, or change nothing."""
    versions = root / "versions"
    with publish_lock(root):
        versions.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(versions, root)
        name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
        temporary = versions / f".tmp-{name}"
        temporary.mkdir()
        try:
            writer = _VersionWriter(temporary, current_version_dir(root))
            for path, data in files:
                writer.add(path, data)
            writer.finish()
            os.rename(temporary, versions / name)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        _switch(root, name)
        _prune(root, keep)
    return WriteResult(name, len(writer.manifest), writer.size, writer.reused)


def default_root() -> Path:
    return Path(settings.AMENDS_STATUSPAGE_DIR)


def _start(publication: Publication | None, *, trigger: str, actor: str, root: Path) -> Publication:
    now = timezone.now()
    if publication is None:
        return Publication.objects.create(
            status=PublicationStatus.RUNNING,
            trigger=trigger,
            requested_by=actor,
            target=str(root),
            requested_at=now,
            started_at=now,
        )
    publication.status, publication.started_at = PublicationStatus.RUNNING, now
    publication.save(update_fields=["status", "started_at"])
    return publication


def publish_site(
    *,
    trigger: str,
    actor: str = "",
    root: Path | None = None,
    publication: Publication | None = None,
) -> Publication:
    """Render and switch in the site; a failure leaves the previous site and is recorded.

    Returns the ``Publication`` (succeeded or failed); never raises for a failed render or
    write, because the record is how a failure becomes visible in the console.
    """
    root = root or default_root()
    record = _start(publication, trigger=trigger, actor=actor, root=root)
    started = time.perf_counter()
    try:
        result = write_version(
            root, site_files(site_snapshot()), keep=settings.AMENDS_STATUSPAGE_KEEP
        )
    except Exception as exc:
        logger.exception("status page publish %s to %s failed", record.pk, root)
        record.status, record.error = PublicationStatus.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        record.status, record.version = PublicationStatus.SUCCEEDED, result.version
        record.file_count, record.size_bytes = result.file_count, result.size_bytes
        record.reused_files = result.reused
        logger.info(
            "status page %s published to %s: %d files, %d bytes, %.2f s",
            result.version,
            root,
            result.file_count,
            result.size_bytes,
            time.perf_counter() - started,
        )
    record.finished_at = timezone.now()
    record.save()
    return record
