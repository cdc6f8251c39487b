"""The control room's shared state in PostgreSQL (history/pg_shared.py, session/control_room.py)
against real servers: acknowledgements between two viewer processes, review issues and audit
records round-tripping through the database, ``twinviewer audit --verify`` on the database copy,
and a viewer on a real streaming replica that reads everything and writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.pg_replica import PgPair, pair_urls, pg_pair  # noqa: F401 (a fixture)

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.core.audit import AuditError  # noqa: E402
from twinviewer.history.pg_role import REPLICA_REASON, ReadOnlyDatabase  # noqa: E402
from twinviewer.history.pg_shared import DatabaseAuditTrail, SharedDatabase  # noqa: E402
from twinviewer.history.postgres import split_url  # noqa: E402
from twinviewer.review import new_issue  # noqa: E402
from twinviewer.session.control_room import ControlRoom, SharedReviewBook  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + b"snapshot bytes" * 10

CHILD = textwrap.dedent(
    """
    import sys, time
    from twinviewer.session.control_room import ControlRoom
    room = ControlRoom(sys.argv[1], who="child")
    room.start_polling(0.2)
    room.acks.acknowledge([("pump-1", 100.0)], time.time())
    print("acked", flush=True)
    deadline = time.monotonic() + 20
    while ("fan-2", 200.0) not in room.acks:
        if time.monotonic() > deadline:
            print("never saw the parent's acknowledgement", flush=True)
            sys.exit(1)
        time.sleep(0.05)
    print("seen", flush=True)
    room.close()
    """
)


def _wait_for(cond, timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("not seen in time")
        time.sleep(0.02)
    return time.monotonic() - t0


def test_acknowledgements_are_shared_between_two_viewer_processes(pg_url: str) -> None:
    room = ControlRoom(pg_url, who="parent")
    room.start_polling(0.2)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, pg_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "acked"
        # the other viewer's acknowledgement arrives with a poll, within a few seconds
        changed: set[str] = set()  # the poll says so too (just after the cache has it)
        waited = _wait_for(lambda: changed.update(room.take_changes()[0]) or "acks" in changed)
        assert waited < 3.0
        assert ("pump-1", 100.0) in room.acks
        assert room.acks.who_acknowledged(("pump-1", 100.0)) == "child"
        assert room.acks.acknowledge([("fan-2", 200.0), ("pump-1", 100.0)], time.time()) == 1
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, out + err
        assert out.strip() == "seen"
    finally:
        if child.poll() is None:
            child.kill()
        room.close()
    # both are in the table once each, whatever viewer acknowledged them
    conninfo, schema = split_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f'SELECT sensor, start, who FROM "{schema}".twinviewer_acks ORDER BY id'
        ).fetchall()
    assert rows == [("pump-1", 100.0, "child"), ("fan-2", 200.0, "parent")]


def test_review_issues_round_trip_between_two_viewers(pg_url: str, tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"  # two workstations: two review folders
    a_dir.mkdir()
    b_dir.mkdir()
    room_a, room_b = ControlRoom(pg_url, who="ann"), ControlRoom(pg_url, who="bob")
    try:
        book_a = SharedReviewBook(a_dir / "plant.twin.yaml", room_a)
        book_b = SharedReviewBook(b_dir / "plant.twin.yaml", room_b)
        issue = new_issue("Belt misaligned", "ann", text="at the tail pulley", time=1.7e9)
        book_a.add_issue(issue, PNG)

        assert "issues" in room_b.poll()
        changed, texts = room_b.take_changes()
        assert texts is not None and book_b.apply_remote(texts)
        got = book_b.issue(issue.id)
        assert (got.title, got.text, got.author, got.time) == (
            "Belt misaligned",
            "at the tail pulley",
            "ann",
            1.7e9,
        )
        assert got.snapshot and book_b.snapshot_file(got.snapshot).read_bytes() == PNG
        # the local copy beside B's project holds it too
        saved = json.loads((b_dir / "plant.review" / "review.json").read_text())
        assert [i["id"] for i in saved["issues"]] == [issue.id]

        edited = got.model_copy(deep=True)
        edited.status = "resolved"
        book_b.replace_issue(edited)
        room_a.poll()
        _, texts = room_a.take_changes()
        assert texts is not None and book_a.apply_remote(texts)
        assert book_a.issue(issue.id).status == "resolved"
        assert book_a.issue(issue.id).modified_author == book_b.author

        book_a.remove_issue(issue.id)
        room_b.poll()
        _, texts = room_b.take_changes()
        assert texts == {} and book_b.apply_remote(texts)
        assert book_b.issues == []
        assert room_b.poll() == set()  # nothing new: nothing to apply
    finally:
        room_a.close()
        room_b.close()


def test_the_audit_trail_in_the_database_keeps_its_hash_chain(pg_url: str, tmp_path: Path) -> None:
    one, two = SharedDatabase(pg_url), SharedDatabase(pg_url)  # two viewers, two connections
    try:
        t1, t2 = DatabaseAuditTrail(one), DatabaseAuditTrail(two)
        for k in range(6):
            trail = (t1, t2)[k % 2]
            trail.append(
                1.7e9 + k, user="ann", role="operator", command="fan", new=k, result="sent"
            )
        records = t2.records()
        assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
        assert [r["new"] for r in records] == list(range(6))
        assert records[0]["prev"] == "0" * 64
        assert all(b["prev"] == a["hash"] for a, b in zip(records, records[1:], strict=False))
        assert t1.verify().ok and t1.verify().records == 6
        assert t1.last_hash() == records[-1]["hash"]
        with pytest.raises(ValueError, match="audit result"):
            t1.append(1.7e9, result="maybe")

        # `twinviewer audit --verify` reads the database copy of a project recorded there
        project = tmp_path / "p.twin.yaml"
        project.write_text(
            "models: [m.glb]\nsensors: [{id: x, quantity: temperature, unit: C, range: [0, 1]}]\n"
            f"history: {{url: '{pg_url}'}}\n"
        )

        def audit(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "twinviewer", "audit", str(project), *args],
                capture_output=True,
                text=True,
                timeout=60,
            )

        ok = audit("--verify", "--json")
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["records"] == 6
        listed = audit("--json")
        assert [json.loads(x)["seq"] for x in listed.stdout.splitlines()] == [1, 2, 3, 4, 5, 6]

        # an edited record is named by the check, in the database as in the file
        conninfo, schema = split_url(pg_url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{schema}".twinviewer_audit SET record = replace(record, '
                '\'"user":"ann"\', \'"user":"eve"\') WHERE seq = 3'
            )
        bad = audit("--verify")
        assert bad.returncode == 1
        assert "line 3: record seq 3 was edited" in bad.stderr
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{schema}".twinviewer_audit WHERE seq IN (3, 4)')
        v = t1.verify()
        assert not v.ok and v.line == 3 and "seq 3 to 4 missing" in v.problem
    finally:
        one.close()
        two.close()


def test_a_viewer_on_a_replica_reads_the_shared_state_and_writes_none(
    pg_pair: PgPair,  # noqa: F811
    tmp_path: Path,
) -> None:
    primary_url, standby_url = pair_urls(pg_pair)
    on_primary = ControlRoom(primary_url, who="ann")
    try:
        (tmp_path / "p").mkdir()
        (tmp_path / "r").mkdir()
        book = SharedReviewBook(tmp_path / "p" / "plant.twin.yaml", on_primary)
        issue = new_issue("Hot bearing", "ann")
        book.add_issue(issue, PNG)
        on_primary.acks.acknowledge([("pump-1", 5.0)], 1.7e9)
        on_primary.audit.append(1.7e9, user="ann", role="operator", command="c", result="sent")
        pg_pair.wait_replayed()

        replica = ControlRoom(standby_url, who="bob")
        try:
            assert replica.read_only_reason == REPLICA_REASON
            assert ("pump-1", 5.0) in replica.acks
            rbook = SharedReviewBook(tmp_path / "r" / "plant.twin.yaml", replica)
            assert [i.title for i in rbook.issues] == ["Hot bearing"]
            assert rbook.snapshot_file(f"{issue.id}.png").read_bytes() == PNG
            assert replica.audit.verify().ok and replica.audit.records()[0]["user"] == "ann"

            # every write is refused with a message that says why, and nothing changes
            with pytest.raises(ReadOnlyDatabase, match="replica .hot standby.: read-only"):
                replica.acks.acknowledge([("fan-2", 6.0)], 1.7e9)
            assert ("fan-2", 6.0) not in replica.acks
            with pytest.raises(ReadOnlyDatabase, match="review issues cannot be saved"):
                rbook.add_issue(new_issue("From the replica", "bob"))
            assert [i.title for i in rbook.issues] == ["Hot bearing"]
            with pytest.raises(AuditError, match="read-only"):
                replica.audit.append(1.7e9, user="bob", role="operator", command="c", result="sent")

            # what the primary's viewers do next reaches the replica's viewer by polling
            on_primary.acks.acknowledge([("fan-2", 6.0)], 1.7e9 + 1)
            pg_pair.wait_replayed()
            assert "acks" in replica.poll() and ("fan-2", 6.0) in replica.acks
        finally:
            replica.close()
    finally:
        on_primary.close()
