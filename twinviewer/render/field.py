"""A sensor field drawn over the twin: values per vertex on a surface lying on the twin's faces.

The field (:mod:`twinviewer.core.field` computes it) has its own mesh, drawn a little towards the
camera so that it covers the twin's faces, coloured through its own lookup table; each frame
writes only the new values into the mesh's point array. Triangles of hidden components are left
out (:meth:`PointField.show_cells`), sharing the points and the values.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import vtk
from numpy.typing import NDArray

from twinviewer.render.colourbars import lookup_table

NAN_COLOUR = (176, 182, 190)  # the twin's neutral grey: no value here
ARRAY = "field"


class PointField:
    """A field over the twin: ``triangles`` over ``points``, each triangle of model component
    ``components``, values per point coloured through ``table`` over ``lo..hi`` (NaN:
    neutral). Add :attr:`actor` to a renderer."""

    def __init__(
        self,
        points: NDArray[np.floating],
        triangles: NDArray[np.integer],
        components: NDArray[np.integer],
        values: NDArray[np.floating],
        table: NDArray[np.uint8],
        lo: float,
        hi: float,
    ) -> None:
        faces = np.empty((len(triangles), 4), np.int64)
        faces[:, 0] = 3
        faces[:, 1:] = triangles
        self.mesh = pv.PolyData(np.asarray(points, np.float32), faces=faces.ravel())
        self.mesh.point_data[ARRAY] = np.array(values, np.float64)  # ours: written each frame
        self.components = np.asarray(components, np.int64)
        self.lut = lookup_table(table, lo, hi, NAN_COLOUR)
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetLookupTable(self.lut)
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray(ARRAY)
        mapper.SetScalarRange(lo, hi)
        mapper.ScalarVisibilityOn()
        mapper.InterpolateScalarsBeforeMappingOn()
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        mapper.SetRelativeCoincidentTopologyPolygonOffsetParameters(-1.0, -8.0)
        self.actor = vtk.vtkActor()
        self.actor.SetMapper(mapper)
        self.actor.PickableOff()
        self.actor.GetProperty().SetAmbient(0.25)
        self.actor.GetProperty().SetDiffuse(0.75)
        self.show_cells(np.zeros(0, bool))

    @property
    def mapper(self) -> vtk.vtkMapper:
        return self.actor.GetMapper()

    def set_values(self, values: NDArray[np.floating]) -> None:
        """New values for the vertices (the next frame): one copy, no rebuild."""
        self.mesh.point_data[ARRAY][:] = values
        self.mesh.GetPointData().GetArray(ARRAY).Modified()
        self.mapper.GetInput().Modified()

    def values(self) -> NDArray[np.float64]:
        return np.asarray(self.mesh.point_data[ARRAY])

    def show_cells(self, hidden: NDArray[np.bool_]) -> None:
        """Draw the triangles of the components not ``hidden`` (a mask over components)."""
        if not len(hidden) or not hidden.any():
            self.mapper.SetInputData(self.mesh)
            return
        keep = ~hidden[np.clip(self.components, 0, len(hidden) - 1)]
        sub = pv.PolyData()
        sub.SetPoints(self.mesh.GetPoints())
        sub.faces = self.mesh.faces.reshape(-1, 4)[keep].ravel()
        sub.GetPointData().AddArray(self.mesh.GetPointData().GetArray(ARRAY))
        self.mapper.SetInputData(sub)
