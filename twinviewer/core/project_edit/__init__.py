"""Small, careful edits of a project file that keep everything else in it as it was.

The project file is written by people: comments, key order, quoting and layout carry meaning,
and a YAML round trip through a parser loses all of them. So an edit here is a targeted text
edit at the positions the YAML composer reports, and the result is checked before it replaces the
file: it must load with :func:`~twinviewer.core.project.load_project`, say what was asked, and
say everything else exactly as before. Otherwise nothing is written.

Only :mod:`twinviewer.core` is imported.
"""

from __future__ import annotations

from twinviewer.core.project_edit.items import add_overlay, add_source, remove_overlay
from twinviewer.core.project_edit.opcua import set_opcua_bindings
from twinviewer.core.project_edit.sensors import (
    RemovedSensor,
    SensorEdit,
    add_sensors,
    plan_sensors,
    remove_sensor,
)
from twinviewer.core.project_edit.text import ProjectEditError, write_file
from twinviewer.core.project_edit.tours import delete_tour, save_tour

__all__ = [
    "ProjectEditError",
    "RemovedSensor",
    "SensorEdit",
    "add_overlay",
    "add_sensors",
    "add_source",
    "delete_tour",
    "plan_sensors",
    "remove_overlay",
    "remove_sensor",
    "save_tour",
    "set_opcua_bindings",
    "write_file",
]
