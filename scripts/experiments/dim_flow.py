"""Session 19: webcam QUVA counted better with the pictures dimmed (invariance.py webcam-dark). Is it
DIS reading low-contrast frames (its densification weighs each patch by 1 / max(1, residual), so
lower contrast averages the patches more evenly), or the JPEG, the repeat test, the framing?

    PYTHONPATH=. python scripts/experiments/dim_flow.py gain=G|blur=S MODE FOLDER [FOLDER ...]

`gain=G` scales the two grey frames only as DIS reads them, `blur=S` smooths them with a Gaussian of
σ S pixels of the 128 px grid (nothing else in the engine sees either); MODE is `file` or `webcam`
(`flowrep bench`'s modes). Prints MAE (OBO) per half (clips sorted by name
alternate A/B) and for the folder, and each clip's count.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

import flowrep.flow
from flowrep.bench import BenchOptions, run_bench
from flowrep.model import use_one_thread
from flowrep.signals import make_signal
from scripts import tune_evidence

DATA = Path("/work/shared/data")


class _SeenDis:
    """DIS that reads each grey frame through `see`."""

    def __init__(self, dis: cv2.DISOpticalFlow, see) -> None:
        self.dis, self.see = dis, see

    def calc(self, previous: np.ndarray, grey: np.ndarray, flow: np.ndarray | None) -> np.ndarray:
        return self.dis.calc(self.see(previous), self.see(grey), flow)


def _seeing(spec: str):
    name, value = spec.split("=")
    amount = float(value)
    if name == "gain":
        return lambda image: cv2.convertScaleAbs(image, alpha=amount)
    if name == "blur":
        return lambda image: cv2.GaussianBlur(image, (0, 0), amount)
    raise SystemExit(f"unknown {spec!r}")


def main() -> int:
    use_one_thread()
    spec, mode, folders = sys.argv[1], sys.argv[2], sys.argv[3:]
    see, create = _seeing(spec), cv2.DISOpticalFlow_create
    flowrep.flow.cv2.DISOpticalFlow_create = lambda preset: _SeenDis(create(preset), see)  # type: ignore[attr-defined]
    for folder in folders:
        report = run_bench(DATA / folder, make_signal("cnn"), BenchOptions(mode))  # type: ignore[arg-type]
        rows = [(c.true, c.pred) for c in report.clips]
        print(f"{spec} {mode} {folder}", tune_evidence.half_figures(rows), flush=True)
        print("   ", " ".join(f"{Path(c.file).stem}:{c.pred}/{c.true}" for c in report.clips), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
