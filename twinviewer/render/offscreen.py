"""Plotters that draw into memory, for pictures and videos made without a window.

On a machine without a display (no ``DISPLAY`` / ``WAYLAND_DISPLAY``) VTK would try X first,
warn "bad X server connection" and then fall back; it is asked for an EGL window straight away.
"""

from __future__ import annotations

import os

import pyvista as pv

from twinviewer.render.scene import configure_for_software_rendering


def offscreen_plotter(size: tuple[int, int]) -> pv.Plotter:
    """An off-screen plotter of ``size`` pixels, set up for software rendering."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    configure_for_software_rendering()
    return pv.Plotter(off_screen=True, window_size=list(size))
