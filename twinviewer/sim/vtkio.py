"""Quiet, checked reading of single VTK files (XML, legacy) and multiblock flattening.

VTK reports a bad file by printing to its output window (and through ``vtkLogger`` to stderr)
and handing back an empty dataset. Here every read runs inside :func:`quiet_vtk`, which collects
that text instead of letting it reach the console, and failure is decided by looking at the
result: the reader's error events, the collected text, and an output with no points.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError

log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_WINDOW: Any = None  # the string output window while a quiet block runs
_MAX_DEPTH = 32
_OBJECT_PREFIX = re.compile(r"^\w+ \(0x[0-9a-fA-F]+\): ")
_SOURCE_LINE = re.compile(r"^(Generic )?(ERROR|Warning|Error): In \S+, line \d+")
# Readers report some broken files only as warnings (a legacy file cut short: "Error reading
# binary data!"); such warnings count as errors.
_BAD_WARNING = re.compile(r"error|premature|unexpected end|too short|eof", re.IGNORECASE)

#: XML suffix -> VTK reader class name (in ``vtkmodules.vtkIOXML``).
XML_READERS: dict[str, str] = {
    ".vtu": "vtkXMLUnstructuredGridReader",
    ".vtp": "vtkXMLPolyDataReader",
    ".vts": "vtkXMLStructuredGridReader",
    ".vtr": "vtkXMLRectilinearGridReader",
    ".vti": "vtkXMLImageDataReader",
    ".vtm": "vtkXMLMultiBlockDataReader",
    ".pvtu": "vtkXMLPUnstructuredGridReader",
    ".pvtp": "vtkXMLPPolyDataReader",
    ".pvts": "vtkXMLPStructuredGridReader",
    ".pvtr": "vtkXMLPRectilinearGridReader",
    ".pvti": "vtkXMLPImageDataReader",
}
LEGACY_SUFFIXES = (".vtk",)


class _Messages:
    """What VTK said during a quiet block (errors first, for the message to the user)."""

    def __init__(self, window: Any) -> None:
        self.errors: list[str] = []
        self.window = window
        self.start = len(str(window.GetOutput() or ""))  # a nested block sees only its own

    def all_errors(self) -> list[str]:
        """Every error, the most specific first: what lower-level objects such as the XML
        parser said (caught by the output window), then the watched algorithms' errors."""
        out: list[str] = []
        text = str(self.window.GetOutput() or "")[self.start :]
        chunks = re.split(r"\n\s*\n", text)
        out.extend(clean(chunk) for chunk in chunks if _is_error(chunk))
        out.extend(self.errors)
        found = [e for e in out if e]
        specific = [e for e in found if "returned failure for request" not in e]
        return specific or found


@contextmanager
def quiet_vtk() -> Iterator[_Messages]:
    """Collect VTK's messages instead of printing them; restore the previous output afterwards.

    Swaps the global output window for a ``vtkStringOutputWindow`` and turns ``vtkLogger``'s
    stderr output off. Re-entrant and serialised by a lock, since both are process-wide.
    """
    global _WINDOW
    from vtkmodules.vtkCommonCore import vtkLogger, vtkOutputWindow, vtkStringOutputWindow

    with _LOCK:
        if _WINDOW is not None:  # nested: the outer block's window is already in place
            yield _Messages(_WINDOW)
            return
        previous_window = vtkOutputWindow.GetInstance()
        previous_verbosity = vtkLogger.GetCurrentVerbosityCutoff()  # as pyvista reads it
        window = vtkStringOutputWindow()
        vtkOutputWindow.SetInstance(window)
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
        _WINDOW = window
        try:
            yield _Messages(window)
        finally:
            _WINDOW = None
            vtkOutputWindow.SetInstance(previous_window)
            vtkLogger.SetStderrVerbosity(previous_verbosity)
            said = str(window.GetOutput() or "").strip()
            if said:
                log.debug("VTK said: %s", said[:2000])


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send what C libraries write straight to stderr (the Exodus and netCDF libraries,
    libxml2 under VTK's XDMF reader) to the debug log instead, for the length of a read.

    This swaps the process's file descriptor 2, so it is kept short and serialised; anything
    another thread writes to stderr meanwhile lands in the debug log too.
    """
    import os
    import sys
    import tempfile

    with _LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, AttributeError, ValueError):  # no real stderr (frozen GUI app)
            yield
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                said = sink.read().decode("utf-8", "replace").strip()
                if said:
                    log.debug("a library said on stderr: %s", said[:2000])


def _is_error(chunk: str) -> bool:
    if "ERR" in chunk:
        return True
    body = "\n".join(ln for ln in chunk.splitlines() if not _SOURCE_LINE.match(ln.strip()))
    return "Warning" in chunk and bool(_BAD_WARNING.search(body))


def clean(message: str | None) -> str:
    """The reason in a VTK error text, without its source line, log prefix and object address."""
    lines = [ln.strip() for ln in str(message or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _SOURCE_LINE.match(ln)]
    if not lines:
        return ""
    first = lines[0]
    first = re.sub(r"^.*?\b(ERR|WARN)\|\s*", "", first)
    return _OBJECT_PREFIX.sub("", first).strip()


def watch(algorithm: Any, messages: _Messages) -> None:
    """Collect an algorithm's error events (which also keeps them off the console)."""
    from vtkmodules.util.misc import calldata_type
    from vtkmodules.util.vtkConstants import VTK_STRING
    from vtkmodules.vtkCommonCore import vtkCommand

    @calldata_type(VTK_STRING)
    def on_error(_obj: Any, _event: str, message: str | None = None) -> None:
        messages.errors.append(clean(message))

    algorithm.AddObserver(vtkCommand.ErrorEvent, on_error)
    algorithm.GetExecutive().AddObserver(vtkCommand.ErrorEvent, on_error)


def kind_of(path: Path) -> str:
    """The VTK file kind by suffix ('.vtu', '.vtk', ...), or '' when this module cannot read it."""
    suffix = path.suffix.lower()
    return suffix if suffix in XML_READERS or suffix in LEGACY_SUFFIXES else ""


def read_vtk_file(path: Path, expected: str = "") -> Any:
    """Read one VTK file (XML or legacy) into a VTK data object, or raise :class:`SimReadError`.

    ``expected`` describes what the file should have been, for the message (defaults to the
    file kind, e.g. "a VTK XML unstructured grid (.vtu)").
    """
    suffix = path.suffix.lower()
    what = expected or describe(suffix)
    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {what})")
    if path.stat().st_size == 0:
        raise SimReadError(path, f"file is empty (expected {what})")
    if suffix in XML_READERS:
        import vtkmodules.vtkIOXML as vtk_xml

        reader = getattr(vtk_xml, XML_READERS[suffix])()
    elif suffix in LEGACY_SUFFIXES:
        from vtkmodules.vtkIOLegacy import vtkGenericDataObjectReader

        reader = vtkGenericDataObjectReader()
    else:
        raise SimReadError(path, f"not a VTK file suffix (expected {what})")
    with quiet_vtk() as messages:
        watch(reader, messages)
        reader.SetFileName(str(path))
        reader.Update()
        output = reader.GetOutputDataObject(0)
        errors = messages.all_errors()
    if errors or output is None:
        reason = next((e for e in errors if e), "no data")
        raise SimReadError(path, f"not readable: {reason} (expected {what})")
    return output


def describe(suffix: str) -> str:
    names = {
        ".vtu": "a VTK XML unstructured grid",
        ".vtp": "a VTK XML polydata file",
        ".vts": "a VTK XML structured grid",
        ".vtr": "a VTK XML rectilinear grid",
        ".vti": "a VTK XML image data file",
        ".vtm": "a VTK XML multiblock file",
        ".vtk": "a legacy VTK file",
    }
    key = "." + suffix[2:] if suffix.startswith(".p") and suffix not in names else suffix
    base = names.get(key, "a VTK file")
    if key != suffix:
        base += " in pieces"
    return f"{base} ({suffix})"


def leaves(data: Any, name: str, depth: int = 0) -> list[tuple[str, Any]]:
    """The datasets in a data object with their names: a dataset is itself; a multiblock (or
    any composite) gives its leaves, named by the file's block names (``outer/inner`` when
    nested, ``block N`` where the file names none). Empty blocks are dropped.
    """
    if data is None:
        return []
    if data.IsA("vtkDataSet"):
        return [(name, data)]
    if depth > _MAX_DEPTH:
        return []
    if data.IsA("vtkMultiBlockDataSet"):
        from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet

        out: list[tuple[str, Any]] = []
        for i in range(data.GetNumberOfBlocks()):
            block = data.GetBlock(i)
            meta = data.GetMetaData(i) if data.HasMetaData(i) else None
            block_name = meta.Get(vtkCompositeDataSet.NAME()) if meta is not None else None
            block_name = str(block_name) if block_name else f"block {i}"
            full = block_name if depth == 0 else f"{name}/{block_name}"
            out.extend(leaves(block, full, depth + 1))
        return out
    if data.IsA("vtkPartitionedDataSetCollection"):
        from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet

        out = []
        for i in range(data.GetNumberOfPartitionedDataSets()):
            meta = data.GetMetaData(i) if data.HasMetaData(i) else None
            block_name = meta.Get(vtkCompositeDataSet.NAME()) if meta is not None else None
            block_name = str(block_name) if block_name else f"block {i}"
            full = block_name if depth == 0 else f"{name}/{block_name}"
            out.extend(leaves(data.GetPartitionedDataSet(i), full, depth + 1))
        return out
    if data.IsA("vtkPartitionedDataSet"):
        out = []
        for i in range(data.GetNumberOfPartitions()):
            out.extend(leaves(data.GetPartition(i), name if i == 0 else f"{name}#{i}", depth + 1))
        return out
    if data.IsA("vtkCompositeDataSet"):  # other composites: their leaves, numbered
        out = []
        iterator = data.NewIterator()
        iterator.InitTraversal()
        while not iterator.IsDoneWithTraversal():
            block = iterator.GetCurrentDataObject()
            if block is not None and block.IsA("vtkDataSet"):
                out.append((f"{name}#{len(out)}" if out else name, block))
            iterator.GoToNextItem()
        return out
    return []


def open_reader(reader: Any, path: Path, expected: str, what: str = "not readable") -> None:
    """``reader.UpdateInformation()`` on ``path`` with VTK's output silenced; its first error
    becomes a :class:`SimReadError` ("<path>: <what>: <error> (expected <expected>)")."""
    with quiet_vtk() as messages, quiet_stderr():
        watch(reader, messages)
        reader.SetFileName(str(path))
        reader.UpdateInformation()
        errors = messages.all_errors()
    if errors:
        raise SimReadError(path, f"{what}: {errors[0]} (expected {expected})")


def time_steps(reader: Any) -> list[float]:
    """The time values a VTK reader announces (empty for a static file)."""
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

    info = reader.GetOutputInformation(0)
    key = vtkStreamingDemandDrivenPipeline.TIME_STEPS()
    return list(info.Get(key)) if info is not None and info.Has(key) else []


def read_parts(
    reader: Any,
    path: Path,
    times: list[float],
    step: int,
    expected: str,
    what: str = "not readable",
    skip: frozenset[str] = frozenset(),
) -> list[tuple[str, Any]]:
    """Step ``step`` of a time-aware VTK reader as ``(part, dataset)`` copies (the reader reuses
    its output on the next step); parts whose first path element is in ``skip`` are left out.
    Call it under the result's lock: a VTK reader is not thread-safe."""
    with quiet_vtk() as messages, quiet_stderr():
        if times:
            reader.UpdateTimeStep(times[step])
        else:
            reader.Update()
        output = reader.GetOutputDataObject(0)
        errors = messages.all_errors()
        if errors or output is None:
            reason = errors[0] if errors else "no data"
            raise SimReadError(path, f"step {step} {what}: {reason} (expected {expected})")
        out = []
        for part, ds in leaves(output, path.stem):
            if part.split("/")[0] in skip:
                continue
            copy = ds.NewInstance()
            copy.DeepCopy(ds)
            out.append((part, copy))
        return out
