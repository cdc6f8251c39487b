"""Motion bound to data: the project's ``motion:`` block applied to the model's points.

A :class:`MotionRig` is built once per twin from the project, the model and the sensors'
order. It resolves what each motion moves (the nodes its ``component`` reference selects, as a
sensor's, and everything below them), adds the model's joints that a sensor of the same name
drives, and groups the moving components by the motions acting on them: components moved by
the same motions share one transform, so a frame is one small matrix product per group and one
vectorised ``points @ R.T + t`` over that group's vertices.

Rules (see :mod:`twinviewer.core.project_motion` for the schema):

- amounts are ``scale * value + offset``, clamped to ``limits`` (a joint's own limits when the
  motion gives none); a value that is missing (NaN) leaves that amount at rest;
- axes and origins are in the model's rest coordinates; transforms compose in list order, the
  first outermost (the product of exponentials), so a component under a boom and a bucket gets
  ``T_boom @ T_bucket``;
- ``joint`` motions (listed or automatic) compose in the model's kinematic order, root first,
  taking the place of the first joint motion listed (or the front of the list);
- the model is one merged mesh: a vertex follows the component of the triangles that use it.
  :class:`~twinviewer.core.model.ModelBuilder` gives every component its own vertices, so none
  is shared; should a model share one between components that move differently, it follows the
  last of them and :attr:`MotionRig.warnings` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twinviewer.core.binding import match_reference
from twinviewer.core.model import Joint, ModelData
from twinviewer.core.project import Project
from twinviewer.core.project_motion import Motion

Matrix = NDArray[np.float64]  # (4, 4)


def rotation(axis: ArrayLike, angle: float) -> NDArray[np.float64]:
    """The 3x3 rotation by ``angle`` radians about the unit of ``axis`` (Rodrigues)."""
    k = np.asarray(axis, np.float64)
    k = k / np.linalg.norm(k)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    s, c = math.sin(angle), math.cos(angle)
    return np.eye(3) + s * kx + (1.0 - c) * (kx @ kx)


def rotate_about(axis: ArrayLike, origin: ArrayLike, angle: float) -> Matrix:
    """The 4x4 rotation by ``angle`` radians about the line through ``origin`` along ``axis``."""
    m = np.eye(4)
    r = rotation(axis, angle)
    o = np.asarray(origin, np.float64)
    m[:3, :3] = r
    m[:3, 3] = o - r @ o
    return m


def translation(vector: ArrayLike) -> Matrix:
    m = np.eye(4)
    m[:3, 3] = vector
    return m


def _unit(axis: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(axis, np.float64)
    return a / np.linalg.norm(a)


@dataclass
class RigMotion:
    """One motion as resolved on a model: what it reads, what it moves, how."""

    motion: Motion
    label: str  # for messages: the component reference or the joint's name
    sensors: dict[str, int]  # role (sensor, x, y, z, heading) -> sensor index
    components: NDArray[np.int64]  # what it moves, subtrees included
    joint: Joint | None = None
    limits: tuple[float, float] | None = None

    def amounts(self, values: NDArray[np.float64]) -> dict[str, float]:
        """Each role's amount (scale * value + offset, clamped); NaN where there is no value."""
        m = self.motion
        out: dict[str, float] = {}
        for role, i in self.sensors.items():
            v = float(values[i]) if 0 <= i < len(values) else math.nan
            a = m.scale * v + m.offset
            if role == "sensor" and self.limits is not None and not math.isnan(a):
                a = min(max(a, self.limits[0]), self.limits[1])
            out[role] = a
        return out

    def matrix(self, values: NDArray[np.float64]) -> Matrix:
        """This motion's 4x4 transform for the sensors' ``values`` (rest coordinates)."""
        m = self.motion
        a = self.amounts(values)
        if m.kind == "place":
            o = np.asarray(m.origin, np.float64)
            target = o.copy()
            for k, role in enumerate("xyz"):
                if not math.isnan(a.get(role, math.nan)):
                    target[k] = a[role]
            heading = a.get("heading", math.nan)
            turn = (
                np.eye(4) if math.isnan(heading) else rotate_about(m.axis, o, math.radians(heading))
            )
            return translation(target - o) @ turn
        amount = a.get("sensor", math.nan)
        if math.isnan(amount):
            return np.eye(4)
        if m.kind == "translate":
            return translation(_unit(m.axis) * amount)
        if m.kind == "rotate":
            return rotate_about(m.axis, m.origin, math.radians(amount))
        j = self.joint
        assert j is not None
        if j.type == "prismatic":
            return translation(_unit(j.axis) * amount)
        return rotate_about(j.axis, j.origin, amount)


@dataclass
class Pose:
    """The transforms of one frame: each motion's and each moving group's (4x4, rest
    coordinates), and the key that tells two poses apart (the amounts used)."""

    motion_matrices: list[Matrix]
    group_matrices: NDArray[np.float64]  # (G, 4, 4)
    group_of: NDArray[np.int64]  # (C,) each component's group, -1: does not move
    key: bytes = b""

    def matrix_of(self, component: int) -> Matrix:
        """The transform of a component (identity when it does not move)."""
        g = int(self.group_of[component]) if 0 <= component < len(self.group_of) else -1
        return np.eye(4) if g < 0 else self.group_matrices[g]

    def component_transforms(self) -> dict[int, Matrix]:
        """Every moving component's transform, by component index."""
        return {int(c): self.group_matrices[g] for c, g in enumerate(self.group_of) if g >= 0}

    def apply(self, component: int, point: Sequence[float]) -> tuple[float, float, float]:
        """Where a point fixed to ``component`` is in this pose."""
        m = self.matrix_of(component)
        p = m[:3, :3] @ np.asarray(point, np.float64) + m[:3, 3]
        return (float(p[0]), float(p[1]), float(p[2]))


@dataclass
class MotionRig:
    """The project's motions resolved on a model; poses and posed points from sensor values.

    Build with :meth:`build`; ``motions`` is empty when nothing moves (then :attr:`active` is
    False and nothing need be done per frame).
    """

    model: ModelData
    motions: list[RigMotion]
    warnings: list[str] = field(default_factory=list)
    group_of: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    group_motions: list[tuple[int, ...]] = field(default_factory=list)  # motion indices, in order
    group_vertices: list[NDArray[np.int64]] = field(default_factory=list)

    @classmethod
    def build(
        cls, project: Project, model: ModelData, sensor_index: Mapping[str, int]
    ) -> MotionRig:
        """Resolve ``project.motion`` (and the joints driven by same-named sensors) on
        ``model``; ``sensor_index`` maps sensor ids to their index in the value arrays."""
        warnings: list[str] = []
        joints = {j.name: j for j in model.joints}
        joint_order = {j.name: k for k, j in enumerate(model.joints)}
        listed: list[RigMotion] = []
        joint_block: list[tuple[int, RigMotion]] = []
        block_at: int | None = None
        for m in project.motion:
            rm = _resolve(project, model, m, joints, sensor_index, warnings)
            if rm is None:
                continue
            if m.kind == "joint":
                assert m.joint is not None
                joint_block.append((joint_order[m.joint], rm))
                if block_at is None:
                    block_at = len(listed)
            else:
                listed.append(rm)
        driven = {m.joint for m in project.motion if m.kind == "joint"}
        for j in model.joints:
            if j.name not in driven and j.name in sensor_index:
                auto = Motion(kind="joint", joint=j.name, sensor=j.name)
                rm = _resolve(project, model, auto, joints, sensor_index, warnings)
                if rm is not None:
                    joint_block.append((joint_order[j.name], rm))
        joint_block.sort(key=lambda kv: kv[0])
        at = 0 if block_at is None else block_at
        motions = listed[:at] + [rm for _, rm in joint_block] + listed[at:]
        rig = cls(model, motions, warnings)
        rig._group()
        return rig

    @property
    def active(self) -> bool:
        return bool(self.group_motions)

    def sensors(self) -> list[int]:
        """The indices of every sensor a motion reads."""
        return sorted({i for rm in self.motions for i in rm.sensors.values()})

    def _group(self) -> None:
        """Group the moving components by the motions acting on them; find their vertices."""
        n_c = self.model.n_components
        signature: list[tuple[int, ...]] = [() for _ in range(n_c)]
        for k, rm in enumerate(self.motions):
            for c in rm.components:
                signature[int(c)] += (k,)
        groups: dict[tuple[int, ...], int] = {}
        group_of = np.full(n_c, -1, np.int64)
        for c, sig in enumerate(signature):
            if sig:
                group_of[c] = groups.setdefault(sig, len(groups))
        self.group_of = group_of
        self.group_motions = list(groups)
        model = self.model
        # each vertex follows the group of the triangles using it (the last one, if several)
        vertex_group = np.full(len(model.points), -1, np.int64)
        tri_group = group_of[model.cell_component] if n_c else np.zeros(0, np.int64)
        for corner in range(3):
            vertex_group[model.triangles[:, corner]] = tri_group
        if len(model.triangles):
            check = np.full(len(model.points), -2, np.int64)
            shared = np.zeros(len(model.points), bool)
            for corner in range(3):
                v = model.triangles[:, corner]
                seen = check[v]
                shared[v] |= (seen != -2) & (seen != tri_group)
                check[v] = tri_group
            if shared.any():
                self.warnings.append(
                    f"{int(shared.sum())} vertices are shared by parts that move differently; "
                    "each follows one of them"
                )
        self.group_vertices = [np.flatnonzero(vertex_group == g) for g in range(len(groups))]

    def pose(self, values: NDArray[np.float64]) -> Pose:
        """Each motion's and each group's transform for the sensors' ``values`` (by sensor
        index, as the session's shown values)."""
        mats = [rm.matrix(values) for rm in self.motions]
        g_mats = np.empty((len(self.group_motions), 4, 4))
        for g, sig in enumerate(self.group_motions):
            t = np.eye(4)
            for k in sig:  # list order, the first outermost
                t = t @ mats[k]
            g_mats[g] = t
        return Pose(mats, g_mats, self.group_of, g_mats.tobytes())

    def posed_points(
        self, pose: Pose, out: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """The model's points in ``pose``: moved vertices transformed, the rest copied (into
        ``out`` when given, which must be a copy of the rest points or a previous pose)."""
        rest = self.model.points
        if out is None:
            out = rest.copy()
        for g, idx in enumerate(self.group_vertices):
            if not len(idx):
                continue
            m = pose.group_matrices[g]
            p = rest[idx].astype(np.float64) @ m[:3, :3].T + m[:3, 3]
            out[idx] = p
        return out


def _resolve(
    project: Project,
    model: ModelData,
    m: Motion,
    joints: Mapping[str, Joint],
    sensor_index: Mapping[str, int],
    warnings: list[str],
) -> RigMotion | None:
    """One motion on the model, or None (with a warning) when it moves nothing."""
    joint = None
    limits = m.limits
    label = m.component or m.joint or "?"
    if m.kind == "joint":
        joint = joints.get(m.joint or "")
        if joint is None:
            names = ", ".join(sorted(joints)) or "none"
            warnings.append(f"motion: the model has no joint {m.joint!r} (it has: {names})")
            return None
        if limits is None and joint.lower is not None and joint.upper is not None:
            limits = (joint.lower, joint.upper)
    if m.component is not None:
        match = match_reference(project, model, m.component)
        roots = list(match.nodes)
        if match.error:
            warnings.append(f"motion of {m.component!r}: {match.error}")
            return None
    else:
        assert joint is not None
        roots = [joint.child]
    if not roots:
        warnings.append(f"motion of {label!r}: no component of the model matches it")
        return None
    moved: set[int] = set()
    for r in roots:
        moved.update(model.subtree(r))
    roles = {"sensor": m.sensor, "x": m.x, "y": m.y, "z": m.z, "heading": m.heading}
    sensors = {}
    for role, sid in roles.items():
        if sid is None:
            continue
        if sid not in sensor_index:
            warnings.append(f"motion of {label!r}: no sensor {sid!r}")
            continue
        sensors[role] = sensor_index[sid]
    return RigMotion(m, label, sensors, np.array(sorted(moved), np.int64), joint, limits)
