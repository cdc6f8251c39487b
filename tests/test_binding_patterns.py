"""A sensor's ``component`` as a name, a shell pattern or a regex (core/binding), and the
sensors it leaves bound to nothing."""

from __future__ import annotations

import numpy as np

from twinviewer.core.binding import (
    bind,
    match_reference,
    reference_to,
    sensor_problems,
    unbound_sensors,
)
from twinviewer.core.model import ModelBuilder, ModelData
from twinviewer.core.project import Project

TRI = (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))


def model() -> ModelData:
    b = ModelBuilder("test")
    site = b.add("site")
    for name in ("pump_01", "pump_02", "pump_03", "fan_03", "Part [1]"):
        b.add(name, site, *TRI)
    house = b.add("hoist_house", site)
    b.add("hoist_drum", house, *TRI)
    return b.build()


def project(*components: str | None, **selectors: dict) -> Project:
    sensors = [
        {"id": f"s{i}", "quantity": "q", "unit": "u", "range": [0, 1], "component": c}
        for i, c in enumerate(components)
    ]
    return Project.model_validate(
        {"name": "t", "models": ["m.glb"], "components": selectors, "sensors": sensors}
    )


def names(m: ModelData, nodes) -> list[str]:
    return sorted(m.components[i].id for i in nodes)


def test_a_reference_is_a_component_id_a_name_a_glob_or_a_regex() -> None:
    m = model()
    p = project(hoist={"name": "hoist_house"}, pumps={"glob": "pump_*"})
    cases = {
        "pump_02": ("name", ["pump_02"], False),
        "site/pump_02": ("name", ["pump_02"], False),  # by path
        "pump_0*": ("glob", ["pump_01", "pump_02", "pump_03"], True),
        "site/*_03": ("glob", ["fan_03", "pump_03"], True),  # on the path
        "re:pump_0[12]": ("regex", ["pump_01", "pump_02"], True),
        "re:pump": ("regex", [], True),  # a full match, not a search
        "Part [1]": ("name", ["Part [1]"], False),  # a name before a pattern
        "hoist": ("component", ["hoist_house"], False),
        "pumps": ("component", ["pump_01", "pump_02", "pump_03"], True),
        "fan_3": ("name", [], False),
    }
    for ref, (kind, want, pattern) in cases.items():
        got = match_reference(p, m, ref)
        assert (got.kind, names(m, got.nodes), got.pattern) == (kind, want, pattern), ref
    assert match_reference(p, m, "  ").kind == "none"
    bad = match_reference(p, m, "re:pump_(")
    assert bad.kind == "regex" and not bad.nodes and "does not compile" in bad.error


def test_sensors_bound_by_pattern_colour_every_match_and_its_subtree() -> None:
    m = model()
    b = bind(project("pump_0*", "re:hoist_.*", "fan_3", None), m)
    assert names(m, b.sensor_nodes[0]) == ["pump_01", "pump_02", "pump_03"]
    assert names(m, b.sensor_nodes[1]) == ["hoist_drum", "hoist_house"]  # the drum below
    assert b.unbound_sensors == ["s2", "s3"]


def test_unbound_sensors_name_the_reference_and_the_closest_component() -> None:
    m = model()
    p = project("fan_3", "pmp_*", "re:(", None, "pump_01")
    found = unbound_sensors(p, m, bind(p, m))
    assert [(u.sensor, u.component, u.kind) for u in found] == [
        ("s0", "fan_3", "name"),
        ("s1", "pmp_*", "glob"),
        ("s2", "re:(", "regex"),
    ]  # s3 has no component: not "bound to no component", a warning of its own
    assert found[0].suggestions == ("fan_03",)
    assert found[0].describe() == "s0 → 'fan_3' (did you mean 'fan_03'?)"
    assert "does not compile" in found[2].describe()


def test_check_says_a_pattern_matches_nothing() -> None:
    m = model()
    p = project("fan_3", "pmp_*", None)
    problems = sensor_problems(p, m, bind(p, m), "t.twin.yaml")
    assert [(x.key, x.severity) for x in problems] == [
        ("sensors[0].component", "error"),
        ("sensors[1].component", "error"),
        ("sensors[2].component", "warning"),
    ]
    assert problems[0].message.endswith("did you mean 'fan_03'?")
    assert "the pattern 'pmp_*' matches no node of the model" in problems[1].message


def test_a_picked_node_is_named_by_the_project_component_that_names_it() -> None:
    m = model()
    p = project(hoist={"name": "hoist_house"}, pumps={"glob": "pump_*"})
    assert reference_to(p, m, m.index_of("hoist_house")) == "hoist"
    assert reference_to(p, m, m.index_of("pump_01")) == "pump_01"  # not the glob
