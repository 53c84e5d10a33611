"""Session 26: the motion features less the coarse field's least-squares affine field (a camera that
pans, turns or zooms moves the cells by one affine map) or its similarity field (shift, turn and zoom),
instead of less its mean (a camera that pans moves every cell alike); and the affine field or the mean
of the grid's outer ring of cells only (where the background mostly is). A replay experiment, not
shipped. See docs/experiments.md, "Session 26".

    python scripts/replay_counts.py record                          # seed 0 and the files
    PYTHONPATH=. python scripts/experiments/seeds.py record SEED quva exercise   # SEED = 1 … 9
    PYTHONPATH=. python scripts/experiments/camera_model.py

Counts every cached recording as `flowrep bench` does (files as files, webcam deliveries live) with
each camera model, and prints the folder figures by half (MAE and OBO) (clips alternating by name, as in
scripts/tune_evidence.py): files at seed 0, webcam deliveries at seeds 0-9 where recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
from flowrep.flow import COARSE_GRID
from flowrep.periodicity import motion_features
from scripts.experiments.short_clips import CACHE, FOLDERS, count, labels
from scripts.tune_evidence import half_figures

_rows, _columns = np.mgrid[0:COARSE_GRID, 0:COARSE_GRID]
_X = (_columns.ravel() - (COARSE_GRID - 1) / 2) / COARSE_GRID
_Y = (_rows.ravel() - (COARSE_GRID - 1) / 2) / COARSE_GRID
_AFFINE = np.stack([np.ones_like(_X), _X, _Y], axis=1)
_AFFINE_PROJECTION = _AFFINE @ np.linalg.pinv(_AFFINE)  # onto the affine fields, each component alike
_SIMILARITY = np.zeros((2 * COARSE_GRID**2, 4))  # dx = a + s·x − r·y, dy = b + r·x + s·y
_SIMILARITY[0::2, 0], _SIMILARITY[1::2, 1] = 1.0, 1.0
_SIMILARITY[0::2, 2], _SIMILARITY[1::2, 2] = _X, _Y
_SIMILARITY[0::2, 3], _SIMILARITY[1::2, 3] = -_Y, _X
_BORDER = np.zeros((COARSE_GRID, COARSE_GRID), dtype=bool)
_BORDER[[0, -1], :] = _BORDER[:, [0, -1]] = True
_BORDER = _BORDER.ravel()  # the grid's outer ring of cells, where the background mostly is
_BORDER_FIT = _AFFINE @ np.linalg.pinv(_AFFINE[_BORDER])  # affine fitted on the ring, evaluated everywhere


def less_affine(coarse_field: np.ndarray) -> np.ndarray:
    cells = np.asarray(coarse_field, dtype=np.float64).reshape(-1, 2)
    return (cells - _AFFINE_PROJECTION @ cells).ravel()


def less_similarity(coarse_field: np.ndarray) -> np.ndarray:
    field = np.asarray(coarse_field, dtype=np.float64).ravel()
    fit, *_ = np.linalg.lstsq(_SIMILARITY, field, rcond=None)
    return field - _SIMILARITY @ fit


def less_border_affine(coarse_field: np.ndarray) -> np.ndarray:
    cells = np.asarray(coarse_field, dtype=np.float64).reshape(-1, 2)
    return (cells - _BORDER_FIT @ cells[_BORDER]).ravel()


def less_border_mean(coarse_field: np.ndarray) -> np.ndarray:
    cells = np.asarray(coarse_field, dtype=np.float64).reshape(-1, 2)
    return (cells - cells[_BORDER].mean(axis=0)).ravel()


MODELS = {
    "mean (shipped)": motion_features,
    "similarity": less_similarity,
    "affine": less_affine,
    "border affine": less_border_affine,
    "border mean": less_border_mean,
}


def webcam_cache(seed: int) -> Path:
    return CACHE if seed == 0 else Path(f"/tmp/seed-{seed}")


def main() -> None:
    for name, features in MODELS.items():
        counter_module.motion_features = features
        print(name)
        for folder in FOLDERS:
            rows = [
                (int(r["count"]), count(np.load(CACHE / "file" / folder / f"{r['file']}.npz"), False))
                for r in labels(folder)
            ]
            print(f"  {folder:9s} file          {half_figures(rows)}")
            for seed in range(10):
                cache = webcam_cache(seed) / "webcam" / folder
                if not cache.is_dir():
                    continue
                rows = [(int(r["count"]), count(np.load(cache / f"{r['file']}.npz"), True)) for r in labels(folder)]
                print(f"  {folder:9s} webcam seed {seed} {half_figures(rows)}")


if __name__ == "__main__":
    main()
