"""Moving parts (``motion:``): the mine's skips and loader fed by the simulator, and a URDF
robot posed by its joint sensors.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_motion_screenshots.py

Writes, beside this script:

- ``mine-moving-skips.png``: the mine demo 20 s into its simulated feed, looking into the shaft:
  skip 1 is 131 m down on its way to the loading pocket while skip 2, in counterbalance, is
  57 m down on its way up to the tip;
- ``mine-loader.png``: the loader at the same moment, driving down the decline (x, y, z,
  heading and grade from its position sensors);
- ``urdf-robot.png``: a small arm read from URDF (box, cylinder and sphere links and an STL
  gripper written here) with its shoulder, elbow, wrist and slide joints at the values of their
  same-named sensors, beside a ghost of its zero configuration.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import trimesh

from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession
from twinviewer.session.headless import apply_feed, draw_image

HERE = Path(__file__).resolve().parent
MINE = HERE.parents[1] / "assets" / "mine" / "mine.twin.yaml"
SIZE = (1600, 1000)

ARM = """\
<?xml version="1.0"?>
<robot name="demo_arm">
  <material name="base"><color rgba="0.35 0.38 0.42 1"/></material>
  <material name="arm"><color rgba="0.93 0.55 0.13 1"/></material>
  <link name="base_link">
    <visual><origin xyz="0 0 0.1"/><geometry><cylinder radius="0.25" length="0.2"/></geometry>
      <material name="base"/></visual>
  </link>
  <joint name="turret" type="revolute">
    <parent link="base_link"/><child link="column"/><origin xyz="0 0 0.2"/>
    <axis xyz="0 0 1"/><limit lower="-3" upper="3" effort="1" velocity="1"/>
  </joint>
  <link name="column">
    <visual><origin xyz="0 0 0.25"/><geometry><box size="0.22 0.22 0.5"/></geometry>
      <material name="arm"/></visual>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="column"/><child link="upper_arm"/><origin xyz="0 0 0.5"/>
    <axis xyz="0 1 0"/><limit lower="-2" upper="2" effort="1" velocity="1"/>
  </joint>
  <link name="upper_arm">
    <visual><origin xyz="0 0 0"/><geometry><sphere radius="0.13"/></geometry>
      <material name="base"/></visual>
    <visual><origin xyz="0 0 0.4"/><geometry><box size="0.14 0.14 0.8"/></geometry>
      <material name="arm"/></visual>
  </link>
  <joint name="elbow" type="revolute">
    <parent link="upper_arm"/><child link="forearm"/><origin xyz="0 0 0.8"/>
    <axis xyz="0 1 0"/><limit lower="-2.5" upper="2.5" effort="1" velocity="1"/>
  </joint>
  <link name="forearm">
    <visual><origin xyz="0 0 0"/><geometry><sphere radius="0.1"/></geometry>
      <material name="base"/></visual>
    <visual><origin xyz="0 0 0.3" rpy="0 0 0"/><geometry><cylinder radius="0.06" length="0.6"/>
      </geometry><material name="arm"/></visual>
  </link>
  <joint name="wrist" type="continuous">
    <parent link="forearm"/><child link="hand"/><origin xyz="0 0 0.6"/><axis xyz="0 0 1"/>
  </joint>
  <link name="hand">
    <visual><origin xyz="0 0 0.04"/><geometry><box size="0.2 0.08 0.08"/></geometry>
      <material name="base"/></visual>
  </link>
  <joint name="slide" type="prismatic">
    <parent link="hand"/><child link="gripper"/><origin xyz="0 0 0.08"/>
    <axis xyz="1 0 0"/><limit lower="-0.06" upper="0.06" effort="1" velocity="1"/>
  </joint>
  <link name="gripper">
    <visual><geometry><mesh filename="meshes/gripper.stl"/></geometry>
      <material name="arm"/></visual>
  </link>
</robot>
"""

ARM_PROJECT = """\
name: URDF arm
models: [arm.urdf]
sensors:
  - {id: turret, quantity: angle, unit: rad, component: column, range: [-3, 3]}
  - {id: shoulder, quantity: angle, unit: rad, component: upper_arm, range: [-2, 2]}
  - {id: elbow, quantity: angle, unit: rad, component: forearm, range: [-2.5, 2.5]}
  - {id: wrist, quantity: angle, unit: rad, component: hand, range: [-3.2, 3.2]}
  - {id: slide, quantity: position, unit: m, component: gripper, range: [-0.06, 0.06]}
history: {enabled: false}
"""


def picture(session, camera, title: str, when: str, outline: list[int], out: Path) -> None:
    """The session drawn as ``twinviewer render`` draws it, with ``outline`` selected."""
    import pyvista as pv

    from twinviewer.render.scene import TwinScene, configure_for_software_rendering
    from twinviewer.session.headless import draw_session

    configure_for_software_rendering()
    plotter = pv.Plotter(off_screen=True, window_size=list(SIZE))
    try:
        scene = TwinScene(plotter, session.project.display.background)
        scene.show_model(session.model)
        scene.show_markers(session.sensor_positions()[1])
        draw_session(scene, session)
        scene.highlight(outline)
        scene.set_camera(*camera)
        scene.set_caption("title", f"{title}   {when}", "upper_left", 18)
        plotter.screenshot(str(out))
    finally:
        plotter.close()


def mine() -> None:
    session = TwinSession.open(MINE)
    now = apply_feed(session, 20.0)
    session.update(now)
    v, ix = session.shown_value, session.sensor_index
    d1, d2 = v[ix["skip_1_depth"]], v[ix["skip_2_depth"]]
    when = f"t = 20 s of simulated feed: skip 1 {d1:.0f} m down, skip 2 {d2:.0f} m down"
    shaft = ((-150.0, -105.0, -58.0), (0.0, 0.0, -70.0), (0.0, 0.0, 1.0))
    skips = [session.model.index_of(f"shaft_skip_{n}") for n in (1, 2)]
    picture(
        session,
        shaft,
        "Underground mine: skips in counterbalance (outlined)",
        when,
        skips,
        HERE / "mine-moving-skips.png",
    )
    x, y, z = (float(v[ix[k]]) for k in ("loader_x", "loader_y", "loader_z"))
    heading, grade = float(v[ix["loader_heading"]]), float(v[ix["loader_grade"]])
    loader = ((x + 24.0, y - 14.0, z + 26.0), (x, y + 2.0, z + 1.0), (0.0, 0.0, 1.0))
    where = (
        f"loader at ({x:.1f}, {y:.1f}, {z:.1f}) m, heading {heading:.0f} deg, grade {grade:.1f} deg"
    )
    picture(
        session,
        loader,
        "Underground mine: loader on the decline",
        where,
        [session.model.index_of("ramp_loader")],
        HERE / "mine-loader.png",
    )
    session.close()


def robot() -> None:
    folder = Path(tempfile.mkdtemp(prefix="tv-urdf-"))
    (folder / "meshes").mkdir()
    fingers = trimesh.util.concatenate(
        [
            trimesh.creation.box(
                extents=(0.03, 0.07, 0.16),
                transform=trimesh.transformations.translation_matrix((sx, 0, 0.08)),
            )
            for sx in (-0.06, 0.06)
        ]
    )
    fingers.export(folder / "meshes" / "gripper.stl")
    (folder / "arm.urdf").write_text(ARM)
    (folder / "arm.twin.yaml").write_text(ARM_PROJECT)
    session = TwinSession.open(folder / "arm.twin.yaml")
    q = {"turret": 0.6, "shoulder": 0.7, "elbow": 1.2, "wrist": 0.8, "slide": 0.04}
    ids = np.array([session.sensor_index[k] for k in q], np.int32)
    session.state.apply(SampleBatch(ids, np.full(len(q), 1.0), np.array(list(q.values()))))
    session.update(1.0)
    text = ", ".join(f"{k} {val:g} {'m' if k == 'slide' else 'rad'}" for k, val in q.items())
    camera = ((2.6, -2.4, 1.6), (0.3, 0.0, 0.75), (0.0, 0.0, 1.0))
    draw_image(
        session,
        SIZE,
        camera,
        "URDF arm posed by its joint sensors",
        when=text,
        out=HERE / "urdf-robot.png",
    )
    posed = session.posed_points
    assert posed is not None
    model = session.model
    grip = np.unique(model.triangles[model.cell_component == model.index_of("gripper")])
    sys.stdout.write(
        f"gripper centre {np.round(posed[grip].mean(0), 3)} m "
        f"(at rest {np.round(model.points[grip].mean(0), 3)} m)\n"
    )


def main() -> int:
    mine()
    robot()
    return 0


if __name__ == "__main__":
    sys.exit(main())
