"""The public site's HTML pages, rendered with Jinja2 from a ``SiteSnapshot``.

Jinja2 rather than Django templates because a publish renders hundreds of pages at once and
Jinja2's compiled templates are several times faster. Links are relative, so the same files
work under ``/status/`` in ``amends serve``, on nginx at any path, or on a CDN. The stylesheet
is inline and allowed by its hash in a Content-Security-Policy: no script, font or request to
anyone else can run on these pages.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
import markupsafe
from django.conf import settings

from amends.network.models import State
from amends.statuspage.area_lookup import PLACE_MAX, Question, Result
from amends.statuspage.queries import PublicOutage, SiteSnapshot
from amends.statuspage.strings import LANGUAGE_NAMES, LANGUAGES, Strings

HISTORY_PAGE_SIZE = 50
_TEMPLATES = files("amends.statuspage") / "templates" / "statuspage" / "site"


@cache
def stylesheet() -> str:
    return (_TEMPLATES / "site.css").read_text(encoding="utf-8").replace("\n", "")


@cache
def content_security_policy() -> str:
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "form-action 'self'; base-uri 'none'"
    )


def shorten(text: str, limit: int) -> str:
    """Cut a long public text at a word boundary so the front page stays small."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def area_text(t: Strings, outage: PublicOutage, limit: int) -> str:
    """'Sydney, Parramatta NSW (still affected); all of VIC (restored) and 12 more'."""
    parts: list[str] = []
    shown = total = 0
    for area in outage.areas:
        status = ""
        if outage.is_open and len(outage.areas) > 1:
            status = f" ({t.still_affected if area.still_affected else t.area_restored})"
        if area.whole_state:
            total += 1
            if shown < limit:
                parts.append(t("whole_state", state=area.state) + status)
                shown += 1
            continue
        total += len(area.localities)
        room = limit - shown
        if room > 0:
            places = area.localities[:room]
            parts.append(f"{', '.join(places)} {area.state}{status}")
            shown += len(places)
    if not parts:
        return "—"
    more = f" {t('more_areas', n=total - shown)}" if total > shown else ""
    return "; ".join(parts) + more


def written(t: Strings) -> markupsafe.Markup:
    """A ``lang`` attribute for texts staff wrote (in English) on a page in another language,
    so screen readers switch voice (WCAG 3.1.2, language of parts)."""
    return markupsafe.Markup(' lang="en"') if t.language != "en" else markupsafe.Markup("")


def kind_text(t: Strings, outage: PublicOutage) -> str:
    kinds = t.list_sep.join(t(f"kind_{kind}") for kind in outage.kinds) or "—"
    if outage.affected_services:
        kinds += f" ({t('about_services', n=f'{outage.affected_services:,}')})"
    return kinds


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["shorten"] = shorten
    env.globals.update(
        area_text=area_text,
        kind_text=kind_text,
        written=written,
        states=tuple(State.values),
        place_max=PLACE_MAX,
    )
    return env


def alternates(root: str, page: str, languages: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Language links from a page ``root`` levels below the site root: the same page in each
    language in ``languages``, else that language's front page."""
    links = []
    for code in LANGUAGES:
        prefix = "" if code == "en" else f"{code}/"
        target = page if code in languages else ""
        links.append((code, LANGUAGE_NAMES[code], f"{root}{prefix}{target}" or "./"))
    return links


def render(template: str, *, language: str, site: Any, root: str, **context: Any) -> str:
    default_home = (root or "./") if language == "en" else f"{root}{language}/"
    home = context.pop("home", default_home)
    return (
        environment()
        .get_template(template)
        .render(
            t=Strings(language),
            site=site,
            root=root,
            home=home,
            # Markup: a <style> element is raw text, where an escaped quote would change the
            # bytes the CSP hash allows (and break the CSS).
            css=markupsafe.Markup(stylesheet()),  # noqa: S704 - our own file, never input
            csp=content_security_policy(),
            alternates=context.pop("alternates", alternates(root, "", LANGUAGES)),
            # The subscribe form is dynamic: served by the app, wherever the files are hosted.
            subscribe_url=f"{settings.SITE_URL}/status/subscribe",
            **context,
        )
    )


def _depth(language: str, levels: int) -> str:
    return "../" * (levels + (0 if language == "en" else 1))


def index_page(site: SiteSnapshot, language: str) -> str:
    root = _depth(language, 0)
    return render("index.html", language=language, site=site, root=root)


def outage_page(
    site: SiteSnapshot, outage: PublicOutage, language: str, *, all_languages: bool
) -> str:
    root = _depth(language, 1)
    languages = LANGUAGES if all_languages else ("en",)
    return render(
        "outage.html",
        language=language,
        site=site,
        root=root,
        o=outage,
        alternates=alternates(root, f"{outage.reference}/", languages),
    )


def banner_page(site: SiteSnapshot, language: str) -> str:
    """A one-line status for other sites to embed in an iframe; its link opens the status
    page itself (absolute: the frame's own address is not the page's)."""
    home = site.base_url if language == "en" else f"{site.base_url}{language}/"
    return render("banner.html", language=language, site=site, root=site.base_url, home=home)


def history_pages(site: SiteSnapshot) -> list[tuple[str, str]]:
    """(path, html) of each history page, newest outages first, in English."""
    outages = site.history
    pages = max(1, -(-len(outages) // HISTORY_PAGE_SIZE))
    rendered = []
    for number in range(1, pages + 1):
        chunk = outages[(number - 1) * HISTORY_PAGE_SIZE : number * HISTORY_PAGE_SIZE]
        path = "history/index.html" if number == 1 else f"history/{number}/index.html"
        root = "../" if number == 1 else "../../"
        html = render(
            "history.html",
            language="en",
            site=site,
            root=root,
            outages=chunk,
            number=number,
            pages=pages,
            alternates=alternates(root, "", ("en",)),
        )
        rendered.append((path, html))
    return rendered


def not_found_page(site: SiteSnapshot) -> str:
    """Served for any missing path, so its links are absolute (it has no fixed depth)."""
    base = site.base_url
    return render(
        "404.html",
        language="en",
        site=site,
        root=base,
        alternates=alternates(base, "", ("en",)),
    )


def lookup_page(
    *, site: Any, language: str, question: Question | None, result: Result | None
) -> str:
    """The lookup form, and the answer to ``question`` when it was asked and well formed. It
    lives at ``lookup`` beside the front page, so its links are relative to the site root."""
    t = Strings(language)
    asked = question or Question()
    return render(
        "lookup.html",
        language=language,
        site=site,
        root="",
        q=asked,
        errors={name: t(key) for name, key in asked.errors.items()},
        result=result,
        alternates=[
            (code, LANGUAGE_NAMES[code], f"lookup?{asked.query(lang=code)}") for code in LANGUAGES
        ],
    )
