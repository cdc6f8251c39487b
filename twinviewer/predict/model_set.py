"""The trained models of a twin, stored beside the project as data.

Layout of the folder (``<project stem>.models/`` by default)::

    models.json       what was trained: when, on which window, the groups and their sensors,
                      each detector's parameters (JSON)
    <group>.npz       each group's arrays (numpy's npz, read with allow_pickle=False)
    rul-<group>.*     remaining-useful-life models (LightGBM's text format, JSON)

Nothing in the folder is executable: JSON, plain arrays and LightGBM's text format. A file that
is not a TwinViewer model set raises :class:`ModelFileError` naming the file and what was
expected.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twinviewer.predict.detectors import Detector, load_detector

if TYPE_CHECKING:
    from twinviewer.predict.degradation import RulEntry

log = logging.getLogger(__name__)

INDEX = "models.json"
FORMAT = "twinviewer-models"
VERSION = 1


class ModelFileError(ValueError):
    """A model file is missing, unreadable or not a TwinViewer model."""


@dataclass
class GroupModel:
    """A model of normal behaviour of a group of sensors."""

    id: str
    sensors: list[str]
    detector: Detector
    rows: int = 0  # training rows (one per scoring step)
    lo: list[float] = field(default_factory=list)  # each sensor's lowest value in training
    hi: list[float] = field(default_factory=list)  # and highest: its normal range
    scale: float = 1.0  # the detector's score is divided by this (see train.calibrate)


@dataclass
class ModelSet:
    """Everything ``twinviewer predict train`` produced for one twin."""

    groups: list[GroupModel]
    trained_at: float = field(default_factory=time.time)
    train_from: float = float("nan")
    train_to: float = float("nan")
    step: float = 1.0
    skipped: dict[str, str] = field(default_factory=dict)  # group -> why it has no model
    rul: list[RulEntry] = field(default_factory=list)  # remaining-useful-life models
    # the project's sensors when it was trained (empty: a set from before this was kept);
    # a sensor added since has no normal behaviour known to the models
    sensors: list[str] = field(default_factory=list)

    def group(self, gid: str) -> GroupModel | None:
        return next((g for g in self.groups if g.id == gid), None)

    def save(self, folder: Path) -> None:
        """Write the set; each file is written whole to a temporary name and renamed."""
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        names: set[str] = set()
        for g in self.groups:
            meta, arrays = g.detector.to_arrays()
            name = _file_name(g.id, names)
            _write_npz(folder / name, arrays)
            entries.append(
                {
                    "id": g.id,
                    "sensors": g.sensors,
                    "rows": g.rows,
                    "normal_low": g.lo,
                    "normal_high": g.hi,
                    "scale": g.scale,
                    "file": name,
                    "detector": meta,
                }
            )
        from twinviewer.predict.degradation import save_rul

        index = {
            "rul": save_rul(self.rul, folder),
            "format": FORMAT,
            "version": VERSION,
            "trained_at": self.trained_at,
            "train_from": self.train_from,
            "train_to": self.train_to,
            "step": self.step,
            "groups": entries,
            "skipped": self.skipped,
            "sensors": self.sensors,
        }
        tmp = folder / (INDEX + ".tmp")
        tmp.write_text(json.dumps(index, indent=1, allow_nan=True))
        os.replace(tmp, folder / INDEX)

    @classmethod
    def load(cls, folder: Path) -> ModelSet:
        path = folder / INDEX
        if not path.exists():
            raise ModelFileError(
                f"{path}: no trained models here (run `twinviewer predict PROJECT train`)"
            )
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ModelFileError(f"{path}: not a TwinViewer model index (JSON): {exc}") from None
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise ModelFileError(
                f'{path}: not a TwinViewer model index (expected "format": "{FORMAT}")'
            )
        if int(index.get("version", 0)) > VERSION:
            raise ModelFileError(
                f"{path}: model format version {index.get('version')} is newer than this "
                f"TwinViewer reads ({VERSION}); train again or upgrade"
            )
        groups = []
        for k, e in enumerate(index.get("groups", [])):
            try:
                gid, sensors, name = str(e["id"]), [str(s) for s in e["sensors"]], str(e["file"])
                meta = e["detector"]
            except (KeyError, TypeError) as exc:
                raise ModelFileError(f"{path}: groups[{k}] lacks {exc}") from None
            if "/" in name or "\\" in name or name.startswith("."):
                raise ModelFileError(f"{path}: groups[{k}].file {name!r} is not a plain file name")
            arrays = _read_npz(folder / name)
            try:
                detector = load_detector(meta, arrays)
            except ValueError as exc:
                raise ModelFileError(f"{folder / name}: {exc}") from None
            if detector.n_features != len(sensors):
                raise ModelFileError(
                    f"{folder / name}: the model reads {detector.n_features} sensors but the "
                    f"index lists {len(sensors)}"
                )
            lo = [float(x) for x in e.get("normal_low", [])]
            hi = [float(x) for x in e.get("normal_high", [])]
            if len(lo) != len(sensors) or len(hi) != len(sensors):
                lo, hi = [], []
            scale = float(e.get("scale", 1.0))
            if not scale > 0:
                raise ModelFileError(f"{path}: groups[{k}].scale must be positive, got {scale}")
            groups.append(GroupModel(gid, sensors, detector, int(e.get("rows", 0)), lo, hi, scale))
        from twinviewer.predict.degradation import load_rul

        try:
            rul = load_rul(list(index.get("rul", [])), folder)
        except ValueError as exc:
            raise ModelFileError(str(exc)) from None
        return cls(
            rul=rul,
            groups=groups,
            trained_at=float(index.get("trained_at", float("nan"))),
            train_from=float(index.get("train_from", float("nan"))),
            train_to=float(index.get("train_to", float("nan"))),
            step=float(index.get("step", 1.0)),
            skipped={str(k): str(v) for k, v in dict(index.get("skipped", {})).items()},
            sensors=[str(s) for s in index.get("sensors", [])],
        )


def _file_name(gid: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", gid).strip("._") or "group"
    name = f"{base}.npz"
    k = 2
    while name in taken:
        name = f"{base}-{k}.npz"
        k += 1
    taken.add(name)
    return name


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, allow_pickle=False, **{k: np.asarray(v) for k, v in arrays.items()})
    os.replace(tmp, path)


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file is missing") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path}: not a model array file (npz): {exc}") from None
