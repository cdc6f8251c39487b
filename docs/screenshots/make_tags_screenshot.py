"""The tag list import's preview (*Data > Import tag list…*) on a copy of the mine demo.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_tags_screenshot.py

The tag list is what a plant hands over: semicolons, its own column names (LRV/URV, H/HH, an
OPC item), an *Area* column nothing reads, a row whose range is "n/a", one without a tag, and
equipment names spelled the plant's way. One unbound tag is bound to its suggestion, as a user
would, before the shot; the Unbound tab is in front.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from make_screenshots import pump

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow
from twinviewer.ui.tags_import import TagImportFeature

HERE = Path(__file__).resolve().parent
NAME = "tag-import.png"

TAGS = """\
Tag No;Description;EU;Equipment;LRV;URV;H;HH;OPC Item;Area
L4-P1-FT01;Pump 1 discharge flow;m3/h;l4_pump_1;0;250;220;240;"ns=2;s=L4.P1.FT01";Level 4
L4-P2-FT01;Pump 2 discharge flow;m3/h;l4_pump_2;0;250;220;240;"ns=2;s=L4.P2.FT01";Level 4
L4-P3-FT01;Pump 3 discharge flow;m3/h;l4_pump_3;0;250;220;240;"ns=2;s=L4.P3.FT01";Level 4
L4-CR-TT01;Crusher motor winding T;degC;l4_crusher_motor;0;180;140;155;"ns=2;s=L4.CR.TT01";Level 4
L4-CV-ST01;Conveyor belt speed;m/s;l4_conveyor;0;5;;;"ns=2;s=L4.CV.ST01";Level 4
L4-SS-IT01;Substation incomer current;A;l4_substation;0;n/a;;;"ns=2;s=L4.SS.IT01";Level 4
L3-BF-VT01;Booster fan 3 vibration;mm/s;L3 Booster Fan;0;12;7.1;11;"ns=2;s=L3.BF.VT01";Level 3
L3-RC-AT01;Refuge chamber CO2;ppm;l3_refuge_chamber;0;5000;1000;5000;"ns=2;s=L3.RC.AT01";Level 3
L2-BF-VT01;Booster fan 2 vibration;mm/s;l2_booster_fan;0;12;7.1;11;"ns=2;s=L2.BF.VT01";Level 2
;Spare;;;;;;;;Level 2
L1-SS-IT01;Substation incomer current;A;l1_substation;0;400;350;380;"ns=2;s=L1.SS.IT01";Level 1
SF-WT-LT01;Water tank level;%;surface_water_tnk;0;100;90;95;"ns=2;s=SF.WT.LT01";Surface
SF-AR-PT01;Air receiver pressure;bar;surface_air_receiver;0;10;8;9;"ns=2;s=SF.AR.PT01";Surface
SF-HM-TT01;Hoist motor bearing temp;degC;hoist_motor;0;120;90;105;"ns=2;s=SF.HM.TT01";Surface
"""


def main() -> int:
    app = create_app()
    folder = Path(tempfile.mkdtemp(prefix="tv-tags-"))
    project, _ = demo_copy("mine", folder, 0.0, models=False)
    tags = folder / "mine-tag-list.csv"
    tags.write_text(TAGS)

    w = QtMainWindow()
    w.resize(1600, 1000)
    w.show()
    w.open_project(project, sources=[])
    while w.session is None:
        pump(app, 0.2)
    pump(app, 1.0)
    dialog = w.feature(TagImportFeature).preview(tags)
    if dialog is None:
        sys.stderr.write("the preview did not open\n")
        return 1
    dialog.resize(1280, 820)
    dialog.unbound_combo("SF-WT-LT01").setCurrentIndex(1)  # bind the first to its suggestion
    dialog.tabs.setCurrentIndex(2)
    pump(app, 1.0)
    dialog.grab().save(str(HERE / NAME))
    sys.stdout.write(f"wrote {HERE / NAME}\n")
    dialog.reject()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
