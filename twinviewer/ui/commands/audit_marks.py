"""The audit trail as the window shows it: one entry per command attempt (its records grouped
by correlation id, the last one's result), as timeline flags and as alarm-list rows.

Pure functions of the records (dicts as :meth:`twinviewer.core.audit.AuditTrail.records`
returns them), without Qt, so that the words are tested without a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from twinviewer.core.audit import parse_utc
from twinviewer.ui.alarms.rows import CommandEvent

#: Result colours (RGB, Okabe-Ito): confirmed green, failed vermilion, refused grey, sent (the
#: read-back still awaited) yellow.
RESULT_RGB: dict[str, tuple[int, int, int]] = {
    "confirmed": (0, 158, 115),
    "failed": (213, 94, 0),
    "refused": (150, 150, 150),
    "sent": (240, 228, 66),
}
RESULT_WORDS = {
    "sent": "pending",
    "confirmed": "confirmed",
    "failed": "failed",
    "refused": "refused",
}


@dataclass(frozen=True)
class AuditEntry:
    """One command attempt from the audit trail."""

    correlation: str
    command: str
    label: str
    component: str
    start: float  # epoch seconds of its first record (sent or refused)
    end: float  # of its last record (NaN while only sent, and when refused)
    result: str  # confirmed, failed, refused, sent
    user: str
    role: str
    old: Any
    new: Any
    unit: str
    reason: str
    message: str
    readback: Any

    @property
    def words(self) -> str:
        return RESULT_WORDS.get(self.result, self.result)

    @property
    def change(self) -> str:
        return f"{_value(self.old, self.unit)} → {_value(self.new, self.unit)}"

    def tip(self, when: str = "") -> str:
        """Who, what, old → new, reason, result (the flag's and the row's tooltip)."""
        lines = [
            f"Command {self.label} ({self.command}) {self.words}" + (f" at {when}" if when else ""),
            f"by {self.user or 'nobody signed in'}" + (f" ({self.role})" if self.role else ""),
            f"{self.change}; reason: {self.reason or '–'}",
        ]
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    def event(self, when: str = "", component_index: int = -1) -> CommandEvent:
        """The alarm list's row words."""
        detail = self.message or ("waiting for the read-back" if self.result == "sent" else "")
        return CommandEvent(
            key=self.correlation,
            label=self.label,
            component=self.component,
            result=self.words,
            change=self.change,
            detail=detail,
            tip=self.tip(when),
            rgb=RESULT_RGB.get(self.result, RESULT_RGB["refused"]),
            component_index=component_index,
        )


def _value(v: Any, unit: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "on" if v else "off"
    text = f"{v:g}" if isinstance(v, (int, float)) else str(v)
    return f"{text} {unit}".strip()


def entries(
    records: list[dict[str, Any]], labels: dict[str, str], components: dict[str, str]
) -> list[AuditEntry]:
    """The attempts in ``records`` (oldest first), each with its final result; ``labels`` and
    ``components`` name the project's commands (an unknown command keeps its id)."""
    by: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for k, rec in enumerate(records):
        key = str(rec.get("correlation") or f"record {rec.get('seq', k)}")
        if key not in by:
            by[key] = []
            order.append(key)
        by[key].append(rec)
    out = []
    for key in order:
        recs = by[key]
        first, last = recs[0], recs[-1]
        try:
            start = parse_utc(str(first.get("time")))
            end = parse_utc(str(last.get("time")))
        except ValueError:
            continue
        result = str(last.get("result") or "")
        cid = str(last.get("command") or "")
        message = next((str(r.get("message")) for r in reversed(recs) if r.get("message")), "")
        out.append(
            AuditEntry(
                correlation=key,
                command=cid,
                label=labels.get(cid, cid),
                component=components.get(cid, ""),
                start=start,
                end=math.nan if result in ("sent", "refused") else end,  # refused: no outcome
                result=result,
                user=str(last.get("user") or ""),
                role=str(last.get("role") or ""),
                old=last.get("old"),
                new=last.get("new"),
                unit=str(last.get("unit") or ""),
                reason=str(last.get("reason") or ""),
                message=message,
                readback=last.get("readback"),
            )
        )
    return out
