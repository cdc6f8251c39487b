"""Simulation results (issue 5): readers for solver output with time steps, fields and parts.

``read_result(path)`` opens any supported file (see :func:`result_suffixes`) as a
:class:`SimResult`; see :mod:`twinviewer.sim.result` for the design (lazy steps, parts merged
into one grid with a ``part`` cell array, where units come from).
"""

from twinviewer.sim.readers import (
    SimReaderInfo,
    find_sim_reader,
    is_result,
    read_result,
    register_reader,
    result_suffixes,
    sim_readers,
)
from twinviewer.sim.result import PART_ARRAY, FieldInfo, SimReadError, SimResult

__all__ = [
    "PART_ARRAY",
    "FieldInfo",
    "SimReadError",
    "SimReaderInfo",
    "SimResult",
    "find_sim_reader",
    "is_result",
    "read_result",
    "register_reader",
    "result_suffixes",
    "sim_readers",
]
