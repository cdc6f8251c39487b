"""The 3D scene of a twin on any pyvista plotter: one merged mesh coloured through a lookup table.

The model is one ``vtkPolyData`` whose cells carry a static ``component`` index; the mapper maps
that index through a C-entry lookup table. Recolouring every component is therefore a write of a
(C, 4) uint8 array into the table, with no change to the mesh and no per-part actor.

X-ray mode adds a second actor over the same points for the translucent cells (see
:mod:`twinviewer.render.xray`); colour bars are laid out by :mod:`twinviewer.render.colourbars`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pyvista as pv
import vtk
from numpy.typing import NDArray
from vtk.util.numpy_support import vtk_to_numpy

from twinviewer.core.model import ModelData
from twinviewer.render.colourbars import ColourBars, lookup_table, make_status_legend
from twinviewer.render.field import PointField
from twinviewer.render.xray import Split, opaque_components, same_mask, split_stand_in

log = logging.getLogger(__name__)


HIGHLIGHT_COLOUR = (0.2, 0.9, 1.0)  # cyan: no status colour uses it
# Above this many triangles, camera moves draw a clustered stand-in (llvmpipe: ~10M tris/s).
COARSE_ABOVE = 300_000
COARSE_DIVISIONS = (160, 160, 60)
STANDARD_VIEWS = ("iso", "top", "bottom", "front", "back", "left", "right")


def configure_for_software_rendering() -> None:
    """pyvista's 8x multisampling makes llvmpipe frames ~3x slower; turn it off."""
    pv.global_theme.multi_samples = 0
    pv.global_theme.smooth_shading = False
    pv.global_theme.lighting = True


class TwinScene:
    """The twin drawn on a plotter: merged model, per-component colours, selection, legend.

    It takes any plotter (a pyvistaqt ``QtInteractor`` in the app, an off-screen
    ``pyvista.Plotter`` in tests and headless renders) and never calls ``render()`` itself: the
    owner decides when to draw, once per frame.
    """

    def __init__(self, plotter: pv.Plotter, background: str = "#1e2126") -> None:
        self.plotter = plotter
        self.model: ModelData | None = None
        self.mesh: pv.PolyData | None = None
        self._actor: vtk.vtkActor | None = None
        self._lut = vtk.vtkLookupTable()
        self._table: NDArray[np.uint8] = np.zeros((1, 4), np.uint8)
        self._hidden = np.zeros(0, bool)
        self._mapper = vtk.vtkPolyDataMapper()
        self._drawn_cells: NDArray[np.int64] | None = None  # None: every cell is drawn
        self._shown: pv.PolyData | None = None  # the visible cells at full resolution
        self._visible_cells: NDArray[np.int64] | None = None  # their ids; None: every cell
        self._coarse: pv.PolyData | None = None  # its clustered stand-in, made on first use
        self.interacting = False
        # X-ray: a second actor over the same points draws the translucent cells.
        self._xray = False
        self._xray_opacity = 0.15
        self._xray_emphasis: NDArray[np.bool_] | None = None  # opaque when nothing is selected
        self._selection = np.zeros(0, np.int64)
        self._parents = np.zeros(0, np.int64)  # each component's parent index, -1 for roots
        self._opaque: NDArray[np.bool_] | None = None  # components drawn opaque; None: all
        self._ghost_mapper = vtk.vtkPolyDataMapper()
        self._ghost_actor: vtk.vtkActor | None = None
        self._ghost_cells: NDArray[np.int64] | None = None  # full-mesh ids of translucent cells
        self._split_cache: dict[bool, Split] = {}  # by "coarse": the last split of each
        self._highlight_actor: vtk.vtkActor | None = None
        self._bars = ColourBars(plotter.renderer)
        self._status_legend: vtk.vtkLegendBoxActor | None = None
        self._markers: pv.PolyData | None = None
        self._marker_actor: vtk.vtkActor | None = None
        self._picker = vtk.vtkCellPicker()
        self._picker.SetTolerance(0.0005)
        self._text: dict[str, vtk.vtkTextActor] = {}
        self._clip: vtk.vtkPlane | None = None  # a section plane cutting every actor
        self._overlays: dict[
            str, tuple[pv.PolyData, vtk.vtkActor, vtk.vtkScalarBarActor | None]
        ] = {}
        self._field: PointField | None = None  # a sensor field drawn over the twin
        self._posed_from: NDArray[np.float32] | None = None  # the moved points drawn now
        plotter.set_background(background)
        # Bars are laid out for the view's size; a resized window re-lays them out just before
        # the next frame is drawn (a no-op when the size is unchanged).
        plotter.renderer.AddObserver("StartEvent", lambda *_: self._bars.layout())

    # -- model -------------------------------------------------------------------------------
    def show_model(self, model: ModelData) -> None:
        """Replace the scene's model. Builds the one mesh; cheap relative to reading the file."""
        self.clear_model()
        self.model = model
        n_comp = max(model.n_components, 1)
        faces = np.empty((model.n_triangles, 4), np.int64)
        faces[:, 0] = 3
        faces[:, 1:] = model.triangles
        mesh = pv.PolyData(model.points, faces=faces.ravel())
        mesh.cell_data["component"] = model.cell_component
        self.mesh = mesh
        self._posed_from = None  # the mesh is over the model's own (rest) points
        self._drawn_cells = self._visible_cells = None
        self._shown = mesh
        self._coarse = None
        self.interacting = False
        self._lut = vtk.vtkLookupTable()
        self._lut.SetNumberOfTableValues(n_comp)
        self._lut.SetTableRange(0, n_comp - 1)
        self._lut.Build()
        self._table = vtk_to_numpy(self._lut.GetTable())  # a view: writes go straight to VTK
        self._table[:] = (176, 182, 190, 255)
        self._table_written()
        self._hidden = np.zeros(n_comp, bool)

        mapper = self._component_mapper()
        mapper.SetInputData(mesh)
        self._mapper = mapper
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetAmbient(0.25)
        prop.SetDiffuse(0.75)
        prop.SetSpecular(0.1)
        self._ghost_mapper = self._component_mapper()
        self._ghost_actor = None
        self._ghost_cells = None
        self._split_cache = {}
        self._selection = np.zeros(0, np.int64)
        self._parents = np.array([c.parent for c in model.components], np.int64)
        self._xray_emphasis = None
        self._opaque = None
        self._actor = actor
        self.plotter.add_actor(actor, name="twin-model", reset_camera=False)
        self._refresh_drawn()  # X-ray stays on across models
        self.fit()

    def _component_mapper(self) -> vtk.vtkPolyDataMapper:
        """A mapper colouring cells by their ``component`` index through the shared table."""
        n_comp = len(self._table)
        mapper = vtk.vtkPolyDataMapper()
        self._clip_mapper(mapper)
        mapper.SetLookupTable(self._lut)
        mapper.SetScalarModeToUseCellFieldData()
        mapper.SelectColorArray("component")
        mapper.SetColorModeToMapScalars()
        mapper.SetScalarRange(0, n_comp - 1)
        mapper.ScalarVisibilityOn()
        mapper.InterpolateScalarsBeforeMappingOff()
        return mapper

    def clear_model(self) -> None:
        self.clear_point_field()
        for name in ("twin-model", "twin-xray", "twin-highlight", "twin-markers"):
            self.plotter.remove_actor(name, reset_camera=False)
        self._actor = self._highlight_actor = self._marker_actor = self._ghost_actor = None
        self._split_cache = {}
        self.model = self.mesh = self._markers = self._shown = self._coarse = None
        self.interacting = False

    # -- colour ------------------------------------------------------------------------------
    @property
    def component_colours(self) -> NDArray[np.uint8]:
        """The (C, 4) RGBA table the mesh is drawn with (a live view of VTK's memory)."""
        return self._table

    def set_component_colours(self, rgba: NDArray[np.uint8]) -> None:
        """Colour every component at once: one array copy, then the table is marked modified."""
        np.copyto(self._table, rgba[: len(self._table)])
        self._table_written()
        if self._xray and not len(self._selection) and self._xray_emphasis is None:
            # X-ray keeps warning/alarm parts opaque: re-split only when that set changed.
            opaque = self._opaque_components()
            if self._opaque is None or opaque is None or not np.array_equal(opaque, self._opaque):
                self._refresh_drawn()

    def _table_written(self) -> None:
        # Writing one entry through the API stamps the table's insert time, so VTK knows the
        # table was filled by hand and does not rebuild it from its hue ramp on the next draw.
        r, g, b, a = (float(v) / 255.0 for v in self._table[0])
        self._lut.SetTableValue(0, r, g, b, a)

    def cell_colours(self) -> NDArray[np.uint8]:
        """RGBA of every triangle as drawn (for tests and reports; a gather, not used to draw)."""
        if self.model is None:
            return np.zeros((0, 4), np.uint8)
        return self._table[self.model.cell_component]

    # -- visibility and selection --------------------------------------------------------------
    def set_hidden(self, hidden: NDArray[np.bool_]) -> None:
        """Hide components (mask over components).

        The mapper is given the triangles of the visible components only (one numpy selection;
        VTK's hidden-cell ghost flags are not re-read by the mapper after the first draw). Colours
        stay in the lookup table, so recolouring is unaffected.
        """
        if self.model is None or self.mesh is None:
            return
        self._hidden = np.asarray(hidden, bool).copy()
        self._coarse = None
        if not self._hidden.any():
            self._shown = self.mesh
            self._visible_cells = None
        else:
            keep = np.flatnonzero(~self._hidden[self.model.cell_component])
            self._shown = self._cells_mesh(keep)
            self._visible_cells = keep
        self._refresh_drawn(force=True)
        self._show_field_cells()

    def _cells_mesh(self, cells: NDArray[np.int64]) -> pv.PolyData:
        """The given cells of the model as a mesh over the model's own points (not copied)."""
        assert self.model is not None and self.mesh is not None
        faces = np.empty((len(cells), 4), np.int64)
        faces[:, 0] = 3
        faces[:, 1:] = self.model.triangles[cells]
        mesh = pv.PolyData(self.mesh.points, faces=faces.ravel())
        mesh.cell_data["component"] = self.model.cell_component[cells]
        return mesh

    # -- moving parts ----------------------------------------------------------------------------
    def set_model_points(
        self,
        points: NDArray[np.float32] | None,
        vertices: NDArray[np.int64] | None = None,
        moving: NDArray[np.bool_] | None = None,
    ) -> bool:
        """Draw the model with its vertices at ``points`` (a pose of its moving parts, see
        :mod:`twinviewer.session.motion`); ``None`` puts them back at rest. Returns whether
        anything was written.

        Nothing is done when ``points`` is the array drawn last (a pose is a new array). Else
        the points are written in place (only ``vertices`` when given) into the one points
        array every drawn mesh shares (the opaque and X-ray splits, the visible cells), which
        is marked modified; the clip plane cuts the moved geometry as it is, and picks land on
        it. The camera-move stand-in is dropped (made again at the next camera move), and the
        selection outline is drawn again when a selected component is in ``moving`` (a mask
        over components; ``None``: any may have moved).
        """
        if self.model is None or self.mesh is None or points is self._posed_from:
            return False
        if points is None:
            points, vertices = self.model.points, None
        if np.shares_memory(np.asarray(self.mesh.points), self.model.points):
            # the mesh was built over the model's rest points: draw from a copy of our own, and
            # build the meshes that share the points again over it
            self.mesh.points = self.model.points.copy()
            self._split_cache = {}
            self.set_hidden(self._hidden)
            vertices = None
        arr = self.mesh.points
        if vertices is None:
            arr[:] = points
        else:
            arr[vertices] = points[vertices]
        self.mesh.GetPoints().GetData().Modified()
        self.mesh.GetPoints().Modified()
        self._posed_from = None if points is self.model.points else points
        if self._coarse is not None:
            self._coarse = None
            self._split_cache.pop(True, None)
            if self.interacting:
                self.interacting = False
                self._refresh_drawn()
        sel = self._selection
        if self._highlight_actor is not None and len(sel):
            if moving is None or moving[sel[sel < len(moving)]].any():
                self.highlight(sel.tolist())
        return True

    @property
    def model_points(self) -> NDArray[np.float32] | None:
        """The model's points as drawn (moved parts where they are shown)."""
        if self.mesh is None:
            return None
        return np.asarray(self.mesh.points)

    def set_marker_positions(self, positions: NDArray[np.float64]) -> None:
        """Move the sensor markers (same number as :meth:`show_markers` was given)."""
        if self._markers is not None and len(positions) == self._markers.n_points:
            self._markers.points = np.asarray(positions, np.float64)
            self._markers.Modified()

    # -- camera moves on big models ------------------------------------------------------------
    def begin_interaction(self) -> None:
        """While the camera moves, draw a clustered stand-in of a big model (~10x faster).

        Quadric clustering keeps each output cell's ``component`` index, so the stand-in is
        coloured through the same lookup table and live colours stay right while rotating.
        """
        if self._shown is None or self._shown.n_cells < COARSE_ABOVE or self.interacting:
            return
        if self._coarse is None:
            cluster = vtk.vtkQuadricClustering()
            cluster.SetInputData(self._shown)
            cluster.SetNumberOfDivisions(*COARSE_DIVISIONS)
            cluster.AutoAdjustNumberOfDivisionsOn()
            cluster.CopyCellDataOn()
            cluster.Update()
            self._coarse = pv.wrap(cluster.GetOutput())
            self._split_cache.pop(True, None)
        self.interacting = True
        self._refresh_drawn()

    def end_interaction(self) -> None:
        was = self.interacting
        self.interacting = False
        if was and self._shown is not None:
            self._refresh_drawn()

    @property
    def drawn_cells(self) -> int:
        """Number of cells drawn now (stand-in or full; opaque and X-ray together)."""
        total = 0
        for mapper in (self._mapper, self._ghost_mapper if self._ghost_actor else None):
            data = mapper.GetInput() if mapper is not None else None
            total += int(data.GetNumberOfCells()) if data is not None else 0
        return total

    @property
    def hidden(self) -> NDArray[np.bool_]:
        return self._hidden

    def highlight(self, components: Sequence[int]) -> None:
        """Outline the given components (the selection); an empty sequence clears it.

        In X-ray mode the selection (with everything under each selected node) is what is drawn
        opaque, so the selection is kept here.
        """
        self.plotter.remove_actor("twin-highlight", reset_camera=False)
        self._highlight_actor = None
        previous = self._selection
        n = self.model.n_components if self.model is not None else 0
        sel = np.asarray(components, np.int64).ravel()
        self._selection = np.unique(sel[(sel >= 0) & (sel < n)])
        if self._xray and not np.array_equal(previous, self._selection):
            self._refresh_drawn()
        if self.model is None or self.mesh is None or len(components) == 0:
            return
        mask = np.isin(self.model.cell_component, np.asarray(components))
        mask &= ~self._hidden[self.model.cell_component]
        if not mask.any():
            return
        # Merge coincident points first: files without shared vertices would otherwise outline
        # every triangle.
        part = (
            self.mesh.extract_cells(np.flatnonzero(mask))
            .extract_surface(algorithm=None)
            .clean(tolerance=1e-6, absolute=False)
        )
        edges = part.extract_feature_edges(
            feature_angle=35, boundary_edges=True, non_manifold_edges=False, manifold_edges=False
        )
        if edges.n_cells == 0:
            edges = part.extract_all_edges()
        self._highlight_actor = self.plotter.add_mesh(
            edges,
            color=HIGHLIGHT_COLOUR,
            line_width=2,
            name="twin-highlight",
            reset_camera=False,
            pickable=False,
            lighting=False,
        )
        self._clip_mapper(self._highlight_actor.GetMapper())
        mapper = self._highlight_actor.GetMapper()
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        mapper.SetRelativeCoincidentTopologyLineOffsetParameters(0, -66000)

    def pick(self, x: int, y: int) -> int | None:
        """The component under display pixel (x, y) (VTK coordinates, origin bottom-left)."""
        if self.model is None or self._actor is None:
            return None
        self.end_interaction()  # cell ids must be those of the full-resolution mesh
        # X-ray: what is drawn opaque is picked first; clicks through the glass land on the
        # nearest translucent part only where nothing opaque is behind.
        candidates = [(self._actor, self._drawn_cells)]
        if self._ghost_actor is not None:
            candidates.append((self._ghost_actor, self._ghost_cells))
        for actor, cells in candidates:
            picked = self._pick_actor(actor, cells, x, y)
            if picked is not None:
                return picked
        return None

    def pick_point(self, x: int, y: int) -> tuple[int, tuple[float, float, float]] | None:
        """The model triangle under display pixel (x, y) and the picked point on it (world
        coordinates), or ``None``. Like :meth:`pick`: opaque parts before X-ray glass, and
        nothing on the side a section plane cuts away (the picker honours the mappers' clipping
        planes)."""
        if self.model is None or self._actor is None:
            return None
        self.end_interaction()  # cell ids must be those of the full-resolution mesh
        candidates = [(self._actor, self._drawn_cells)]
        if self._ghost_actor is not None:
            candidates.append((self._ghost_actor, self._ghost_cells))
        for actor, cells in candidates:
            self._picker.InitializePickList()
            self._picker.AddPickList(actor)
            self._picker.PickFromListOn()
            if not self._picker.Pick(x, y, 0, self.plotter.renderer):
                continue
            cell = self._picker.GetCellId()
            if cells is not None and 0 <= cell < len(cells):
                cell = int(cells[cell])
            if 0 <= cell < self.model.n_triangles:
                px, py, pz = self._picker.GetPickPosition()
                return int(cell), (float(px), float(py), float(pz))
        return None

    def _pick_actor(
        self, actor: vtk.vtkActor, cells: NDArray[np.int64] | None, x: int, y: int
    ) -> int | None:
        assert self.model is not None
        self._picker.InitializePickList()
        self._picker.AddPickList(actor)
        self._picker.PickFromListOn()
        if not self._picker.Pick(x, y, 0, self.plotter.renderer):
            return None
        cell = self._picker.GetCellId()
        if cells is not None and 0 <= cell < len(cells):
            cell = int(cells[cell])
        if cell < 0 or cell >= self.model.n_triangles:
            return None
        return int(self.model.cell_component[cell])

    # -- X-ray ---------------------------------------------------------------------------------
    def set_xray(self, on: bool, opacity: float = 0.15) -> None:
        """X-ray (ghost) mode: see parts inside other parts.

        While on, the selected components (see :meth:`highlight`; a selected node brings
        everything under it) are drawn opaque and every other visible component translucent
        with ``opacity``, keeping its live colour. With nothing selected, the components whose
        colour is the warning or alarm status colour stay opaque (or those of
        :meth:`set_xray_emphasis`), so an alarmed bearing inside a housing stands out; all
        others are translucent. Translucent cells are drawn by a second actor over the same
        points, without depth writes, so what is inside shows through; hidden components, the
        clip plane, the colour table and the camera-move stand-in apply to both actors.
        """
        if not 0.0 <= opacity <= 1.0:
            raise ValueError(f"X-ray opacity must be within 0..1, got {opacity}")
        self._xray = bool(on)
        self._xray_opacity = float(opacity)
        if self._ghost_actor is not None:
            self._ghost_actor.GetProperty().SetOpacity(self._xray_opacity)
        self._refresh_drawn()

    @property
    def xray(self) -> bool:
        return self._xray

    def set_xray_emphasis(self, opaque: NDArray[np.bool_] | None) -> None:
        """Which components X-ray keeps opaque while nothing is selected (a mask over
        components, e.g. ``status >= Status.WARNING``); ``None`` goes back to telling them by
        their warning/alarm colour in the table."""
        self._xray_emphasis = None if opaque is None else np.asarray(opaque, bool).copy()
        if self._xray:
            self._refresh_drawn()

    def _opaque_components(self) -> NDArray[np.bool_] | None:
        """The mask of components X-ray draws opaque, or ``None`` when X-ray is off."""
        if not self._xray or self.model is None:
            return None
        return opaque_components(self._table, self._parents, self._selection, self._xray_emphasis)

    def _refresh_drawn(self, force: bool = False) -> None:
        """Give the opaque and the X-ray mapper their cells: the visible ones (full or the
        stand-in) split by :meth:`_opaque_components` with one numpy selection each."""
        if self.model is None or self.mesh is None or self._shown is None:
            return
        opaque = self._opaque_components()
        if force or not same_mask(opaque, self._opaque):
            self._split_cache = {}
        self._opaque = opaque
        coarse = self.interacting and self._coarse is not None
        split = self._split_cache.get(coarse)
        if split is None:
            split = self._split(coarse, opaque)
            self._split_cache[coarse] = split
        self._mapper.SetInputData(split.opaque)
        if not coarse:
            self._drawn_cells, self._ghost_cells = split.opaque_cells, split.ghost_cells
        if split.ghost is None or split.ghost.n_cells == 0:
            if self._ghost_actor is not None:
                self.plotter.remove_actor("twin-xray", reset_camera=False)
                self._ghost_actor = None
            return
        self._ghost_mapper.SetInputData(split.ghost)
        if self._ghost_actor is None:
            actor = vtk.vtkActor()
            actor.SetMapper(self._ghost_mapper)
            prop = actor.GetProperty()
            prop.SetAmbient(0.35)
            prop.SetDiffuse(0.65)
            prop.SetOpacity(self._xray_opacity)
            self._clip_mapper(self._ghost_mapper)
            self._ghost_actor = actor
            self.plotter.add_actor(actor, name="twin-xray", reset_camera=False)

    def _split(self, coarse: bool, opaque: NDArray[np.bool_] | None) -> Split:
        """Split the visible cells (or the stand-in's) into opaque and translucent meshes."""
        assert self.model is not None and self._shown is not None
        visible = self._visible_cells
        if coarse:
            assert self._coarse is not None
            data = self._coarse
            if opaque is None:
                return Split(data, None, None, None)
            return split_stand_in(data, opaque)
        if opaque is None:
            return Split(self._shown, visible, None, None)
        cells = np.arange(self.model.n_triangles) if visible is None else visible
        sel = opaque[self.model.cell_component[cells]]
        front, ghost = cells[sel], cells[~sel]
        return Split(self._cells_mesh(front), front, self._cells_mesh(ghost), ghost)

    # -- sensor markers ------------------------------------------------------------------------
    def show_markers(self, positions: NDArray[np.float64], size: float = 12.0) -> None:
        """Point markers at sensor positions, coloured by :meth:`set_marker_colours`."""
        self.plotter.remove_actor("twin-markers", reset_camera=False)
        self._markers = None
        if len(positions) == 0:
            return
        pts = pv.PolyData(np.asarray(positions, float))
        pts.point_data["rgba"] = np.tile(
            np.array([120, 120, 120, 255], np.uint8), (len(pts.points), 1)
        )
        self._markers = pts
        self._marker_actor = self.plotter.add_mesh(
            pts,
            scalars="rgba",
            rgba=True,
            point_size=size,
            render_points_as_spheres=True,
            name="twin-markers",
            reset_camera=False,
            pickable=False,
            show_scalar_bar=False,
        )
        self._clip_mapper(self._marker_actor.GetMapper())

    def set_marker_colours(self, rgba: NDArray[np.uint8]) -> None:
        if self._markers is not None and len(rgba) == self._markers.n_points:
            arr = self._markers.point_data["rgba"]
            arr[:] = rgba
            self._markers.point_data.GetArray("rgba").Modified()

    # -- section (clip plane) ------------------------------------------------------------------
    def set_clip_plane(
        self,
        origin: Sequence[float] | None,
        normal: Sequence[float] | None = None,
    ) -> None:
        """Cut the twin, its selection outline and every overlay by a plane: what lies on the
        side ``normal`` points to is removed (pyvista's ``clip`` convention). ``None`` removes
        the cut."""
        if origin is None or normal is None:
            self._clip = None
        else:
            n = np.asarray(normal, np.float64)
            if not np.linalg.norm(n) > 0:
                raise ValueError(f"clip plane normal must not be zero, got {list(normal)}")
            plane = vtk.vtkPlane()
            plane.SetOrigin(*(float(x) for x in origin))
            plane.SetNormal(*(-n / np.linalg.norm(n)))  # VTK keeps the side its normal faces
            self._clip = plane
        for mapper in self._clippable():
            self._clip_mapper(mapper)

    @property
    def clip_plane(self) -> vtk.vtkPlane | None:
        return self._clip

    def _clip_mapper(self, mapper: vtk.vtkMapper) -> None:
        mapper.RemoveAllClippingPlanes()
        if self._clip is not None:
            mapper.AddClippingPlane(self._clip)

    def _clippable(self) -> list[vtk.vtkMapper]:
        mappers: list[vtk.vtkMapper] = []
        if self._actor is not None:
            mappers.append(self._mapper)
            mappers.append(self._ghost_mapper)
        if self._highlight_actor is not None:
            mappers.append(self._highlight_actor.GetMapper())
        if self._marker_actor is not None:
            mappers.append(self._marker_actor.GetMapper())
        for _, actor, _ in self._overlays.values():
            mappers.append(actor.GetMapper())
        if self._field is not None:
            mappers.append(self._field.actor.GetMapper())
        for name, actor in self.plotter.actors.items():
            if name.startswith("glyphs-"):
                mappers.append(actor.GetMapper())
        return mappers

    # -- simulation overlays -------------------------------------------------------------------
    def set_overlay(
        self,
        name: str,
        points: NDArray[np.floating],
        triangles: NDArray[np.integer],
        values: NDArray[np.floating],
        table: NDArray[np.uint8],
        lo: float,
        hi: float,
        title: str | None,
        opacity: float = 1.0,
    ) -> None:
        """A surface coloured by a field per vertex (a simulation mapped onto twin parts), with
        its own colour bar on the left. NaN (outside the simulated domain) draws neutral grey.
        Replaces an overlay of the same name; the twin's own mesh is left as it is (hide the
        covered components with :meth:`set_hidden` if the overlay sits on them)."""
        self.clear_overlay(name)
        faces = np.empty((len(triangles), 4), np.int64)
        faces[:, 0] = 3
        faces[:, 1:] = triangles
        mesh = pv.PolyData(np.asarray(points, np.float32), faces=faces.ravel())
        mesh.point_data["overlay"] = np.asarray(values, np.float64)
        lut = lookup_table(table, lo, hi, nan=(150, 154, 160))
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputData(mesh)
        mapper.SetLookupTable(lut)
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("overlay")
        mapper.SetScalarRange(lo, hi)
        mapper.ScalarVisibilityOn()
        mapper.InterpolateScalarsBeforeMappingOn()
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetAmbient(0.25)
        prop.SetDiffuse(0.75)
        prop.SetOpacity(opacity)
        self._clip_mapper(mapper)
        self.plotter.add_actor(actor, name=f"overlay-{name}", reset_camera=False)
        bar = None
        if title is not None:  # its own colour bar, on the left (see ColourBars)
            bar = self._bars.set(f"overlay:{name}", lut, title, "left")
        self._overlays[name] = (mesh, actor, bar)

    def set_overlay_values(self, name: str, values: NDArray[np.floating]) -> None:
        """New values for the same vertices (the next time step): one copy, no rebuild."""
        mesh = self._overlays[name][0]
        arr = mesh.point_data["overlay"]
        arr[:] = values
        mesh.point_data["overlay"] = arr
        mesh.Modified()

    def set_overlay_points(self, name: str, points: NDArray[np.floating]) -> None:
        """Move an overlay's vertices (a deformation), keeping its triangles and values."""
        mesh = self._overlays[name][0]
        mesh.points = np.asarray(points, np.float32)
        mesh.Modified()

    def set_glyphs(
        self, name: str, points: NDArray[np.floating], vectors: NDArray[np.floating]
    ) -> None:
        """Arrows along ``vectors`` at ``points`` (the longest one a twentieth of the view's
        model size), pale so that they read over any colour map."""
        self.clear_glyphs(name)
        vec = np.nan_to_num(np.asarray(vectors, np.float64))
        longest = float(np.linalg.norm(vec, axis=1).max(initial=0.0))
        if longest <= 0 or not len(points):
            return
        b = self.mesh.bounds if self.mesh is not None else (0, 1, 0, 1, 0, 1)
        size = float(np.linalg.norm(np.subtract(b[1::2], b[::2]))) / 20.0
        cloud = pv.PolyData(np.asarray(points, np.float64))
        cloud.point_data["v"] = vec * (size / longest)
        arrows = cloud.glyph(orient="v", scale="v", factor=1.0, geom=pv.Arrow())
        actor = self.plotter.add_mesh(
            arrows, color="#e8ecf0", name=f"glyphs-{name}", reset_camera=False, lighting=True
        )
        self._clip_mapper(actor.GetMapper())

    def clear_glyphs(self, name: str) -> None:
        self.plotter.remove_actor(f"glyphs-{name}", reset_camera=False)

    def overlay_values(self, name: str) -> NDArray[np.float64]:
        return np.asarray(self._overlays[name][0].point_data["overlay"])

    def clear_overlay(self, name: str) -> None:
        old = self._overlays.pop(name, None)
        if old is not None:
            self.plotter.remove_actor(f"overlay-{name}", reset_camera=False)
            self._bars.remove(f"overlay:{name}")

    # -- sensor fields (per-point colours over the twin) ----------------------------------------
    def set_point_field(
        self,
        points: NDArray[np.floating],
        triangles: NDArray[np.integer],
        components: NDArray[np.integer],
        values: NDArray[np.floating],
        table: NDArray[np.uint8],
        lo: float,
        hi: float,
    ) -> None:
        """Draw a field of values per vertex over the twin (a sensor field): its own surface
        (``triangles`` over ``points``, each triangle of model component ``components``) lying
        on the twin's faces, drawn a little towards the camera so that it covers them, coloured
        through ``table`` over ``lo..hi`` (NaN: neutral). Triangles of hidden components are
        left out; the section plane cuts it. Replaces the previous field."""
        self.clear_point_field()
        self._field = PointField(points, triangles, components, values, table, lo, hi)
        self._clip_mapper(self._field.mapper)
        self._show_field_cells()
        self.plotter.add_actor(self._field.actor, name="twin-field", reset_camera=False)

    def set_point_field_values(self, values: NDArray[np.floating]) -> None:
        """New values for the field's vertices (the next frame): one copy, no rebuild."""
        if self._field is not None:
            self._field.set_values(values)

    def point_field_values(self) -> NDArray[np.float64] | None:
        return None if self._field is None else self._field.values()

    def clear_point_field(self) -> None:
        if self._field is not None:
            self.plotter.remove_actor("twin-field", reset_camera=False)
            self._field = None

    def _show_field_cells(self) -> None:
        if self._field is not None:
            self._field.show_cells(self._hidden)

    # -- legend and captions -------------------------------------------------------------------
    @property
    def _scalar_bar(self) -> vtk.vtkScalarBarActor | None:
        """The legend's colour bar actor (kept for callers that inspect it)."""
        return self._bars.get("legend")

    @property
    def colour_bars(self) -> ColourBars:
        """The legend and overlay colour bars with their current placements."""
        return self._bars

    def set_legend(
        self,
        title: str | None,
        table: NDArray[np.uint8] | None = None,
        lo: float = 0.0,
        hi: float = 1.0,
    ) -> None:
        """A colour bar for the active quantity (on the right); ``title=None`` removes it.

        It is laid out with the overlays' bars so that none overlaps another, and a long title
        is wrapped (see :mod:`twinviewer.render.colourbars`).
        """
        if title is None or table is None:
            self._bars.remove("legend")
            return
        self._bars.set("legend", lookup_table(table, lo, hi), title, "right")

    def set_status_legend(self, entries: Sequence[tuple[str, NDArray[np.uint8]]]) -> None:
        """A small key of the non-value colours (alarm, warning, stale, no data, no sensor),
        top right, above where the colour bars may reach."""
        if self._status_legend is not None:
            self.plotter.renderer.RemoveViewProp(self._status_legend)
            self._status_legend = None
        if not entries:
            return
        self._status_legend = make_status_legend(entries)
        self.plotter.renderer.AddViewProp(self._status_legend)

    def set_caption(self, key: str, text: str, corner: str = "upper_left", size: int = 14) -> None:
        """A text overlay in a corner (title, clock); empty text removes it."""
        actor = self._text.get(key)
        if not text:
            if actor is not None:
                self.plotter.renderer.RemoveViewProp(actor)
                del self._text[key]
            return
        if actor is None:
            actor = vtk.vtkTextActor()
            prop = actor.GetTextProperty()
            prop.SetFontSize(size)
            prop.SetColor(0.92, 0.92, 0.92)
            prop.SetFontFamilyToArial()
            coord = actor.GetPositionCoordinate()
            coord.SetCoordinateSystemToNormalizedViewport()
            x, y, just, vjust = {
                "upper_left": (0.01, 0.985, 0, 2),
                "upper_right": (0.99, 0.985, 2, 2),
                "lower_left": (0.01, 0.01, 0, 0),
                "lower_right": (0.99, 0.01, 2, 0),
            }[corner]
            coord.SetValue(x, y)
            prop.SetJustification(just)
            prop.SetVerticalJustification(vjust)
            self.plotter.renderer.AddViewProp(actor)
            self._text[key] = actor
        actor.SetInput(text)

    # -- camera ------------------------------------------------------------------------------
    def _camera_is_ours(self) -> None:
        # pyvista resets to its isometric default on first draw unless told the camera is set.
        self.plotter.camera_set = True

    def fit(self) -> None:
        self._camera_is_ours()
        visible = self._visible_bounds()
        if visible is not None:
            self.plotter.renderer.ResetCamera(*visible)
            self.plotter.renderer.ResetCameraClippingRange()

    def _visible_bounds(self) -> tuple[float, ...] | None:
        if self.model is None or self.model.n_triangles == 0:
            return None
        if self._hidden.any():
            keep = ~self._hidden[self.model.cell_component]
            if keep.any():
                pts = self.model.points[np.unique(self.model.triangles[keep])]
                lo, hi = pts.min(axis=0), pts.max(axis=0)
                return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        return self.model.bounds()

    def fit_components(self, components: Sequence[int]) -> None:
        """Zoom to the given components."""
        if self.model is None or not len(components):
            return
        mask = np.isin(self.model.cell_component, np.asarray(components))
        if not mask.any():
            return
        drawn = self.model_points if self._posed_from is not None else None
        pts = (self.model.points if drawn is None else drawn)[np.unique(self.model.triangles[mask])]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        self.plotter.renderer.ResetCamera(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        self.plotter.renderer.ResetCameraClippingRange()

    def standard_view(self, name: str) -> None:
        """Look along a principal axis (Z up) or from the isometric corner, then fit."""
        directions = {
            "iso": ((1, -1, 1), (0, 0, 1)),
            "top": ((0, 0, 1), (0, 1, 0)),
            "bottom": ((0, 0, -1), (0, -1, 0)),
            "front": ((0, -1, 0), (0, 0, 1)),
            "back": ((0, 1, 0), (0, 0, 1)),
            "left": ((-1, 0, 0), (0, 0, 1)),
            "right": ((1, 0, 0), (0, 0, 1)),
        }
        if name not in directions:
            raise ValueError(f"unknown view {name!r}; expected one of {', '.join(STANDARD_VIEWS)}")
        direction, up = directions[name]
        cam = self.plotter.renderer.GetActiveCamera()
        cam.SetFocalPoint(0, 0, 0)
        cam.SetPosition(*direction)
        cam.SetViewUp(*up)
        self.fit()

    def set_camera(
        self, position: Sequence[float], focal_point: Sequence[float], up: Sequence[float]
    ) -> None:
        self._camera_is_ours()
        cam = self.plotter.renderer.GetActiveCamera()
        cam.SetPosition(*position)
        cam.SetFocalPoint(*focal_point)
        cam.SetViewUp(*up)
        self.plotter.renderer.ResetCameraClippingRange()

    def camera(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        cam = self.plotter.renderer.GetActiveCamera()
        return cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp()
