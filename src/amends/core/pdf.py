"""HTML documents as PDF, through WeasyPrint: what a remediation lead attaches for a regulator.

WeasyPrint lays text out with Pango, a system library it loads when it is imported. It is
imported here, and only when a PDF is asked for, so that a machine without Pango runs all the
rest (HTML and CSV reports included); there every interface gives the one line of
``PdfUnavailable`` instead of a stack trace.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from amends.core.errors import AmendsError

PANGO_MISSING = "PDF needs the Pango libraries: apt-get install libpango-1.0-0 libpangoft2-1.0-0"


class PdfUnavailable(AmendsError):
    """WeasyPrint could not load its system libraries; nothing was made."""

    def __init__(self) -> None:
        super().__init__(PANGO_MISSING, status=503)


def _weasyprint() -> Any:
    """The weasyprint module, or PdfUnavailable. A failed import is tried again next time (a
    Pango installed meanwhile is found). WeasyPrint prints a banner to standard output when
    the libraries are missing; it is swallowed so that our one line is all anyone sees (the
    swap of ``sys.stdout`` lasts only for this import)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except OSError:
        raise PdfUnavailable() from None
    return weasyprint


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML document (inline style and SVG) as PDF, laid out by its print
    rules (``@media print``, ``@page``). Only ``data:`` URLs are read: nothing is fetched from
    the network or the disk, whatever the document names."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.URLFetcher(allowed_protocols=["data"])
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf
