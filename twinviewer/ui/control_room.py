"""The control room in the window: where the history is (a PostgreSQL server, a read-only
replica) in the status bar, and what other viewers changed (acknowledgements, review issues,
audit records) taken in from the database's poller.

The logic is :mod:`twinviewer.session.control_room`; this feature opens the twin's control
room before the alarm list, the review and the commands use it (it is hosted before them),
and twice a second hands the poller's findings to their views on the GUI thread.

The poller has a connection of its own, so the window never waits behind a poll; the window's
own writes (an acknowledgement, an issue, an audit record) use the room's window connection,
whose short timeouts make them fail within seconds when the server is away: each feature says
so where the user acted (the alarm list's "Not acknowledged"), and the status bar says "not
reachable" while the polls fail.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twinviewer.history.pg_role import REPLICA_REASON
from twinviewer.session import TwinSession
from twinviewer.ui.feature import Feature
from twinviewer.ui.widgets.elided_label import QtElidedLabel

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

READ_ONLY_STYLE = "color: #e0a030; font-weight: bold;"


def history_text(session: TwinSession) -> tuple[str, str]:
    """The status bar's words for the twin's history, and its tooltip ("" when embedded)."""
    store = session.history
    where = getattr(store, "where", None)
    if store is None or where is None:
        return "", ""
    reason = getattr(store, "read_only_reason", "")
    host = where.split("@")[-1].split("?")[0]
    schema = getattr(store, "schema", "")
    if reason == REPLICA_REASON:  # the important part first: it is elided on small screens
        text = "History: read-only replica (hot standby)"
    elif reason:
        text = f"History (read-only): {reason}"
    else:
        text = f"History: PostgreSQL {host} · {schema}"
    tip = f"History database {where} (schema {schema})"
    if reason:
        tip += f"\nThis viewer reads only: {reason}."
    room = session.control_room
    if room is not None:
        tip += "\nAcknowledgements, review issues and the audit trail are shared there."
    return text, tip


class ControlRoomFeature(Feature):
    name = "control_room"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.history_label = QtElidedLabel("", minimum=80)
        self.history_label.setObjectName("history-label")
        self.history_label.hide()
        host.status.add(self.history_label)

    def opened(self, session: TwinSession) -> None:
        try:
            room = session.open_control_room()
        except (OSError, ImportError) as exc:  # shared state is worth having, not required
            log.warning("control room of %s: %s", session.path, exc)
            self.host.error(
                "Acknowledgements and issues are not shared",
                f"The history database's shared tables cannot be used: {exc}",
            )
            room = None
        if room is not None:
            room.start_polling()
        self._show(session)

    def _show(self, session: TwinSession) -> None:
        text, tip = history_text(session)
        room = session.control_room
        if room is not None and room.error:
            text += " — not reachable"
            tip += f"\n{room.error}"
        self.history_label.setText(text)
        self.history_label.setToolTip(tip)
        read_only = bool(getattr(session.history, "read_only_reason", ""))
        self.history_label.setStyleSheet(READ_ONLY_STYLE if read_only else "")
        self.history_label.setVisible(bool(text))

    def refresh(self) -> None:
        s = self.session
        if s is None:
            return
        self._show(s)
        room = s.control_room
        if room is None:
            return
        changed, issues = room.take_changes()
        if "acks" in changed:
            alarms = self.host.features.get("alarms")
            alarm_list = getattr(alarms, "alarm_list", None)
            if alarm_list is not None:
                alarm_list.acknowledgements_changed()
        if issues is not None and s.review is not None:
            from twinviewer.session.control_room import SharedReviewBook

            if isinstance(s.review, SharedReviewBook):
                s.review.apply_remote(issues)  # the review's views redraw on its signal
        if "audit" in changed:
            commands = self.host.features.get("commands")
            reread = getattr(commands, "reread_audit", None)
            if reread is not None:
                reread()

    def closed(self) -> None:
        self.history_label.setText("")
        self.history_label.hide()
