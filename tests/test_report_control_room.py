"""The review report of a twin whose history is PostgreSQL says what the control room shared:
an alarm acknowledged in another viewer is acknowledged in the report, and the review issues
are the database's. Against a real PostgreSQL."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.samples import SampleBatch
from twinviewer.report import ReportOptions
from twinviewer.report.build import build_report

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.postgres import PostgresHistoryStore  # noqa: E402
from twinviewer.session.control_room import ControlRoom  # noqa: E402


def test_report_says_what_the_control_room_acknowledged(
    building: Path, pg_url: str, tmp_path: Path
) -> None:
    url = f"{pg_url}?schema=rep_{uuid.uuid4().hex[:10]}"
    ids = ["F0_T", "F1_T", "F2_CO"]
    now = time.time()
    t = now - 60.0 + np.arange(60.0)
    value = np.where(np.arange(60) >= 20, 90.0, 20.0)  # F0_T alarms (> 80) from t[20] on
    with PostgresHistoryStore(url, ids) as store:
        store.append(SampleBatch(np.zeros(60, np.int32), t, value))
    room = ControlRoom(url, "operator-a")  # another viewer acknowledges the alarm
    try:
        assert room.acks.acknowledge([("F0_T", float(t[20]))], now) == 1
    finally:
        room.close()
    out = tmp_path / "report.html"
    build_report(building, out, ReportOptions(views=[("Top", "top")], size=(320, 200)), history=url)
    rows = re.findall(r"<td>F0_T</td>(?:(?!</tr>).)*</tr>", out.read_text(), re.S)
    alarm_rows = [r for r in rows if re.search(r"<td>(yes|no)</td></tr>$", r)]  # Ack column
    assert len(alarm_rows) == 1 and alarm_rows[0].endswith("<td>yes</td></tr>")
    # the same report of the twin without the database's state: nothing acknowledged there
    from twinviewer.report import ReportBuilder
    from twinviewer.session import TwinSession

    session = TwinSession.open(building)
    session.history_url = url
    session.open_history()
    try:
        plain = ReportBuilder(session, ReportOptions(views=[], size=(320, 200))).gather()
        assert [a.acknowledged for a in plain.alarms if a.sensor == "F0_T"] == [False]
        session.open_control_room()
        shared = ReportBuilder(session, ReportOptions(views=[], size=(320, 200))).gather()
        assert [a.acknowledged for a in shared.alarms if a.sensor == "F0_T"] == [True]
    finally:
        session.close()
