"""``twinviewer simulate``: publish a project's simulated feed.

To an MQTT broker (``--mqtt``, :func:`twinviewer.sources.mqtt_publish.publish_mqtt`) or as an
OPC UA server (``--opcua-server``, :func:`twinviewer.sources.opcua_server.serve_opcua`), until
``--duration`` has passed or Ctrl+C; then the statistics as one JSON line.

Both obey the project's ``commands:``: the publisher those that reach its broker, the server
those with OPC UA targets (writable nodes and methods). The server signs users in against the
project's user file (``command_settings.users``, made with ``twinviewer users``) and lets only
those whose role allows write a command node or call a command method; without a user file
everyone is a viewer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from twinviewer.commands import Subparsers
    from twinviewer.core.project import Project


def add_parser(sub: Subparsers) -> None:
    sim = sub.add_parser(
        "simulate",
        help="publish a project's simulated feed to an MQTT broker or as an OPC UA server",
    )
    sim.add_argument("project", type=Path)
    where = sim.add_mutually_exclusive_group(required=True)
    where.add_argument("--mqtt", metavar="URL", help="broker, e.g. mqtt://127.0.0.1:1883")
    where.add_argument("--opcua-server", metavar="ENDPOINT", help="e.g. opc.tcp://0.0.0.0:4840")
    sim.add_argument("--rate", type=float, default=None, help="samples per second per sensor")
    sim.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    sim.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl+C)")
    sim.add_argument(
        "--faults",
        action="store_true",
        help="inject drop-outs, malformed messages, NaN, out-of-order and duplicate samples",
    )
    sim.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Exit 1: the project, the broker or the endpoint cannot be used."""
    import signal
    import threading
    from dataclasses import asdict

    from twinviewer.core.fleet import expand_project
    from twinviewer.core.project import ProjectError
    from twinviewer.session import load_twin_project

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        project, folder = load_twin_project(args.project)
        project = expand_project(project)  # a fleet: every listed unit's sensors
        if not project.sensors:
            raise ValueError(f"{args.project}: the project has no sensors to simulate")
        stats: dict[str, object]
        if args.mqtt:
            from twinviewer.sources.mqtt_publish import publish_mqtt

            stats = publish_mqtt(
                project,
                args.mqtt,
                folder=folder,
                rate=args.rate,
                speed=args.speed,
                duration=args.duration,
                faults=args.faults,
                stop=stop,
            ).as_dict()
        else:
            from twinviewer.sources.opcua_server import serve_opcua

            stats = asdict(
                serve_opcua(
                    project,
                    args.opcua_server,
                    rate=args.rate,
                    speed=args.speed,
                    duration=args.duration,
                    faults=args.faults,
                    stop=stop,
                    authenticate=_accounts(project, folder),
                )
            )
    except (ProjectError, ValueError, ImportError, OSError, ConnectionError) as exc:
        sys.stderr.write(f"twinviewer simulate: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(stats) + "\n")
    return 0


def _accounts(project: Project, folder: Path) -> Callable[[str, str], str | None] | None:
    """Name, password -> role from the project's user file (None: no file, nobody signs in)."""
    import logging

    from twinviewer.core.users import AuthError, UserBook

    path = folder / project.command_settings.users
    if not path.is_file():
        if any(c.target.type == "opcua" for c in project.commands):
            logging.getLogger(__name__).warning(
                "no user file %s: nobody may write the command nodes (twinviewer users "
                "PROJECT add NAME --role operator makes one)",
                path,
            )
        return None
    book = UserBook(path)

    def check(name: str, password: str) -> str | None:
        try:
            return book.verify(name, password)
        except AuthError:
            return None

    return check
