"""URDF: links as components in the kinematic tree, joints driven by sensors, checked against
forward kinematics computed by hand; xacro leftovers and missing meshes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import trimesh
import yaml

from twinviewer.core.model import ModelReadError
from twinviewer.core.motion import MotionRig
from twinviewer.core.project import Project
from twinviewer.formats import read_model

ROBOT = """\
<?xml version="1.0"?>
<robot name="arm">
  <material name="orange"><color rgba="0.9 0.5 0.1 1"/></material>
  <link name="base_link">
    <visual><origin xyz="0 0 0.05"/><geometry><box size="0.2 0.2 0.1"/></geometry></visual>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base_link"/><child link="upper_arm"/>
    <origin xyz="0 0 0.1" rpy="0 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-2" upper="2" effort="10" velocity="1"/>
  </joint>
  <link name="upper_arm">
    <visual><origin xyz="0 0 0.2"/><geometry><cylinder radius="0.03" length="0.4"/></geometry>
      <material name="orange"/></visual>
  </link>
  <joint name="elbow" type="continuous">
    <parent link="upper_arm"/><child link="forearm"/>
    <origin xyz="0 0 0.4" rpy="1.5707963267948966 0 0"/><axis xyz="0 0 1"/>
  </joint>
  <link name="forearm">
    <visual><origin xyz="0 0 0.05"/><geometry><box size="0.04 0.04 0.1"/></geometry></visual>
  </link>
  <joint name="slide" type="prismatic">
    <parent link="forearm"/><child link="tool"/>
    <origin xyz="0 0 0.1"/><axis xyz="1 0 0"/>
    <limit lower="0" upper="0.2" effort="10" velocity="1"/>
  </joint>
  <link name="tool">
    <visual><geometry><mesh filename="{tool}"/></geometry></visual>
  </link>
  <joint name="camera_mount" type="fixed">
    <parent link="tool"/><child link="camera"/><origin xyz="0.02 0 0"/>
  </joint>
  <link name="camera">
    <visual><geometry><sphere radius="0.01"/></geometry></visual>
  </link>
</robot>
"""


def write_robot(folder: Path, tool: str = "package://arm_description/meshes/tool.stl") -> Path:
    meshes = folder / "arm_description" / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    trimesh.creation.box(extents=(0.06, 0.02, 0.02)).export(meshes / "tool.stl")
    path = folder / "arm_description" / "urdf" / "arm.urdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ROBOT.replace("{tool}", tool))
    return path


def rot(axis: str, a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    m = np.eye(4)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def trans(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def link_poses(shoulder: float, elbow: float, slide: float) -> dict[str, np.ndarray]:
    """Forward kinematics the textbook way: each joint's origin, then its motion, in the
    parent link's frame (independent of the rest-coordinate screws the rig uses)."""
    upper = trans(0, 0, 0.1) @ rot("z", shoulder)
    fore = upper @ trans(0, 0, 0.4) @ rot("x", math.pi / 2) @ rot("z", elbow)
    tool = fore @ trans(0, 0, 0.1) @ trans(slide, 0, 0)
    camera = tool @ trans(0.02, 0, 0)
    return {
        "base_link": np.eye(4),
        "upper_arm": upper,
        "forearm": fore,
        "tool": tool,
        "camera": camera,
    }


def vertices(model, name: str) -> np.ndarray:
    c = model.index_of(name)
    return np.unique(model.triangles[model.cell_component == c])


def test_links_are_components_in_the_kinematic_tree(tmp_path: Path) -> None:
    model = read_model(write_robot(tmp_path))
    names = [c.name for c in model.components]
    assert names == ["base_link", "upper_arm", "forearm", "tool", "camera"]
    parent = {
        c.name: (model.components[c.parent].name if c.parent >= 0 else None)
        for c in model.components
    }
    assert parent == {
        "base_link": None,
        "upper_arm": "base_link",
        "forearm": "upper_arm",
        "tool": "forearm",
        "camera": "tool",
    }
    assert model.units == "m"
    assert model.components[1].colour == pytest.approx((0.9, 0.5, 0.1))
    assert not model.warnings
    joints = {j.name: j for j in model.joints}
    assert list(joints) == ["shoulder", "elbow", "slide"]  # the fixed joint is no joint
    assert joints["shoulder"].lower == -2 and joints["shoulder"].upper == 2
    assert joints["elbow"].type == "continuous" and joints["elbow"].lower is None
    # the elbow's z axis, turned 90 degrees about x by its origin, is -y in the world
    np.testing.assert_allclose(joints["elbow"].axis, (0, -1, 0), atol=1e-9)
    np.testing.assert_allclose(joints["elbow"].origin, (0, 0, 0.5), atol=1e-9)
    np.testing.assert_allclose(joints["slide"].origin, (0, -0.1, 0.5), atol=1e-9)
    assert model.components[joints["slide"].child].name == "tool"
    # the zero configuration: the tool's box (0.06 x 0.02 x 0.02) centred on its frame
    tool = model.points[vertices(model, "tool")]
    np.testing.assert_allclose((tool.min(0) + tool.max(0)) / 2, (0, -0.1, 0.5), atol=1e-6)


def test_joint_sensors_pose_every_link_as_forward_kinematics(tmp_path: Path) -> None:
    path = write_robot(tmp_path)
    model = read_model(path)
    project = Project.model_validate(
        {
            "models": [path.name],
            "sensors": [
                {"id": "shoulder", "quantity": "angle", "unit": "rad", "range": [-2, 2]},
                {"id": "elbow", "quantity": "angle", "unit": "rad", "range": [-3.2, 3.2]},
                {"id": "slide_mm", "quantity": "position", "unit": "mm", "range": [0, 200]},
            ],
            # shoulder and elbow are driven by their same-named sensors; the slide in mm
            "motion": [{"kind": "joint", "joint": "slide", "sensor": "slide_mm", "scale": 0.001}],
        }
    )
    rig = MotionRig.build(project, model, {"shoulder": 0, "elbow": 1, "slide_mm": 2})
    assert [m.label for m in rig.motions] == ["shoulder", "elbow", "slide"]
    q = (0.7, -1.1, 0.15)
    posed = rig.posed_points(rig.pose(np.array([q[0], q[1], q[2] * 1000])))
    rest_poses = link_poses(0, 0, 0)
    poses = link_poses(*q)
    for name, pose in poses.items():
        idx = vertices(model, name)
        local = np.linalg.inv(rest_poses[name])
        expected = (
            model.points[idx].astype(float) @ (pose @ local)[:3, :3].T + (pose @ local)[:3, 3]
        )
        np.testing.assert_allclose(posed[idx], expected, atol=1e-5, err_msg=name)

    # one pose by hand: shoulder and elbow at 90 degrees, the slide out 0.2 m; the tool's centre
    # (0, -0.1, 0.5) slides to (0.2, -0.1, 0.5), the elbow (about -y through z 0.5) lifts it to
    # (0, -0.1, 0.7), the shoulder (about z) swings it to (0.1, 0, 0.7)
    posed = rig.posed_points(rig.pose(np.array([math.pi / 2, math.pi / 2, 200.0])))
    tool = posed[vertices(model, "tool")]
    np.testing.assert_allclose((tool.min(0) + tool.max(0)) / 2, (0.1, 0, 0.7), atol=1e-5)

    # the joint's own limits clamp (shoulder to 2 rad, the slide to 0.2 m); NaN: at rest
    a = rig.posed_points(rig.pose(np.array([3.0, 0.0, 900.0])))
    b = rig.posed_points(rig.pose(np.array([2.0, 0.0, 200.0])))
    np.testing.assert_allclose(a, b, atol=1e-6)
    rest = rig.posed_points(rig.pose(np.array([np.nan, np.nan, np.nan])))
    np.testing.assert_array_equal(rest, model.points)


def test_xacro_leftovers_are_a_clear_error(tmp_path: Path) -> None:
    path = write_robot(tmp_path, tool="$(find arm_description)/meshes/tool.stl")
    with pytest.raises(ModelReadError) as err:
        read_model(path)
    msg = str(err.value)
    assert "$(find arm_description)" in msg and "run xacro first" in msg
    assert '<mesh filename="$(find arm_description)/meshes/tool.stl"/>' in msg
    line = next(k for k, t in enumerate(path.read_text().splitlines(), 1) if "<mesh" in t)
    assert f"line {line}:" in msg
    path.write_text(
        ROBOT.replace(
            '<link name="camera">', '<xacro:arm_camera parent="tool"/><link name="camera">'
        )
    )
    with pytest.raises(ModelReadError, match="xacro:arm_camera.*run xacro first"):
        read_model(path)


def test_missing_mesh_is_a_warning_and_a_placeholder(tmp_path: Path) -> None:
    path = write_robot(tmp_path, tool="package://arm_description/meshes/gone.stl")
    model = read_model(path)
    assert any(
        "link 'tool'" in w and "gone.stl" in w and "placeholder" in w for w in model.warnings
    )
    tool = model.points[vertices(model, "tool")]
    np.testing.assert_allclose(tool.max(0) - tool.min(0), (0.1, 0.1, 0.1), atol=1e-6)
    assert len(model.joints) == 3  # the rest loaded


def test_new_project_from_urdf_has_one_sensor_per_movable_joint(tmp_path: Path) -> None:
    from twinviewer.core.project_new import new_project_text

    path = write_robot(tmp_path)
    text = new_project_text(read_model(path), path.name, "arm.twin.yaml")
    data = yaml.safe_load(text)
    Project.model_validate(data)
    sensors = {s["id"]: s for s in data["sensors"]}
    assert sensors["shoulder"]["unit"] == "rad" and sensors["shoulder"]["range"] == [-2, 2]
    assert sensors["elbow"]["quantity"] == "angle"
    assert sensors["slide"] == {
        **sensors["slide"],
        "quantity": "position",
        "unit": "m",
        "range": [0.0, 0.2],
        "component": "tool",
    }
