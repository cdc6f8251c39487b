"""BCF 3.0 against another tool's implementation: IfcOpenShell's ``bcf-client`` (the BCF
library of BlenderBIM/Bonsai), whose classes are generated from the buildingSMART XSD and whose
parser refuses elements the schema does not have.

Our export must load there with its topics, comments, viewpoints, components and clipping
planes; a file that library writes must import here.
"""

from __future__ import annotations

from pathlib import Path

import bcf.v3.model as bcf_model
import numpy as np
import pytest
from bcf.v3.bcfxml import BcfXml
from bcf.v3.visinfo import VisualizationInfoHandler
from xsdata.models.datatype import XmlDateTime

from tests.test_bcf import _issues
from twinviewer.review import read_bcf, write_bcf
from twinviewer.review.store import SNAPSHOTS


def test_our_export_loads_in_bcf_client(tmp_path: Path) -> None:
    issues = _issues(tmp_path)
    out = tmp_path / "review.bcf"
    write_bcf(out, issues, tmp_path / SNAPSHOTS)

    bcf = BcfXml.load(out)
    assert bcf is not None and bcf.version.version_id == "3.0"
    topics = {t.topic.title: t for t in bcf.topics.values()}
    assert set(topics) == {"Pump A runs hot", "Label missing"}
    hot = topics["Pump A runs hot"]
    assert hot.guid == issues[0].id
    assert (hot.topic.topic_status, hot.topic.priority) == ("In Progress", "Critical")
    assert [c.comment for c in hot.comments] == ["Looking at it", "Thanks"]
    assert len(hot.viewpoints) == 2
    main = next(v for v in hot.viewpoints.values() if v.visualization_info.perspective_camera)
    info = main.visualization_info
    cam = info.perspective_camera
    assert (cam.camera_view_point.x, cam.camera_view_point.y, cam.camera_view_point.z) == (
        10.0,
        -20.0,
        5.0,
    )
    assert cam.field_of_view == pytest.approx(42.0)
    selected = [c.authoring_tool_id for c in info.components.selection.component]
    assert "pump_a" in selected
    (plane,) = info.clipping_planes.clipping_plane
    assert (plane.location.z, plane.direction.z) == (3.0, 1.0)
    assert main.snapshot is not None and main.snapshot.startswith(b"\x89PNG")
    ortho = next(v for v in hot.viewpoints.values() if v.visualization_info.orthogonal_camera)
    assert ortho.visualization_info.orthogonal_camera.view_to_world_scale == pytest.approx(15.0)


def test_a_file_written_by_bcf_client_imports(tmp_path: Path) -> None:
    bcf = BcfXml.create_new("Plant review")
    topic = bcf.add_topic(
        "Clash at the fan housing", "Guard touches the housing", "dana", "Clash", "Open"
    )
    topic.topic.priority = "High"
    topic.comments = [
        bcf_model.Comment(
            guid="6c1b2b2e-8f8e-4a4e-9d0a-2b8a9b1e0c11",
            date=XmlDateTime.from_string("2026-11-30T10:00:00Z"),
            author="eli",
            comment="Confirmed on site",
        )
    ]
    handler = VisualizationInfoHandler.create_from_point_and_guids(
        np.array([4.0, 5.0, 6.0]), "0fL8W5$zL0AxWbWZJBnYQp"
    )
    info = handler.visualization_info
    info.components.selection.component.append(bcf_model.Component(authoring_tool_id="l3_fan"))
    topic.viewpoints["viewpoint.bcfv"] = handler
    topic.topic.viewpoints = bcf_model.TopicViewpoints(
        view_point=[bcf_model.ViewPoint(viewpoint="viewpoint.bcfv", guid=info.guid)]
    )
    out = tmp_path / "from-bcf-client.bcf"
    bcf.save(out)

    found = read_bcf(out, known_components=["l3_fan", "pump_a"])
    (issue,) = found.issues
    assert issue.title == "Clash at the fan housing"
    assert (issue.status, issue.priority, issue.topic_type) == ("open", "high", "Clash")
    assert [(c.author, c.text) for c in issue.comments] == [("eli", "Confirmed on site")]
    assert issue.viewpoint is not None
    assert "l3_fan" in issue.viewpoint.selection
    written = info.perspective_camera.camera_view_point
    assert issue.viewpoint.camera.position == pytest.approx((written.x, written.y, written.z))
    # the IFC element (no TwinViewer component) is kept with a warning, not dropped
    assert any("0fL8W5$zL0AxWbWZJBnYQp" in w for w in found.warnings)
