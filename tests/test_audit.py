"""The audit trail: durable, hash-chained JSON lines; edits, removals and reorderings found."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from twinviewer.core.audit import FIELDS, GENESIS, AuditTrail, parse_utc, record_hash

T0 = 1_780_000_000.0


def fill(trail: AuditTrail, n: int) -> None:
    for i in range(n):
        trail.append(
            T0 + i,
            user="alice",
            role="operator",
            command="fan_speed",
            target="mqtt m: publish cmd/fan",
            old=80.0,
            new=70.0 + i,
            unit="%",
            reason="bearing hot",
            result="sent",
            message="",
            correlation=f"c{i}",
        )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_records_chain_and_times(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "h" / "audit.jsonl")
    fill(trail, 4)
    recs = trail.records()
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert recs[0]["prev"] == GENESIS
    assert all(
        b["prev"] == a["hash"] == record_hash(a) for a, b in zip(recs[:-1], recs[1:], strict=True)
    )
    assert recs[0]["time"] == "2026-05-28T20:26:40.000Z" and parse_utc(recs[0]["time"]) == T0
    assert set(recs[0]) == set(FIELDS)
    assert [r["seq"] for r in trail.records(T0 + 1, T0 + 2)] == [2, 3]
    assert trail.verify().ok and trail.verify().records == 4
    assert trail.last_hash() == recs[-1]["hash"]


def test_verify_finds_an_edited_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    fill(AuditTrail(path), 4)
    text = lines(path)
    rec = json.loads(text[2])
    rec["new"] = 100.0  # someone changes what was sent
    text[2] = json.dumps(rec)
    path.write_text("\n".join(text) + "\n")
    v = AuditTrail(path).verify()
    assert not v.ok and v.line == 3 and "edited" in v.problem


def test_verify_finds_a_removed_and_a_reordered_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    fill(AuditTrail(path), 5)
    text = lines(path)
    path.write_text("\n".join(text[:1] + text[2:]) + "\n")
    v = AuditTrail(path).verify()
    assert not v.ok and v.line == 2 and "seq 2 missing" in v.problem and "removed" in v.problem
    path.write_text("\n".join([text[0], text[2], text[1], *text[3:]]) + "\n")
    v = AuditTrail(path).verify()
    assert not v.ok and v.line == 2
    path.write_text("\n".join(text[:3]) + "\nnot json\n")
    v = AuditTrail(path).verify()
    assert not v.ok and v.line == 4 and "not a JSON record" in v.problem


def test_result_must_be_known(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="audit result"):
        AuditTrail(tmp_path / "a.jsonl").append(T0, result="maybe")


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trails = [AuditTrail(path) for _ in range(4)]  # separate objects: only the file lock helps
    threads = [threading.Thread(target=fill, args=(t, 25)) for t in trails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    v = AuditTrail(path).verify()
    assert v.ok, v.describe()
    assert v.records == 100
