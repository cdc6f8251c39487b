"""BCF 3.0 exchange: our own files round trip, another tool's file imports, non-BCF is refused."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from twinviewer.review import (
    BcfError,
    Camera,
    ClipPlane,
    Comment,
    Viewpoint,
    new_issue,
    read_bcf,
    write_bcf,
    write_snapshot,
)
from twinviewer.review.store import SNAPSHOTS

T0 = 1.7e9


def _png(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", width, height) + b"..."


def _issues(folder: Path):
    main = Viewpoint(
        camera=Camera(position=(10, -20, 5), focal_point=(1, 2, 3), up=(0, 0, 1), view_angle=42),
        selection=["pump_a", "ifc:0fL8W5$zL0AxWbWZJBnYQp"],
        hidden=["roof"],
        section=ClipPlane(origin=(0, 0, 3), normal=(0, 0, 1)),
        overlay="stress",
        colour_mode="quantity",
        time=T0,
    )
    ortho = Viewpoint(
        camera=Camera(
            position=(0, 0, 50),
            focal_point=(0, 0, 0),
            up=(0, 1, 0),
            parallel=True,
            parallel_scale=7.5,
        ),
        shown_only=["pump_a", "pump_b"],
        snapshot="plan.png",
    )
    hot = new_issue(
        "Pump A runs hot",
        "ann",
        text="Bearing temperature\nabove the warning limit.",
        component="pump_a",
        time=T0 + 12.5,
        point=(1.0, 2.0, 3.25),
        priority="critical",
        labels=["thermal"],
        values={"pump_a_T": 81.25, "pump_a_vib": 4.5},
        viewpoint=main,
    )
    hot.other_viewpoints.append(ortho)
    hot.snapshot = f"{hot.id}.png"
    hot.assigned_to = "bob"
    hot.status = "in_progress"
    hot.comments += [
        Comment(
            author="bob", text="Looking at it", date="2026-11-24T03:12:00Z", viewpoint_id=ortho.id
        ),
        Comment(author="ann", text="Thanks", date="2026-11-24T04:00:00Z"),
    ]
    plain = new_issue("Label missing", "carl")
    write_snapshot(folder, hot.snapshot, _png(1600, 1000))
    write_snapshot(folder, "plan.png", _png(800, 800))
    return [hot, plain]


def test_round_trip(tmp_path: Path) -> None:
    issues = _issues(tmp_path)
    out = tmp_path / "review.bcf"
    assert write_bcf(out, issues, tmp_path / SNAPSHOTS) == []
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert etree.fromstring(z.read("bcf.version")).get("VersionId") == "3.0"
        hot = issues[0].id
        assert {f"{hot}/markup.bcf", f"{hot}/viewpoint.bcfv", f"{hot}/snapshot.png"} <= names
        assert "extensions.xml" in names and "documents.xml" in names
        markup = etree.fromstring(z.read(f"{hot}/markup.bcf"))
        topic = markup.find("Topic")
        assert (
            topic.get("TopicStatus") == "In Progress" and topic.findtext("Priority") == "Critical"
        )
        vis = etree.fromstring(z.read(f"{hot}/viewpoint.bcfv"))
        ids = [c.findtext("AuthoringToolId") for c in vis.iter("Component")]
        assert ids[0] == "pump_a" and vis.find(".//Component[@IfcGuid]") is not None
        assert vis.findtext("PerspectiveCamera/AspectRatio") == "1.6"  # from the snapshot

    got = read_bcf(out, known_components=["pump_a", "pump_b", "roof"])
    assert len(got.warnings) == 1 and "IfcGuid only" in got.warnings[0]
    assert [i.id for i in got.issues] == sorted(i.id for i in issues)
    back = {i.id: i for i in got.issues}
    for issue in issues:
        again = back[issue.id]
        skip = {"viewpoint", "other_viewpoints"}
        assert again.model_dump(exclude=skip) == issue.model_dump(exclude=skip)
        for a, b in zip(again.viewpoints(), issue.viewpoints(), strict=True):
            # snapshots come back under names of their own (issue id, viewpoint id): no clashes
            assert a.model_dump(exclude={"camera", "snapshot"}) == b.model_dump(
                exclude={"camera", "snapshot"}
            )
            for key in ("position", "focal_point", "up"):
                assert getattr(a.camera, key) == pytest.approx(getattr(b.camera, key))
            for key in ("view_angle", "parallel", "parallel_scale"):
                assert getattr(a.camera, key) == getattr(b.camera, key)
    hot_again = back[issues[0].id]
    assert got.snapshots[hot_again.snapshot] == _png(1600, 1000)
    assert got.snapshots[hot_again.other_viewpoints[0].snapshot] == _png(800, 800)


def test_missing_snapshot_is_a_warning(tmp_path: Path) -> None:
    issue = new_issue(
        "x",
        "ann",
        viewpoint=Viewpoint(camera=Camera(position=(1, 0, 0), focal_point=(0, 0, 0), up=(0, 0, 1))),
    )
    issue.snapshot = "gone.png"
    warnings = write_bcf(tmp_path / "a.bcf", [issue], tmp_path)
    assert len(warnings) == 1 and "gone.png not found" in warnings[0]


OTHER_GUID = "a0b5c6d7-1234-4abc-9def-00112233aabb"
VP_GUID = "b1c2d3e4-5678-4abc-8def-445566778899"


def _other_tool(path: Path) -> None:
    """A BCF 3.0 file as another tool writes it: minimal markup, an IfcGuid-only component, a
    PerspectiveCamera, a status we do not know, upper-case GUIDs."""
    markup = f"""<?xml version="1.0" encoding="utf-8"?>
<Markup xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Topic Guid="{OTHER_GUID.upper()}" TopicType="Clash" TopicStatus="Waiting for review">
    <Title>Duct clashes with beam</Title>
    <CreationDate>2025-03-01T10:00:00+01:00</CreationDate>
    <CreationAuthor>mep@example.com</CreationAuthor>
    <Comments>
      <Comment Guid="c1c2c3c4-0000-4000-8000-000000000001">
        <Date>2025-03-02T08:00:00Z</Date><Author>arch@example.com</Author>
        <Comment>Move the duct 200 mm down</Comment>
        <Viewpoint Guid="{VP_GUID}"/>
      </Comment>
    </Comments>
    <Viewpoints>
      <ViewPoint Guid="{VP_GUID}"><Viewpoint>viewpoint.bcfv</Viewpoint></ViewPoint>
    </Viewpoints>
  </Topic>
</Markup>"""
    visinfo = f"""<?xml version="1.0" encoding="utf-8"?>
<VisualizationInfo Guid="{VP_GUID}">
  <Components>
    <Selection><Component IfcGuid="2MF28NhmDBiRVyFakgdbCT"/></Selection>
    <Visibility DefaultVisibility="true"/>
  </Components>
  <PerspectiveCamera>
    <CameraViewPoint><X>12</X><Y>-4</Y><Z>3.5</Z></CameraViewPoint>
    <CameraDirection><X>-1</X><Y>0</Y><Z>0</Z></CameraDirection>
    <CameraUpVector><X>0</X><Y>0</Y><Z>1</Z></CameraUpVector>
    <FieldOfView>60</FieldOfView>
    <AspectRatio>1.5</AspectRatio>
  </PerspectiveCamera>
</VisualizationInfo>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bcf.version", '<?xml version="1.0"?><Version VersionId="3.0"/>')
        z.writestr(f"{OTHER_GUID.upper()}/markup.bcf", markup)
        z.writestr(f"{OTHER_GUID.upper()}/viewpoint.bcfv", visinfo)


def test_another_tools_file_imports_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "other.bcf"
    _other_tool(path)
    got = read_bcf(path, known_components=["pump_a"])
    assert len(got.issues) == 1
    issue = got.issues[0]
    assert issue.id == OTHER_GUID and issue.title == "Duct clashes with beam"
    assert issue.created == "2025-03-01T09:00:00Z" and issue.author == "mep@example.com"
    assert issue.topic_type == "Clash"
    assert issue.status == "open" and "bcf-status:Waiting for review" in issue.labels
    assert issue.viewpoint is not None and issue.viewpoint.id == VP_GUID
    assert issue.viewpoint.selection == ["ifc:2MF28NhmDBiRVyFakgdbCT"]
    cam = issue.viewpoint.camera
    assert cam.position == (12, -4, 3.5) and cam.view_angle == 60 and not cam.parallel
    assert cam.focal_point[0] < cam.position[0]  # looking along -X
    assert issue.comments[0].viewpoint_id == VP_GUID
    assert any("2MF28NhmDBiRVyFakgdbCT" in w for w in got.warnings)
    # and back out: the other tool gets its own status text again, and its IfcGuid
    write_bcf(tmp_path / "back.bcf", got.issues)
    with zipfile.ZipFile(tmp_path / "back.bcf") as z:
        topic = etree.fromstring(z.read(f"{OTHER_GUID}/markup.bcf")).find("Topic")
        assert topic.get("TopicStatus") == "Waiting for review"
        assert topic.find("Labels") is None
        vis = etree.fromstring(z.read(f"{OTHER_GUID}/viewpoint.bcfv"))
        assert vis.find("Components/Selection/Component").get("IfcGuid") == "2MF28NhmDBiRVyFakgdbCT"


def test_not_bcf_is_a_clear_error(tmp_path: Path) -> None:
    zipped = tmp_path / "photos.bcf"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("holiday.jpg", b"not really")
    with pytest.raises(BcfError, match="not a BCF file: no bcf.version"):
        read_bcf(zipped)
    text = tmp_path / "notes.bcf"
    text.write_text("hello")
    with pytest.raises(BcfError, match="not a BCF file"):
        read_bcf(text)
    odd = tmp_path / "odd.bcf"
    with zipfile.ZipFile(odd, "w") as z:
        z.writestr("bcf.version", '<Version VersionId="9.9"/>')
    with pytest.raises(BcfError, match=r"expected <Version VersionId=\"3.0\">"):
        read_bcf(odd)
