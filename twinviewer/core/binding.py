"""Binding a project to a model: which model nodes each twin component and each sensor selects.

A sensor's ``component`` names what it colours, tried in this order (:func:`match_reference`):

1. a component id of the project's ``components`` (whose selector may itself be a pattern);
2. ``re:<regex>``: a regular expression matching a node's id or path in full;
3. a model node's name (its id, original name or path), exactly;
4. a shell pattern (``*``, ``?``, ``[...]``) on a node's id or path, e.g. ``pump_*``.

A name is tried before a shell pattern, so a node literally named ``Part [1]`` keeps its binding.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

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


REGEX_PREFIX = "re:"
GLOB_CHARACTERS = frozenset("*?[")
MatchKind = Literal["none", "component", "name", "glob", "regex"]


@dataclass(frozen=True)
class Match:
    """What a sensor's ``component`` reference selects (see :func:`match_reference`).

    ``kind`` says how it was read: a project ``component`` id, an exact node ``name``, a ``glob``
    or a ``regex`` (``none``: empty); ``pattern`` whether it may match many nodes (a glob, a
    regex, or a component id whose selector is one); ``nodes`` the model nodes it names (their
    subtrees are coloured too); ``error`` why it cannot be read (a regex that does not compile).
    """

    ref: str
    kind: MatchKind
    nodes: tuple[int, ...] = ()
    pattern: bool = False
    error: str = ""


def selector_of(ref: str) -> ComponentSelector:
    """How a reference that is not a project component id selects model nodes: ``re:...`` a
    regex, wildcards a glob, anything else a name (raises ``ValueError`` for a bad regex)."""
    if ref.startswith(REGEX_PREFIX):
        return ComponentSelector(regex=ref[len(REGEX_PREFIX) :])
    if GLOB_CHARACTERS & set(ref):
        return ComponentSelector(glob=ref)
    return ComponentSelector(name=ref)


def match_reference(project: Project, model: ModelData, ref: str | None) -> Match:
    """The model nodes a sensor's ``component`` reference selects, and how it was read."""
    ref = (ref or "").strip()
    if not ref:
        return Match("", "none")
    sel = project.components.get(ref)
    if sel is not None:
        patterned = sel.name is None
        return Match(ref, "component", tuple(select(model, sel)), patterned)
    try:
        sel = selector_of(ref)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        msg = str(errors()[0]["msg"]) if callable(errors) else str(exc)
        return Match(ref, "regex", (), True, msg.removeprefix("Value error, "))
    if sel.regex is not None:
        return Match(ref, "regex", tuple(select(model, sel)), True)
    named = select(model, ComponentSelector(name=ref))
    if named or sel.glob is None:
        return Match(ref, "name", tuple(named))
    return Match(ref, "glob", tuple(select(model, sel)), True)


def reference_to(project: Project, model: ModelData, index: int) -> str:
    """What a sensor bound to model node ``index`` says: the id of a project component that
    selects exactly that node (by name), else the node's own id."""
    for cid, sel in project.components.items():
        if sel.name is not None and select(model, sel) == [index]:
            return cid
    return model.components[index].id


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
        else:  # a model node named directly, or a pattern
            nodes = list(match_reference(project, model, ref).nodes)
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


@dataclass(frozen=True)
class UnboundSensor:
    """A sensor whose ``component`` names something that matches no node of the model."""

    index: int  # in the project's sensors
    sensor: str
    component: str
    kind: MatchKind  # how the reference was read (see Match)
    suggestions: tuple[str, ...] = ()  # the closest component names, best first
    error: str = ""  # why the reference cannot be read (a regex that does not compile)

    def describe(self) -> str:
        """``fan_speed → 'fan_3' (did you mean 'fan_03'?)``."""
        hint = did_you_mean(list(self.suggestions))
        why = f" ({self.error})" if self.error else (f" ({hint})" if hint else "")
        return f"{self.sensor} → {self.component!r}{why}"


def unbound_sensors(
    project: Project, model: ModelData, binding: Binding, n_suggestions: int = 1
) -> list[UnboundSensor]:
    """The sensors bound to a component that matches nothing, with the closest names.

    A sensor with no ``component`` at all is not listed (it may be a point sensor placed by
    its ``position``); :func:`sensor_problems` warns about those.
    """
    unbound = set(binding.unbound_sensors)
    out = []
    names: list[str] | None = None
    for i, s in enumerate(project.sensors):
        if s.id not in unbound or s.component is None:
            continue
        match = match_reference(project, model, s.component)
        if names is None:
            names = component_names(project, model)
        hints = [n for n in suggest_names(s.component, names, n=n_suggestions) if n != s.component]
        out.append(UnboundSensor(i, s.id, s.component, match.kind, tuple(hints), match.error))
    return out


def sensor_problems(
    project: Project, model: ModelData, binding: Binding, file: str
) -> list[Problem]:
    """Findings about each sensor's binding.

    A sensor whose ``component`` is neither a component id of the project nor a node of the
    model (nor a pattern matching one) is an *error* (a typo would otherwise leave it silently
    uncoloured), with the closest names as a suggestion. A sensor without a component, or bound
    to a project component whose selector matches nothing (itself an error under
    ``components``), is a warning.
    """
    out = []
    for i, s in enumerate(project.sensors):
        if s.component is None and s.id in binding.unbound_sensors:
            out.append(
                Problem(
                    severity="warning",
                    file=file,
                    key=f"sensors[{i}].component",
                    message=f"sensor {s.id!r} has no component",
                )
            )
    for u in unbound_sensors(project, model, binding):
        key = f"sensors[{u.index}].component"
        if u.kind == "component":
            severity = "warning"
            message = (
                f"sensor {u.sensor!r} is bound to nothing: component {u.component!r} "
                "matches no node of the model"
            )
        else:
            severity = "error"
            if u.error:
                what = f"the pattern {u.component!r} cannot be read: {u.error}"
            elif u.kind in ("glob", "regex"):
                what = f"the pattern {u.component!r} matches no node of the model"
            else:
                what = (
                    f"component {u.component!r} is neither a component id in 'components' "
                    "nor a node of the model"
                )
            hint = did_you_mean(list(u.suggestions))
            message = f"sensor {u.sensor!r} is bound to nothing: {what}" + (
                f"; {hint}" if hint else ""
            )
        out.append(Problem(severity=severity, file=file, key=key, message=message))
    out.sort(key=lambda p: int(p.key.split("[")[1].split("]")[0]))
    return out
