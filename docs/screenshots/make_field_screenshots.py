"""Screenshots of sensor fields on the mine demo: the methane of the four levels' gas sensors
spread along the airways (distance along the mesh), and the same moment spread in a straight
line (inverse distance), which leaks through the rock into the orebody and the surface.

    python docs/screenshots/make_field_screenshots.py

Drawn off-screen with the session's own renderer (what ``twinviewer render --field`` draws), at
256.4 s of the simulated feed, when the four levels read far apart (1.1, 6.3, 2.6, 4.1 %LEL).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from twinviewer.session import TwinSession
from twinviewer.session.field import FieldBook
from twinviewer.session.headless import apply_feed, draw_image

HERE = Path(__file__).resolve().parent
MINE = HERE.parents[1] / "assets" / "mine" / "mine.twin.yaml"
AT = 256.4  # seconds of simulated feed
CAMERA = ((-165.0, -268.0, 22.0), (26.0, 6.0, -100.0), (0.0, 0.0, 1.0))
SHOTS = {"geodesic": "mine-methane-field.png", "idw": "mine-methane-field-idw.png"}


def main() -> int:
    session = TwinSession.open(MINE)
    session.set_active_quantity("methane")
    session.update(apply_feed(session, AT))
    book = FieldBook(session)
    for method, name in SHOTS.items():
        start = time.perf_counter()
        field = book.field("methane", method)
        built = time.perf_counter() - start
        draw_image(
            session,
            (1600, 1000),
            CAMERA,
            session.project.name,
            t=AT,
            when=f"t = {AT:g} s of simulated feed",
            out=HERE / name,
            sensor_field=field,
        )
        sys.stdout.write(f"wrote {name} (weights built in {built:.2f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
