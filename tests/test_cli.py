"""The command line as a user runs it: check, render, schema (subprocesses, real files)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ASSETS, CORPUS
from twinviewer.core.project import load_project

MESHES = (
    sorted(
        p
        for p in (CORPUS / "meshes").rglob("*")
        if p.is_file()
        and p.suffix.lower() not in (".md", ".txt")
        and "kinematic_assembly" not in p.parts
    )
    if CORPUS.is_dir()
    else []
)


def twinviewer(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinviewer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("path", MESHES, ids=lambda p: p.name)
def test_check_every_corpus_file(path: Path) -> None:
    r = twinviewer("check", str(path), "--json")
    assert r.returncode == 0, r.stderr + r.stdout
    report = json.loads(r.stdout)
    assert report["ok"] and report["components"], report


def test_check_lists_components_named_as_in_the_file(corpus: Path) -> None:
    r = twinviewer("check", str(corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"))
    assert r.returncode == 0
    for name in ("building", "floor_0", "floor_1", "floor_2"):
        assert name in r.stdout
    assert r.stdout.strip().splitlines()[-1].startswith("OK:")


def test_check_a_folder_assembly(corpus: Path) -> None:
    r = twinviewer("check", str(corpus / "meshes" / "ply" / "kinematic_assembly"), "--json")
    assert r.returncode == 0, r.stderr
    comps = json.loads(r.stdout)["components"]
    assert "1008_radial_480" in comps and len(comps) >= 25


def bad_files(tmp_path: Path, corpus: Path) -> dict[str, Path]:
    glb = (corpus / "meshes" / "gltf" / "boolean.glb").read_bytes()
    files = {
        "truncated.glb": glb[: len(glb) // 2],
        "empty.glb": b"",
        "noise.stl": np.random.default_rng(0).bytes(3000),
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    misspelled = tmp_path / "typo.twin.yaml"
    misspelled.write_text(
        f"name: typo\nmodels: [{corpus / 'meshes' / 'gltf' / 'nested.glb'}]\n"
        "sensors:\n  - {id: s, quantity: q, unit: u, range: [0, 1], compnent: block01}\n"
    )
    out["typo.twin.yaml"] = misspelled
    return out


def test_check_bad_input_fails_with_a_one_line_reason(tmp_path: Path, corpus: Path) -> None:
    for name, path in bad_files(tmp_path, corpus).items():
        r = twinviewer("check", str(path))
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        errors = [line for line in r.stderr.splitlines() if ": error:" in line]
        assert len(errors) == 1, (name, r.stderr)
        assert name in errors[0] and "Traceback" not in r.stderr
        if name == "typo.twin.yaml":
            assert "unknown key 'compnent'" in errors[0] and "component" in errors[0]
        if name == "empty.glb":
            assert "empty" in errors[0]


def test_check_reports_unbound_sensors_and_components(tmp_path: Path, corpus: Path) -> None:
    p = tmp_path / "t.twin.yaml"
    p.write_text(
        f"models: [{corpus / 'meshes' / 'gltf' / 'nested.glb'}]\n"
        "components:\n  ghost: {glob: 'nothing_*'}\n"
        "sensors:\n"
        "  - {id: s1, quantity: q, unit: u, range: [0, 1], component: block03}\n"
        "  - {id: s2, quantity: q, unit: u, range: [0, 1], component: missing_part}\n"
    )
    r = twinviewer("check", str(p))
    assert r.returncode == 1  # a selector that matches nothing is an error
    assert "components.ghost: glob 'nothing_*' matches no node of the model" in r.stderr
    assert "error: sensors[1].component: sensor 's2' is bound to nothing" in r.stderr
    assert "sensors bound to nothing: s2" in r.stdout
    assert "components with no sensor (2): block01, block02" in r.stdout


def test_render_a_bare_model_headless(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "pins.png"
    r = twinviewer(
        "render", str(corpus / "meshes" / "gltf" / "pins.glb"), "-o", str(out), "--size", "640x400"
    )
    assert r.returncode == 0, r.stderr
    from PIL import Image

    img = np.asarray(Image.open(out))
    assert img.shape[:2] == (400, 640)
    assert len(np.unique(img.reshape(-1, img.shape[2]), axis=0)) > 20  # a model, not a blank


def test_render_bad_view_is_a_clear_error(tmp_path: Path, corpus: Path) -> None:
    r = twinviewer(
        "render",
        str(corpus / "meshes" / "gltf" / "nested.glb"),
        "-o",
        str(tmp_path / "x.png"),
        "--view",
        "sideways",
    )
    assert r.returncode == 1 and "unknown view 'sideways'" in r.stderr


@pytest.mark.skipif(not (ASSETS / "mine" / "mine.twin.yaml").exists(), reason="demo not built")
def test_render_mine_after_feed_shows_several_colours(tmp_path: Path) -> None:
    out = tmp_path / "mine.png"
    r = twinviewer(
        "render",
        str(ASSETS / "mine" / "mine.twin.yaml"),
        "-o",
        str(out),
        "--after",
        "5",
        "--size",
        "800x500",
    )
    assert r.returncode == 0, r.stderr
    from PIL import Image

    img = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3)
    # saturated colours (colour map and status colours), not just grey shading
    sat = img.max(axis=1).astype(int) - img.min(axis=1)
    hues = {tuple(c // 32) for c in img[sat > 80]}
    assert len(hues) >= 4, hues


def test_schema_command_prints_json_schema() -> None:
    r = twinviewer("schema")
    assert r.returncode == 0
    assert json.loads(r.stdout)["title"].startswith("TwinViewer project")


@pytest.mark.skipif(not (ASSETS / "mine" / "mine.twin.yaml").exists(), reason="demo not built")
def test_record_summarises_each_source() -> None:
    r = twinviewer(
        "record",
        str(ASSETS / "mine" / "mine.twin.yaml"),
        "--duration",
        "1.5",
        "--json",
        "--source",
        "simulator",
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    (sim,) = summary["sources"]
    assert sim["id"] == "simulator" and sim["state"] == "live"
    assert sim["accepted"] >= 60 and sim["rejected"] == {}
    n_sensors = len(load_project(ASSETS / "mine" / "mine.twin.yaml")[0].sensors)
    assert summary["sensors_with_data"] == summary["sensors"] == n_sensors


def test_record_unknown_source_is_a_clear_error() -> None:
    r = twinviewer(
        "record", str(ASSETS / "mine" / "mine.twin.yaml"), "--duration", "1", "--source", "kafka"
    )
    assert r.returncode == 1
    assert "no source 'kafka'" in r.stderr and "simulator (simulator)" in r.stderr


def test_simulate_mqtt_feeds_record_through_a_real_broker(tmp_path: Path) -> None:
    """`simulate --mqtt` publishes the demo twin; `record --source mqtt` receives it."""
    from tests.mqtt_broker import Mosquitto, find_mosquitto

    if find_mosquitto() is None:
        pytest.skip("mosquitto not installed")
    with Mosquitto(tmp_path / "broker") as broker:
        mine = ASSETS / "mine" / "mine.twin.yaml"
        project = mine.with_name(f"_test_{broker.port}.twin.yaml")
        project.write_text(mine.read_text().replace("mqtt://127.0.0.1:1883", broker.url))
        try:
            publisher = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "twinviewer",
                    "simulate",
                    str(project),
                    "--mqtt",
                    broker.url,
                    "--duration",
                    "6",
                    "--faults",
                    "--speed",
                    "5",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            r = twinviewer("record", str(project), "--source", "mqtt", "--duration", "4", "--json")
            out, err = publisher.communicate(timeout=60)
        finally:
            project.unlink()
            shutil.rmtree(
                project.with_name(project.name.replace(".twin.yaml", ".history")),
                ignore_errors=True,
            )
    assert r.returncode == 0, r.stderr
    assert publisher.returncode == 0, err
    sent = json.loads(out)
    (feed,) = json.loads(r.stdout)["sources"]
    assert feed["state"] == "live" and feed["accepted"] > 300
    assert sent["messages"] > feed["messages"] > 300  # recording started late, stopped early
    # the injected faults arrive as counted rejections, not as crashes
    assert set(feed["rejected"]) <= {"malformed", "not_finite"}


def test_simulate_opcua_server_feeds_record(tmp_path: Path) -> None:
    """`simulate --opcua-server` serves the locomotive; `record --source opcua` subscribes."""
    pytest.importorskip("asyncua")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"opc.tcp://127.0.0.1:{port}/twinviewer"
    loco = ASSETS / "locomotive" / "locomotive.twin.yaml"
    project = loco.with_name(f"_test_{port}.twin.yaml")
    project.write_text(loco.read_text().replace("opc.tcp://127.0.0.1:4840/twinviewer", endpoint))
    try:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twinviewer",
                "simulate",
                str(project),
                "--opcua-server",
                endpoint,
                "--duration",
                "15",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the server listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        r = twinviewer("record", str(project), "--source", "opcua", "--duration", "3", "--json")
        out, err = server.communicate(timeout=60)
    finally:
        project.unlink()
        shutil.rmtree(
            project.with_name(project.name.replace(".twin.yaml", ".history")), ignore_errors=True
        )
    assert r.returncode == 0, r.stderr
    assert server.returncode == 0, err
    n_sensors = len(load_project(loco)[0].sensors)
    assert json.loads(out)["sensors"] == n_sensors
    summary = json.loads(r.stdout)
    (feed,) = summary["sources"]
    assert feed["state"] == "live" and feed["accepted"] > n_sensors
    assert summary["sensors_with_data"] == n_sensors


def test_check_source_bindings(tmp_path: Path, corpus: Path) -> None:
    p = tmp_path / "s.twin.yaml"
    p.write_text(
        f"models: [{corpus / 'meshes' / 'gltf' / 'nested.glb'}]\n"
        "sensors:\n  - {id: s1, quantity: q, unit: u, range: [0, 1], component: block01}\n"
        "sources:\n"
        "  - {type: opcua, endpoint: 'opc.tcp://h:4840', nodes: {s1: 'ns=2;s=a', s9: 'ns=2;s=b'}}\n"
        "  - {type: mqtt, url: 'mqtt://h', topic: 'site/all'}\n"
    )
    r = twinviewer("check", str(p))
    assert r.returncode == 1
    assert "sources[0].nodes.s9: unknown sensor 's9'" in r.stderr
    assert "sources[1].topic: no {sensor} in 'site/all'" in r.stdout


def test_record_writes_history_and_history_stats_reads_it(tmp_path: Path) -> None:
    mine = ASSETS / "mine" / "mine.twin.yaml"
    project = mine.with_name("_history_test.twin.yaml")
    store = mine.with_name("_history_test.history")
    project.write_text(mine.read_text())
    try:
        r = twinviewer("record", str(project), "--duration", "2", "--json")
        assert r.returncode == 0, r.stderr
        recorded = json.loads(r.stdout)
        accepted = recorded["sources"][0]["accepted"]
        assert recorded["history"]["samples"] == accepted > 0  # every accepted sample is held
        h = twinviewer("history", str(project), "stats", "--json")
        assert h.returncode == 0, h.stderr
        stats = json.loads(h.stdout)
        n_sensors = len(load_project(mine)[0].sensors)
        assert stats["samples"] == accepted and stats["sensors"] == n_sensors
        assert Path(stats["path"]).name == "_history_test.history"
    finally:
        project.unlink()
        shutil.rmtree(store, ignore_errors=True)


def test_parse_instant() -> None:
    from twinviewer.session.headless import parse_instant

    now = 1_800_000_000.0
    assert parse_instant("live", now) is None
    assert parse_instant("-10m", now) == now - 600
    assert parse_instant("-1.5h", now) == now - 5400
    assert parse_instant("2026-11-24T03:12:00Z", now) == 1795489920.0
    assert parse_instant("2026-11-24T04:12:00+01:00", now) == 1795489920.0
    with pytest.raises(ValueError, match="expected 'live', an ISO 8601 time"):
        parse_instant("yesterday", now)


def test_render_at_a_recorded_instant(tmp_path: Path) -> None:
    mine = ASSETS / "mine" / "mine.twin.yaml"
    project = mine.with_name("_render_at.twin.yaml")
    store = mine.with_name("_render_at.history")
    project.write_text(mine.read_text())
    try:
        assert twinviewer("record", str(project), "--duration", "2").returncode == 0
        out = tmp_path / "at.png"
        r = twinviewer("render", str(project), "--at=-1s", "-o", str(out), "--size", "640x400")
        assert r.returncode == 0, r.stderr
        from PIL import Image

        img = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3)
        sat = img.max(axis=1).astype(int) - img.min(axis=1)
        assert len({tuple(c // 32) for c in img[sat > 80]}) >= 4  # recorded colours, not grey
        r = twinviewer("render", str(project), "--at", "2001-01-01T00:00:00Z", "-o", str(out))
        assert r.returncode == 1 and "before the first recorded sample" in r.stderr
    finally:
        project.unlink()
        shutil.rmtree(store, ignore_errors=True)
