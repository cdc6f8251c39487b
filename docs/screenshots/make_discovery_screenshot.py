"""The MQTT source dialog's topic discovery (*Data > Add MQTT source…*) against a real broker.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_discovery_screenshot.py

A mosquitto on a free loopback port is fed by ``twinviewer simulate --mqtt`` of the mine demo;
a copy of the mine (no sources started) opens the dialog, tests the connection and listens to
``twinviewer/#`` for four seconds. The shot shows the topics seen with their sample payloads,
rates and detected format, and how the suggested template maps them to the mine's sensors.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from make_screenshots import pump

from twinviewer.session.demos import demo_copy, demo_project
from twinviewer.ui.application import create_app
from twinviewer.ui.data_sources.feature import DataSourcesFeature
from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent
NAME = "topic-discovery.png"


def main() -> int:
    app = create_app()
    broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"mqtt://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="tv-discovery-"))
    project, _ = demo_copy("mine", folder, 0.0, models=False)
    procs = [subprocess.Popen([broker, "-p", str(port)], stderr=subprocess.DEVNULL)]
    time.sleep(0.5)
    command = [sys.executable, "-m", "twinviewer", "simulate", str(demo_project("mine"))]
    procs.append(
        subprocess.Popen(
            [*command, "--mqtt", url, "--rate", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    w = QtMainWindow()
    try:
        w.resize(1600, 1000)
        w.show()
        w.open_project(project, sources=[])
        w.wait_loaded()
        pump(app, 3.0)
        w.feature(DataSourcesFeature).panel.add_mqtt_button.click()
        pump(app, 0.5)
        dialog = w.findChild(QtMqttSourceDialog)
        if dialog is None:
            sys.stderr.write("the MQTT source dialog did not open\n")
            return 1
        dialog.url_edit.setText(url)
        dialog.test_button.click()
        pump(app, 2.0)
        dialog.filter_edit.setText("twinviewer/#")
        dialog.seconds_spin.setValue(4.0)
        dialog.discover_button.click()
        pump(app, 7.0)
        dialog.resize(1200, 760)
        pump(app, 0.5)
        dialog.grab().save(str(HERE / NAME))
        sys.stdout.write(f"wrote {HERE / NAME} ({dialog.table.rowCount()} topics)\n")
        dialog.reject()
    finally:
        w.close()
        for p in reversed(procs):
            p.terminate()
            p.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
