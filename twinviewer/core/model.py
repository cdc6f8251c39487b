"""The loaded model as plain data: a component tree and one merged triangle mesh.

Every reader in :mod:`twinviewer.formats` returns a :class:`ModelData`. Geometry is merged at
read time into a single triangle soup with a per-triangle component index, because colouring
thousands of components must be one array write, not one VTK actor per part.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray


class ModelReadError(Exception):
    """A model file could not be read. The message names the file and the reason."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class Component:
    """One node of the model's hierarchy.

    ``name`` is the name the file gave (``""`` for an unnamed node). ``path`` is where the node
    sits: the ``/``-joined names from the root, each with its index among same-named siblings
    when a parent has several (``Frame/Bolt[2]``), ``node[k]`` for the k-th unnamed child.
    ``id`` is unique in the model: the name when no other node has it, else the path, so that a
    re-export that adds a part elsewhere renumbers nothing (:func:`identify`).
    """

    id: str
    name: str
    parent: int  # index into ModelData.components, -1 for a root
    path: str = ""
    kind: str = "part"  # "part" (has triangles) or "group"
    colour: tuple[float, float, float] | None = None  # the file's own base colour, 0..1


@dataclass(frozen=True)
class Joint:
    """A movable joint of the model's kinematics (a URDF robot's): what a ``joint`` motion or
    a sensor named after it drives.

    ``axis`` (unit) and ``origin`` (a point on the axis) are in the model's rest (zero
    configuration) coordinates; ``child`` is the index of the component that moves (the child
    link, with everything below it), ``parent`` that of the link it hangs from (-1: none).
    ``lower``/``upper`` are the joint's limits in its own unit (radians for ``revolute``, model
    units for ``prismatic``; ``None``: unlimited, as a ``continuous`` joint).
    """

    name: str
    type: Literal["revolute", "continuous", "prismatic"]
    axis: tuple[float, float, float]
    origin: tuple[float, float, float]
    child: int
    parent: int = -1
    lower: float | None = None
    upper: float | None = None


@dataclass
class ModelData:
    """A model: its components and its merged triangle geometry.

    Attributes
    ----------
    points : (N, 3) float32
    triangles : (M, 3) int32 indices into ``points``
    cell_component : (M,) int32 index into ``components`` of each triangle's component
    """

    source: str
    components: list[Component]
    points: NDArray[np.float32]
    triangles: NDArray[np.int32]
    cell_component: NDArray[np.int32]
    warnings: list[str] = field(default_factory=list)
    units: str | None = None
    joints: list[Joint] = field(default_factory=list)  # kinematics, root first (URDF)

    @property
    def n_triangles(self) -> int:
        return int(self.triangles.shape[0])

    @property
    def n_components(self) -> int:
        return len(self.components)

    def index_of(self, component_id: str) -> int:
        """Index of the component with this id; ``KeyError`` if there is none."""
        return self._ids()[component_id]

    def _ids(self) -> dict[str, int]:
        cache = self.__dict__.get("_id_cache")
        if cache is None or len(cache) != len(self.components):
            cache = {c.id: i for i, c in enumerate(self.components)}
            self.__dict__["_id_cache"] = cache
        return cache

    def children(self) -> list[list[int]]:
        """For each component, the indices of its direct children."""
        kids: list[list[int]] = [[] for _ in self.components]
        for i, c in enumerate(self.components):
            if c.parent >= 0:
                kids[c.parent].append(i)
        return kids

    def subtree(self, index: int) -> list[int]:
        """``index`` and all its descendants."""
        kids = self.children()
        out, stack = [], [index]
        while stack:
            i = stack.pop()
            out.append(i)
            stack.extend(kids[i])
        return out

    def triangle_counts(self) -> NDArray[np.int64]:
        """Number of triangles of each component's own geometry (not its children's)."""
        return np.bincount(self.cell_component, minlength=self.n_components)

    def bounds(self) -> tuple[float, float, float, float, float, float]:
        if len(self.points) == 0:
            return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        lo = self.points.min(axis=0)
        hi = self.points.max(axis=0)
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]), float(lo[2]), float(hi[2]))


_SUFFIX = re.compile(r"#\d+$")
_INDEX = re.compile(r"\[\d+\]$")


class ModelBuilder:
    """Collects components and their triangles, then merges them into one :class:`ModelData`.

    Readers call :meth:`add` once per node (a parent before its children); ids are given here,
    once, for every format (:func:`identify`, when the model is built).
    """

    def __init__(self, source: object) -> None:
        self.source = str(source)
        self.components: list[Component] = []
        self._points: list[NDArray[np.float32]] = []
        self._tris: list[NDArray[np.int32]] = []
        self._owner: list[int] = []
        self.warnings: list[str] = []

    def add(
        self,
        name: str | None,
        parent: int = -1,
        vertices: NDArray | None = None,
        faces: NDArray | None = None,
        colour: Sequence[float] | None = None,
    ) -> int:
        """Add a component (a group when no geometry is given); return its index.

        ``name`` ``None`` or blank: an unnamed node. Its id and path are provisional until
        :meth:`build` (they depend on the nodes added after it)."""
        if not -1 <= parent < len(self.components):
            raise ValueError(f"parent {parent} is not a component added before")
        clean = (name or "").strip()
        index = len(self.components)
        cid = clean or f"node[{index}]"
        path = f"{self.components[parent].path}/{cid}" if parent >= 0 else cid
        has_geometry = vertices is not None and faces is not None and len(faces) > 0
        rgb = tuple(float(c) for c in colour[:3]) if colour is not None else None
        self.components.append(
            Component(
                id=cid,
                name=clean,
                parent=parent,
                path=path,
                kind="part" if has_geometry else "group",
                colour=rgb,  # type: ignore[arg-type]
            )
        )
        if has_geometry:
            self.add_geometry(index, vertices, faces)  # type: ignore[arg-type]
        return index

    def add_geometry(self, index: int, vertices: NDArray, faces: NDArray) -> None:
        """Append triangles (or polygons as triangle fans) to component ``index``."""
        v = np.asarray(vertices, dtype=np.float32).reshape(-1, 3)
        f = np.asarray(faces, dtype=np.int64)
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError("faces must be an (M, 3) array of triangles")
        if len(f) and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError("face index out of range of the vertex array")
        self._points.append(v)
        self._tris.append(f.astype(np.int32))
        self._owner.append(index)
        self.components[index].kind = "part"

    def build(self, units: str | None = None) -> ModelData:
        self.warnings.extend(identify(self.components))
        offsets = np.cumsum([0] + [len(p) for p in self._points])
        if self._points:
            points = np.concatenate(self._points).astype(np.float32, copy=False)
            tris = np.concatenate([t + off for t, off in zip(self._tris, offsets, strict=False)])
            cell = np.repeat(
                np.asarray(self._owner, dtype=np.int32), [len(t) for t in self._tris]
            ).astype(np.int32)
        else:
            points = np.zeros((0, 3), np.float32)
            tris = np.zeros((0, 3), np.int32)
            cell = np.zeros(0, np.int32)
        return ModelData(
            source=self.source,
            components=self.components,
            points=points,
            triangles=tris.astype(np.int32, copy=False),
            cell_component=cell,
            warnings=list(self.warnings),
            units=units,
        )


def base_name(component_id: str) -> str:
    """The node name a component id stands for: the id of a node whose name no other node has;
    the last segment, without its sibling index, of an id that is a path (``Frame/Bolt[2]``:
    ``Bolt``); an id without the ``#N`` suffix the rare clash of a name with a path gets."""
    name = _SUFFIX.sub("", component_id).rsplit("/", 1)[-1]
    return _INDEX.sub("", name)


def identify(components: Sequence[Component]) -> list[str]:
    """Give each component its ``path`` and ``id`` from its place in the hierarchy (in place);
    return warnings about repeated names.

    The path is built from the root: each node's name, with ``[k]`` (from 1) when its parent
    has several children of that name, or ``node[k]`` for the k-th unnamed child. The id is
    the name when the name is unique in the model, else the path: ids of repeated and unnamed
    nodes follow from their parents and siblings only, not from their order in the whole file,
    so a re-export with a part added elsewhere gives the other nodes the same ids. Components
    must come parents first (as :class:`ModelBuilder` adds them).
    """
    siblings: dict[int, list[int]] = {}
    for i, c in enumerate(components):
        if c.parent >= i:
            raise ValueError(f"component {i} ({c.name!r}) comes before its parent {c.parent}")
        siblings.setdefault(c.parent, []).append(i)
    segment = [""] * len(components)
    for members in siblings.values():
        counts = Counter(components[i].name for i in members)
        seen: Counter[str] = Counter()
        for i in members:
            name = components[i].name
            seen[name] += 1
            if not name:
                segment[i] = f"node[{seen[name]}]"
            elif counts[name] > 1:
                segment[i] = f"{name}[{seen[name]}]"
            else:
                segment[i] = name
    totals = Counter(c.name for c in components if c.name)
    taken: set[str] = set()
    warnings: list[str] = []
    for i, c in enumerate(components):
        c.path = segment[i] if c.parent < 0 else f"{components[c.parent].path}/{segment[i]}"
        cid = c.name if c.name and totals[c.name] == 1 else c.path
        if cid in taken:  # a name that is also another node's path ("A/B")
            n = 2
            while f"{cid}#{n}" in taken:
                n += 1
            warnings.append(f"component id {cid!r} is used twice; the second is {cid}#{n}")
            cid = f"{cid}#{n}"
        taken.add(cid)
        c.id = cid
    for name, n in totals.items():
        if n > 1:
            first = next(c.id for c in components if c.name == name)
            warnings.append(
                f"duplicate component name {name!r} ({n} nodes): each is identified by its "
                f"path, e.g. {first!r}"
            )
    return warnings
