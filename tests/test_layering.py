"""The layering of docs/ARCHITECTURE.md, checked mechanically on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "twinviewer"

QT = {"PySide6", "pyvistaqt", "qtpy", "shiboken6"}
VTK = {"vtk", "vtkmodules", "pyvista"}
NETWORK = {"socket", "paho", "asyncua", "http", "urllib", "requests"}

# Which twinviewer layers each layer may import (besides itself).
ALLOWED = {
    "core": set(),
    "formats": {"core"},
    "sources": {"core"},
    "history": {"core"},
    "sim": {"core"},
    "render": {"core", "formats", "history", "sources", "sim"},
    "session": {"core", "formats", "sources", "history", "sim"},
    "check": {"core", "formats", "session"},
    "headless": {"core", "formats", "sources", "render", "session", "sim"},
    "record": {"core", "sources", "session"},
    "fidelity_report": {"core", "session", "headless", "sim"},
    "scenario_runs": {"core", "history", "session", "sim", "sources"},
    "demos": set(),
    "project_edit": {"core"},
    "bench": {
        "core",
        "formats",
        "sources",
        "history",
        "render",
        "session",
        "headless",
        "bench_mqtt",
        "bench_history",
        "sim",
        "bench_sim",
    },
    "bench_mqtt": {"core", "sources", "bench"},
    "bench_history": {"core", "history", "bench"},
    "bench_sim": {"core", "sim", "bench"},
    "ui": {
        "core",
        "formats",
        "sources",
        "history",
        "render",
        "session",
        "demos",
        "check",
        "project_edit",
        "sim",
    },
    "app": {"ui", "demos"},
    "cli": {"*"},
    "__main__": {"cli"},
    "__init__": set(),
}


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def modules() -> list[Path]:
    found = sorted(PKG.rglob("*.py"))
    assert len(found) > 20
    return found


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = {layer_of(p) for p in modules()} - set(ALLOWED)
    assert not unknown, f"add these to the layering table: {unknown}"


def test_imports_run_one_way() -> None:
    bad = []
    for path in modules():
        layer = layer_of(path)
        allowed = ALLOWED[layer]
        for name in imports(path):
            parts = name.split(".")
            if parts[0] != "twinviewer" or len(parts) < 2:
                continue
            target = parts[1]
            if target in (layer, "__init__") or "*" in allowed or target in allowed:
                continue
            bad.append(f"{path.relative_to(PKG.parent)} ({layer}) imports {name}")
    assert not bad, "\n".join(bad)


def test_qt_only_in_ui() -> None:
    bad = [
        f"{p.relative_to(PKG.parent)} imports {n}"
        for p in modules()
        if layer_of(p) != "ui"
        for n in imports(p)
        if n.split(".")[0] in QT
    ]
    assert not bad, "\n".join(bad)


def test_core_has_no_vtk_and_no_network() -> None:
    bad = [
        f"{p.relative_to(PKG.parent)} imports {n}"
        for p in modules()
        if layer_of(p) == "core"
        for n in imports(p)
        if n.split(".")[0] in VTK | NETWORK | {"trimesh"}
    ]
    assert not bad, "\n".join(bad)


def test_no_print_in_the_library() -> None:
    bad = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno}")
    assert not bad, "print() in library code (use logging): " + ", ".join(bad)
