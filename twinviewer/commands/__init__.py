"""One module per ``twinviewer`` command; :mod:`twinviewer.cli` only parses and dispatches.

Every command module is a :class:`Command`:

* ``add_parser(sub)`` declares its sub-command (``open`` also ``demo``) and the options on the
  ``twinviewer`` parser's sub-parsers, and names its handler with ``set_defaults(run=run)``;
* ``run(args)`` does the work and returns the exit code.

Command modules import their heavy dependencies (pyvista, asyncua, the history stores...)
inside ``run``, so that ``twinviewer --help`` stays fast. None of them imports
:mod:`twinviewer.ui`; only :mod:`twinviewer.commands.open` starts the window, through
:func:`twinviewer.app.run_app`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from typing import TypeAlias

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class Command(Protocol):
    """What :mod:`twinviewer.cli` needs of a command module."""

    def add_parser(self, sub: Subparsers) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...
