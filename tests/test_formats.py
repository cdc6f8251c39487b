"""Model readers against the real files in ``../shared/corpus/meshes`` (read in place).

Every reader must give components named as in the file, keep the hierarchy, own every triangle
by exactly one component, and turn bad input into one :class:`ModelReadError` naming the file.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinviewer.core.model import ModelData, ModelReadError
from twinviewer.formats import read_model, supported_suffixes

ALL_FILES = [
    "gltf/no_indices_3storybuilding.glb",
    "gltf/pins.glb",
    "gltf/nested.glb",
    "gltf/boolean.glb",
    "obj/two_objects.obj",
    "stl/ADIS16480.STL",
    "stl/multibody.stl",
    "3mf/pyramids.3mf",
    "step/red_cube_blue_cylinder.step",
    "step/featuretype.STEP",
    "mine/std_voxel_schema0.vtk",
    "mine/vox_mine_up.vtk",
    "mine/vox_region1.vtk",
    "ply/kinematic_assembly",
]


@pytest.fixture
def meshes(corpus: Path) -> Path:
    return corpus / "meshes"


def ids(model: ModelData) -> list[str]:
    return [c.id for c in model.components]


def component(model: ModelData, cid: str) -> tuple[int, Any]:
    i = model.index_of(cid)
    return i, model.components[i]


def part_points(model: ModelData, index: int) -> np.ndarray:
    """The vertices used by one component's own triangles."""
    tris = model.triangles[model.cell_component == index]
    return model.points[np.unique(tris)]


def gltf_frame(points: np.ndarray) -> np.ndarray:
    """Points back in the glTF file's own Y-up frame (the reader turns models Z-up)."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def signed_volume(model: ModelData, index: int) -> float:
    """Positive for a closed mesh whose triangles wind outwards."""
    tris = model.points[model.triangles[model.cell_component == index]].astype(np.float64)
    return float(np.einsum("ij,ij->i", tris[:, 0], np.cross(tris[:, 1], tris[:, 2])).sum() / 6)


def check_consistent(model: ModelData) -> None:
    """What every reader must guarantee, whatever the format."""
    n = model.n_components
    assert n > 0
    assert model.triangles.shape == (model.n_triangles, 3)
    assert model.triangles.dtype == np.int32 and model.cell_component.dtype == np.int32
    assert model.cell_component.shape == (model.n_triangles,)
    assert model.cell_component.min() >= 0 and model.cell_component.max() < n
    assert model.triangles.min() >= 0 and model.triangles.max() < len(model.points)
    assert np.isfinite(model.points).all()
    assert len(set(ids(model))) == n, "component ids must be unique"
    counts = model.triangle_counts()
    for i, c in enumerate(model.components):
        assert -1 <= c.parent < i, f"{c.id}: parent must come before its child"
        assert (c.kind == "part") == (counts[i] > 0), f"{c.id}: kind {c.kind}, {counts[i]} tris"
        above = "" if c.parent < 0 else model.components[c.parent].path + "/"
        assert c.path.startswith(above) and "/" not in c.path[len(above) :].strip("/")
        assert c.id in (c.name, c.path), f"{c.id}: neither its name nor its path {c.path}"
    # every group has something below it: no empty camera/light nodes
    kids = model.children()
    for i, c in enumerate(model.components):
        if c.kind == "group":
            assert kids[i], f"empty group {c.id}"


@pytest.mark.parametrize("relative", ALL_FILES)
def test_every_corpus_model_is_consistent(meshes: Path, relative: str) -> None:
    if relative.startswith("step/"):
        pytest.importorskip("cascadio")
    model = read_model(meshes / relative)
    check_consistent(model)
    assert model.source == str(meshes / relative)


# --- glTF -------------------------------------------------------------------------------------


def test_gltf_building_floors_are_children_of_building(meshes: Path) -> None:
    model = read_model(meshes / "gltf/no_indices_3storybuilding.glb")
    assert ids(model) == ["building", "floor_0", "floor_1", "floor_2"]
    assert [c.parent for c in model.components] == [-1, 0, 0, 0]
    assert model.components[0].kind == "group"
    assert model.components[2].path == "building/floor_1"
    assert model.triangle_counts().tolist() == [0, 24, 24, 24]
    assert model.units == "m"
    # The building node's -90 degree turn about x (z-up data into glTF's y-up) is applied, then
    # the reader's turn back to Z-up: the floors stack along +z, 3 m apart.
    bottoms = [part_points(model, i)[:, 2].min() for i in (1, 2, 3)]
    assert bottoms == pytest.approx([0.0, 3.0, 6.0], abs=1e-5)


def test_gltf_instanced_nodes_get_their_own_placed_geometry(meshes: Path) -> None:
    model = read_model(meshes / "gltf/pins.glb")
    dowels = [f"dowel#1:{k}:6:8:7" for k in range(9, 15)]
    assert ids(model) == ["world", "sides#1:5:2:4:3", *dowels]
    assert model.warnings == []  # '#' inside a file's name is not a duplicate marker
    indices = [model.index_of(d) for d in dowels]
    assert all(model.components[i].parent == 0 for i in indices)
    counts = model.triangle_counts()
    assert {int(counts[i]) for i in indices} == {314}
    # separate copies: no vertex shared between two instances
    used = [set(np.unique(model.triangles[model.cell_component == i]).tolist()) for i in indices]
    assert all(used[a].isdisjoint(used[b]) for a in range(6) for b in range(a + 1, 6))
    # placed by each node's own matrix (translations from the file)
    centres = gltf_frame(np.array([part_points(model, i).mean(axis=0) for i in indices]))
    expected_xy = [(118.76, 103.94), (63.76, 72.19), (63.76, 199.19), (8.77, 103.94),
                   (118.76, 167.44), (8.77, 167.44)]  # fmt: skip
    assert np.allclose(centres[:, :2], expected_xy, atol=0.5)
    assert model.components[indices[0]].colour == pytest.approx((0.902, 0.916, 0.968), abs=0.01)


def test_gltf_node_names_win_over_mesh_names_and_nest(meshes: Path) -> None:
    model = read_model(meshes / "gltf/nested.glb")
    assert ids(model) == ["block01", "block02", "block03"]
    assert [c.parent for c in model.components] == [-1, 0, 1]
    assert model.components[2].path == "block01/block02/block03"
    assert all(c.kind == "part" for c in model.components)
    # Parent transforms compose: block03 sits at the origin scaled down by block01's 0.27 scale.
    size = np.ptp(part_points(model, 2), axis=0)
    assert size[0] == pytest.approx(2 * 0.2694 * 0.6576, rel=1e-3)


def test_gltf_many_small_named_parts(meshes: Path) -> None:
    model = read_model(meshes / "gltf/boolean.glb")
    assert model.n_components == 29
    assert ids(model) == ["world", *[f"cut_{i}" for i in range(27)], "base"]
    assert sum(c.kind == "part" for c in model.components) == 28
    assert all(c.parent == 0 for c in model.components[1:])


def test_gltf_progress_is_reported_in_range(meshes: Path) -> None:
    seen: list[float] = []
    read_model(meshes / "gltf/boolean.glb", seen.append)
    assert seen and all(0.0 <= f <= 1.0 for f in seen)


def glb_parts(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    (json_len,) = struct.unpack_from("<I", data, 12)
    document = json.loads(data[20 : 20 + json_len])
    (bin_len,) = struct.unpack_from("<I", data, 20 + json_len)
    start = 28 + json_len
    return document, data[start : start + bin_len]


def write_glb(path: Path, document: dict[str, Any], binary: bytes) -> Path:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text
    body += struct.pack("<II", len(binary), 0x004E4942) + binary
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


def test_gltf_with_external_bin_and_data_uri(meshes: Path, tmp_path: Path) -> None:
    document, binary = glb_parts(meshes / "gltf/nested.glb")
    reference = read_model(meshes / "gltf/nested.glb")

    (tmp_path / "nested data.bin").write_bytes(binary)
    document["buffers"][0]["uri"] = "nested%20data.bin"
    (tmp_path / "external.gltf").write_text(json.dumps(document))
    external = read_model(tmp_path / "external.gltf")

    import base64

    document["buffers"][0]["uri"] = (
        "data:application/octet-stream;base64," + base64.b64encode(binary).decode()
    )
    (tmp_path / "embedded.gltf").write_text(json.dumps(document))
    embedded = read_model(tmp_path / "embedded.gltf")

    for model in (external, embedded):
        assert ids(model) == ids(reference)
        assert np.array_equal(model.points, reference.points)
        assert np.array_equal(model.triangles, reference.triangles)

    (tmp_path / "nested data.bin").unlink()
    with pytest.raises(ModelReadError, match="external buffer file 'nested%20data.bin' not found"):
        read_model(tmp_path / "external.gltf")


def test_gltf_duplicate_names_unnamed_nodes_and_mirrors(meshes: Path, tmp_path: Path) -> None:
    document, binary = glb_parts(meshes / "gltf/nested.glb")
    document["nodes"][1]["name"] = "block03"  # now block02 is called block03 too
    del document["nodes"][2]["name"]  # block01 falls back to its mesh's name
    document["nodes"][2]["scale"] = [-0.26938149333000183, 0.2843, 0.2694]  # a mirror
    document["nodes"].append({"name": "camera rig"})  # no mesh, no children: dropped
    document["scenes"][0]["nodes"].append(3)
    model = read_model(write_glb(tmp_path / "edited.glb", document, binary))
    # a repeated name: both nodes are identified by their paths (component ids: test_component_ids)
    assert ids(model) == ["Cube.002", "Cube.002/block03", "Cube.002/block03/block03"]
    assert model.components[2].name == "block03"
    assert model.warnings == [
        "duplicate component name 'block03' (2 nodes): each is identified by its path, "
        "e.g. 'Cube.002/block03'"
    ]
    # The mirrored parent flips winding back: the closed cubes still face outwards.
    reference = read_model(meshes / "gltf/nested.glb")
    for i in range(3):
        assert signed_volume(reference, i) > 0
        assert signed_volume(model, i) > 0


def test_gltf_primitive_modes_strip_and_fan(tmp_path: Path) -> None:
    square = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32).tobytes()
    document = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 48}],
        "bufferViews": [{"buffer": 0, "byteLength": 48}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"}],
        "meshes": [
            {"name": "strip", "primitives": [{"attributes": {"POSITION": 0}, "mode": 5}]},
            {"name": "fan", "primitives": [{"attributes": {"POSITION": 0}, "mode": 6}]},
            {"name": "lines", "primitives": [{"attributes": {"POSITION": 0}, "mode": 1}]},
        ],
        "nodes": [{"mesh": 0}, {"mesh": 1}, {"mesh": 2}],
    }
    model = read_model(write_glb(tmp_path / "modes.glb", document, square))
    assert ids(model) == ["strip", "fan"]  # the lines-only mesh has no surface
    strip = model.triangles[model.cell_component == 0] - model.triangles.min()
    assert strip.tolist() == [[0, 1, 2], [2, 1, 3]]  # odd strip triangles swap to keep winding
    pts = gltf_frame(model.points)
    normals = np.cross(
        pts[model.triangles[:, 1]] - pts[model.triangles[:, 0]],
        pts[model.triangles[:, 2]] - pts[model.triangles[:, 0]],
    )
    # the strip faces +z throughout; the fan's (0,2,3) turns the other way on this point order
    assert np.sign(normals[:, 2]).tolist() == [1, 1, 1, -1]


def test_gltf_interleaved_quantized_sparse_and_gpu_instances(tmp_path: Path) -> None:
    # Interleaved vertices: (x, y, z) as normalized uint16 followed by 2 bytes of padding.
    quantized = np.array([[0, 0, 0, 0], [65535, 0, 0, 0], [0, 65535, 0, 0]], "<u2")
    indices = np.array([0, 1, 2, 0], np.uint8)  # padded to 4 bytes
    sparse_index = np.array([2, 0], "<u2")  # one entry, padded
    sparse_value = np.array([0, 32768, 65535, 0], "<u2")  # vertex 2 -> (0, ~0.5, 1), padded
    offsets = np.array([[10, 0, 0], [20, 0, 0], [30, 0, 0]], "<f4")
    chunks = [quantized.tobytes(), indices.tobytes(), sparse_index.tobytes()]
    chunks += [sparse_value.tobytes(), offsets.tobytes()]
    starts = np.cumsum([0] + [len(c) for c in chunks]).tolist()
    views = [
        {"buffer": 0, "byteOffset": starts[i], "byteLength": len(c)} for i, c in enumerate(chunks)
    ]
    views[0]["byteStride"] = 8
    document = {
        "asset": {"version": "2.0"},
        "extensionsUsed": ["KHR_mesh_quantization", "EXT_mesh_gpu_instancing"],
        "buffers": [{"byteLength": starts[-1]}],
        "bufferViews": views,
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5123,
                "normalized": True,
                "count": 3,
                "type": "VEC3",
                "sparse": {
                    "count": 1,
                    "indices": {"bufferView": 2, "componentType": 5123},
                    "values": {"bufferView": 3},
                },
            },
            {"bufferView": 1, "componentType": 5121, "count": 3, "type": "SCALAR"},
            {"bufferView": 4, "componentType": 5126, "count": 3, "type": "VEC3"},
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "nodes": [
            {"name": "one", "mesh": 0},
            {
                "name": "row",
                "mesh": 0,
                "extensions": {"EXT_mesh_gpu_instancing": {"attributes": {"TRANSLATION": 2}}},
            },
        ],
    }
    model = read_model(write_glb(tmp_path / "features.glb", document, b"".join(chunks)))
    assert ids(model) == ["one", "row", "row[0]", "row[1]", "row[2]"]
    assert [c.parent for c in model.components] == [-1, -1, 1, 1, 1]
    pts = gltf_frame(model.points)
    one = pts[model.triangles[0]]
    assert one == pytest.approx(np.array([[0, 0, 0], [1, 0, 0], [0, 0.5, 1]]), abs=1e-4)
    for k in range(3):
        placed = pts[model.triangles[model.cell_component == 2 + k][0]]
        assert placed == pytest.approx(one + [10 * (k + 1), 0, 0], abs=1e-4)

    document["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    path = write_glb(tmp_path / "draco.glb", document, b"".join(chunks))
    assert "KHR_draco_mesh_compression" in bad(path).reason


# --- OBJ, STL, PLY ----------------------------------------------------------------------------


def test_obj_objects_are_components_in_file_order(meshes: Path) -> None:
    model = read_model(meshes / "obj/two_objects.obj")
    assert ids(model) == ["cube", "tetra"]
    assert model.triangle_counts().tolist() == [12, 4]
    assert all(c.parent == -1 for c in model.components)


def test_obj_groups_and_unnamed_file(tmp_path: Path) -> None:
    (tmp_path / "groups.obj").write_text(
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\ng lid\nf 1 2 3\ng base\nf 1 2 4\nf 2 3 4\n"
    )
    model = read_model(tmp_path / "groups.obj")
    assert ids(model) == ["lid", "base"]
    assert model.triangle_counts().tolist() == [1, 2]
    (tmp_path / "plain part.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    assert ids(read_model(tmp_path / "plain part.obj")) == ["plain part"]


def test_stl_ascii_single_solid_named_by_solid(meshes: Path) -> None:
    model = read_model(meshes / "stl/ADIS16480.STL")
    assert ids(model) == ["ci - ADIS16480-1"]
    assert model.n_triangles == 7436


def test_stl_multi_solid_ascii(meshes: Path) -> None:
    model = read_model(meshes / "stl/multibody.stl")
    assert ids(model) == ["bodyB", "bodyA"]
    assert model.triangle_counts().tolist() == [12, 20]


def test_stl_binary_is_named_by_stem(meshes: Path, tmp_path: Path) -> None:
    ascii_model = read_model(meshes / "stl/ADIS16480.STL")
    tris = ascii_model.points[ascii_model.triangles]
    record = np.zeros(len(tris), [("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    record["v"] = tris
    header = b"solid exported by some CAD tool".ljust(80, b"\0")
    path = tmp_path / "imu sensor.stl"
    path.write_bytes(header + struct.pack("<I", len(tris)) + record.tobytes())
    model = read_model(path)
    assert ids(model) == ["imu sensor"]
    assert model.n_triangles == 7436
    assert np.allclose(model.points[model.triangles], tris)


def test_stl_repeated_solid_names_warn(tmp_path: Path) -> None:
    facet = (
        "facet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n"
        "endloop\nendfacet\n"
    )
    (tmp_path / "twice.stl").write_text(f"solid pump\n{facet}endsolid pump\n" * 2)
    model = read_model(tmp_path / "twice.stl")
    assert ids(model) == ["pump[1]", "pump[2]"]
    assert model.warnings == [
        "duplicate component name 'pump' (2 nodes): each is identified by its path, e.g. 'pump[1]'"
    ]


def test_ply_single_part_named_by_stem(meshes: Path) -> None:
    model = read_model(meshes / "ply/kinematic_assembly/1008_radial_480.ply")
    assert ids(model) == ["1008_radial_480"]
    assert model.n_triangles > 0 and model.units is None


# --- 3MF, STEP, VTK ---------------------------------------------------------------------------


def test_3mf_build_items_and_composed_parts(meshes: Path) -> None:
    model = read_model(meshes / "3mf/pyramids.3mf")
    roots = [c.id for c in model.components if c.parent < 0]
    assert roots == [
        "Pyramid", "Pyramid_1", "Pyramid_2", "Pyramid_labeled_1", "Pyramid_labeled_2",
        "Pyramid_labeled_3", "Composed Part", "Composed Part_1", "Composed Part_2",
    ]  # fmt: skip
    group, comp = component(model, "Composed Part_1")
    assert comp.kind == "group"
    assert [model.components[k].name for k in model.children()[group]] == ["Pyramid_3", "Box"]
    assert component(model, "Composed Part_1/Box")[1].name == "Box"  # one Box per composed part
    assert model.n_triangles == 3276 and model.units == "mm"
    assert model.components[0].colour == pytest.approx((0x9E / 255,) * 3)
    # Each build item is placed by its own transform: the three plain pyramids 50.25 mm apart.
    xs = [part_points(model, model.index_of(p))[:, 0].mean() for p in roots[:3]]
    assert np.diff(xs) == pytest.approx([50.25, 50.25], abs=1e-3)


def test_step_keeps_names_and_colours(meshes: Path) -> None:
    pytest.importorskip("cascadio")
    model = read_model(meshes / "step/red_cube_blue_cylinder.step")
    assert sorted(ids(model)) == ["blue_cylinder", "red_cube"]
    _, red = component(model, "red_cube")
    _, blue = component(model, "blue_cylinder")
    # The STEP file's COLOUR_RGB values (sRGB), recovered through glTF's linear factors.
    assert red.colour == pytest.approx((0.8667, 0.3216, 0.1569), abs=0.005)
    assert blue.colour == pytest.approx((0.2314, 0.3804, 0.7059), abs=0.005)
    assert model.units == "m"


def test_step_single_part_triangle_count(meshes: Path) -> None:
    pytest.importorskip("cascadio")
    model = read_model(meshes / "step/featuretype.STEP")
    assert ids(model) == ["featuretype"]
    assert 8000 <= model.n_triangles <= 8700  # 8,326 with cascadio's default tolerances


def test_step_without_cascadio_says_what_to_install(
    meshes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cascadio", None)  # makes ``import cascadio`` fail
    with pytest.raises(ModelReadError, match=r"pip install 'twinviewer\[step\]'") as info:
        read_model(meshes / "step/featuretype.STEP")
    assert "featuretype.STEP" in str(info.value)


def test_vtk_block_model_surface_only(meshes: Path) -> None:
    model = read_model(meshes / "mine/std_voxel_schema0.vtk")
    assert ids(model) == ["std_voxel_schema0"]
    # 12,000 hexahedra in a 20 x 20 x 30 block: only the 3,200 outer quads, as 6,400 triangles.
    assert model.n_triangles == 6400
    assert ids(read_model(meshes / "mine/vox_mine_up.vtk")) == ["vox_mine_up"]
    assert read_model(meshes / "mine/vox_mine_up.vtk").n_triangles == 2


def test_vtk_multiblock_blocks_are_components(tmp_path: Path) -> None:
    from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet, vtkMultiBlockDataSet
    from vtkmodules.vtkFiltersSources import vtkCubeSource, vtkSphereSource
    from vtkmodules.vtkIOXML import vtkXMLMultiBlockDataWriter

    def block(source: Any) -> Any:
        source.Update()
        return source.GetOutput()

    inner = vtkMultiBlockDataSet()
    inner.SetBlock(0, block(vtkSphereSource()))
    inner.GetMetaData(0).Set(vtkCompositeDataSet.NAME(), "tank")
    inner.SetBlock(1, block(vtkCubeSource()))  # unnamed
    outer = vtkMultiBlockDataSet()
    outer.SetBlock(0, inner)
    outer.GetMetaData(0).Set(vtkCompositeDataSet.NAME(), "plant")
    outer.SetBlock(1, block(vtkCubeSource()))
    outer.GetMetaData(1).Set(vtkCompositeDataSet.NAME(), "pump")
    writer = vtkXMLMultiBlockDataWriter()
    writer.SetInputData(outer)
    writer.SetFileName(str(tmp_path / "site.vtm"))
    writer.Write()

    model = read_model(tmp_path / "site.vtm")
    assert ids(model) == ["plant", "tank", "plant/node[1]", "pump"]
    assert [c.parent for c in model.components] == [-1, 0, 0, -1]
    assert model.triangle_counts().tolist()[2:] == [12, 12]  # cube faces triangulated


# --- folders ----------------------------------------------------------------------------------


def test_folder_of_ply_parts(meshes: Path) -> None:
    folder = meshes / "ply/kinematic_assembly"
    model = read_model(folder)
    stems = sorted(p.stem for p in folder.glob("*.ply"))
    assert len(stems) == 25
    assert ids(model) == stems
    assert model.components[0].id == "1000_sheetmetal_outer"
    assert all(c.parent == -1 and c.kind == "part" for c in model.components)
    assert model.n_triangles == 25845
    # the parts keep their own geometry
    single = read_model(folder / "1008_radial_480.ply")
    assert model.triangle_counts()[model.index_of("1008_radial_480")] == single.n_triangles


def test_folder_multi_part_file_becomes_a_group(tmp_path: Path) -> None:
    (tmp_path / "valve.obj").write_text(
        "o body\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\no stem\nf 1 2 4\n"
    )
    (tmp_path / "flange.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (tmp_path / "notes.txt").write_text("not a model")
    model = read_model(tmp_path)
    assert ids(model) == ["flange", "valve", "body", "stem"]
    assert [c.parent for c in model.components] == [-1, -1, 1, 1]
    assert model.components[3].path == "valve/stem"
    assert model.triangle_counts().tolist() == [1, 0, 1, 1]
    check_consistent(model)


def test_folder_with_mixed_units_warns(meshes: Path, tmp_path: Path) -> None:
    document, binary = glb_parts(meshes / "gltf/nested.glb")
    write_glb(tmp_path / "blocks.glb", document, binary)  # glTF: metres
    (tmp_path / "tag.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")  # no unit
    model = read_model(tmp_path)
    assert ids(model) == ["blocks", "block01", "block02", "block03", "tag"]
    assert [c.parent for c in model.components] == [-1, 0, 1, 2, -1]
    assert model.units is None
    assert model.warnings == ["files use different units (m, unspecified); shown as stored"]


def test_folder_with_a_broken_file_loads_the_rest_and_warns(meshes: Path, tmp_path: Path) -> None:
    """A new user's folder: three good PLY parts from the corpus and one corrupt STL."""
    import shutil

    parts = ["1004_ring_outer", "1008_radial_480", "1013_vmount"]
    for stem in parts:
        shutil.copy(meshes / f"ply/kinematic_assembly/{stem}.ply", tmp_path)
    (tmp_path / "broken.stl").write_bytes(np.random.default_rng(1).bytes(500))
    (tmp_path / "empty.obj").write_bytes(b"")
    progress: list[float] = []
    model = read_model(tmp_path, progress.append)
    check_consistent(model)
    assert ids(model) == parts
    single = read_model(meshes / "ply/kinematic_assembly/1008_radial_480.ply")
    assert model.triangle_counts()[model.index_of("1008_radial_480")] == single.n_triangles
    skipped = [w for w in model.warnings if w.startswith("skipped ")]
    assert len(skipped) == 2, model.warnings
    assert skipped[0].startswith("skipped broken.stl: ") and len(skipped[0]) > 30  # + reason
    assert skipped[1] == "skipped empty.obj: file is empty"
    assert progress[-1] == pytest.approx(1.0) and progress == sorted(progress)


def test_folder_where_nothing_loads_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.stl").write_bytes(np.random.default_rng(1).bytes(500))
    with pytest.raises(ModelReadError) as info:
        read_model(tmp_path)
    assert info.value.path == str(tmp_path / "broken.stl")  # the one file's own error
    (tmp_path / "empty.obj").write_bytes(b"")
    with pytest.raises(ModelReadError) as info:
        read_model(tmp_path)
    assert info.value.path == str(tmp_path)
    assert "none of the 2 model files" in info.value.reason
    assert "broken.stl: no triangles found" in info.value.reason
    assert "empty.obj: file is empty" in info.value.reason


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelReadError, match="no supported model files"):
        read_model(tmp_path)


# --- bad input --------------------------------------------------------------------------------


def bad(path: Path) -> ModelReadError:
    with pytest.raises(ModelReadError) as info:
        read_model(path)
    error = info.value
    assert error.path == str(path)
    assert str(path) in str(error) and "\n" not in str(error) and error.reason
    return error


def test_truncated_glb(meshes: Path, tmp_path: Path) -> None:
    data = (meshes / "gltf/pins.glb").read_bytes()
    path = tmp_path / "pins.glb"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in bad(path).reason


def test_glb_whose_buffer_is_cut_short(meshes: Path, tmp_path: Path) -> None:
    document, binary = glb_parts(meshes / "gltf/boolean.glb")
    path = write_glb(tmp_path / "short.glb", document, binary[: len(binary) // 2])
    assert "truncated" in bad(path).reason


def test_random_bytes(tmp_path: Path) -> None:
    noise = np.random.default_rng(7).bytes(4096)
    for name in ("noise.glb", "noise.stl", "noise.3mf", "noise.vtp", "noise.ply"):
        (tmp_path / name).write_bytes(noise)
        bad(tmp_path / name)
    assert "glTF" in bad(tmp_path / "noise.glb").reason


def test_garbage_obj(tmp_path: Path) -> None:
    path = tmp_path / "garbage.obj"
    path.write_text("this is not\na wavefront file\n{}[]\n")
    assert "no faces" in bad(path).reason


def test_empty_missing_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "empty.glb").write_bytes(b"")
    assert bad(tmp_path / "empty.glb").reason == "file is empty"
    assert bad(tmp_path / "missing.stl").reason == "file not found"
    (tmp_path / "drawing.dwg").write_bytes(b"AC1032")
    reason = bad(tmp_path / "drawing.dwg").reason
    assert reason.startswith("unsupported file type") and ".glb" in reason


def test_supported_suffixes_cover_every_reader() -> None:
    expected = {".glb", ".gltf", ".obj", ".stl", ".ply", ".3mf", ".step", ".stp"}
    assert expected | {".vtp", ".vtu", ".vtk", ".vtm", ".urdf"} == set(supported_suffixes())
