"""Every file of the public site, as (path, bytes) pairs, from one snapshot.

Layout (paths relative to the published root, served at ``/status/``)::

    index.html                  front page (English); zh/index.html, vi/index.html
    banner.html                 one line to embed in an iframe; zh/banner.html, vi/banner.html
    <REF>/index.html            every outage of the history window (English)
    zh/<REF>/index.html, vi/…   open and recently resolved outages in each language
    history/index.html, history/<n>/index.html
    feed.atom  register.csv  register.json  incidents.json  404.html
    api/v2/summary.json  status.json  components.json  incidents.json
    api/v2/incidents/unresolved.json  api/v2/scheduled-maintenances.json
    lookup/<postcode>.json      one per postcode reached by an open or recent outage
    lookup/locality/<STATE>/<letter>.json   the localities such outages reached, by first letter
"""

from __future__ import annotations

from collections.abc import Iterator

from amends.statuspage import feeds, pages
from amends.statuspage.area_lookup import (
    locality_index_path,
    locality_shards,
    postcode_index_path,
)
from amends.statuspage.queries import SiteSnapshot
from amends.statuspage.strings import LANGUAGES

SiteFile = tuple[str, bytes]


def _prefix(language: str) -> str:
    return "" if language == "en" else f"{language}/"


def html_files(site: SiteSnapshot) -> Iterator[SiteFile]:
    featured = {o.reference for o in site.featured}
    for language in LANGUAGES:
        yield f"{_prefix(language)}index.html", pages.index_page(site, language).encode()
        yield f"{_prefix(language)}banner.html", pages.banner_page(site, language).encode()
    for outage in site.history:
        in_all = outage.reference in featured
        for language in LANGUAGES if in_all else ("en",):
            html = pages.outage_page(site, outage, language, all_languages=in_all)
            yield f"{_prefix(language)}{outage.reference}/index.html", html.encode()
    for path, html in pages.history_pages(site):
        yield path, html.encode()
    yield "404.html", pages.not_found_page(site).encode()


def data_files(site: SiteSnapshot) -> Iterator[SiteFile]:
    incidents = feeds.incidents_json(site)
    yield "api/v2/summary.json", feeds.summary_json(site)
    yield "api/v2/status.json", feeds.status_json(site)
    yield "api/v2/components.json", feeds.components_json(site)
    yield "api/v2/incidents.json", incidents
    yield "api/v2/incidents/unresolved.json", feeds.incidents_json(site, unresolved=True)
    yield "api/v2/scheduled-maintenances.json", feeds.scheduled_maintenances_json(site)
    yield "incidents.json", incidents
    yield "feed.atom", feeds.atom_feed(site)
    yield "register.csv", feeds.register_csv(site)
    yield "register.json", feeds.register_json(site)
    for postcode, entry in sorted(site.lookup.items()):
        yield postcode_index_path(postcode), feeds.lookup_json(site, entry)
    for (state, shard), localities in locality_shards(site.localities).items():
        yield locality_index_path(state, shard), feeds.locality_index_json(site, state, localities)


def site_files(site: SiteSnapshot) -> Iterator[SiteFile]:
    """All files; the front pages come first so a preview of them renders nothing else."""
    yield from html_files(site)
    yield from data_files(site)
