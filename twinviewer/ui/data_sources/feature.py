"""Data sources: each live source's state and rates, the status bar's summary, binding
sensors to OPC UA nodes by browsing the server, and adding an MQTT source (test, discover)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from twinviewer.core.colour import Status
from twinviewer.session import TwinSession, is_project_file
from twinviewer.ui.data_sources.panel import QtSourcePanel
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.widgets.elided_label import QtElidedLabel

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class DataSourcesFeature(Feature):
    name = "data_sources"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.panel = QtSourcePanel()
        self.panel.add_mqtt_requested.connect(self.add_mqtt_dialog)
        self.panel.add_mqtt_button.setEnabled(False)
        self.source_label = QtElidedLabel("No source", minimum=60)
        self.rate_label = QtElidedLabel("")
        self.clock_label = QtElidedLabel("", minimum=80)
        for label in (self.source_label, self.rate_label, self.clock_label):
            host.status.add(label)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Data sources",
                self.panel,
                Qt.DockWidgetArea.BottomDockWidgetArea,
                size=(600, 110),
                minimum=(240, 90),
            )
        ]

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "sources.bind_opcua",
                "&Bind sensors to OPC UA nodes…",
                self.bind_opcua_dialog,
                "Data",
                "sources",
                "Ctrl+B",
                "Browse the OPC UA server and bind its variables to the project's sensors",
            ),
            ActionSpec(
                "sources.add_mqtt",
                "Add &MQTT source…",
                self.add_mqtt_dialog,
                "Data",
                "sources",
                tip="Test a broker, discover its topics and add it to the project's sources",
            ),
        ]

    def opened(self, session: TwinSession) -> None:
        has_opcua = any(c.type == "opcua" for c in session.project.sources)
        self.host.action("sources.bind_opcua").setEnabled(has_opcua)
        self.panel.add_mqtt_button.setEnabled(is_project_file(session.path))

    def refresh(self) -> None:
        s = self.session
        if s is None:
            return
        self.panel.refresh(s.sources, {c.id: c.type for c in s.project.sources})
        states = []
        for src in s.sources:
            st = src.status
            text = f"{src.id}: {st.state.value}"
            if st.message:
                text += f" ({st.message})"
            states.append(text)
        self.source_label.setText("  ·  ".join(states) if states else "No live source")
        self.rate_label.setText(f"{s.samples_per_second():,.0f} samples/s")
        n_alarm = int((s.sensor_state == Status.ALARM).sum())
        n_warn = int((s.sensor_state == Status.WARNING).sum())
        self.clock_label.setText(
            f"{datetime.now(self.host.time_zone):%H:%M:%S}   alarms: {n_alarm}   warnings: {n_warn}"
        )
        self.clock_label.setStyleSheet("color: #ff5060; font-weight: bold;" if n_alarm else "")

    def closed(self) -> None:
        self.panel.add_mqtt_button.setEnabled(False)
        self.source_label.setText("No source")
        self.rate_label.setText("")
        self.clock_label.setText("")

    def bind_opcua_dialog(self) -> None:
        """Browse the project's OPC UA server, bind nodes to sensors, write them to the file."""
        s = self.session
        if s is None:
            return
        configs = [c for c in s.project.sources if c.type == "opcua"]
        if not configs:
            return
        from twinviewer.core.project_edit import set_opcua_bindings
        from twinviewer.ui.data_sources.opcua_browser import QtOpcUaBrowser

        cfg = configs[0]
        dialog = QtOpcUaBrowser(cfg, s.sensors, s.folder, self.host)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if not is_project_file(s.path):
            self.host.error("No project file", "Bindings are kept in a *.twin.yaml project file.")
            return
        try:
            set_opcua_bindings(s.path, cfg.id, dialog.bindings())
        except (ValueError, OSError) as exc:
            self.host.error("The bindings could not be written", str(exc))
            return
        self.host.statusBar().showMessage(
            f"Wrote {len(dialog.bindings())} bindings to {s.path}", 8000
        )
        self.host.reopen()  # the feed uses the new nodes

    def add_mqtt_dialog(self) -> QDialog | None:
        """The MQTT source dialog (modeless); once it wrote the source, the twin reopens."""
        s = self.session
        if s is None:
            return None
        if not is_project_file(s.path):
            self.host.error("No project file", "Sources are kept in a *.twin.yaml project file.")
            return None
        from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog

        dialog = QtMqttSourceDialog(s.path, s.sensors, [c.id for c in s.project.sources], self.host)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        path = s.path

        def added(source_id: str) -> None:
            self.host.statusBar().showMessage(f"Added MQTT source {source_id!r} to {path}", 8000)
            self.host.reopen()  # the new source starts

        dialog.added.connect(added)
        dialog.open()
        return dialog
