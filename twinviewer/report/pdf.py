"""The report's HTML printed to PDF with WeasyPrint.

Why WeasyPrint: it lays out the very HTML and CSS the HTML report is (CSS paged media: page
size, margins, "Page n of m" footers, rows and figures kept whole, headers repeated), so the
two formats cannot drift apart; it is pure Python over Pango (BSD licence, maintained by
CourtBouillon since 2011, a release every few months), and it runs without Qt, which this
layer must (the command line builds reports without a window). Qt's own PDF writer
(QTextDocument + QPdfWriter) understands only a subset of CSS (no paged media, no page
counters, weak tables) and would tie the report to the GUI layer.

WeasyPrint needs the Pango libraries of the system (``libpango-1.0-0``, ``libpangoft2-1.0-0``;
``packaging/install-debian.sh`` installs them); without them :func:`write_pdf` raises
:class:`PdfUnavailable` with what to install.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are not installed."""


def write_pdf(html: str, out: Path) -> int:
    """Print ``html`` (self-contained: no file or network reference) to ``out``; returns
    the number of pages."""
    try:
        with warnings.catch_warnings():
            # a note for packagers (HarfBuzz's subsetting library will be required), not for us
            warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=Warning)
            import weasyprint
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(
            f"PDF needs WeasyPrint and the Pango libraries ({exc}); install them with "
            "packaging/install-debian.sh, or write the report as .html"
        ) from exc
    for name in ("weasyprint", "fontTools"):  # their layout chatter is not the user's business
        logging.getLogger(name).setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, base_url=None).render()
    document.write_pdf(out)
    return len(document.pages)
