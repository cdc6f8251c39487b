"""The Fleet dock: units of a fleet twin sorted by health (see :mod:`.feature`)."""
