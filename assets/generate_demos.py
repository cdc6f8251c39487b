#!/usr/bin/env python
"""Generate the two demo twins: an underground mine and a diesel-electric locomotive.

    python assets/generate_demos.py            # writes assets/mine/ and assets/locomotive/
    python assets/generate_demos.py --out DIR  # writes DIR/mine/ and DIR/locomotive/

Everything is built from primitives (boxes, cylinders, lofts of convex profiles) with trimesh and
saved as GLB with one named node per part, grouped under named group nodes; each twin gets a
project file (``*.twin.yaml``) binding sensors to those nodes. The output depends on nothing but
this script: running it again gives byte-identical files. Coordinates are metres, Z up (the GLB
itself is Y-up, as glTF requires; TwinViewer's reader turns it back).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

HERE = Path(__file__).resolve().parent
SCHEMA_COMMENT = "# yaml-language-server: $schema=../../docs/twin-project.schema.json"

Vec = Sequence[float]
# The twins are built Z-up (as the viewer and the project files are); glTF is Y-up by
# specification, so the GLB gets (x, y, z) -> (x, z, -y), which readers turn back.
Z_UP_TO_Y_UP = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
Mesh = trimesh.Trimesh

# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------


def aabb(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> Mesh:
    """An axis-aligned box between two corners."""
    lo = np.minimum([x0, y0, z0], [x1, y1, z1])
    hi = np.maximum([x0, y0, z0], [x1, y1, z1])
    return trimesh.creation.box(bounds=np.array([lo, hi], float))


def _frame(direction: Vec, up: Vec = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Columns (side, up, along): a right-handed frame whose third axis is ``direction``."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    side = np.cross(up, d)
    if np.linalg.norm(side) < 1e-9:
        side = np.cross((0.0, 1.0, 0.0), d)
        if np.linalg.norm(side) < 1e-9:
            side = np.cross((1.0, 0.0, 0.0), d)
    side = side / np.linalg.norm(side)
    return np.column_stack([side, np.cross(d, side), d])


def beam(p0: Vec, p1: Vec, width: float, height: float, up: Vec = (0.0, 0.0, 1.0)) -> Mesh:
    """A box from ``p0`` to ``p1`` (centre line), ``width`` sideways and ``height`` upwards."""
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    m = np.eye(4)
    m[:3, :3] = _frame(b - a, up)
    m[:3, 3] = (a + b) / 2
    return trimesh.creation.box(extents=(width, height, float(np.linalg.norm(b - a))), transform=m)


def cyl(p0: Vec, p1: Vec, r: float, sections: int = 32) -> Mesh:
    return trimesh.creation.cylinder(radius=r, segment=np.array([p0, p1], float), sections=sections)


def tube(p0: Vec, p1: Vec, r_in: float, r_out: float, sections: int = 32) -> Mesh:
    return trimesh.creation.annulus(
        r_min=r_in, r_max=r_out, segment=np.array([p0, p1], float), sections=sections
    )


def circle(r: float, n: int = 32) -> np.ndarray:
    a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def loft(prof0: np.ndarray, prof1: np.ndarray, p0: Vec, p1: Vec, up: Vec = (0, 0, 1)) -> Mesh:
    """A closed solid between two convex profiles (same vertex count, either winding).

    The profiles are in the (side, up) plane of the frame along ``p1 - p0``.
    """
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    frame = _frame(b - a, up)
    n = len(prof0)

    def place(prof: np.ndarray, origin: np.ndarray) -> np.ndarray:
        return origin + prof[:, :1] * frame[:, 0] + prof[:, 1:2] * frame[:, 1]

    prof0, prof1 = np.asarray(prof0, float), np.asarray(prof1, float)
    x, y = prof0[:, 0], prof0[:, 1]
    if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0:  # clockwise: turn it round
        prof0, prof1 = prof0[::-1], prof1[::-1]
    verts = np.vstack([place(prof0, a), place(prof1, b)])
    faces = []
    for i in range(n):
        j = (i + 1) % n
        faces += [(i, j, n + j), (i, n + j, n + i)]
    for i in range(1, n - 1):
        faces += [(0, i + 1, i), (n, n + i, n + i + 1)]
    return trimesh.Trimesh(verts, np.array(faces), process=False)


def frustum(p0: Vec, p1: Vec, r0: float, r1: float, sections: int = 32) -> Mesh:
    return loft(circle(r0, sections), circle(r1, sections), p0, p1)


def prism(profile: Iterable[Vec], p0: Vec, p1: Vec, up: Vec = (0, 0, 1)) -> Mesh:
    prof = np.asarray(list(profile), float)
    return loft(prof, prof, p0, p1, up)


def extrude_yz(profile: Iterable[Vec], x0: float, x1: float) -> Mesh:
    """A convex (y, z) profile extruded along X from x0 to x1."""
    return prism(profile, (x0, 0.0, 0.0), (x1, 0.0, 0.0))


def extrude_xz(profile: Iterable[Vec], y0: float, y1: float) -> Mesh:
    """A convex (x, z) profile extruded along Y from y0 to y1."""
    # along +Y the frame's side axis is -X
    return prism([(-x, z) for x, z in profile], (0.0, y0, 0.0), (0.0, y1, 0.0))


def rounded_rect(w: float, h: float, r: float, n: int = 4) -> np.ndarray:
    """A w x h rectangle (centred) with corners of radius r, counter-clockwise."""
    pts = []
    for cx, cy, a0 in (
        (w / 2 - r, h / 2 - r, 0),
        (-w / 2 + r, h / 2 - r, 90),
        (-w / 2 + r, -h / 2 + r, 180),
        (w / 2 - r, -h / 2 + r, 270),
    ):
        for k in range(n + 1):
            a = math.radians(a0 + 90 * k / n)
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return np.array(pts)


def cat(*meshes: Mesh | Iterable[Mesh]) -> Mesh:
    flat: list[Mesh] = []
    for m in meshes:
        if isinstance(m, trimesh.Trimesh):
            flat.append(m)
        else:
            flat.extend(m)
    return trimesh.util.concatenate(flat)


def rgba(hex_colour: str) -> list[int]:
    h = hex_colour.lstrip("#")
    return [int(h[i : i + 2], 16) for i in (0, 2, 4)] + [255]


# --------------------------------------------------------------------------------------------
# A twin: named nodes in a hierarchy, saved as GLB
# --------------------------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    parent: str | None
    mesh: Mesh | None = None
    colour: str = "#b0b6be"


@dataclass
class Twin:
    nodes: list[Node] = field(default_factory=list)

    def _check(self, name: str, parent: str | None) -> None:
        if any(n.name == name for n in self.nodes):
            raise ValueError(f"node name {name!r} used twice")
        if parent is not None and not any(n.name == parent for n in self.nodes):
            raise ValueError(f"parent {parent!r} of {name!r} does not exist")

    def group(self, name: str, parent: str | None = None) -> str:
        self._check(name, parent)
        self.nodes.append(Node(name, parent))
        return name

    def part(self, name: str, parent: str | None, mesh: Mesh, colour: str) -> str:
        self._check(name, parent)
        self.nodes.append(Node(name, parent, mesh, colour))
        return name

    def mesh_of(self, name: str) -> Mesh:
        for n in self.nodes:
            if n.name == name and n.mesh is not None:
                return n.mesh
        raise KeyError(name)

    @property
    def parts(self) -> list[Node]:
        return [n for n in self.nodes if n.mesh is not None]

    @property
    def triangles(self) -> int:
        return sum(len(n.mesh.faces) for n in self.parts)  # type: ignore[union-attr]

    def scene(self) -> trimesh.Scene:
        scene = trimesh.Scene()
        for n in self.nodes:
            parent = n.parent or scene.graph.base_frame
            if n.mesh is None:
                scene.graph.update(frame_from=parent, frame_to=n.name, matrix=np.eye(4))
                continue
            mesh = n.mesh.copy()
            mesh.apply_transform(Z_UP_TO_Y_UP)
            mesh.visual = trimesh.visual.TextureVisuals(
                material=PBRMaterial(
                    name=n.name,
                    baseColorFactor=rgba(n.colour),
                    metallicFactor=0.1,
                    roughnessFactor=0.8,
                )
            )
            scene.add_geometry(mesh, node_name=n.name, geom_name=n.name, parent_node_name=parent)
        return scene

    def save(self, path: Path) -> None:
        data = self.scene().export(file_type="glb")
        path.write_bytes(data)
        back = trimesh.load(path, force="scene")
        names = set(back.graph.nodes) - {back.graph.base_frame}
        expected = {n.name for n in self.nodes}
        if names != expected:
            raise RuntimeError(f"{path}: node names do not read back: {sorted(names ^ expected)}")


# --------------------------------------------------------------------------------------------
# Project file writer: readable YAML, checked by reading it back
# --------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_ ./()+-]*")
_RESERVED = {"yes", "no", "true", "false", "on", "off", "null", "y", "n", "none", "~"}


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = round(v, 3)
        return str(int(r)) if r == int(r) else repr(r)
    s = str(v)
    if _PLAIN.fullmatch(s) and s.lower() not in _RESERVED and not s.endswith(" "):
        return s
    return json.dumps(s)


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def _plain_value(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain_value(x) for k, x in v.items() if not k.startswith("#")}
    if isinstance(v, (list, tuple)):
        return [_plain_value(x) for x in v if not (isinstance(x, str) and x.startswith("#"))]
    if isinstance(v, float):
        r = round(v, 3)
        return int(r) if r == int(r) else r
    return v


_FOLDED = ("description", "caption", "text", "explanation")  # long texts: folded blocks


def _mapping_lines(d: dict[str, Any], indent: str) -> list[str]:
    """One key a line; small lists and mappings in flow style."""
    out = []
    for k, v in d.items():
        if k in _FOLDED and isinstance(v, str) and len(v) > 70:
            out.append(f"{indent}{k}: >-")
            out += [indent + "  " + line for line in textwrap.wrap(v, 92 - len(indent))]
        elif isinstance(v, dict) and (
            len(v) > 4 or any(isinstance(x, (dict, list)) for x in v.values())
        ):
            out.append(f"{indent}{k}:")
            out += _mapping_lines(v, indent + "  ")
        elif isinstance(v, list) and v and isinstance(v[0], (dict, str)) and k != "range":
            out.append(f"{indent}{k}:")
            out += _list_lines(v, indent + "  ")
        else:
            out.append(f"{indent}{k}: {_flow(v)}")
    return out


def _list_lines(items: list[Any], indent: str) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, str) and item.startswith("#"):
            out.append(f"{indent}{item}")
        elif isinstance(item, dict):
            lines = _mapping_lines(item, indent + "  ")
            out.append(indent + "- " + lines[0][len(indent) + 2 :])
            out += lines[1:]
        else:
            out.append(f"{indent}- {_flow(item)}")
    return out


def project_text(header: str, data: dict[str, Any]) -> str:
    """The project file: a header comment, then ``data`` with one blank line between sections.

    List items that are strings starting with ``#`` are written as comments.
    """
    import yaml

    lines = [f"# {line}" if line else "#" for line in header.strip().splitlines()]
    lines.append(SCHEMA_COMMENT)
    for key, value in data.items():
        if isinstance(value, (dict, list)) and value:
            lines.append("")
        lines += _mapping_lines({key: value}, "")
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != _plain_value(data):
        raise RuntimeError("the project YAML does not read back as written")
    return text


def sensor(
    sid: str,
    name: str,
    quantity: str,
    unit: str,
    component: str,
    range_: tuple[float, float],
    warning: dict[str, float] | None = None,
    alarm: dict[str, float] | None = None,
    colormap: str | None = None,
    position: Vec | None = None,
    stale_after: float | None = None,
) -> dict[str, Any]:
    s: dict[str, Any] = {
        "id": sid,
        "name": name,
        "quantity": quantity,
        "unit": unit,
        "component": component,
    }
    if position is not None:
        s["position"] = [round(float(c), 2) for c in position]
    s["range"] = list(range_)
    if warning:
        s["warning"] = warning
    if alarm:
        s["alarm"] = alarm
    if colormap:
        s["colormap"] = colormap
    if stale_after:
        s["stale_after"] = stale_after
    return s


def view(name: str, position: Vec, focal_point: Vec, up: Vec = (0, 0, 1)) -> dict[str, Any]:
    return {
        "name": name,
        "position": [round(float(c), 1) for c in position],
        "focal_point": [round(float(c), 1) for c in focal_point],
        "up": [round(float(c), 3) for c in up],
    }


def shot(lo: Vec, hi: Vec, azimuth: float, elevation: float, margin: float = 1.0) -> dict[str, Any]:
    """A tour step's camera framing the box [lo, hi] from a direction (see :func:`framing`)."""
    position, focal = framing(lo, hi, azimuth, elevation, margin=margin)
    return {
        "position": [round(float(c), 1) for c in position],
        "focal_point": [round(float(c), 1) for c in focal],
    }


def orbit(focal: Vec, azimuth: float, elevation: float, distance: float) -> list[float]:
    """A camera position around ``focal``: azimuth from +X towards +Y, elevation above XY."""
    az, el = math.radians(azimuth), math.radians(elevation)
    f = np.asarray(focal, float)
    d = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    return list(f + distance * d)


def framing(
    lo: Vec,
    hi: Vec,
    azimuth: float,
    elevation: float,
    aspect: float = 1.6,
    margin: float = 1.08,
    points: np.ndarray | None = None,
) -> tuple[list[float], list[float]]:
    """Camera position and focal point that frame the box [lo, hi] from a direction.

    With ``points``, those points are framed (the box still sets the focal point). Assumes the
    usual 30 degree vertical view angle and a window ``aspect`` times wider than high.
    """
    lo_, hi_ = np.asarray(lo, float), np.asarray(hi, float)
    focal = (lo_ + hi_) / 2
    az, el = math.radians(azimuth), math.radians(elevation)
    back = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.cross((0.0, 0.0, 1.0), back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    if points is None:
        points = np.array(
            [
                [x, y, z]
                for x in (lo_[0], hi_[0])
                for y in (lo_[1], hi_[1])
                for z in (lo_[2], hi_[2])
            ]
        )
    corners = np.asarray(points, float) - focal
    tan = math.tan(math.radians(15.0))
    need = 0.0
    depth = corners @ back  # towards the camera: more distance needed
    need = max(
        float(np.max(np.abs(corners @ up) / tan + depth)),
        float(np.max(np.abs(corners @ right) / (tan * aspect) + depth)),
    )
    distance = need * margin
    return list(focal + back * distance), list(focal)


def bounds_of(twin: Twin, names: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    parts = [n for n in twin.parts if names is None or n.name in set(names)]
    b = np.array([n.mesh.bounds for n in parts])  # type: ignore[union-attr]
    return b[:, 0].min(axis=0), b[:, 1].max(axis=0)


# --------------------------------------------------------------------------------------------
# The mine
# --------------------------------------------------------------------------------------------

# the spiral decline: a rectangle north-west of the shaft
RAMP_X0, RAMP_X1, RAMP_Y0, RAMP_Y1 = -48.0, -14.0, 22.0, 52.0
RAMP_TURN = 2 * ((RAMP_X1 - RAMP_X0) + (RAMP_Y1 - RAMP_Y0))
# moving parts: the skips' x in the shaft and the height of their floor at the tip (depth 0);
# the loader parked on the portal pad, facing east (heading 0), where its path starts
SKIP_X = (0.6, -1.8)
SKIP_TIP_Z = 21.0
SKIP_DEPTH = 188.0  # at the loading pocket
LOADER_REST = (-10.0, 22.0, 0.0)

ROCK = "#8a7f72"
FLOOR = "#6f665c"
CONCRETE = "#a8a6a0"
STEEL_RED = "#b0412e"
YELLOW = "#e0b020"
ORANGE = "#d9702a"
FAN_BLUE = "#4f7fa8"
PUMP_GREEN = "#3f8f5f"
WATER = "#3d78b8"
ORE = "#9b5a3c"
DARK = "#2c2f33"
STEEL = "#8d959e"
WHITE = "#dcdcd6"
BUILDING = "#c9c2b0"
ROOF = "#5d6770"

LEVEL_Z = (-40.0, -80.0, -120.0, -160.0)
BOTTOM = LEVEL_Z[-1]
DRIFT_W = 5.0  # drift width (m)
WALL_H = 2.6  # height of the cut-away drift walls (m)
WALL_T = 0.4
FLOOR_T = 0.5


def drift(
    p0: Vec,
    p1: Vec,
    width: float = DRIFT_W,
    gaps_left: Sequence[tuple[float, float]] = (),
    gaps_right: Sequence[tuple[float, float]] = (),
    walls: bool = True,
) -> Mesh:
    """A cut-away drift: floor slab and two side walls (no back), from floor point p0 to p1.

    ``gaps_*`` are (distance along the drift, width) openings in the left (+side) or right wall
    where another drift joins.
    """
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    frame = _frame(b - a)
    side, up, along = frame[:, 0], frame[:, 1], frame[:, 2]
    length = float(np.linalg.norm(b - a))
    parts = [beam(a - up * FLOOR_T / 2, b - up * FLOOR_T / 2, width + 2 * WALL_T, FLOOR_T)]
    if walls:
        for sign, gaps in ((1.0, gaps_left), (-1.0, gaps_right)):
            spans = [(0.0, length)]
            for centre, w in gaps:
                cut = (centre - w / 2, centre + w / 2)
                spans = [
                    piece
                    for s0, s1 in spans
                    for piece in ((s0, min(s1, cut[0])), (max(s0, cut[1]), s1))
                    if piece[1] - piece[0] > 0.2
                ]
            off = sign * side * (width / 2 + WALL_T / 2) + up * WALL_H / 2
            for s0, s1 in spans:
                parts.append(beam(a + along * s0 + off, a + along * s1 + off, WALL_T, WALL_H))
    return cat(parts)


def floor_with_hole(
    x0: float, x1: float, y0: float, y1: float, z: float, hole: float, walls: str = ""
) -> Mesh:
    """A chamber floor (top at z) with a square hole of half-size ``hole`` round the shaft."""
    t = FLOOR_T
    parts = [
        aabb(x0, y0, z - t, -hole, y1, z),
        aabb(hole, y0, z - t, x1, y1, z),
        aabb(-hole, y0, z - t, hole, -hole, z),
        aabb(-hole, hole, z - t, hole, y1, z),
    ]
    if "s" in walls:
        parts.append(aabb(x0, y0 - WALL_T, z, x1, y0, z + WALL_H))
    return cat(parts)


def chamber(
    x0: float, x1: float, y0: float, y1: float, z: float, open_sides: str, walls_h: float = WALL_H
) -> Mesh:
    """A rectangular excavation: floor plus walls on every side but ``open_sides`` (n/s/e/w)."""
    t = WALL_T
    parts = [aabb(x0 - t, y0 - t, z - FLOOR_T, x1 + t, y1 + t, z)]
    if "s" not in open_sides:
        parts.append(aabb(x0 - t, y0 - t, z, x1 + t, y0, z + walls_h))
    if "n" not in open_sides:
        parts.append(aabb(x0 - t, y1, z, x1 + t, y1 + t, z + walls_h))
    if "w" not in open_sides:
        parts.append(aabb(x0 - t, y0, z, x0, y1, z + walls_h))
    if "e" not in open_sides:
        parts.append(aabb(x1, y0, z, x1 + t, y1, z + walls_h))
    return cat(parts)


def headframe() -> Mesh:
    parts = []
    h = 30.0
    legs = [(-3.0, -3.0), (3.0, -3.0), (3.0, 3.0), (-3.0, 3.0)]
    for x, y in legs:
        parts.append(aabb(x - 0.35, y - 0.35, 0.0, x + 0.35, y + 0.35, h))
    for z in np.arange(6.0, h, 6.0):  # girts
        for (xa, ya), (xb, yb) in zip(legs, legs[1:] + legs[:1], strict=True):
            parts.append(beam((xa, ya, z), (xb, yb, z), 0.25, 0.35))
    for z0 in np.arange(0.0, h - 1, 6.0):  # X bracing on the four faces
        z1 = z0 + 6.0
        for (xa, ya), (xb, yb) in zip(legs, legs[1:] + legs[:1], strict=True):
            parts.append(
                beam(
                    (xa, ya, z0), (xb, yb, z1), 0.18, 0.18, up=(0, 0, 1) if xa == xb else (1, 0, 0)
                )
            )
            parts.append(
                beam(
                    (xb, yb, z0), (xa, ya, z1), 0.18, 0.18, up=(0, 0, 1) if xa == xb else (1, 0, 0)
                )
            )
    for y in (-3.0, 3.0):  # back legs towards the hoist
        parts.append(beam((-3.0, y, h - 2), (-17.0, y, 0.0), 0.6, 0.6, up=(0, 1, 0)))
        parts.append(
            beam((-10.0, y, (h - 2) / 2), (-3.0, y, (h - 2) / 2 + 2), 0.25, 0.25, up=(0, 1, 0))
        )
    parts.append(aabb(-4.0, -4.0, h, 4.0, 4.0, h + 0.5))  # sheave deck
    parts.append(aabb(-4.0, -4.0, h + 0.5, -3.8, 4.0, h + 1.5))  # deck rails
    parts.append(aabb(3.8, -4.0, h + 0.5, 4.0, 4.0, h + 1.5))
    for x, y in legs:  # foundations
        parts.append(aabb(x - 0.9, y - 0.9, -0.6, x + 0.9, y + 0.9, 0.3))
    return cat(parts)


def sheaves(x: float, z: float, ys: Sequence[float], r: float) -> Mesh:
    parts = []
    for y in ys:
        parts.append(tube((x, y - 0.2, z), (x, y + 0.2, z), r - 0.25, r, 48))
        parts.append(cyl((x, y - 0.25, z), (x, y + 0.25, z), 0.35, 24))
        for k in range(6):  # spokes
            a = math.pi * k / 6
            d = np.array([math.cos(a), 0, math.sin(a)]) * (r - 0.2)
            parts.append(
                beam(np.array([x, y, z]) - d, np.array([x, y, z]) + d, 0.12, 0.12, up=(0, 1, 0))
            )
        parts.append(aabb(x - 0.3, y - 0.5, 30.5, x + 0.3, y + 0.5, z))  # bearing pedestal
    return cat(parts)


def building(
    x0: float, y0: float, x1: float, y1: float, h: float, roof_h: float, ridge_along_x: bool = True
) -> Mesh:
    parts = [aabb(x0, y0, 0.0, x1, y1, h)]
    if ridge_along_x:
        prof = [(y0 - 0.4, h), (y1 + 0.4, h), ((y0 + y1) / 2, h + roof_h)]
        parts.append(extrude_yz(prof, x0 - 0.4, x1 + 0.4))
    else:
        prof = [(x0 - 0.4, h), (x1 + 0.4, h), ((x0 + x1) / 2, h + roof_h)]
        parts.append(extrude_xz(prof, y0 - 0.4, y1 + 0.4))
    return cat(parts)


def fan_unit(x0: float, x1: float, y: float, zc: float, r: float) -> Mesh:
    """An axial fan along +X from x0 to x1: inlet bell, casing with flanges, hub and blades."""
    s = 1.0
    length = x1 - x0
    a = x0
    parts = [
        frustum((a - s * 1.0, y, zc), (a, y, zc), r * 1.45, r * 1.02, 40),  # inlet bell
        tube((a, y, zc), (a + s * length, y, zc), r * 0.93, r, 40),  # casing
        tube((a + s * 0.15, y, zc), (a - s * 0.15, y, zc), r, r + 0.15, 40),  # flanges
        tube((a + s * (length - 0.15), y, zc), (a + s * (length + 0.15), y, zc), r, r + 0.15, 40),
        cyl((a + s * 0.4, y, zc), (a + s * (length - 0.4), y, zc), r * 0.38, 32),  # hub / motor
        frustum((a + s * 0.4, y, zc), (a + s * 0.1, y, zc), r * 0.38, r * 0.1, 24),  # nose cone
    ]
    for k in range(8):  # blades
        ang = 2 * math.pi * k / 8
        d = np.array([0.0, math.cos(ang), math.sin(ang)])
        c = np.array([a + s * length * 0.45, y, zc])
        parts.append(beam(c + d * r * 0.35, c + d * r * 0.9, 0.5, 0.06, up=(1, 0, 0)))
    parts.append(
        aabb(
            min(x0, x1) + 0.3,
            y - r * 0.7,
            zc - r - 0.3,
            max(x0, x1) - 0.3,
            y + r * 0.7,
            zc - r + 0.05,
        )
    )
    return cat(parts)


def pump_set(x: float, y0: float, z: float) -> Mesh:
    """A horizontal multistage pump with its motor (along +Y from y0) on a baseplate."""
    zc = z + 0.75
    return cat(
        aabb(x - 0.55, y0 - 0.2, z, x + 0.55, y0 + 4.4, z + 0.3),  # baseplate
        cyl((x, y0, zc), (x, y0 + 1.5, zc), 0.45, 32),  # motor
        *(
            tube((x, y0 + 0.15 + 0.25 * k, zc), (x, y0 + 0.25 + 0.25 * k, zc), 0.45, 0.5, 32)
            for k in range(5)
        ),  # cooling fins
        aabb(x - 0.35, y0 + 0.3, z + 0.3, x + 0.35, y0 + 1.2, zc - 0.3),  # motor feet
        cyl((x, y0 + 1.5, zc), (x, y0 + 1.9, zc), 0.12, 16),  # coupling shaft
        tube((x, y0 + 1.6, zc), (x, y0 + 1.8, zc), 0.12, 0.22, 16),  # coupling
        cyl((x, y0 + 1.9, zc), (x, y0 + 3.6, zc), 0.36, 32),  # stage barrel
        *(
            tube((x, y0 + 2.0 + 0.3 * k, zc), (x, y0 + 2.1 + 0.3 * k, zc), 0.36, 0.42, 32)
            for k in range(6)
        ),  # stage rings
        cyl((x, y0 + 3.6, zc), (x, y0 + 4.1, zc), 0.5, 32),  # suction casing
        cyl((x, y0 + 4.0, zc), (x, y0 + 8.6, zc), 0.18, 20),  # suction pipe into the sump
        cyl((x, y0 + 2.0, zc), (x, y0 + 2.0, z + 3.6), 0.15, 20),  # discharge riser
        cyl((x, y0 + 2.0, z + 1.4), (x, y0 + 2.0, z + 1.8), 0.24, 20),  # discharge valve
    )


def ramp_path(turns: int) -> list[list[float]]:
    """The decline's centre line on its floor, from the loader's parking place at the portal
    down ``turns`` turns (the corners, clockwise from the south-east, dropping one level a
    turn), as the loader's x, y, z."""
    corners = [(RAMP_X1, RAMP_Y0), (RAMP_X0, RAMP_Y0), (RAMP_X0, RAMP_Y1), (RAMP_X1, RAMP_Y1)]
    spacing = -LEVEL_Z[0]
    path = [list(LOADER_REST), [RAMP_X1, RAMP_Y0, 0.0]]
    z = 0.0
    for k in range(4 * turns):
        a, b = np.array(corners[k % 4]), np.array(corners[(k + 1) % 4])
        z -= spacing * float(np.linalg.norm(b - a)) / RAMP_TURN
        path.append([float(b[0]), float(b[1]), round(z, 3)])
    return path


def vehicle_lhd(x: float, y: float, z: float, heading: float) -> Mesh:
    """A load-haul-dump loader, articulated, pointing along ``heading`` (degrees from +X)."""
    h = math.radians(heading)
    d = np.array([math.cos(h), math.sin(h), 0.0])
    s = np.array([-math.sin(h), math.cos(h), 0.0])
    c = np.array([x, y, z])
    parts = [
        beam(c - d * 4.5 + (0, 0, 1.2), c - d * 0.3 + (0, 0, 1.2), 2.4, 1.3),  # engine frame
        beam(c - d * 0.3 + (0, 0, 1.0), c + d * 3.0 + (0, 0, 1.0), 2.2, 0.9),  # front frame
        beam(c + d * 3.0 + (0, 0, 0.9), c + d * 5.0 + (0, 0, 1.1), 2.9, 1.4),  # bucket
        beam(
            c - d * 1.2 + s * 0.7 + (0, 0, 2.2), c - d * 0.2 + s * 0.7 + (0, 0, 2.2), 1.0, 1.3
        ),  # cab
    ]
    for along in (-3.2, 1.8):
        for side in (-1.25, 1.25):
            p = c + d * along + s * side + (0, 0, 0.8)
            parts.append(cyl(p - s * 0.3, p + s * 0.3, 0.8, 24))
    return cat(parts)


def drill_rig(x: float, y: float, z: float, heading: float) -> Mesh:
    h = math.radians(heading)
    d = np.array([math.cos(h), math.sin(h), 0.0])
    s = np.array([-math.sin(h), math.cos(h), 0.0])
    c = np.array([x, y, z])
    parts = [beam(c - d * 3.5 + (0, 0, 1.1), c + d * 1.5 + (0, 0, 1.1), 2.2, 1.2)]
    parts.append(
        beam(c - d * 3.3 + s * 0.6 + (0, 0, 2.2), c - d * 2.0 + s * 0.6 + (0, 0, 2.2), 1.0, 1.0)
    )
    for side in (-0.6, 0.6):  # two booms with feeds
        p0 = c + d * 1.5 + s * side + (0, 0, 1.5)
        p1 = c + d * 4.0 + s * side * 1.6 + (0, 0, 2.4)
        parts.append(beam(p0, p1, 0.25, 0.25))
        parts.append(beam(p1 - d * 1.5 + (0, 0, 0.25), p1 + d * 1.5 + (0, 0, 0.25), 0.2, 0.2))
    for along in (-2.5, 0.8):
        for side in (-1.1, 1.1):
            p = c + d * along + s * side + (0, 0, 0.55)
            parts.append(cyl(p - s * 0.25, p + s * 0.25, 0.55, 20))
    return cat(parts)


def haul_truck(p0: Vec, p1: Vec) -> Mesh:
    """A haul truck on a ramp from rear axle point p0 towards p1 (floor level)."""
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    frame = _frame(b - a)
    side, up, along = frame[:, 0], frame[:, 1], frame[:, 2]
    parts = [
        beam(a + up * 1.3, a + along * 5.5 + up * 1.3, 2.6, 0.8),  # chassis
        beam(a - along * 1.0 + up * 2.3, a + along * 4.0 + up * 2.3, 2.8, 1.8),  # dump box
        beam(a + along * 4.2 + up * 1.9, a + along * 6.4 + up * 1.9, 2.4, 1.6),  # engine/cab
    ]
    for s_ in (0.0, 4.8):
        for k in (-1.2, 1.2):
            p = a + along * s_ + side * k + up * 0.75
            parts.append(cyl(p - side * 0.3, p + side * 0.3, 0.75, 24))
    return cat(parts)


def conveyor_section(x0: float, x1: float, y: float, z: float) -> Mesh:
    """A troughed belt conveyor section along X: stringers, legs, idlers and the belt."""
    w = 1.2
    top = z + 1.2
    parts = [
        aabb(x0, y - w / 2 - 0.1, top - 0.25, x1, y - w / 2, top),  # stringers
        aabb(x0, y + w / 2, top - 0.25, x1, y + w / 2 + 0.1, top),
        aabb(x0, y - w / 2 + 0.05, top + 0.18, x1, y + w / 2 - 0.05, top + 0.24),  # carrying belt
        aabb(x0, y - w / 2 + 0.05, z + 0.5, x1, y + w / 2 - 0.05, z + 0.54),  # return belt
    ]
    n = max(2, int((x1 - x0) / 1.5))
    for k in range(n):
        x = x0 + (k + 0.5) * (x1 - x0) / n
        parts.append(cyl((x, y - w / 2, top + 0.08), (x, y + w / 2, top + 0.08), 0.07, 12))
        if k % 2 == 0:
            parts.append(cyl((x, y - w / 2, z + 0.45), (x, y + w / 2, z + 0.45), 0.06, 12))
            for side in (-1, 1):
                parts.append(
                    aabb(
                        x - 0.05,
                        y + side * (w / 2 + 0.05) - 0.05,
                        z,
                        x + 0.05,
                        y + side * (w / 2 + 0.05) + 0.05,
                        top,
                    )
                )
    return cat(parts)


def build_mine() -> tuple[Twin, dict[str, Any]]:
    t = Twin()
    # ---------------------------------------------------------------- surface
    t.group("surface")
    outline = []
    x0, x1, y0, y1 = -72.0, 104.0, -78.0, 64.0
    for a, b in (
        ((x0, y0), (x1, y0)),
        ((x1, y0), (x1, y1)),
        ((x1, y1), (x0, y1)),
        ((x0, y1), (x0, y0)),
    ):
        outline.append(beam((*a, -0.15), (*b, -0.15), 1.0, 0.3))
    for x in np.arange(x0 + 22.0, x1 - 1, 22.0):  # survey grid ticks along the edges
        outline.append(aabb(x - 0.4, y0 - 1.5, -0.3, x + 0.4, y0 + 1.5, 0.0))
        outline.append(aabb(x - 0.4, y1 - 1.5, -0.3, x + 0.4, y1 + 1.5, 0.0))
    for y in np.arange(y0 + 22.0, y1 - 1, 22.0):
        outline.append(aabb(x0 - 1.5, y - 0.4, -0.3, x0 + 1.5, y + 0.4, 0.0))
        outline.append(aabb(x1 - 1.5, y - 0.4, -0.3, x1 + 1.5, y + 0.4, 0.0))
    t.part("surface_ground_outline", "surface", cat(outline), "#6b8f4e")
    t.part("surface_shaft_pad", "surface", floor_with_hole(-9, 10, -9, 9, 0.0, 4.3), CONCRETE)
    t.part("surface_headframe", "surface", headframe(), STEEL_RED)
    t.part("surface_sheaves", "surface", sheaves(-1.0, 32.2, (-0.9, 0.9), 1.6), STEEL)
    t.part("surface_hoist_house", "surface", building(-46, -8, -34, 8, 9.0, 3.0), BUILDING)
    t.part(
        "surface_hoist_drum",
        "surface",
        cat(
            cyl((-30, -1.8, 3.0), (-30, 1.8, 3.0), 2.2, 48),
            cyl((-30, -2.0, 3.0), (-30, -1.8, 3.0), 2.6, 48),
            cyl((-30, 1.8, 3.0), (-30, 2.0, 3.0), 2.6, 48),
            cyl((-30, -3.2, 3.0), (-30, 3.2, 3.0), 0.35, 16),
            aabb(-31.0, -3.6, 0.0, -29.0, -2.6, 3.0),
            aabb(-31.0, 2.6, 0.0, -29.0, 3.6, 3.0),
            aabb(-33.5, -4.0, -0.4, -26.5, 4.0, 0.0),
        ),
        STEEL,
    )
    t.part(
        "surface_hoist_motor",
        "surface",
        cat(cyl((-30, 3.6, 3.0), (-30, 6.6, 3.0), 1.5, 40), aabb(-31.4, 4.0, 0.0, -28.6, 6.2, 1.6)),
        FAN_BLUE,
    )
    t.part(
        "surface_hoist_brakes",
        "surface",
        cat(aabb(-28.0, y - 0.25, 0.0, -27.3, y + 0.25, 4.6) for y in (-1.9, 1.9)),
        YELLOW,
    )
    ropes = []
    for y in (-0.9, 0.9):
        ropes.append(cyl((-2.6, y, 32.2), (-30.0, y * 1.2, 5.2), 0.07, 8))
    t.part("surface_hoist_ropes", "surface", cat(ropes), DARK)
    t.part(
        "surface_ore_bin",
        "surface",
        cat(
            aabb(5.0, -2.5, 12.0, 10.0, 2.5, 19.0),
            frustum((7.5, 0.0, 12.0), (7.5, 0.0, 9.0), 2.9, 0.8, 4),
            *(
                aabb(x - 0.2, y - 0.2, 0.0, x + 0.2, y + 0.2, 12.0)
                for x in (5.2, 9.8)
                for y in (-2.3, 2.3)
            ),
            beam((3.0, 0.0, 22.0), (6.0, 0.0, 19.0), 1.2, 0.3),  # skip dump chute
        ),
        STEEL,
    )
    t.part(
        "surface_conveyor",
        "surface",
        cat(
            beam((8.0, 0.0, 8.6), (42.0, -10.0, 17.5), 1.4, 0.35),
            beam((8.0, 0.0, 8.9), (42.0, -10.0, 17.8), 1.2, 0.08),
            *(
                aabb(x - 0.2, y - 0.2, 0.0, x + 0.2, y + 0.2, z)
                for x, y, z in ((16.0, -2.35, 10.6), (25.0, -5.0, 13.0), (34.0, -7.65, 15.4))
            ),
            beam((38.0, -8.8, 17.6), (45.0, -10.9, 18.3), 2.4, 1.4),  # gallery over the stockpile
        ),
        YELLOW,
    )
    t.part(
        "surface_stockpile",
        "surface",
        frustum((46.0, -12.0, 0.0), (46.0, -12.0, 15.5), 13.0, 0.6, 40),
        ORE,
    )
    t.part(
        "surface_workshop",
        "surface",
        cat(
            building(-34, -36, -12, -22, 8.0, 2.5),
            aabb(-30.0, -22.0, 0.0, -24.0, -21.9, 6.0),
            aabb(-21.0, -22.0, 0.0, -15.0, -21.9, 6.0),
        ),
        BUILDING,
    )
    t.part("surface_office", "surface", building(-4, 22, 10, 30, 4.0, 1.5), WHITE)
    t.part(
        "surface_substation",
        "surface",
        cat(
            aabb(14.0, 14.0, 0.0, 26.0, 24.0, 0.3),
            *(aabb(x, 16.0, 0.3, x + 2.4, 19.0, 3.2) for x in (15.0, 19.0)),
            *(cyl((x + 1.2, 17.5, 3.2), (x + 1.2, 17.5, 4.6), 0.2, 12) for x in (15.0, 19.0)),
            aabb(23.0, 20.0, 0.3, 25.5, 23.5, 3.0),
        ),
        "#7d8a70",
    )
    t.part("surface_compressor_house", "surface", building(18, -34, 30, -26, 5.0, 1.5), BUILDING)
    t.part(
        "surface_air_receiver",
        "surface",
        cat(
            cyl((33.5, -30.0, 0.6), (33.5, -30.0, 5.6), 1.0, 32),
            frustum((33.5, -30.0, 5.6), (33.5, -30.0, 6.2), 1.0, 0.4, 32),
            cyl((30.0, -30.0, 3.0), (33.5, -30.0, 3.0), 0.12, 12),
            aabb(32.3, -31.2, 0.0, 34.7, -28.8, 0.6),
        ),
        STEEL,
    )
    t.part(
        "surface_water_tank",
        "surface",
        cat(
            cyl((28.0, 38.0, 0.0), (28.0, 38.0, 5.0), 5.0, 48),
            tube((28.0, 38.0, 5.0), (28.0, 38.0, 5.4), 4.8, 5.1, 48),
        ),
        "#6e94b5",
    )
    t.part(
        "surface_ramp_portal",
        "surface",
        cat(
            # the decline leaves the surface going west from the south-east corner of its spiral
            aabb(RAMP_X1 - 6.0, RAMP_Y0 - 5.0, 0.0, RAMP_X1 - 4.0, RAMP_Y0 - 3.0, 6.5),
            aabb(RAMP_X1 - 6.0, RAMP_Y0 + 3.0, 0.0, RAMP_X1 - 4.0, RAMP_Y0 + 5.0, 6.5),
            aabb(RAMP_X1 - 6.5, RAMP_Y0 - 5.5, 6.5, RAMP_X1 - 3.5, RAMP_Y0 + 5.5, 8.0),
            aabb(RAMP_X1 - 4.0, RAMP_Y0 - 6.0, -0.3, RAMP_X1 + 6.0, RAMP_Y0 + 6.0, 0.0),
        ),
        CONCRETE,
    )
    # main ventilation fan on the upcast shaft
    vx, vy = 46.0, 46.0
    t.part(
        "surface_vent_collar",
        "surface",
        cat(
            cyl((vx, vy, -1.0), (vx, vy, 1.5), 3.4, 40), cyl((vx, vy, 1.5), (vx, vy, 5.3), 2.0, 40)
        ),
        CONCRETE,
    )
    t.part(
        "surface_fan_duct",
        "surface",
        cat(
            cyl((vx, vy, 4.0), (vx + 4.0, vy, 4.0), 1.9, 40),
            cyl((vx - 2.1, vy, 4.0), (vx + 0.2, vy, 4.0), 1.95, 40),
        ),
        STEEL,
    )
    t.part("surface_main_fan", "surface", fan_unit(vx + 4.0, vx + 10.0, vy, 4.0, 2.1), FAN_BLUE)
    t.part(
        "surface_main_fan_motor",
        "surface",
        cat(
            cyl((vx + 7.0, vy + 3.0, 2.1), (vx + 7.0, vy + 6.4, 2.1), 1.1, 32),
            aabb(vx + 5.8, vy + 3.2, 0.0, vx + 8.2, vy + 6.2, 1.0),
            cyl((vx + 7.0, vy + 2.0, 2.1), (vx + 7.0, vy + 3.0, 2.1), 0.2, 12),
        ),
        FAN_BLUE,
    )
    t.part(
        "surface_fan_evase",
        "surface",
        frustum((vx + 10.0, vy, 4.0), (vx + 16.0, vy, 8.5), 2.1, 3.6, 40),
        STEEL,
    )

    # ---------------------------------------------------------------- shaft
    t.group("shaft")
    t.part("shaft_collar", "shaft", tube((0, 0, -3.0), (0, 0, 1.2), 3.0, 4.2, 48), CONCRETE)
    rings = [
        tube((0, 0, z - 0.3), (0, 0, z + 0.3), 3.0, 3.3, 40)
        for z in np.arange(-8.0, BOTTOM - 14.0, -9.0)
    ]
    rings.append(cyl((0, 0, BOTTOM - 16.0), (0, 0, BOTTOM - 15.0), 3.3, 40))
    t.part("shaft_lining", "shaft", cat(rings), CONCRETE)
    guides = []
    for x, y in ((0.6, -2.0), (0.6, 2.0)):
        guides.append(aabb(x - 0.08, y - 0.08, BOTTOM - 14.0, x + 0.08, y + 0.08, 30.0))
    for y in (-0.1, 0.1):
        guides.append(aabb(-0.8 - 0.08, y - 0.08, BOTTOM - 14.0, -0.8 + 0.08, y + 0.08, 30.0))
    for z in np.arange(-4.0, BOTTOM - 14.0, -9.0):  # buntons
        guides.append(aabb(-2.9, -0.1, z - 0.1, 2.9, 0.1, z + 0.1))
    t.part("shaft_guides", "shaft", cat(guides), STEEL)
    # two skips in counterbalance, drawn at the tip (their rest); the `motion:` block lowers
    # each by its depth sensor, and the simulator's trips run them one up while one goes down
    t.group("shaft_skip", "shaft")
    for n, xc in ((1, SKIP_X[0]), (2, SKIP_X[1])):
        t.part(
            f"shaft_skip_{n}",
            "shaft_skip",
            cat(
                aabb(xc - 0.7, -1.6, SKIP_TIP_Z, xc + 0.7, -0.25, SKIP_TIP_Z + 5.5),
                frustum((xc, -0.9, SKIP_TIP_Z + 5.5), (xc, -0.9, SKIP_TIP_Z + 6.4), 0.6, 0.15, 4),
            ),
            ORANGE,
        )
    t.part(
        "shaft_cage",
        "shaft",
        cat(aabb(-0.2, 0.25, -97.0, 1.5, 1.9, -92.0), aabb(-0.3, 0.15, -92.0, 1.6, 2.0, -91.6)),
        YELLOW,
    )
    t.part(
        "shaft_ropes",
        "shaft",
        cat(
            # the skips' head and tail ropes run the whole shaft (a friction hoist's tail ropes
            # hang below the skips and loop in the sump)
            *(cyl((x, -0.9, 32.2), (x, -0.9, BOTTOM - 11.0), 0.07, 8) for x in SKIP_X),
            cyl((0.6, 0.9, 32.2), (0.6, 0.9, -91.6), 0.07, 8),
        ),
        DARK,
    )
    t.part(
        "shaft_rising_main",
        "shaft",
        cat(
            cyl((-2.2, 1.7, BOTTOM + 3.0), (-2.2, 1.7, 1.0), 0.2, 16),
            cyl((-2.2, 1.7, 1.0), (-2.2, 11.0, 1.0), 0.2, 16),
            cyl((-2.2, 11.0, 1.0), (23.0, 33.0, 1.0), 0.2, 16),
        ),
        "#3c6e8f",
    )
    t.part(
        "shaft_sump", "shaft", cyl((0, 0, BOTTOM - 14.9), (0, 0, BOTTOM - 11.5), 2.95, 40), WATER
    )
    t.part(
        "shaft_loading_pocket",
        "shaft",
        cat(
            aabb(3.5, -2.2, BOTTOM - 9.0, 8.0, 2.2, BOTTOM - 1.0),
            frustum((2.8, -0.9, BOTTOM - 6.0), (1.3, -0.9, BOTTOM - 7.5), 0.7, 0.4, 4),
        ),
        STEEL,
    )

    # ---------------------------------------------------------------- ventilation
    t.group("ventilation")
    t.part(
        "vent_shaft",
        "ventilation",
        tube((vx, vy, BOTTOM - 3.5), (vx, vy, -1.0), 2.4, 2.9, 40),
        ROCK,
    )

    # ---------------------------------------------------------------- ramp (spiral decline)
    t.group("ramp")
    # each turn goes round the corners once, dropping one level; landings at the corners
    corners = [RAMP_X1, RAMP_Y0], [RAMP_X1, RAMP_Y1], [RAMP_X0, RAMP_Y1], [RAMP_X0, RAMP_Y0]
    corners = [corners[0], corners[3], corners[2], corners[1]]  # clockwise from the south-east
    z = 0.0
    spacing = -LEVEL_Z[0]
    for turn in range(len(LEVEL_Z)):
        legs = []
        for k in range(4):
            a, b = np.array(corners[k]), np.array(corners[(k + 1) % 4])
            length = float(np.linalg.norm(b - a))
            drop = spacing * length / RAMP_TURN
            d = (b - a) / length
            z1 = z - drop
            pa = (*(a + d * 3.0), z - drop * 3.0 / length)
            pb = (*(b - d * 3.0), z1 + drop * 3.0 / length)
            legs.append(drift(pa, pb, 5.0))
            legs.append(aabb(b[0] - 3.0, b[1] - 3.0, z1 - FLOOR_T, b[0] + 3.0, b[1] + 3.0, z1))
            z = z1
        t.part(f"ramp_turn_{turn + 1}", "ramp", cat(legs), FLOOR)
    # a truck on the second turn, going down its first leg
    a, b = np.array(corners[0]), np.array(corners[1])
    d = (b - a) / np.linalg.norm(b - a)
    slope = spacing / RAMP_TURN
    p0 = a + d * 8.0
    p1 = a + d * 14.0
    t.part(
        "ramp_haul_truck",
        "ramp",
        haul_truck((*p0, LEVEL_Z[0] - 8.0 * slope + 0.1), (*p1, LEVEL_Z[0] - 14.0 * slope + 0.1)),
        YELLOW,
    )

    # a loader that drives the decline (see loader_path); drawn parked at the portal
    t.part("ramp_loader", "ramp", vehicle_lhd(*LOADER_REST, 0.0), YELLOW)

    # ---------------------------------------------------------------- levels
    ore_x = [54.0 + 8.0 * k for k in range(4)]
    sensor_pos: dict[str, tuple[float, float, float]] = {}
    for k, zl in enumerate(LEVEL_Z):
        n = k + 1
        g = t.group(f"level_{n}")
        xd = ore_x[k]
        station = cat(
            floor_with_hole(-5.0, 12.0, -6.0, 6.0, zl, 3.6),
            *(
                beam((x0_, y_, zl + WALL_H / 2), (x1_, y_, zl + WALL_H / 2), WALL_T, WALL_H)
                for y_, spans in (
                    (-6.2, [(-5.0, 12.0)]),
                    (6.2, [(-5.0, -3.0), (9.0, 12.0)] if n == 4 else [(-5.0, 12.0)]),
                )
                for x0_, x1_ in spans
            ),
        )
        t.part(f"l{n}_station", g, station, FLOOR)
        cross_gaps_left = [(30.0 - 12.0 + 4.0, 8.0)] if n == 3 else []
        cross_gaps_right = [(35.0 - 12.0 + 1.0, 12.0)] if n == 2 else []
        t.part(
            f"l{n}_crosscut",
            g,
            drift(
                (12.0, 0.0, zl),
                (xd, 0.0, zl),
                gaps_left=cross_gaps_left,
                gaps_right=cross_gaps_right,
            ),
            FLOOR,
        )
        # ore drive along strike (north-south); the crosscut joins on its west (left) side
        t.part(
            f"l{n}_ore_drive",
            g,
            drift(
                (xd, -38.0, zl),
                (xd, 38.0, zl),
                gaps_left=[(38.0, DRIFT_W)],
                gaps_right=[(38.0 + y, DRIFT_W) for y in (-24.0, 0.0, 24.0)],
            ),
            FLOOR,
        )
        for j, y in enumerate((-24.0, 0.0, 24.0), start=1):
            dp = cat(
                drift((xd + DRIFT_W / 2 + WALL_T, y, zl), (xd + 14.0, y, zl)),
                aabb(xd + 14.0, y - 3.0, zl - FLOOR_T, xd + 14.6, y + 3.0, zl + WALL_H),  # brow
            )
            t.part(f"l{n}_drawpoint_{j}", g, dp, FLOOR)
        t.part(
            f"l{n}_ramp_access",
            g,
            cat(
                drift(
                    (RAMP_X1, RAMP_Y0 - 3.0, zl),
                    (RAMP_X1, 0.0, zl),
                    gaps_left=[(RAMP_Y0 - 3.0, DRIFT_W)],
                ),
                drift((RAMP_X1 + DRIFT_W / 2 + WALL_T, 0.0, zl), (-5.0, 0.0, zl)),
            ),
            FLOOR,
        )
        t.part(
            f"l{n}_return_airway",
            g,
            drift((xd, 38.0 + WALL_T, zl), (vx + 2.0, vy - 2.0, zl)),
            FLOOR,
        )
        if n <= 3:
            fx = 22.0
            t.part(
                f"l{n}_vent_wall",
                g,
                cat(
                    aabb(fx + 1.5, -DRIFT_W / 2, zl, fx + 2.0, -1.35, zl + WALL_H),
                    aabb(fx + 1.5, 1.35, zl, fx + 2.0, DRIFT_W / 2, zl + WALL_H),
                    aabb(fx + 1.5, -1.35, zl + 2.85, fx + 2.0, 1.35, zl + WALL_H),
                ),
                CONCRETE,
            )
            t.part(f"l{n}_booster_fan", g, fan_unit(fx, fx + 3.6, 0.0, zl + 1.55, 1.2), FAN_BLUE)
        # gas and airflow sensors hang in the middle of their drift (its centre line, half the
        # wall height up), where a sensor field along the airways starts from
        sensor_pos[f"l{n}_methane"] = (xd, 24.0 - 4.0, zl + WALL_H / 2)
        sensor_pos[f"l{n}_co"] = (xd - 8.0, 0.0, zl + 2.9)
        sensor_pos[f"l{n}_airflow"] = (40.0, 0.0, zl + WALL_H / 2)
        sensor_pos[f"l{n}_air_temperature"] = (xd, -20.0, zl + 2.9)

    # level-specific equipment
    z1, z2, z3, z4 = LEVEL_Z
    t.part("l1_drill_rig", "level_1", drill_rig(ore_x[0], 14.0, z1, 90.0), YELLOW)
    t.part("l1_lhd", "level_1", vehicle_lhd(ore_x[0], -12.0, z1, -90.0), YELLOW)
    t.part(
        "l1_substation",
        "level_1",
        cat(
            aabb(7.5, 3.4, z1, 11.5, 5.6, z1 + 2.2),
            *(aabb(7.8 + 0.5 * i, 3.25, z1 + 0.3, 8.0 + 0.5 * i, 3.4, z1 + 1.9) for i in range(7)),
        ),
        "#7d8a70",
    )
    t.part("l2_workshop", "level_2", chamber(30.0, 42.0, -16.0, -2.5 - WALL_T, z2, "n"), FLOOR)
    t.part("l2_lhd", "level_2", vehicle_lhd(36.0, -9.0, z2, 180.0), YELLOW)
    t.part(
        "l2_workshop_bench",
        "level_2",
        cat(
            aabb(31.0, -15.4, z2, 41.0, -14.2, z2 + 1.0),
            aabb(31.0, -15.6, z2 + 1.0, 41.0, -15.4, z2 + 2.6),
        ),
        STEEL,
    )
    t.part("l3_refuge_cuddy", "level_3", chamber(22.0, 30.0, 2.5 + WALL_T, 11.0, z3, "s"), FLOOR)
    t.part(
        "l3_refuge_chamber",
        "level_3",
        cat(
            aabb(22.8, 5.0, z3, 29.2, 8.6, z3 + 2.7),
            aabb(25.2, 4.9, z3 + 0.1, 26.4, 5.0, z3 + 2.2),
            aabb(23.2, 8.6, z3 + 1.2, 25.0, 9.6, z3 + 2.4),  # air conditioning unit
        ),
        "#3fae6a",
    )
    # bottom level: crusher, conveyor, pump station and sumps
    xd4 = ore_x[3]
    t.part(
        "l4_crusher",
        "level_4",
        cat(
            aabb(xd4 - 1.6, -14.5, z4, xd4 + 1.6, -10.0, z4 + 2.8),
            frustum((xd4, -12.2, z4 + 5.0), (xd4, -12.2, z4 + 2.8), 2.6, 1.2, 4),
            cyl((xd4 - 2.0, -13.8, z4 + 2.0), (xd4 - 1.6, -13.8, z4 + 2.0), 1.3, 40),
            cyl((xd4 + 1.6, -13.8, z4 + 2.0), (xd4 + 2.0, -13.8, z4 + 2.0), 1.3, 40),
            cyl((xd4 - 2.1, -13.8, z4 + 2.0), (xd4 + 2.1, -13.8, z4 + 2.0), 0.25, 16),
        ),
        ORANGE,
    )
    t.part(
        "l4_crusher_motor",
        "level_4",
        cat(
            cyl((xd4 + 3.2, -16.6, z4 + 0.9), (xd4 + 3.2, -14.4, z4 + 0.9), 0.7, 32),
            aabb(xd4 + 2.4, -16.8, z4, xd4 + 4.0, -14.2, z4 + 0.3),
        ),
        FAN_BLUE,
    )
    t.part(
        "l4_transfer_chute",
        "level_4",
        cat(
            beam((xd4, -10.0, z4 + 1.6), (xd4 - 4.0, -1.6, z4 + 1.6), 1.4, 0.3),
            aabb(xd4 - 6.5, -2.6, z4, xd4 - 3.5, -0.6, z4 + 1.9),
        ),
        STEEL,
    )
    sec = np.linspace(xd4 - 6.0, 14.0, 7)
    for j in range(6):
        t.part(
            f"l4_conveyor_{j + 1:02d}",
            "level_4",
            conveyor_section(sec[j + 1], sec[j], -1.3, z4),
            YELLOW,
        )
    t.part(
        "l4_belt_drive",
        "level_4",
        cat(
            cyl((12.0, -2.2, z4 + 1.5), (12.0, -0.4, z4 + 1.5), 0.45, 32),
            aabb(11.0, -3.6, z4, 13.5, -2.3, z4 + 1.2),
            cyl((12.2, -5.2, z4 + 0.8), (12.2, -3.6, z4 + 0.8), 0.55, 32),
            aabb(10.5, -2.6, z4, 13.6, 0.0, z4 + 1.1),
        ),
        FAN_BLUE,
    )
    t.part("l4_pump_station", "level_4", chamber(-3.0, 9.0, 6.6, 16.0, z4, "sn"), FLOOR)
    for j, x in enumerate((0.0, 3.0, 6.0), start=1):
        t.part(f"l4_pump_{j}", "level_4", pump_set(x, 8.2, z4), PUMP_GREEN)
    t.part(
        "l4_pump_column",
        "level_4",
        cat(
            cyl((-1.0, 10.0, z4 + 3.6), (7.0, 10.0, z4 + 3.6), 0.24, 16),
            cyl((-2.2, 10.0, z4 + 3.6), (-1.0, 10.0, z4 + 3.6), 0.24, 16),
            cyl((-2.2, 10.0, z4 + 3.6), (-2.2, 1.7, z4 + 3.6), 0.2, 16),
            cyl((-2.2, 1.7, z4 + 3.6), (-2.2, 1.7, z4 + 3.0), 0.2, 16),
        ),
        "#3c6e8f",
    )
    for j, (sx0, sx1) in enumerate(((-3.0, 2.6), (3.4, 9.0)), start=1):
        sump = cat(
            aabb(sx0, 16.0, z4 - 4.0, sx1, 24.6, z4 - 3.6),
            aabb(sx0, 16.0, z4 - 3.6, sx1, 16.4, z4 + 0.6),
            aabb(sx0, 24.2, z4 - 3.6, sx1, 24.6, z4 + 0.6),
            aabb(sx0, 16.4, z4 - 3.6, sx0 + 0.4, 24.2, z4 + 0.6),
            aabb(sx1 - 0.4, 16.4, z4 - 3.6, sx1, 24.2, z4 + 0.6),
        )
        t.part(f"l4_sump_{j}", "level_4", sump, CONCRETE)
        t.part(
            f"l4_sump_{j}_water",
            "level_4",
            aabb(sx0 + 0.4, 16.4, z4 - 3.6, sx1 - 0.4, 24.2, z4 - 1.4),
            WATER,
        )
    t.part(
        "l4_substation",
        "level_4",
        cat(
            aabb(7.5, -5.6, z4, 10.5, -3.4, z4 + 2.2),
            *(
                aabb(7.8 + 0.5 * i, -3.4, z4 + 0.3, 8.0 + 0.5 * i, -3.25, z4 + 1.9)
                for i in range(5)
            ),
        ),
        "#7d8a70",
    )

    # ---------------------------------------------------------------- ore handling and orebody
    t.group("ore_handling")
    for k in range(3):
        a = (ore_x[k] + 1.0, -12.0, LEVEL_Z[k] + 0.2)
        b = (ore_x[k + 1] - 0.5, -12.0, LEVEL_Z[k + 1] + (5.0 if k == 2 else 0.2))
        t.part(
            f"orepass_{k + 1}",
            "ore_handling",
            cat(
                cyl(a, b, 1.1, 24),
                aabb(a[0] - 1.8, a[1] - 1.8, a[2] - 0.2, a[0] + 1.8, a[1] + 1.8, a[2] + 0.15),
            ),
            "#7b6a5a",
        )
    t.group("orebody")
    for k in range(3):
        ztop, zbot = LEVEL_Z[k] - 1.0, LEVEL_Z[k + 1] + WALL_H + 1.0
        for j, (ya, yb) in enumerate(((-34.0, -6.0), (6.0, 34.0)), start=1):
            xt, xb = ore_x[k] + 15.0, ore_x[k + 1] + 15.0
            w = 7.0
            # a dipping tabular stope: a parallelogram in the XZ plane, extruded along Y
            prof = [(xb - w / 2, zbot), (xb + w / 2, zbot), (xt + w / 2, ztop), (xt - w / 2, ztop)]
            m = extrude_xz(prof, ya, yb)
            t.part(f"stope_{k + 1}{k + 2}_{'s' if j == 1 else 'n'}", "orebody", m, ORE)

    # ---------------------------------------------------------------- project
    components = {
        "main_fan": {"name": "surface_main_fan", "label": "Main ventilation fan"},
        "hoist": {
            "glob": "surface/surface_hoist_*",
            "label": "Hoist installation (house, drum, motor, brakes, ropes)",
        },
        "l4_conveyor": {
            "glob": "level_4/l4_conveyor_*",
            "label": "Level 4 conveyor idler sections",
        },
        "rising_main": {
            "regex": "l4_pump_column|shaft_rising_main",
            "label": "Dewatering rising main",
        },
    }

    def gas(n: int) -> list[dict[str, Any]]:
        return [
            sensor(
                f"l{n}_methane",
                f"Level {n} ore drive methane",
                "methane",
                "%LEL",
                f"l{n}_ore_drive",
                (0, 15),
                {"high": 10},
                {"high": 20},
                "inferno",
                sensor_pos[f"l{n}_methane"],
            ),
            sensor(
                f"l{n}_co",
                f"Level {n} crosscut carbon monoxide",
                "carbon monoxide",
                "ppm",
                f"l{n}_crosscut",
                (0, 40),
                {"high": 30},
                {"high": 50},
                "inferno",
                sensor_pos[f"l{n}_co"],
            ),
            sensor(
                f"l{n}_airflow",
                f"Level {n} crosscut airflow",
                "airflow",
                "m3/s",
                f"l{n}_crosscut",
                (0, 60),
                {"low": 20},
                {"low": 12},
                "viridis",
                sensor_pos[f"l{n}_airflow"],
            ),
            sensor(
                f"l{n}_air_temperature",
                f"Level {n} ore drive air temperature",
                "temperature",
                "degC",
                f"l{n}_ore_drive",
                (15, 35),
                {"high": 28},
                {"high": 32},
                "coolwarm",
                sensor_pos[f"l{n}_air_temperature"],
            ),
        ]

    def fan(n: int) -> list[dict[str, Any]]:
        c = f"l{n}_booster_fan"
        return [
            sensor(
                f"l{n}_fan_current",
                f"Level {n} booster fan motor current",
                "current",
                "A",
                c,
                (0, 100),
                {"high": 85},
                {"high": 95},
            ),
            sensor(
                f"l{n}_fan_vibration",
                f"Level {n} booster fan bearing vibration",
                "vibration",
                "mm/s",
                c,
                (0, 12),
                {"high": 7.1},
                {"high": 11},
                "plasma",
            ),
            sensor(
                f"l{n}_fan_bearing_temperature",
                f"Level {n} booster fan bearing temperature",
                "temperature",
                "degC",
                c,
                (20, 100),
                {"high": 85},
                {"high": 95},
                "coolwarm",
            ),
        ]

    sensors: list[Any] = [
        "# --- Surface: main fan, hoist, compressed air, water",
        sensor(
            "main_fan_current",
            "Main fan motor current",
            "current",
            "A",
            "main_fan",
            (0, 200),
            {"high": 175},
            {"high": 190},
        ),
        sensor(
            "main_fan_vibration",
            "Main fan bearing vibration",
            "vibration",
            "mm/s",
            "main_fan",
            (0, 12),
            {"high": 7.1},
            {"high": 11},
            "plasma",
        ),
        sensor(
            "main_fan_bearing_temperature",
            "Main fan bearing temperature",
            "temperature",
            "degC",
            "surface_main_fan_motor",
            (20, 100),
            {"high": 85},
            {"high": 95},
            "coolwarm",
        ),
        sensor(
            "return_airflow",
            "Upcast shaft return airflow",
            "airflow",
            "m3/s",
            "vent_shaft",
            (0, 400),
            {"low": 180},
            {"low": 140},
        ),
        sensor(
            "return_co",
            "Upcast shaft carbon monoxide",
            "carbon monoxide",
            "ppm",
            "vent_shaft",
            (0, 40),
            {"high": 30},
            {"high": 50},
            "inferno",
            (vx, vy, -20.0),
        ),
        sensor(
            "hoist_motor_current",
            "Hoist motor current",
            "current",
            "A",
            "surface_hoist_motor",
            (0, 1200),
            {"high": 1000},
            {"high": 1100},
        ),
        sensor(
            "hoist_winding_temperature",
            "Hoist motor winding temperature",
            "temperature",
            "degC",
            "surface_hoist_motor",
            (20, 150),
            {"high": 130},
            {"high": 145},
            "coolwarm",
        ),
        sensor(
            "hoist_drum_vibration",
            "Hoist drum bearing vibration",
            "vibration",
            "mm/s",
            "hoist",
            (0, 12),
            {"high": 7.1},
            {"high": 11},
            "plasma",
        ),
        sensor(
            "compressor_current",
            "Compressor motor current",
            "current",
            "A",
            "surface_compressor_house",
            (0, 300),
            {"high": 260},
            {"high": 285},
        ),
        sensor(
            "air_receiver_pressure",
            "Compressed air receiver pressure",
            "pressure",
            "bar",
            "surface_air_receiver",
            (4, 10),
            {"low": 5.5, "high": 9},
            {"low": 4.5, "high": 9.5},
        ),
        sensor(
            "surface_tank_level",
            "Settling tank water level",
            "water level",
            "m",
            "surface_water_tank",
            (0, 5),
            {"high": 4.3},
            {"high": 4.7},
            "blues",
        ),
        "# --- Shaft",
        sensor(
            "shaft_sump_level",
            "Shaft bottom sump water level",
            "water level",
            "m",
            "shaft_sump",
            (0, 4),
            {"high": 3.2},
            {"high": 3.6},
            "blues",
        ),
        "# --- Levels: gas, ventilation and climate at every level",
        *gas(1),
        *gas(2),
        *gas(3),
        *gas(4),
        "# --- Booster fans (levels 1-3)",
        *fan(1),
        *fan(2),
        *fan(3),
        sensor(
            "l3_fan_speed",
            "Level 3 booster fan speed (drive feedback)",
            "speed",
            "%",
            "l3_booster_fan",
            (0, 100),
            {"low": 45},
            {"low": 35},
        ),
        "# --- Level 4: pump station, sumps, crusher, conveyor",
        *(
            s
            for j in (1, 2, 3)
            for s in (
                sensor(
                    f"pump_{j}_current",
                    f"Pump {j} motor current",
                    "current",
                    "A",
                    f"l4_pump_{j}",
                    (0, 250),
                    {"high": 215},
                    {"high": 235},
                ),
                sensor(
                    f"pump_{j}_winding_temperature",
                    f"Pump {j} motor winding temperature",
                    "temperature",
                    "degC",
                    f"l4_pump_{j}",
                    (20, 150),
                    {"high": 130},
                    {"high": 145},
                    "coolwarm",
                ),
                sensor(
                    f"pump_{j}_discharge_pressure",
                    f"Pump {j} discharge pressure",
                    "pressure",
                    "kPa",
                    f"l4_pump_{j}",
                    (0, 2500),
                    {"high": 2200},
                    {"high": 2400},
                ),
            )
        ),
        sensor(
            "rising_main_pressure",
            "Rising main pressure at the pump station",
            "pressure",
            "kPa",
            "rising_main",
            (0, 2500),
            {"high": 2200},
            {"high": 2400},
        ),
        sensor(
            "sump_1_level",
            "Sump 1 water level",
            "water level",
            "m",
            "l4_sump_1_water",
            (0, 4),
            {"high": 3.2},
            {"high": 3.6},
            "blues",
        ),
        sensor(
            "sump_2_level",
            "Sump 2 water level",
            "water level",
            "m",
            "l4_sump_2_water",
            (0, 4),
            {"high": 3.2},
            {"high": 3.6},
            "blues",
        ),
        sensor(
            "crusher_current",
            "Crusher motor current",
            "current",
            "A",
            "l4_crusher_motor",
            (0, 300),
            {"high": 260},
            {"high": 285},
        ),
        sensor(
            "crusher_vibration",
            "Crusher frame vibration",
            "vibration",
            "mm/s",
            "l4_crusher",
            (0, 18),
            {"high": 11.2},
            {"high": 18},
            "plasma",
        ),
        sensor(
            "conveyor_drive_current",
            "Level 4 conveyor drive current",
            "current",
            "A",
            "l4_belt_drive",
            (0, 250),
            {"high": 220},
            {"high": 240},
        ),
        sensor(
            "conveyor_idler_temperature",
            "Level 4 conveyor idler temperature (hottest)",
            "temperature",
            "degC",
            "l4_conveyor",
            (10, 90),
            {"high": 60},
            {"high": 75},
            "coolwarm",
        ),
        "# --- Ore passes, substations, refuge",
        *(
            sensor(
                f"orepass_{j}_level",
                f"Ore pass {j} fill level",
                "level",
                "%",
                f"orepass_{j}",
                (0, 100),
                {"high": 85},
                {"high": 95},
            )
            for j in (1, 2, 3)
        ),
        sensor(
            "l1_transformer_temperature",
            "Level 1 substation transformer temperature",
            "temperature",
            "degC",
            "l1_substation",
            (20, 120),
            {"high": 95},
            {"high": 110},
            "coolwarm",
        ),
        sensor(
            "l4_transformer_temperature",
            "Level 4 substation transformer temperature",
            "temperature",
            "degC",
            "l4_substation",
            (20, 120),
            {"high": 95},
            {"high": 110},
            "coolwarm",
        ),
        sensor(
            "refuge_oxygen",
            "Refuge chamber oxygen",
            "oxygen",
            "% vol",
            "l3_refuge_chamber",
            (17, 24),
            {"low": 19.5, "high": 23},
            {"low": 18, "high": 23.5},
        ),
        sensor(
            "refuge_temperature",
            "Refuge chamber temperature",
            "temperature",
            "degC",
            "l3_refuge_chamber",
            (15, 35),
            {"high": 30},
            {"high": 33},
            "coolwarm",
        ),
        "# Moving parts (see motion:): the skips' depths below the tip (overtravel past the"
        " loading pocket or over the tip is an alarm), the loader's place on the decline",
        *(
            sensor(
                f"skip_{n}_depth",
                f"Skip {n} depth below the tip",
                "depth",
                "m",
                f"shaft_skip_{n}",
                (-5, 200),
                {"low": -1, "high": 191},
                {"low": -3, "high": 194},
            )
            for n in (1, 2)
        ),
        sensor(
            "loader_x",
            "Loader position east",
            "position",
            "m",
            "ramp_loader",
            (-60, 0),
            {"low": -52, "high": -4},
            {"low": -56, "high": -2},
        ),
        sensor(
            "loader_y",
            "Loader position north",
            "position",
            "m",
            "ramp_loader",
            (10, 60),
            {"low": 16, "high": 56},
            {"low": 12, "high": 58},
        ),
        sensor(
            "loader_z",
            "Loader elevation",
            "position",
            "m",
            "ramp_loader",
            (-170, 10),
            {"low": -165, "high": 5},
            {"low": -168, "high": 8},
        ),
        sensor(
            "loader_heading",
            "Loader heading",
            "heading",
            "deg",
            "ramp_loader",
            (-200, 200),
            None,
            {"low": -190, "high": 190},
        ),
        sensor(
            "loader_grade",
            "Loader grade (climb along the decline)",
            "grade",
            "deg",
            "ramp_loader",
            (-30, 30),
            {"low": -20, "high": 20},
            {"low": -25, "high": 25},
        ),
    ]

    lo, hi = bounds_of(t)
    every = np.vstack([n.mesh.vertices for n in t.parts])  # type: ignore[union-attr]
    overview = framing(lo, hi, -125.0, 30.0, points=every, margin=1.05)
    shaft = framing((-20.0, -10.0, BOTTOM - 16.0), (20.0, 10.0, 34.0), -150.0, 12.0, margin=1.0)
    level_3 = framing(
        (-8.0, -40.0, LEVEL_Z[2]),
        (ore_x[2] + 16.0, 40.0, LEVEL_Z[2] + 3.0),
        -100.0,
        35.0,
        margin=0.95,
    )
    pumps = framing((-4.0, 4.0, BOTTOM - 4.0), (10.0, 25.0, BOTTOM + 4.0), -40.0, 42.0, margin=0.9)
    project: dict[str, Any] = {
        "twinviewer": 1,
        "name": "Underground mine (demo)",
        "description": (
            "A generic underground hard-rock mine: headframe, hoist and shaft, four levels of "
            "drifts with ore passes and stopes, a spiral decline, booster fans, crusher and "
            "conveyor, and the dewatering pump station with its sumps on the bottom level. "
            "The built-in simulator feeds every sensor; the level 3 booster fan develops a "
            "bearing fault that passes its alarm limit just under three minutes into the feed; "
            "an operator can slow the fan down from the twin (command l3_fan_speed), and it "
            "vibrates less and its bearing cools. A ventilation model of the methane in the "
            "airways runs beside the feed."
        ),
        "models": ["mine.glb"],
        "components": components,
        "sensors": sensors,
        "sources": [
            {
                "type": "simulator",
                "id": "simulator",
                "rate": 5,
                "speed": 1,
                "seed": 7,
                "cycle": 120,
                "faults": [{"sensor": "l3_fan_vibration", "start": 20, "duration": 150}],
                # the level 3 booster fan obeys its speed command: its drive ramps 3 %/s; the
                # fan laws give vibration ~ speed^2, airflow ~ speed, motor current ~ speed^3,
                # and its bearing heats ~ speed, slowly
                "setpoints": [
                    {
                        "sensor": "l3_fan_speed",
                        "initial": 100,
                        "ramp": 3,
                        "drives": [
                            {"sensor": "l3_fan_vibration", "power": 2, "lag": 6},
                            {"sensor": "l3_fan_bearing_temperature", "power": 1, "lag": 40},
                            {"sensor": "l3_fan_current", "power": 3, "lag": 3},
                            {"sensor": "l3_airflow", "power": 1, "lag": 8},
                        ],
                    }
                ],
                "trips": [
                    # the skips: 30 s winding, 12 s loading or tipping; skip 2 half a cycle on
                    {
                        "sensors": ["skip_1_depth"],
                        "path": [[0], [SKIP_DEPTH]],
                        "travel": 30,
                        "dwell": 12,
                    },
                    {
                        "sensors": ["skip_2_depth"],
                        "path": [[0], [SKIP_DEPTH]],
                        "travel": 30,
                        "dwell": 12,
                        "phase": 0.5,
                    },
                    # the loader: from the portal down one turn of the decline to level 1
                    {
                        "sensors": ["loader_x", "loader_y", "loader_z"],
                        "heading": "loader_heading",
                        "grade": "loader_grade",
                        "path": ramp_path(1),
                        "travel": 45,
                        "dwell": 15,
                    },
                ],
            },
            *live_links("mine", sensors, "json", "twinviewer/mine/{component}/{sensor}"),
        ],
        "views": [
            view("Overview", *overview),
            view("Shaft", *shaft),
            view("Level 3", *level_3),
            view("Pump station", *pumps),
        ],
        "display": {"background": "#1e2126", "timezone": "Australia/Perth"},
        "overlays": [
            "# Computed by assets/solvers/mine_methane.py (advection-dispersion on the airways)",
            {
                "name": "Methane (ventilation model)",
                "result": "sim/methane.vtu.series",
                "field": "methane",
                "quantity": "methane",
                "unit": "%LEL",
                "show": "surface",
                "components": [
                    *(
                        f"l{n}_{part}"
                        for n in range(1, 5)
                        for part in (
                            "crosscut",
                            "ore_drive",
                            "drawpoint_1",
                            "drawpoint_2",
                            "drawpoint_3",
                            "return_airway",
                        )
                    ),
                    "vent_shaft",
                ],
                "time": {"origin": "session", "scale": "simulator", "repeat": [120, 600]},
                "colormap": "plasma",
                "range": [0, 10],
                "glyphs": "air_velocity",
            },
        ],
        "fidelity": {"tolerance": 0.05},
        "tours": [mine_tour()],
        "commands": [
            "# published to the mqtt source's broker (twinviewer simulate --mqtt obeys it) on a",
            "# topic outside the ones the twin subscribes to; read back by the fan drive",
            {
                "id": "l3_fan_speed",
                "label": "Level 3 booster fan speed",
                "component": "l3_booster_fan",
                "unit": "%",
                "min": 40,
                "max": 100,
                "max_step": 30,
                "target": {
                    "type": "mqtt",
                    "source": "mqtt",
                    "topic": "twinviewer/cmd/mine/l3_fan_speed",
                },
                "readback": "l3_fan_speed",
                "tolerance": 1,
                "timeout": 20,
                "role": "operator",
                "confirm": "confirm",
            },
            *INSECURE_NOTE,
        ],
        **INSECURE_DEMO,
        "motion": [
            "# the skips hang at the tip at rest; each is lowered by its depth",
            *(
                {
                    "kind": "translate",
                    "component": f"shaft_skip_{n}",
                    "sensor": f"skip_{n}_depth",
                    "axis": [0, 0, -1],
                    "limits": [0, 200],
                }
                for n in (1, 2)
            ),
            "# the loader's point on the portal pad is carried to its x, y, z, turned by its"
            " heading, then tilted by the grade (in its own frame: listed after, composed inside)",
            {
                "kind": "place",
                "component": "ramp_loader",
                "x": "loader_x",
                "y": "loader_y",
                "z": "loader_z",
                "heading": "loader_heading",
                "origin": list(LOADER_REST),
            },
            {
                "kind": "rotate",
                "component": "ramp_loader",
                "sensor": "loader_grade",
                "axis": [0, -1, 0],
                "origin": list(LOADER_REST),
            },
        ],
    }
    return t, project


def mine_tour() -> dict[str, Any]:
    """The mine's induction tour. The level 3 booster fan fault of the simulator (start 20 s,
    150 s to its alarm) passes the warning at 95 s and the alarm at 170 s of the feed."""
    z3 = LEVEL_Z[2]
    return {
        "name": "Your first day underground",
        "description": (
            "An induction for new starters: how you get down, how the mine is laid out, where "
            "the air comes from, where to go when it goes wrong, and what the booster fan on "
            "level 3 told us before it failed."
        ),
        "steps": [
            {
                "title": "The mine",
                "caption": (
                    "Everything you see above the grey ground line is the **surface**: the "
                    "headframe over the main shaft, the hoist house, the workshops and, at the "
                    "far corner, the main ventilation fan. Below it, four **levels** 40 m apart "
                    "reach 160 m down into the orebody (the brown blocks are the stopes being "
                    "mined). Colours show each part's worst sensor: green normal, amber "
                    "warning, red alarm, grey no data."
                ),
                "view": "Overview",
                "transition": {"type": "cut"},
                "colour": "status",
                "dwell": 10,
            },
            {
                "title": "The shaft: how you get down",
                "caption": (
                    "The **main shaft** is your way in and out. The **cage** carries people "
                    "and the **skip** hoists ore; both hang on ropes that run over the sheaves "
                    "at the top of the headframe to the hoist drum. The hoist motor current "
                    "rises when the skip lifts a full load: a cage trip draws far less. Listen "
                    "for the bell signals and never step into the cage until the onsetter "
                    "says so."
                ),
                "view": "Shaft",
                "transition": {"type": "fly", "duration": 3},
                "highlight": ["shaft_cage", "shaft_skip", "surface_headframe", "hoist"],
                "callouts": ["hoist_motor_current", "hoist_drum_vibration"],
                "dwell": 12,
            },
            {
                "title": "Four levels, one layout",
                "caption": (
                    "Every level has the same layout. From the **shaft station** a "
                    "**crosscut** runs east to the **ore drive** along the orebody; loaders "
                    "muck ore at the **drawpoints** and tip it into the ore passes, which drop "
                    "it to the crusher on level 4. The **ramp** (the spiral decline) joins all "
                    "levels for vehicles and is your second way out. Learn your level's "
                    "number: every sign and every radio call uses it."
                ),
                "camera": shot(
                    (-52.0, -40.0, LEVEL_Z[-1] - 5.0), (95.0, 56.0, 2.0), -105.0, 18.0, margin=1.2
                ),
                "transition": {"type": "fly", "duration": 4},
                "hide": ["surface"],
                "highlight": ["l1_crosscut", "l2_crosscut", "l3_crosscut", "l4_crosscut", "ramp"],
                "transparent": ["orebody"],
                "dwell": 12,
            },
            {
                "title": "Ventilation: fresh air in, used air out",
                "caption": (
                    "The **main fan** on the surface pulls air up the **ventilation shaft**. "
                    "Fresh air comes down the main shaft and the ramp, runs along each "
                    "crosscut, pushed by the level's **booster fan**, past the workings, and "
                    "leaves by the return airways. The crosscut airflow must stay above 20 "
                    "m3/s (warning) and 12 m3/s (alarm): less air means gas and heat build "
                    "up. The colours now show airflow."
                ),
                "camera": shot(
                    (-8.0, -12.0, LEVEL_Z[-1] - 5.0), (66.0, 56.0, 12.0), -62.0, 16.0, margin=1.15
                ),
                "transition": {"type": "fly", "duration": 4},
                "hide": ["surface_ground_outline", "orebody"],
                "highlight": [
                    "main_fan",
                    "vent_shaft",
                    "l1_booster_fan",
                    "l2_booster_fan",
                    "l3_booster_fan",
                ],
                "colour": "airflow",
                "callouts": ["return_airflow", "l3_airflow", "l3_methane"],
                "dwell": 12,
            },
            {
                "title": "The refuge chamber on level 3",
                "caption": (
                    "If fire or bad air cuts you off from the shaft and the ramp, go to the "
                    "nearest **refuge chamber**: a sealed room with its own air supply, water "
                    "and a phone to the surface. This one is in a cuddy beside the level 3 "
                    "crosscut. Its oxygen must read between 19.5 and 23 % and its "
                    "temperature below 30 degC: a chamber that fails either is reported at "
                    "once. Find the chamber on your level before your first shift."
                ),
                "camera": shot(
                    (12.0, -8.0, z3 - 4.0), (38.0, 14.0, z3 + 4.0), -65.0, 35.0, margin=1.1
                ),
                "transition": {"type": "fly", "duration": 4, "easing": "in_out"},
                "isolate": ["level_3"],
                "highlight": ["l3_refuge_chamber"],
                "callouts": ["refuge_oxygen", "refuge_temperature"],
                "dwell": 10,
                "question": {
                    "text": (
                        "Smoke fills the level 3 crosscut and you cannot reach the shaft "
                        "station. What do you do?"
                    ),
                    "answers": [
                        "Walk out up the ramp through the smoke",
                        "Go into the refuge chamber, seal it and call the surface",
                        "Wait beside the booster fan, where the air moves",
                    ],
                    "correct": 2,
                    "explanation": (
                        "Never walk through smoke. The refuge chamber keeps you alive with "
                        "its own air until the rescue team reaches you; the phone tells them "
                        "where you are."
                    ),
                },
            },
            {
                "title": "The booster fan incident, replayed",
                "caption": (
                    "Two minutes of the recorded history at 10x. The **level 3 booster fan** "
                    "bearing was wearing out. Watch its **vibration**: it creeps up, passes "
                    "the warning (7.1 mm/s) about 95 s into the feed and the alarm (11 mm/s) "
                    "at about 170 s. The bearing temperature and the motor current hardly "
                    "move, and the crosscut airflow still looks fine: vibration is the first "
                    "and, for a long time, the only sign. The fan was stopped and its bearing "
                    "changed before it seized and cut level 3's air."
                ),
                "camera": shot((10.0, -10.0, z3 - 6.0), (36.0, 12.0, z3 + 4.0), -125.0, 28.0),
                "transition": {"type": "fly", "duration": 3},
                "isolate": ["level_3"],
                "highlight": ["l3_booster_fan"],
                "colour": "status",
                "time": {"from": "start+60s", "to": "start+190s", "speed": 10},
                "callouts": [
                    "l3_fan_vibration",
                    "l3_fan_bearing_temperature",
                    "l3_fan_current",
                    "l3_airflow",
                ],
                "question": {
                    "text": "What showed the bearing fault first?",
                    "answers": [
                        "The bearing temperature",
                        "The bearing vibration",
                        "The crosscut airflow",
                    ],
                    "correct": 2,
                    "explanation": (
                        "A worn rolling bearing vibrates long before it runs hot, and the "
                        "airflow only drops once the fan slows or stops. The vibration passed "
                        "its warning more than a minute before its alarm."
                    ),
                },
            },
            {
                "title": "Back to live",
                "caption": (
                    "That is the mine as it is now. Keep the **alarm list** in view: an "
                    "amber warning is the time to act, not the red alarm. Replay this tour "
                    "whenever you like, and ask your supervisor to walk the level 3 escape "
                    "route with you."
                ),
                "view": "Overview",
                "transition": {"type": "fly", "duration": 4},
                "time": "live",
                "colour": "status",
                "dwell": "wait",
            },
        ],
    }


def live_links(name: str, sensors: list[Any], fmt: str, topic: str) -> list[dict[str, Any]]:
    """MQTT and OPC UA sources, disabled: started on request (``open --source mqtt``), fed by
    ``twinviewer simulate`` publishing this twin to a broker or serving it over OPC UA."""
    return [
        {
            "type": "mqtt",
            "id": "mqtt",
            "enabled": False,
            "url": "mqtt://127.0.0.1:1883",
            "topic": topic,
            "format": fmt,
            "qos": 1,
            "client_id": f"twinviewer-{name}",
        },
        {
            "type": "opcua",
            "id": "opcua",
            "enabled": False,
            "endpoint": "opc.tcp://127.0.0.1:4840/twinviewer",
            "sampling_interval": 100,
            "nodes": {s["id"]: f"ns=2;s={s['id']}" for s in sensors if isinstance(s, dict)},
        },
    ]


# The demos' live links run on loopback without TLS or authentication, so they must allow
# commands over insecure links (every command dialog then warns). A production project must not:
# its commands go only over links with TLS/security and authentication.
INSECURE_DEMO: dict[str, Any] = {
    "command_settings": {"allow_insecure_commands": True},
}
INSECURE_NOTE = (
    "# command_settings (below) allows commands over insecure links only because this demo's",
    "# links run on loopback without TLS or authentication: a production project must not",
)

LIVE_USAGE = """
Live links: the simulator source runs by default; the mqtt and opcua sources are disabled until
asked for. Feed them from a second terminal, then open the twin on that source:
  twinviewer simulate {file} --mqtt mqtt://127.0.0.1:1883
  twinviewer open {file} --source mqtt
  twinviewer simulate {file} --opcua-server opc.tcp://127.0.0.1:4840/twinviewer
  twinviewer open {file} --source opcua
Commands (the twin obeys its simulator, the MQTT publisher and the OPC UA server) need a user
with the command's role; no user file ships with the demo, make one:
  twinviewer users {file} add operator --role operator
  twinviewer users {file} add engineer --role engineer
"""

MINE_HEADER = """\
TwinViewer demo twin: an underground mine.

Generated by assets/generate_demos.py together with mine.glb; edit the script and run it again
rather than editing this file by hand. Units: metres, Z up; the shaft collar is at the origin.
""" + LIVE_USAGE.format(file="mine.twin.yaml")


# --------------------------------------------------------------------------------------------
# The locomotive
# --------------------------------------------------------------------------------------------

LIVERY = "#1f4e8c"
LIVERY_STRIPE = "#e8c22c"
BOGIE_GREY = "#3a3d42"
WHEEL_STEEL = "#9aa1a8"
MACHINE_GREY = "#6d747c"
ENGINE_GREEN = "#4b6b52"
GLASS = "#1a2430"
BLACK = "#1b1c1e"

GAUGE = 1.435
WHEEL_R = 0.508
AXLES = (8.4, 6.5, 4.6, -4.6, -6.5, -8.4)  # x of axles 1..6 (front to rear)
BOGIES = {"bogie_front": 6.5, "bogie_rear": -6.5}
DECK = 1.55  # walkway / deck top


def wheelset(x: float) -> Mesh:
    z = WHEEL_R
    y_w = GAUGE / 2 + 0.03
    parts = [cyl((x, -1.05, z), (x, 1.05, z), 0.095, 24)]
    for s in (-1, 1):
        yi, yo = s * (y_w - 0.07), s * (y_w + 0.07)
        parts.append(cyl((x, yi, z), (x, yo, z), WHEEL_R, 64))  # tread
        parts.append(cyl((x, yi - s * 0.03, z), (x, yi, z), WHEEL_R + 0.03, 64))  # flange
        parts.append(cyl((x, yo, z), (x, yo + s * 0.06, z), 0.2, 24))  # hub
    return cat(parts)


def axle_box(x: float) -> Mesh:
    parts = []
    for s in (-1, 1):
        parts.append(cyl((x, s * 0.98, WHEEL_R), (x, s * 1.22, WHEEL_R), 0.17, 32))
        parts.append(cyl((x, s * 1.22, WHEEL_R), (x, s * 1.26, WHEEL_R), 0.12, 24))
        parts.append(aabb(x - 0.2, s * 1.0, WHEEL_R + 0.1, x + 0.2, s * 1.2, WHEEL_R + 0.28))
    return cat(parts)


def traction_motor(x_axle: float, toward: float) -> Mesh:
    """A nose-suspended traction motor beside its axle, on the side of ``toward`` (+1/-1)."""
    xc = x_axle + toward * 0.62
    z = WHEEL_R + 0.02
    return cat(
        cyl((xc, -0.62, z), (xc, 0.62, z), 0.43, 40),
        cyl((xc, 0.62, z), (xc, 0.72, z), 0.3, 32),
        aabb(x_axle - 0.16, -0.55, z - 0.28, x_axle + 0.16, -0.35, z + 0.2),  # axle bearing cap
        aabb(x_axle - 0.25, 0.64, z - 0.45, x_axle + 0.25, 0.78, z + 0.2),  # gear case
        aabb(xc + toward * 0.35, -0.3, z + 0.25, xc + toward * 0.6, 0.3, z + 0.45),  # nose
    )


def bogie_frame(xc: float) -> Mesh:
    parts = []
    zb, zt = 0.62, 1.02
    axles = (xc - 1.9, xc, xc + 1.9)
    for s in (-1, 1):
        y0, y1 = sorted((s * 1.03, s * 1.27))
        parts.append(aabb(xc - 2.85, y0, zb + 0.24, xc + 2.85, y1, zt))  # top chord
        for xa, xb in zip(axles, axles[1:], strict=False):  # lower chords and ties between axles
            parts.append(aabb(xa + 0.3, y0, 0.36, xb - 0.3, y1, 0.56))
            parts.append(
                beam(
                    (xa + 0.3, (y0 + y1) / 2, 0.46),
                    ((xa + xb) / 2, (y0 + y1) / 2, zt - 0.1),
                    0.2,
                    0.16,
                    up=(0, 1, 0),
                )
            )
            parts.append(
                beam(
                    (xb - 0.3, (y0 + y1) / 2, 0.46),
                    ((xa + xb) / 2, (y0 + y1) / 2, zt - 0.1),
                    0.2,
                    0.16,
                    up=(0, 1, 0),
                )
            )
        for x in axles:  # pedestal jaws round the axle boxes
            parts.append(aabb(x - 0.38, y0, 0.3, x - 0.24, y1, zb + 0.24))
            parts.append(aabb(x + 0.24, y0, 0.3, x + 0.38, y1, zb + 0.24))
            parts.append(cyl((x, s * 1.15, WHEEL_R + 0.28), (x, s * 1.15, zb + 0.24), 0.1, 16))
        for x in (xc - 2.85, xc + 2.85):  # ends
            parts.append(aabb(x - 0.08, y0, zb + 0.1, x + 0.08, y1, zt))
    for x in (xc - 0.95, xc + 0.95):  # transoms
        parts.append(aabb(x - 0.15, -1.03, zb + 0.35, x + 0.15, 1.03, zt - 0.05))
    for x in (xc - 2.6, xc + 2.6):  # end beams
        parts.append(aabb(x - 0.1, -1.03, zb + 0.45, x + 0.1, 1.03, zt - 0.05))
    parts.append(cyl((xc, 0.0, zt - 0.05), (xc, 0.0, 1.2), 0.45, 32))  # centre pivot
    for s in (-1, 1):  # secondary (flexicoil) springs
        for dx in (-0.95, 0.95):
            parts.append(cyl((xc + dx, s * 1.15, zt), (xc + dx, s * 1.15, 1.24), 0.16, 20))
    return cat(parts)


def brake_units(xc: float) -> Mesh:
    parts = []
    for x in (xc - 1.9, xc, xc + 1.9):
        for s in (-1, 1):
            y = s * (GAUGE / 2 + 0.03)
            xs = x + (0.6 if x < xc + 1.0 else -0.6)
            parts.append(
                aabb(xs - 0.06, y - 0.08, WHEEL_R - 0.25, xs + 0.06, y + 0.08, WHEEL_R + 0.25)
            )
            parts.append(cyl((xs, s * 1.32, 0.85), (xs, s * 1.5, 0.85), 0.11, 20))  # cylinder
            parts.append(cyl((xs, s * 1.5, 0.85), (xs, s * 1.56, 0.85), 0.07, 16))
    return cat(parts)


def build_locomotive() -> tuple[Twin, dict[str, Any]]:
    t = Twin()
    # ---------------------------------------------------------------- track
    t.group("track")
    ballast = extrude_yz([(-2.4, -0.62), (2.4, -0.62), (1.7, -0.2), (-1.7, -0.2)], -14.0, 14.0)
    t.part("track_ballast", "track", ballast, "#7b7468")
    t.part(
        "track_sleepers",
        "track",
        cat(aabb(x - 0.13, -1.3, -0.2, x + 0.13, 1.3, -0.02) for x in np.arange(-13.8, 13.81, 0.6)),
        "#8f8b82",
    )
    rails = []
    for s in (-1, 1):
        y = s * (GAUGE / 2 + 0.035)
        rails += [
            aabb(-14.0, y - 0.075, -0.18, 14.0, y + 0.075, -0.16),  # foot
            aabb(-14.0, y - 0.009, -0.16, 14.0, y + 0.009, -0.045),  # web
            aabb(-14.0, y - 0.036, -0.045, 14.0, y + 0.036, 0.0),  # head
        ]
    t.part("track_rails", "track", cat(rails), "#a0a4a8")

    # ---------------------------------------------------------------- running gear
    axle_no = {x: i + 1 for i, x in enumerate(AXLES)}
    for g, xc in BOGIES.items():
        t.group(g)
        t.part(f"{g}_frame", g, bogie_frame(xc), BOGIE_GREY)
        t.part(f"{g}_brake_units", g, brake_units(xc), BLACK)
        for x in (xc + 1.9, xc, xc - 1.9):
            n = axle_no[x]
            t.part(f"wheelset_{n}", g, wheelset(x), WHEEL_STEEL)
            t.part(f"axle_box_{n}", g, axle_box(x), MACHINE_GREY)
            # motors hang on the bogie-centre side of the outer axles; the middle one faces front
            toward = -1.0 if x > xc + 0.1 else (1.0 if x < xc - 0.1 else 1.0)
            t.part(f"traction_motor_{n}", g, traction_motor(x, toward), "#5a6470")

    # ---------------------------------------------------------------- underframe and body
    t.group("body")
    t.part(
        "underframe",
        "body",
        cat(
            aabb(-10.0, -1.55, DECK - 0.22, 10.0, 1.55, DECK),  # deck plate
            aabb(-10.0, -1.3, 1.05, 10.0, -0.95, DECK - 0.22),  # centre sills
            aabb(-10.0, 0.95, 1.05, 10.0, 1.3, DECK - 0.22),
            aabb(-10.1, -1.55, 1.0, -9.8, 1.55, DECK),  # end plates
            aabb(9.8, -1.55, 1.0, 10.1, 1.55, DECK),
        ),
        LIVERY,
    )
    t.part(
        "body_side_stripe",
        "body",
        cat(
            aabb(-10.0, s * 1.55 - 0.01, DECK - 0.22, 10.0, s * 1.55 + 0.01, DECK - 0.08)
            for s in (-1, 1)
        ),
        LIVERY_STRIPE,
    )
    for end, sgn in (("front", 1.0), ("rear", -1.0)):
        x_end = sgn * 10.1
        # a pilot (snow plough): a trapezoid profile in XZ extruded across the width
        xa, xb = x_end, x_end + sgn * 0.55
        prof = [(xa, 0.22), (xb, 0.9), (xb, DECK - 0.1), (xa, DECK - 0.1)]
        t.part(f"pilot_{end}", "body", extrude_xz(prof, -1.45, 1.45), LIVERY_STRIPE)
        xc = x_end + sgn * 0.55
        t.part(
            f"coupler_{end}",
            "body",
            cat(
                cyl((x_end, 0.0, 0.88), (xc + sgn * 0.25, 0.0, 0.88), 0.11, 20),
                aabb(
                    min(xc + sgn * 0.2, xc + sgn * 0.6),
                    -0.2,
                    0.7,
                    max(xc + sgn * 0.2, xc + sgn * 0.6),
                    0.25,
                    1.06,
                ),
                aabb(
                    min(xc + sgn * 0.45, xc + sgn * 0.6),
                    0.1,
                    0.7,
                    max(xc + sgn * 0.45, xc + sgn * 0.6),
                    0.38,
                    1.06,
                ),
            ),
            BLACK,
        )
        t.part(
            f"headlights_{end}",
            "body",
            cat(
                cyl(
                    (sgn * (9.8 if sgn > 0 else 9.62), y, DECK + (1.45 if sgn > 0 else 2.0)),
                    (
                        sgn * (9.8 if sgn > 0 else 9.62) + sgn * 0.12,
                        y,
                        DECK + (1.45 if sgn > 0 else 2.0),
                    ),
                    0.11,
                    20,
                )
                for y in (-0.3, 0.3)
            ),
            "#f4eeb0",
        )
    handrails = []
    for s in (-1, 1):
        y = s * 1.5
        for x0, x1 in ((-10.0, 4.2), (7.3, 10.0)):
            handrails.append(cyl((x0, y, DECK + 1.0), (x1, y, DECK + 1.0), 0.025, 8))
            for x in np.arange(x0, x1 + 0.01, (x1 - x0) / max(1, round((x1 - x0) / 1.8))):
                handrails.append(cyl((x, y, DECK), (x, y, DECK + 1.0), 0.025, 8))
        for x in (-9.6, 9.6):  # steps
            for k in range(3):
                zst = DECK - 0.35 - 0.33 * k
                handrails.append(aabb(x - 0.3, y - 0.12, zst - 0.04, x + 0.3, y + 0.12, zst))
            handrails.append(aabb(x - 0.33, s * 1.36, DECK - 1.1, x - 0.3, s * 1.55, DECK))
            handrails.append(aabb(x + 0.3, s * 1.36, DECK - 1.1, x + 0.33, s * 1.55, DECK))
    t.part("handrails_and_steps", "body", cat(handrails), LIVERY_STRIPE)

    # long hood, cut away on the left (-Y) side so the power unit is visible
    hood_x0, hood_x1 = -9.6, 4.2
    hy = 1.15
    hz1 = 3.9
    t.part("hood_right_wall", "body", aabb(hood_x0, hy - 0.05, DECK, hood_x1, hy, hz1), LIVERY)
    t.part(
        "hood_rear_wall",
        "body",
        cat(
            aabb(hood_x0 - 0.05, -hy, DECK, hood_x0, hy, hz1),
            aabb(hood_x0 - 0.07, -0.5, DECK + 0.6, hood_x0 - 0.05, 0.5, DECK + 1.8),
        ),
        LIVERY,
    )
    posts = [
        aabb(x - 0.06, -hy, DECK, x + 0.06, -hy + 0.1, hz1)
        for x in np.linspace(hood_x0 + 0.06, hood_x1 - 0.06, 7)
    ]
    posts.append(aabb(hood_x0, -hy, hz1 - 0.15, hood_x1, -hy + 0.1, hz1))
    posts.append(aabb(hood_x0, -hy, DECK, hood_x1, -hy + 0.1, DECK + 0.35))
    t.part("hood_left_frame", "body", cat(posts), LIVERY)
    roof_prof = rounded_rect(2.3, 0.36, 0.15, 3) + (0.0, hz1 + 0.03)
    for j, (x0, x1) in enumerate(((0.1, 4.2), (-5.6, 0.1)), start=1):
        t.part(f"hood_roof_{j}", "body", extrude_yz(roof_prof, x0, x1), LIVERY)
    # cab
    t.group("cab", "body")
    cab_x0, cab_x1, cab_z1 = 4.2, 7.3, 4.35
    t.part(
        "cab_body",
        "cab",
        cat(
            aabb(cab_x0, -1.5, DECK, cab_x1, 1.5, cab_z1 - 0.1),
            aabb(cab_x0, -1.55, DECK + 0.0, cab_x1, -1.5, DECK + 0.9),
        ),
        LIVERY,
    )
    t.part(
        "cab_roof",
        "cab",
        extrude_yz(
            rounded_rect(3.1, 0.25, 0.1, 3) + (0.0, cab_z1 - 0.12), cab_x0 - 0.1, cab_x1 + 0.15
        ),
        "#e4e4de",
    )
    windows = [
        aabb(cab_x1, -1.35, DECK + 1.5, cab_x1 + 0.03, -0.1, DECK + 2.45),  # windscreens
        aabb(cab_x1, 0.1, DECK + 1.5, cab_x1 + 0.03, 1.35, DECK + 2.45),
    ]
    for s in (-1, 1):
        y = s * 1.5
        windows.append(
            aabb(
                cab_x0 + 0.25,
                min(y, y + s * 0.03),
                DECK + 1.45,
                cab_x0 + 1.35,
                max(y, y + s * 0.03),
                DECK + 2.35,
            )
        )
        windows.append(
            aabb(
                cab_x0 + 1.55,
                min(y, y + s * 0.03),
                DECK + 1.45,
                cab_x1 - 0.3,
                max(y, y + s * 0.03),
                DECK + 2.35,
            )
        )
        windows.append(
            aabb(
                cab_x0 + 0.3,
                min(y, y + s * 0.03),
                DECK + 0.2,
                cab_x0 + 1.0,
                max(y, y + s * 0.03),
                DECK + 1.3,
            )
        )  # door
    windows.append(aabb(cab_x0 - 0.03, -1.2, DECK + 1.6, cab_x0, -0.5, DECK + 2.3))  # rear windows
    windows.append(aabb(cab_x0 - 0.03, 0.5, DECK + 1.6, cab_x0, 1.2, DECK + 2.3))
    t.part("cab_windows", "cab", cat(windows), GLASS)
    t.part(
        "cab_horn",
        "cab",
        cat(
            frustum(
                (5.6 + 0.3 * k, 0.4, cab_z1),
                (5.6 + 0.3 * k + 0.35, 0.4, cab_z1 + 0.12),
                0.05,
                0.12,
                16,
            )
            for k in range(2)
        ),
        MACHINE_GREY,
    )
    t.part(
        "short_hood",
        "body",
        extrude_yz(
            [
                (-0.95, DECK),
                (0.95, DECK),
                (0.95, DECK + 1.5),
                (0.7, DECK + 1.75),
                (-0.7, DECK + 1.75),
                (-0.95, DECK + 1.5),
            ],
            cab_x1,
            9.75,
        ),
        LIVERY,
    )

    # ---------------------------------------------------------------- power unit
    t.group("power_unit")
    ex0, ex1 = -5.0, -0.2  # engine crankcase along x
    zc = 2.05
    t.part(
        "engine_block",
        "power_unit",
        cat(
            aabb(ex0, -0.55, DECK + 0.05, ex1, 0.55, zc + 0.55),
            aabb(ex0 - 0.3, -0.75, DECK, ex1 + 0.2, 0.75, DECK + 0.1),  # mounting rails
            aabb(ex0 + 0.2, -0.45, DECK - 0.35, ex1 - 0.2, 0.45, DECK + 0.05),  # sump through deck
        ),
        ENGINE_GREEN,
    )
    banks = []
    heads = []
    for s in (-1, 1):
        ang = math.radians(s * 25)
        up = (0.0, math.sin(ang), math.cos(ang))
        base = np.array([0.0, s * 0.28, zc + 0.45])
        top = base + 0.7 * np.array(up)
        banks.append(beam((ex0 + 0.2, *base[1:]), (ex1 - 0.2, *base[1:]), 0.62, 0.05, up=up))
        banks.append(
            beam(
                (ex0 + 0.2, *(base[1:] + 0.35 * np.array(up[1:]))),
                (ex1 - 0.2, *(base[1:] + 0.35 * np.array(up[1:]))),
                0.58,
                0.7,
                up=up,
            )
        )
        for k in range(8):  # cylinder heads
            x = ex0 + 0.45 + k * (ex1 - ex0 - 0.9) / 7
            heads.append(beam((x - 0.22, *top[1:]), (x + 0.22, *top[1:]), 0.5, 0.28, up=up))
        heads.append(
            cyl(
                (ex0 + 0.2, s * 0.1 + base[1] * 0.3, top[2] + 0.05),
                (ex1 - 0.2, s * 0.1 + base[1] * 0.3, top[2] + 0.05),
                0.09,
                16,
            )
        )
    t.part("engine_cylinder_banks", "power_unit", cat(banks), ENGINE_GREEN)
    t.part("engine_cylinder_heads", "power_unit", cat(heads), MACHINE_GREY)
    t.part(
        "turbocharger",
        "power_unit",
        cat(
            cyl((ex0 - 0.15, 0.0, zc + 1.1), (ex0 - 0.85, 0.0, zc + 1.1), 0.36, 40),  # turbine
            frustum(
                (ex0 - 0.85, 0.0, zc + 1.1), (ex0 - 1.25, 0.0, zc + 1.1), 0.42, 0.28, 40
            ),  # compressor
            cyl((ex0 - 0.5, 0.0, zc + 1.1), (ex0 - 0.5, 0.0, hz1 + 0.45), 0.2, 24),  # exhaust stack
            tube((ex0 - 0.5, 0.0, hz1 + 0.3), (ex0 - 0.5, 0.0, hz1 + 0.5), 0.2, 0.3, 24),
            cyl((ex0 - 0.15, 0.0, zc + 1.1), (ex0 + 0.4, 0.0, zc + 0.95), 0.16, 16),
        ),
        "#b06a3a",
    )
    t.part(
        "engine_flywheel",
        "power_unit",
        cat(
            cyl((ex1, 0.0, zc + 0.05), (ex1 + 0.35, 0.0, zc + 0.05), 0.72, 48),
            cyl((ex1 + 0.35, 0.0, zc + 0.05), (ex1 + 0.6, 0.0, zc + 0.05), 0.35, 32),
        ),
        MACHINE_GREY,
    )
    t.part(
        "main_alternator",
        "power_unit",
        cat(
            cyl((0.4, 0.0, zc + 0.05), (2.3, 0.0, zc + 0.05), 0.78, 48),
            *(
                tube((x, 0.0, zc + 0.05), (x + 0.08, 0.0, zc + 0.05), 0.78, 0.84, 48)
                for x in (0.5, 1.0, 1.5, 2.0)
            ),
            aabb(0.6, -0.7, DECK, 2.1, 0.7, zc - 0.55),
        ),
        "#5b6f8a",
    )
    t.part(
        "auxiliary_generator",
        "power_unit",
        cat(
            cyl((2.3, 0.0, zc + 0.05), (2.95, 0.0, zc + 0.05), 0.45, 40),
            aabb(2.35, -0.4, DECK, 2.9, 0.4, zc - 0.3),
        ),
        "#5b6f8a",
    )
    t.group("electrical")
    t.part(
        "electrical_cabinet",
        "electrical",
        cat(
            aabb(3.15, -1.1, DECK, 4.15, 1.1, 3.75),
            *(aabb(3.13, -1.0 + 0.7 * k, DECK + 0.2, 3.15, -0.4 + 0.7 * k, 3.55) for k in range(3)),
        ),
        "#c6c8c2",
    )
    t.part(
        "battery_box",
        "electrical",
        cat(
            aabb(7.5, 0.2, DECK, 8.9, 1.4, DECK + 0.75),
            aabb(7.45, 0.15, DECK + 0.75, 8.95, 1.45, DECK + 0.8),
        ),
        "#2f3b45",
    )
    t.part(
        "dynamic_brake_grid",
        "electrical",
        cat(
            aabb(0.4, -1.0, hz1 + 0.2, 3.6, 1.0, hz1 + 0.55),
            *(cyl((x, -0.6, hz1 + 0.55), (x, -0.6, hz1 + 0.6), 0.5, 32) for x in (1.2, 2.8)),
        ),
        MACHINE_GREY,
    )

    # ---------------------------------------------------------------- cooling
    t.group("cooling")
    for side, s in (("left", -1), ("right", 1)):
        rad = beam(
            (-9.3, s * 0.65, DECK + 1.2),
            (-6.2, s * 0.65, DECK + 1.2),
            0.12,
            1.9,
            up=(0, -s * 0.35, 1),
        )
        cores = [
            beam(
                (x, s * 0.6, DECK + 1.2),
                (x + 0.02, s * 0.6, DECK + 1.2),
                0.2,
                1.8,
                up=(0, -s * 0.35, 1),
            )
            for x in np.arange(-9.2, -6.2, 0.25)
        ]
        t.part(f"radiator_{side}", "cooling", cat(rad, *cores), "#7a8288")
    t.part(
        "radiator_roof",
        "cooling",
        cat(aabb(-9.6, -hy, hz1 - 0.05, -5.6, hy, hz1 + 0.15)),
        LIVERY,
    )
    for j, x in enumerate((-8.6, -6.7), start=1):
        blades = [
            beam(
                (x, 0.0, hz1 + 0.3),
                (x + 0.62 * math.cos(a), 0.62 * math.sin(a), hz1 + 0.3),
                0.22,
                0.03,
            )
            for a in np.linspace(0, 2 * math.pi, 6, endpoint=False)
        ]
        t.part(
            f"cooling_fan_{j}",
            "cooling",
            cat(
                tube((x, 0.0, hz1 + 0.15), (x, 0.0, hz1 + 0.55), 0.68, 0.78, 48),
                cyl((x, 0.0, hz1 + 0.15), (x, 0.0, hz1 + 0.4), 0.14, 20),
                *blades,
            ),
            "#3e444b",
        )
    t.group("air_system")
    t.part(
        "air_compressor",
        "air_system",
        cat(
            aabb(-6.2, -0.55, DECK, -5.35, 0.55, DECK + 0.75),
            beam((-5.78, -0.2, DECK + 0.75), (-5.78, -0.55, DECK + 1.35), 0.45, 0.45, up=(1, 0, 0)),
            beam((-5.78, 0.2, DECK + 0.75), (-5.78, 0.55, DECK + 1.35), 0.45, 0.45, up=(1, 0, 0)),
            cyl((-5.35, 0.0, DECK + 0.4), (-5.05, 0.0, DECK + 0.4), 0.15, 16),
        ),
        "#8a5a3a",
    )
    t.part(
        "main_reservoirs",
        "air_system",
        cat(cyl((-3.1, s * 1.32, 1.0), (3.1, s * 1.32, 1.0), 0.21, 32) for s in (-1, 1)),
        MACHINE_GREY,
    )
    t.group("fuel_system")
    tank_prof = [
        (-1.15, 1.23),
        (-1.15, 0.73),
        (-0.85, 0.35),
        (0.85, 0.35),
        (1.15, 0.73),
        (1.15, 1.23),
    ]
    t.part("fuel_tank", "fuel_system", extrude_yz(tank_prof, -3.3, 3.3), "#2d3640")
    t.part(
        "fuel_filler",
        "fuel_system",
        cat(cyl((x, -1.15, 1.05), (x, -1.3, 1.05), 0.09, 16) for x in (-2.0, 2.0)),
        BLACK,
    )

    # ---------------------------------------------------------------- project
    components = {
        "engine": {"glob": "power_unit/engine_*", "label": "Diesel engine"},
        "wheelsets": {"regex": "bogie_(front|rear)/wheelset_[1-6]", "label": "Wheelsets"},
    }

    sensors: list[Any] = ["# --- Traction motors (one per axle)"]
    for n in range(1, 7):
        sensors.append(
            sensor(
                f"tm{n}_winding_temperature",
                f"Traction motor {n} winding temperature",
                "temperature",
                "degC",
                f"traction_motor_{n}",
                (20, 180),
                {"high": 155},
                {"high": 175},
                "coolwarm",
            )
        )
        sensors.append(
            sensor(
                f"tm{n}_current",
                f"Traction motor {n} current",
                "current",
                "A",
                f"traction_motor_{n}",
                (0, 1400),
                {"high": 1200},
                {"high": 1350},
            )
        )
    sensors.append("# --- Axle bearings (hot box detection)")
    for n in range(1, 7):
        sensors.append(
            sensor(
                f"axle{n}_bearing_temperature",
                f"Axle {n} bearing temperature",
                "temperature",
                "degC",
                f"axle_box_{n}",
                (10, 110),
                {"high": 80},
                {"high": 95},
                "coolwarm",
            )
        )
    sensors += [
        "# --- Diesel engine",
        sensor(
            "engine_coolant_temperature",
            "Engine coolant temperature",
            "temperature",
            "degC",
            "engine_block",
            (40, 110),
            {"high": 95},
            {"high": 102},
            "coolwarm",
        ),
        sensor(
            "engine_oil_temperature",
            "Engine lube oil temperature",
            "temperature",
            "degC",
            "engine_block",
            (40, 120),
            {"high": 105},
            {"high": 115},
            "coolwarm",
        ),
        sensor(
            "engine_oil_pressure",
            "Engine lube oil pressure",
            "pressure",
            "kPa",
            "engine",
            (0, 700),
            {"low": 250},
            {"low": 150},
        ),
        sensor(
            "engine_speed",
            "Engine speed",
            "engine speed",
            "rpm",
            "engine_flywheel",
            (200, 1100),
            {"high": 1000},
            {"high": 1060},
        ),
        sensor(
            "exhaust_temperature",
            "Turbocharger inlet exhaust temperature",
            "temperature",
            "degC",
            "turbocharger",
            (100, 650),
            {"high": 560},
            {"high": 600},
            "inferno",
        ),
        sensor(
            "engine_vibration",
            "Engine block vibration",
            "vibration",
            "mm/s",
            "engine_cylinder_banks",
            (0, 20),
            {"high": 11.2},
            {"high": 18},
            "plasma",
        ),
        "# --- Electrical",
        sensor(
            "alternator_voltage",
            "Main alternator output voltage",
            "voltage",
            "V",
            "main_alternator",
            (0, 1400),
            {"high": 1250},
            {"high": 1350},
        ),
        sensor(
            "alternator_current",
            "Main alternator output current",
            "current",
            "A",
            "main_alternator",
            (0, 6000),
            {"high": 5200},
            {"high": 5700},
        ),
        sensor(
            "alternator_temperature",
            "Main alternator stator temperature",
            "temperature",
            "degC",
            "main_alternator",
            (20, 180),
            {"high": 150},
            {"high": 170},
            "coolwarm",
        ),
        sensor(
            "battery_voltage",
            "Battery voltage",
            "voltage",
            "V",
            "battery_box",
            (56, 80),
            {"low": 64, "high": 77},
            {"low": 60, "high": 79},
        ),
        "# --- Air, brakes, fuel, cooling",
        sensor(
            "main_reservoir_pressure",
            "Main reservoir pressure",
            "pressure",
            "kPa",
            "main_reservoirs",
            (600, 1050),
            {"low": 750, "high": 1000},
            {"low": 650, "high": 1030},
        ),
        sensor(
            "brake_cylinder_pressure_front",
            "Front bogie brake cylinder pressure",
            "pressure",
            "kPa",
            "bogie_front_brake_units",
            (0, 450),
            {"high": 420},
            {"high": 440},
        ),
        sensor(
            "brake_cylinder_pressure_rear",
            "Rear bogie brake cylinder pressure",
            "pressure",
            "kPa",
            "bogie_rear_brake_units",
            (0, 450),
            {"high": 420},
            {"high": 440},
        ),
        sensor(
            "compressor_temperature",
            "Air compressor discharge temperature",
            "temperature",
            "degC",
            "air_compressor",
            (20, 220),
            {"high": 180},
            {"high": 200},
            "coolwarm",
        ),
        sensor(
            "fuel_level",
            "Fuel tank level",
            "fuel level",
            "%",
            "fuel_tank",
            (0, 100),
            {"low": 15},
            {"low": 5},
            "viridis",
        ),
        sensor(
            "cooling_fan_1_vibration",
            "Radiator fan 1 vibration",
            "vibration",
            "mm/s",
            "cooling_fan_1",
            (0, 12),
            {"high": 7.1},
            {"high": 11},
            "plasma",
        ),
        sensor(
            "cooling_fan_2_vibration",
            "Radiator fan 2 vibration",
            "vibration",
            "mm/s",
            "cooling_fan_2",
            (0, 12),
            {"high": 7.1},
            {"high": 11},
            "plasma",
        ),
        "# --- Train",
        sensor(
            "train_speed",
            "Train speed",
            "speed",
            "km/h",
            "wheelsets",
            (0, 120),
            {"high": 105},
            {"high": 115},
        ),
        sensor(
            "cab_temperature",
            "Cab air temperature",
            "temperature",
            "degC",
            "cab_body",
            (10, 40),
            {"low": 12, "high": 32},
            {"low": 8, "high": 36},
            "coolwarm",
        ),
        "# --- Traction control",
        sensor(
            "traction_power_limit",
            "Traction power limit (read back)",
            "power limit",
            "%",
            "main_alternator",
            (0, 100),
            {"low": 25},
            {"low": 15},
        ),
    ]
    body = [n.name for n in t.parts if not n.name.startswith("track")]
    lo, hi = bounds_of(t, body)
    every = np.vstack([t.mesh_of(n).vertices for n in body])
    overview = framing(lo, hi, -55.0, 22.0, points=every, margin=1.1)
    running_gear = framing((-9.8, -1.6, 0.0), (-3.2, 1.6, 1.6), -70.0, 16.0, margin=1.25)
    power_unit = framing((-6.5, -1.2, DECK), (3.2, 1.2, 4.2), -78.0, 24.0, margin=1.0)
    project: dict[str, Any] = {
        "twinviewer": 1,
        "name": "Diesel-electric locomotive (demo)",
        "description": (
            "A six-axle diesel-electric freight locomotive (Co'Co'), about 21 m over couplers: "
            "cab, long hood (cut away on the left side to show the power unit), V16 diesel "
            "engine with turbocharger, main alternator, radiators and fans, two three-axle "
            "bogies with nose-suspended traction motors, brakes, fuel tank and air system. "
            "The built-in simulator feeds every sensor; the bearing of axle 4 overheats and "
            "passes its alarm limit just under three minutes into the feed; an engineer can "
            "limit the traction power from the twin (command traction_power_limit). A "
            "simulation of "
            "the heat in the traction motors and axle bearings runs beside the feed: measured "
            "against simulated, the hot bearing stands out."
        ),
        "models": ["locomotive.glb"],
        "components": components,
        "sensors": sensors,
        "sources": [
            {
                "type": "simulator",
                "id": "simulator",
                "rate": 5,
                "speed": 1,
                "seed": 3,
                "cycle": 90,
                "faults": [{"sensor": "axle4_bearing_temperature", "start": 15, "duration": 150}],
                # the traction power limit (commanded) caps the traction motors' current and,
                # more slowly, their winding temperature rise (~ current^2)
                "setpoints": [
                    {
                        "sensor": "traction_power_limit",
                        "initial": 100,
                        "ramp": 10,
                        "drives": [
                            *(
                                {"sensor": f"tm{n}_current", "mode": "cap", "lag": 1.5}
                                for n in range(1, 7)
                            ),
                            *(
                                {
                                    "sensor": f"tm{n}_winding_temperature",
                                    "mode": "cap",
                                    "power": 2,
                                    "lag": 60,
                                }
                                for n in range(1, 7)
                            ),
                            {"sensor": "alternator_current", "mode": "cap", "lag": 1.5},
                        ],
                    }
                ],
            },
            *live_links("locomotive", sensors, "json_batch", "twinviewer/locomotive/batch"),
        ],
        "views": [
            view("Overview", *overview),
            view("Running gear", *running_gear),
            view("Power unit", *power_unit),
        ],
        "display": {"background": "#1e2126", "timezone": "Europe/Berlin"},
        "overlays": [
            "# Computed by assets/solvers/locomotive_motor_heat.py (transient heat conduction)",
            {
                "name": "Motor and bearing heat (FV)",
                "result": "sim/motor_heat.vtu.series",
                "field": "temperature",
                "quantity": "temperature",
                "unit": "degC",
                "visible": True,
                "show": "surface",
                "components": [
                    *(f"traction_motor_{n}" for n in range(1, 7)),
                    *(f"axle_box_{n}" for n in range(1, 7)),
                ],
                "time": {"origin": "session", "scale": "simulator", "repeat": [60, 600]},
                "colormap": "inferno",
                "range": [15, 135],
                "warp": {"field": "displacement", "scale": 100},
            },
        ],
        "fidelity": {"tolerance": 0.05},
        "tours": [locomotive_tour()],
        "commands": [
            "# written to the OPC UA server as the signed-in user (twinviewer simulate",
            "# --opcua-server serves the node and lets only engineers of the project's user file",
            "# write it); the sender types their password again",
            {
                "id": "traction_power_limit",
                "label": "Traction power limit",
                "component": "main_alternator",
                "unit": "%",
                "min": 20,
                "max": 100,
                "target": {
                    "type": "opcua",
                    "source": "opcua",
                    "node": "ns=2;s=traction_power_limit.Setpoint",
                    "identity": "user",
                },
                "readback": "traction_power_limit",
                "tolerance": 1,
                "timeout": 20,
                "role": "engineer",
                "confirm": "password",
            },
            *INSECURE_NOTE,
        ],
        **INSECURE_DEMO,
    }
    return t, project


def locomotive_tour() -> dict[str, Any]:
    """The locomotive's running gear tour. The simulator's axle 4 bearing fault (start 15 s,
    150 s to its alarm) passes the warning at 90 s and the alarm at 165 s of the feed."""
    return {
        "name": "Running gear and the hot axle box",
        "description": (
            "For drivers and depot fitters: the bogies, the traction motors and the axle "
            "boxes, the axle 4 bearing that ran hot, and how the heat simulation tells a hot "
            "bearing from a hard-working one."
        ),
        "steps": [
            {
                "title": "A diesel-electric locomotive",
                "caption": (
                    "Six axles on two bogies (Co'Co'). The **V16 diesel** in the long hood "
                    "turns the **main alternator**; the electricity drives six **traction "
                    "motors**, one on each axle. Nothing mechanical links the engine to the "
                    "wheels. The cab is at the front (axle 1 end); the hood is cut away on "
                    "this side to show the power unit."
                ),
                "view": "Overview",
                "transition": {"type": "cut"},
                "colour": "status",
                "dwell": 10,
            },
            {
                "title": "Two bogies, three axles each",
                "caption": (
                    "Each **bogie** is a frame on three wheelsets that turns under the body "
                    "in curves. Axles are numbered from the cab: 1 to 3 in the front bogie, "
                    "4 to 6 in the rear. Each end of an axle runs in a roller bearing inside "
                    "an **axle box**, and the bogie frame rests on the axle boxes through its "
                    "springs. The brake units press the blocks on the treads."
                ),
                "camera": shot((-10.0, -1.6, 0.0), (10.0, 1.6, 1.6), -35.0, 16.0, margin=0.9),
                "transition": {"type": "fly", "duration": 4},
                "isolate": ["bogie_front", "bogie_rear", "track"],
                "highlight": ["bogie_front_frame", "bogie_rear_frame"],
                "dwell": 10,
            },
            {
                "title": "Traction motors",
                "caption": (
                    "Each axle has its own **traction motor**, hung on the axle on one side "
                    "and on the bogie frame by its nose on the other (nose suspension). Its "
                    "current is the pulling force: it is highest when starting a heavy train. "
                    "The winding temperature warns at 155 degC: long hauls at low speed and "
                    "full current heat the motors most."
                ),
                "camera": shot((3.6, -1.6, -0.4), (9.4, 1.6, 1.4), -60.0, 28.0, margin=1.05),
                "transition": {"type": "fly", "duration": 3},
                "isolate": ["bogie_front"],
                "transparent": ["wheelset_1", "wheelset_2", "wheelset_3", "bogie_front_frame"],
                "highlight": ["traction_motor_1", "traction_motor_2", "traction_motor_3"],
                "callouts": ["tm1_current", "tm1_winding_temperature"],
                "dwell": 10,
            },
            {
                "title": "The axle boxes of the rear bogie",
                "caption": (
                    "A healthy axle bearing runs at a steady temperature, a little above the "
                    "air, and about the same as the bearings of the other axles under the "
                    "same load. Warning at 80 degC, alarm at 95 degC. Compare an axle with "
                    "its neighbours: one bearing warmer than the rest is the first sign of "
                    "trouble, long before a limit."
                ),
                "view": "Running gear",
                "transition": {"type": "fly", "duration": 3},
                "highlight": ["axle_box_4", "axle_box_5", "axle_box_6"],
                "colour": "temperature",
                "callouts": [
                    "axle4_bearing_temperature",
                    "axle5_bearing_temperature",
                    "axle6_bearing_temperature",
                ],
                "dwell": 10,
            },
            {
                "title": "The axle 4 bearing fault, replayed",
                "caption": (
                    "Two minutes of the recorded history at 10x. The **axle 4** bearing "
                    "temperature climbs away from axles 5 and 6 while the load stays the "
                    "same, passes the warning (80 degC) about 90 s into the feed and the "
                    "alarm (95 degC) at about 165 s. Traction motor 4 stays normal: the heat "
                    "comes from the bearing, not the motor. A bearing left running like this "
                    "seizes and can break the axle: the train was stopped and the axle box "
                    "examined."
                ),
                "camera": shot((-9.4, -1.6, -0.6), (-3.6, 1.6, 1.3), -60.0, 24.0, margin=1.05),
                "transition": {"type": "fly", "duration": 3},
                "isolate": ["bogie_rear"],
                "transparent": ["bogie_rear_frame", "bogie_rear_brake_units"],
                "highlight": ["axle_box_4"],
                "colour": "status",
                "time": {"from": "start+60s", "to": "start+185s", "speed": 10},
                "callouts": [
                    "axle4_bearing_temperature",
                    "axle5_bearing_temperature",
                    "tm4_winding_temperature",
                ],
                "question": {
                    "text": (
                        "The axle 4 bearing reads 84 degC, axles 5 and 6 read 50 degC, the "
                        "train is at full power. What do you do?"
                    ),
                    "answers": [
                        "Carry on: the alarm is at 95 degC",
                        "Report it, reduce speed and have the axle box examined at the next stop",
                        "Cut out traction motor 4",
                    ],
                    "correct": 2,
                    "explanation": (
                        "One bearing 30 degC hotter than its neighbours under the same load "
                        "is failing, whatever the limit says; cutting out the motor does not "
                        "cool a bearing that still turns."
                    ),
                },
            },
            {
                "title": "The heat simulation against the measurements",
                "caption": (
                    "The colours are now the **heat simulation**: how the losses of the "
                    "traction motors and the friction of healthy bearings heat the bogies "
                    "over a duty cycle. Where the measured and simulated temperatures agree "
                    "within 5 %, the model is trusted. The axle 4 box measures far above "
                    "what the simulation expects for its load: the difference is the fault, "
                    "not hard work."
                ),
                "view": "Running gear",
                "transition": {"type": "fly", "duration": 3},
                "overlay": "Motor and bearing heat (FV)",
                "highlight": ["axle_box_4"],
                "callouts": ["axle4_bearing_temperature", "axle5_bearing_temperature"],
                "dwell": 12,
            },
            {
                "title": "Back to live",
                "caption": (
                    "That is the locomotive as it runs now. On every trip, glance at the "
                    "axle bearing temperatures side by side; report any axle that runs "
                    "warmer than the others, even inside its limits."
                ),
                "view": "Overview",
                "transition": {"type": "fly", "duration": 4},
                "time": "live",
                "colour": "status",
                "dwell": "wait",
            },
        ],
    }


LOCOMOTIVE_HEADER = """\
TwinViewer demo twin: a six-axle diesel-electric locomotive.

Generated by assets/generate_demos.py together with locomotive.glb; edit the script and run it
again rather than editing this file by hand. Units: metres, Z up, X towards the front (cab end);
the top of the rails is at z = 0.
""" + LIVE_USAGE.format(file="locomotive.twin.yaml")


# --------------------------------------------------------------------------------------------


def generate(out: Path) -> dict[str, dict[str, int]]:
    """Write both twins under ``out``; returns counts per twin."""
    stats = {}
    for name, build, header in (
        ("mine", build_mine, MINE_HEADER),
        ("locomotive", build_locomotive, LOCOMOTIVE_HEADER),
    ):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        twin, project = build()
        twin.save(folder / f"{name}.glb")
        (folder / f"{name}.twin.yaml").write_text(project_text(header, project), encoding="utf-8")
        stats[name] = {
            "nodes": len(twin.nodes),
            "parts": len(twin.parts),
            "sensors": sum(1 for s in project["sensors"] if isinstance(s, dict)),
            "triangles": twin.triangles,
        }
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: assets/)")
    args = parser.parse_args(argv)
    stats = generate(args.out)
    for name, s in stats.items():
        print(  # noqa: T201  (a script: it reports what it wrote)
            f"{name}: {s['parts']} parts in {s['nodes']} nodes, {s['triangles']} triangles, "
            f"{s['sensors']} sensors -> {args.out / name}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
