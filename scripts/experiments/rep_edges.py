"""Session 31: where a rep begins and ends when the person pauses between reps. Replays the recorded
counter inputs of the QUVA clips (the only dev folder whose labels say when each rep ends) as cut
and with 1 s and 2 s pauses after each rep, as files and at webcam seed 0, and measures how far
each counted rep's end is from the labelled end of its motion (`bench.match_reps`, the bench's
pairing), with the reps meeting at the phase's edges (before) and with each edge moved into the
still picture around it (`counter._motion_spans`, after). Counts do not change, only rep times.
A replay experiment; docs/experiments.md, "Session 31".

    python scripts/replay_counts.py record                              # the clips as cut
    PYTHONPATH=. python scripts/experiments/pauses.py record 1 2         # with pauses
    PYTHONPATH=. python scripts/experiments/rep_edges.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import flowrep.counter as counter
from flowrep.bench import match_reps, read_labels
from flowrep.counter import CounterSettings, RepCounter
from flowrep.video import probe

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CONDITIONS = [(Path("/tmp/flowrep-tune"), 0.0)] + [(Path(f"/tmp/flowrep-pauses/{p:g}"), p) for p in (1.0, 2.0)]
SHIPPED_SPANS = counter._motion_spans


def _meeting(edges: list[float], stills: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return list(zip(edges[:-1], edges[1:]))


def _ends(clip: np.lib.npyio.NpzFile, live: bool) -> list[float]:
    rep_counter = RepCounter(CounterSettings(), live=live)
    for t, p, field, has_field, repeated in zip(
        clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
    ):
        rep_counter.update(float(t), p, field if has_field else None, bool(repeated))
    rep_counter.finish()
    return [rep.end_s for rep in rep_counter.reps]


def main() -> None:
    labels = read_labels(DATA / "quva")
    fps = {label.file: probe(DATA / "quva" / label.file).fps for label in labels}
    for cache, pause in CONDITIONS:
        for mode in ("file", "webcam"):
            cells = []
            for name, spans in (("before", _meeting), ("after", SHIPPED_SPANS)):
                counter._motion_spans = spans
                errors: list[float] = []
                missed = extra = 0
                for label in labels:
                    assert label.end_frames is not None
                    clip = np.load(cache / mode / "quva" / f"{label.file}.npz")
                    true = [frame / fps[label.file] + k * pause for k, frame in enumerate(label.end_frames)]
                    match = match_reps(true, _ends(clip, live=mode == "webcam"))
                    errors += match.end_errors_s
                    missed, extra = missed + match.missed, extra + match.extra
                cells.append(
                    f"{name}: end error median {np.median(errors):.3f} s, p90 {np.percentile(errors, 90):.3f} s, "
                    f"missed {missed}, extra {extra}"
                )
            print(f"pause {pause:g} s, {mode}: " + " | ".join(cells), flush=True)
    counter._motion_spans = SHIPPED_SPANS


if __name__ == "__main__":
    main()
