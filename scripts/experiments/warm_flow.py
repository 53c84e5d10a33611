"""Session 17 (issue 19, webcam QUVA): DIS started from other fields for frames far apart, and a
diagnosis of what a webcam's 10 frames/s costs. Not shipped; see docs/experiments.md, "Session 17".

    PYTHONPATH=. python scripts/experiments/warm_flow.py record VARIANT MODE FOLDER [FOLDER ...] [--seed S]
    PYTHONPATH=. python scripts/experiments/warm_flow.py replay MODE CACHE [CACHE ...] [-v]
    PYTHONPATH=. python scripts/experiments/warm_flow.py diagnose /tmp/warm-shipped [-v]
    PYTHONPATH=. python scripts/experiments/warm_flow.py fidelity CACHE [CACHE ...]
    PYTHONPATH=. python scripts/experiments/warm_flow.py vary /tmp/warm-shipped SETTING VALUE [VALUE ...]

At 128 px OpenCV's DIS ULTRAFAST runs on one pyramid level and does not find displacements of more
than a few grid pixels (a 12 px shift of a textured frame reads as ~0), which frames 0.1 s apart
have. DIS takes an initial field (`calc(I0, I1, flow)` with a float 2-channel field of the frame's
size). `record` runs each clip once through the engine (MODE file, or webcam: `WebcamConditions`)
and caches its counter's inputs as `scripts/tune_evidence.py` does (/tmp/warm-VARIANT/MODE/FOLDER/
CLIP.npz). VARIANT is `shipped`, or made of these words:
  far-    only frame pairs at least FAR_S apart (every webcam pair; a file's only after skipped repeats);
  feat-   the CNN keeps the shipped flow; only the counter's coarse field comes from the variant's;
  warm    the previous pair's flow (chosen one) as the start, kept as is;
  best    the shipped (cold) flow and the warm one, the one whose warp leaves less grey residual kept;
  neg     with best: also the previous flow reversed as a start;
  coarse  with best: also DIS on the frames at half size, scaled up, as a start;
  cell    with best: the candidate chosen per cell of the coarse grid instead of for the frame;
  cropfield  the coarse field from the framing crop's flow where the CNN sees a crop;
  cropall    the same for every frame pair, not only those FAR_S apart (session 18);
  lk      Lucas–Kanade on a grid of points (LK_SPACING, LK_PARAMS, FB_PX), each coarse cell their mean;
  biglk   the same on a grey frame BIG_LONG_SIDE px on its long side;
  farn    Farnebäck's flow (3 pyramid levels, the `--flow farneback` parameters) instead of DIS
          (session 18);
  sym     the symmetric flow: the mean of DIS forward and DIS backward reversed, (F − B) / 2
          (session 15's candidate, re-measured over jitter seeds in session 20 with `record … --seed S`,
          cache /tmp/warm-VARIANT-seedS for S ≠ 0).
`replay` counts caches (webcam live, as `flowrep bench --webcam`; file as a file), MAE (OBO) per half
(clips sorted by name alternate A/B) and whole folder; `-v` per clip. `diagnose` counts webcam QUVA
live from webcam or file inputs (the file's small-step fields summed over each webcam interval;
needs `record shipped webcam quva` and `record shipped file quva`); `fidelity` compares a cache's webcam
QUVA fields with those summed fields; `vary` replays with one setting changed (`fewest_pairs`, or a
`CounterSettings` field such as `first_strength`).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import cv2
import numpy as np

import flowrep.flow as flow_module
import flowrep.pipeline as pipeline
import flowrep.similarity as similarity
from flowrep.conditions import WebcamConditions
from flowrep.counter import CounterSettings
from flowrep.model import use_one_thread
from scripts import tune_evidence

DATA = Path("/work/shared/data")
FAR_S = 0.07
PER_CLIP = False
VARIANT = "warm"
_shipped_call = flow_module.FlowEstimator.__call__
_shipped_reset = flow_module.FlowEstimator.reset
_clock = {"t": 0.0}


def _residual_map(previous: np.ndarray, grey: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """|previous − grey warped back by flow|, per pixel (float)."""
    height, width = grey.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    warped = cv2.remap(
        grey, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cv2.absdiff(warped, previous).astype(np.float32)


_HALF_DIS: dict[tuple[int, int], cv2.DISOpticalFlow] = {}  # one per size: a DIS fed two sizes crashes


def _coarse_start(previous: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """DIS on the frames at half size, brought back up as a start for the full-size one."""
    height, width = grey.shape
    half = (width // 2, height // 2)
    dis = _HALF_DIS.setdefault(half, cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST))
    small = dis.calc(
        cv2.resize(previous, half, interpolation=cv2.INTER_AREA),
        cv2.resize(grey, half, interpolation=cv2.INTER_AREA),
        None,
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) * 2.0


def _candidates(self, previous: np.ndarray, grey: np.ndarray, cold: np.ndarray) -> list[np.ndarray]:
    last = getattr(self, "_last", None)
    start = np.zeros_like(cold) if last is None else last
    out = [cold, self._dis.calc(previous, grey, start.copy())]
    if "neg" in VARIANT:
        out.append(self._dis.calc(previous, grey, -start))
    if "coarse" in VARIANT and min(grey.shape) // 2 >= flow_module.MIN_FLOW_SIDE:  # DIS crashes under it
        out.append(self._dis.calc(previous, grey, _coarse_start(previous, grey)))
    return out


def _select(previous: np.ndarray, grey: np.ndarray, flows: list[np.ndarray]) -> np.ndarray:
    """The candidate whose warp leaves the least grey residual: over the whole frame, or (`cell` in
    VARIANT) per cell of the counter's coarse grid."""
    residuals = [_residual_map(previous, grey, f) for f in flows]
    if "cell" not in VARIANT:
        return flows[int(np.argmin([float(r.mean()) for r in residuals]))]
    grid = flow_module.COARSE_GRID
    per_cell = np.stack([cv2.resize(r, (grid, grid), interpolation=cv2.INTER_AREA) for r in residuals])
    choice = cv2.resize(np.argmin(per_cell, axis=0).astype(np.uint8), grey.shape[::-1], interpolation=cv2.INTER_NEAREST)
    return np.choose(choice[..., None], flows).astype(np.float32)


#: `lk`: pyramidal Lucas–Kanade on a regular grid of points this far apart (grid pixels), kept where
#: tracking back lands within FB_PX of the start.
LK_SPACING = 4
FB_PX = 0.5
LK_PARAMS = dict(winSize=(9, 9), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))


#: `biglk`: the points are tracked on the frame with this long side, their motion scaled to the grid.
BIG_LONG_SIDE = 320


def _big_grey(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    return flow_module.to_small_grey(frame, flow_module.flow_shape(width, height, BIG_LONG_SIDE))


def _lk_field(previous: np.ndarray, grey: np.ndarray, cold: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The cold flow with each cell of the coarse grid replaced by the mean displacement of the grid
    points tracked there (forward–backward checked; on frames `1 / scale` times the grid's size, the
    motion scaled back); a cell with none keeps the cold flow."""
    height, width = grey.shape
    spacing = LK_SPACING / scale
    xs, ys = np.meshgrid(np.arange(spacing / 2, width, spacing), np.arange(spacing / 2, height, spacing))
    start = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32).reshape(-1, 1, 2)
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(previous, grey, start, None, **LK_PARAMS)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(grey, previous, ahead, None, **LK_PARAMS)
    returned = np.linalg.norm((back - start).reshape(-1, 2), axis=1) < FB_PX
    good = (found.ravel() == 1) & (found_back.ravel() == 1) & returned
    moved = (ahead - start).reshape(-1, 2)[good] * scale
    points = start.reshape(-1, 2)[good]
    grid = flow_module.COARSE_GRID
    field = cold.copy()
    height, width = cold.shape[:2]
    points = points * scale
    columns = np.minimum((points[:, 0] * grid / width).astype(int), grid - 1)
    rows = np.minimum((points[:, 1] * grid / height).astype(int), grid - 1)
    for row in range(grid):
        for column in range(grid):
            inside = (rows == row) & (columns == column)
            if inside.any():
                y0, y1 = round(row * height / grid), round((row + 1) * height / grid)
                x0, x1 = round(column * width / grid), round((column + 1) * width / grid)
                field[y0:y1, x0:x1] = moved[inside].mean(axis=0)
    return field


def _farneback(previous: np.ndarray, grey: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(previous, grey, None, *FARNEBACK)  # type: ignore[call-overload]


#: `farn`: pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags (flowrep.flow's).
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)


def _warm_call(self, frame_bgr: np.ndarray) -> np.ndarray | None:
    previous = self._previous
    t = _clock["t"]
    far = previous is not None and t - getattr(self, "_t_previous", -1e9) >= FAR_S
    cold = _shipped_call(self, frame_bgr)
    if self.repeated:
        return cold
    self._t_previous = t
    if cold is None:
        self._last = None
        return None
    chosen = cold
    if ("best" in VARIANT or "warm" in VARIANT) and (far or "far-" not in VARIANT):
        flows = _candidates(self, previous, self._previous, cold)
        chosen = flows[1] if VARIANT.endswith("warm") else _select(previous, self._previous, flows)
    if "farn" in VARIANT and (far or "far-" not in VARIANT):
        chosen = _farneback(previous, self._previous)
    if "sym" in VARIANT and (far or "far-" not in VARIANT):
        chosen = 0.5 * (cold - self._dis.calc(self._previous, previous, None))
    if "lk" in VARIANT:
        big = _big_grey(frame_bgr)
        big_previous, self._big_previous = getattr(self, "_big_previous", None), big
        if (far or "far-" not in VARIANT) and big_previous is not None and big_previous.shape == big.shape:
            if "biglk" in VARIANT:
                chosen = _lk_field(big_previous, big, cold, scale=cold.shape[1] / big.shape[1])
            else:
                chosen = _lk_field(previous, self._previous, cold)
    self._last = chosen
    if VARIANT.startswith("feat-"):  # the CNN keeps the shipped flow, the counter's field gets this one
        self.better = chosen
        return cold
    return chosen


def _encoder_call(self, frame_bgr: np.ndarray, dt: float):
    """FlowEncoder.__call__ with the counter's coarse field taken from the estimator's `better` flow."""
    self.estimator.better = None
    self.framed = None
    seconds = dt + self._skipped_dt  # the flow's time span, as the shipped call works it out
    encoded = _shipped_encode(self, frame_bgr, dt)
    better = getattr(self.estimator, "better", None)
    far = seconds >= FAR_S or "cropall" in VARIANT
    if "crop" in VARIANT and encoded is not None and self.framed is not None and far:
        better = self.framed
    if encoded is None or better is None:
        return encoded
    scale = flow_module.FlowScale.of(better, max(seconds, 1e-3))
    coarse = scale.to_speed(cv2.resize(better, (flow_module.COARSE_GRID,) * 2, interpolation=cv2.INTER_AREA))
    return dataclasses.replace(encoded, coarse_field=coarse)


_shipped_encode = flow_module.FlowEncoder.__call__
_shipped_framed = flow_module.FlowEncoder._framed_flow


def _framed_kept(self, grey: np.ndarray, box):
    """FlowEncoder._framed_flow, its flow kept for `_encoder_call`."""
    self.framed = _shipped_framed(self, grey, box)
    return self.framed


def _reset(self) -> None:
    _shipped_reset(self)
    self._last = None
    self._t_previous = -1e9
    self._big_previous = None


def record(variant: str, mode: str, folders: list[str], seed: int = 0) -> None:
    global VARIANT
    VARIANT = variant
    flow_module.FlowEstimator.__call__ = _warm_call  # type: ignore[method-assign]
    flow_module.FlowEstimator.reset = _reset  # type: ignore[method-assign]
    flow_module.FlowEncoder.__call__ = _encoder_call  # type: ignore[method-assign]
    flow_module.FlowEncoder._framed_flow = _framed_kept  # type: ignore[method-assign]
    shipped_process = pipeline.Session.process

    def process(self, frame, t, *args, **kwargs):  # the frame's time, for the far test
        _clock["t"] = t
        return shipped_process(self, frame, t, *args, **kwargs)

    pipeline.Session.process = process  # type: ignore[method-assign]
    tune_evidence.WebcamConditions = functools.partial(WebcamConditions, seed=seed)  # type: ignore[misc]
    cache = Path(f"/tmp/warm-{variant}" + (f"-seed{seed}" if seed else ""))
    tune_evidence.record(DATA, cache, tuple(folders), (mode,))


def _count(clip, live: bool, fields: np.ndarray | None = None, probabilities: np.ndarray | None = None) -> int:
    """A recorded clip's count (its own inputs, or the fields / probabilities given instead)."""
    inputs = {key: clip[key] for key in clip.files}
    if fields is not None:
        inputs["fields"] = fields
    if probabilities is not None:
        inputs["p"] = probabilities
    return tune_evidence.replay(inputs, CounterSettings(), live)


_figures = tune_evidence.half_figures


def replay(mode: str, caches: list[str]) -> None:
    for cache in caches:
        for folder in ("exercise", "quva", "jumprope"):
            paths = sorted((Path(cache) / mode / folder).glob("*.npz"))
            if not paths:
                continue
            rows = []
            for path in paths:
                clip = np.load(path)
                rows.append((int(clip["true"]), _count(clip, live=mode == "webcam")))
                if PER_CLIP:
                    print(f"  {path.stem} {rows[-1][0]} -> {rows[-1][1]}")
            print(f"{cache} {mode} {folder} n={len(rows)}: {_figures(rows)}", flush=True)


def _file_inputs_at_webcam_times(webcam, file) -> tuple[np.ndarray, np.ndarray]:
    """The file's small-step fields summed over each webcam interval (as speeds), and the file's
    probabilities at the last file frame of each interval."""
    file_t = file["t"]
    steps = np.diff(file_t, prepend=file_t[0])[:, None, None, None]
    moved = np.concatenate(
        [
            np.zeros((1, *file["fields"].shape[1:])),
            np.cumsum(file["fields"] * steps * file["has_field"][:, None, None, None], 0),
        ]
    )
    webcam_t = webcam["t"]
    last = np.searchsorted(file_t, webcam_t, side="right")  # file frames at or before each webcam frame
    summed = np.zeros_like(webcam["fields"])
    for i in range(1, len(webcam_t)):
        summed[i] = (moved[last[i]] - moved[last[i - 1]]) / max(webcam_t[i] - webcam_t[i - 1], 1e-3)
    return summed, file["p"][np.clip(last - 1, 0, len(file_t) - 1)]


def diagnose(cache: str) -> None:
    """Webcam QUVA counted live from four mixes of webcam and file inputs (`record shipped` both modes first)."""
    names = (
        "webcam fields, webcam CNN",
        "webcam fields, file CNN",
        "file fields summed, webcam CNN",
        "file fields summed, file CNN",
    )
    rows: list[list[tuple[int, int]]] = [[] for _ in names]
    for path in sorted((Path(cache) / "webcam" / "quva").glob("*.npz")):
        webcam, file = np.load(path), np.load(Path(cache) / "file" / "quva" / path.name)
        summed, file_p = _file_inputs_at_webcam_times(webcam, file)
        counts = [_count(webcam, True, f, p) for f in (None, summed) for p in (None, file_p)]
        for i, n in enumerate(counts):
            rows[i].append((int(webcam["true"]), n))
        print(f"  {path.stem:28s} true {int(webcam['true']):3d}  " + " ".join(f"{n:3d}" for n in counts))
    for name, r in zip(names, rows):
        print(f"{name:32s} {_figures(r)}")


def fidelity(caches: list[str]) -> None:
    """How alike each cache's webcam QUVA fields are to the file's small-step fields summed over the same
    intervals (`record shipped file quva` first): median per-frame cosine of the mean-removed fields
    (the evidence's features) and the ratio of their energies, averaged over clips."""
    reference = Path("/tmp/warm-shipped")
    for cache in caches:
        cosines, gains = [], []
        for path in sorted((Path(cache) / "webcam" / "quva").glob("*.npz")):
            webcam = np.load(path)
            summed, _ = _file_inputs_at_webcam_times(webcam, np.load(reference / "file" / "quva" / path.name))
            has = webcam["has_field"] & (np.arange(len(webcam["t"])) > 0)
            a, b = (x[has].reshape(has.sum(), -1) for x in (webcam["fields"], summed))
            a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
            cosines.append(np.median((a * b).sum(1) / (np.sqrt((a**2).sum(1) * (b**2).sum(1)) + 1e-12)))
            gains.append(np.sqrt((a**2).sum() / (b**2).sum()))
        print(f"{cache}: cosine {np.mean(cosines):.3f}  energy ratio {np.mean(gains):.3f}")


def vary(cache: str, name: str, values: list[float]) -> None:
    """Each folder and mode replayed with one setting at each value: `fewest_pairs`
    (`similarity._FEWEST_PAIRS`, a window's fewest sample pairs) or a `CounterSettings` field."""
    for value in values:
        settings = CounterSettings()
        if name == "fewest_pairs":
            similarity._FEWEST_PAIRS = int(value)
        else:
            settings = dataclasses.replace(settings, **{name: value})
        for mode in ("file", "webcam"):
            for folder in ("exercise", "quva", "jumprope"):
                clips = [np.load(p) for p in sorted((Path(cache) / mode / folder).glob("*.npz"))]
                rows = [(int(c["true"]), tune_evidence.replay(c, settings, mode == "webcam")) for c in clips]
                print(f"{name} {value:g} {mode:6s} {folder:9s} {_figures(rows)}", flush=True)


if __name__ == "__main__":
    use_one_thread()
    command, rest = sys.argv[1], sys.argv[2:]
    PER_CLIP = "-v" in rest
    rest = [a for a in rest if a != "-v"]
    if command == "record":
        seed = int(rest[rest.index("--seed") + 1]) if "--seed" in rest else 0
        rest = [a for i, a in enumerate(rest) if a != "--seed" and (i == 0 or rest[i - 1] != "--seed")]
        record(rest[0], rest[1], rest[2:], seed)
    elif command == "replay":
        replay(rest[0], rest[1:])
    elif command == "diagnose":
        diagnose(rest[0])
    elif command == "fidelity":
        fidelity(rest)
    else:
        vary(rest[0], rest[1], [float(v) for v in rest[2:]])
