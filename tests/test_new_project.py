"""`twinviewer new MODEL`: a project beside a bare model, on real models of several formats."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import CORPUS
from twinviewer.cli import main
from twinviewer.commands.check import check
from twinviewer.core.binding import select
from twinviewer.core.model import ModelBuilder, ModelData
from twinviewer.core.project import load_project
from twinviewer.core.project_new import suggest_components
from twinviewer.formats.registry import read_model

MESHES = CORPUS / "meshes"

# model (relative to the corpus' meshes), and some of the components the project must name
CASES = {
    "gltf/no_indices_3storybuilding.glb": {"floor_0": {"name": "floor_0"}},
    "gltf/pins.glb": {"dowel": {"glob": "dowel#*"}, "sides": {"glob": "sides#*"}},
    "3mf/pyramids.3mf": {"composed_part": {"name": "Composed Part", "label": "Composed Part"}},
    "stl/multibody.stl": {"bodya": {"name": "bodyA"}, "bodyb": {"name": "bodyB"}},
    "step/red_cube_blue_cylinder.step": {"red_cube": {"name": "red_cube"}},
    "obj/two_objects.obj": {"cube": {"name": "cube"}, "tetra": {"name": "tetra"}},
    "ply/kinematic_assembly": {"1008_radial_480": {"name": "1008_radial_480"}},
}


def copy_model(rel: str, folder: Path) -> Path:
    src = MESHES / rel
    dst = folder / src.name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    return dst


@pytest.mark.parametrize("rel", list(CASES), ids=lambda r: Path(r).name)
def test_new_writes_a_project_that_checks_ok(
    rel: str, tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path = copy_model(rel, tmp_path)
    assert main(["new", str(model_path)]) == 0
    out = capsys.readouterr().out
    stem = model_path.name if model_path.is_dir() else model_path.stem
    project_path = tmp_path / f"{stem}.twin.yaml"
    assert f"Wrote {project_path}" in out
    assert f"twinviewer tags {project_path} import TAGS.csv" in out
    assert f"twinviewer open {project_path}" in out

    project, folder = load_project(project_path)
    assert [m.path for m in project.models] == [model_path.name]  # beside it, relative
    for cid, selector in CASES[rel].items():
        assert project.components[cid].model_dump(exclude_none=True) == selector
    assert project.sensors == [] and project.sources == []
    report = check(project_path)
    assert report.ok, [str(p) for p in report.problems]
    assert not [p for p in report.problems if p.key.startswith("components")]

    # the overview camera looks at the middle of the model from far enough to see all of it
    model = read_model(model_path)
    (view,) = project.views
    x0, x1, y0, y1, z0, z1 = model.bounds()
    radius = 0.5 * math.dist((x0, y0, z0), (x1, y1, z1))
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2])
    assert np.allclose(view.focal_point, centre, atol=radius * 1e-3)
    distance = math.dist(view.position, view.focal_point)
    assert distance >= radius / math.sin(math.radians(15)) * 0.99
    assert view.position[2] > view.focal_point[2] and view.up == (0, 0, 1)


def test_the_file_explains_itself(tmp_path: Path, corpus: Path) -> None:
    model_path = copy_model("gltf/no_indices_3storybuilding.glb", tmp_path)
    assert main(["new", str(model_path), "--name", "Office block"]) == 0
    text = (tmp_path / "no_indices_3storybuilding.twin.yaml").read_text()
    data = yaml.safe_load(text)
    assert data["name"] == "Office block"
    assert data["sensors"] == [] and data["sources"] == []
    assert list(data["components"]) == ["floor_0", "floor_1", "floor_2"]
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    assert "# Components:" in comments and "glob:" in comments and "regex:" in comments
    # a commented example sensor naming one of this model's components, and an MQTT source
    example = [line.lstrip("# ") for line in text.splitlines() if line.startswith("#   ")]
    assert "- id: P101_TT01" in " ".join(example)
    assert "component: floor_0" in comments
    assert "- type: mqtt" in comments and "url: mqtt://" in comments
    # the commented examples are valid YAML of the right shape once uncommented
    sensor = text[text.index("#   - id: P101_TT01") : text.index("sensors: []")]
    uncommented = "\n".join(line[2:].split("  #")[0] for line in sensor.splitlines()[: -0 or None])
    parsed = yaml.safe_load(uncommented)
    assert parsed[0]["component"] == "floor_0" and parsed[0]["range"] == [0, 120]


def test_existing_file_is_kept_unless_forced(tmp_path: Path, corpus: Path) -> None:
    model_path = copy_model("gltf/nested.glb", tmp_path)
    project_path = tmp_path / "mine.twin.yaml"
    project_path.write_text("# my own\n")
    r = subprocess.run(
        [sys.executable, "-m", "twinviewer", "new", str(model_path), "-o", str(project_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert project_path.read_text() == "# my own\n"
    assert main(["new", str(model_path), "-o", str(project_path), "--force"]) == 0
    project, _ = load_project(project_path)
    assert list(project.components) == ["block01"]


def test_output_elsewhere_names_the_model_relative_to_it(tmp_path: Path, corpus: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    model_path = copy_model("stl/multibody.stl", models)
    project_path = tmp_path / "twins" / "body.twin.yaml"
    project_path.parent.mkdir()
    assert main(["new", str(model_path), "-o", str(project_path)]) == 0
    project, _ = load_project(project_path)
    assert project.models[0].path == "../models/multibody.stl"
    assert check(project_path).ok


def test_an_unreadable_model_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"glTF\x02\x00\x00\x00garbage")
    assert main(["new", str(bad)]) == 1
    assert "broken.glb" in capsys.readouterr().err
    assert not (tmp_path / "broken.twin.yaml").exists()


def test_instance_patterns_survive_a_renumbering_reexport() -> None:
    def model(names: list[str]) -> ModelData:
        b = ModelBuilder("cad")
        root = b.add("assembly")
        tri = np.array([[0, 1, 2]])
        pts = np.eye(3)
        for n in names:
            b.add(n, root, pts, tri)
        return b.build()

    first = model(["Bracket:1", "Bracket:2", "Cube.001", "dowel#1:9:6", "Motor"])
    suggested = {c.id: c for c in suggest_components(first)}
    assert {k: (c.selector.glob or c.selector.name, c.nodes) for k, c in suggested.items()} == {
        "bracket": ("Bracket:*", 2),
        "cube": ("Cube.*", 1),
        "dowel": ("dowel#*", 1),
        "motor": ("Motor", 1),
    }
    # the CAD tool renumbers the instances and regroups the motor: every component still matches
    b = ModelBuilder("cad again")
    top = b.add("assembly_v2")
    sub = b.add("drive", top)
    tri, pts = np.array([[0, 1, 2]]), np.eye(3)
    for n in ["Bracket:5", "Bracket:9", "Cube.004", "dowel#2:1:1"]:
        b.add(n, top, pts, tri)
    b.add("Motor", sub, pts, tri)
    again = b.build()
    for c in suggested.values():
        assert select(again, c.selector), c
    assert len(select(again, suggested["bracket"].selector)) == 2
