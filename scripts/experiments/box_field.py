"""Session 18 (issue 19, jump rope): is a finer field *on the person* what the repetition evidence
lacks? Not shipped; see docs/experiments.md, "Session 18".

    PYTHONPATH=. python scripts/experiments/box_field.py record SIZE MODE FOLDER [FOLDER ...]
    PYTHONPATH=. python scripts/experiments/box_field.py replay SIZE MODE [MARGIN ...] [-v]

`record` runs each clip once through the engine with the counter's field pooled to FINE×FINE cells
instead of 6×6 and caches the counter's inputs (/tmp/box-FINE-SIZE/MODE/FOLDER/CLIP.npz, as
`scripts/tune_evidence.py` records). SIZE 128 is the shipped flow; another SIZE computes the
counter's field from a second DIS on the grey frame SIZE px on its long side (the CNN keeps the
shipped 128 px flow). `replay` pools those fine fields back to the shipped 6×6 grid in
two ways and counts each clip (a file's as a file, a webcam's live): `frame`, over the whole frame
(the shipped field, up to the rounding of cell edges), and `box MARGIN`, over one box per clip around
where it moved (the extent of 90 % of the clip's mean speed above its median, per axis, widened
MARGIN times, as `flowrep.framing.MotionFraming` frames; known only once the clip has been seen, so a
whole-clip oracle of the framing: if it does not help, a live framing of the field will not).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

import flowrep.flow as flow_module
from flowrep.counter import CounterSettings
from flowrep.model import use_one_thread
from scripts import tune_evidence

DATA = Path("/work/shared/data")
FINE = 24
PER_CLIP = False


def _cache(size: int) -> Path:
    return Path(f"/tmp/box-{FINE}-{size}")


def _with_field_at(size: int):
    """FlowEncoder.__call__ with the counter's field from DIS at `size` px (same frame pairs)."""
    shipped = flow_module.FlowEncoder.__call__

    def call(self, frame_bgr: np.ndarray, dt: float):
        fine = self.__dict__.setdefault("fine", flow_module.FlowEstimator(long_side=size, skip_repeats=False))
        seconds = dt + self._skipped_dt
        encoded = shipped(self, frame_bgr, dt)
        if self.repeated:
            return encoded
        flow = fine(frame_bgr)
        if encoded is None or flow is None:
            return encoded
        scale = flow_module.FlowScale.of(flow, max(seconds, 1e-3))
        field = scale.to_speed(cv2.resize(flow, (FINE, FINE), interpolation=cv2.INTER_AREA))
        return dataclasses.replace(encoded, coarse_field=field)

    shipped_reset = flow_module.FlowEncoder.reset

    def reset(self) -> None:
        shipped_reset(self)
        self.__dict__.pop("fine", None)

    flow_module.FlowEncoder.__call__ = call  # type: ignore[method-assign]
    flow_module.FlowEncoder.reset = reset  # type: ignore[method-assign]


def record(size: int, mode: str, folders: list[str]) -> None:
    flow_module.COARSE_GRID = FINE
    if size != flow_module.DEFAULT_FLOW_SIZE:
        _with_field_at(size)
    tune_evidence.record(DATA, _cache(size), tuple(folders), (mode,))


def _extent(mass: np.ndarray, margin: float) -> tuple[int, int]:
    """Cell range [lo, hi) holding the middle 90 % of `mass`, widened `margin` times about its centre."""
    share = np.cumsum(mass) / max(float(mass.sum()), 1e-12)
    lo, hi = float(np.searchsorted(share, 0.05)), float(np.searchsorted(share, 0.95) + 1)
    centre, half = (lo + hi) / 2, max(1.0, (hi - lo) * margin / 2)
    lo_cell, hi_cell = int(np.floor(centre - half)), int(np.ceil(centre + half))
    return max(0, lo_cell), min(len(mass), max(hi_cell, lo_cell + 1))


def _pooled(fields: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    grid = 6
    if box is not None:
        y0, y1, x0, x1 = box
        fields = fields[:, y0:y1, x0:x1]
    return np.stack([cv2.resize(f.astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA) for f in fields])


def _box(clip) -> tuple[int, int, int, int]:
    speed = np.linalg.norm(clip["fields"][clip["has_field"]], axis=-1).mean(axis=0)
    energy = np.maximum(0.0, speed - float(np.median(speed)))
    return (*_extent(energy.sum(axis=1), MARGIN), *_extent(energy.sum(axis=0), MARGIN))


MARGIN = 1.5


def replay(size: int, mode: str, margins: list[float]) -> None:
    global MARGIN
    for how in ["frame", *margins]:
        for folder in ("exercise", "quva", "jumprope"):
            rows = []
            for path in sorted((_cache(size) / mode / folder).glob("*.npz")):
                clip = np.load(path)
                box = None
                if how != "frame":
                    MARGIN = float(how)
                    box = _box(clip)
                inputs = {key: clip[key] for key in clip.files}
                inputs["fields"] = _pooled(clip["fields"], box)
                rows.append((int(clip["true"]), tune_evidence.replay(inputs, CounterSettings(), mode == "webcam")))
                if PER_CLIP:
                    print(f"  {path.stem} box {box}: {rows[-1][0]} -> {rows[-1][1]}")
            if rows:
                print(f"{how} {mode} {folder} n={len(rows)}: {tune_evidence.half_figures(rows)}", flush=True)


def main() -> int:
    global PER_CLIP
    use_one_thread()
    PER_CLIP = "-v" in sys.argv
    args = [a for a in sys.argv[1:] if a != "-v"]
    if args[0] == "record":
        record(int(args[1]), args[2], args[3:])
    else:
        replay(int(args[1]), args[2], args[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
