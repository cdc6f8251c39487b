"""Build a report file from a project: the one function behind ``twinviewer report``.

The window does the same steps itself (snapshots on its GUI thread, the rest on a worker, see
:mod:`twinviewer.ui.report`); both end in :func:`write_report`.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from twinviewer.report.content import Cancel, Progress, ReportBuilder, ReportContent, ReportOptions
from twinviewer.session import TwinSession

log = logging.getLogger(__name__)

FORMATS = (".html", ".htm", ".pdf")


def report_format(out: str | Path) -> str:
    """``html`` or ``pdf`` from the file's suffix; ValueError for anything else."""
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        got = repr(suffix) if suffix else "no suffix"
        raise ValueError(f"{out}: a report is written as .html or .pdf (not {got})")
    return "pdf" if suffix == ".pdf" else "html"


@dataclass
class Written:
    """A report on disk: where, how many pages (PDF; None for HTML) and what it holds."""

    path: Path
    pages: int | None
    content: ReportContent


def write_report(content: ReportContent, out: str | Path) -> Written:
    """Write ``content`` as HTML or PDF (by the suffix of ``out``), atomically: a failed write
    leaves any older file in place."""
    from twinviewer.report.html import render_html

    out = Path(out)
    kind = report_format(out)
    page = render_html(content)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.part")
    pages = None
    try:
        if kind == "pdf":
            from twinviewer.report.pdf import write_pdf

            pages = write_pdf(page, tmp)
        else:
            tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return Written(out, pages, content)


def build_report(
    path: str | Path,
    out: str | Path,
    options: ReportOptions,
    progress: Progress | None = None,
    cancelled: Cancel = None,
    history: str | None = None,
) -> Written:
    """Open the project at ``path``, gather the report and write it to ``out``."""
    report_format(out)  # a wrong suffix fails before any work

    def part(lo: float, hi: float) -> Progress:
        def step(f: float, text: str) -> None:
            if progress:
                progress(lo + (hi - lo) * f, text)

        return step

    part(0, 0.1)(0.0, "Opening the twin")
    session = TwinSession.open(path)
    session.history_url = history
    try:
        session.open_history()
        try:  # a PostgreSQL history: the control room's acknowledgements and review issues
            session.open_control_room()
        except ConnectionError as exc:
            log.warning("report: the control room's shared state is not read: %s", exc)
        builder = ReportBuilder(session, options)
        builder.snapshot_all(part(0.1, 0.45), cancelled)
        content = builder.gather(part(0.45, 0.8), cancelled)
    finally:
        session.close()
    part(0.8, 1.0)(0.0, "Writing the report")
    written = write_report(content, out)
    part(0.8, 1.0)(1.0, "Done")
    return written
