"""3MF reader: build items are the top-level components, composed objects become groups.

The package is read here with lxml rather than through trimesh's 3MF loader because trimesh
flattens composed objects into loose meshes and replaces the build items' part numbers with
generated names; a twin needs "Composed Part > Box" to stay a group it can colour as one.
Vertex and triangle attributes are pulled out with one XPath query each, then parsed by numpy.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats._common import orient_faces, transform_points
from twinviewer.formats.registry import Progress, reader

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
MATERIAL = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
_REL_3DMODEL = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
_NS = {"c": CORE}
_UNITS = {
    "micron": "um",
    "millimeter": "mm",
    "centimeter": "cm",
    "inch": "in",
    "foot": "ft",
    "meter": "m",
}
_MAX_DEPTH = 32  # composed objects nest; a cycle in a broken file must not recurse forever

Colour = tuple[float, float, float]
Mesh = tuple[NDArray[np.float64], NDArray[np.int64], Colour | None]


@reader("3MF", (".3mf",))
def load_3mf(path: Path, progress: Progress) -> ModelData:
    """Read a 3MF package: one component per build item (named by its part number, else its
    object's name); an item of a composed object is a group of its components, recursively.
    Units are the model's ``unit`` attribute (millimetres by default).
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelReadError(path, "not a 3MF file (not a zip package)") from None
    with archive:
        package = _Package(path, archive)
        root_part = package.root_part()
        root = package.model(root_part)
        builder = ModelBuilder(path)
        build = root.xml.find(f"{{{CORE}}}build")
        items = [] if build is None else build.findall(f"{{{CORE}}}item")
        for i, item in enumerate(items):
            part = item.get(f"{{{PRODUCTION}}}path") or root_part
            key = (_absolute(part, root_part), item.get("objectid", ""))
            name = item.get("partnumber") or package.object_name(key)
            package.add_object(builder, key, name, -1, _transform(item.get("transform")), 0)
            progress((i + 1) / max(1, len(items)))
        return builder.build(units=_UNITS.get(root.xml.get("unit", "millimeter"), None))


class _Model:
    """One parsed model part: its XML root, objects by id and colours by property group."""

    def __init__(self, xml: Any) -> None:
        self.xml = xml
        self.objects: dict[str, Any] = {}
        self.colours: dict[str, list[Colour | None]] = {}
        resources = xml.find(f"{{{CORE}}}resources")
        for child in [] if resources is None else resources:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == f"{{{CORE}}}object":
                self.objects[child.get("id", "")] = child
            elif tag == f"{{{CORE}}}basematerials":
                self.colours[child.get("id", "")] = [
                    _hex_colour(b.get("displaycolor")) for b in child.findall(f"{{{CORE}}}base")
                ]
            elif tag == f"{{{MATERIAL}}}colorgroup":
                self.colours[child.get("id", "")] = [
                    _hex_colour(c.get("color")) for c in child.findall(f"{{{MATERIAL}}}color")
                ]


class _Package:
    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        self._models: dict[str, _Model] = {}
        self._meshes: dict[tuple[str, str], Mesh | None] = {}

    def root_part(self) -> str:
        """The model part the package's relationships name (``/3D/3dmodel.model`` usually)."""
        from lxml import etree

        names = set(self.archive.namelist())
        if "_rels/.rels" in names:
            rels = etree.fromstring(self.archive.read("_rels/.rels"))
            for rel in rels:
                if rel.get("Type") == _REL_3DMODEL and rel.get("Target"):
                    return "/" + rel.get("Target").lstrip("/")
        for name in sorted(names):
            if name.lower().endswith(".model"):
                return "/" + name
        raise ModelReadError(self.path, "not a 3MF file (no 3D model part in the package)")

    def model(self, part: str) -> _Model:
        cached = self._models.get(part)
        if cached is not None:
            return cached
        from lxml import etree

        try:
            data = self.archive.read(part.lstrip("/"))
        except KeyError:
            raise ModelReadError(self.path, f"the package has no part {part!r}") from None
        parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
        model = _Model(etree.fromstring(data, parser))
        self._models[part] = model
        return model

    def object_name(self, key: tuple[str, str]) -> str | None:
        obj = self.model(key[0]).objects.get(key[1])
        return None if obj is None else obj.get("name")

    def add_object(
        self,
        builder: ModelBuilder,
        key: tuple[str, str],
        name: str | None,
        parent: int,
        matrix: NDArray[np.float64],
        depth: int,
    ) -> None:
        part, object_id = key
        obj = self.model(part).objects.get(object_id)
        if obj is None:
            raise ModelReadError(self.path, f"a build item refers to missing object {object_id}")
        if depth > _MAX_DEPTH:
            raise ModelReadError(self.path, "components nest too deeply (a cycle?)")
        mesh = self.mesh(key)
        if mesh is not None:
            v, f, colour = mesh
            builder.add(
                name,
                parent,
                transform_points(v, matrix),
                orient_faces(f, matrix),
                colour=colour,
            )
            return
        components = obj.find(f"{{{CORE}}}components")
        if components is None:
            return  # an object with neither triangles nor components draws nothing
        index = builder.add(name, parent)
        for comp in components.findall(f"{{{CORE}}}component"):
            child_part = _absolute(comp.get(f"{{{PRODUCTION}}}path") or part, part)
            child = (child_part, comp.get("objectid", ""))
            self.add_object(
                builder,
                child,
                self.object_name(child),
                index,
                matrix @ _transform(comp.get("transform")),
                depth + 1,
            )

    def mesh(self, key: tuple[str, str]) -> Mesh | None:
        """Vertices, triangles and colour of a mesh object (cached: items reuse objects)."""
        if key in self._meshes:
            return self._meshes[key]
        model = self.model(key[0])
        obj = model.objects[key[1]]
        node = obj.find(f"{{{CORE}}}mesh")
        result: Mesh | None = None
        if node is not None:
            xyz = [node.xpath(f"c:vertices/c:vertex/@{a}", namespaces=_NS) for a in "xyz"]
            tri = [node.xpath(f"c:triangles/c:triangle/@{a}", namespaces=_NS) for a in _V]
            if len({len(a) for a in xyz}) != 1 or len({len(a) for a in tri}) != 1:
                raise ModelReadError(
                    self.path, f"object {key[1]} has a vertex or triangle missing a coordinate"
                )
            if len(tri[0]):
                v = np.array(xyz, dtype=np.float64).T
                f = np.array(tri, dtype=np.int64).T
                if f.min() < 0 or f.max() >= len(v):
                    raise ModelReadError(
                        self.path, f"object {key[1]} has a triangle index out of range"
                    )
                result = (v, f, self._colour(model, obj, node))
        self._meshes[key] = result
        return result

    @staticmethod
    def _colour(model: _Model, obj: Any, mesh: Any) -> Colour | None:
        pid, pindex = obj.get("pid"), obj.get("pindex")
        if pid is None:  # no object default: take the first triangle's property
            first = mesh.find(f"{{{CORE}}}triangles/{{{CORE}}}triangle")
            if first is None:
                return None
            pid, pindex = first.get("pid"), first.get("p1")
        group = model.colours.get(pid or "")
        try:
            return group[int(pindex or 0)] if group else None
        except (ValueError, IndexError):
            return None


_V = ("v1", "v2", "v3")


def _absolute(part: str, relative_to: str) -> str:
    if part.startswith("/"):
        return part
    return posixpath.normpath(posixpath.join(posixpath.dirname(relative_to), part))


def _transform(text: str | None) -> NDArray[np.float64]:
    """A 3MF ``transform`` (12 numbers, row-vector convention) as a 4x4 column-vector matrix."""
    m = np.eye(4)
    if text:
        values = np.array(text.split(), dtype=np.float64)
        if values.size != 12:
            raise ValueError(f"a transform has {values.size} numbers, not 12")
        m[:3, :3] = values[:9].reshape(3, 3).T
        m[:3, 3] = values[9:]
    return m


def _hex_colour(text: str | None) -> Colour | None:
    if not text or not text.startswith("#") or len(text) not in (7, 9):
        return None
    try:
        return tuple(int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]
    except ValueError:
        return None
