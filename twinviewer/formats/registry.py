"""The reader registry: one reader per format, chosen by file suffix.

A reader is a plain function ``(path, progress) -> ModelData``; it registers itself with
:func:`reader`. ``progress`` is called with a fraction 0..1 on long reads (it may be ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twinviewer.core.model import ModelData, ModelReadError

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
Reader = Callable[[Path, Progress], ModelData]


@dataclass(frozen=True)
class ReaderInfo:
    name: str
    suffixes: tuple[str, ...]
    function: Reader
    priority: int = 0


_READERS: list[ReaderInfo] = []


def reader(name: str, suffixes: tuple[str, ...], priority: int = 0) -> Callable[[Reader], Reader]:
    """Register a reader for the given lower-case suffixes (with the dot)."""

    def register(fn: Reader) -> Reader:
        _READERS.append(ReaderInfo(name, tuple(s.lower() for s in suffixes), fn, priority))
        return fn

    return register


def _ensure_loaded() -> None:
    # Importing the package registers every built-in reader (URDF: robots, with kinematics).
    import twinviewer.formats  # noqa: F401
    import twinviewer.formats.urdf  # noqa: F401


def readers() -> list[ReaderInfo]:
    _ensure_loaded()
    return sorted(_READERS, key=lambda r: -r.priority)


def supported_suffixes() -> list[str]:
    return sorted({s for r in readers() for s in r.suffixes})


def find_reader(path: Path) -> ReaderInfo | None:
    name = path.name.lower()
    for r in readers():
        if any(name.endswith(s) for s in r.suffixes):
            return r
    return None


def _no_progress(_: float) -> None:
    pass


def read_model(path: str | Path, progress: Progress | None = None) -> ModelData:
    """Read any supported model file. Every failure is a :class:`ModelReadError` naming the file.

    A folder is read as an assembly: each supported file in it becomes a top-level component.
    """
    path = Path(path)
    if path.is_dir():
        from twinviewer.formats.assembly import read_folder

        return read_folder(path, progress or _no_progress)
    if not path.exists():
        raise ModelReadError(path, "file not found")
    info = find_reader(path)
    if info is None:
        raise ModelReadError(
            path, f"unsupported file type; expected one of {', '.join(supported_suffixes())}"
        )
    if path.stat().st_size == 0:
        raise ModelReadError(path, "file is empty")
    try:
        model = info.function(path, progress or _no_progress)
    except ModelReadError:
        raise
    except MemoryError:
        raise ModelReadError(path, "not enough memory to read this model") from None
    except Exception as exc:  # a reader's library failing on bad bytes is the file's fault
        log.debug("reader %s failed on %s", info.name, path, exc_info=True)
        raise ModelReadError(path, f"not a readable {info.name} file ({_reason(exc)})") from None
    if model.n_triangles == 0:
        raise ModelReadError(path, f"no surface geometry found in this {info.name} file")
    return model


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
