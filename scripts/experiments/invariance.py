"""Session 18: do file counts hold when the same motion is filmed a little differently? Not shipped;
see docs/experiments.md, "Session 18".

    PYTHONPATH=. python scripts/experiments/invariance.py VARIANT FOLDER [FOLDER ...]

VARIANT: `mirror` (each picture flipped left-right), `half` (every other frame dropped: a 30 frames/s
clip as a 15 frames/s camera films it), `rot90` (each picture turned a quarter, as a phone held the
other way), `dark` (each picture at 35 % of its brightness, as a dim room), `noise` (Gaussian noise
of σ 8 grey levels on every pixel, fresh each frame, as a cheap sensor in low light), `none` (as
filmed); session 21 added `dim` (20 % of its brightness) and `dark-noisy` (35 %, then noise of
σ 3). `webcam-VARIANT` (session 19) films the clip that way and then delivers it as a browser
webcam does (`flowrep bench --webcam`: 10 frames/s, 640 px, JPEG 70, jitter), counted live. Prints
`flowrep bench`'s MAE (OBO) per half (clips sorted by name alternate A/B) and for the folder, and
each clip's count.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from flowrep.bench import BenchOptions, run_bench
from flowrep.conditions import WebcamConditions
from flowrep.model import use_one_thread
from flowrep.signals import make_signal
from flowrep.video import Frame
from scripts import tune_evidence

DATA = Path("/work/shared/data")


def _mirror(frames: Iterable[Frame]) -> Iterator[Frame]:
    return (replace(f, image=cv2.flip(f.image, 1)) for f in frames)


def _half(frames: Iterable[Frame]) -> Iterator[Frame]:
    return (f for i, f in enumerate(frames) if i % 2 == 0)


def _rot90(frames: Iterable[Frame]) -> Iterator[Frame]:
    return (replace(f, image=cv2.rotate(f.image, cv2.ROTATE_90_CLOCKWISE)) for f in frames)


def _dark(frames: Iterable[Frame]) -> Iterator[Frame]:
    return (replace(f, image=cv2.convertScaleAbs(f.image, alpha=0.35)) for f in frames)


def _dim(frames: Iterable[Frame]) -> Iterator[Frame]:
    return (replace(f, image=cv2.convertScaleAbs(f.image, alpha=0.2)) for f in frames)


def _noise(frames: Iterable[Frame], sigma: float = 8.0) -> Iterator[Frame]:
    rng = np.random.default_rng(0)
    for f in frames:
        noisy = f.image.astype(np.float32) + rng.normal(0.0, sigma, f.image.shape).astype(np.float32)
        yield replace(f, image=np.clip(noisy, 0, 255).astype(np.uint8))


def _dark_noisy(frames: Iterable[Frame]) -> Iterator[Frame]:
    return _noise(_dark(frames), sigma=3.0)


VARIANTS = {
    "mirror": _mirror,
    "half": _half,
    "rot90": _rot90,
    "dark": _dark,
    "dim": _dim,
    "noise": _noise,
    "dark-noisy": _dark_noisy,
    "none": None,
}


def main() -> int:
    use_one_thread()
    variant, folders = sys.argv[1], sys.argv[2:]
    webcam = variant.startswith("webcam-")
    step = VARIANTS[variant.removeprefix("webcam-")]
    if step is not None:
        delivered = (lambda frames: WebcamConditions()(step(frames))) if webcam else step
        BenchOptions.transform = lambda self: delivered  # type: ignore[method-assign,assignment]
    for folder in folders:
        report = run_bench(DATA / folder, make_signal("cnn"), BenchOptions("webcam" if webcam else "file"))
        rows = [(c.true, c.pred) for c in report.clips]
        print(variant, folder, tune_evidence.half_figures(rows), flush=True)
        print("   ", " ".join(f"{Path(c.file).stem}:{c.pred}/{c.true}" for c in report.clips), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
