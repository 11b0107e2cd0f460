"""Serving the published directory the way a good static server would.

Each request resolves ``current`` once and reads everything from that version, so it sees one
whole site even while a publish switches. The version's manifest (loaded once per version and
process; versions never change) gives each file's ETag, size, gzip twin and mtime without a
``stat``: ``Cache-Control`` with a short max-age, conditional GETs answered 304, the gzip twin
to clients that accept it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from amends.statuspage.publish import Manifest, current_version_dir, read_manifest

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".atom": "application/atom+xml; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Version:
    directory: Path
    manifest: Manifest


@lru_cache(maxsize=8)
def _version(directory: str) -> Version:
    return Version(Path(directory), read_manifest(Path(directory)))


def current_version(root: Path | None = None) -> Version | None:
    """The site being served now, or None before the first publish."""
    directory = current_version_dir(root or Path(settings.AMENDS_STATUSPAGE_DIR))
    if directory is None:
        return None
    version = _version(str(directory))
    return version if version.manifest else None


def cache_control() -> str:
    max_age = settings.AMENDS_STATUSPAGE_MAX_AGE
    # stale-if-error: a CDN keeps serving the last page for a day if we stop answering.
    return f"public, max-age={max_age}, stale-while-revalidate={max_age}, stale-if-error=86400"


def resolve(version: Version, path: str) -> tuple[str | None, str | None]:
    """(file to serve, or None; directory to redirect to with a slash, or None)."""
    if path == "" or path.endswith("/"):
        candidate = f"{path}index.html"
        return (candidate if candidate in version.manifest else None), None
    if path in version.manifest:
        return path, None
    if f"{path}/index.html" in version.manifest:
        return None, f"{path}/"
    return None, None


def not_modified(request: HttpRequest, etag: str, mtime: int | None) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since only counts without it."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        return "*" in tags or etag in tags or etag in [t.removeprefix("W/") for t in tags]
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and mtime is not None and mtime <= since


def _headers(response: HttpResponseBase, etag: str, mtime: int) -> HttpResponseBase:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = cache_control()
    response["Vary"] = "Accept-Encoding"
    return response


def file_response(
    request: HttpRequest, version: Version, path: str, *, status: int = 200
) -> HttpResponseBase:
    tag, size, gz_size, mtime = version.manifest[path]
    use_gzip = bool(gz_size) and "gzip" in request.headers.get("Accept-Encoding", "")
    etag = f'"{tag}-gz"' if use_gzip else f'"{tag}"'
    if status == 200 and not_modified(request, etag, mtime):
        return _headers(HttpResponseNotModified(), etag, mtime)
    name = f"{path}.gz" if use_gzip else path
    # Opened now, from the version resolved at the start of this request: a switch or a prune
    # after this point cannot change what this response sends.
    response = FileResponse(open(version.directory / name, "rb"), status=status)
    response["Content-Type"] = CONTENT_TYPES.get(Path(path).suffix, "application/octet-stream")
    response["Content-Length"] = str(gz_size if use_gzip else size)
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    return _headers(response, etag, mtime)


def content_response(request: HttpRequest, body: bytes, etag: str, *, status: int) -> HttpResponse:
    """A page made per request (the lookup answer), cacheable like the files."""
    etag = f'"{etag}"'
    if status == 200 and not_modified(request, etag, None):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[".html"])
    response["ETag"] = etag
    response["Cache-Control"] = cache_control()
    return response
