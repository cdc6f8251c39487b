"""Binding a project to a model: which model nodes each twin component and each sensor selects."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from twinviewer.core.colour import ComponentBinding
from twinviewer.core.model import ModelData, base_name
from twinviewer.core.project import ComponentSelector, Problem, Project


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


def _normalised(name: str) -> str:
    """``'L3 Booster-Fan'`` -> ``'l3_booster_fan'``: case and separators do not count."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def suggest_names(ref: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` most like ``ref``, best first ('did you mean ...?').

    Names are compared with case and separators ignored (``L3 Booster Fan`` finds
    ``l3_booster_fan``), by :func:`difflib.get_close_matches` (ratio >= 0.6).
    """
    by_norm: dict[str, str] = {}
    for c in candidates:
        by_norm.setdefault(_normalised(c), c)
    want = _normalised(ref)
    if want in by_norm:  # the same name spelled differently
        return [by_norm[want]]
    close = difflib.get_close_matches(want, list(by_norm), n=n, cutoff=0.6)
    return [by_norm[c] for c in close]


def component_names(project: Project, model: ModelData) -> list[str]:
    """What a sensor's ``component`` may name: the project's component ids, then the model's."""
    names = list(project.components)
    names += [c.id for c in model.components if c.id not in project.components]
    return names


def did_you_mean(suggestions: list[str]) -> str:
    """``"did you mean 'a' or 'b'?"`` (empty when there is nothing to suggest)."""
    if not suggestions:
        return ""
    quoted = [repr(s) for s in suggestions]
    text = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"did you mean {text}?"


def sensor_problems(
    project: Project, model: ModelData, binding: Binding, file: str
) -> list[Problem]:
    """Findings about each sensor's binding.

    A sensor whose ``component`` is neither a component id of the project nor a node of the
    model is an *error* (a typo would otherwise leave it silently uncoloured), with the closest
    names as a suggestion. A sensor without a component, or bound to a project component whose
    selector matches nothing (itself an error under ``components``), is a warning.
    """
    out = []
    unbound = set(binding.unbound_sensors)
    names: list[str] | None = None
    for i, s in enumerate(project.sensors):
        if s.id not in unbound:
            continue
        key = f"sensors[{i}].component"
        if s.component is None:
            out.append(
                Problem(
                    severity="warning",
                    file=file,
                    key=key,
                    message=f"sensor {s.id!r} has no component",
                )
            )
        elif s.component in project.components:
            out.append(
                Problem(
                    severity="warning",
                    file=file,
                    key=key,
                    message=f"sensor {s.id!r} is bound to nothing: component {s.component!r} "
                    "matches no node of the model",
                )
            )
        else:
            if names is None:
                names = component_names(project, model)
            hint = did_you_mean(suggest_names(s.component, names, n=1))
            out.append(
                Problem(
                    severity="error",
                    file=file,
                    key=key,
                    message=f"sensor {s.id!r} is bound to nothing: component {s.component!r} is "
                    "neither a component id in 'components' nor a node of the model"
                    + (f"; {hint}" if hint else ""),
                )
            )
    return out
