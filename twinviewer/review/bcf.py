"""BCF 3.0 exchange: the review's issues as a ``.bcf`` zip other BIM tools read, and back.

Why lxml and not ``bcf-client`` (IfcOpenShell's BCF library): its wheel is small but requires
``ifcopenshell`` (a large compiled package), ``xsdata`` and ``requests``, and is GPL-3.0; the
part of BCF TwinViewer needs is a few XML files in a zip, written here with lxml.

What a ``.bcf`` holds (buildingSMART BCF-XML 3.0; the XML has no namespace)::

    bcf.version                 <Version VersionId="3.0"/>
    extensions.xml              the topic types, statuses, priorities, labels and users used
    documents.xml               the documents below (TwinViewer's extras, one per topic)
    documents/<guid>            a JSON document (see "Extras")
    <topic guid>/markup.bcf     Markup/Topic: title, status, priority, dates, authors, labels,
                                description, document reference, comments, viewpoints
    <topic guid>/viewpoint.bcfv the first viewpoint; others are viewpoint-<guid>.bcfv
    <topic guid>/snapshot.png   the issue's snapshot; others are snapshot-<guid>.png

Mapping:

* status <-> TopicStatus ``Open``, ``In Progress``, ``Resolved``, ``Closed``; priority <->
  Priority ``Low``, ``Normal``, ``High``, ``Critical``. Read case-insensitively, with a few
  synonyms (``Active``/``New`` open, ``Done``/``Fixed`` resolved, ``Medium`` normal, ``Major``
  high...); a text we do not know becomes open (normal). Whenever the file's text is not
  exactly our name for the value, the original is kept as the label ``bcf-status:<text>``
  (``bcf-priority:<text>``); export writes that text back instead of ours as long as the
  issue's status (priority) is still what the text was read as, and never writes the label
  itself, so the other tool gets its own vocabulary back unless the status really changed.
* components are referred to by ``AuthoringToolId`` = the TwinViewer component id, with no
  IfcGuid. A component that comes with an IfcGuid only is kept as ``ifc:<IfcGuid>`` (and
  written back as that IfcGuid); components the project does not know are kept, with a warning.
* visibility: DefaultVisibility true and the hidden components as exceptions; a viewpoint that
  shows only some components (DefaultVisibility false) keeps them in ``shown_only``.
* cameras: PerspectiveCamera with FieldOfView = VTK's vertical view angle, or
  OrthogonalCamera with ViewToWorldScale = the visible height = 2 x parallel scale. The
  AspectRatio BCF 3.0 requires is the snapshot's when there is one, else 16:10.
* the section: one ClippingPlane; its Direction is our normal (both point to the side cut away).

Extras (what BCF has no field for): the twin's time, the component, the 3D point and the
sensor values of the issue, and per viewpoint its time, overlay, colour mode and the camera's
focal distance (BCF keeps only a direction). They go into one JSON document per topic,
``{"format": "twinviewer-issue", "version": 1, ...}``, stored under ``documents/`` and
referenced from the topic's ``DocumentReferences`` with the description "TwinViewer data". This
is schema-valid BCF 3.0, other tools list it as an attached document, a person can open it, and
it does not touch the fields people edit (the description, the labels), so an issue edited in
another tool still round-trips its extras. Import reads it when present and never needs it.
"""

from __future__ import annotations

import json
import logging
import struct
import uuid
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from twinviewer.review.model import Issue, Viewpoint, iso_utc, parse_iso

log = logging.getLogger(__name__)

BCF_VERSION = "3.0"
EXTRAS_FORMAT = "twinviewer-issue"
EXTRAS_DESCRIPTION = "TwinViewer data (time, component, point, sensor values)"
DEFAULT_ASPECT = 1.6

STATUS_OUT = {
    "open": "Open",
    "in_progress": "In Progress",
    "resolved": "Resolved",
    "closed": "Closed",
}
PRIORITY_OUT = {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"}
STATUS_LABEL = "bcf-status:"
PRIORITY_LABEL = "bcf-priority:"
IFC_PREFIX = "ifc:"


# what other tools write, read case-insensitively (our own names are in the maps above)
_STATUS_IN = {
    "open": "open", "active": "open", "new": "open", "reopened": "open",
    "in progress": "in_progress", "inprogress": "in_progress", "in_progress": "in_progress",
    "resolved": "resolved", "done": "resolved", "fixed": "resolved",
    "closed": "closed",
}  # fmt: skip
_PRIORITY_IN = {
    "low": "low", "minor": "low", "normal": "normal", "medium": "normal",
    "high": "high", "major": "high", "critical": "critical", "blocker": "critical",
}  # fmt: skip


def status_of(text: str) -> str | None:
    """Our status for a BCF TopicStatus (None: not one we know)."""
    return _STATUS_IN.get(" ".join(text.lower().split()))


def priority_of(text: str) -> str | None:
    """Our priority for a BCF Priority (None: not one we know)."""
    return _PRIORITY_IN.get(" ".join(text.lower().split()))


class BcfError(ValueError):
    """The file is not a BCF file this reader understands; the message says why."""


@dataclass
class BcfImport:
    """What :func:`read_bcf` found: the issues, their snapshots (file name -> PNG bytes, the
    names the issues use) and warnings for a person (unknown components, skipped parts)."""

    issues: list[Issue] = field(default_factory=list)
    snapshots: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_bcf(path: str | Path, known_components: Collection[str] | None = None) -> BcfImport:
    """Read the topics of a BCF 3.0 (or 2.x) zip as issues. Components not in
    ``known_components`` (when given) and IfcGuid-only components are kept, with a warning.
    Raises :class:`BcfError` when the file is not BCF."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BcfError(f"{path}: not a BCF file (a BCF file is a zip archive): {exc}") from None
    from twinviewer.review.bcf_read import read_topics  # it imports this module's names

    with archive:
        out = read_topics(archive, str(path), known_components)
    return BcfImport(issues=out.issues, snapshots=out.snapshots, warnings=out.warnings)


def write_bcf(
    path: str | Path,
    issues: Iterable[Issue],
    snapshots: Path | None = None,
) -> list[str]:
    """Write the issues as a BCF 3.0 zip at ``path`` (replaced). ``snapshots`` is the folder
    the issues' snapshot names are in (a review's ``snapshots/``). Returns warnings (a snapshot
    named but missing)."""
    path = Path(path)
    issues = list(issues)
    warnings: list[str] = []
    files: dict[str, bytes] = {"bcf.version": _xml(_version())}
    docs: list[tuple[str, str, bytes]] = []  # (guid, file name, data)
    topics: list[tuple[str, dict[str, bytes]]] = []
    for issue in issues:
        topic_files: dict[str, bytes] = {}
        pictures = {}
        for k, vp in enumerate(issue.viewpoints()):
            name = issue.snapshot if k == 0 else vp.snapshot
            if name is None:
                continue
            file = snapshots / name if snapshots is not None else None
            if file is None or not file.is_file():
                warnings.append(f"issue {issue.id} ({issue.title}): snapshot {name} not found")
                continue
            pictures[vp.id] = file.read_bytes()
        if not issue.viewpoints() and issue.snapshot is not None and snapshots is not None:
            file = snapshots / issue.snapshot
            if file.is_file():  # a snapshot without a viewpoint: an empty viewpoint carries it
                topic_files["snapshot.png"] = file.read_bytes()
        doc_guid = str(uuid.uuid5(uuid.UUID(issue.id), EXTRAS_FORMAT))
        docs.append((doc_guid, f"twinviewer-{issue.id}.json", _extras(issue)))
        vp_files = []
        for k, vp in enumerate(issue.viewpoints()):
            vname = "viewpoint.bcfv" if k == 0 else f"viewpoint-{vp.id}.bcfv"
            sname = (
                ("snapshot.png" if k == 0 else f"snapshot-{vp.id}.png")
                if vp.id in pictures
                else None
            )
            aspect = _png_aspect(pictures[vp.id]) if vp.id in pictures else None
            topic_files[vname] = _xml(_visinfo(vp, aspect or DEFAULT_ASPECT))
            if sname:
                topic_files[sname] = pictures[vp.id]
            vp_files.append((vp.id, vname, sname))
        topic_files["markup.bcf"] = _xml(_markup(issue, vp_files, doc_guid))
        topics.append((issue.id, topic_files))
    files["extensions.xml"] = _xml(_extensions(issues))
    if docs:
        files["documents.xml"] = _xml(_documents(docs))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(name, data)
            if docs:
                z.writestr("documents/", b"")
            for guid, _name, data in docs:
                z.writestr(f"documents/{guid}", data)
            for guid, topic_files in topics:
                z.writestr(f"{guid}/", b"")  # folder entries, as the BCF encoding guide asks
                for name, data in topic_files.items():
                    z.writestr(f"{guid}/{name}", data)
        tmp.replace(path)  # a failed export leaves the old file, not half a new one
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("wrote %d topics to %s", len(issues), path)
    return warnings


# -- XML ---------------------------------------------------------------------------------------


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _num(x: float) -> str:
    return repr(float(x))


def _xyz(parent: etree._Element, tag: str, v: Iterable[float]) -> None:
    el = _sub(parent, tag)
    for axis, value in zip("XYZ", v, strict=True):
        _sub(el, axis, _num(value))


def _version() -> etree._Element:
    return etree.Element("Version", VersionId=BCF_VERSION)


def _out_status(issue: Issue) -> tuple[str, str, list[str]]:
    """TopicStatus, Priority and the labels to write. The original text of another tool (a
    ``bcf-status:``/``bcf-priority:`` label) is written back while the issue's status
    (priority) is still what that text was read as; otherwise ours, and the label is dropped."""
    status, priority = STATUS_OUT[issue.status], PRIORITY_OUT[issue.priority]
    labels = []
    for label in issue.labels:
        if label.startswith(STATUS_LABEL):
            text = label[len(STATUS_LABEL) :]
            if text and (status_of(text) or "open") == issue.status:
                status = text
        elif label.startswith(PRIORITY_LABEL):
            text = label[len(PRIORITY_LABEL) :]
            if text and (priority_of(text) or "normal") == issue.priority:
                priority = text
        else:
            labels.append(label)
    return status, priority, labels


def _markup(issue: Issue, viewpoints: list[tuple[str, str, str | None]], doc: str) -> Any:
    status, priority, labels = _out_status(issue)
    root = etree.Element("Markup")
    t = _sub(root, "Topic", Guid=issue.id, TopicType=issue.topic_type, TopicStatus=status)
    _sub(t, "Title", issue.title)
    _sub(t, "Priority", priority)
    if labels:
        box = _sub(t, "Labels")
        for label in labels:
            _sub(box, "Label", label)
    _sub(t, "CreationDate", issue.created)
    _sub(t, "CreationAuthor", issue.author)
    if issue.modified != issue.created or issue.modified_author:
        _sub(t, "ModifiedDate", issue.modified)
        _sub(t, "ModifiedAuthor", issue.modified_author or issue.author)
    if issue.due is not None:
        _sub(t, "DueDate", f"{issue.due.isoformat()}T00:00:00Z")
    if issue.assigned_to:
        _sub(t, "AssignedTo", issue.assigned_to)
    if issue.text:
        _sub(t, "Description", issue.text)
    refs = _sub(t, "DocumentReferences")
    ref = _sub(refs, "DocumentReference", Guid=str(uuid.uuid5(uuid.UUID(doc), "reference")))
    _sub(ref, "DocumentGuid", doc)
    _sub(ref, "Description", EXTRAS_DESCRIPTION)
    if issue.comments:
        box = _sub(t, "Comments")
        for c in sorted(issue.comments, key=lambda c: (c.date, c.id)):
            el = _sub(box, "Comment", Guid=c.id)
            _sub(el, "Date", c.date)
            _sub(el, "Author", c.author)
            _sub(el, "Comment", c.text)
            if c.viewpoint_id:
                _sub(el, "Viewpoint", Guid=c.viewpoint_id)
    if viewpoints:
        box = _sub(t, "Viewpoints")
        for guid, vname, sname in viewpoints:
            el = _sub(box, "ViewPoint", Guid=guid)
            _sub(el, "Viewpoint", vname)
            if sname:
                _sub(el, "Snapshot", sname)
    return root


def _component(parent: etree._Element, cid: str) -> None:
    if cid.startswith(IFC_PREFIX):
        _sub(parent, "Component", IfcGuid=cid[len(IFC_PREFIX) :])
    else:
        el = _sub(parent, "Component")
        _sub(el, "OriginatingSystem", "TwinViewer")
        _sub(el, "AuthoringToolId", cid)


def _visinfo(vp: Viewpoint, aspect: float) -> Any:
    root = etree.Element("VisualizationInfo", Guid=vp.id)
    comps = _sub(root, "Components")
    if vp.selection:
        sel = _sub(comps, "Selection")
        for cid in vp.selection:
            _component(sel, cid)
    shown = vp.shown_only is not None
    vis = _sub(comps, "Visibility", DefaultVisibility="false" if shown else "true")
    exceptions = vp.shown_only if vp.shown_only is not None else vp.hidden
    if exceptions:
        box = _sub(vis, "Exceptions")
        for cid in exceptions:
            _component(box, cid)
    cam = vp.camera
    direction = [f - p for f, p in zip(cam.focal_point, cam.position, strict=True)]
    el = _sub(root, "OrthogonalCamera" if cam.parallel else "PerspectiveCamera")
    _xyz(el, "CameraViewPoint", cam.position)
    _xyz(el, "CameraDirection", _unit(direction))
    _xyz(el, "CameraUpVector", _unit(cam.up))
    if cam.parallel:
        _sub(el, "ViewToWorldScale", _num(2 * cam.parallel_scale))
    else:
        _sub(el, "FieldOfView", _num(cam.view_angle))
    _sub(el, "AspectRatio", _num(aspect))
    if vp.section is not None:
        planes = _sub(root, "ClippingPlanes")
        plane = _sub(planes, "ClippingPlane")
        _xyz(plane, "Location", vp.section.origin)
        _xyz(plane, "Direction", _unit(vp.section.normal))
    return root


def _extensions(issues: list[Issue]) -> Any:
    types = sorted({"Issue", *(i.topic_type for i in issues)})
    statuses, priorities, labels = list(STATUS_OUT.values()), list(PRIORITY_OUT.values()), set()
    for issue in issues:
        s, p, ls = _out_status(issue)
        statuses += [s] if s not in statuses else []
        priorities += [p] if p not in priorities else []
        labels.update(ls)
    users = sorted(
        {u for i in issues for u in (i.author, i.modified_author, i.assigned_to) if u}
        | {c.author for i in issues for c in i.comments}
    )
    root = etree.Element("Extensions")
    for box, item, values in (
        ("TopicTypes", "TopicType", types),
        ("TopicStatuses", "TopicStatus", statuses),
        ("Priorities", "Priority", priorities),
        ("TopicLabels", "TopicLabel", sorted(labels)),
        ("Users", "User", users),
    ):
        if values:
            el = _sub(root, box)
            for v in values:
                _sub(el, item, v)
    return root


def _documents(docs: list[tuple[str, str, bytes]]) -> Any:
    root = etree.Element("DocumentInfo")
    box = _sub(root, "Documents")
    for guid, name, _data in docs:
        el = _sub(box, "Document", Guid=guid)
        _sub(el, "Filename", name)
        _sub(el, "Description", EXTRAS_DESCRIPTION)
    return root


def _extras(issue: Issue) -> bytes:
    data: dict[str, Any] = {
        "format": EXTRAS_FORMAT,
        "version": 1,
        "issue": issue.id,
        "component": issue.component,
        "point": list(issue.point) if issue.point is not None else None,
        "time": issue.time,
        "time_iso": _iso_time(issue.time),
        "values": issue.values,
        "viewpoints": {
            vp.id: {
                "time": vp.time,
                "overlay": vp.overlay,
                "colour_mode": vp.colour_mode,
                "focal_distance": _dist(vp.camera.position, vp.camera.focal_point),
                "view_angle": vp.camera.view_angle,
                "parallel_scale": vp.camera.parallel_scale,
            }
            for vp in issue.viewpoints()
        },
    }
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _iso_time(t: float | None) -> str | None:
    from datetime import datetime, timezone

    return None if t is None else iso_utc(datetime.fromtimestamp(t, timezone.utc))


def _unit(v: Iterable[float]) -> list[float]:
    v = [float(x) for x in v]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v] if n > 0 else v


def _dist(a: Iterable[float], b: Iterable[float]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def _png_aspect(data: bytes) -> float | None:
    """Width / height from a PNG's header, None when it is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width / height if width and height else None


def due_date_of(text: str) -> str:
    """The date part of a BCF DueDate (``xs:dateTime``, or a bare date some tools write)."""
    return parse_iso(text).date().isoformat() if "T" in text else text.strip()[:10]
