"""``twinviewer schema``: the JSON Schema of the project file, to stdout or ``-o FILE``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    s = sub.add_parser("schema", help="print the JSON Schema of the project file")
    s.add_argument("-o", "--output", type=Path, help="write it to this file")
    s.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from twinviewer.core.project import project_json_schema

    text = project_json_schema()
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0
