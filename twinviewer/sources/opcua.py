"""OPC UA client source: one subscription, a monitored item per bound node, columnar batches.

:class:`OpcUaFeed` runs an asyncio loop on its source thread with asyncua's ``Client``. It takes
the notifications of each publish response in one callback (no task per value), keeps the
numeric ones in three lists and hands them to the sink as one :class:`SampleBatch` every
``flush_interval`` seconds. The client handle of every monitored item is its sensor's index.

Monitored items use the ``StatusValueTimestamp`` trigger: a sensor that reports the same value
with a new timestamp is alive and must not turn stale in the viewer.

Connection handling:

* a drop (server restarted, network gone) is seen at once when the socket closes, or within a
  second by asyncua's watchdog read; the feed goes RECONNECTING with the reason and retries after
  1 s, doubling up to 15 s, with a new session and a new subscription each time;
* what retrying cannot fix is an ERROR and is not retried: a rejected user name or password,
  a rejected client certificate, a server presenting another certificate than the trusted one,
  no endpoint with the configured security, unreadable certificate files;
* bound node ids the server does not know are named in the status message; the rest still work.

Sequence accounting (what was lost; :mod:`twinviewer.sources.opcua_gaps` keeps the books):

* every notification message of the subscription has a ``SequenceNumber``: a message with
  notifications takes the next one (wrapping from 2^32 - 1 to 1), a keep-alive carries the next
  one without taking it. A data message or keep-alive numbered past the next shows messages lost
  on the way. Each is asked for again with Republish while the server still holds it (it keeps
  the messages it sent until they are acknowledged); what comes back goes through the same path
  as live notifications (``republished`` counts them) and is acknowledged in the next Publish
  request (asyncua acknowledges only what its publish loop received). Numbers the server no
  longer has (``BadMessageNotAvailable``, or asyncua's server's empty answer) are reported as a
  :data:`~twinviewer.core.gaps.SEQUENCE` gap: the subscribed sensors, from the last sample
  before the lost messages to the first after, samples missing estimated from the data-change
  notifications per message so far (``exact`` False);
* a lost connection kills the session and its subscription: what the server sampled between the
  last notification before the drop and the first of the new subscription is gone. Once data is
  back it is reported as one :data:`~twinviewer.core.gaps.DISCONNECTION` gap: the sensors that
  had data before, from the newest last sample before the drop to the earliest first sample
  after, samples missing estimated per sensor from its observed sampling period (else the
  requested sampling interval) times its own outage. Nothing is reported when there was no data
  before the drop, nor when the feed stops before data comes back (the end is unknown).
  TransferSubscriptions (resuming the old subscription in the new session) is not used: after a
  server restart there is nothing to transfer, and asyncua's server (2.1) binds a transferred
  subscription's publishing to the old, closed connection, so it would deliver nothing.

Server certificate trust (``server_certificate``): before any session the endpoints are fetched
and the certificate of the endpoint to use must be byte-for-byte the trusted one, else ERROR. With
security on, the channel is then opened with the trusted certificate itself (asyncua encrypts to
it and checks the server's signature with it) and a ``certificate_validator`` compares the
certificate in the CreateSession response again before credentials are sent. Without
``server_certificate``, the certificate the server offers is accepted (trust on first use, logged).
Connecting lives in :mod:`twinviewer.sources.opcua_connect`.

:func:`browse` (:mod:`twinviewer.sources.opcua_browse`, re-exported here) walks a server's
address space for the binding dialog.

asyncua is optional (``pip install 'twinviewer[opcua]'``) and imported when used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import numbers
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from twinviewer.core.gaps import SEQUENCE, Gap
from twinviewer.core.project import OpcUaSource, Sensor
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.base import Source, SourceState
from twinviewer.sources.opcua_browse import BrowseNode, browse, browse_source
from twinviewer.sources.opcua_connect import (
    _FILTER_CODES,
    INSTALL_HINT,
    OpcUaError,
    _asyncua,
    _close_client,
    _Credentials,
    _describe,
    _load_credentials,
    _Lost,
    _open_client,
    _Stopped,
    thumbprint,
)
from twinviewer.sources.opcua_gaps import (
    MAX_REPUBLISH,
    Hole,
    OutageTracker,
    PublishSequence,
    messages,
)

if TYPE_CHECKING:
    from asyncua import Client, ua

log = logging.getLogger(__name__)

__all__ = [
    "INSTALL_HINT",
    "BrowseNode",
    "OpcUaError",
    "OpcUaFeed",
    "browse",
    "browse_source",
    "thumbprint",
]

T = TypeVar("T")


# -- the feed --------------------------------------------------------------------------------


class OpcUaFeed(Source):
    """Live samples from an OPC UA server: see the module docstring."""

    flush_interval = 0.05  # seconds between batches
    first_backoff = 1.0
    max_backoff = 15.0
    request_timeout = 5.0  # seconds for one request (connect steps included)
    recent = 8  # samples per sensor remembered to recognise duplicates

    def __init__(self, config: OpcUaSource, sensors: Sequence[Sensor], folder: Path) -> None:
        super().__init__(config.id)
        self.config = config
        self.sensors = list(sensors)
        self.folder = Path(folder)
        self.attempts = 0  # connection attempts so far
        self.connections = 0  # sessions that went live
        self.subscribed: dict[str, str] = {}  # sensor id -> node id with a monitored item
        self.missing: dict[str, str] = {}  # node id -> why the server refused it
        self._names: list[str] = [s.id for s in self.sensors]
        self._sensor: list[int] = []
        self._time: list[float] = []
        self._value: list[float] = []
        self._recent: dict[int, deque[tuple[float, float]]] = {}
        self._lost: asyncio.Event | None = None
        self._lost_reason = ""
        # loss accounting (see the module docstring)
        self.republished = 0  # notification messages recovered with Republish
        self._client: Client | None = None  # of the live session
        self._seq: PublishSequence | None = None  # of its subscription
        self._acks: list[Any] = []  # acknowledgements of republished messages, not yet sent
        self._recovering: set[asyncio.Future[None]] = set()  # Republish tasks
        every = config.sampling_interval
        every = every if every > 0 else config.publishing_interval  # 0: as fast as it can
        self._outages = OutageTracker(config.id, self._names, max(every, 1.0) / 1000.0)

    # -- thread body ----------------------------------------------------------------------------
    def run(self) -> None:
        try:
            _asyncua()
            creds = _load_credentials(self.config, self.folder)
        except OpcUaError as exc:
            self._fail(str(exc))
            return
        bound = self._bindings()
        asyncio.run(self._main(creds, bound))

    def _bindings(self) -> dict[int, str]:
        """Sensor index -> node id of the bindings whose sensor is in the project."""
        index = {s.id: i for i, s in enumerate(self.sensors)}
        bound: dict[int, str] = {}
        for sensor_id, node_id in self.config.nodes.items():
            if sensor_id in index:
                bound[index[sensor_id]] = node_id
            else:
                log.warning(
                    "OPC UA %s: node %s is bound to %r, which is not a sensor of the project",
                    self.id,
                    node_id,
                    sensor_id,
                )
                self.reject("unknown_sensor", 1, f"{sensor_id} (node {node_id})")
        return bound

    def _fail(self, reason: str) -> None:
        log.error("OPC UA %s (%s): %s", self.id, self.config.endpoint, reason)
        self.status.state = SourceState.ERROR
        self.status.message = reason

    async def _main(self, creds: _Credentials, bound: dict[int, str]) -> None:
        delay = self.first_backoff
        while not self.stopping:
            self.attempts += 1
            client: Client | None = None
            try:
                client = await self._until_stopped(
                    _open_client(self.config, creds, self.request_timeout)
                )
                await self._stream(client, bound)
                delay = self.first_backoff
                reason = ""
            except _Stopped:
                break
            except OpcUaError as exc:
                self._fail(str(exc))
                break
            except _Lost as exc:
                reason = f"connection lost: {exc}"
                delay = self.first_backoff
            except Exception as exc:
                reason = f"cannot connect to {self.config.endpoint}: {_describe(exc)}"
                expected = (OSError, asyncio.TimeoutError, _asyncua().ua.UaError)
                if isinstance(exc, expected):
                    log.debug("OPC UA %s connect failed", self.id, exc_info=True)
                else:  # not a network problem: a bug worth a traceback (and still a retry)
                    log.exception("OPC UA %s: unexpected error", self.id)
            finally:
                await self._end_recovery()  # what it could not get back is reported as lost
                if client is not None:
                    await _close_client(client)
                self._flush()  # after closing: no notification can come in behind it
            if self.stopping:
                break
            self._report(self._outages.lost(reason))  # data after this is a new subscription's
            self.status.state = SourceState.RECONNECTING
            self.status.message = f"{reason}; retrying in {delay:g} s"
            log.warning("OPC UA %s: %s", self.id, self.status.message)
            await self._sleep(delay)
            delay = min(2 * delay, self.max_backoff)

    async def _until_stopped(self, coro: Awaitable[T]) -> T:
        """Await ``coro``, abandoning it promptly when the source is stopped."""
        task = asyncio.ensure_future(coro)
        while not task.done():
            await asyncio.wait({task}, timeout=self.flush_interval)
            if self.stopping and not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
                raise _Stopped
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            await asyncio.sleep(min(self.flush_interval, max(0.0, end - time.monotonic())))

    # -- one session ----------------------------------------------------------------------------
    async def _stream(self, client: Client, bound: dict[int, str]) -> None:
        """Subscribe and pump batches until stopped (returns) or the connection drops (raises)."""
        from asyncua.client.ua_client import UaClientState

        self._lost = lost = asyncio.Event()
        self._lost_reason = ""

        async def on_lost(exc: Exception) -> None:  # asyncua's watchdog saw it
            self._lost_reason = self._lost_reason or _describe(exc)
            lost.set()

        def on_state(state: UaClientState) -> None:  # the socket closed: we know at once
            if state is UaClientState.DISCONNECTED and not lost.is_set():
                self._lost_reason = self._lost_reason or "the server closed the connection"
                lost.set()
                # Its pending publish request failed; stop the publish loop before it logs that
                # as a crash. The session is gone anyway and is rebuilt on reconnecting.
                task = getattr(client.uaclient.session, "_publish_task", None)
                if isinstance(task, asyncio.Task) and not task.done():
                    task.cancel()

        client.connection_lost_callback = on_lost
        self._client = client
        listen = getattr(client.uaclient, "_add_state_listener", None)  # asyncua 2.x
        if listen is not None:
            listen(on_state)
        await self._until_stopped(self._subscribe(client, bound))
        self.connections += 1
        total = len(bound)
        parts = [
            f"{len(self.subscribed)} of {total} nodes subscribed"
            if total
            else "connected; no nodes bound"
        ]
        if self.missing:
            parts.append(f"not on the server: {', '.join(sorted(self.missing))}")
            log.warning(
                "OPC UA %s: bound nodes the server refused: %s",
                self.id,
                ", ".join(f"{n} ({why})" for n, why in sorted(self.missing.items())),
            )
        self.status.state = SourceState.LIVE
        self.status.message = "; ".join(parts)
        log.info("OPC UA %s live on %s: %s", self.id, self.config.endpoint, self.status.message)
        while not self.stopping:
            await asyncio.sleep(self.flush_interval)
            self._flush()
            self._report(self._outages.take(time.monotonic()))
            if lost.is_set() or client.uaclient.state is not UaClientState.CONNECTED:
                raise _Lost(self._lost_reason or "the server closed the connection")

    async def _subscribe(self, client: Client, bound: dict[int, str]) -> None:
        ua = _asyncua().ua
        cfg = self.config
        self.subscribed, self.missing = {}, {}
        if not bound:
            return
        # Node ids: "ns=2;s=X", or "nsu=<namespace uri>;s=X" resolved through the namespace array.
        parsed: dict[int, Any] = {}
        namespaces: list[str] | None = None
        for i, text in bound.items():
            try:
                node = ua.NodeId.from_string(text)
            except (ua.UaError, ValueError):
                self.missing[text] = "not a node id"
                continue
            uri = getattr(node, "NamespaceUri", None)
            if uri:
                if namespaces is None:
                    namespaces = list(await client.get_namespace_array())
                if uri not in namespaces:
                    self.missing[text] = f"namespace {uri} unknown"
                    continue
                node = ua.NodeId(node.Identifier, namespaces.index(uri), node.NodeIdType)
            parsed[i] = ua.NodeId(node.Identifier, node.NamespaceIndex, node.NodeIdType)

        pub = float(cfg.publishing_interval)
        keepalive = max(3, math.ceil(2000.0 / pub))  # an empty publish about every 2 s
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=pub,
            RequestedLifetimeCount=keepalive * 30,
            RequestedMaxKeepAliveCount=keepalive,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        self._acks = []
        self._acknowledge_republished(client)
        result = await client.uaclient.create_subscription(params, self._on_publish)
        self._seq = PublishSequence(result.SubscriptionId)  # before its first publish response
        sampling = float(cfg.sampling_interval)
        # Room on the server for the samples of a few publishing intervals, so that a late
        # publish request (a busy client or network) loses nothing.
        queue = 100 if sampling <= 0 else max(10, min(1000, math.ceil(4 * pub / sampling)))

        def request(i: int, node: Any, with_filter: bool) -> Any:
            mp = ua.MonitoringParameters(
                ClientHandle=i, SamplingInterval=sampling, QueueSize=queue, DiscardOldest=True
            )
            if with_filter:
                mp.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
            return ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(NodeId=node, AttributeId=ua.AttributeIds.Value),
                MonitoringMode=ua.MonitoringMode.Reporting,
                RequestedParameters=mp,
            )

        async def create(items: list[tuple[int, Any]], with_filter: bool) -> list[tuple[int, Any]]:
            out: list[tuple[int, Any]] = []
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                req = ua.CreateMonitoredItemsParameters(
                    SubscriptionId=result.SubscriptionId,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    ItemsToCreate=[request(i, node, with_filter) for i, node in chunk],
                )
                res = await client.uaclient.create_monitored_items(req)
                out += [(i, r.StatusCode) for (i, _), r in zip(chunk, res, strict=True)]
            return out

        items = list(parsed.items())
        results = await create(items, True)
        retry = [(i, parsed[i]) for i, code in results if code.name in _FILTER_CODES]
        if retry:  # a server that takes no data-change filter: monitor with its default trigger
            again = dict(await create(retry, False))
            results = [(i, again.get(i, code)) for i, code in results]
        for i, code in results:
            if code.is_good():
                self.subscribed[self._names[i]] = bound[i]
            else:
                self.missing[bound[i]] = code.name

    # -- notifications --------------------------------------------------------------------------
    def _on_publish(self, result: ua.PublishResult) -> None:
        """One publish response: called by asyncua's publish loop, on the loop thread."""
        msg = result.NotificationMessage
        seq = self._seq
        if seq is not None and result.SubscriptionId == seq.subscription_id:
            changes, times = _contents(msg)
            data = bool(msg.NotificationData)
            hole = seq.observe(msg.SequenceNumber, data, changes, times, _epoch(msg.PublishTime))
            if hole is not None:
                self._recover(seq, hole)
        self._notifications(msg)

    def _notifications(self, msg: ua.NotificationMessage) -> None:
        """The notifications of a message, live or republished."""
        ua = _asyncua().ua
        for note in msg.NotificationData or ():
            if isinstance(note, ua.DataChangeNotification):
                for item in note.MonitoredItems:
                    self._take(item.ClientHandle, item.Value)
            elif isinstance(note, ua.StatusChangeNotification):
                if note.Status is not None and not note.Status.is_good():
                    self._lost_reason = (
                        self._lost_reason or f"subscription ended ({note.Status.name})"
                    )
                    if self._lost is not None:
                        self._lost.set()

    def _take(self, i: int, dv: Any) -> None:
        self.status.messages += 1
        self.status.last_time = time.time()
        if not 0 <= i < len(self._names):
            self.reject("unknown_handle", 1, f"client handle {i}")
            return
        code = dv.StatusCode
        if code is not None and code.is_bad():
            self.reject("bad_status", 1, f"{self._names[i]}: {code.name}")
            return
        v = dv.Value.Value if dv.Value is not None else None
        if isinstance(v, bool):
            x = 1.0 if v else 0.0
        elif isinstance(v, numbers.Real):
            x = float(v)
        else:
            self.reject("not_numeric", 1, f"{self._names[i]}: {type(v).__name__} {v!r:.40}")
            return
        if not math.isfinite(x):
            self.reject("not_finite", 1, f"{self._names[i]}: {x}")
            return
        t = _epoch(dv.SourceTimestamp) or _epoch(dv.ServerTimestamp) or time.time()
        seen = self._recent.get(i)
        if seen is None:
            seen = self._recent[i] = deque(maxlen=self.recent)
        elif (t, x) in seen:
            self.reject("duplicate", 1, f"{self._names[i]} at {t:.3f}")
            return
        seen.append((t, x))
        self._outages.sample(i, t, time.monotonic())
        self._sensor.append(i)
        self._time.append(t)
        self._value.append(x)

    def _flush(self) -> None:
        if not self._sensor:
            return
        batch = SampleBatch.of(self._sensor, self._time, self._value)
        self._sensor, self._time, self._value = [], [], []
        self.emit(batch)

    def _report(self, gap: Gap | None) -> None:
        if gap is not None:
            self.report_gap(gap)

    # -- lost notification messages: Republish -------------------------------------------------
    def _acknowledge_republished(self, client: Client) -> None:
        """asyncua acknowledges the messages its publish loop received; the ones recovered with
        Republish are added to its next Publish request, so that the server can drop them."""
        session: Any = getattr(client.uaclient, "session", client.uaclient)
        publish = session.publish

        async def publish_with_acks(acks: list[Any] | None) -> Any:
            if self._acks:
                acks, self._acks = [*(acks or []), *self._acks], []
            return await publish(acks)

        session.publish = publish_with_acks

    def _recover(self, seq: PublishSequence, hole: Hole) -> None:
        """Ask for the messages of ``hole`` again, on a task of their own (the publish loop
        goes on meanwhile)."""
        log.info(
            "OPC UA %s: notification %s of subscription %d did not arrive; asking again",
            self.id,
            messages(hole.first, hole.count),
            hole.subscription_id,
        )
        client = self._client
        if client is None or hole.count > MAX_REPUBLISH:
            sid, why = hole.subscription_id, "too many to ask for again"
            self._lost_messages(seq, sid, hole.first, hole.count, hole.before, hole.after, why)
            return
        task = asyncio.ensure_future(self._republish_hole(client, seq, hole))
        self._recovering.add(task)
        task.add_done_callback(self._recovering.discard)

    async def _republish_hole(self, client: Client, seq: PublishSequence, hole: Hole) -> None:
        ua = _asyncua().ua
        numbers = hole.numbers()
        before = hole.before  # newest sample time before the current run of lost numbers
        run: list[int] = []  # numbers in a row the server no longer has
        done = 0
        why = ""
        try:
            for n in numbers:
                msg = await self._republish(client, hole.subscription_id, n)
                done += 1
                if msg is None:
                    run.append(n)
                    continue
                self.republished += 1
                self._acks.append(
                    ua.SubscriptionAcknowledgement(
                        SubscriptionId=hole.subscription_id, SequenceNumber=n
                    )
                )
                changes, times = _contents(msg)
                seq.count(changes, times)
                if run:
                    after = times[0] if times is not None else hole.after
                    self._lost_messages(seq, hole.subscription_id, run[0], len(run), before, after)
                    run = []
                self._notifications(msg)
                if times is not None:
                    before = times[1] if before is None else max(before, times[1])
        except Exception as exc:  # the connection is going, or a server without Republish
            why = f"Republish failed: {_describe(exc)}"
            log.debug("OPC UA %s: Republish failed", self.id, exc_info=True)
        finally:  # also when cancelled (the session ended): the rest is lost
            run += numbers[done:]
            if run and not self.stopping:
                sid = hole.subscription_id
                self._lost_messages(seq, sid, run[0], len(run), before, hole.after, why)

    async def _republish(self, client: Client, subscription_id: int, number: int) -> Any | None:
        """The notification message ``number`` again, or None if the server no longer has it."""
        ua = _asyncua().ua
        session: Any = getattr(client.uaclient, "session", client.uaclient)
        try:
            msg = await session.republish(subscription_id, number)
        except ua.UaStatusCodeError as exc:
            if exc.code == ua.StatusCodes.BadMessageNotAvailable:
                return None
            raise
        # asyncua's server answers a number it no longer holds with an empty message
        if msg is None or msg.SequenceNumber != number or not msg.NotificationData:
            return None
        return msg

    def _lost_messages(
        self,
        seq: PublishSequence,
        subscription_id: int,
        first: int,
        count: int,
        before: float | None,
        after: float | None,
        why: str = "",
    ) -> None:
        """Report ``count`` messages from number ``first`` on as lost for good."""
        why = why or f"Republish: the server no longer had {'it' if count == 1 else 'them'}"
        detail = (
            f"OPC UA subscription {subscription_id}: notification {messages(first, count)} "
            f"lost; {why}"
        )
        if before is None or after is None:  # no data before them: nothing to place it by
            log.warning("OPC UA %s: %s", self.id, detail)
            return
        self.report_gap(
            Gap(
                source=self.id,
                sensors=tuple(self.subscribed),
                start=before,
                end=max(before, after),
                missing=seq.estimate(count),
                cause=SEQUENCE,
                exact=False,
                detail=detail,
            )
        )

    async def _end_recovery(self) -> None:
        """The session is ending: stop asking for messages again (the rest is reported lost)."""
        tasks = list(self._recovering)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._client = None
        self._seq = None


_EPOCH_MIN = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)


def _contents(msg: ua.NotificationMessage) -> tuple[int, tuple[float, float] | None]:
    """Data-change notifications in a message and the (oldest, newest) source time of them."""
    ua = _asyncua().ua
    count, lo, hi = 0, math.inf, -math.inf
    for note in msg.NotificationData or ():
        if isinstance(note, ua.DataChangeNotification):
            for item in note.MonitoredItems:
                count += 1
                dv = item.Value
                t = (_epoch(dv.SourceTimestamp) or _epoch(dv.ServerTimestamp)) if dv else None
                if t is not None:
                    lo, hi = min(lo, t), max(hi, t)
    return count, ((lo, hi) if lo <= hi else None)


def _epoch(when: dt.datetime | None) -> float | None:
    """Seconds since the Unix epoch, or None for a missing (or zero, 1601) timestamp."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)  # OPC UA times are UTC
    if when < _EPOCH_MIN:
        return None
    return when.timestamp()
