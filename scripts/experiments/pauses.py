"""Session 30: a person who pauses between reps (`flowrep bench DIR --pause S`). Records the counter's
inputs of the dev clips under that condition, then replays them, with the other recorded conditions,
under the two settings this session added: the evidence's `motion_reach` (how many periods before
and after a sample the picture must move for it to repeat; 0.5 before) and the counter's
`pause_share` (how still the rest of a set's last cycle must have been in the cycles before for the
set's phase to be rounded up; 1 = never, as before). A replay experiment; docs/experiments.md,
"Session 30".

    PYTHONPATH=. python scripts/experiments/pauses.py record 1 2      # pauses of 1 s and 2 s, file and webcam seed 0
    python scripts/replay_counts.py record                             # the dev clips as they are
    PYTHONPATH=. python scripts/experiments/rests.py make && PYTHONPATH=. python scripts/experiments/rests.py record
    PYTHONPATH=. python scripts/experiments/pauses.py replay

Halves as in `tune_evidence.py` (clips sorted by name alternate A, B; a joined clip is its half's).
The objective of a setting is the mean MAE, per half, over every recorded condition but jump rope.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import flowrep.pipeline as pipeline
from flowrep.bench import BenchOptions, pause_frames, read_labels
from flowrep.counter import CounterSettings
from flowrep.periodicity import EvidenceSettings
from flowrep.pipeline import Session, count_clip
from scripts import tune_evidence
from scripts.experiments.rests import half_of

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CACHE = Path("/tmp/flowrep-pauses")
FOLDERS = ("exercise", "quva")


def record(pauses: list[float]) -> None:
    pipeline.RepCounter = tune_evidence._Recording  # type: ignore[misc]
    session = Session()
    for pause in pauses:
        for mode in ("file", "webcam"):
            options = BenchOptions(mode, pause_s=pause)
            for folder in FOLDERS:
                for label in read_labels(DATA / folder):
                    out = CACHE / f"{pause:g}" / mode / folder / f"{label.file}.npz"
                    if out.exists():
                        continue
                    tune_evidence._Recording.frames = []
                    path = DATA / folder / label.file
                    count_clip(path, session, transform=options.transform(pause_frames(path, label)))
                    tune_evidence.save_recording(out, tune_evidence._Recording.frames, label.count)
                    print(f"recorded {pause:g} s {mode} {folder}/{label.file}", flush=True)


GRID = [(0.5, 1.0), (1.0, 1.0), (0.5, 0.8), (1.0, 0.5), (1.0, 0.8)]  # (motion_reach, pause_share)


def _conditions() -> list[tuple[Path, str, str]]:
    tune, rests = Path("/tmp/flowrep-tune"), Path("/tmp/flowrep-rests/cache")
    conditions = [(tune, "as cut", folder) for folder in FOLDERS]
    conditions += [(path, f"pause {path.name} s", folder) for path in sorted(CACHE.iterdir()) for folder in FOLDERS]
    conditions += [(rests, "rests", f"{kind}_{folder}") for kind in ("still", "joined") for folder in FOLDERS]
    return conditions


def replay() -> None:
    objective: dict[tuple[float, float], dict[str, list[float]]] = {v: {"A": [], "B": []} for v in GRID}
    for cache, name, folder in _conditions():
        for mode in ("file", "webcam"):
            paths = sorted((cache / mode / folder).glob("*.npz"))
            if not paths:
                continue
            cells = []
            for reach, share in GRID:
                settings = CounterSettings(evidence=EvidenceSettings(motion_reach=reach), pause_share=share)
                errors: dict[str, list[float]] = {"A": [], "B": []}
                for index, path in enumerate(paths):
                    clip = np.load(path)
                    counted = tune_evidence.replay(clip, settings, live=mode == "webcam")
                    errors[half_of(path, index)].append(abs(counted - int(clip["true"])) / int(clip["true"]))
                for half in "AB":
                    objective[(reach, share)][half].append(float(np.mean(errors[half])))
                cells.append(f"{reach:g},{share:g}: {np.mean(errors['A']):.3f}/{np.mean(errors['B']):.3f}")
            print(f"{name:9s} {mode:6s} {folder:16s} " + " | ".join(cells), flush=True)
    print(
        "objective (mean MAE, half A / B): "
        + " | ".join(f"{r:g},{s:g}: {np.mean(o['A']):.4f}/{np.mean(o['B']):.4f}" for (r, s), o in objective.items())
    )


def main() -> int:
    command, *values = sys.argv[1:] or ["replay"]
    if command == "record":
        record([float(v) for v in values] or [1.0, 2.0])
    else:
        replay()
    return 0


if __name__ == "__main__":
    sys.exit(main())
