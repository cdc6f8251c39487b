"""The MQTT source dialog: a broker's settings, *Test connection*, *Discover topics*, and *Add
source*, which writes the new ``sources:`` entry into the project file.

Connecting and listening run on worker threads (:class:`QtCallThread`), so an unreachable broker
or a few seconds of discovery never freeze the window. The work itself is Qt-free:
:mod:`twinviewer.sources.discovery` (connection test, discovery, the suggested topic template)
and :func:`twinviewer.core.project_edit.add_source` (the file edit, checked before writing).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project import MqttSource, Sensor
from twinviewer.core.project_edit import add_source
from twinviewer.sources import discovery
from twinviewer.sources.discovery import TopicSeen
from twinviewer.sources.topics import TopicTemplate

log = logging.getLogger(__name__)

TOPIC, MESSAGES, RATE, FORMAT, SENSOR, PAYLOAD = range(6)
COLUMNS = ("Topic", "Messages", "Rate /s", "Format", "Sensor", "Last payload")
BAD = QColor(255, 110, 110)
GOOD = QColor(110, 200, 140)
MUTED = QColor(140, 147, 156)
_running: set[QThread] = set()  # worker threads outliving a closed dialog


def _forget(thread: QThread) -> None:
    _running.discard(thread)
    thread.deleteLater()


class QtCallThread(QThread):
    """Runs ``call(progress)`` off the GUI thread; ``progress(fraction, count)`` may be called
    from it and arrives on the GUI thread as :attr:`progressed`."""

    done = Signal(object)
    failed = Signal(str)
    progressed = Signal(float, int)

    def __init__(
        self, call: Callable[[Callable[[float, int], None]], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.call = call

    def run(self) -> None:
        try:
            result = self.call(self.progressed.emit)
        except (discovery.DiscoveryError, ValueError, OSError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let a worker exception vanish
            log.exception("MQTT dialog worker failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)


def _unique_id(taken: Collection[str], base: str = "mqtt") -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


class QtMqttSourceDialog(QDialog):
    """Set up an MQTT source, test it, discover its topics and add it to the project file."""

    tested = Signal(bool, str)  # ok, message
    discovered = Signal(int)  # topics seen
    failed = Signal(str)  # discovery failed: why
    added = Signal(str)  # source id written to the project

    def __init__(
        self,
        project_path: Path,
        sensors: Sequence[Sensor],
        taken_ids: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add MQTT source")
        self.setObjectName("mqtt-source-dialog")
        self.project_path = Path(project_path)
        self.folder = self.project_path.parent
        self.sensors = list(sensors)
        self.sensor_ids = {s.id for s in self.sensors}
        self.components = {s.component for s in self.sensors if s.component}
        self.taken_ids = set(taken_ids)
        self.topics: list[TopicSeen] = []
        self.written: MqttSource | None = None
        self._threads: list[QtCallThread] = []
        self._stop = threading.Event()

        # -- the broker
        self.id_edit = QLineEdit(_unique_id(self.taken_ids))
        self.url_edit = QLineEdit("mqtt://127.0.0.1:1883")
        self.url_edit.setPlaceholderText("mqtt://host:1883 or mqtts://host:8883")
        self.client_id_edit = QLineEdit()
        self.client_id_edit.setPlaceholderText("empty: a random id and a clean session")
        self.user_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setToolTip("Written into the project file; prefer a variable below")
        self.password_env_edit = QLineEdit()
        self.password_env_edit.setPlaceholderText("environment variable with the password")
        broker = QFormLayout()
        broker.addRow("Source id", self.id_edit)
        broker.addRow("Broker URL", self.url_edit)
        broker.addRow("Client id", self.client_id_edit)
        broker.addRow("Username", self.user_edit)
        broker.addRow("Password", self.password_edit)
        broker.addRow("Password variable", self.password_env_edit)
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("CA file (PEM); empty: the system's CAs")
        self.cert_edit = QLineEdit()
        self.cert_edit.setPlaceholderText("client certificate (PEM), for mutual TLS")
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("client key (PEM)")
        self.verify_check = QCheckBox("Verify the broker's host name")
        self.verify_check.setChecked(True)
        tls_form = QFormLayout()
        tls_form.addRow("CA file", self.ca_edit)
        tls_form.addRow("Certificate", self.cert_edit)
        tls_form.addRow("Key", self.key_edit)
        tls_form.addRow("", self.verify_check)
        self.tls_box = QGroupBox("TLS (mqtts://; paths relative to the project folder)")
        self.tls_box.setLayout(tls_form)
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.connection_label = QLabel("")
        self.connection_label.setWordWrap(True)
        self.connection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.connection_label, 1)

        # -- discovery
        self.filter_edit = QLineEdit("#")
        self.filter_edit.setToolTip("Subscription filter: + one level, # the rest")
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(0.5, 120.0)
        self.seconds_spin.setValue(3.0)
        self.seconds_spin.setSuffix(" s")
        self.discover_button = QPushButton("&Discover topics")
        self.discover_button.clicked.connect(self.discover)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        disc_row = QHBoxLayout()
        disc_row.addWidget(QLabel("Filter"))
        disc_row.addWidget(self.filter_edit, 1)
        disc_row.addWidget(QLabel("for"))
        disc_row.addWidget(self.seconds_spin)
        disc_row.addWidget(self.discover_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.discovery_label = QLabel("")
        self.discovery_label.setWordWrap(True)

        # -- what is written
        self.template_edit = QLineEdit()
        self.template_edit.setPlaceholderText("e.g. site/{component}/{sensor}")
        self.template_edit.textChanged.connect(self._template_changed)
        self.format_combo = QComboBox()
        self.format_combo.addItems(["json", "json_batch", "sparkplug_b"])
        self.mapped_label = QLabel("")
        written = QFormLayout()
        written.addRow("Topic template", self.template_edit)
        written.addRow("Format", self.format_combo)
        written.addRow("", self.mapped_label)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton(
            "&Add source", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.add_button.setDefault(True)
        self.buttons.accepted.connect(self.add_source)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(broker)
        layout.addWidget(self.tls_box)
        layout.addLayout(test_row)
        layout.addLayout(disc_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.discovery_label)
        layout.addLayout(written)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(820, 640)

    # -- the settings ------------------------------------------------------------------------

    def config(self, topic: str | None = None) -> MqttSource:
        """The source as set in the dialog (raises ``ValueError`` with the reason)."""
        tls: dict[str, Any] | None = None
        if self.url_edit.text().strip().lower().startswith(("mqtts:", "ssl:", "tls:")):
            tls = {
                "ca_file": self.ca_edit.text().strip() or None,
                "cert_file": self.cert_edit.text().strip() or None,
                "key_file": self.key_edit.text().strip() or None,
                "verify_hostname": self.verify_check.isChecked(),
            }
        data: dict[str, Any] = {
            "type": "mqtt",
            "id": self.id_edit.text().strip() or "mqtt",
            "url": self.url_edit.text().strip(),
            "topic": topic if topic is not None else (self.template_edit.text().strip() or "#"),
            "format": self.format_combo.currentText(),
            "client_id": self.client_id_edit.text().strip() or None,
            "username": self.user_edit.text().strip() or None,
            "password_env": self.password_env_edit.text().strip() or None,
            "password": None,
            "tls": tls,
        }
        if not data["password_env"]:
            data["password"] = self.password_edit.text() or None
        return MqttSource(**data)

    def _say(self, label: QLabel, text: str, colour: QColor | None = None) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {colour.name()};" if colour is not None else "")

    def _start(self, thread: QtCallThread) -> None:
        self._threads.append(thread)
        _running.add(thread)
        thread.finished.connect(lambda t=thread: _forget(t))
        thread.start()

    # -- test connection ---------------------------------------------------------------------

    def test_connection(self) -> None:
        try:
            cfg = self.config("#")
        except ValueError as exc:
            self._say(self.connection_label, _plain(exc), BAD)
            self.tested.emit(False, _plain(exc))
            return
        self.test_button.setEnabled(False)
        self._say(self.connection_label, f"connecting to {cfg.url} …", MUTED)
        folder = self.folder
        thread = QtCallThread(lambda _p: discovery.test_connection(cfg, 5.0, folder))
        thread.done.connect(self._tested)
        thread.failed.connect(lambda why: self._tested((False, why)))
        self._start(thread)

    def _tested(self, result: tuple[bool, str]) -> None:
        ok, message = result
        self.test_button.setEnabled(True)
        self._say(self.connection_label, message, GOOD if ok else BAD)
        self.tested.emit(ok, message)

    # -- discover ----------------------------------------------------------------------------

    def discover(self) -> None:
        try:
            cfg = self.config("#")
        except ValueError as exc:
            self._discovery_failed(_plain(exc))
            return
        topic_filter = self.filter_edit.text().strip() or "#"
        seconds = self.seconds_spin.value()
        folder, stop = self.folder, self._stop
        self.discover_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._say(self.discovery_label, f"listening to {topic_filter} for {seconds:g} s …", MUTED)

        def call(progress: Callable[[float, int], None]) -> list[TopicSeen]:
            return discovery.discover(
                cfg, topic_filter, seconds, progress, folder=folder, stop=stop
            )

        thread = QtCallThread(call)
        thread.progressed.connect(self._progressed)
        thread.done.connect(self._discovered)
        thread.failed.connect(self._discovery_failed)
        self._start(thread)

    def _progressed(self, fraction: float, count: int) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(f"%p%  ·  {count} topics")

    def _discovery_failed(self, why: str) -> None:
        self.discover_button.setEnabled(True)
        self.progress.setVisible(False)
        self._say(self.discovery_label, why, BAD)
        self.failed.emit(why)

    def _discovered(self, topics: list[TopicSeen]) -> None:
        self.discover_button.setEnabled(True)
        self.progress.setVisible(False)
        self.topics = topics
        total = sum(t.messages for t in topics)
        self._say(
            self.discovery_label,
            f"{len(topics)} topics, {total:,} messages"
            if topics
            else "nothing was published on these topics meanwhile",
        )
        suggested = discovery.suggest_template(topics, self.sensor_ids, self.components)
        if suggested is not None:
            self.template_edit.setText(suggested)
        elif not self.template_edit.text() and topics:
            self.template_edit.setText(self.filter_edit.text().strip() or "#")
        self.format_combo.setCurrentText(discovery.source_format([t.format for t in topics]))
        self._fill_table()
        self.discovered.emit(len(topics))

    def _template_changed(self, _text: str = "") -> None:
        self._fill_table()

    def _fill_table(self) -> None:
        template: TopicTemplate | None
        try:
            template = TopicTemplate(self.template_edit.text().strip())
        except ValueError as exc:
            template = None
            if self.template_edit.text().strip():
                self._say(self.mapped_label, str(exc), BAD)
        self.table.setRowCount(len(self.topics))
        mapped = 0
        for r, t in enumerate(self.topics):
            sensor = ""
            if template is not None:
                ok, sid, _comp = template.match(t.topic)
                if ok and sid is not None:
                    sensor = sid if sid in self.sensor_ids else f"{sid}?"
                elif ok:
                    sensor = "(in payload)"
                else:
                    sensor = "–"
            mapped += sensor in self.sensor_ids
            cells = [t.topic, f"{t.messages:,}", f"{t.rate:.1f}", t.format, sensor, t.preview]
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                if c in (MESSAGES, RATE):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c == SENSOR:
                    known = text in self.sensor_ids
                    item.setForeground(QBrush(GOOD if known else MUTED))
                if c == PAYLOAD:
                    item.setToolTip(t.preview + ("  (retained)" if t.retained else ""))
        if template is not None and self.topics:
            self._say(
                self.mapped_label,
                f"maps {mapped} of {len(self.topics)} topics to the project's sensors",
                GOOD if mapped else MUTED,
            )

    def text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    # -- add ---------------------------------------------------------------------------------

    def add_source(self) -> None:
        """Write the source into the project file and close; problems are shown, not raised."""
        if not self.template_edit.text().strip():
            self._say(self.status, "Give a topic template (Discover topics suggests one)", BAD)
            return
        try:
            cfg = self.config()
            TopicTemplate(cfg.topic)  # the feed's own check of the template
            if cfg.password and not cfg.password_env:
                answer = ask_password_storage(self, cfg.id)
                if answer is None:
                    return
                if answer:  # a variable instead: the project names it, the user sets it
                    self.password_env_edit.setText(answer)
                    cfg = self.config()
            add_source(self.project_path, cfg)
        except (ValueError, OSError) as exc:
            self._say(self.status, _plain(exc), BAD)
            return
        self.written = cfg
        self.added.emit(cfg.id)
        self.accept()

    def done(self, result: int) -> None:  # accept, reject, close: stop listening
        self._stop.set()
        super().done(result)


def password_variable(source_id: str) -> str:
    """The environment variable suggested for a source's password: ``MQTT_<ID>_PASSWORD``."""
    return f"MQTT_{re.sub(r'[^A-Za-z0-9]+', '_', source_id).strip('_').upper()}_PASSWORD"


def ask_password_storage(parent: QWidget, source_id: str) -> str | None:
    """Where a typed password goes: the name of an environment variable to read it from
    (suggested), ``""`` to write it into the project file as typed, ``None``: not now."""
    name = password_variable(source_id)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Broker password")
    box.setText("The password would be written into the project file as plain text.")
    box.setInformativeText(
        f"Project files are shared and kept in version control. Read it from the environment "
        f"variable {name} instead (set it before opening the twin), or write it into the file?"
    )
    use_env = box.addButton(f"Use {name}", QMessageBox.ButtonRole.AcceptRole)
    plain = box.addButton("Write it in the file", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(use_env)
    box.exec()
    if box.clickedButton() is use_env:
        return name
    if box.clickedButton() is plain:
        return ""
    return None


def _plain(exc: BaseException) -> str:
    """A pydantic error without its documentation links."""
    text = str(exc)
    return re.sub(r"\n\s*For further information visit \S+", "", text)
