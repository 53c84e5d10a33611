"""Session 27: take out the judder of a re-timed clip by scaling each frame's motion features to the
energy of its neighbourhood. A replay experiment on the cached recordings, not a counter. See
docs/experiments.md, "Session 27".

    python scripts/replay_counts.py record            # the counter inputs of every dev clip, cached
    PYTHONPATH=. python scripts/experiments/dejudder.py HALF_WIDTH CAP [CACHE]

Each frame's motion features f_t (rms e_t) are multiplied by min(CAP, max(1/CAP, m_t / e_t)), where
m_t is the median of e over the frames t-HALF_WIDTH .. t+HALF_WIDTH for a file (whole clip known)
and over t-2*HALF_WIDTH .. t for a live count (it looks back only). A clip put out at a frame rate
that its frames were not taken at moves unevenly from frame to frame (curl_sumukh_1: steps of 1, 1/2,
1, 1, 1/2 in turn), which the evidence otherwise reads as a repetition a few frames long; the scale
keeps the motion's direction and its slower rise and fall. HALF_WIDTH 0 is the shipped counter.
Prints whole-clip figures per half (files as files, webcam recordings live) and, for each file, the
first 5 s counted as a file against the reps labelled to end by then.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
from flowrep.counter import CounterSettings
from flowrep.periodicity import motion_features
from scripts.experiments.short_clips import counted_over, whole_rows
from scripts.tune_evidence import half_figures
from scripts.tune_evidence import replay as replay_recording

FOLDERS = ("exercise", "quva", "jumprope")


def scaled(clip, half_width: int, cap: float, live: bool) -> list[np.ndarray]:
    fields = [f for f, has, rep in zip(clip["fields"], clip["has_field"], clip["repeated"]) if has and not rep]
    features = [motion_features(f) for f in fields]
    if half_width == 0:
        return features
    energy = np.array([np.sqrt(np.mean(f**2)) for f in features])
    out = []
    for t, f in enumerate(features):
        lo, hi = (t - 2 * half_width, t + 1) if live else (t - half_width, t + half_width + 1)
        typical = float(np.median(energy[max(0, lo) : hi]))
        scale = typical / max(energy[t], 1e-9)
        out.append(f * min(cap, max(1.0 / cap, scale)))
    return out


def count(clip, half_width: int, cap: float, live: bool, until: int | None = None) -> int:
    if until is not None:
        clip = {key: clip[key][: until + 1] for key in ("t", "p", "fields", "has_field", "repeated")}
    queue = iter(scaled(clip, half_width, cap, live))
    counter_module.motion_features = lambda _field: next(queue)
    try:
        return replay_recording(clip, CounterSettings(), live)
    finally:
        counter_module.motion_features = motion_features


def main() -> int:
    half_width, cap = int(sys.argv[1]), float(sys.argv[2])
    cache = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/flowrep-tune")
    print(f"HALF_WIDTH {half_width} CAP {cap:g} ({cache})")
    counted = functools.partial(count, half_width=half_width, cap=cap)
    for folder in FOLDERS:
        for mode in ("file", "webcam"):
            rows = whole_rows(cache, folder, mode, counted)
            print(f"  {folder:9s} {mode:6s} {half_figures(rows)}  {[c for _, c in rows]}", flush=True)
        over = counted_over(cache, folder, 5.0, counted)
        print(f"  {folder:9s} first 5 s more than one over: {len(over)}  {'; '.join(over)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
