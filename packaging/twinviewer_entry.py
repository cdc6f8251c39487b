"""The frozen bundle's entry point (PyInstaller runs this script): the ``twinviewer`` command.

A windowed executable (Windows' ``twinviewer-gui``) has no console, so ``sys.stdout`` and
``sys.stderr`` are None there; they are pointed at the null device so that argparse and logging
never fail on them.
"""

import os
import sys

if __name__ == "__main__":
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process

    from twinviewer.cli import main

    raise SystemExit(main())
