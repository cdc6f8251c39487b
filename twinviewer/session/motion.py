"""The twin's moving parts as shown: the pose of the values on screen, and the posed points.

:class:`TwinPose` belongs to a :class:`~twinviewer.session.twin.TwinSession`, which calls
:meth:`TwinPose.update` from ``update()`` with the values it shows (live, scrubbed, replayed, a
tour's or a video frame's time), so motion follows the data exactly as colour does. A pose
that did not change costs one comparison; a changed one writes the moving vertices into the
other of two buffers, so that a new pose is a new array (the scene copies it when it is not the
one it drew last) and the previous one stays intact for whoever holds it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelData
from twinviewer.core.motion import Matrix, MotionRig, Pose
from twinviewer.core.project import Project

log = logging.getLogger(__name__)


class TwinPose:
    """The rig of a twin, its current pose and the posed points (``None`` while nothing in the
    twin can move)."""

    def __init__(self, project: Project, model: ModelData, sensor_index: Mapping[str, int]):
        self.model = model
        self.rig = MotionRig.build(project, model, sensor_index)
        for w in self.rig.warnings:
            log.warning("%s: %s", model.source, w)
        self.pose: Pose | None = None
        self.points: NDArray[np.float32] | None = None
        self._buffers: list[NDArray[np.float32]] = []
        self._model_view: ModelData | None = None
        if self.rig.active:
            self._buffers = [model.points.copy(), model.points.copy()]
            self.moving_vertices = np.concatenate(self.rig.group_vertices)
            self.moving_components = self.rig.group_of >= 0
        else:
            self.moving_vertices = np.zeros(0, np.int64)
            self.moving_components = np.zeros(model.n_components, bool)

    @property
    def active(self) -> bool:
        return self.rig.active

    def update(self, values: NDArray[np.float64]) -> bool:
        """Pose the twin for these sensor values; True when the pose changed."""
        if not self.rig.active:
            return False
        pose = self.rig.pose(values)
        if self.pose is not None and pose.key == self.pose.key:
            return False
        self.pose = pose
        buf = self._buffers[1] if self.points is self._buffers[0] else self._buffers[0]
        self.points = self.rig.posed_points(pose, out=buf)
        self._model_view = None
        return True

    def transforms(self) -> dict[int, Matrix]:
        """Each moving component's 4x4 transform (rest to shown), by component index."""
        return {} if self.pose is None else self.pose.component_transforms()

    def shown_model(self) -> ModelData:
        """The model with its points as shown (the model itself while nothing moved): what
        measurement snaps to and component centres are taken from."""
        if self.points is None:
            return self.model
        if self._model_view is None:
            self._model_view = dataclasses.replace(self.model, points=self.points)
        return self._model_view

    def place(self, point: Sequence[float], components: Sequence[int]) -> tuple[float, ...]:
        """Where a point fixed to the first of ``components`` is now (itself when that one
        does not move)."""
        if self.pose is None or not len(components):
            return tuple(float(x) for x in point)
        return self.pose.apply(int(components[0]), point)

    def sensor_positions(
        self,
        sensors: NDArray[np.int32],
        positions: NDArray[np.float64],
        nodes: Sequence[Sequence[int]],
    ) -> NDArray[np.float64]:
        """Positioned sensors' markers where they are shown: a sensor whose component moves
        moves with it (``nodes``: each sensor's components, as the binding's)."""
        if self.pose is None:
            return positions
        out = np.array(positions, np.float64)
        for k, i in enumerate(sensors):
            comps = nodes[int(i)]
            if comps and self.moving_components[comps[0]]:
                out[k] = self.pose.apply(comps[0], positions[k])
        return out
