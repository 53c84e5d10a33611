"""Session 25 (issue 19, jump rope): does the jumper's motion, split into its left-right mirror-
symmetric and antisymmetric parts about the jumper's own box, repeat every rope turn? A diagnostic,
not a counter. See docs/experiments.md, "Session 25".

    PYTHONPATH=. python scripts/experiments/box_field.py record 256 file jumprope exercise
    PYTHONPATH=. python scripts/experiments/mirror_turns.py 256 jumprope
    PYTHONPATH=. python scripts/experiments/mirror_turns.py 256 exercise

For each jump-rope clip (fields recorded by box_field.py on its 24×24 grid, DIS at SIZE px), within
its labelled span, on its distinct frames: the box where it moved (box_field's, margin 1), its field
there, and that field mirrored about the box's middle column (columns reversed, dx negated); the
features (field less its mean over the box) of the field as it is, of its symmetric part (field +
mirror) / 2 and of its antisymmetric part (field − mirror) / 2. Printed: the mean correlation of
windows of two reps (at least 15 frames) with the same window half a rep, one rep and two reps
earlier (the best lag within ±20 % of each; a rep = the median of the labelled cycle lengths, or
the labelled span over the count).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from scripts.experiments import box_field

DATA = Path("/work/shared/data")
WINDOW = 15  # frames, at least; or two reps


def _box(fields: np.ndarray) -> tuple[int, int, int, int]:
    """box_field's box where the clip moved, not widened (margin 1)."""
    speed = np.linalg.norm(fields, axis=-1).mean(axis=0)
    energy = np.maximum(0.0, speed - np.median(speed))
    return (*box_field._extent(energy.sum(axis=1), 1.0), *box_field._extent(energy.sum(axis=0), 1.0))


def _correlation(features: np.ndarray, frames: np.ndarray, lag: int, span: tuple[int, int], window: int) -> float:
    """Mean Pearson correlation of the windows of `window` frames ending in `span` with the same
    windows `lag` frames earlier (pairs of distinct frames only)."""
    row = {int(frame): k for k, frame in enumerate(frames)}
    values = []
    for end in range(span[0] + lag + window, span[1], max(1, window // 8)):
        pairs = [(row[s], row[s - lag]) for s in range(end - window + 1, end + 1) if s in row and s - lag in row]
        if len(pairs) < 6:
            continue
        here, earlier = (features[[p[i] for p in pairs]] for i in (0, 1))
        here, earlier = here - here.mean(axis=0), earlier - earlier.mean(axis=0)
        scale = np.sqrt((here * here).sum() * (earlier * earlier).sum())
        if scale > 0:
            values.append(float((here * earlier).sum() / scale))
    return float(np.mean(values)) if values else float("nan")


def _best_near(features: np.ndarray, frames: np.ndarray, lag: float, span: tuple[int, int], window: int) -> float:
    lags = range(max(1, int(0.8 * lag)), int(np.ceil(1.2 * lag)) + 1)
    return max(_correlation(features, frames, k, span, window) for k in lags)


def _rep_and_span(row: dict[str, str]) -> tuple[float, tuple[int, int]]:
    if row.get("cycle_end_frames"):
        ends = np.array([int(x) for x in row["cycle_end_frames"].split()])
        return float(np.median(np.diff(ends))), (int(ends[0]), int(ends[-1]))
    start, end = int(row["start_frame"]), int(row["end_frame"])
    return (end - start) / int(row["count"]), (start, end)


def main() -> int:
    size, folder = sys.argv[1], sys.argv[2]
    labels = {row["file"]: row for row in csv.DictReader((DATA / folder / "labels.csv").open())}
    for path in sorted(Path(f"/tmp/box-24-{size}/file/{folder}").glob("*.npz")):
        clip = np.load(path)
        rep, span = _rep_and_span(labels[path.stem])
        distinct = clip["has_field"] & ~clip["repeated"]
        y0, y1, x0, x1 = _box(clip["fields"][clip["has_field"]])
        field = clip["fields"][distinct][:, y0:y1, x0:x1].astype(np.float64)
        mirror = field[:, :, ::-1].copy()
        mirror[..., 0] *= -1
        parts = {"as it is": field, "symmetric": (field + mirror) / 2, "antisymmetric": (field - mirror) / 2}
        line = f"{path.stem[:22]:22} rep {rep:5.1f} frames, box {y1 - y0:2}x{x1 - x0:2}:"
        for name, part in parts.items():
            cells = part.reshape(len(part), -1, 2)
            features = (cells - cells.mean(axis=1, keepdims=True)).reshape(len(part), -1)
            frames = np.flatnonzero(distinct)
            window = max(WINDOW, round(2 * rep))
            figures = " / ".join(f"{_best_near(features, frames, k * rep, span, window):+.2f}" for k in (0.5, 1, 2))
            line += f"  {name} {figures}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
