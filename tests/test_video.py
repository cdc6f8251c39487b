"""Videos of tours and history replays: decoded with PyAV, frame by frame.

The mine demo with five minutes of recorded history and a two-step tour written into its
project: a cut to the shaft (highlight, isolate, section) for 2 s, then a 1 s flight to level 3
and a replay of two minutes of history at 60x (callouts, colour by vibration). Videos are tiny
(320x240 or 480x270, 5 fps) so that the whole module runs in well under a minute.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest

from twinviewer.cli import main
from twinviewer.session import TwinSession
from twinviewer.video import (
    VideoCancelled,
    VideoError,
    VideoRequest,
    choose_encoding,
    export_project,
    export_video,
)

HISTORY = 300.0
TOUR = """
tours:
  - name: First day
    description: Shaft, then the booster fan
    steps:
      - title: The shaft
        caption: "The **main shaft** is 1 km deep; the cage takes 3 minutes."
        view: Shaft
        transition: {type: cut}
        highlight: [hoist]
        isolate: [hoist, main_fan]
        section: {origin: [0, 0, -50], normal: [0, 0, 1]}
        dwell: 2
      - title: The booster fan
        view: Level 3
        transition: {type: fly, duration: 1}
        time: {from: start+60s, to: start+180s, speed: 60}
        callouts: [l3_fan_vibration, l3_fan_bearing_temperature]
        colour: vibration
"""


@pytest.fixture(scope="module")
def mine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    from twinviewer.session.demos import demo_copy

    path, zero = demo_copy("mine", tmp_path_factory.mktemp("mine"), HISTORY, models=False)
    path.write_text(path.read_text(encoding="utf-8") + TOUR, encoding="utf-8")
    return path, zero


def decode(path: Path) -> tuple[list[np.ndarray], av.container.InputContainer]:
    container = av.open(str(path))
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, container


def test_tour_video_has_every_frame_at_its_time(mine: tuple[Path, float], tmp_path: Path):
    path, _ = mine
    out = tmp_path / "tour.mp4"
    done = export_project(path, VideoRequest(out, (320, 240), 5, tour="First day"))
    # 2 s dwell + 1 s flight + 120 s of history at 60x = 5 s of video
    assert done.frames == 25 and done.duration == pytest.approx(5.0)
    frames, container = decode(out)
    with container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (320, 240)
        assert len(frames) == round(5.0 * 5)
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(5.0, abs=0.01)
        assert container.metadata["title"].endswith("First day")
        assert json.loads(container.metadata["comment"]) == {"fps": 5, "frames": 25}
    assert done.steps[:10] == [0] * 10 and done.steps[10:] == [1] * 15
    # the shaft (isolated, cut) and the booster fan: different pictures
    shaft, fan = frames[5].astype(float), frames[22].astype(float)
    assert np.abs(shaft - fan).mean() > 10.0
    # within the first step's dwell the camera rests: two frames nearly the same
    assert np.abs(frames[2].astype(float) - shaft).mean() < 3.0


def test_replay_stamp_advances_at_the_speed(mine: tuple[Path, float], tmp_path: Path):
    import pyvista as pv

    from twinviewer.session.tour_scene import (
        STAMP_PT,
        TextBox,
        font_size,
        stamp_text,
        zone_of,
    )

    path, zero = mine
    session = TwinSession.open(path)
    store = session.open_history()
    assert store is not None
    held = store.time_range()
    assert held is not None
    t0, speed, fps, size = held[0] + 30.0, 60.0, 5.0, (480, 270)
    out = tmp_path / "replay.mp4"
    try:
        done = export_video(
            session, VideoRequest(out, size, fps, start=t0, end=t0 + 120.0, speed=speed,
                                  view="Level 3"),
        )  # fmt: skip
    finally:
        zone = zone_of(session)
        session.close()
    assert done.frames == 10
    # the twin's time each frame was drawn at: t0 + speed * i / fps, exactly
    expected = [t0 + speed * i / fps for i in range(10)]
    assert done.twin_times == pytest.approx(expected, abs=1e-6)
    frames, container = decode(out)
    with container:
        meta = json.loads(container.metadata["comment"])
    assert len(frames) == 10
    assert meta["speed"] == speed and meta["twin_start"] == pytest.approx(t0)

    # The burned-in stamp reads the expected time: where a stamp drawn afresh for that time and
    # one for the frame before or after (12 s apart) differ (the digits that change), the
    # frame's pixels are much nearer the right one.
    def fresh(t: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        plotter = pv.Plotter(off_screen=True, window_size=list(size))
        try:
            plotter.set_background(session.project.display.background)
            box = TextBox(plotter.renderer, "lower_right", font_size(STAMP_PT, size[1]))
            box.set(stamp_text(t, zone))
            plotter.render()
            image = plotter.screenshot(None, return_img=True)
            return image, box.box()
        finally:
            plotter.close()

    for i in (3, 7):
        good, (x0, y0, x1, y1) = fresh(expected[i])
        rows = slice(size[1] - y1, size[1] - y0)  # display y counts from the bottom
        cols = slice(x0, x1)
        frame = frames[i][rows, cols].astype(float)
        right_img = good[rows, cols].astype(float)
        for other in (expected[i] - 12.0, expected[i] + 12.0):
            wrong_img = fresh(other)[0][rows, cols].astype(float)
            differ = np.abs(right_img - wrong_img).max(axis=-1) > 60
            assert differ.sum() >= 8  # the two stamps do differ somewhere (one digit may be all)
            right = float(np.abs(frame - right_img)[differ].mean())
            wrong = float(np.abs(frame - wrong_img)[differ].mean())
            assert right < 0.5 * wrong, (i, other - expected[i], right, wrong)


def test_webm_is_vp9(mine: tuple[Path, float], tmp_path: Path):
    path, _ = mine
    out = tmp_path / "tour.webm"
    done = export_project(path, VideoRequest(out, (160, 120), 2, tour="First day"))
    frames, container = decode(out)
    with container:
        assert container.streams.video[0].codec_context.name == "vp9"
    assert len(frames) == done.frames == 10


def test_cancel_writes_nothing(mine: tuple[Path, float], tmp_path: Path):
    path, _ = mine
    out = tmp_path / "cancelled.mp4"
    out.write_bytes(b"an older video")
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1

    session = TwinSession.open(path)
    try:
        session.open_history()
        with pytest.raises(VideoCancelled):
            export_video(
                session, VideoRequest(out, (160, 120), 5, tour="First day"), cancelled=cancelled
            )
    finally:
        session.close()
    assert out.read_bytes() == b"an older video"
    assert [p.name for p in tmp_path.iterdir()] == ["cancelled.mp4"]


def test_tour_scene_applies_and_undoes_each_step(mine: tuple[Path, float]):
    import pyvista as pv

    from twinviewer.render.scene import TwinScene
    from twinviewer.session.tour_scene import TourScene, find_tour, plan_tour

    path, zero = mine
    session = TwinSession.open(path)
    store = session.open_history()
    assert store is not None
    plotter = pv.Plotter(off_screen=True, window_size=[320, 240])
    try:
        scene = TwinScene(plotter)
        scene.show_model(session.model)
        plan = plan_tour(session, scene, find_tour(session, "First day"), store.time_range())
        ts = TourScene(session, scene, plan, store)
        shown = ts.show(0.5)
        hoist, _ = session.component_indices(["hoist", "main_fan"])
        assert shown.step == 0 and scene.clip_plane is not None
        assert not scene.hidden[hoist].any() and scene.hidden.sum() > 0.9 * len(scene.hidden)
        assert "The shaft" in ts.title_box.text and "main shaft" in ts.caption_box.text
        assert "**" not in ts.caption_box.text
        assert not ts.callouts.labels
        shown = ts.show(3.5)  # arrived at level 3, 0.5 s into the replay: 30 s of history
        assert shown.step == 1
        assert not scene.hidden.any() and scene.clip_plane is None
        assert session.active_quantity == "vibration"
        held = store.time_range()
        assert held is not None
        assert shown.twin_time == pytest.approx(held[0] + 60.0 + 30.0)
        plotter.render()
        assert set(ts.callouts.labels) == {"l3_fan_vibration", "l3_fan_bearing_temperature"}
        text = ts.callouts.labels["l3_fan_vibration"].GetInput()
        value = store.at(shown.twin_time)[0][session.sensor_index["l3_fan_vibration"]]
        assert "mm/s" in text and f"{value:.2f}" in text
        assert all(ts.callouts.placed.values())  # both on screen
        ts.show(0.0)  # back to the first step: the quantity undone
        assert session.active_quantity is None
        assert not ts.callouts.labels
        ts.close()
    finally:
        plotter.close()
        session.close()


def test_encoding_by_suffix():
    assert choose_encoding("a.mp4").codec == "libx264"
    assert choose_encoding("a.WEBM").codec == "libvpx-vp9"
    with pytest.raises(VideoError, match=r"\.mp4 \(H\.264\) or \.webm"):
        choose_encoding("a.avi")


def test_cli_tour_and_replay(mine: tuple[Path, float], tmp_path: Path, capsys):
    path, _ = mine
    assert main(["tour", str(path), "--list"]) == 0
    assert "First day\t2 steps\t5 s" in capsys.readouterr().out
    assert main(["tour", str(path), "Nope", "-o", str(tmp_path / "x.mp4")]) == 2
    assert "no tour 'Nope'" in capsys.readouterr().err
    assert main(["tour", str(path), "First day", "-o", str(tmp_path / "x.avi")]) == 2
    args = ["replay", str(path), "--from", "start+70s", "--to", "start+10s"]
    assert main([*args, "-o", str(tmp_path / "r.mp4")]) == 2
    assert "is not after" in capsys.readouterr().err
    args = ["replay", str(path), "--from", "yesterday", "--to", "end"]
    assert main([*args, "-o", str(tmp_path / "r.mp4")]) == 2
    assert "--from" in capsys.readouterr().err
    blocked = tmp_path / "file"
    blocked.write_text("")
    out = blocked / "r.mp4"  # a folder that cannot exist
    args = ["replay", str(path), "--from", "start", "--to", "start+30s", "--speed", "30"]
    assert main([*args, "--size", "160x120", "--fps", "2", "-o", str(out)]) == 1
    assert "cannot be written" in capsys.readouterr().err
    out = tmp_path / "r.mp4"
    assert main([*args, "--size", "160x120", "--fps", "2", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    frames, container = decode(out)
    container.close()
    assert len(frames) == 2 and not math.isnan(frames[0].mean())
