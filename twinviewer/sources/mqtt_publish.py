"""The demo twins' simulator as a real MQTT publisher (``twinviewer publish``).

:func:`publish_mqtt` runs the project's :class:`SignalModel` in (scaled) real time and publishes
every sample in the project's MQTT payload format, so that a viewer subscribed to the same
broker sees exactly what the built-in simulator would show:

* ``json``: one message per sample on the topic template filled with the sensor id and
  component (``{"value": .., "ts": ..}``, plus the sensor id when the topic has no ``{sensor}``);
* ``json_batch``: one columnar message per tick with all sensors;
* ``sparkplug_b``: an NBIRTH (names, aliases, first values), then one NDATA per tick by alias.
  The NBIRTH is repeated when a host sends the ``Node Control/Rebirth`` command and, for
  viewers that join later without asking, every :data:`BIRTH_EVERY` seconds.

It obeys the project's ``commands:`` that reach this broker (an ``mqtt`` target's topic, a
``sparkplug`` target's NCMD/DCMD): each is applied to the simulator
(:class:`~twinviewer.sources.command_listener.CommandListener`, ``SignalModel.apply_command``),
and the read-back sensor publishes the new value from then on. Malformed or refused commands are
counted (``commands_malformed``, ``commands_refused``) and logged; they never stop it.

Timestamps are in the payload (seconds, ms or ISO 8601 following the source's ``time_unit``).

With ``faults`` it also injects what a real plant sends now and then, each counted in the
returned :class:`PublishStats`: drop-outs (a sensor silent for a few seconds), malformed
messages (truncated JSON, a broken protobuf), NaN values, out-of-order samples (an older time
after a newer one) and duplicates (a sample sent twice).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from paho.mqtt.enums import MQTTErrorCode

from twinviewer.core.fleet import simulation_sensors
from twinviewer.core.project import MqttSource, Project, SimulatorSource
from twinviewer.core.project_fleet import split_sensor_id
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.command_listener import CommandListener
from twinviewer.sources.mqtt import close_leaked_sockets, paho_client, target_of, tls_context
from twinviewer.sources.payloads import TopicTemplate
from twinviewer.sources.simulator import SignalModel

log = logging.getLogger(__name__)

__all__ = ["FaultPlan", "PublishStats", "publish_mqtt"]

BIRTH_EVERY = 10.0  # seconds between unsolicited NBIRTHs (Sparkplug)
MAX_STEPS_PER_TICK = 2000
MAX_QUEUED = 200_000  # messages paho holds while the broker is away (about 20 min of the mine)


@dataclass
class FaultPlan:
    """Mean seconds between injected faults of each kind (None: never)."""

    dropout_every: float | None = 20.0
    dropout_seconds: tuple[float, float] = (3.0, 8.0)
    malformed_every: float | None = 5.0
    nan_every: float | None = 3.0
    out_of_order_every: float | None = 4.0
    duplicate_every: float | None = 4.0


@dataclass
class PublishStats:
    """What :func:`publish_mqtt` sent. ``samples`` are the good ones; the injected kinds are
    counted apart (an out-of-order or duplicate sample is a good value at an odd time)."""

    format: str = ""
    topic: str = ""
    messages: int = 0  # messages published, of every kind
    samples: int = 0  # good samples (finite values at their due time)
    bytes: int = 0
    births: int = 0  # Sparkplug NBIRTH messages
    malformed: int = 0  # messages
    nan: int = 0  # samples
    out_of_order: int = 0  # samples
    duplicate: int = 0  # samples
    dropouts: int = 0  # sensor drop-outs started
    dropped: int = 0  # samples not sent because of a drop-out
    failed: int = 0  # publish calls the client refused (not connected, queue full)
    # delivery: every message handed to the client ends acknowledged, pending or lost
    acknowledged: int = 0  # messages the broker acknowledged (PUBACK; QoS 0: written)
    samples_acknowledged: int = 0  # good samples in those messages
    pending: int = 0  # handed to the client, not acknowledged when publishing stopped
    lost: int = 0  # never handed over: refused by the client (its queue full, QoS 0 offline)
    reconnects: int = 0  # connections made again after one was lost
    commands: int = 0  # commands received and applied to the simulator
    commands_malformed: int = 0  # command messages that could not be read
    commands_refused: int = 0  # commands the simulator refused (unknown setpoint, bad value)
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def injected(self) -> dict[str, int]:
        return {
            "malformed": self.malformed,
            "nan": self.nan,
            "out_of_order": self.out_of_order,
            "duplicate": self.duplicate,
            "dropouts": self.dropouts,
        }


def _first_of(project: Project, kind: type) -> Any:
    return next((s for s in project.sources if isinstance(s, kind)), None)


class _Publisher:
    """The paho side: connect, wait for CONNACK, publish, count acknowledgements."""

    def __init__(
        self,
        cfg: MqttSource,
        folder: Path,
        on_command: Callable[[str, bytes], None],
        client_id: str | None = None,
    ):
        target = target_of(cfg)
        # A session of its own that the broker keeps (and paho keeps the unacknowledged QoS 1
        # messages and sends them again after a reconnect)
        ctx = tls_context(cfg, folder) if target.tls else None
        self.client = paho_client(
            target,
            ctx,
            client_id or f"twinviewer-publish-{uuid.uuid4().hex[:10]}",
            clean=client_id is None,
            reconnect=True,
        )
        self.qos = cfg.qos
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.reconnect_delay_set(1, 30)
        self._connected = threading.Event()
        self._refused: str | None = None
        self.acked = 0
        self.samples_acked = 0
        self.connects = 0
        self._samples: dict[int, int] = {}  # mid -> good samples, until acknowledged
        self._early: set[int] = set()  # acknowledged before publish() returned its mid
        self._lock = threading.Lock()
        self._commands: list[str] = []
        self._on_command = on_command
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda c, u, m: self._message(m.topic, bytes(m.payload))
        self.target = target

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason).lower()
        else:
            self.connects += 1
            for topic in self._commands:
                client.subscribe(topic, 1)
        self._connected.set()

    def _message(self, topic: str, payload: bytes) -> None:
        try:
            self._on_command(topic, payload)
        except Exception:  # noqa: BLE001 (a bad message must not stop the network thread)
            log.exception("publish: a message on %s could not be handled", topic)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._lock:
            self.acked += 1
            n = self._samples.pop(mid, None)
            if n is None:
                self._early.add(mid)
            else:
                self.samples_acked += n

    def connect(self, subscribe: list[str], timeout: float = 10.0) -> None:
        self._commands = subscribe
        t = self.target
        try:
            self.client.connect(t.host, t.port, 30)
        except OSError as exc:
            close_leaked_sockets(exc)
            raise ConnectionError(
                f"cannot connect to {t.address}: {getattr(exc, 'strerror', None) or exc}"
            ) from exc
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise ConnectionError(f"no answer from the broker at {t.address}")
        if self._refused is not None:
            self.close()
            if "author" in self._refused or "password" in self._refused:
                raise PermissionError(f"not authorised: check username/password ({self._refused})")
            raise ConnectionError(f"the broker refused the connection: {self._refused}")

    def publish(self, topic: str, payload: bytes, samples: int = 0) -> bool:
        """True if sent, or (QoS 1) queued by paho until the connection is back. ``samples``:
        good samples in the message, counted as acknowledged with it."""
        info = self.client.publish(topic, payload, self.qos)
        rc = info.rc
        ok = rc == MQTTErrorCode.MQTT_ERR_SUCCESS or (
            rc == MQTTErrorCode.MQTT_ERR_NO_CONN and self.qos > 0
        )
        if ok:
            with self._lock:
                if info.mid in self._early:
                    self._early.discard(info.mid)
                    self.samples_acked += samples
                else:
                    self._samples[info.mid] = samples
        return ok

    def wait_acked(self, sent: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.acked >= sent:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


def _time_encoder(unit: str) -> Callable[[float], Any]:
    if unit == "ms":
        return lambda t: int(round(t * 1000))
    if unit == "iso":
        return lambda t: (
            datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")
        ).replace("+00:00", "Z")
    return lambda t: round(t, 3)


def _dumps(obj: Any, nan: bool = False) -> bytes:
    """JSON. With ``nan``, NaN is written as ``NaN`` the way Python's json module does (orjson
    would write null)."""
    return json.dumps(obj).encode() if nan else orjson.dumps(obj)


def publish_mqtt(
    project: Project,
    url: str | None = None,
    *,
    config: MqttSource | None = None,
    rate: float | None = None,
    speed: float = 1.0,
    duration: float | None = None,
    faults: bool | FaultPlan = False,
    stop: threading.Event | None = None,
    progress: Callable[[PublishStats], None] | None = None,
    folder: Path | None = None,
    seed: int | None = None,
    client_id: str | None = None,
    drain: float = 10.0,
) -> PublishStats:
    """Publish the project's simulated signals to an MQTT broker until ``duration`` wall
    seconds pass or ``stop`` is set; returns what was sent.

    ``config`` is the MQTT source whose format, topic, fields, QoS and credentials are used
    (default: the project's first ``mqtt`` source); ``url`` overrides its broker. ``rate`` is
    samples per second per sensor (default: the project's simulator rate, else 5); ``speed``
    scales simulated time. ``faults`` (True, or a :class:`FaultPlan`) injects faults.
    ``progress`` is called about once a second with the running stats. TLS files are relative
    to ``folder``. Raises ``ConnectionError``/``PermissionError`` if the broker cannot be used,
    ``ValueError`` for a bad configuration.

    Delivery: at QoS 1 the publisher keeps a session on the broker (``client_id``, by default
    one derived from the project, topic and broker; ``""`` for a clean, random one) and paho
    keeps every unacknowledged message across reconnects. When publishing stops it waits up
    to ``drain`` seconds for the last acknowledgements; the stats then say how many messages
    were ``acknowledged``, are still ``pending`` (unacknowledged: lost when the process ends)
    and were ``lost`` (refused by the client). JSON messages carry a per-topic ``seq``.
    """
    cfg = config or _first_of(project, MqttSource)
    if cfg is None:
        raise ValueError(
            "the project has no mqtt source to take the format and topic from; add one "
            "(type: mqtt, url, topic, format; enabled: false keeps the viewer on the simulator)"
            " or pass config="
        )
    if url:
        cfg = cfg.model_copy(update={"url": url})
    if not project.sensors:
        raise ValueError("the project has no sensors to publish")
    sim: SimulatorSource = _first_of(project, SimulatorSource) or SimulatorSource(type="simulator")
    sim = sim.model_copy(
        update={
            "rate": rate or sim.rate,
            "speed": speed,
            **({} if seed is None else {"seed": seed}),
        }
    )
    plan = faults if isinstance(faults, FaultPlan) else (FaultPlan() if faults else None)
    run = _Run(project, cfg, sim, plan)
    if client_id is None and cfg.qos > 0:
        key = f"{project.name}|{cfg.topic}|{cfg.url}".encode()
        client_id = f"twinviewer-publish-{hashlib.sha1(key).hexdigest()[:10]}"
    pub = _Publisher(cfg, folder or Path.cwd(), run.on_command, client_id or None)
    run.pub = pub
    pub.connect(run.command_topics())
    stop = stop or threading.Event()
    stats = run.stats
    try:
        run.loop(duration, stop, progress)
    finally:
        sent = run.qos_sent if pub.qos > 0 else stats.messages
        if not pub.wait_acked(sent, drain):
            log.warning(
                "publish: %d of %d messages not acknowledged after waiting %.0f s",
                sent - pub.acked,
                sent,
                drain,
            )
        pub.close()
        run.count_commands()
        with pub._lock:
            stats.acknowledged = pub.acked
            stats.samples_acknowledged = pub.samples_acked
        stats.pending = max(0, stats.messages - stats.acknowledged)
        stats.lost = stats.failed
        stats.reconnects = max(0, pub.connects - 1)
    return stats


class _Run:
    def __init__(
        self, project: Project, cfg: MqttSource, sim: SimulatorSource, plan: FaultPlan | None
    ) -> None:
        self.cfg = cfg
        self.sim = sim
        self.plan = plan
        self.sensors = project.sensors
        self.n = len(self.sensors)
        self.ids = [s.id for s in self.sensors]
        self.template = TopicTemplate(cfg.topic)
        self.per_sensor = self.template.sensor_level is not None
        self.topics = [
            self.template.fill(s.id, s.component or s.id) for s in self.sensors
        ]  # per sensor (all equal when the template has no {sensor})
        fleet = project.fleet is not None  # expanded sensors: one topic tree per unit
        if fleet and self.template.unit_level is not None:
            pairs = [split_sensor_id(i) for i in self.ids]
            self.ids = [t for _, t in pairs]  # the topic names the unit
            self.topics = [
                self.template.fill(t, s.component or t, unit=u or "")
                for (u, t), s in zip(pairs, self.sensors, strict=True)
            ]
        self.model = SignalModel(simulation_sensors(self.sensors) if fleet else self.sensors, sim)
        self.rng = random.Random(sim.seed * 7919 + 11)
        self.enc_time = _time_encoder(cfg.time_unit)
        self.stats = PublishStats(format=cfg.format, topic=cfg.topic)
        self.pub: _Publisher | None = None
        self.qos_sent = 0
        self.time_key = "ts" if cfg.time_field == "auto" else cfg.time_field
        self.seq_key = cfg.seq_field or "seq"
        self.topic_seq: dict[str, int] = {}
        self.silent_until = np.zeros(self.n)  # wall time until which a sensor is silent
        self.last_t = np.full(self.n, np.nan)  # last good sample sent per sensor
        self.last_v = np.zeros(self.n)
        # Sparkplug
        levels, kinds = self.template.levels, self.template.kinds
        spb_levels = len(levels) >= 4 and levels[0] == spb.NAMESPACE
        self.group = levels[1] if spb_levels and kinds[1] == "literal" else "twinviewer"
        self.edge = levels[3] if spb_levels and kinds[3] == "literal" else "publisher"
        self.seq = 0
        self.rebirth = threading.Event()
        self.last_birth = 0.0
        self.listener = CommandListener(project, cfg, self.model.apply_command)

    # -- commands ------------------------------------------------------------------------------
    def command_topics(self) -> list[str]:
        """The project's command topics on this broker, and (Sparkplug) the node's NCMD."""
        topics = self.listener.topics()
        if self.cfg.format == "sparkplug_b":
            own = f"{spb.NAMESPACE}/{self.group}/NCMD/{self.edge}"
            topics += [] if own in topics else [own]
        return topics

    def on_command(self, topic: str, payload: bytes) -> None:
        """A message on a subscribed topic: a command to obey, or a Sparkplug rebirth request."""
        handled = self.listener.handle(topic, payload)
        if self.cfg.format != "sparkplug_b" or "/NCMD/" not in topic:
            return
        try:
            p = spb.decode_payload(payload)
        except spb.SparkplugError:
            if not handled:
                log.warning("publish: a broken NCMD on %s ignored", topic)
            return
        if any(m.name == "Node Control/Rebirth" and m.value for m in p.metrics):
            self.rebirth.set()

    def count_commands(self) -> None:
        got = self.listener.stats()
        self.stats.commands = got["applied"]
        self.stats.commands_malformed = got["malformed"]
        self.stats.commands_refused = got["refused"]

    # -- sending -------------------------------------------------------------------------------
    def _numbered(self, topic: str, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` with the topic's next sequence number (so that a viewer counts losses)."""
        n = self.topic_seq.get(topic, 0)
        self.topic_seq[topic] = n + 1
        obj[self.seq_key] = n
        return obj

    def _send(self, topic: str, payload: bytes, samples: int = 0) -> None:
        assert self.pub is not None
        if self.pub.publish(topic, payload, samples):
            self.stats.messages += 1
            self.stats.bytes += len(payload)
            if self.pub.qos > 0:
                self.qos_sent += 1
        else:
            self.stats.failed += 1

    def _chance(self, every: float | None, dt: float) -> bool:
        return every is not None and self.rng.random() < dt / every

    def _pick(self, now: float, need_last: bool) -> int | None:
        ok = [
            j
            for j in range(self.n)
            if self.silent_until[j] <= now and not (need_last and math.isnan(self.last_t[j]))
        ]
        return self.rng.choice(ok) if ok else None

    # -- the loop ------------------------------------------------------------------------------
    def loop(
        self,
        duration: float | None,
        stop: threading.Event,
        progress: Callable[[PublishStats], None] | None,
    ) -> None:
        rate, speed = self.sim.rate, self.sim.speed
        start_wall = time.time()
        start = time.monotonic()
        sent = 0
        last_progress = start
        while not stop.is_set():
            now_m = time.monotonic()
            if duration is not None and now_m - start >= duration:
                break
            due = int(math.floor((now_m - start) * speed * rate + 1e-9)) + 1
            if due - sent > MAX_STEPS_PER_TICK:
                sent = due - MAX_STEPS_PER_TICK
            if due > sent:
                t_sim = np.arange(sent, due, dtype=np.float64) / rate
                values = self.model.run(t_sim)
                stamps = start_wall + t_sim / speed
                for k in range(len(t_sim)):
                    self._step(float(stamps[k]), values[k], 1.0 / (rate * speed))
                sent = due
            if progress is not None and now_m - last_progress >= 1.0:
                last_progress = now_m
                self.count_commands()
                self.stats.elapsed = now_m - start
                progress(self.stats)
            next_due = start + sent / (speed * rate)
            wait = next_due - time.monotonic()
            if duration is not None:
                wait = min(wait, start + duration - time.monotonic())
            if wait > 0:
                stop.wait(min(wait, 0.5))
        self.stats.elapsed = time.monotonic() - start

    def _step(self, t: float, values: np.ndarray, dt: float) -> None:
        """Publish one step: every sensor's value at time ``t`` (epoch seconds)."""
        plan, now = self.plan, time.time()
        send = ~np.isnan(values)  # a sensor the simulator silenced sends nothing
        vals = values.astype(float).copy()
        extra: list[tuple[int, float, float]] = []  # (sensor, time, value) injected after
        if plan is not None:
            if self._chance(plan.dropout_every, dt):
                j = self._pick(now, need_last=False)
                if j is not None:
                    lo, hi = plan.dropout_seconds
                    self.silent_until[j] = now + self.rng.uniform(lo, hi)
                    self.stats.dropouts += 1
            silent = self.silent_until > now
            self.stats.dropped += int(silent.sum())
            send &= ~silent
            if self._chance(plan.nan_every, dt):
                j = self._pick(now, need_last=False)
                if j is not None:
                    vals[j] = math.nan
                    self.stats.nan += 1
            if self._chance(plan.out_of_order_every, dt):
                j = self._pick(now, need_last=True)
                if j is not None and not math.isnan(vals[j]):
                    # after this step's sample: an older time than it
                    extra.append((j, t - 0.5 * dt, self.last_v[j]))
                    self.stats.out_of_order += 1
            if self._chance(plan.duplicate_every, dt):
                j = self._pick(now, need_last=True)
                if j is not None and not math.isnan(vals[j]) and all(e[0] != j for e in extra):
                    extra.append((j, t, vals[j]))  # this step's sample, again
                    self.stats.duplicate += 1
            if self._chance(plan.malformed_every, dt):
                self._malformed(t, vals)
        good = send & np.isfinite(vals)
        self.stats.samples += int(good.sum())
        self.last_t[good] = t
        self.last_v[good] = vals[good]
        fmt = self.cfg.format
        if fmt == "json":
            self._json(t, vals, send, extra)
        elif fmt == "json_batch":
            self._json_batch(t, vals, send, extra)
        else:
            self._sparkplug(t, vals, send, extra)

    # -- formats -------------------------------------------------------------------------------
    def _record(self, j: int, t: float, v: float, with_sensor: bool) -> dict[str, Any]:
        cfg = self.cfg
        rec: dict[str, Any] = {}
        if with_sensor:
            rec[cfg.sensor_field] = self.ids[j]
        rec[cfg.value_field] = v
        if self.time_key:
            rec[self.time_key] = self.enc_time(t)
        return rec

    def _json(
        self, t: float, vals: np.ndarray, send: np.ndarray, extra: list[tuple[int, float, float]]
    ) -> None:
        with_sensor = not self.per_sensor
        for j in np.flatnonzero(send).tolist():
            v = float(vals[j])
            topic = self.topics[j]
            rec = self._numbered(topic, self._record(j, t, v, with_sensor))
            self._send(topic, _dumps(rec, v != v), int(v == v))
        for j, te, ve in extra:
            topic = self.topics[j]
            rec = self._numbered(topic, self._record(j, te, float(ve), with_sensor))
            self._send(topic, _dumps(rec), 1)

    def _json_batch(
        self, t: float, vals: np.ndarray, send: np.ndarray, extra: list[tuple[int, float, float]]
    ) -> None:
        cfg = self.cfg
        rows = [(int(j), t, float(vals[j])) for j in np.flatnonzero(send)]
        rows += [(j, te, float(ve)) for j, te, ve in extra]
        if self.per_sensor:  # one columnar message per sensor (the topic names it)
            by: dict[int, list[tuple[int, float, float]]] = {}
            for r in rows:
                by.setdefault(r[0], []).append(r)
            for j, rs in by.items():
                obj: dict[str, Any] = {cfg.value_field: [r[2] for r in rs]}
                if self.time_key:
                    obj[self.time_key] = [self.enc_time(r[1]) for r in rs]
                self._numbered(self.topics[j], obj)
                good = sum(r[2] == r[2] for r in rs)
                self._send(self.topics[j], _dumps(obj, good < len(rs)), good)
            return
        if not rows:
            return
        obj = {cfg.sensor_field: [self.ids[r[0]] for r in rows]}
        if self.time_key:
            obj[self.time_key] = [self.enc_time(r[1]) for r in rows]
        obj[cfg.value_field] = [r[2] for r in rows]
        self._numbered(self.topics[0], obj)
        good = sum(r[2] == r[2] for r in rows)
        self._send(self.topics[0], _dumps(obj, good < len(rows)), good)

    def _spb_topic(self, kind: str) -> str:
        return f"{spb.NAMESPACE}/{self.group}/{kind}/{self.edge}"

    def _next_seq(self) -> int:
        s = self.seq
        self.seq = (self.seq + 1) % 256
        return s

    def _birth(self, t: float, vals: np.ndarray, send: np.ndarray) -> None:
        ms = int(round(t * 1000))
        metrics = [
            spb.Metric(name="bdSeq", datatype=spb.DataType.INT64, value=0, timestamp=ms),
            spb.Metric(name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=False),
        ]
        for j in range(self.n):
            if send[j]:
                metrics.append(spb.double_metric(self.ids[j], float(vals[j]), ms, alias=j + 1))
            else:  # silent: declared (name and alias) without a value
                metrics.append(
                    spb.Metric(
                        name=self.ids[j], alias=j + 1, datatype=spb.DataType.DOUBLE, is_null=True
                    )
                )
        self.seq = 0
        payload = spb.encode_payload(spb.Payload(timestamp=ms, metrics=metrics, seq=0))
        self._next_seq()
        self._send(self._spb_topic("NBIRTH"), payload, int((send & np.isfinite(vals)).sum()))
        self.stats.births += 1
        self.last_birth = time.monotonic()

    def _sparkplug(
        self, t: float, vals: np.ndarray, send: np.ndarray, extra: list[tuple[int, float, float]]
    ) -> None:
        birth_due = time.monotonic() - self.last_birth >= BIRTH_EVERY
        if self.stats.births == 0 or self.rebirth.is_set() or birth_due:
            self.rebirth.clear()
            self._birth(t, vals, send)  # the birth carries this step's values
            send = np.zeros(self.n, bool)
        ms = int(round(t * 1000))
        metrics = [
            spb.double_metric(None, float(vals[j]), ms, alias=int(j) + 1)
            for j in np.flatnonzero(send)
        ]
        metrics += [
            spb.double_metric(None, float(ve), int(round(te * 1000)), alias=j + 1)
            for j, te, ve in extra
        ]
        if metrics:
            payload = spb.encode_payload(
                spb.Payload(timestamp=ms, metrics=metrics, seq=self._next_seq())
            )
            self._send(self._spb_topic("NDATA"), payload, len(metrics))

    def _malformed(self, t: float, vals: np.ndarray) -> None:
        """One broken message on a topic the viewer listens to."""
        fmt = self.cfg.format
        if fmt == "sparkplug_b":
            good = spb.encode_payload(
                spb.Payload(
                    timestamp=int(t * 1000),
                    metrics=[spb.double_metric(None, float(vals[0]), int(t * 1000), alias=1)],
                )
            )
            # a metrics field that claims more bytes (127) than the message has
            broken = b"\x12\x7f" + good[:100]
            self._send(self._spb_topic("NDATA"), broken)
        else:
            rec = _dumps(self._record(0, t, float(vals[0]), not self.per_sensor))
            if fmt == "json_batch":
                rec = b"[" + rec + b"]"
            self._send(self.topics[0], rec[: len(rec) // 2])  # truncated JSON
        self.stats.malformed += 1
