"""URDF (robots, vehicles, cranes): links as components, joints as the model's kinematics.

The file is parsed with yourdfpy (without its scene graph or mesh loading: the poses and meshes
are resolved here, so that a missing mesh is a warning and not a failed read). Each link becomes
a component, a child link's component under its parent link's, so that whatever moves a link
moves everything below it. Its visual geometry (meshes in STL, OBJ, DAE or whatever trimesh
reads; box, cylinder and sphere primitives) is placed at the zero configuration: every joint at
0. Revolute, continuous and prismatic joints become :class:`~twinviewer.core.model.Joint`
entries with their axis and origin in those (rest) coordinates and their limits; fixed joints
only place their child, mimic joints are not followed, floating and planar joints are ignored.
A sensor named after a joint drives it (:mod:`twinviewer.core.motion`).

Mesh paths: ``package://pkg/rest`` is looked for beside the file, in a folder ``pkg`` beside
it or above it; ``file://`` and relative paths as they are. A mesh that is not found or cannot
be read gets a warning in ``ModelData.warnings`` and a small placeholder box in its place.

Xacro leftovers (``$(find ...)``, ``$(arg ...)``, ``$(optenv ...)``, ``<xacro:...>``) are a
:class:`~twinviewer.core.model.ModelReadError` naming the line: run ``xacro`` first.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import Joint, ModelBuilder, ModelData, ModelReadError
from twinviewer.formats.registry import Progress, reader

log = logging.getLogger(__name__)

_XACRO = re.compile(r"\$\((find|arg|optenv|env|eval|dirname)\b[^)]*\)|<xacro:[\w-]+|\$\{[^}]*\}")
_MOVABLE = ("revolute", "continuous", "prismatic")
PLACEHOLDER = 0.05  # half-size (m) of the box that stands in for a missing mesh


def check_xacro(path: Path, text: str) -> None:
    """Raise a :class:`ModelReadError` naming the first xacro leftover and its line."""
    m = _XACRO.search(text)
    if m is None:
        return
    line = text.count("\n", 0, m.start()) + 1
    start = text.rfind("<", 0, m.start() + 1)
    end = text.find(">", m.end())
    element = text[start : end + 1] if 0 <= start and end >= 0 else m.group(0)
    element = " ".join(element.split())
    if len(element) > 120:
        element = element[:117] + "..."
    raise ModelReadError(
        path,
        f"line {line}: {element} uses xacro ({m.group(0)}): this is a xacro file; run xacro "
        "first (xacro robot.urdf.xacro > robot.urdf)",
    )


def resolve_mesh(urdf: Path, filename: str) -> Path | None:
    """Where a visual's mesh file is, or None when it cannot be found."""
    if filename.startswith("file://"):
        p = Path(filename[len("file://") :])
        return p if p.is_file() else None
    if filename.startswith("package://"):
        package, _, rest = filename[len("package://") :].partition("/")
        candidates = [urdf.parent / rest, urdf.parent / package / rest]
        for folder in urdf.parent.parents:
            candidates.append(folder / package / rest)
            if folder.name == package:
                candidates.append(folder / rest)
        return next((c for c in candidates if c.is_file()), None)
    p = Path(filename)
    p = p if p.is_absolute() else urdf.parent / p
    return p if p.is_file() else None


def _geometry(
    urdf: Path, geometry: Any, where: str, warnings: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.int64]] | None:
    """Vertices and faces of one visual's geometry in its own frame (None: nothing to draw)."""
    import trimesh

    if geometry is None:
        return None
    if geometry.box is not None:
        m = trimesh.creation.box(extents=np.asarray(geometry.box.size, float))
    elif geometry.cylinder is not None:
        c = geometry.cylinder
        m = trimesh.creation.cylinder(radius=float(c.radius), height=float(c.length), sections=32)
    elif geometry.sphere is not None:
        m = trimesh.creation.icosphere(subdivisions=2, radius=float(geometry.sphere.radius))
    elif geometry.mesh is not None:
        filename = geometry.mesh.filename
        found = resolve_mesh(urdf, filename)
        m = None
        if found is None:
            warnings.append(f"{where}: mesh {filename!r} not found; a placeholder box stands in")
        else:
            try:
                loaded = trimesh.load(found, force="mesh")
                if isinstance(loaded, trimesh.Trimesh) and len(loaded.faces):
                    m = loaded
                else:
                    warnings.append(f"{where}: mesh {filename!r} has no triangles; a placeholder")
            except Exception as exc:  # a mesh library failing on bad bytes: keep the rest
                warnings.append(
                    f"{where}: mesh {filename!r} cannot be read ({type(exc).__name__}: {exc}); "
                    "a placeholder box stands in"
                )
        if m is None:
            m = trimesh.creation.box(extents=(2 * PLACEHOLDER,) * 3)
        elif geometry.mesh.scale is not None:
            m = m.copy()
            m.apply_scale(np.broadcast_to(np.asarray(geometry.mesh.scale, float), 3))
    else:
        return None
    return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)


def _colour(robot: Any, visual: Any) -> tuple[float, float, float] | None:
    mat = visual.material
    if mat is None:
        return None
    if mat.color is None and mat.name:
        mat = next((m for m in robot.materials if m.name == mat.name), mat)
    if mat.color is None or mat.color.rgba is None:
        return None
    r, g, b = (float(x) for x in list(mat.color.rgba)[:3])
    return (r, g, b)


def _origin(m: Any) -> NDArray[np.float64]:
    return np.eye(4) if m is None else np.asarray(m, np.float64)


@reader("URDF", (".urdf",))
def read_urdf(path: Path, progress: Progress) -> ModelData:
    """Read a ``.urdf`` robot description with its meshes at the zero configuration."""
    import yourdfpy

    text = path.read_text(encoding="utf-8", errors="replace")
    check_xacro(path, text)
    try:
        urdf = yourdfpy.URDF.load(str(path), build_scene_graph=False, load_meshes=False)
    except Exception as exc:
        raise ModelReadError(
            path, f"not a readable URDF file ({type(exc).__name__}: {exc})"
        ) from None
    robot = urdf.robot
    links = {link.name: link for link in robot.links}
    if not links:
        raise ModelReadError(path, "the robot has no <link>")
    parent_joint = {j.child: j for j in robot.joints}
    children: dict[str, list[Any]] = {}
    for j in robot.joints:
        if j.parent not in links or j.child not in links:
            raise ModelReadError(
                path, f"joint {j.name!r} joins {j.parent!r} to {j.child!r}: no such <link>"
            )
        children.setdefault(j.parent, []).append(j)
    roots = [name for name in links if name not in parent_joint]
    if not roots:
        raise ModelReadError(path, "every link is some joint's child: the tree has no root")

    builder = ModelBuilder(path)
    warnings: list[str] = []
    world: dict[str, NDArray[np.float64]] = {}
    index: dict[str, int] = {}
    joints: list[Joint] = []
    order: list[tuple[str, int]] = [(r, -1) for r in roots]  # (link, parent component)
    done = 0
    while order:
        name, parent = order.pop(0)
        link = links[name]
        j = parent_joint.get(name)
        pose = np.eye(4) if j is None else world[j.parent] @ _origin(j.origin)
        world[name] = pose
        colour = next((c for v in link.visuals if (c := _colour(robot, v)) is not None), None)
        comp = builder.add(name, parent, colour=colour)
        index[name] = comp
        for k, visual in enumerate(link.visuals):
            where = f"link {name!r}" + (f" visual {k + 1}" if len(link.visuals) > 1 else "")
            geo = _geometry(path, visual.geometry, where, warnings)
            if geo is None:
                continue
            v, f = geo
            t = pose @ _origin(visual.origin)
            builder.add_geometry(comp, v @ t[:3, :3].T + t[:3, 3], f)
        if j is not None and j.type in _MOVABLE:
            axis = np.asarray(j.axis if j.axis is not None else (1.0, 0.0, 0.0), np.float64)
            axis_world = pose[:3, :3] @ (axis / np.linalg.norm(axis))
            lim = j.limit
            limited = j.type != "continuous" and lim is not None
            joints.append(
                Joint(
                    name=j.name,
                    type=j.type,
                    axis=(float(axis_world[0]), float(axis_world[1]), float(axis_world[2])),
                    origin=(float(pose[0, 3]), float(pose[1, 3]), float(pose[2, 3])),
                    child=comp,
                    parent=index[j.parent],
                    lower=float(lim.lower) if limited and lim.lower is not None else None,
                    upper=float(lim.upper) if limited and lim.upper is not None else None,
                )
            )
        elif j is not None and j.type not in ("fixed",) and j.type not in _MOVABLE:
            warnings.append(
                f"joint {j.name!r} is {j.type}: not driven (only revolute, "
                "continuous and prismatic joints move)"
            )
        order.extend((jj.child, comp) for jj in children.get(name, []))
        done += 1
        progress(done / len(links))
    model = builder.build(units="m")
    model.warnings.extend(warnings)
    model.joints = joints
    for w in warnings:
        log.warning("%s: %s", path, w)
    return model
