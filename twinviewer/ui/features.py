"""The features the window hosts, in the order their docks, menus and toolbar entries appear
and their hooks run (each frame: the live colours first, then overlays and residuals, then the
compared scenario). Adding a capability is one module under ``ui/`` and one line here."""

from __future__ import annotations

from twinviewer.ui.alarms.feature import AlarmsFeature
from twinviewer.ui.authoring import AuthoringFeature
from twinviewer.ui.charts.feature import ChartsFeature
from twinviewer.ui.colouring import ColouringFeature
from twinviewer.ui.commands.feature import CommandsFeature
from twinviewer.ui.components.feature import ComponentsFeature
from twinviewer.ui.control_room import ControlRoomFeature
from twinviewer.ui.data_sources.feature import DataSourcesFeature
from twinviewer.ui.feature import Feature
from twinviewer.ui.files import FilesFeature
from twinviewer.ui.fleet.feature import FleetFeature
from twinviewer.ui.fleet.overview import FleetOverviewFeature
from twinviewer.ui.health.feature import HealthFeature
from twinviewer.ui.help import HelpFeature
from twinviewer.ui.inspector.feature import InspectorFeature
from twinviewer.ui.measure.feature import MeasureFeature
from twinviewer.ui.overlays.add_result import AddResultFeature
from twinviewer.ui.overlays.feature import OverlaysFeature
from twinviewer.ui.report import ReportFeature
from twinviewer.ui.review.feature import ReviewFeature
from twinviewer.ui.scenarios import ScenariosFeature
from twinviewer.ui.section import SectionFeature
from twinviewer.ui.tags_import import TagImportFeature
from twinviewer.ui.timeline.feature import TimelineFeature
from twinviewer.ui.tours.feature import ToursFeature
from twinviewer.ui.unbound_banner import UnboundBannerFeature
from twinviewer.ui.undo import UndoFeature
from twinviewer.ui.video_export import VideoExportFeature
from twinviewer.ui.views import ViewsFeature

FEATURES: list[type[Feature]] = [
    FilesFeature,
    AuthoringFeature,
    UndoFeature,
    ViewsFeature,
    FleetOverviewFeature,
    ComponentsFeature,
    InspectorFeature,
    UnboundBannerFeature,
    ChartsFeature,
    TimelineFeature,
    ColouringFeature,
    DataSourcesFeature,
    ControlRoomFeature,  # before the features that share its state
    AlarmsFeature,
    CommandsFeature,
    HealthFeature,
    FleetFeature,
    OverlaysFeature,
    AddResultFeature,
    ScenariosFeature,
    SectionFeature,
    TagImportFeature,
    MeasureFeature,
    ReviewFeature,
    ReportFeature,
    ToursFeature,
    VideoExportFeature,
    HelpFeature,
]
