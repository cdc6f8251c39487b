"""MQTT topic templates: ``site/{component}/{sensor}`` to a subscription filter, the sensor and
component of a concrete topic, and a concrete topic to publish on. In a fleet
(:mod:`twinviewer.core.project_fleet`) ``{unit}`` names the unit: ``fleet/{unit}/{sensor}``."""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDERS", "TopicTemplate"]

PLACEHOLDERS = ("sensor", "component", "unit", "any")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


class TopicTemplate:
    """A topic template such as ``site/{component}/{sensor}``: its subscription filter, and the
    sensor id and component of a concrete topic.

    ``{sensor}``, ``{component}``, ``{unit}`` and ``{any}`` each stand for exactly one level;
    the MQTT wildcards ``+`` (one level) and ``#`` (the rest, last level only) may be used as
    they are.
    """

    def __init__(self, template: str) -> None:
        if not template or template.strip() != template:
            raise ValueError(f"topic template {template!r} is empty or has surrounding spaces")
        self.template = template
        self.levels = template.split("/")
        self.kinds: list[str] = []  # per level: "literal", "+", "#", or a placeholder name
        for i, level in enumerate(self.levels):
            m = _PLACEHOLDER.fullmatch(level)
            if level == "#":
                if i != len(self.levels) - 1:
                    raise ValueError(f"topic template {template!r}: '#' must be the last level")
                self.kinds.append("#")
            elif level == "+":
                self.kinds.append("+")
            elif m:
                name = m.group(1)
                if name not in PLACEHOLDERS:
                    raise ValueError(
                        f"topic template {template!r}: unknown placeholder {{{name}}}; use "
                        + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                        + " or the MQTT wildcards + and #"
                    )
                if name != "any" and name in self.kinds:
                    raise ValueError(f"topic template {template!r}: {{{name}}} appears twice")
                self.kinds.append(name)
            elif any(c in level for c in "{}+#"):
                raise ValueError(
                    f"topic template {template!r}: level {level!r} mixes a placeholder or "
                    "wildcard with text; a placeholder must fill a whole level"
                )
            else:
                self.kinds.append("literal")
        self.sensor_level = self.kinds.index("sensor") if "sensor" in self.kinds else None
        self.component_level = self.kinds.index("component") if "component" in self.kinds else None
        self.unit_level = self.kinds.index("unit") if "unit" in self.kinds else None
        self.multi = self.kinds[-1] == "#"
        self.filter = "/".join(
            level if kind in ("literal", "#") else "+"
            for level, kind in zip(self.levels, self.kinds, strict=True)
        )

    @property
    def subscriptions(self) -> list[str]:
        return [self.filter]

    def match(self, topic: str) -> tuple[bool, str | None, str | None]:
        """(matches, sensor id or None, component or None) of a concrete topic."""
        parts = topic.split("/")
        n = len(self.levels)
        if self.multi:
            if len(parts) < n - 1:
                return False, None, None
        elif len(parts) != n:
            return False, None, None
        for part, level, kind in zip(parts, self.levels, self.kinds, strict=False):
            if kind == "literal" and part != level:
                return False, None, None
            if kind == "#":
                break
        sensor = parts[self.sensor_level] if self.sensor_level is not None else None
        component = parts[self.component_level] if self.component_level is not None else None
        return True, sensor, component

    def unit_of(self, topic: str) -> str | None:
        """The ``{unit}`` level of a concrete topic (None: the template has none, or the
        topic is too short)."""
        if self.unit_level is None:
            return None
        parts = topic.split("/")
        return parts[self.unit_level] if self.unit_level < len(parts) else None

    def fill(
        self,
        sensor: str = "",
        component: str = "",
        any_level: str = "twinviewer",
        unit: str = "",
    ) -> str:
        """A concrete topic for publishing (wildcards become ``any_level``; ``#`` one level)."""
        out = []
        for level, kind in zip(self.levels, self.kinds, strict=True):
            if kind == "literal":
                out.append(level)
            elif kind == "sensor":
                out.append(sensor)
            elif kind == "component":
                out.append(component)
            elif kind == "unit":
                out.append(unit)
            else:
                out.append(any_level)
        return "/".join(out)
