"""The app icon (twinviewer.svg): the window's icon and the master of the desktop's icon set
(packaging/linux/make_icons.py). Data only; a package so that setuptools ships it as one."""
