"""A :class:`~twinviewer.report.content.ReportContent` as one self-contained HTML page.

Every picture is embedded as a ``data:`` URI and the style sheet is inline, so the file opens
anywhere with no network and nothing beside it. The same page is what the PDF is printed from
(:mod:`twinviewer.report.pdf`): its CSS paged-media rules (page size, margins, "Page n of m" in
the footer, sections starting on a new page, table rows and figures not split) are ignored by
browsers and honoured by WeasyPrint. All text that comes from the project, the review or the
user (names, titles, comments) goes through :func:`html.escape`.

Plain string building, no template engine: the page is a dozen small functions, each one
section, which reads as easily as templates would and adds no dependency.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime, timezone, tzinfo
from html import escape
from zoneinfo import ZoneInfo

from twinviewer.core.gaps import describe_cause
from twinviewer.report.content import (
    AlarmRow,
    ComponentState,
    FidelityTable,
    IssueEntry,
    ReportContent,
)
from twinviewer.report.text import fmt_clock, fmt_duration, fmt_time, fmt_value

STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-left { content: string(doctitle); font-size: 8pt; color: #666; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt;
                  color: #666; } }
@page :first { @bottom-left { content: none; } }
html { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt;
       color: #1d1f23; }
body { margin: 0 auto; max-width: 190mm; }
h1 { font-size: 22pt; margin: 20mm 0 4mm; string-set: doctitle content(); }
h2 { font-size: 14pt; border-bottom: 1.5px solid #1f4e79; padding-bottom: 1mm;
     margin: 0 0 3mm; color: #1f4e79; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; }
section { margin-top: 9mm; }
section.title { margin-top: 0; break-after: page; }
section.page { break-before: page; margin-top: 0; }
h2, h3 { break-after: avoid; }
p.lead { font-size: 11pt; color: #444; margin: 0 0 10mm; }
table { border-collapse: collapse; width: 100%; margin: 0 0 4mm; }
th, td { text-align: left; padding: 1.2mm 1.6mm; border-bottom: 0.5px solid #ccc;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef2f7; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.time { white-space: nowrap; }
table.facts th { width: 34mm; background: none; color: #555; font-weight: normal; }
table.facts td { font-weight: 600; }
tr.group td { border-top: 1.2px solid #888; }
figure { margin: 0 0 5mm; break-inside: avoid; }
figure img { width: 100%; display: block; border: 0.5px solid #bbb; }
figcaption { font-size: 8.5pt; color: #555; margin-top: 1mm; }
.badge { display: inline-block; padding: 0.2mm 1.6mm; border-radius: 1.5mm; font-size: 8pt;
         font-weight: 600; white-space: nowrap; }
.alarm { background: #d62828; color: #fff; }
.warning { background: #f0a202; color: #1d1f23; }
.stale { background: #8e7cc3; color: #fff; }
.normal { background: #28aa5a; color: #fff; }
.nodata, .nosensor { background: #cfd3d8; color: #1d1f23; }
.pass { color: #1d7a3e; font-weight: 600; }
.fail { color: #c21f1f; font-weight: 600; }
.muted { color: #777; }
.summary { display: flex; gap: 3mm; margin: 6mm 0; }
.summary div { flex: 1; border: 0.5px solid #ccc; border-radius: 2mm; padding: 2mm 3mm; }
.summary b { display: block; font-size: 16pt; }
article.issue { break-inside: avoid; border-top: 1px solid #999; padding-top: 2mm;
                margin-bottom: 5mm; }
article.issue figure img { width: 70%; }
.issue-text { white-space: pre-wrap; }
table.state { table-layout: fixed; font-size: 8.5pt; }
table.state td, table.state th { padding: 1mm 1.4mm; }
@media screen { body { padding: 10mm; } section.page { border-top: 1px dashed #bbb;
                padding-top: 6mm; margin-top: 10mm; } }
"""

_BADGE = {"no data": "nodata", "no sensor": "nosensor"}


def render_html(content: ReportContent) -> str:
    """The whole report as an HTML document (a str; write it as UTF-8)."""
    tz = ZoneInfo(content.timezone) if content.timezone else None
    parts = [
        _title_page(content, tz),
        _snapshots(content, tz),
        _state(content, tz),
        _charts(content),
        _alarms(content, tz),
        _fidelity(content),
        _quality(content, tz),
        _issues(content, tz),
        _measurements(content),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(content.title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(p for p in parts if p)
        + "\n</body></html>\n"
    )


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _badge(status: str) -> str:
    cls = _BADGE.get(status, status.replace(" ", ""))
    return f'<span class="badge {escape(cls)}">{escape(status)}</span>'


def _section(title: str, body: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<section{klass}><h2>{escape(title)}</h2>\n{body}\n</section>"


# -- the sections --------------------------------------------------------------------------------
def _title_page(c: ReportContent, tz: tzinfo | None) -> str:
    alarms = sum(a.level == "alarm" for a in c.alarms)
    warnings = len(c.alarms) - alarms
    in_alarm = sum(x.status == "alarm" for x in c.components)
    facts = [
        ("Twin", c.title.removeprefix("Review report: ")),
        ("Project", c.project),
        ("Model", c.model),
        ("Moment reported", fmt_time(c.at, tz, utc=True)),
        ("Time window", f"{fmt_time(c.start, tz)} to {fmt_time(c.end, tz)} "
                        f"({fmt_duration(c.end - c.start)})"),
        ("History held", f"{fmt_time(c.held[0], tz)} to {fmt_time(c.held[1], tz)}"),
        ("Author", c.author),
        ("Created", fmt_time(c.created, tz, utc=True)),
        ("Made with", f"TwinViewer {c.version}"),
    ]  # fmt: skip
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    boxes = [
        (alarms, "alarms in the window"),
        (warnings, "warnings in the window"),
        (in_alarm, "components in alarm at the moment"),
        (len(c.issues), "issues reported"),
        (len(c.quality.gaps), "data gaps in the window"),
    ]
    summary = "".join(f"<div><b>{n}</b>{escape(text)}</div>" for n, text in boxes)
    notes = "".join(f"<p class='muted'>Note: {escape(n)}</p>" for n in c.notes)
    notes = _attention(c) + notes
    return (
        f'<section class="title"><h1>{escape(c.title)}</h1>'
        f'<p class="lead">The state of the twin at {escape(fmt_time(c.at, tz))} and what happened '
        f"in the window before it.</p>"
        f'<table class="facts">{rows}</table><div class="summary">{summary}</div>{notes}</section>'
    )


def _attention(c: ReportContent) -> str:
    """The components not normal at the moment, worst first, with the sensors that make them."""
    rank = {"alarm": 0, "warning": 1, "stale": 2, "no data": 3}
    odd = sorted((x for x in c.components if x.status in rank), key=lambda x: rank[x.status])
    if not odd:
        return "<p>At the moment reported every component with sensors is normal.</p>"
    items = []
    for x in odd:
        why = ", ".join(
            f"{escape(s.id)} {fmt_value(s.value, s.unit)}"
            for s in x.sensors
            if s.status == x.status
        )
        items.append(f"<li>{_badge(x.status)} <b>{escape(x.id)}</b>: {why}</li>")
    return "<h3>Needs attention at the moment reported</h3><ul>" + "".join(items) + "</ul>"


def _snapshots(c: ReportContent, tz: tzinfo | None) -> str:
    if not c.snapshots:
        return ""
    marked = "; measurements in magenta" if c.measurements else ""
    body = "".join(
        f"<figure>{_img(s.png, s.label)}<figcaption>{escape(s.label)} at "
        f"{escape(fmt_time(c.at, tz))}: {escape(c.colouring)}; the colour bar is at the right, "
        f"the status key above it{marked}.</figcaption></figure>"
        for s in c.snapshots
    )
    return _section("Views at the moment reported", body, "page")


def _state(c: ReportContent, tz: tzinfo | None) -> str:
    head = (
        "<colgroup><col style='width:22%'><col style='width:27%'><col style='width:14%'>"
        "<col style='width:13%'><col style='width:13%'><col style='width:11%'></colgroup>"
        "<thead><tr><th>Component</th><th>Sensor</th><th>Quantity</th><th class='num'>Value</th>"
        "<th>Sample time</th><th>Status</th></tr></thead>"
    )
    body = "".join(_component_rows(x, c.at, tz) for x in c.components)
    extra = (
        f"<p class='muted'>{c.components_without_sensors} more components of the project have "
        "no sensor.</p>"
        if c.components_without_sensors
        else ""
    )
    intro = (
        f"<p>Every sensor's latest sample at or before {escape(fmt_time(c.at, tz))}, and its "
        "status then (stale: older than the sensor allows). A component shows its worst sensor. "
        f"Sample times without a date are on {escape(_day(c.at, tz))}.</p>"
    )
    table = f"<table class='state'>{head}<tbody>{body}</tbody></table>"
    return _section("State of every component", intro + table + extra, "page")


def _component_rows(x: ComponentState, at: float, tz: tzinfo | None) -> str:
    out = []
    for i, s in enumerate(x.sensors):
        first = i == 0
        comp = f"<b>{escape(x.id)}</b><br>{_badge(x.status)}" if first else ""
        name = f"{escape(s.id)}" + (f"<br><span class='muted'>{escape(s.name)}</span>" if s.name
                                    else "")  # fmt: skip
        out.append(
            f"<tr{' class=group' if first else ''}><td>{comp}</td><td>{name}</td>"
            f"<td>{escape(s.quantity.replace('_', ' '))}</td>"
            f"<td class='num'>{fmt_value(s.value, s.unit)}</td>"
            f"<td class='time'>{escape(fmt_clock(s.time, at, tz))}</td>"
            f"<td>{_badge(s.status)}</td></tr>"
        )
    return "".join(out)


def _charts(c: ReportContent) -> str:
    if not c.charts:
        body = "<p>No sensor alarmed in the window and none was selected.</p>"
    else:
        body = (
            "<p>The sensors that reached a warning or alarm limit in the window, then those "
            "selected. Dashed lines: limits; shaded: time past a limit; hatched: data missing; "
            "dotted: the moment reported.</p>"
            + "".join(
                f"<figure>{_img(ch.png, ch.title)}<figcaption>{escape(ch.title)} "
                f"[{escape(ch.unit)}]: {escape(ch.why)}</figcaption></figure>"
                for ch in c.charts
            )
        )
    return _section("Sensors over the window", body, "page")


def _alarms(c: ReportContent, tz: tzinfo | None) -> str:
    if c.alarms:
        rows = "".join(_alarm_row(a, c.end, tz) for a in c.alarms)
        table = (
            "<table><thead><tr><th>Level</th><th>Sensor</th><th>Component</th><th>Start</th>"
            "<th>End</th><th class='num'>Duration</th><th class='num'>Peak</th><th>Ack.</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        table = "<p>No sensor was past a warning or alarm limit in the window.</p>"
    gaps = c.quality.gaps
    if gaps:
        rows = "".join(
            f"<tr><td>data missing</td><td>{escape(g.source)}</td>"
            f"<td>{escape(', '.join(g.sensors) or 'all sensors')}</td>"
            f"<td class='time'>{escape(fmt_clock(g.start, c.end, tz))}</td>"
            f"<td class='num'>{escape(fmt_duration(g.duration))}</td>"
            f"<td>{'' if g.exact else 'about '}{g.missing:,} samples "
            f"({escape(describe_cause(g.cause))})</td></tr>"
            for g in gaps
        )
        events = (
            "<h3>Events</h3><table><thead><tr><th>Event</th><th>Source</th><th>Sensors</th>"
            "<th>Start</th><th class='num'>Duration</th><th>What</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    else:
        events = "<h3>Events</h3><p>No data loss was recorded in the window.</p>"
    intro = (
        "<p>Warning and alarm intervals computed from the recorded samples (with each sensor's "
        "deadband), oldest first; an interval still open at the end of the window is "
        f"<i>ongoing</i>. Times without a date are on {escape(_day(c.end, tz))}.</p>"
    )
    return _section("Alarms and events of the window", intro + table + events)


def _alarm_row(a: AlarmRow, window_end: float, tz: tzinfo | None) -> str:
    ongoing = not math.isfinite(a.end)
    end = "ongoing" if ongoing else escape(fmt_clock(a.end, window_end, tz))
    duration = fmt_duration((window_end if ongoing else a.end) - a.start)
    return (
        f"<tr><td>{_badge(a.level)}</td><td>{escape(a.sensor)}</td>"
        f"<td>{escape(a.component or '–')}</td>"
        f"<td class='time'>{escape(fmt_clock(a.start, window_end, tz))}</td>"
        f"<td class='time'>{end}</td>"
        f"<td class='num'>{escape(duration)}</td><td class='num'>{fmt_value(a.peak, a.unit)}</td>"
        f"<td>{'yes' if a.acknowledged else 'no'}</td></tr>"
    )


def _day(t: float, tz: tzinfo | None) -> str:
    return fmt_time(t, tz)[:10] + (f" ({_zone(t, tz)})" if tz is not None else " (UTC)")


def _zone(t: float, tz: tzinfo | None) -> str:

    return datetime.fromtimestamp(t, tz or timezone.utc).tzname() or ""


def _fidelity(c: ReportContent) -> str:
    if not c.fidelity:
        return ""
    return _section("Measured versus simulated", "".join(_fidelity_table(f) for f in c.fidelity))


def _fidelity_table(f: FidelityTable) -> str:
    head = f"<h3>{escape(f.overlay)}</h3>"
    if f.error:
        return f"{head}<p class='fail'>Not compared: {escape(f.error)}</p>"
    share = f"{100 * f.passed / f.compared:.0f} %" if f.compared else "n/a"
    lead = (
        f"<p>Field {escape(f.field)}{f' [{escape(f.unit)}]' if f.unit else ''} at simulation "
        f"time {f.sim_time:g} s. {f.passed} of {f.compared} compared sensors within "
        f"{100 * f.tolerance:g} % (relative to the {escape(f.relative_to)}): {share}.</p>"
    )
    rows = []
    for r in f.rows:
        if not r.compared:
            why = "no measurement" if not math.isfinite(r.measured) else "outside the result"
            rows.append(
                f"<tr><td>{escape(r.sensor)}</td><td colspan=4 class='muted'>{why}</td>"
                "<td></td></tr>"
            )
            continue
        result = "<span class='pass'>pass</span>" if r.passed else "<span class='fail'>FAIL</span>"
        rows.append(
            f"<tr><td>{escape(r.sensor)}</td><td class='num'>{fmt_value(r.measured, r.unit)}</td>"
            f"<td class='num'>{fmt_value(r.simulated, r.unit)}</td>"
            f"<td class='num'>{fmt_value(r.abs_error, r.unit)}</td>"
            f"<td class='num'>{100 * r.rel_error:.2f} %</td><td>{result}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Sensor</th><th class='num'>Measured</th>"
        "<th class='num'>Simulated</th><th class='num'>Error</th><th class='num'>Relative</th>"
        f"<th>Result</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return head + lead + table


def _quality(c: ReportContent, tz: tzinfo | None) -> str:
    q = c.quality
    by_cause: dict[str, tuple[int, int]] = {}
    for g in q.gaps:
        n, m = by_cause.get(g.cause, (0, 0))
        by_cause[g.cause] = (n + 1, m + g.missing)
    gap_text = (
        "; ".join(
            f"{n} {escape(describe_cause(cause))} gap{'s' if n != 1 else ''} ({m:,} samples)"
            for cause, (n, m) in by_cause.items()
        )
        or "none recorded"
    )
    if q.rejected:
        rej = "; ".join(
            f"{escape(src)}: "
            + (", ".join(f"{n:,} {escape(reason.replace('_', ' '))}" for reason, n in r.items())
               or "none")
            for src, r in q.rejected.items()
        ) + f" <span class='muted'>({escape(q.rejected_note)})</span>"  # fmt: skip
    elif q.rejected is not None:
        rej = f"none <span class='muted'>({escape(q.rejected_note)})</span>"
    else:
        rej = escape(q.rejected_note[:1].upper() + q.rejected_note[1:])
    facts = [
        ("Samples in the window", f"{q.samples:,}" if q.samples is not None else "not counted"),
        ("Stale at the moment", escape(", ".join(q.stale)) or "none"),
        ("No data at the moment", escape(", ".join(q.no_data)) or "none"),
        ("Data gaps in the window", gap_text),
        ("Rejected samples by reason", rej),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in facts)
    return _section("Data quality", f"<table class='facts'>{rows}</table>")


def _issues(c: ReportContent, tz: tzinfo | None) -> str:
    if not c.issues:
        body = "<p>No open issue, and none pinned to a moment in the window.</p>"
    else:
        body = (
            "<p>The review's open issues, and any other issue pinned to a moment in the window."
            "</p>" + "".join(_issue(e, c.units, tz) for e in c.issues)
        )
    return _section("Issues", body)


def _review_date(text: str, tz: tzinfo | None) -> str:
    """A review date (ISO 8601 UTC) in the project's zone."""
    from twinviewer.review.model import parse_iso

    try:
        return fmt_time(parse_iso(text).timestamp(), tz)
    except ValueError:
        return text


def _issue(e: IssueEntry, units: dict[str, str], tz: tzinfo | None) -> str:
    i = e.issue
    facts = [
        ("Status", i.status.replace("_", " ")),
        ("Priority", i.priority),
        ("Component", i.component or "–"),
        ("Twin time", fmt_time(i.time, tz) if i.time is not None else "live"),
        ("Author", i.author),
        ("Created", _review_date(i.created, tz)),
    ]
    if i.assigned_to:
        facts.append(("Assigned to", i.assigned_to))
    if i.labels:
        facts.append(("Labels", ", ".join(i.labels)))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    values = ""
    if i.values:
        shown = ", ".join(f"{escape(k)} = {fmt_value(v, units.get(k, ''))}" for k, v in
                          i.values.items())  # fmt: skip
        values = f"<p>Sensor values then: {shown}</p>"
    comments = "".join(
        f"<p><b>{escape(cm.author)}</b> <span class='muted'>{escape(_review_date(cm.date, tz))}"
        "</span>: "
        f"{escape(cm.text)}</p>"
        for cm in i.comments
    )
    shot = f"<figure>{_img(e.snapshot, i.title)}</figure>" if e.snapshot else ""
    text = f"<p class='issue-text'>{escape(i.text)}</p>" if i.text else ""
    return (
        f"<article class='issue'><h3>{escape(i.title)}</h3><table class='facts'>{rows}</table>"
        f"{text}{values}{comments}{shot}</article>"
    )


def _measurements(c: ReportContent) -> str:
    from twinviewer.render.annotations import value_text

    if not c.measurements:
        return _section("Measurements", "<p>No measurement was taken on the twin.</p>")
    rows = "".join(
        f"<tr><td>{escape(m.name)}</td><td>{escape(m.kind)}</td>"
        f"<td class='num'>{escape(value_text(m))}</td>"
        f"<td>{escape(', '.join(m.components) or '–')}</td></tr>"
        for m in c.measurements
    )
    body = (
        "<p>Measurements taken on the twin (also drawn in magenta in the views above).</p>"
        "<table><thead><tr><th>Name</th><th>Kind</th><th class='num'>Value</th>"
        f"<th>On</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return _section("Measurements", body)
