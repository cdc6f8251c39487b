"""glTF 2.0 reader (``.glb``, ``.gltf``): one component per node, hierarchy kept.

The file is parsed here with numpy rather than through trimesh's scene graph: a 10,000-node
plant model is read as 10,000 array views and one matrix product per node, node names are kept
exactly as written (trimesh renames repeats and the root ``world`` node), and the file's node
order is kept for the component tree.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats._common import linear_to_srgb, orient_faces, transform_points
from twinviewer.formats.registry import Progress, reader

log = logging.getLogger(__name__)

_GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942

_COMPONENT_TYPES: dict[int, np.dtype] = {
    5120: np.dtype(np.int8),
    5121: np.dtype(np.uint8),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# Extensions that change how geometry bytes are stored; without a decoder the mesh is unreadable.
_UNSUPPORTED = {"KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression"}

_TRIANGLES, _STRIP, _FAN = 4, 5, 6

# glTF is Y-up by specification; TwinViewer is Z-up (as CAD and mining software are). This turns
# the file's +Y into +Z and its +Z into -Y, a rotation of +90 degrees about X.
Y_UP_TO_Z_UP = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)

Colour = tuple[float, float, float]
MeshEntry = tuple[NDArray[np.float32], NDArray[np.int64], Colour | None]


@reader("glTF", (".glb", ".gltf"), priority=10)
def load_gltf(path: Path, progress: Progress) -> ModelData:
    """Read a glTF 2.0 file (binary or JSON with external or embedded buffers).

    Nodes become components: a node with a mesh is a part (its triangles in world coordinates),
    a node without one is a group when something below it has geometry. A mesh used by several
    nodes is copied into each, so each instance can be coloured on its own. glTF is in metres
    and Y-up; the model is turned Z-up.
    """
    data = path.read_bytes()
    document, binary = split_glb(path, data)
    builder = ModelBuilder(path)
    add_document(builder, path, document, binary, progress)
    return builder.build(units="m")


def split_glb(path: Path, data: bytes) -> tuple[dict[str, Any], memoryview | None]:
    """The JSON document and the binary chunk (``None`` for a ``.gltf`` text file)."""
    if data[:4] != _GLB_MAGIC:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
            return _parse_json(path, data), None
        raise ModelReadError(path, "not a glTF file (no 'glTF' header and not JSON)")
    if len(data) < 20:
        raise ModelReadError(path, "file is truncated (shorter than a GLB header)")
    _, version, length = struct.unpack_from("<III", data, 0)
    if version != 2:
        raise ModelReadError(path, f"GLB version {version} is not supported (only glTF 2.0)")
    if length > len(data):
        raise ModelReadError(
            path, f"file is truncated: the header says {length} bytes, the file has {len(data)}"
        )
    view = memoryview(data)[:length]
    offset = 12
    document: dict[str, Any] | None = None
    binary: memoryview | None = None
    while offset + 8 <= length:
        chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
        start, end = offset + 8, offset + 8 + chunk_length
        if end > length:
            raise ModelReadError(path, "file is truncated: a GLB chunk runs past the end")
        if chunk_type == _CHUNK_JSON and document is None:
            document = _parse_json(path, bytes(view[start:end]))
        elif chunk_type == _CHUNK_BIN and binary is None:
            binary = view[start:end]
        offset = end  # chunk lengths include their padding
    if document is None:
        raise ModelReadError(path, "GLB file has no JSON chunk")
    return document, binary


def _parse_json(path: Path, text: bytes) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelReadError(path, f"not valid glTF JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ModelReadError(path, "not valid glTF JSON (the top level is not an object)")
    version = str(document.get("asset", {}).get("version", ""))
    if not version.startswith("2"):
        raise ModelReadError(path, f"glTF version {version or '?'} is not supported (only 2.0)")
    required = set(document.get("extensionsRequired", [])) & _UNSUPPORTED
    if required:
        raise ModelReadError(
            path,
            f"uses compressed geometry ({', '.join(sorted(required))}), which cannot be decoded; "
            "export it again without mesh compression",
        )
    return document


def add_document(
    builder: ModelBuilder,
    path: Path,
    document: dict[str, Any],
    binary: memoryview | None,
    progress: Progress,
    parent: int = -1,
) -> int:
    """Add the default scene of a parsed glTF document below ``parent``; return parts added.

    Shared with the STEP reader, which converts to GLB first.
    """
    doc = _Document(path, document, binary)
    nodes: list[dict[str, Any]] = document.get("nodes", [])
    if not nodes:  # a file of bare meshes: one part per mesh
        for m in range(len(document.get("meshes", []))):
            entry = doc.mesh(m)
            if entry is not None:
                v, f, colour = entry
                placed = transform_points(v, Y_UP_TO_Z_UP)
                builder.add(doc.mesh_name(m), parent, placed, f, colour=colour)
        return len(document.get("meshes", []))

    # Depth-first order from the scene's roots, so every parent precedes its children.
    order: list[tuple[int, int]] = []  # (node, index in ``order`` of its parent or -1)
    seen: set[int] = set()
    stack = [(r, -1) for r in reversed(_roots(document))]
    while stack:
        node, up = stack.pop()
        if node in seen or not 0 <= node < len(nodes):
            builder.warnings.append(f"node {node} is referenced twice or does not exist; skipped")
            continue
        seen.add(node)
        here = len(order)
        order.append((node, up))
        stack.extend((c, here) for c in reversed(nodes[node].get("children", [])))

    # A node is kept when it or something below it has triangles (cameras, lights go).
    has_mesh = [
        doc.mesh(nodes[n]["mesh"]) is not None if "mesh" in nodes[n] else False for n, _ in order
    ]
    keep = list(has_mesh)
    for i in range(len(order) - 1, -1, -1):
        up = order[i][1]
        if keep[i] and up >= 0:
            keep[up] = True

    world: list[NDArray[np.float64]] = []
    index_of: list[int] = []
    added = 0
    step = max(1, len(order) // 50)
    for i, (node, up) in enumerate(order):
        spec = nodes[node]
        local = _local_matrix(spec)
        matrix = Y_UP_TO_Z_UP @ local if up < 0 else world[up] @ local
        world.append(matrix)
        if not keep[i]:
            index_of.append(-1)
            continue
        owner = parent if up < 0 else index_of[up]
        name = spec.get("name") or (doc.mesh_name(spec["mesh"]) if "mesh" in spec else None)
        if has_mesh[i]:
            v, f, colour = doc.mesh(spec["mesh"])  # type: ignore[misc]
            instances = doc.instances(spec)
            if instances is None:
                index = builder.add(
                    name,
                    owner,
                    transform_points(v, matrix),
                    orient_faces(f, matrix),
                    colour=colour,
                )
                added += 1
            else:  # EXT_mesh_gpu_instancing: a group with one part per instance
                index = builder.add(name, owner)
                for k, inst in enumerate(instances):
                    placed = matrix @ inst
                    builder.add(
                        f"{name or 'instance'}[{k}]",
                        index,
                        transform_points(v, placed),
                        orient_faces(f, placed),
                        colour=colour,
                    )
                    added += 1
        else:
            index = builder.add(name, owner)
        index_of.append(index)
        if i % step == 0:
            progress(i / len(order))
    return added


def _roots(document: dict[str, Any]) -> list[int]:
    scenes = document.get("scenes") or []
    if scenes:
        chosen = document.get("scene", 0)
        if not isinstance(chosen, int) or not 0 <= chosen < len(scenes):
            chosen = 0
        return list(scenes[chosen].get("nodes", []))
    nodes = document.get("nodes", [])
    children = {c for n in nodes for c in n.get("children", [])}
    return [i for i in range(len(nodes)) if i not in children]


def _local_matrix(spec: dict[str, Any]) -> NDArray[np.float64]:
    if "matrix" in spec:
        return np.asarray(spec["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    m = np.eye(4)
    if "rotation" in spec or "scale" in spec:
        m[:3, :3] = _quaternion_matrix(spec.get("rotation", (0, 0, 0, 1))) * np.asarray(
            spec.get("scale", (1, 1, 1)), dtype=np.float64
        )
    if "translation" in spec:
        m[:3, 3] = spec["translation"]
    return m


def _quaternion_matrix(q: Any) -> NDArray[np.float64]:
    x, y, z, w = (float(c) for c in q)
    n = x * x + y * y + z * z + w * w
    s = 2.0 / n if n > 0 else 0.0
    return np.array(
        [
            [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
        ]
    )


class _Document:
    """Decoded buffers, accessors and meshes of one glTF document, each decoded once."""

    def __init__(self, path: Path, document: dict[str, Any], binary: memoryview | None) -> None:
        self.path = path
        self.doc = document
        self.binary = binary
        self._buffers: dict[int, memoryview] = {}
        self._meshes: dict[int, MeshEntry | None] = {}

    def fail(self, reason: str) -> ModelReadError:
        return ModelReadError(self.path, reason)

    def buffer(self, index: int) -> memoryview:
        cached = self._buffers.get(index)
        if cached is not None:
            return cached
        spec = self.doc["buffers"][index]
        uri = spec.get("uri")
        if uri is None:
            if self.binary is None:
                raise self.fail(f"buffer {index} has no data (no GLB binary chunk)")
            data = self.binary
        elif uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            raw = (
                base64.b64decode(payload) if head.endswith(";base64") else unquote(payload).encode()
            )
            data = memoryview(raw)
        else:
            file = self.path.parent / unquote(uri)
            if not file.is_file():
                raise self.fail(f"external buffer file {uri!r} not found next to the model")
            data = memoryview(file.read_bytes())
        if len(data) < int(spec.get("byteLength", 0)):
            raise self.fail(
                f"buffer {index} is truncated: {len(data)} of {spec['byteLength']} bytes present"
            )
        self._buffers[index] = data
        return data

    def accessor(self, index: int) -> NDArray:
        """An accessor as an ``(count, width)`` array (a view into the buffer when possible)."""
        spec = self.doc["accessors"][index]
        dtype = _COMPONENT_TYPES.get(spec.get("componentType", 0))
        if dtype is None:
            raise self.fail(f"accessor {index} has an unknown component type")
        width = _WIDTHS[spec["type"]]
        count = int(spec["count"])
        if "bufferView" in spec:
            view = self.doc["bufferViews"][spec["bufferView"]]
            data = self.buffer(view["buffer"])
            view_start = int(view.get("byteOffset", 0))
            view_end = view_start + int(view["byteLength"])
            start = view_start + int(spec.get("byteOffset", 0))
            item = dtype.itemsize * width
            stride = int(view.get("byteStride") or item)
            end = start + stride * (count - 1) + item if count else start
            if end > min(view_end, len(data)):
                raise self.fail(f"accessor {index} reads past the end of its buffer (truncated?)")
            if stride == item:
                out = np.frombuffer(data, dtype, count * width, start).reshape(count, width)
            else:
                out = np.ndarray(
                    (count, width),
                    dtype,
                    buffer=data,
                    offset=start,
                    strides=(stride, dtype.itemsize),
                )
        else:
            out = np.zeros((count, width), dtype)
        if "sparse" in spec:
            out = self._apply_sparse(index, spec["sparse"], out, width)
        if spec.get("normalized") and dtype.kind in "iu":
            info = np.iinfo(dtype)
            out = np.maximum(out.astype(np.float32) / info.max, -1.0)
        return out

    def _apply_sparse(
        self, index: int, sparse: dict[str, Any], out: NDArray, width: int
    ) -> NDArray:
        out = np.array(out)  # a writable copy
        n = int(sparse["count"])
        idx_spec, val_spec = sparse["indices"], sparse["values"]
        ids = self._raw(idx_spec, _COMPONENT_TYPES[idx_spec["componentType"]], n)
        vals = self._raw(val_spec, out.dtype, n * width).reshape(n, width)
        if n and ids.max() >= len(out):
            raise self.fail(f"accessor {index} has a sparse index out of range")
        out[ids.astype(np.int64)] = vals
        return out

    def _raw(self, spec: dict[str, Any], dtype: np.dtype, count: int) -> NDArray:
        view = self.doc["bufferViews"][spec["bufferView"]]
        data = self.buffer(view["buffer"])
        start = int(view.get("byteOffset", 0)) + int(spec.get("byteOffset", 0))
        return np.frombuffer(data, dtype, count, start)

    def mesh_name(self, index: int) -> str | None:
        meshes = self.doc.get("meshes", [])
        return meshes[index].get("name") if 0 <= index < len(meshes) else None

    def mesh(self, index: int) -> MeshEntry | None:
        """The triangles of mesh ``index`` in its own frame, or ``None`` if it has none."""
        if index in self._meshes:
            return self._meshes[index]
        meshes = self.doc.get("meshes", [])
        if not 0 <= index < len(meshes):
            raise self.fail(f"a node refers to mesh {index}, which does not exist")
        verts: list[NDArray] = []
        faces: list[NDArray[np.int64]] = []
        colour = None
        offset = 0
        for prim in meshes[index].get("primitives", []):
            mode = prim.get("mode", _TRIANGLES)
            if mode not in (_TRIANGLES, _STRIP, _FAN) or "POSITION" not in prim.get(
                "attributes", {}
            ):
                continue  # points and lines have no surface
            v = self.accessor(prim["attributes"]["POSITION"])
            if v.shape[1] != 3:
                raise self.fail(f"mesh {index} has positions that are not 3D vectors")
            if "indices" in prim:
                idx = self.accessor(prim["indices"]).reshape(-1).astype(np.int64)
            else:
                idx = np.arange(len(v), dtype=np.int64)
            f = _triangles(idx, mode)
            if len(f) == 0:
                continue
            if f.max() >= len(v):
                raise self.fail(f"mesh {index} has a vertex index out of range")
            verts.append(v[:, :3])
            faces.append(f + offset)
            offset += len(v)
            if colour is None and "material" in prim:
                colour = self.material_colour(prim["material"])
        entry: MeshEntry | None = None
        if faces:
            v_all = verts[0] if len(verts) == 1 else np.concatenate(verts)
            f_all = faces[0] if len(faces) == 1 else np.concatenate(faces)
            entry = (np.asarray(v_all, dtype=np.float32), f_all, colour)
        self._meshes[index] = entry
        return entry

    def material_colour(self, index: int) -> Colour | None:
        materials = self.doc.get("materials", [])
        if not 0 <= index < len(materials):
            return None
        material = materials[index]
        factor = material.get("pbrMetallicRoughness", {}).get("baseColorFactor")
        if factor is None:
            gloss = material.get("extensions", {}).get("KHR_materials_pbrSpecularGlossiness", {})
            factor = gloss.get("diffuseFactor")
        return linear_to_srgb(factor) if factor is not None and len(factor) >= 3 else None

    def instances(self, spec: dict[str, Any]) -> list[NDArray[np.float64]] | None:
        """Per-instance matrices of a node using ``EXT_mesh_gpu_instancing``, else ``None``."""
        ext = spec.get("extensions", {}).get("EXT_mesh_gpu_instancing")
        if not ext:
            return None
        attrs = ext.get("attributes", {})

        def get(key: str) -> NDArray | None:
            return self.accessor(attrs[key]).astype(np.float64) if key in attrs else None

        t, r, s = get("TRANSLATION"), get("ROTATION"), get("SCALE")
        n = max((len(a) for a in (t, r, s) if a is not None), default=0)
        if n == 0:
            return None  # nothing to instance: treat the node as a plain one
        out = []
        for k in range(n):
            m = np.eye(4)
            rot = _quaternion_matrix(r[k]) if r is not None else np.eye(3)
            m[:3, :3] = rot * (s[k] if s is not None else 1.0)
            if t is not None:
                m[:3, 3] = t[k]
            out.append(m)
        return out


def _triangles(idx: NDArray[np.int64], mode: int) -> NDArray[np.int64]:
    """Triangle list from an index list in one of the three triangle modes."""
    if mode == _TRIANGLES:
        n = len(idx) // 3
        return idx[: n * 3].reshape(n, 3)
    if len(idx) < 3:
        return np.zeros((0, 3), np.int64)
    k = np.arange(len(idx) - 2)
    if mode == _STRIP:
        a, b = idx[k], idx[k + 1]
        odd = (k % 2).astype(bool)
        first = np.where(odd, b, a)
        second = np.where(odd, a, b)
        return np.stack([first, second, idx[k + 2]], axis=1)
    return np.stack([np.full(len(k), idx[0]), idx[k + 1], idx[k + 2]], axis=1)


def load_glb_bytes(
    builder: ModelBuilder, path: Path, data: bytes, progress: Progress, parent: int = -1
) -> int:
    """Add a GLB held in memory (e.g. converted from STEP) to ``builder``; errors name ``path``."""
    document, binary = split_glb(path, data)
    return add_document(builder, path, document, binary, progress, parent)


__all__ = ["load_gltf", "load_glb_bytes"]
