"""Session 31: where a rep begins and ends when the person pauses between reps. Replays the recorded
counter inputs of the QUVA clips (the only dev folder whose labels say when each rep ends) as cut
and with 1 s and 2 s pauses after each rep, as files and at webcam seed 0, and measures how far
each counted rep's end is from the labelled end (`bench.match_reps`, the bench's pairing), median /
p90 in seconds, over all clips and per half (clips sorted by name alternate A, B). Three ways to
place the reps' edges (counts do not change, only rep times):

- `meeting`: reps meet at the phase's edges (before session 31);
- `longest`: an edge moves into the longest still stretch (≥ `still_s`) within a quarter cycle of it;
- `nearest`: ... into the nearest such stretch (`counter._motion_spans`, shipped).

    python scripts/replay_counts.py record                              # the clips as cut
    PYTHONPATH=. python scripts/experiments/pauses.py record 1 2         # with pauses
    PYTHONPATH=. python scripts/experiments/rep_edges.py

A replay experiment; docs/experiments.md, "Session 31".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import flowrep.counter as counter
from flowrep.bench import match_reps, read_labels
from flowrep.counter import CounterSettings, RepCounter
from flowrep.video import probe

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CONDITIONS = [(Path("/tmp/flowrep-tune"), 0.0)] + [(Path(f"/tmp/flowrep-pauses/{p:g}"), p) for p in (1.0, 2.0)]
Spans = list[tuple[float, float]]


def meeting(edges: list[float], stills: Spans) -> Spans:
    return list(zip(edges[:-1], edges[1:]))


def longest(edges: list[float], stills: Spans) -> Spans:
    """`_motion_spans` keeping, for each edge, the longest still stretch assigned to it."""
    halves = [0.5 * (b - a) for a, b in zip(edges, edges[1:])]
    near: dict[int, tuple[float, float]] = {}
    for still in stills:
        k = min(range(len(edges)), key=lambda i: counter._distance(edges[i], still))
        reach = 0.5 * min(halves[max(0, k - 1)], halves[min(k, len(halves) - 1)])
        kept = near.get(k, (math.inf, -math.inf))
        if counter._distance(edges[k], still) <= reach and still[1] - still[0] > kept[1] - kept[0]:
            near[k] = still
    return counter._moved_edges(edges, near)


VARIANTS = {"meeting": meeting, "longest": longest, "nearest": counter._motion_spans}


def _ends(clip: np.lib.npyio.NpzFile, live: bool) -> list[float]:
    rep_counter = RepCounter(CounterSettings(), live=live)
    for t, p, field, has_field, repeated in zip(
        clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
    ):
        rep_counter.update(float(t), p, field if has_field else None, bool(repeated))
    rep_counter.finish()
    return [rep.end_s for rep in rep_counter.reps]


def _figure(errors: list[float]) -> str:
    return f"{np.median(errors):.3f} / {np.percentile(errors, 90):.3f}"


def main() -> None:
    labels = sorted(read_labels(DATA / "quva"), key=lambda label: label.file)
    fps = {label.file: probe(DATA / "quva" / label.file).fps for label in labels}
    shipped = counter._motion_spans
    for cache, pause in CONDITIONS:
        for mode in ("file", "webcam"):
            cells = []
            for name, spans in VARIANTS.items():
                counter._motion_spans = spans
                errors: dict[str, list[float]] = {"A": [], "B": []}
                for index, label in enumerate(labels):
                    assert label.end_frames is not None
                    clip = np.load(cache / mode / "quva" / f"{label.file}.npz")
                    true = [frame / fps[label.file] + k * pause for k, frame in enumerate(label.end_frames)]
                    errors["AB"[index % 2]] += match_reps(true, _ends(clip, live=mode == "webcam")).end_errors_s
                every = errors["A"] + errors["B"]
                cells.append(f"{name} {_figure(every)} (A {_figure(errors['A'])}, B {_figure(errors['B'])})")
            counter._motion_spans = shipped
            print(f"pause {pause:g} s, {mode}: " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
