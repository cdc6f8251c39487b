"""The ``twinviewer`` command line: the parser and the dispatch, nothing else.

Each sub-command is a module of :mod:`twinviewer.commands` that declares its own options
(``add_parser``) and does the work (``run``) with the same functions the GUI uses.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from twinviewer import __version__
from twinviewer.commands import (
    Command,
    audit,
    bench,
    check,
    fidelity,
    history,
    new,
    predict,
    record,
    render,
    replay,
    report,
    review,
    scenario,
    schema,
    simulate,
    tags,
    tour,
    users,
)
from twinviewer.commands import command as send_command
from twinviewer.commands import open as open_window

# the sub-commands, in the order `twinviewer --help` lists them (open also adds demo)
COMMANDS: tuple[Command, ...] = (
    open_window,
    new,
    tags,
    check,
    render,
    fidelity,
    simulate,
    record,
    send_command,
    users,
    audit,
    history,
    scenario,
    predict,
    review,
    report,
    tour,
    replay,
    bench,
    schema,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twinviewer", description="Desktop viewer for industrial digital twins."
    )
    p.add_argument("--version", action="version", version=f"twinviewer {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    run = getattr(args, "run", open_window.run)  # no command: the window's welcome screen
    try:
        return int(run(args))
    except BrokenPipeError:  # `twinviewer ... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
