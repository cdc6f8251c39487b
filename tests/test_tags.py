"""`twinviewer tags PROJECT import`: tag lists (CSV, Excel) into a real project on a real model."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import CORPUS
from twinviewer.cli import main
from twinviewer.commands.check import check
from twinviewer.core.project import load_project
from twinviewer.core.tags import TagFileError, detect_columns, parse_tags

MODEL = CORPUS / "meshes" / "gltf" / "no_indices_3storybuilding.glb"

PROJECT = """\
# The office building: written by hand, comments must survive every import.
name: Office block
models: [{model}]

components:
  floors: {{glob: "floor_*"}}   # every storey

sensors:
  # ground floor
  - {{id: F0_T, quantity: temperature, unit: degC, component: floor_0, range: [0, 100],
      warning: {{high: 60}}, alarm: {{high: 80}}}}
  - id: F1_T  # first floor
    quantity: temperature
    unit: degC
    component: floor_1
    range: [0, 100]
    position: [1, 2, 3]

sources:
  - type: opcua
    id: plc
    enabled: false
    endpoint: opc.tcp://127.0.0.1:4840
    nodes:
      F0_T: ns=2;s=Floor0.Temp   # the old PLC tag
  - type: mqtt
    id: bms
    enabled: false
    url: mqtt://127.0.0.1:1883
    topic: "building/{{component}}/{{sensor}}"
# end of file
"""

CSV = """\
Tag,Description,Eng Units,Equipment,Min,Max,Alarm High,High,Address,Notes
F2_CO,Second floor CO,ppm,floor_2,0,50,35,25,building/floor_2/F2_CO,ok
F2_HUM,Second floor humidity,%,floor_2,0,100,,,ns=2;s=Floor2.Hum,
F1_P,First floor pressure,kPa,flor_1,90,110,,,,typo in the component
BAD_MIN,Broken min,degC,floor_0,abc,10,,,,
BAD_ORDER,Alarm below warning,degC,floor_0,0,100,50,60,,
,no tag,degC,floor_0,0,1,,,,
F2_CO,the same tag again,ppm,floor_2,0,50,,,,
F0_T,"Ground floor temperature, updated",degC,floor_0,0,120,90,70,ns=2;s=Floor0.T,
F2_DP,Diff pressure,Pa,floor_2,0,500,,,site/x/F2_DP,
"""


@pytest.fixture
def project(tmp_path: Path, corpus: Path) -> Path:
    p = tmp_path / "office.twin.yaml"
    p.write_text(PROJECT.format(model=MODEL))
    return p


def comment_lines(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def test_csv_import_reports_bad_rows_and_imports_the_good(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = tmp_path / "tags.csv"
    tags.write_text(CSV)
    before = project.read_text()
    assert main(["tags", str(project), "import", str(tags)]) == 1  # bad rows: exit 1
    out, err = capsys.readouterr()
    assert "9 tags: 5 good, 4 bad" in out
    assert "line 5 'BAD_MIN': min 'abc' is not a number" in err
    assert "line 6 'BAD_ORDER':" in err and "must not be below warning.high" in err
    assert "line 7: no tag id" in err
    assert "line 8 'F2_CO': the id repeats line 2" in err
    assert "not read: 'Notes'" in out
    # the typo'd component is imported, listed as UNBOUND with the component it meant
    assert "UNBOUND (1)" in out
    assert "line 4: 'F1_P': component 'flor_1'; did you mean 'floor_1'" in out
    # addresses: the OPC UA ones into the opcua source, the topic the template reaches counted,
    # the one it does not listed with the reason
    assert "OPC UA: 2 node ids into source 'plc' nodes" in out
    assert "MQTT: 1 topics reached by source 'bms'" in out
    assert "line 10: 'F2_DP': 'site/x/F2_DP': no mqtt source's topic template" in out
    assert "sensors 4 added, 1 updated, 0 unchanged" in out

    p, _ = load_project(project)
    by_id = {s.id: s for s in p.sensors}
    assert [s.id for s in p.sensors] == ["F0_T", "F1_T", "F2_CO", "F2_HUM", "F1_P", "F2_DP"]
    co = by_id["F2_CO"]
    assert (co.name, co.unit, co.component, co.range) == (
        "Second floor CO",
        "ppm",
        "floor_2",
        (0, 50),
    )
    assert co.warning is not None and co.warning.high == 25
    assert co.alarm is not None and co.alarm.high == 35
    assert co.quantity == "gas"  # from the unit, there being no quantity column
    assert by_id["F2_HUM"].quantity == "humidity"  # from the name
    # updated in place: the columns of the list replace, the rest (quantity) is kept
    f0 = by_id["F0_T"]
    assert f0.name == "Ground floor temperature, updated" and f0.range == (0, 120)
    assert f0.quantity == "temperature" and f0.alarm is not None and f0.alarm.high == 90
    assert by_id["F1_T"].position == (1, 2, 3)  # not in the list: untouched
    plc = next(s for s in p.sources if s.id == "plc")
    assert plc.nodes == {"F0_T": "ns=2;s=Floor0.T", "F2_HUM": "ns=2;s=Floor2.Hum"}
    # every comment of the file is still there, in order (the updated item's own line went)
    after = project.read_text()
    assert comment_lines(after) == comment_lines(before)
    assert after.startswith("# The office building") and after.endswith("# end of file\n")

    # check now fails on the unbound tag, naming what it meant
    report = check(project)
    errors = [str(e) for e in report.problems if e.severity == "error"]
    assert len(errors) == 1 and "did you mean 'floor_1'?" in errors[0] and "'F1_P'" in errors[0]


def test_reimport_updates_in_place_and_never_duplicates(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = tmp_path / "tags.csv"
    tags.write_text("Tag,Unit,Component,Range\nF9_T,degC,floor_2,0-90\nF0_T,degC,floor_0,0-100\n")
    assert main(["tags", str(project), "import", str(tags)]) == 0
    assert "1 added, 0 updated, 1 unchanged" in capsys.readouterr().out
    once = project.read_text()
    assert main(["tags", str(project), "import", str(tags)]) == 0
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert project.read_text() == once  # nothing to change: not a byte
    tags.write_text("Tag,Unit,Component,Range\nF9_T,degC,floor_2,-10..90\n")
    assert main(["tags", str(project), "import", str(tags)]) == 0
    assert "0 added, 1 updated, 0 unchanged" in capsys.readouterr().out
    p, _ = load_project(project)
    assert [s.id for s in p.sensors].count("F9_T") == 1
    assert next(s for s in p.sensors if s.id == "F9_T").range == (-10, 90)


def test_xlsx_with_numbers_and_row_numbers(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Instruments"
    ws.append(["Instrument list, building B"])  # a title row above the header is not a header
    ws.delete_rows(1)
    ws.append(["Tag Name", "Descriptor", "UOM", "Asset", "LRV", "URV", "HH", "Node ID"])
    ws.append(["F0_RH", "Ground floor humidity", "%", "floor_0", 0, 100, 95.5, "ns=3;i=1001"])
    ws.append(["F1_V", "Vibration", "mm/s", "floor_1", 0, "twelve", None, None])
    ws.append([None, None, None, None, None, None, None, None])
    ws.append(["F2_T", "Top floor temperature", "degC", "floor_2", -20, 60, 55, None])
    book.save(tmp_path / "tags.xlsx")
    assert main(["tags", str(project), "import", str(tmp_path / "tags.xlsx")]) == 1
    out, err = capsys.readouterr()
    assert "3 tags: 2 good, 1 bad" in out
    assert "row 3 'F1_V': max 'twelve' is not a number" in err
    p, _ = load_project(project)
    rh = next(s for s in p.sensors if s.id == "F0_RH")
    assert rh.range == (0, 100) and rh.alarm is not None and rh.alarm.high == 95.5
    assert next(s for s in p.sensors if s.id == "F2_T").quantity == "temperature"
    assert next(s for s in p.sources if s.id == "plc").nodes["F0_RH"] == "ns=3;i=1001"


def test_map_names_columns_the_headers_do_not(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = tmp_path / "odd.csv"
    tags.write_text("Kennung;Art;Einheit;Anlage;Bereich\nT_EG;Temperatur;degC;floor_0;0..40\n")
    assert main(["tags", str(project), "import", str(tags)]) == 1
    assert "no tag id column" in capsys.readouterr().err
    mapped = ["--map", "Kennung=id", "--map", "Art=quantity", "--map", "Einheit=unit"]
    mapped += ["--map", "anlage=component", "--map", "Bereich=range"]
    assert main(["tags", str(project), "import", str(tags), *mapped, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "1 added" in out
    assert "T_EG" not in project.read_text()  # a dry run writes nothing
    assert main(["tags", str(project), "import", str(tags), *mapped]) == 0
    s = next(s for s in load_project(project)[0].sensors if s.id == "T_EG")
    assert (s.quantity, s.component, s.range) == ("Temperatur", "floor_0", (0, 40))
    with pytest.raises(TagFileError, match="unknown field 'colour'"):
        detect_columns(["Tag"], {"Tag": "colour"})
    assert main(["tags", str(project), "import", str(tags), "--map", "Nope=id"]) == 1
    assert "no column 'Nope'" in capsys.readouterr().err


def test_header_synonyms_and_mqtt_template_suggestion(tmp_path: Path) -> None:
    assert detect_columns(
        ["TAGNAME", "Eng. Units", "Equipment", "EU Range", "Warning Low", "LL", "MQTT Topic"]
    ) == {
        "id": 0,
        "unit": 1,
        "component": 2,
        "range": 3,
        "warning_low": 4,
        "alarm_low": 5,
        "address": 6,
    }
    tags = tmp_path / "t.csv"
    tags.write_text(
        "tag\tunit\trange\tcomponent\ttopic\nA1\tbar\t0-10\tfloor_0\tplant/floor_0/A1\n"
    )
    table = parse_tags(tags)
    assert table.where == "line" and table.rows[0].sensor.quantity == "pressure"
    assert table.rows[0].address == "plant/floor_0/A1"
    from twinviewer.core.project import Project
    from twinviewer.core.tags import plan_bindings

    bare = Project.model_validate({"models": ["m.glb"], "sensors": []})
    plan = plan_bindings(table.rows, bare)
    assert plan.unbound[0][3] == "the project has no mqtt source"
    assert plan.notes == [
        "an mqtt source with topic: 'plant/{component}/{sensor}' would reach all 1 of these topics"
    ]


def test_tags_bound_by_pattern_are_not_unbound(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The component column may hold what a sensor's component may: a glob or re:<regex>."""
    tags = tmp_path / "tags.csv"
    tags.write_text(
        "Tag,Unit,Equipment,Min,Max\n"
        "ALL_T,degC,floor_*,0,100\n"
        "LOW_T,degC,re:floor_[01],0,100\n"
        "NONE_T,degC,roof_*,0,100\n"
    )
    assert main(["tags", str(project), "import", str(tags)]) == 0
    out = capsys.readouterr().out
    assert "UNBOUND (1)" in out and "'NONE_T': component 'roof_*'" in out
    assert "ALL_T" not in out.split("UNBOUND")[1] and "LOW_T" not in out.split("UNBOUND")[1]
