"""Tours in the project file: saving and deleting one keeps the rest of the file as it was,
and mistakes are reported with the tour, the step and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinviewer.core.project import ProjectError, load_project
from twinviewer.core.project_edit import ProjectEditError, delete_tour, save_tour
from twinviewer.core.project_tours import Tour

HEAD = """\
# yaml-language-server: $schema=../docs/twin-project.schema.json
# The pump house: written by hand, with comments that must survive.
name: Pump house   # the title bar shows this
models: [model.glb]
components:
  pumps: {glob: "pump_*"}   # both pumps
  tank: {name: tank}
sensors:
  - id: P1_TEMP
    quantity: temperature
    unit: degC
    component: pumps
    range: [10, 90]
    alarm: {high: 80}
  - id: P1_VIB
    quantity: vibration
    unit: mm/s
    component: pumps
    range: [0, 12]
views:
  - {name: Pumps, position: [5, -5, 3], focal_point: [0, 0, 1]}
overlays:
  - name: Thermal
    result: thermal.vtu
"""

TOURS = """\
tours:
  # The first tour: a short one.
  - name: Intro
    steps:
      - title: Overview   # kept as written
        view: iso
        dwell: 3
  # Between the tours.
  - name: Pumps
    description: What the pumps do
    steps:
      - title: The pumps
        view: Pumps
        caption: |
          Two pumps.
          Watch the bearing temperature.
        callouts: [P1_TEMP]
# After the tours.
"""

TAIL = """\
display:
  background: "#101010"   # darker
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.twin.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def rich_tour(name: str = "Training") -> Tour:
    """A tour using every kind of value a step can hold."""
    return Tour.model_validate(
        {
            "name": name,
            "description": "The pumps, the tank and the overheating of pump 1 in March.",
            "steps": [
                {
                    "title": "The pump house",
                    "caption": "Two **centrifugal pumps** fill the tank; each has a bearing "
                    "temperature and a vibration sensor on its drive end. *Green* is normal, "
                    "amber a warning and red an alarm: watch the temperature first.",
                    "camera": {
                        "position": [10.5, -8.25, 6.0],
                        "focal_point": [0, 0, 1],
                        "up": [0, 0, 1],
                        "view_angle": 35,
                    },
                    "transition": {"type": "fly", "duration": 3, "easing": "out"},
                    "highlight": ["pumps"],
                    "transparent": ["tank"],
                    "dwell": 8,
                },
                {
                    "title": "Inside the tank",
                    "caption": "Line one.\nLine two: with a colon.\n\n- a list item",
                    "view": "Pumps",
                    "transition": {"type": "cut"},
                    "isolate": ["tank", "pumps"],
                    "hide": ["pump_2"],
                    "section": {"origin": [0, 0, 1.5], "normal": [1, 0, 0]},
                    "colour": "temperature",
                    "overlay": "Thermal",
                    "time": "2026-03-02T10:15:00Z",
                    "dwell": "wait",
                },
                {
                    "title": "The overheating, replayed",
                    "time": {"from": "start+170s", "to": "end-2m", "speed": 20},
                    "callouts": ["P1_TEMP", {"sensor": "P1_VIB", "label": "Vibration: DE"}],
                    "colour": "status",
                    "question": {
                        "text": "What warned first?",
                        "answers": ["the temperature", "the vibration", "yes", "#3, the tank"],
                        "correct": 2,
                        "explanation": "The vibration rose 40 s before 80 °C — early.",
                    },
                },
                {"title": "Live", "time": "live", "dwell": 0.125},
            ],
        }
    )


def tours_of(path: Path) -> list[dict]:
    project, _ = load_project(path)
    return [t.model_dump() for t in project.tours]


# -- saving a tour ----------------------------------------------------------------------------


def test_save_appends_and_round_trips(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    tour = rich_tour()
    save_tour(path, tour)
    text = path.read_text(encoding="utf-8")
    # Everything that was there is still there, byte for byte, in order.
    # (the new tour goes after the last one, before the comment that follows the list)
    head, tail = (HEAD + TOURS).split("# After the tours.\n")
    assert text.startswith(head)
    assert text.endswith("# After the tours.\n" + TAIL)
    assert text[len(head) :].startswith("  - name: Training\n")
    # The tour reads back as the same model, after the two that were there.
    got = tours_of(path)
    assert [t["name"] for t in got] == ["Intro", "Pumps", "Training"]
    assert got[2] == tour.model_dump()


def test_written_tour_is_readable_block_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD)
    save_tour(path, rich_tour())
    text = path.read_text(encoding="utf-8")
    assert "\ntours:\n  - name: Training\n" in text
    assert "        camera:\n          position: [10.5, -8.25, 6]\n" in text
    assert "transition: {type: fly, duration: 3, easing: out}" in text
    assert "time: {from: start+170s, to: end-2m, speed: 20}" in text
    assert "callouts:\n          - P1_TEMP\n          - sensor: P1_VIB\n" in text
    assert 'label: "Vibration: DE"' in text
    assert "highlight: [pumps]" in text
    assert 'time: "2026-03-02T10:15:00Z"' in text  # quoted: YAML would read a timestamp
    # A long caption is folded over several lines; none is much wider than the page.
    assert "caption: >-\n" in text
    assert max(len(line) for line in text.split("\n")) <= 100
    # Defaults are left out.
    assert "easing: in_out" not in text and "up:" not in text and "explanation: ''" not in text


def test_save_creates_the_key_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TAIL)
    save_tour(path, rich_tour())
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEAD + TAIL)
    assert text[len(HEAD + TAIL) :].startswith("\ntours:\n  - name: Training\n")
    assert tours_of(path) == [rich_tour().model_dump()]


def test_save_without_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path, (HEAD + TAIL).rstrip("\n"))
    save_tour(path, rich_tour())
    assert path.read_text().startswith(HEAD + TAIL)
    assert tours_of(path) == [rich_tour().model_dump()]


def test_replace_keeps_position_and_neighbours(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    before = tours_of(path)
    save_tour(path, rich_tour("Renamed intro"), replace="Intro")
    got = tours_of(path)
    assert [t["name"] for t in got] == ["Renamed intro", "Pumps"]
    assert got[0] == rich_tour("Renamed intro").model_dump()
    assert got[1] == before[1]
    text = path.read_text()
    # The comment before the replaced tour, the other tour and everything after are untouched.
    assert text.startswith(HEAD + "tours:\n  # The first tour: a short one.\n  - name: Renamed")
    second = TOURS[TOURS.index("  # Between the tours.") :]
    assert text.endswith(second + TAIL)
    assert "title: Overview" not in text


def test_replace_by_name_without_replace_argument(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    tour = rich_tour("Pumps")
    save_tour(path, tour)
    got = tours_of(path)
    assert [t["name"] for t in got] == ["Intro", "Pumps"]
    assert got[1] == tour.model_dump()
    text = path.read_text()
    assert text.endswith("# After the tours.\n" + TAIL)
    assert "Two pumps." not in text  # the old tour's block caption went with it


def test_replace_of_a_missing_tour_appends(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS)
    save_tour(path, rich_tour(), replace="Gone meanwhile")
    assert [t["name"] for t in tours_of(path)] == ["Intro", "Pumps", "Training"]


def test_saving_twice_gives_the_same_file(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    save_tour(path, rich_tour())
    once = path.read_bytes()
    save_tour(path, rich_tour())
    assert path.read_bytes() == once


def test_delete_tour(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    delete_tour(path, "Intro")
    text = path.read_text()
    assert [t["name"] for t in tours_of(path)] == ["Pumps"]
    assert "title: Overview" not in text
    assert text.startswith(HEAD + "tours:\n  # The first tour: a short one.\n  # Between")
    assert text.endswith("# After the tours.\n" + TAIL)
    delete_tour(path, "Pumps")
    assert tours_of(path) == []
    text = path.read_text()
    assert text.startswith(HEAD + "tours: []\n")
    assert text.endswith("# After the tours.\n" + TAIL)
    # and a tour can be added to the empty list again
    save_tour(path, rich_tour())
    assert [t["name"] for t in tours_of(path)] == ["Training"]
    assert path.read_text().endswith(TAIL)


def test_delete_unknown_tour_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS)
    with pytest.raises(ProjectEditError, match="no tour named 'Nope'.*'Intro', 'Pumps'"):
        delete_tour(path, "Nope")
    assert path.read_text() == HEAD + TOURS


def test_flow_style_tours_become_a_block(tmp_path: Path) -> None:
    flow = "tours: [{name: Intro, steps: [{title: Overview, view: iso, dwell: 3}]}]  # short\n"
    path = write(tmp_path, HEAD + flow + TAIL)
    intro = tours_of(path)[0]
    save_tour(path, rich_tour())
    text = path.read_text()
    assert text.startswith(HEAD + "tours:  # short\n  - name: Intro\n")
    assert text.endswith(TAIL)
    got = tours_of(path)
    assert got == [intro, rich_tour().model_dump()]
    # an empty flow list too
    for empty in ("tours: []\n", "tours: [   ]   # none yet\n"):
        path = write(tmp_path, HEAD + empty + TAIL)
        save_tour(path, rich_tour())
        assert tours_of(path) == [rich_tour().model_dump()]
        assert path.read_text().endswith(TAIL)


def test_zero_indented_list_and_crlf(tmp_path: Path) -> None:
    text = HEAD + TOURS.replace("\n  ", "\n") + TAIL
    path = tmp_path / "t.twin.yaml"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    save_tour(path, rich_tour())
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # still CRLF throughout
    assert b"\r\n- name: Training\r\n" in raw
    assert [t["name"] for t in tours_of(path)] == ["Intro", "Pumps", "Training"]


def test_invalid_tour_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + TOURS + TAIL)
    before = path.read_bytes()
    bad = rich_tour()
    bad.steps[2].callouts[0].sensor = "NO_SUCH_SENSOR"
    with pytest.raises(ProjectEditError) as info:
        save_tour(path, bad)
    message = str(info.value)
    assert "unchanged" in message
    assert "tour 'Training', step 3 ('The overheating, replayed'): callouts: unknown sensor" in (
        message
    )
    assert str(path) in message and ".tmp" not in message
    assert path.read_bytes() == before
    # a name taken by another tour: replacing 'Intro' by a tour named 'Pumps'
    with pytest.raises(ProjectEditError, match="tour name 'Pumps' is used twice"):
        save_tour(path, rich_tour("Pumps"), replace="Intro")
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_invalid_project_is_not_edited(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD.replace("models: [model.glb]\n", "") + TOURS)
    with pytest.raises(ProjectError):
        save_tour(path, rich_tour())


# -- validation: the tour, the step and the key ---------------------------------------------

STEPS = """\
tours:
  - name: Intro
    steps:
      - title: One
        view: iso
      - title: Two
        view: Pumps
      - title: The pumps
        transition: {type: jump}
        callouts: [P1_TEMP]
"""


def problems(tmp_path: Path, text: str) -> list:
    with pytest.raises(ProjectError) as info:
        load_project(write(tmp_path, text))
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


def test_schema_error_names_key_path_and_line(tmp_path: Path) -> None:
    text = HEAD + STEPS
    (p,) = problems(tmp_path, text)
    assert p.key == "tours[0].steps[2].transition.type"
    assert p.line == line_of(text, "        transition: {type: jump}")
    assert "'fly' or 'cut'" in p.message and "'jump'" in p.message


@pytest.mark.parametrize(
    ("bad", "key", "expected"),
    [
        ("        captoin: x\n", "captoin", "title, caption, camera, view, transition,"),
        (
            "        transition: {type: fly, easeing: in}\n",
            "transition.easeing",
            "type, duration, easing",
        ),
        (
            "        time: {from: start+10s, to: start+20s, sped: 2}\n",
            "time.sped",
            "from, to, speed",
        ),
        ("        callouts: [{sensor: P1_TEMP, lable: x}]\n", "callouts[0].lable", "sensor, label"),
        (
            "        question: {text: Q, answers: [a, b], correct: 1, hint: x}\n",
            "question.hint",
            "text, answers, correct, explanation",
        ),
        (
            "        camera: {position: [1, 2, 3], focal_point: [0, 0, 0], fov: 30}\n",
            "camera.fov",
            "position, focal_point, up, view_angle",
        ),
        (
            "        section: {origin: [0, 0, 0], normal: [1, 0, 0], flip: true}\n",
            "section.flip",
            "origin, normal",
        ),
    ],
)
def test_unknown_keys_list_what_the_step_expects(
    tmp_path: Path, bad: str, key: str, expected: str
) -> None:
    steps = STEPS.replace("        transition: {type: jump}\n", "")
    steps = steps.replace("        callouts: [P1_TEMP]\n", "") + bad
    text = HEAD + steps
    (p,) = problems(tmp_path, text)
    assert p.key == f"tours[0].steps[2].{key}"
    assert p.line == line_of(text, bad.rstrip("\n"))
    assert f"unknown key {key.split('.')[-1]!r}; expected one of: {expected}" in p.message


def test_unknown_tour_key_lists_tour_keys(tmp_path: Path) -> None:
    text = HEAD + STEPS.replace("  - name: Intro\n", "  - name: Intro\n    descripton: x\n")
    found = problems(tmp_path, text)
    p = next(p for p in found if "descripton" in p.key)
    assert p.key == "tours[0].descripton"
    assert "expected one of: name, description, steps" in p.message


@pytest.mark.parametrize(
    ("change", "message", "key_line"),
    [
        (
            ("        callouts: [P1_TEMP]", "        callouts: [P1_TEMP, y]"),
            "tour 'Intro', step 3 ('The pumps'): callouts: unknown sensor 'y'",
            "        callouts: [P1_TEMP, y]",
        ),
        (
            ("        view: Pumps", "        view: Pmps"),
            "tour 'Intro', step 2 ('Two'): view: no view 'Pmps'; expected one of Pumps, iso,",
            "        view: Pmps",
        ),
        (
            ("        callouts: [P1_TEMP]", "        callouts: [P1_TEMP]\n        overlay: Heat"),
            "tour 'Intro', step 3 ('The pumps'): overlay: no overlay 'Heat'; expected one of "
            "Thermal",
            "        overlay: Heat",
        ),
        (
            ("        callouts: [P1_TEMP]", "        callouts: [P1_TEMP]\n        colour: speed"),
            "step 3 ('The pumps'): colour: 'speed' is not a colour mode or a quantity of this "
            "twin; expected one of status, health, temperature, vibration",
            "        colour: speed",
        ),
    ],
)
def test_cross_reference_errors_name_tour_step_and_key(
    tmp_path: Path, change: tuple[str, str], message: str, key_line: str
) -> None:
    text = HEAD + STEPS.replace("{type: jump}", "{type: cut}").replace(*change)
    (p,) = problems(tmp_path, text)
    assert message in p.message
    assert p.line == line_of(text, key_line)
    assert p.key.startswith("tours[0].steps[")


def test_bad_times_and_questions(tmp_path: Path) -> None:
    base = HEAD + STEPS.replace("{type: jump}", "{type: cut}")
    text = base.replace("[P1_TEMP]\n", "[P1_TEMP]\n        time: yesterday\n")
    (p,) = problems(tmp_path, text)
    assert p.key == "tours[0].steps[2].time"
    assert "start+170s" in p.message and "'yesterday'" in p.message
    text = base.replace("[P1_TEMP]\n", "[P1_TEMP]\n        time: {from: start+9x, to: end}\n")
    (p,) = problems(tmp_path, text)
    assert p.key == "tours[0].steps[2].time.from"
    question = "        question: {text: Q, answers: [a, b], correct: 3}\n"
    text = base.replace("[P1_TEMP]\n", "[P1_TEMP]\n" + question)
    (p,) = problems(tmp_path, text)
    assert p.key == "tours[0].steps[2].question"
    assert "correct is 3, but there are only 2 answers" in p.message
    text = base.replace(
        "        view: iso\n",
        "        view: iso\n        camera: {position: [1, 0, 0], focal_point: [0, 0, 0]}\n",
    )
    (p,) = problems(tmp_path, text)
    assert p.key == "tours[0].steps[0]" and "camera or view, not both" in p.message
    text = base.replace("        view: iso\n", "        view: iso\n        dwell: forever\n")
    found = problems(tmp_path, text)
    assert {p.key for p in found} == {"tours[0].steps[0].dwell"}, found


def test_tour_names_are_unique(tmp_path: Path) -> None:
    text = HEAD + TOURS.replace("name: Pumps", "name: Intro")
    (p,) = problems(tmp_path, text)
    assert p.message == "tour name 'Intro' is used twice"
    assert p.key == "tours[1].name"
    assert p.line == line_of(text, "  - name: Intro") + 6


# -- twinviewer check ---------------------------------------------------------------------------


def test_check_warns_of_tour_components_the_model_lacks(tmp_path: Path) -> None:
    from twinviewer.commands.check import check
    from twinviewer.session.demos import demo_copy

    path, _ = demo_copy("mine", tmp_path, 0.0, models=False)
    assert not [p for p in check(path).problems if p.key.startswith("tours")]
    tour = Tour.model_validate(
        {
            "name": "Typos",
            "steps": [
                {"title": "Fine", "highlight": ["l3_booster_fan", "hoist", "level_3"]},
                {"title": "Two typos", "highlight": ["l3_boster_fan"], "hide": ["ramp", "sufrace"]},
            ],
        }
    )
    save_tour(path, tour)  # the file is valid: components are only known with the model
    report = check(path)
    assert report.ok  # warnings, not errors: the tour still plays
    found = [p for p in report.problems if p.key.startswith("tours")]
    assert [(p.severity, p.key) for p in found] == [
        ("warning", "tours[1].steps[1].highlight[0]"),
        ("warning", "tours[1].steps[1].hide[1]"),
    ]
    assert found[0].message == (
        "tour 'Typos', step 2 ('Two typos'): highlight: no component 'l3_boster_fan' in the "
        "model or 'components'"
    )
