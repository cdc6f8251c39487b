"""The only package that imports PySide6/pyvistaqt: windows, widgets, the GUI thread."""
