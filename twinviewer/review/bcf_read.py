"""Reading a BCF zip (3.0, and the 2.x layout, which differs only in where comments, viewpoints
and labels sit) into :class:`~twinviewer.review.model.Issue` objects. See
:mod:`twinviewer.review.bcf` for the mapping; this module is its reading half.

Lenient where BCF allows other tools freedom (missing optional elements, upper-case GUIDs,
backslashes in zip paths, namespaces), strict where the file is not BCF at all. Nothing of a
topic is dropped silently: what cannot be kept is named in a warning.
"""

from __future__ import annotations

import json
import math
import uuid
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pydantic import ValidationError

from twinviewer.review.bcf import (
    EXTRAS_FORMAT,
    IFC_PREFIX,
    PRIORITY_LABEL,
    PRIORITY_OUT,
    STATUS_LABEL,
    STATUS_OUT,
    BcfError,
    due_date_of,
    priority_of,
    status_of,
)
from twinviewer.review.model import Issue, iso_utc, parse_iso, utc_now

DEFAULT_FOCAL_DISTANCE = 10.0  # metres in front of the camera, when the file does not say

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


@dataclass
class TopicsRead:
    issues: list[Issue] = field(default_factory=list)
    snapshots: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_topics(archive: zipfile.ZipFile, source: str, known: Collection[str] | None) -> TopicsRead:
    """Every topic of an open BCF zip; ``source`` names the file in messages."""
    entries = {i.filename.replace("\\", "/"): i for i in archive.infolist() if not i.is_dir()}
    lower = {name.lower(): name for name in entries}

    def read(name: str) -> bytes | None:
        real = entries.get(name) or entries.get(lower.get(name.lower(), ""))
        return archive.read(real) if real is not None else None

    version = read("bcf.version")
    if version is None:
        raise BcfError(f"{source}: not a BCF file: no bcf.version at the top of the zip")
    vroot = _parse(version, f"{source}: bcf.version")
    vid = (vroot.get("VersionId") or "").strip()
    if _local(vroot) != "Version" or not vid.startswith(("2.", "3.")):
        raise BcfError(
            f'{source}: bcf.version: expected <Version VersionId="3.0"> (or 2.x), '
            f"got <{_local(vroot)} VersionId={vid!r}>"
        )
    documents = _documents(read, source)
    out = TopicsRead()
    folders = sorted({n.split("/")[0] for n in entries if n.lower().endswith("/markup.bcf")})
    if not folders:
        out.warnings.append(f"{source}: BCF {vid} file with no topics")
    for folder in folders:
        markup = read(f"{folder}/markup.bcf")
        assert markup is not None
        try:
            _topic(
                folder,
                _parse(markup, f"{source}: {folder}/markup.bcf"),
                read,
                documents,
                known,
                out,
            )
        except BcfError as exc:  # one broken topic is reported, the others still come in
            out.warnings.append(str(exc))
    return out


def _parse(data: bytes, where: str) -> Any:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BcfError(f"{where}: not well-formed XML: {exc}") from None


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: Any, name: str) -> list[Any]:
    return [] if el is None else [k for k in el if _local(k) == name]


def _kid(el: Any, *path: str) -> Any:
    for name in path:
        found = _kids(el, name)
        el = found[0] if found else None
    return el


def _text(el: Any, *path: str) -> str | None:
    node = _kid(el, *path)
    return None if node is None or node.text is None else node.text.strip()


def _guid(text: str | None) -> str | None:
    try:
        return str(uuid.UUID((text or "").strip()))
    except ValueError:
        return None


def _documents(read: Any, source: str) -> dict[str, bytes]:
    """BCF 3.0's documents: guid -> bytes (``documents.xml`` + ``documents/<guid>``)."""
    data = read("documents.xml")
    if data is None:
        return {}
    out = {}
    for doc in _kids(_kid(_parse(data, f"{source}: documents.xml"), "Documents"), "Document"):
        guid = _guid(doc.get("Guid"))
        if guid is None:
            continue
        body = read(f"documents/{doc.get('Guid')}") or read(f"documents/{guid}")
        if body is not None:
            out[guid] = body
    return out


def _extras(topic: Any, documents: dict[str, bytes]) -> dict[str, Any]:
    refs = _kids(_kid(topic, "DocumentReferences"), "DocumentReference")
    for ref in refs:
        body = documents.get(_guid(_text(ref, "DocumentGuid")) or "")
        if body is None:
            continue
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and data.get("format") == EXTRAS_FORMAT:
            return data
    return {}


def _date(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return iso_utc(parse_iso(text))
    except ValueError:
        return None


def _topic(
    folder: str,
    root: Any,
    read: Any,
    documents: dict[str, bytes],
    known: Collection[str] | None,
    out: TopicsRead,
) -> None:
    topic = _kid(root, "Topic")
    if topic is None:
        raise BcfError(f"{folder}/markup.bcf: no <Topic>; topic skipped")
    guid = _guid(topic.get("Guid")) or _guid(folder)
    title = _text(topic, "Title") or ""
    where = f"topic {guid or folder} ({title or 'untitled'})"
    if guid is None:
        raise BcfError(f"{where}: no valid Guid; topic skipped")
    warn = out.warnings.append
    extras = _extras(topic, documents)
    labels = [t for el in _kids(_kid(topic, "Labels"), "Label") if (t := (el.text or "").strip())]
    labels += [t for el in _kids(topic, "Labels") if (t := (el.text or "").strip())]  # 2.x
    status_text = (topic.get("TopicStatus") or "").strip()
    status = status_of(status_text) if status_text else "open"
    if status_text and (status is None or STATUS_OUT[status] != status_text):
        labels.append(STATUS_LABEL + status_text)
    priority_text = _text(topic, "Priority") or ""
    priority = priority_of(priority_text) if priority_text else "normal"
    if priority_text and (priority is None or PRIORITY_OUT[priority] != priority_text):
        labels.append(PRIORITY_LABEL + priority_text)
    created = _date(_text(topic, "CreationDate"))
    if created is None:
        warn(f"{where}: no readable CreationDate; taken as now")
    due = _text(topic, "DueDate")
    viewpoints, snapshot = _viewpoints(folder, root, topic, read, extras, guid, where, out)
    vp_ids = {vp["id"] for vp in viewpoints}
    comments = []
    for c in _kids(_kid(topic, "Comments"), "Comment") + _kids(root, "Comment"):
        vp = _guid(_kid(c, "Viewpoint").get("Guid")) if _kid(c, "Viewpoint") is not None else None
        if vp is not None and vp not in vp_ids:
            warn(f"{where}: a comment refers to viewpoint {vp}, which is not in the file")
            vp = None
        comments.append(
            {
                "id": _guid(c.get("Guid")) or str(uuid.uuid4()),
                "author": _text(c, "Author") or "unknown",
                "date": _date(_text(c, "Date")) or utc_now(),
                "text": _text(c, "Comment") or "",
                "viewpoint_id": vp,
            }
        )
    component = extras.get("component")
    data = {
        "id": guid,
        "title": title or "(untitled)",
        "text": _text(topic, "Description") or "",
        "author": _text(topic, "CreationAuthor") or "unknown",
        "created": created or utc_now(),
        "modified": _date(_text(topic, "ModifiedDate")) or created or utc_now(),
        "modified_author": _text(topic, "ModifiedAuthor"),
        "assigned_to": _text(topic, "AssignedTo"),
        "topic_type": (topic.get("TopicType") or "").strip() or "Issue",
        "status": status or "open",
        "priority": priority or "normal",
        "labels": list(dict.fromkeys(labels)),
        "due": due_date_of(due) if due else None,
        "component": component,
        "point": extras.get("point"),
        "time": extras.get("time"),
        "values": extras.get("values") or {},
        "viewpoint": viewpoints[0] if viewpoints else None,
        "other_viewpoints": viewpoints[1:],
        "snapshot": snapshot,
        "comments": comments,
    }
    try:
        issue = Issue.model_validate(data)
    except ValidationError as exc:
        raise BcfError(
            f"{where}: cannot be read: {exc.errors()[0]['msg']}; topic skipped"
        ) from None
    mentioned = [component] if component else []
    mentioned += [
        c for v in issue.viewpoints() for c in (*v.selection, *v.hidden, *(v.shown_only or []))
    ]
    ifc = sorted({c for c in mentioned if c.startswith(IFC_PREFIX)})
    if ifc:
        warn(
            f"{where}: {len(ifc)} component(s) given by IfcGuid only ({', '.join(ifc[:5])}"
            f"{', ...' if len(ifc) > 5 else ''}): kept as they are, not matched to the twin"
        )
    if known is not None:
        unknown = sorted({c for c in mentioned if not c.startswith(IFC_PREFIX)} - set(known))
        if unknown:
            warn(
                f"{where}: unknown component(s) {', '.join(unknown[:5])}"
                f"{', ...' if len(unknown) > 5 else ''}: kept, but not in this twin"
            )
    out.issues.append(issue)


def _viewpoints(
    folder: str,
    root: Any,
    topic: Any,
    read: Any,
    extras: dict[str, Any],
    issue_id: str,
    where: str,
    out: TopicsRead,
) -> tuple[list[dict[str, Any]], str | None]:
    listed = _kids(_kid(topic, "Viewpoints"), "ViewPoint") + _kids(root, "Viewpoints")
    if not listed and read(f"{folder}/viewpoint.bcfv") is not None:  # BCF 1.0 habit
        listed = [etree.Element("ViewPoint", Guid=str(uuid.uuid4()))]
    views: list[dict[str, Any]] = []
    snapshot = None
    per_vp = extras.get("viewpoints") or {}
    for vp in listed:
        file = _text(vp, "Viewpoint") or "viewpoint.bcfv"
        data = read(f"{folder}/{file}")
        if data is None:
            out.warnings.append(f"{where}: viewpoint file {file} is missing; viewpoint skipped")
            continue
        info = _parse(data, f"{folder}/{file}")
        guid = _guid(vp.get("Guid")) or _guid(info.get("Guid")) or str(uuid.uuid4())
        view = _visinfo(info, per_vp.get(guid) or {}, where, out.warnings)
        if view is None:
            continue
        view["id"] = guid
        picture = _text(vp, "Snapshot")
        body = read(f"{folder}/{picture}") if picture else None
        if picture and body is None:
            out.warnings.append(f"{where}: snapshot {picture} is missing")
        if body is not None:
            name = f"{issue_id}.png" if not views else f"{issue_id}-{guid}.png"
            out.snapshots[name] = body
            if views:
                view["snapshot"] = name
            else:
                snapshot = name
        views.append(view)
    return views, snapshot


def _components(el: Any) -> list[str]:
    """Component ids of the ``Component`` children of ``el`` (or of a list of components)."""
    out = []
    for c in el if isinstance(el, list) else _kids(el, "Component"):
        tool = _text(c, "AuthoringToolId")
        ifc = (c.get("IfcGuid") or "").strip()
        if tool:
            out.append(tool)
        elif ifc:
            out.append(IFC_PREFIX + ifc)
    return out


def _vec(el: Any, name: str) -> list[float] | None:
    node = _kid(el, name)
    try:
        v = [float(_text(node, axis) or "nan") for axis in "XYZ"]
    except ValueError:
        return None
    return v if all(math.isfinite(x) for x in v) else None


def _visinfo(
    info: Any, extra: dict[str, Any], where: str, warnings: list[str]
) -> dict[str, Any] | None:
    comps = _kid(info, "Components")
    selection = _components(_kid(comps, "Selection"))
    vis = _kid(comps, "Visibility")
    exceptions = _components(_kid(vis, "Exceptions"))
    shown = vis is not None and (vis.get("DefaultVisibility") or "true").lower() == "false"
    hidden = [] if shown else exceptions
    for c in _kids(comps, "Component"):  # BCF 2.0: flags on each component
        ids = _components([c])
        cid = ids[0] if ids else None
        if cid and c.get("Selected", "").lower() == "true":
            selection.append(cid)
        if cid and c.get("Visible", "").lower() == "false":
            hidden.append(cid)
    cam = _kid(info, "PerspectiveCamera")
    parallel = cam is None
    cam = cam if cam is not None else _kid(info, "OrthogonalCamera")
    if cam is None:
        warnings.append(f"{where}: a viewpoint without a camera was skipped")
        return None
    position, direction, up = (
        _vec(cam, n) for n in ("CameraViewPoint", "CameraDirection", "CameraUpVector")
    )
    norm = math.sqrt(sum(x * x for x in direction)) if direction else 0.0
    if position is None or direction is None or up is None or norm == 0:
        warnings.append(f"{where}: a viewpoint with an unreadable camera was skipped")
        return None
    distance = float(extra.get("focal_distance") or DEFAULT_FOCAL_DISTANCE)
    focal = [p + d / norm * distance for p, d in zip(position, direction, strict=True)]
    camera: dict[str, Any] = {
        "position": position,
        "focal_point": focal,
        "up": up,
        "parallel": parallel,
    }
    try:
        if parallel:
            camera["parallel_scale"] = float(_text(cam, "ViewToWorldScale") or "2") / 2
            camera["view_angle"] = extra.get("view_angle", 30.0)
        else:
            camera["view_angle"] = float(_text(cam, "FieldOfView") or "30")
            camera["parallel_scale"] = extra.get("parallel_scale", 1.0)
    except ValueError:
        warnings.append(f"{where}: a camera's FieldOfView/ViewToWorldScale is not a number")
    section = None
    planes = _kids(_kid(info, "ClippingPlanes"), "ClippingPlane")
    if planes:
        origin, normal = _vec(planes[0], "Location"), _vec(planes[0], "Direction")
        if origin is not None and normal is not None and any(normal):
            section = {"origin": origin, "normal": normal}
        if len(planes) > 1:
            warnings.append(f"{where}: {len(planes)} clipping planes; TwinViewer keeps the first")
    return {
        "camera": camera,
        "selection": list(dict.fromkeys(selection)),
        "hidden": list(dict.fromkeys(hidden)),
        "shown_only": exceptions if shown else None,
        "section": section,
        "overlay": extra.get("overlay"),
        "colour_mode": extra.get("colour_mode"),
        "time": extra.get("time"),
    }
