"""Session 28: which camera model should the motion features take out of the coarse field, judged
across ways of filming rather than on the clips as filmed alone? A replay experiment, not shipped.
See docs/experiments.md, "Session 28".

    python scripts/replay_counts.py record                                       # as filmed, webcam seed 0
    PYTHONPATH=. python scripts/experiments/seeds.py record SEED quva exercise    # SEED = 1 … 9
    PYTHONPATH=. python scripts/experiments/camera_battery.py record farther2 rot90 half noise dark
    PYTHONPATH=. python scripts/experiments/camera_battery.py replay mean rigid similarity affine-noD affine

`record` runs the exercise and QUVA clips through the engine filmed another way (invariance.py's
variants; `farther2` is `flowrep bench --farther 2`'s camera) and caches their counter inputs in
/tmp/flowrep-variants/VARIANT (under `webcam/`: tune_evidence.record's slot for a transform; they
are counted as files). `replay` counts every cache as a file (webcam deliveries live, seeds 0-9)
with the features less the least-squares fit of the named fields: T (shift: the shipped mean), R
(turn), D (zoom), S (the two stretches); `mean` T, `rigid` TR, `similarity` TRD, `affine-noD` TRS,
`affine` TRDS; `shipped` changes nothing (so a patched checkout, replayed from PYTHONPATH, is judged
on the same conditions). Prints MAE (OBO) per half (clips sorted by name alternate A, B) and the battery: the
mean over the seven conditions (as filmed, webcam averaged over its seeds, the five variants).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
from flowrep.conditions import farther_camera
from flowrep.flow import COARSE_GRID
from scripts import tune_evidence
from scripts.experiments import invariance
from scripts.experiments.short_clips import count, labels

VARIANTS_CACHE = Path("/tmp/flowrep-variants")
_rows, _columns = np.mgrid[0:COARSE_GRID, 0:COARSE_GRID]
_X = (_columns.ravel() - (COARSE_GRID - 1) / 2) / COARSE_GRID
_Y = (_rows.ravel() - (COARSE_GRID - 1) / 2) / COARSE_GRID


def _field(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return np.stack([dx, dy], axis=1).ravel()


_ONE, _ZERO = np.ones_like(_X), np.zeros_like(_X)
FIELDS = {
    "T": [_field(_ONE, _ZERO), _field(_ZERO, _ONE)],
    "R": [_field(-_Y, _X)],
    "D": [_field(_X, _Y)],
    "S": [_field(_X, -_Y), _field(_Y, _X)],
}
MODELS = {"shipped": "", "mean": "T", "rigid": "TR", "similarity": "TRD", "affine-noD": "TRS", "affine": "TRDS"}


def less_fit(parts: str):
    basis = np.stack([f for part in parts for f in FIELDS[part]], axis=1)
    residual = np.eye(len(basis)) - basis @ np.linalg.pinv(basis)
    return lambda coarse_field: residual @ np.asarray(coarse_field, dtype=np.float64).ravel()


def conditions() -> list[tuple[str, Path, bool]]:
    out = [("filmed", Path("/tmp/flowrep-tune/file"), False)]
    for seed in range(10):
        cache = Path("/tmp/flowrep-tune/webcam") if seed == 0 else Path(f"/tmp/seed-{seed}/webcam")
        out.append((f"webcam{seed}", cache, True))
    out += [(v.name, v / "webcam", False) for v in sorted(VARIANTS_CACHE.glob("*"))]
    return out


def record(variants: list[str]) -> None:
    from flowrep.model import use_one_thread

    use_one_thread()
    for variant in variants:
        farther = variant.startswith("farther")
        step = farther_camera(float(variant.removeprefix("farther"))) if farther else invariance.VARIANTS[variant]
        tune_evidence.WebcamConditions = lambda step=step: step  # type: ignore[assignment,misc]
        tune_evidence.record(invariance.DATA, VARIANTS_CACHE / variant, ("exercise", "quva"), ("webcam",))


def replay(model: str) -> None:
    if MODELS[model]:  # `shipped` leaves the code as it is: any change, patched in, judged on the battery
        counter_module.motion_features = less_fit(MODELS[model])  # type: ignore[assignment]
    table: dict[tuple[str, str], np.ndarray] = {}  # MAE A, B, all; OBO A, B
    for name, cache, live in conditions():
        for folder in ("exercise", "quva"):
            paths = [cache / folder / f"{row['file']}.npz" for row in labels(folder)]
            if not all(p.exists() for p in paths):
                continue
            rows = [(int(row["count"]), count(np.load(p), live)) for row, p in zip(labels(folder), paths)]
            error = np.array([abs(p - t) / t for t, p in rows])
            near = np.array([abs(p - t) <= 1 for t, p in rows])
            table[(name, folder)] = np.array(
                [error[0::2].mean(), error[1::2].mean(), error.mean(), near[0::2].mean(), near[1::2].mean()]
            )
            a, b, whole, obo_a, obo_b = table[(name, folder)]
            print(f"{model:10s} {name:9s} {folder:8s} A {a:.3f} ({obo_a:.2f})  B {b:.3f} ({obo_b:.2f})", end="")
            print(f"  all {whole:.3f}")
    for folder in ("exercise", "quva"):
        webcam = [v for (name, f), v in table.items() if f == folder and name.startswith("webcam")]
        others = [v for (name, f), v in table.items() if f == folder and not name.startswith("webcam")]
        if webcam:
            w = np.mean(webcam, axis=0)
            print(f"{model:10s} webcam    {folder:8s} mean of {len(webcam)} seeds:", end="")
            print(f" A {w[0]:.3f}  B {w[1]:.3f}  all {w[2]:.3f}")
            others.append(w)
        battery = np.mean(others, axis=0)
        print(
            f"{model:10s} BATTERY   {folder:8s} A {battery[0]:.4f}  B {battery[1]:.4f}  all {battery[2]:.4f}"
            f"  ({len(others)} conditions)",
            flush=True,
        )


def main() -> int:
    command, names = sys.argv[1], sys.argv[2:]
    if command == "record":
        record(names)
    else:
        for model in names:
            replay(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
