"""The one thing pyproject.toml cannot say: the demo twins in ``assets/`` ship inside the package
as ``twinviewer/demos`` (package data). Everything else is configured in pyproject.toml."""

from setuptools import find_namespace_packages, find_packages, setup

# assets/ is the package twinviewer.demos; its sub-folders with plain names are its sub-packages
# (data only). Folders with a dot in the name (mine.models) are data of their parent.
demos = ["twinviewer.demos", *(f"twinviewer.demos.{p}" for p in find_namespace_packages("assets"))]
setup(
    packages=[*find_packages(include=["twinviewer*"]), *demos],
    package_dir={"twinviewer.demos": "assets"},
)
