"""*Data > Import tag list…*: a plant's tag list (CSV or Excel) into the open twin's sensors.

A file dialog, then a preview: the file's first rows with a combo above each column choosing the
field it is read as (the columns found by their headers preselected; *ignore* possible). Every
change of a mapping parses the file again (:func:`twinviewer.core.tags.parse_tags`), and three
tabs show the result: the sensors to import (added, updated or unchanged, as
:func:`~twinviewer.core.project_edit.plan_sensors` says), the bad rows with their line and
reason, and the tags whose component matches nothing in the model, each with a combo of
similar component names (choosing one binds the tag to it before the import).

*Import* writes the sensors with :func:`~twinviewer.core.project_edit.add_sensors` (comments
kept) as one step of *Edit > Undo* (which puts the previous project text back), and opens the
twin again so that the new sensors show.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.binding import component_names, suggest_names
from twinviewer.core.project import Project, ProjectError, Sensor, load_project
from twinviewer.core.project_edit import add_sensors, plan_sensors
from twinviewer.core.tags import (
    FIELDS,
    IGNORE,
    TagFileError,
    TagRow,
    TagTable,
    Unbound,
    detect_columns,
    parse_tags,
    plan_bindings,
    read_rows,
    unbound_tags,
)
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.project_edits import edit_project
from twinviewer.ui.undo import UndoFeature

if TYPE_CHECKING:
    from twinviewer.core.model import ModelData
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

PREVIEW_ROWS = 12  # data rows shown under the mapping combos
ALL_NAMES_UP_TO = 300  # the unbound combos list every component name when there are no more
KEEP_UNBOUND = "(leave unbound)"


def _header(cell: object) -> str:
    """A cell as the preview shows it (a spreadsheet's 3.0 as 3)."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell if cell is not None else "").strip()


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


class TagImportDialog(QDialog):
    """The preview of one tag list against one project and model; :meth:`sensors` is what
    *Import* writes."""

    def __init__(
        self, path: Path, project: Project, model: ModelData, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tag-import")
        self.setWindowTitle(f"Import tag list: {path.name}")
        self.path, self.project, self.model = path, project, model
        self.where, rows = read_rows(path, None)
        if not rows:
            raise TagFileError(f"{path}: no rows; expected a header row and one row per tag")
        self.header_line, cells = rows[0]
        self.headers = [_header(h) for h in cells]
        self.data_rows = rows[1:]
        self.table: TagTable | None = None
        self.unbound: list[Unbound] = []
        self.chosen: dict[str, str] = {}  # tag id -> the component it is bound to here
        self._names = component_names(project, model)

        self.summary = QLabel()
        self.summary.setObjectName("tag-summary")
        self.summary.setWordWrap(True)
        self.preview = QTableWidget()
        self.preview.setObjectName("tag-preview")
        self.combos: list[QComboBox] = []
        self._fill_preview()

        self.rows_view = self._table("tag-rows", ["Line", "Tag", "Name", "Quantity", "Unit",
                                                  "Component", "Range", "Import"])  # fmt: skip
        self.bad_view = self._table("tag-bad", ["Line", "Tag", "Reason"])
        self.unbound_view = self._table(
            "tag-unbound", ["Line", "Tag", "Component in the file", "Suggested", "Bind to"]
        )
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tag-tabs")
        self.tabs.addTab(self.rows_view, "To import")
        self.tabs.addTab(self.bad_view, "Bad rows")
        self.tabs.addTab(self.unbound_view, "Unbound")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"The first rows of {path.name}. Above each column: the field it is read as "
                "(found from its header; change it, or ignore the column)."
            )
        )
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 4)
        layout.addWidget(self.buttons)
        self.resize(1180, 760)
        self.reparse()

    # -- the file and its columns ----------------------------------------------------------------
    @staticmethod
    def _table(name: str, headers: list[str]) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setObjectName(name)
        t.setHorizontalHeaderLabels(headers)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        t.horizontalHeader().setStretchLastSection(True)
        return t

    def _fill_preview(self) -> None:
        detected = {i: f for f, i in detect_columns(self.headers).items()}
        norms = [" ".join(h.lower().split()) for h in self.headers]
        shown = self.data_rows[:PREVIEW_ROWS]
        p = self.preview
        p.setColumnCount(len(self.headers))
        p.setRowCount(1 + len(shown))
        p.setHorizontalHeaderLabels([h or f"(column {i + 1})" for i, h in enumerate(self.headers)])
        p.setVerticalHeaderLabels(["maps to"] + [f"{self.where} {n}" for n, _ in shown])
        p.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for c, head in enumerate(self.headers):
            combo = QComboBox()
            combo.addItem(IGNORE, IGNORE)
            for fld in FIELDS:
                combo.addItem(fld.replace("_", " "), fld)
            combo.setCurrentIndex(combo.findData(detected.get(c, IGNORE)))
            # a column without a header of its own cannot be named in the mapping
            combo.setEnabled(bool(head) and norms.count(norms[c]) == 1)
            combo.currentIndexChanged.connect(lambda _i, c=c: self._on_mapped(c))
            p.setCellWidget(0, c, combo)
            self.combos.append(combo)
        for r, (_line, cells) in enumerate(shown, start=1):
            for c in range(len(self.headers)):
                item = QTableWidgetItem(_header(cells[c]) if c < len(cells) else "")
                p.setItem(r, c, item)
        p.resizeColumnsToContents()
        for c in range(p.columnCount()):
            p.setColumnWidth(c, max(p.columnWidth(c), 110))

    def field_of(self, header: str) -> str:
        """The field the column ``header`` is read as (``ignore``)."""
        return str(self.combos[self.headers.index(header)].currentData())

    def set_field(self, header: str, fld: str) -> None:
        """Read the column ``header`` as ``fld`` (what choosing it in its combo does)."""
        combo = self.combos[self.headers.index(header)]
        combo.setCurrentIndex(combo.findData(fld))

    def mapping(self) -> dict[str, str]:
        """{header: field or ignore} for every column the combos can name."""
        return {
            self.headers[c]: str(combo.currentData())
            for c, combo in enumerate(self.combos)
            if combo.isEnabled()
        }

    def _on_mapped(self, column: int) -> None:
        fld = self.combos[column].currentData()
        if fld != IGNORE:  # one column per field: another column reading it lets go
            for c, other in enumerate(self.combos):
                if c != column and other.currentData() == fld:
                    other.blockSignals(True)
                    other.setCurrentIndex(other.findData(IGNORE))
                    other.blockSignals(False)
        self.reparse()

    # -- the parse -------------------------------------------------------------------------------
    def reparse(self) -> None:
        """Parse the file with the combos' mapping and show what it gives."""
        try:
            self.table = parse_tags(self.path, self.mapping(), self.project.sensors)
        except TagFileError as exc:
            self.table, self.unbound = None, []
            self.summary.setText(f"<b>Cannot import:</b> {exc}")
            self.import_button.setEnabled(False)
            for view in (self.rows_view, self.bad_view, self.unbound_view):
                view.setRowCount(0)
            self._tab_titles()
            return
        self.unbound = unbound_tags(self.table.rows, self.project, self.model)
        self._show_bad()
        self._show_unbound()
        self._show_rows()

    def suggestions(self, u: Unbound) -> list[str]:
        """Component names for an unbound tag: those like its component, else like its name."""
        if u.suggestions:
            return list(u.suggestions)
        sensor = next(r.sensor for r in self.rows() if r.sensor.id == u.sensor)
        for ref in (sensor.name, sensor.id):
            if ref and (found := suggest_names(ref, self._names)):
                return found
        return []

    def rows(self) -> list[TagRow]:
        return list(self.table.rows) if self.table is not None else []

    def sensors(self) -> list[Sensor]:
        """The sensors *Import* writes: the good rows', with the bindings chosen here."""
        return [
            r.sensor.model_copy(update={"component": self.chosen[r.sensor.id]})
            if r.sensor.id in self.chosen
            else r.sensor
            for r in self.rows()
        ]

    def bind(self, tag: str, component: str | None) -> None:
        """Bind an unbound tag to ``component`` before the import (``None``: leave it)."""
        if component is None:
            self.chosen.pop(tag, None)
        else:
            self.chosen[tag] = component
        self._show_rows()

    def _show_rows(self) -> None:
        sensors = self.sensors()
        plan = plan_sensors(self.project, sensors)
        state = {i: "add" for i in plan.added} | {i: "update" for i in plan.updated}
        state |= {i: "unchanged" for i in plan.unchanged}
        unbound = {u.sensor for u in self.unbound} - set(self.chosen)
        v = self.rows_view
        v.setRowCount(len(sensors))
        for r, (row, s) in enumerate(zip(self.rows(), sensors, strict=True)):
            component = s.component or ""
            if s.id in unbound:
                component += " (unbound)"
            elif s.id in self.chosen:
                component += " (bound here)"
            rng = f"{s.range[0]:g} – {s.range[1]:g}" if s.range else ""
            cells = [str(row.line), s.id, s.name or "", s.quantity, s.unit, component, rng,
                     state.get(s.id, "")]  # fmt: skip
            for c, text in enumerate(cells):
                v.setItem(r, c, QTableWidgetItem(text))
        v.resizeColumnsToContents()
        table = self.table
        assert table is not None
        bound_here = len(self.chosen.keys() & {u.sensor for u in self.unbound})
        parts = [
            f"<b>{len(sensors)} tags to import</b>: {len(plan.added)} added, "
            f"{len(plan.updated)} updated, {len(plan.unchanged)} unchanged",
            f"{_count(len(table.bad), 'bad row')} (not imported)",
            f"{len(self.unbound)} unbound" + (f" ({bound_here} bound here)" if bound_here else ""),
        ]
        if table.guessed_quantity:
            parts.append(f"quantity from the unit or name for {len(table.guessed_quantity)}")
        self.summary.setText("; ".join(parts) + ".")
        self.import_button.setEnabled(bool(plan.added or plan.updated))
        self._tab_titles()

    def _show_bad(self) -> None:
        bad = self.table.bad if self.table is not None else []
        v = self.bad_view
        v.setRowCount(len(bad))
        for r, b in enumerate(bad):
            for c, text in enumerate([f"{b.where} {b.line}", b.tag or "", b.reason]):
                v.setItem(r, c, QTableWidgetItem(text))
        v.resizeColumnsToContents()
        v.horizontalHeader().setStretchLastSection(True)

    def _show_unbound(self) -> None:
        v = self.unbound_view
        v.setRowCount(len(self.unbound))
        for r, u in enumerate(self.unbound):
            hints = self.suggestions(u)
            cells = [f"{self.where} {u.line}", u.sensor, u.component or "(none)",
                     ", ".join(hints) or "–"]  # fmt: skip
            for c, text in enumerate(cells):
                v.setItem(r, c, QTableWidgetItem(text))
            combo = QComboBox()
            combo.addItem(KEEP_UNBOUND, None)
            for name in hints:
                combo.addItem(f"{name} (suggested)", name)
            if len(self._names) <= ALL_NAMES_UP_TO:
                combo.insertSeparator(combo.count())
                for name in self._names:
                    if name not in hints:
                        combo.addItem(name, name)
            if u.sensor in self.chosen:
                combo.setCurrentIndex(max(0, combo.findData(self.chosen[u.sensor])))
            combo.currentIndexChanged.connect(
                lambda _i, tag=u.sensor, box=combo: self.bind(tag, box.currentData())
            )
            v.setCellWidget(r, 4, combo)
        v.resizeColumnsToContents()
        v.horizontalHeader().setStretchLastSection(True)

    def unbound_combo(self, tag: str) -> QComboBox:
        """The *Bind to* combo of an unbound tag."""
        r = next(i for i, u in enumerate(self.unbound) if u.sensor == tag)
        combo = self.unbound_view.cellWidget(r, 4)
        assert isinstance(combo, QComboBox)
        return combo

    def _tab_titles(self) -> None:
        table = self.table
        self.tabs.setTabText(0, f"To import ({len(table.rows) if table else 0})")
        self.tabs.setTabText(1, f"Bad rows ({len(table.bad) if table else 0})")
        self.tabs.setTabText(2, f"Unbound ({len(self.unbound)})")


class TagImportFeature(Feature):
    name = "tags_import"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.stack = QUndoStack(host)
        self.dialog: TagImportDialog | None = None
        self._stack_path: Path | None = None

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec("tags.import", "Import &tag list…", lambda _=False: self.ask(), "Data",
                       "tags", tip="Sensors from a plant's tag list (CSV or Excel), with a "
                       "preview of how its columns are read"),
        ]  # fmt: skip

    def hosted(self) -> None:
        undo = self.host.features.get(UndoFeature.name)
        if isinstance(undo, UndoFeature):
            undo.register(self.stack)

    def opened(self, session: TwinSession) -> None:
        if self._stack_path != session.path:  # the imports of another twin cannot be undone here
            self.stack.clear()
            self._stack_path = session.path

    def closed(self) -> None:
        if self.dialog is not None:
            self.dialog.reject()

    def shutdown(self) -> None:
        # kept through closed() (an import reopens the twin); emptied while the undo group lives
        self.stack.clear()

    # -- the import ------------------------------------------------------------------------------
    def ask(self) -> None:
        """The file dialog, then the preview."""
        if self.session is None:
            return
        chosen, _ = QFileDialog.getOpenFileName(
            self.host,
            "Import tag list",
            str(self.session.folder),
            "Tag lists (*.csv *.txt *.tsv *.xlsx *.xlsm);;All files (*)",
        )
        if chosen:
            self.preview(Path(chosen))

    def preview(self, path: Path) -> TagImportDialog | None:
        """Show the preview of ``path`` (not modal to the process: it is opened, not exec'd)."""
        s = self.session
        if s is None:
            return None
        try:
            project, _ = load_project(s.path)  # the file as it is now, not as it was opened
            dialog = TagImportDialog(path, project, s.model, self.host)
        except (TagFileError, ProjectError) as exc:
            self.host.error("Cannot read the tag list", str(exc))
            return None
        dialog.accepted.connect(lambda d=dialog: self.apply(d))
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget(self, dialog: TagImportDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def apply(self, dialog: TagImportDialog) -> bool:
        """Write the dialog's sensors into the project, as one undoable step."""
        s = self.session
        if s is None:
            return False
        path = Path(s.path)
        sensors = dialog.sensors()
        rows = [
            TagRow(r.line, sensor, r.address)
            for r, sensor in zip(dialog.rows(), sensors, strict=True)
        ]
        try:
            bindings = plan_bindings(rows, dialog.project)
        except (ProjectError, TagFileError) as exc:
            self.host.error("Cannot import the tag list", str(exc))
            return False
        plan = plan_sensors(dialog.project, sensors)
        counts = f"{len(plan.added)} added, {len(plan.updated)} updated"
        log.info("%s: sensors from %s: %s", path, dialog.path, counts)
        return edit_project(
            self.host,
            self.stack,
            f"tag import ({counts})",
            lambda: add_sensors(path, sensors, bindings.opcua),
            message=f"Tag list imported: {counts}",
        )


__all__ = ["TagImportDialog", "TagImportFeature"]
