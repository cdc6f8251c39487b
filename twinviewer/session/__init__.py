"""An open twin without a GUI, and what is built directly on it.

- :mod:`~twinviewer.session.twin`: :class:`TwinSession` (project + model + binding + live state
  + sources + colours), and the functions that find a project's model, sources and history.
- :mod:`~twinviewer.session.headless`: the session drawn on an off-screen scene (``render``).
- :mod:`~twinviewer.session.scenario_runs`: making what-if scenario runs.
- :mod:`~twinviewer.session.demos`: where the built-in demo twins live.

The window, the commands and the benchmarks all drive the same session (f3d's library/app
split), so what is tested headless is what the window runs.
"""

from twinviewer.session.twin import (
    HISTORY_URL_ENV,
    Legend,
    Progress,
    TwinSession,
    create_sources,
    history_folder,
    history_location,
    history_url,
    is_project_file,
    load_twin_project,
    open_history,
    read_models,
)

__all__ = [
    "HISTORY_URL_ENV",
    "Legend",
    "Progress",
    "TwinSession",
    "create_sources",
    "history_folder",
    "history_location",
    "history_url",
    "is_project_file",
    "load_twin_project",
    "open_history",
    "read_models",
]
