"""Component identity that survives a re-export: unnamed nodes and repeated names get ids from
their place in the hierarchy (parents' names, index among same-named siblings), never from
their order in the whole file, so a part added elsewhere renumbers nothing."""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinviewer.core.binding import bind, select
from twinviewer.core.model import ModelBuilder, base_name
from twinviewer.core.project import ComponentSelector, Project
from twinviewer.formats import read_model

from .test_formats import glb_parts, write_glb

# -- a glTF written by hand: one triangle mesh used by every part ---------------------------------

TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32).tobytes()

PLANT: list[dict[str, Any]] = [
    # "children" are positions in this list
    {"name": "Root", "children": [1, 7]},
    {"name": "Frame", "children": [2, 3, 4, 5, 6]},
    {"name": "Bolt", "mesh": 0},
    {"name": "Bolt", "mesh": 0},
    {"mesh": 1},  # unnamed, its mesh is named: the mesh name stands in
    {"mesh": 0},  # unnamed, unnamed mesh
    {"mesh": 0},  # another
    {"name": "Cover", "children": [8, 9]},
    {"name": "Bolt", "mesh": 0},
    {"mesh": 0},
]
EXPECTED = {
    "Root": "Root",
    "Frame": "Root/Frame",
    "Root/Frame/Bolt[1]": "Root/Frame/Bolt[1]",
    "Root/Frame/Bolt[2]": "Root/Frame/Bolt[2]",
    "Washer": "Root/Frame/Washer",
    "Root/Frame/node[1]": "Root/Frame/node[1]",
    "Root/Frame/node[2]": "Root/Frame/node[2]",
    "Cover": "Root/Cover",
    "Root/Cover/Bolt": "Root/Cover/Bolt",
    "Root/Cover/node[1]": "Root/Cover/node[1]",
}  # id -> path


def gltf(path: Path, nodes: list[dict[str, Any]], roots: list[int]) -> Path:
    """A .gltf file with these nodes (buffers embedded as a data URI)."""
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": roots}],
        "nodes": nodes,
        "meshes": [
            {"primitives": [{"attributes": {"POSITION": 0}}]},
            {"name": "Washer", "primitives": [{"attributes": {"POSITION": 0}}]},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "min": [0, 0, 0],
                "max": [1, 1, 0],
            }
        ],
        "bufferViews": [{"buffer": 0, "byteLength": len(TRIANGLE)}],
        "buffers": [
            {
                "byteLength": len(TRIANGLE),
                "uri": "data:application/octet-stream;base64,"
                + base64.b64encode(TRIANGLE).decode(),
            }
        ],
    }
    path.write_text(json.dumps(document))
    return path


def with_inserted(
    nodes: list[dict[str, Any]], roots: list[int], extra: list[dict[str, Any]], parent: int | None
) -> tuple[list[dict[str, Any]], list[int]]:
    """The same nodes after ``extra`` was inserted at the start of the file (every index moves),
    as a child of ``parent`` (a new index; ``None``: a new root)."""
    n = len(extra)
    moved = copy.deepcopy(nodes)
    for node in moved:
        if "children" in node:
            node["children"] = [c + n for c in node["children"]]
    out = copy.deepcopy(extra) + moved
    roots = [r + n for r in roots]
    for k, node in enumerate(extra):
        if node.pop("_top", False):
            if parent is None:
                roots = [k, *roots]
            else:  # first among its new siblings
                out[parent + n]["children"] = [k, *out[parent + n]["children"]]
    return out, roots


def paths(model) -> dict[str, str]:
    return {c.id: c.path for c in model.components}


def test_unnamed_and_repeated_nodes_get_ids_from_their_hierarchy(tmp_path: Path) -> None:
    model = read_model(gltf(tmp_path / "plant.gltf", PLANT, [0]))
    assert paths(model) == EXPECTED
    assert [c.name for c in model.components] == [
        "Root", "Frame", "Bolt", "Bolt", "Washer", "", "", "Cover", "Bolt", "",
    ]  # fmt: skip
    assert model.warnings == [
        "duplicate component name 'Bolt' (3 nodes): each is identified by its path, "
        "e.g. 'Root/Frame/Bolt[1]'"
    ]
    assert base_name("Root/Frame/Bolt[2]") == "Bolt" and base_name("Frame") == "Frame"


def test_ids_survive_a_re_export_with_parts_added_before_them(tmp_path: Path) -> None:
    before = read_model(gltf(tmp_path / "v1.gltf", PLANT, [0]))
    # v2: a new assembly first in the file (with a Bolt and an unnamed part of its own), and a
    # Nut and another Bolt added to the Cover ahead of the Cover's old nodes
    extra = [
        {"name": "Base", "children": [1, 2], "_top": True},
        {"name": "Bolt", "mesh": 0},
        {"mesh": 0},
        {"name": "Nut", "mesh": 0, "_top": True},
    ]
    nodes, roots = with_inserted(PLANT, [0], extra[:3], None)
    nodes, roots = with_inserted(nodes, roots, extra[3:], 7 + 3)  # the Cover, moved by 3
    after = read_model(gltf(tmp_path / "v2.gltf", nodes, roots))
    old, new = paths(before), paths(after)
    assert {k: new[k] for k in old} == old  # every old node: the same id, the same path
    assert set(new) - set(old) == {"Base", "Base/Bolt", "Base/node[1]", "Nut"}

    # the way the same edit renumbered nodes before, by their order in the whole file
    bolts = [c.id for c in after.components if c.name == "Bolt"]
    assert bolts == ["Base/Bolt", "Root/Frame/Bolt[1]", "Root/Frame/Bolt[2]", "Root/Cover/Bolt"]


def test_bindings_select_hierarchy_ids_names_and_patterns(tmp_path: Path) -> None:
    model = read_model(gltf(tmp_path / "plant.gltf", PLANT, [0]))
    project = Project.model_validate(
        {
            "name": "plant",
            "models": ["plant.gltf"],
            "components": {"bolts": {"name": "Bolt"}, "frame_parts": {"glob": "Root/Frame/*"}},
            "sensors": [
                {"id": f"S{k}", "quantity": "q", "unit": "u", "component": ref, "range": [0, 1]}
                for k, ref in enumerate(
                    ["Root/Frame/Bolt[2]", "Root/Frame/node[1]", "Washer", "bolts", "re:.*node.*"]
                )
            ],
        }
    )
    b = bind(project, model)
    by_id = lambda idx: sorted(model.components[i].id for i in idx)  # noqa: E731
    assert b.unbound_sensors == []
    assert by_id(b.sensor_nodes[0]) == ["Root/Frame/Bolt[2]"]  # a literal id, not a glob
    assert by_id(b.sensor_nodes[1]) == ["Root/Frame/node[1]"]
    assert by_id(b.sensor_nodes[2]) == ["Washer"]
    assert by_id(b.component_nodes["bolts"]) == [
        "Root/Cover/Bolt", "Root/Frame/Bolt[1]", "Root/Frame/Bolt[2]",
    ]  # fmt: skip
    assert len(b.component_nodes["frame_parts"]) == 5
    assert by_id(b.sensor_nodes[4]) == [
        "Root/Cover/node[1]",
        "Root/Frame/node[1]",
        "Root/Frame/node[2]",
    ]
    assert select(model, ComponentSelector(name="Root/Cover/Bolt")) == [8]  # by path


def test_flat_formats_index_repeats_among_their_siblings() -> None:
    """A format without a hierarchy (STL solids, OBJ groups): repeats are ``name[k]``."""
    builder = ModelBuilder("test")
    tri = (np.eye(3), np.array([[0, 1, 2]]))
    for name in ("pump", "fan", "pump", None, ""):
        builder.add(name, -1, *tri)
    model = builder.build()
    assert [c.id for c in model.components] == ["pump[1]", "fan", "pump[2]", "node[1]", "node[2]"]


def test_a_corpus_glb_reexported_with_an_extra_node_keeps_its_ids(
    corpus: Path, tmp_path: Path
) -> None:
    source = corpus / "meshes" / "gltf" / "boolean.glb"
    original = read_model(source)
    assert len({c.id for c in original.components}) == original.n_components
    document, binary = glb_parts(source)
    nodes: list[dict[str, Any]] = document["nodes"]
    # the file as another exporter might write it: names dropped and repeated
    meshed = [i for i, n in enumerate(nodes) if "mesh" in n]
    assert len(meshed) >= 6
    for i in meshed[:2]:
        nodes[i].pop("name", None)
        document["meshes"][nodes[i]["mesh"]].pop("name", None)
    for i in meshed[2:6]:
        nodes[i]["name"] = "Gusset"
    v1 = read_model(write_glb(tmp_path / "v1.glb", document, binary))
    counts = Counter(c.id for c in v1.components)
    assert max(counts.values()) == 1, "ids must be unique"
    assert sum(1 for c in v1.components if c.name == "Gusset") == 4
    assert all(c.id == c.path for c in v1.components if c.name in ("Gusset", ""))
    # re-exported with a new root node first in the file (every node index moves by one)
    scene = document["scenes"][document.get("scene", 0)]
    new_nodes, roots = with_inserted(
        nodes,
        scene["nodes"],
        [{"name": "Gusset", "mesh": nodes[meshed[0]]["mesh"], "_top": True}],
        None,
    )
    scene["nodes"] = roots
    document["nodes"] = new_nodes
    v2 = read_model(write_glb(tmp_path / "v2.glb", document, binary))
    old, new = paths(v1), paths(v2)
    assert {k: new.get(k) for k in old} == old
    assert set(new) - set(old) == {"Gusset"}  # a root of its own: a fifth Gusset, its path


@pytest.mark.parametrize("name", ["Part [1]", "a/b"])
def test_odd_unique_names_are_kept_as_ids(name: str) -> None:
    builder = ModelBuilder("test")
    root = builder.add("site")
    builder.add(name, root, np.eye(3), np.array([[0, 1, 2]]))
    model = builder.build()
    assert model.components[1].id == name and model.components[1].path == f"site/{name}"
