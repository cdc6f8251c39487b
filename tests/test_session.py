"""TwinSession without a GUI: opening projects and bare models, colours after batches."""

from __future__ import annotations

from pathlib import Path

from twinviewer.core.colour import ALARM_COLOUR, COLORMAPS, NEUTRAL, WARNING_COLOUR, Status
from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession


def project(tmp_path: Path, corpus: Path) -> Path:
    p = tmp_path / "two.twin.yaml"
    p.write_text(
        f"name: Two files\n"
        f"models: [{corpus / 'meshes/gltf/nested.glb'}, {corpus / 'meshes/stl/multibody.stl'}]\n"
        "components:\n  bodies: {regex: 'body[AB]'}\n"
        "sensors:\n"
        "  - {id: T_A, quantity: temperature, unit: degC, component: bodyA, range: [0, 100],"
        " warning: {high: 60}, alarm: {high: 80}}\n"
        "  - {id: V_AB, quantity: vibration, unit: mm/s, component: bodies, range: [0, 10],"
        " warning: {high: 7}}\n"
    )
    return p


def test_several_model_files_become_one_model(tmp_path: Path, corpus: Path) -> None:
    s = TwinSession.open(project(tmp_path, corpus))
    ids = [c.id for c in s.model.components]
    assert ids == ["block01", "block02", "block03", "bodyB", "bodyA"]
    counts = s.model.triangle_counts()
    assert counts[ids.index("bodyA")] == 20 and counts[ids.index("block03")] == 12
    assert sorted(s.model.components[i].id for i in s.binding.component_nodes["bodies"]) == [
        "bodyA",
        "bodyB",
    ]


def test_bare_model_has_components_and_no_sensors(corpus: Path) -> None:
    s = TwinSession.open(corpus / "meshes/step/red_cube_blue_cylinder.step")
    assert not s.sensors and s.legend() is None
    s.update()
    # with no sensors, parts keep the file's own colours (a red cube, a blue cylinder)
    red = s.component_rgba[s.model.index_of("red_cube")].astype(int)
    blue = s.component_rgba[s.model.index_of("blue_cylinder")].astype(int)
    assert red[0] > 2 * red[1] and red[0] > 2 * red[2]
    assert blue[2] > 1.5 * blue[0] and blue[2] > blue[1]


def test_colours_follow_batches_worst_status_and_active_quantity(
    tmp_path: Path, corpus: Path
) -> None:
    s = TwinSession.open(project(tmp_path, corpus))
    a, b = s.model.index_of("bodyA"), s.model.index_of("bodyB")
    s.queue.put(SampleBatch.of([0, 1], [100.0, 100.0], [85.0, 8.0]))
    assert s.drain() == 2
    s.update(now=101.0)
    assert tuple(s.component_rgba[a]) == tuple(ALARM_COLOUR)  # temperature alarm beats warning
    assert tuple(s.component_rgba[b]) == tuple(WARNING_COLOUR)  # only the vibration sensor
    assert s.component_state[a] == Status.ALARM
    assert tuple(s.component_rgba[s.model.index_of("block01")]) == tuple(NEUTRAL)
    s.set_active_quantity("vibration")
    s.update(now=101.0)
    assert tuple(s.component_rgba[a]) == tuple(WARNING_COLOUR)
    legend = s.legend()
    assert legend is not None and legend.title == "Vibration [mm/s]" and legend.hi == 10.0
    s.queue.put(SampleBatch.of([1], [102.0], [5.0]))
    s.drain()
    s.update(now=102.0)
    assert tuple(s.component_rgba[b]) == tuple(COLORMAPS["viridis"][int(0.5 * 255)])
