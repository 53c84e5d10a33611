"""Session 26: short clips, and the judder of a clip whose frame rate was converted. A diagnostic
and a replay experiment, not a counter. See docs/experiments.md, "Session 26".

    python scripts/replay_counts.py record            # the counter inputs of every dev clip, cached
    PYTHONPATH=. python scripts/experiments/short_clips.py judder
    PYTHONPATH=. python scripts/experiments/short_clips.py replay [EPS ...]
    PYTHONPATH=. python scripts/experiments/short_clips.py prefix SECONDS

`judder`: for each clip recorded as a file, the autocorrelation, at lags of 2-8 frames, of the
high-pass part (less a 9-frame moving mean) of its per-frame motion energy (the rms of the counter's
motion features). A clip whose frames were re-timed (a 30 frames/s recording put out at 25, say)
repeats its frames' unevenness every few frames: curl_sumukh_1's energy correlates +0.80 at 5 frames.

`prefix`: each file's first SECONDS counted as a file, against the labelled reps that ended by then
(rep ends from `cycle_end_frames`, or spread evenly from `start_frame` to `end_frame`); the clips
counted more than one over are listed.

`replay`: each recording through the counter as shipped (EPS 0) and with each frame's motion features
divided by max(their rms, EPS), which takes out a per-frame scale (judder) and keeps their direction:
whole clips (files as files, webcam deliveries live), and each file's first 2.5 reps (cut at the
middle of its third labelled rep; the count there should be 2 or 3). Clips alternate between half A
and half B in name order, as in scripts/tune_evidence.py.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
from flowrep.counter import CounterSettings
from flowrep.periodicity import motion_features
from scripts.tune_evidence import half_figures
from scripts.tune_evidence import replay as replay_recording

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CACHE = Path("/tmp/flowrep-tune")
FOLDERS = ("exercise", "quva", "jumprope")


def labels(folder: str) -> list[dict[str, str]]:
    return list(csv.DictReader((DATA / folder / "labels.csv").open()))


def cut_frame(row: dict[str, str]) -> int | None:
    """The frame in the middle of the clip's third rep (None: fewer than four reps labelled)."""
    count = int(row["count"])
    if row.get("cycle_end_frames"):
        ends = [int(x) for x in row["cycle_end_frames"].split()]
        return ends[1] + (ends[2] - ends[1]) // 2 if len(ends) >= 4 else None
    if count < 3:
        return None
    start, end = int(row["start_frame"]), int(row["end_frame"])
    return int(start + 2.5 * (end - start) / count)


def rms_energy(clip: np.lib.npyio.NpzFile) -> np.ndarray:
    fields = [f for f, has in zip(clip["fields"], clip["has_field"]) if has]
    return np.array([np.sqrt(np.mean(motion_features(f) ** 2)) for f in fields])


def judder() -> None:
    for folder in FOLDERS:
        for row in labels(folder):
            energy = rms_energy(np.load(CACHE / "file" / folder / f"{row['file']}.npz"))
            high = energy - np.convolve(energy, np.ones(9) / 9, mode="same")
            high -= high.mean()
            lags = [float(np.dot(high[:-k], high[k:]) / np.dot(high, high)) for k in range(2, 9)]
            best = int(np.argmax(lags))
            shown = " ".join(f"{v:+.2f}" for v in lags)
            print(f"{folder}/{row['file']:30s} {shown}   best {best + 2} frames ({lags[best]:+.2f})")


def count(clip: np.lib.npyio.NpzFile, live: bool, until: int | None = None) -> int:
    """tune_evidence's replay of a recording, through frame `until` where given."""
    if until is not None:
        clip = {key: clip[key][: until + 1] for key in ("t", "p", "fields", "has_field", "repeated")}
    return replay_recording(clip, CounterSettings(), live)


def scaled_features(eps: float):
    def features(coarse_field: np.ndarray) -> np.ndarray:
        f = motion_features(coarse_field)
        return f / max(float(np.sqrt(np.mean(f**2))), eps)

    return features


def whole_rows(cache: Path, folder: str, mode: str, counted: Callable[..., int]) -> list[tuple[int, int]]:
    """(true, counted) for each of a folder's recordings in `mode` (counted live where a webcam
    delivered it: `counted(clip, live=...)`), in name order."""
    return [
        (int(row["count"]), counted(np.load(cache / mode / folder / f"{row['file']}.npz"), live=mode == "webcam"))
        for row in labels(folder)
    ]


def replay(eps_values: list[float]) -> None:
    for eps in eps_values:
        counter_module.motion_features = scaled_features(eps) if eps > 0 else motion_features
        print(f"EPS {eps:g}")
        for folder in FOLDERS:
            for mode in ("file", "webcam"):
                print(f"  {folder:9s} {mode:6s} whole  {half_figures(whole_rows(CACHE, folder, mode, count))}")
            short = []
            for row in labels(folder):
                if (frame := cut_frame(row)) is not None:
                    clip = np.load(CACHE / "file" / folder / f"{row['file']}.npz")
                    short.append((2.5, count(clip, live=False, until=frame)))
            inside = np.mean([2 <= c <= 3 for _, c in short])
            worst = max(c for _, c in short)
            print(f"  {folder:9s} file   first 2.5 reps: 2-3 counted in {inside:.2f} of {len(short)}, most {worst}")


def ends_by(row: dict[str, str], frame: int) -> int:
    if row.get("cycle_end_frames"):
        return sum(int(x) <= frame for x in row["cycle_end_frames"].split())
    count, start, end = int(row["count"]), int(row["start_frame"]), int(row["end_frame"])
    return sum(start + (i + 1) * (end - start) / count <= frame for i in range(count))


def counted_over(cache: Path, folder: str, seconds: float, counted: Callable[..., int]) -> list[str]:
    """The files whose first `seconds`, counted as files (`counted(clip, live=False, until=frame)`),
    count more than one over the reps labelled to end by then: 'CLIP counted of true'."""
    over = []
    for row in labels(folder):
        clip = np.load(cache / "file" / folder / f"{row['file']}.npz")
        frame = int(np.searchsorted(clip["t"], seconds))
        if frame >= len(clip["t"]):
            continue
        found, true = counted(clip, live=False, until=frame), ends_by(row, frame)
        if found > true + 1:
            over.append(f"{row['file']} {found} of {true}")
    return over


def prefix(seconds: float) -> None:
    for folder in FOLDERS:
        over = counted_over(CACHE, folder, seconds, count)
        print(f"{folder}: first {seconds:g} s, counted more than one over: {len(over)}  {'; '.join(over)}")


def main() -> int:
    if sys.argv[1:2] == ["judder"]:
        judder()
    elif sys.argv[1:2] == ["prefix"] and len(sys.argv) == 3:
        prefix(float(sys.argv[2]))
    elif sys.argv[1:2] == ["replay"]:
        replay([float(x) for x in sys.argv[2:]] or [0.0])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
