"""OPC UA loss accounting: sequence numbers, Republish and reconnect gaps, against real asyncua
servers (serve_opcua) on loopback ports.

Losses are provoked honestly: the server is stopped and started again on the same port; a
notification message is lost "on the wire" (the client's publish request gets its response, which
is then thrown away and never acknowledged, as when a response is lost in transport); a message
is dropped after asyncua received and acknowledged it, so the server no longer holds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("asyncua")

from tests.test_opcua import (  # noqa: E402
    PROJECT,
    RATE,
    Collector,
    Served,
    free_port,
    stop_promptly,
    wait_for,
)
from twinviewer.core.gaps import DISCONNECTION, SEQUENCE, Gap  # noqa: E402
from twinviewer.core.project import OpcUaSource, Project, load_project  # noqa: E402
from twinviewer.sources.base import SourceState  # noqa: E402
from twinviewer.sources.opcua import OpcUaFeed, _epoch  # noqa: E402
from twinviewer.sources.opcua_gaps import (  # noqa: E402
    MAX_SEQUENCE,
    OutageTracker,
    PublishSequence,
)

NODES = {"P1_T": "ns=2;s=P1_T", "P1_I": "ns=2;s=P1_I"}


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plant") / "plant.twin.yaml"
    path.write_text(PROJECT)
    return path


@pytest.fixture(scope="module")
def project(project_file: Path) -> Project:
    return load_project(project_file)[0]


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[Served]:
    with Served(project, rate=RATE) as s:
        yield s


class Gaps:
    """The gap sink."""

    def __init__(self) -> None:
        self.gaps: list[Gap] = []
        self.lock = threading.Lock()

    def __call__(self, gap: Gap) -> None:
        with self.lock:
            self.gaps.append(gap)

    def all(self) -> list[Gap]:
        with self.lock:
            return list(self.gaps)


def make_feed(project: Project, folder: Path, endpoint: str, cls: type[OpcUaFeed] = OpcUaFeed):
    cfg = OpcUaSource(
        type="opcua",
        id="plc",
        endpoint=endpoint,
        nodes=NODES,
        sampling_interval=50,
        publishing_interval=50,
    )
    return cls(cfg, project.sensors, folder)


def samples_of(msg: Any, names: list[str]) -> list[tuple[str, float, float]]:
    """(sensor, source time, value) of every data change in a notification message."""
    out: list[tuple[str, float, float]] = []
    for note in msg.NotificationData:
        for item in getattr(note, "MonitoredItems", ()):
            dv = item.Value
            t = _epoch(dv.SourceTimestamp)
            assert t is not None
            out.append((names[item.ClientHandle], t, float(dv.Value.Value)))
    return out


# -- reconnecting ----------------------------------------------------------------------------


def test_a_server_restart_is_one_disconnection_gap(project: Project, project_file: Path) -> None:
    names = [s.id for s in project.sensors]
    port = free_port()
    first = Served(project, port, rate=RATE).start()
    feed = make_feed(project, project_file.parent, first.endpoint)
    feed.first_backoff = 0.2
    got, gaps = Collector(), Gaps()
    feed.start(got, gaps)
    try:
        wait_for(lambda: feed.status.accepted >= 20, 10, "samples from the first server")
        first.close()
        wait_for(lambda: feed.status.state is SourceState.RECONNECTING, 5, "RECONNECTING")
        time.sleep(1.0)  # the server stays down a while
        assert not gaps.all()  # nothing known yet: the end of the gap is the first sample after
        with Served(project, port, rate=RATE) as second:
            wait_for(lambda: feed.status.state is SourceState.LIVE, 10, "LIVE again")
            wait_for(lambda: bool(gaps.all()), 5, "the disconnection gap")
            count = feed.status.accepted
            wait_for(lambda: feed.status.accepted >= count + 10, 5, "samples after the gap")
    finally:
        stop_promptly(feed)
        first.close()  # (already closed unless something above failed)

    assert feed.connections == 2
    [gap] = gaps.all()
    assert gap.cause == DISCONNECTION and not gap.exact and gap.source == "plc"
    assert gap.sensors == ("P1_T", "P1_I")
    batch = got.all()
    early = batch.time < second.stats.started  # type: ignore[operator]
    assert early.any() and (~early).any()
    # bounded by the last sample received before the loss and the first one after it
    assert gap.start == batch.time[early].max()
    assert gap.end == batch.time[~early].min()
    assert gap.start < gap.end
    assert gap.end - gap.start > 1.0  # the server was down for more than a second
    # Estimated per sensor from its observed rate (RATE) over its own outage.
    expected = 0
    for sensor in ("P1_T", "P1_I"):
        i = names.index(sensor)
        t = batch.time[batch.sensor == i]
        before, after = t[t < second.stats.started].max(), t[t >= second.stats.started].min()
        expected += round((after - before) * RATE) - 1
    assert abs(gap.missing - expected) <= 4, (gap.missing, expected)
    assert gap.missing >= 2 * RATE * 1.0  # two sensors, down over a second
    assert not any(g.covers(t) for g in [gap] for t in batch.time)  # nothing received inside
    assert feed.status.gaps == 1 and feed.status.missing == gap.missing
    assert feed.status.gap_causes == {DISCONNECTION: gap.missing}


def test_stopping_while_disconnected_reports_nothing(project: Project, project_file: Path) -> None:
    port = free_port()
    first = Served(project, port, rate=RATE).start()
    feed = make_feed(project, project_file.parent, first.endpoint)
    gaps = Gaps()
    feed.start(Collector(), gaps)
    try:
        wait_for(lambda: feed.status.accepted >= 10, 10, "samples")
        first.close()
        wait_for(lambda: feed.status.state is SourceState.RECONNECTING, 5, "RECONNECTING")
    finally:
        stop_promptly(feed)
        first.close()
    assert not gaps.all()  # the end of the outage is unknown: no gap is made up


# -- sequence numbers ------------------------------------------------------------------------


def test_a_message_lost_on_the_wire_is_recovered_with_republish(
    project: Project, project_file: Path, server: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asyncua.client.ua_session import UaSession

    real = UaSession.publish
    lost: list[Any] = []
    acks_sent: list[int] = []

    async def lossy(self: Any, acks: Any) -> Any:
        acks_sent.extend(a.SequenceNumber for a in acks or ())
        response = await real(self, acks)
        msg = response.Parameters.NotificationMessage
        if not lost and msg.NotificationData and msg.SequenceNumber >= 5:
            lost.append(msg)  # thrown away: never handed on, so never acknowledged
            response = await real(self, [])
        return response

    monkeypatch.setattr(UaSession, "publish", lossy)
    names = [s.id for s in project.sensors]
    feed = make_feed(project, project_file.parent, server.endpoint)
    got, gaps = Collector(), Gaps()
    feed.start(got, gaps)
    try:
        wait_for(lambda: feed.republished >= 1, 10, "the lost message republished")
        count = feed.status.accepted
        wait_for(lambda: feed.status.accepted >= count + 10, 5, "more samples")
    finally:
        stop_promptly(feed)

    [msg] = lost
    missed = samples_of(msg, names)
    assert missed, "the lost message held samples"
    batch = got.all()
    columns = (batch.sensor.tolist(), batch.time.tolist(), batch.value.tolist())
    received = {(names[i], t, v) for i, t, v in zip(*columns, strict=True)}
    assert set(missed) <= received  # recovered: its samples reached the sink after all
    assert feed.republished == 1
    assert not gaps.all() and feed.status.gaps == 0
    assert msg.SequenceNumber in acks_sent  # the republished message was acknowledged


class DroppingFeed(OpcUaFeed):
    """Throws one data message away after asyncua received it (and so acknowledged it)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dropped: list[Any] = []

    def _on_publish(self, result: Any) -> None:
        msg = result.NotificationMessage
        if not self.dropped and msg.NotificationData and msg.SequenceNumber >= 5:
            self.dropped.append(msg)
            return
        super()._on_publish(result)


def test_a_message_the_server_no_longer_holds_is_a_sequence_gap(
    project: Project, project_file: Path, server: Served
) -> None:
    names = [s.id for s in project.sensors]
    feed = make_feed(project, project_file.parent, server.endpoint, DroppingFeed)
    assert isinstance(feed, DroppingFeed)
    got, gaps = Collector(), Gaps()
    feed.start(got, gaps)
    try:
        wait_for(lambda: bool(gaps.all()), 10, "the sequence gap")
        count = feed.status.accepted
        wait_for(lambda: feed.status.accepted >= count + 10, 5, "more samples")
    finally:
        stop_promptly(feed)

    [msg] = feed.dropped
    missed = samples_of(msg, names)
    assert missed
    [gap] = gaps.all()
    assert gap.cause == SEQUENCE and not gap.exact and gap.source == "plc"
    assert gap.sensors == ("P1_T", "P1_I")
    assert f"message {msg.SequenceNumber} lost" in gap.detail
    batch = got.all()
    lo, hi = min(t for _, t, _ in missed), max(t for _, t, _ in missed)
    assert gap.start == batch.time[batch.time < lo].max()  # the last sample before
    assert gap.end == batch.time[batch.time > hi].min()  # the first after
    assert all(gap.covers(t, sensor) for sensor, t, _ in missed)
    # estimated from the notifications per message so far (a message holds about one per sensor)
    assert 1 <= gap.missing <= len(missed) + 2
    assert feed.republished == 0
    assert not np.isin(batch.time, [t for _, t, _ in missed]).any()
    assert feed.status.gap_causes == {SEQUENCE: gap.missing}


# -- the bookkeeping on its own ----------------------------------------------------------------


def test_sequence_numbers_wrap_and_keep_alives_reveal_losses() -> None:
    seq = PublishSequence(7)
    assert seq.observe(MAX_SEQUENCE - 1, True, 2, (1.0, 1.1)) is None
    assert seq.observe(MAX_SEQUENCE, True, 2, (1.2, 1.3)) is None
    assert seq.observe(1, False) is None  # a keep-alive: the next number is 1 (0 is skipped)
    hole = seq.observe(3, True, 2, (2.0, 2.1))  # 1 and 2 missing, across the wrap
    assert hole is not None and hole.numbers() == [1, 2] and hole.last == 2
    assert (hole.before, hole.after) == (1.3, 2.0)
    assert seq.estimate(hole.count) == 4  # 2 data changes per message so far
    hole = seq.observe(6, False, publish_time=3.0)  # keep-alive names 6: 4 and 5 were sent
    assert hole is not None and hole.numbers() == [4, 5] and hole.after == 3.0
    assert seq.observe(6, True, 1, (3.1, 3.1)) is None
    assert seq.observe(6, True, 1, (3.1, 3.1)) is None and seq.duplicates == 1
    assert seq.observe(0, True, 1, (3.2, 3.2)) is None  # asyncua's own status message


def test_outage_waits_for_every_sensor_then_estimates_from_its_rate() -> None:
    out = OutageTracker("plc", ["a", "b"], 0.05)
    for k in range(11):  # a at 10 Hz, b at 2 Hz, over one second
        out.sample(0, 100.0 + k / 10, now=0.0)
        if k % 5 == 0:
            out.sample(1, 100.0 + k / 10, now=0.0)
    assert out.lost("the server closed the connection") is None
    out.sample(0, 104.0, now=10.0)  # a is back 3 s later; b not yet
    assert out.take(10.1) is None
    out.sample(1, 105.0, now=10.5)
    gap = out.take(10.6)
    assert gap is not None and gap.sensors == ("a", "b") and gap.cause == DISCONNECTION
    assert (gap.start, gap.end) == (101.0, 104.0)
    assert gap.missing == (30 - 1) + (8 - 1)
    assert "the server closed the connection" in gap.detail
    assert out.take(20.0) is None  # reported once
