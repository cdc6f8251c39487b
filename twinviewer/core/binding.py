"""Binding a project to a model: which model nodes each twin component and each sensor selects."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.colour import ComponentBinding
from twinviewer.core.model import ModelData, base_name
from twinviewer.core.project import ComponentSelector, Project


def select(model: ModelData, selector: ComponentSelector) -> list[int]:
    """Indices of the model components a selector matches (by id, original name or path)."""
    comps = model.components
    if selector.name is not None:
        want = selector.name
        return [
            i
            for i, c in enumerate(comps)
            if c.id == want or c.path == want or (c.name == want and base_name(c.id) == want)
        ]
    if selector.glob is not None:
        pat = selector.glob
        return [
            i
            for i, c in enumerate(comps)
            if fnmatch.fnmatchcase(c.id, pat) or fnmatch.fnmatchcase(c.path, pat)
        ]
    rx = re.compile(selector.regex or "")
    return [i for i, c in enumerate(comps) if rx.fullmatch(c.id) or rx.fullmatch(c.path)]


@dataclass
class Binding:
    """The result of binding a project to its model.

    ``component_nodes`` maps each twin component id (from the project, or a model node name a
    sensor used directly) to the model components it selects; ``sensor_nodes`` gives each sensor
    the components it colours (its component's nodes and everything below them).
    """

    component_nodes: dict[str, list[int]]
    sensor_nodes: list[list[int]]
    colouring: ComponentBinding
    unmatched_components: list[str] = field(default_factory=list)  # selectors matching nothing
    unbound_sensors: list[str] = field(default_factory=list)  # sensors colouring nothing
    unbound_parts: list[int] = field(default_factory=list)  # model parts with no sensor

    def sensors_of(self, component: int) -> list[int]:
        return [int(s) for s in self.colouring.sensors_of(component)]


def bind(project: Project, model: ModelData) -> Binding:
    component_nodes = {cid: select(model, sel) for cid, sel in project.components.items()}
    unmatched = [cid for cid, nodes in component_nodes.items() if not nodes]
    kids = model.children()

    def expand(nodes: list[int]) -> list[int]:
        out, stack = [], list(nodes)
        seen: set[int] = set()
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            out.append(i)
            stack.extend(kids[i])
        return sorted(out)

    sensor_nodes: list[list[int]] = []
    unbound_sensors: list[str] = []
    for s in project.sensors:
        ref = s.component
        if ref is None:
            nodes = []
        elif ref in component_nodes:
            nodes = component_nodes[ref]
        else:  # a model node named directly
            nodes = select(model, ComponentSelector(name=ref))
            component_nodes.setdefault(ref, nodes)
        expanded = expand(nodes)
        if not expanded:
            unbound_sensors.append(s.id)
        sensor_nodes.append(expanded)

    counts = [len(n) for n in sensor_nodes]
    pair_sensor = np.repeat(np.arange(len(sensor_nodes), dtype=np.int32), counts)
    pair_component = (
        np.concatenate([np.asarray(n, np.int32) for n in sensor_nodes])
        if sum(counts)
        else np.zeros(0, np.int32)
    )
    covered = np.zeros(model.n_components, bool)
    covered[pair_component] = True
    parts = [i for i, c in enumerate(model.components) if c.kind == "part"]
    return Binding(
        component_nodes=component_nodes,
        sensor_nodes=sensor_nodes,
        colouring=ComponentBinding(model.n_components, pair_sensor, pair_component),
        unmatched_components=unmatched,
        unbound_sensors=unbound_sensors,
        unbound_parts=[i for i in parts if not covered[i]],
    )
