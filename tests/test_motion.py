"""Motion bound to data: exact transforms of the moving parts, composition, limits, NaN, and the
session following live, scrubbed and recorded values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import trimesh

from twinviewer.core.model import ModelBuilder, ModelData
from twinviewer.core.motion import MotionRig, rotate_about
from twinviewer.core.project import Project
from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession


def box(lo, hi):
    m = trimesh.creation.box(bounds=[lo, hi])
    return m.vertices, m.faces


def rig_model() -> ModelData:
    """base (static), boom under base's sibling 'arm_root' group: boom -> bucket; a skip."""
    b = ModelBuilder("test")
    b.add("base", -1, *box((-1, -1, 0), (1, 1, 1)))
    arm = b.add("arm", -1)  # a group: what moves it moves its children
    boom = b.add("boom", arm, *box((0, -0.2, 1), (4, 0.2, 1.4)))
    b.add("bucket", boom, *box((4, -0.5, 0.5), (5, 0.5, 1.4)))
    b.add("skip", -1, *box((10, -1, -2), (12, 1, 0)))
    return b.build("m")


def project(motion, sensors=("boom_angle", "bucket_angle", "skip_depth")) -> Project:
    return Project.model_validate(
        {
            "models": ["x.glb"],
            "sensors": [
                {"id": s, "quantity": "position", "unit": "m", "range": [-1000, 1000]}
                for s in sensors
            ],
            "motion": motion,
        }
    )


def vertices_of(model: ModelData, name: str) -> np.ndarray:
    c = model.index_of(name)
    return np.unique(model.triangles[model.cell_component == c])


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts.astype(np.float64) @ m[:3, :3].T + m[:3, 3]


def test_translate_moves_the_component_by_the_scaled_value() -> None:
    model = rig_model()
    p = project(
        [
            {
                "kind": "translate",
                "component": "skip",
                "sensor": "skip_depth",
                "axis": [0, 0, -2],
                "scale": 0.5,
                "offset": 1.0,
            }
        ]
    )
    rig = MotionRig.build(p, model, {"boom_angle": 0, "bucket_angle": 1, "skip_depth": 2})
    pts = rig.posed_points(rig.pose(np.array([0.0, 0.0, 100.0])))
    skip = vertices_of(model, "skip")
    # amount 0.5 * 100 + 1 = 51 along -z (the axis is normalised)
    np.testing.assert_allclose(pts[skip], model.points[skip] + [0, 0, -51], atol=1e-4)
    others = np.setdiff1d(np.arange(len(model.points)), skip)
    np.testing.assert_array_equal(pts[others], model.points[others])


def test_rotate_about_an_axis_through_an_origin_is_exact() -> None:
    model = rig_model()
    p = project(
        [
            {
                "kind": "rotate",
                "component": "arm",
                "sensor": "boom_angle",
                "axis": [0, -1, 0],
                "origin": [0, 0, 1.2],
            }
        ]
    )
    rig = MotionRig.build(p, model, {"boom_angle": 0, "bucket_angle": 1, "skip_depth": 2})
    pts = rig.posed_points(rig.pose(np.array([90.0, 0.0, 0.0])))
    # boom tip corner (4, 0.2, 1.4) turned 90 degrees about -y through (0, 0, 1.2): x -> -z, z -> x
    tip = np.flatnonzero(np.all(np.isclose(model.points, [4, 0.2, 1.4]), axis=1))[0]
    np.testing.assert_allclose(pts[tip], [-0.2, 0.2, 5.2], atol=1e-5)
    # the bucket is below the boom's group in the hierarchy: it turns with it
    bucket = vertices_of(model, "bucket")
    ref = model.points[bucket].astype(np.float64)
    x, z = ref[:, 0], ref[:, 2] - 1.2
    np.testing.assert_allclose(pts[bucket][:, 0], -z, atol=1e-5)
    np.testing.assert_allclose(pts[bucket][:, 2], 1.2 + x, atol=1e-5)


def test_two_link_chain_composes_root_first() -> None:
    model = rig_model()
    p = project(
        [
            {
                "kind": "rotate",
                "component": "boom",
                "sensor": "boom_angle",
                "axis": [0, -1, 0],
                "origin": [0, 0, 1.2],
            },
            {
                "kind": "rotate",
                "component": "bucket",
                "sensor": "bucket_angle",
                "axis": [0, -1, 0],
                "origin": [4, 0, 1.2],
            },
        ]
    )
    rig = MotionRig.build(p, model, {"boom_angle": 0, "bucket_angle": 1, "skip_depth": 2})
    a, b = 30.0, -45.0
    pose = rig.pose(np.array([a, b, 0.0]))
    pts = rig.posed_points(pose)
    t_boom = rotate_about((0, -1, 0), (0, 0, 1.2), math.radians(a))
    t_bucket = rotate_about((0, -1, 0), (4, 0, 1.2), math.radians(b))
    bucket = vertices_of(model, "bucket")
    boom = vertices_of(model, "boom")
    np.testing.assert_allclose(
        pts[bucket], apply(t_boom @ t_bucket, model.points[bucket]), atol=1e-4
    )
    np.testing.assert_allclose(pts[boom], apply(t_boom, model.points[boom]), atol=1e-4)
    # the bucket's pivot rides on the boom: it is where the boom carried it
    pivot = apply(t_boom, np.array([[4.0, 0.0, 1.2]]))[0]
    np.testing.assert_allclose(
        (t_boom @ t_bucket)[:3, :3] @ [4, 0, 1.2] + (t_boom @ t_bucket)[:3, 3], pivot
    )
    transforms = pose.component_transforms()
    np.testing.assert_allclose(transforms[model.index_of("bucket")], t_boom @ t_bucket)
    assert model.index_of("base") not in transforms


def test_limits_clamp_and_nan_leaves_the_motion_at_rest() -> None:
    model = rig_model()
    p = project(
        [
            {
                "kind": "translate",
                "component": "skip",
                "sensor": "skip_depth",
                "axis": [0, 0, -1],
                "limits": [0, 20],
            }
        ]
    )
    rig = MotionRig.build(p, model, {"boom_angle": 0, "bucket_angle": 1, "skip_depth": 2})
    skip = vertices_of(model, "skip")
    pts = rig.posed_points(rig.pose(np.array([0.0, 0.0, 500.0])))
    np.testing.assert_allclose(pts[skip], model.points[skip] + [0, 0, -20], atol=1e-5)
    pts = rig.posed_points(rig.pose(np.array([0.0, 0.0, -5.0])))
    np.testing.assert_allclose(pts[skip], model.points[skip], atol=1e-6)
    pts = rig.posed_points(rig.pose(np.array([0.0, 0.0, np.nan])))
    np.testing.assert_array_equal(pts, model.points)


def test_place_carries_the_origin_to_xyz_and_turns_by_heading() -> None:
    model = rig_model()
    p = project(
        [
            {
                "kind": "place",
                "component": "skip",
                "x": "px",
                "y": "py",
                "heading": "hd",
                "origin": [11, 0, -1],
            }
        ],
        sensors=("px", "py", "hd"),
    )
    rig = MotionRig.build(p, model, {"px": 0, "py": 1, "hd": 2})
    skip = vertices_of(model, "skip")
    pts = rig.posed_points(rig.pose(np.array([50.0, 20.0, 90.0])))
    rest = model.points[skip].astype(np.float64) - [11, 0, -1]
    turned = np.c_[-rest[:, 1], rest[:, 0], rest[:, 2]]  # +90 degrees about +z
    # z has no sensor: the origin keeps its own height
    np.testing.assert_allclose(pts[skip], turned + [50, 20, -1], atol=1e-4)
    # y missing (NaN): the origin's own y
    pts = rig.posed_points(rig.pose(np.array([50.0, np.nan, np.nan])))
    np.testing.assert_allclose(pts[skip], model.points[skip] + [39, 0, 0], atol=1e-4)


def test_unmatched_component_and_unknown_joint_are_warnings() -> None:
    model = rig_model()
    p = project(
        [
            {"kind": "translate", "component": "no_such_part", "sensor": "skip_depth"},
            {"kind": "joint", "joint": "elbow", "sensor": "boom_angle"},
        ]
    )
    rig = MotionRig.build(p, model, {"boom_angle": 0, "bucket_angle": 1, "skip_depth": 2})
    assert not rig.active
    assert any("no_such_part" in w for w in rig.warnings)
    assert any("no joint 'elbow'" in w for w in rig.warnings)


def test_place_refuses_limits() -> None:
    with pytest.raises(ValueError, match="limits"):
        project(
            [{"kind": "place", "component": "skip", "x": "px", "limits": [0, 1]}], sensors=("px",)
        )


# -- the session: live values, a scrubbed time ------------------------------------------------

SKIP_PROJECT = """\
name: hoist
models: [skip.glb]
sensors:
  - {id: skip_depth, quantity: depth, unit: m, component: skip, range: [0, 500]}
  - {id: skip_load, quantity: load, unit: t, component: skip, range: [0, 20],
     position: [11, 0, -1]}
motion:
  - {kind: translate, component: skip, sensor: skip_depth, axis: [0, 0, -1]}
"""


def write_skip_twin(folder: Path) -> Path:
    scene = trimesh.Scene()
    scene.add_geometry(
        trimesh.creation.box(bounds=[(-1, -1, 0), (1, 1, 1)]), node_name="base", geom_name="base"
    )
    scene.add_geometry(
        trimesh.creation.box(bounds=[(10, -1, -2), (12, 1, 0)]), node_name="skip", geom_name="skip"
    )
    (folder / "skip.glb").write_bytes(scene.export(file_type="glb"))
    path = folder / "hoist.twin.yaml"
    path.write_text(SKIP_PROJECT)
    return path


def test_session_poses_live_values_and_a_scrubbed_time(tmp_path: Path) -> None:
    session = TwinSession.open(write_skip_twin(tmp_path))
    model = session.model
    skip = vertices_of(model, "skip")
    rest = model.points[skip].copy()
    # glTF is Y-up: the reader turns it Z-up; find the skip's lowest point to check the axis
    session.update(10.0)
    assert session.posed_points is not None
    np.testing.assert_array_equal(session.posed_points, model.points)  # no value yet: at rest
    session.state.apply(SampleBatch(np.array([0], np.int32), np.array([5.0]), np.array([120.0])))
    session.update(10.0)
    np.testing.assert_allclose(session.posed_points[skip], rest + [0, 0, -120], atol=1e-4)
    np.testing.assert_array_equal(model.points[skip], rest)  # the model itself stays at rest
    # the marker of the sensor on the skip rides with it
    assert session.sensor_anchor(1) == pytest.approx((11.0, 0.0, -121.0))

    # history written in the test; the twin shown as it was at a past time
    store = session.open_history()
    assert store is not None
    store.append(
        SampleBatch(
            np.array([0, 0, 0], np.int32),
            np.array([100.0, 200.0, 300.0]),
            np.array([10.0, 250.0, 480.0]),
        )
    )
    store.flush()
    value, times = store.at(210.0)
    session.update(210.0, value, times)
    np.testing.assert_allclose(session.posed_points[skip], rest + [0, 0, -250], atol=1e-4)
    transforms = session.pose.transforms()
    np.testing.assert_allclose(transforms[model.index_of("skip")][:3, 3], [0, 0, -250])
    session.close()


def test_session_without_motion_has_no_pose(tmp_path: Path) -> None:
    path = write_skip_twin(tmp_path)
    path.write_text(SKIP_PROJECT.split("motion:")[0])
    session = TwinSession.open(path)
    session.update(1.0)
    assert session.posed_points is None
    assert session.pose.shown_model() is session.model


# -- the simulator's trips: the mine's skips in counterbalance, the loader on the decline -----


def test_mine_skips_counterbalance_and_loader_follows_the_decline() -> None:
    from twinviewer.core.project import load_project
    from twinviewer.sources.simulator import SignalModel

    root = Path(__file__).resolve().parents[1]
    project, _ = load_project(root / "assets" / "mine" / "mine.twin.yaml")
    cfg = next(c for c in project.sources if c.type == "simulator")
    model = SignalModel(project.sensors, cfg)
    ix = {s.id: i for i, s in enumerate(project.sensors)}
    t = np.arange(0, 170, 0.5)
    v = model.run(t)
    d1, d2 = v[:, ix["skip_1_depth"]], v[:, ix["skip_2_depth"]]
    np.testing.assert_allclose(d1 + d2, 188.0, atol=1e-9)  # one up while the other goes down
    assert d1.min() == 0.0 and d1.max() == 188.0
    assert d1[t == 30.0][0] == 188.0 and d2[t == 30.0][0] == 0.0  # after one 30 s wind
    # the loader: on the ramp's path, heading along it, the grade of the decline
    trip = cfg.trips[2]
    path = np.array(trip.path)
    xyz = v[:, [ix["loader_x"], ix["loader_y"], ix["loader_z"]]]
    assert (xyz[:, 2] <= 0).all() and xyz[:, 2].min() == pytest.approx(-40.0)
    on_leg = (np.abs(xyz[:, 0] - path[2, 0]) < 1e-9) & (xyz[:, 2] < -11) & (xyz[:, 2] > -19)
    assert on_leg.any()
    assert set(v[on_leg, ix["loader_heading"]]) == {90.0}  # the west leg runs north
    grade = math.degrees(math.atan2(-40.0 * 30 / 128, 30.0))
    np.testing.assert_allclose(v[on_leg, ix["loader_grade"]], grade)
