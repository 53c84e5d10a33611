"""Session 16 (issue 19, branch pyr): DIS on a larger grey frame for frames far apart (webcam mode).

    PYTHONPATH=. python scripts/experiments/flow_pyramid.py record SIZE FOLDER [FOLDER ...]
    PYTHONPATH=. python scripts/experiments/flow_pyramid.py replay CACHE [CACHE ...]

`record` runs each clip once through the engine under the webcam conditions, as
`scripts/tune_evidence.py` does (cache /tmp/pyr-SIZE/webcam/FOLDER/CLIP.npz, the same arrays), with
`FlowEstimator` computing DIS ULTRAFAST on a grey frame SIZE px on its long side (so OpenCV's DIS runs
more pyramid levels), then resizing the field to the shipped 128 px grid and scaling its vectors by
the size ratio: everything downstream sees the shipped geometry. Repeat detection stays on the
128 px grey. Webcam mode only (10 frames/s, every interval >= 0.07 s). `replay` counts each cache's
webcam inputs live, as `flowrep bench --webcam` does, and prints MAE / OBO per half and whole folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

import flowrep.flow as flow_module
from flowrep.counter import CounterSettings
from flowrep.model import use_one_thread
from scripts import tune_evidence

DATA = Path("/work/shared/data")
BIG_SIZE = 256  # long side of the grey frame DIS runs on; set by `record`


def _pyramid_call(self, frame_bgr: np.ndarray) -> np.ndarray | None:
    """FlowEstimator.__call__ with DIS on the BIG_SIZE grey frame, the field brought back to the grid."""
    height, width = frame_bgr.shape[:2]
    if self.size is None:
        self.size = flow_module.flow_shape(width, height, self.long_side)
        self._big_size = flow_module.flow_shape(width, height, BIG_SIZE)
    grey = flow_module.to_small_grey(frame_bgr, self.size)
    previous = self._previous
    difference = None if previous is None else cv2.absdiff(grey, previous)
    self.repeated = (
        self.skip_repeats
        and difference is not None
        and self._repeats < flow_module.MAX_SKIPPED_REPEATS
        and cv2.mean(difference)[0] < flow_module.REPEAT_LEVEL
    )
    if self.repeated:
        self._repeats += 1
        return None
    self._repeats = 0
    big = flow_module.to_small_grey(frame_bgr, self._big_size)
    big_previous = getattr(self, "_big_previous", None)
    self._previous, self.difference, self._big_previous = grey, difference, big
    if previous is None or big_previous is None:
        return None
    field = self._dis.calc(big_previous, big, None)
    small = cv2.resize(field, self.size, interpolation=cv2.INTER_AREA)
    small[..., 0] *= self.size[0] / self._big_size[0]
    small[..., 1] *= self.size[1] / self._big_size[1]
    return small


def _reset(self) -> None:
    _shipped_reset(self)
    self._big_previous = None


_shipped_reset = flow_module.FlowEstimator.reset


def record(size: int, folders: list[str]) -> None:
    global BIG_SIZE
    BIG_SIZE = size
    flow_module.FlowEstimator.__call__ = _pyramid_call  # type: ignore[method-assign]
    flow_module.FlowEstimator.reset = _reset  # type: ignore[method-assign]
    tune_evidence.record(DATA, Path(f"/tmp/pyr-{size}"), tuple(folders), ("webcam",))


def replay(caches: list[str]) -> None:
    for cache in caches:
        for folder in ("exercise", "quva", "jumprope"):
            paths = sorted((Path(cache) / "webcam" / folder).glob("*.npz"))
            if not paths:
                continue
            rows = []
            for path in paths:
                clip = np.load(path)
                rows.append((int(clip["true"]), tune_evidence.replay(clip, CounterSettings(), live=True)))
            print(f"{cache} {folder} n={len(rows)}: {tune_evidence.half_figures(rows)}", flush=True)


if __name__ == "__main__":
    use_one_thread()
    if sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3:])
    else:
        replay(sys.argv[2:])
