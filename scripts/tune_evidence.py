"""The tuning protocol of the repetition evidence's settings: choose on half of each dev folder,
report on the other half.

    python scripts/tune_evidence.py [--grid strength|all] [--data ../shared/data] [--cache /tmp/flowrep-tune]

Every clip of ../shared/data/{exercise,quva,jumprope} is run once through the engine (as a file and
as a browser webcam delivers it), and what its counter receives frame by frame (time, the CNN's
probabilities, the coarse flow field, repeated frames) is cached. Each setting of the grid then
replays those inputs through `RepCounter`: a file's as a file is counted, a webcam's live, as
`flowrep bench --webcam` counts it (until session 15 webcam inputs were replayed as files too, which
hid the live counter's own failures, e.g. squat_sumukh_1's 4 of 2). Within each folder the clips, sorted
by name, alternate between half A and half B. The objective is the mean MAE of four figures
(exercise and QUVA, file and webcam conditions), among the settings that keep the exercise clips'
within-one-rep share at issue 19's floors on that half (`OBO_FLOOR`); the setting best on half A is
reported on half B, and the other way round, and on the whole folders. Jump rope is reported, never
used to choose. `--grid` picks the settings varied (`GRIDS`); the others stay as shipped.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flowrep.pipeline as pipeline  # noqa: E402
from flowrep.conditions import WebcamConditions  # noqa: E402
from flowrep.counter import CounterSettings, RepCounter  # noqa: E402
from flowrep.model import use_one_thread  # noqa: E402
from flowrep.periodicity import EvidenceSettings  # noqa: E402
from flowrep.pipeline import Session, count_clip  # noqa: E402

FOLDERS = ("exercise", "quva", "jumprope")
MODES = ("file", "webcam")
CHOSEN_BY = (("file", "exercise"), ("file", "quva"), ("webcam", "exercise"), ("webcam", "quva"))
GRIDS = {
    # The first grid (session 12).
    "all": {
        "window_s": (0.5, 1.0),
        "context_s": (3.0, 5.0, 8.0),
        "near": (0.1, 0.2, 0.3),
        "min_strength": (0.2, 0.3, 0.4),
    },
    # The strength from which motion repeats (session 14), the rest as shipped; see docs/experiments.md
    # for the hysteresis (a weaker floor once a run has started) tried on the same protocol and dropped.
    "strength": {"min_strength": (0.05, 0.1, 0.15, 0.2, 0.3)},
}
#: A setting is only chosen where, on the half it is chosen on, the exercise clips stay within one rep
#: as often as issue 19 asks (file 0.95, webcam conditions 0.93).
OBO_FLOOR = {("file", "exercise"): 0.95, ("webcam", "exercise"): 0.93}


class _Recording(RepCounter):
    """A counter that also keeps what it was fed."""

    frames: list[tuple[float, np.ndarray, np.ndarray | None, bool]] = []

    def update(self, t, probabilities, features=None, repeated=False):
        _Recording.frames.append(
            (t, np.array(probabilities), None if features is None else np.array(features), repeated)
        )
        return super().update(t, probabilities, features, repeated)


def record(data: Path, cache: Path, folders: tuple[str, ...] = FOLDERS, modes: tuple[str, ...] = MODES) -> None:
    """Runs every clip once per mode through the engine as it is now (experiments patch it first) and
    caches its counter's inputs as cache/MODE/FOLDER/CLIP.npz (skips what is cached)."""
    pipeline.RepCounter = _Recording  # type: ignore[misc]
    session = Session()
    for folder, mode in itertools.product(folders, modes):
        for row in csv.DictReader((data / folder / "labels.csv").open()):
            out = cache / mode / folder / f"{row['file']}.npz"
            if out.exists():
                continue
            _Recording.frames = []
            transform = WebcamConditions() if mode == "webcam" else None
            count_clip(data / folder / row["file"], session, transform=transform)
            save_recording(out, _Recording.frames, int(row["count"]))
            print(f"recorded {mode} {folder}/{row['file']}", flush=True)


def save_recording(out: Path, frames: list[tuple], true_count: int, **extra: np.ndarray) -> None:
    """One clip's recorded counter inputs (and any `extra` arrays an experiment keeps) as `out`."""
    t, p, f, r = zip(*frames)
    blank = np.zeros_like(next((x for x in f if x is not None), np.zeros((6, 6, 2))))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        t=np.array(t),
        p=np.stack(p),
        fields=np.stack([blank if x is None else x for x in f]),
        has_field=np.array([x is not None for x in f]),
        repeated=np.array(r),
        true=true_count,
        **extra,
    )


def replay(clip: np.lib.npyio.NpzFile, settings: CounterSettings, live: bool) -> int:
    """The count of a recorded clip under `settings`: as a file is counted, or live (as `flowrep bench
    --webcam` counts what a webcam delivers)."""
    counter = RepCounter(settings, live=live)
    for t, p, field, has_field, repeated in zip(
        clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
    ):
        counter.update(float(t), p, field if has_field else None, bool(repeated))
    counter.finish()
    return counter.count


def half_figures(rows: list[tuple[int, int]]) -> str:
    """'A mae (obo)  B mae (obo)  all mae (obo)' of (true, counted) rows in name order: the clips
    alternate between half A and half B, as in this protocol."""
    parts = []
    for name, half in (("A", 0), ("B", 1), ("all", None)):
        chosen = [row for i, row in enumerate(rows) if half is None or i % 2 == half]
        mae = np.mean([abs(counted - true) / true for true, counted in chosen])
        obo = np.mean([abs(counted - true) <= 1 for true, counted in chosen])
        parts.append(f"{name} {mae:.3f} ({obo:.2f})")
    return "  ".join(parts)


def main() -> int:
    use_one_thread()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    parser.add_argument("--cache", default="/tmp/flowrep-tune")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="strength", help="which settings to vary")
    args = parser.parse_args()
    grid = GRIDS[args.grid]
    cache = Path(args.cache)
    record(Path(args.data), cache)
    clips = {
        (mode, folder): [np.load(p) for p in sorted((cache / mode / folder).glob("*.npz"))]
        for mode, folder in itertools.product(MODES, FOLDERS)
    }
    results = {}
    for values in itertools.product(*grid.values()):
        chosen = dict(zip(grid, values))
        settings = CounterSettings(evidence=replace(EvidenceSettings(), **chosen))
        results[values] = {
            key: [(int(c["true"]), replay(c, settings, live=key[0] == "webcam")) for c in group]
            for key, group in clips.items()
        }
        print(chosen, flush=True)

    def mae(values: tuple, key: tuple[str, str], half: int | None) -> float:
        rows = [r for i, r in enumerate(results[values][key]) if half is None or i % 2 == half]
        return float(np.mean([abs(pred - true) / true for true, pred in rows]))

    def obo(values: tuple, key: tuple[str, str], half: int | None) -> float:
        rows = [r for i, r in enumerate(results[values][key]) if half is None or i % 2 == half]
        return float(np.mean([abs(pred - true) <= 1 for true, pred in rows]))

    def objective(values: tuple, half: int | None) -> float:
        return float(np.mean([mae(values, key, half) for key in CHOSEN_BY]))

    def allowed(values: tuple, half: int) -> bool:
        return all(obo(values, key, half) >= floor for key, floor in OBO_FLOOR.items())

    print("\nsetting: objective on half A / B, and whether it keeps the OBO floors there")
    for values in results:
        floors = "/".join("yes" if allowed(values, half) else "no" for half in (0, 1))
        print(f"  {dict(zip(grid, values))}: {objective(values, 0):.4f} / {objective(values, 1):.4f}  floors {floors}")

    for tune, report in ((0, 1), (1, 0)):
        best = min((v for v in results if allowed(v, tune)), key=lambda v: objective(v, tune))
        print(f"\nchosen on half {'AB'[tune]}: {dict(zip(grid, best))}")
        for key in [*CHOSEN_BY, ("file", "jumprope"), ("webcam", "jumprope")]:
            print(
                f"  {key[0]:6s} {key[1]:9s} half {'AB'[tune]} {mae(best, key, tune):.3f}   "
                f"half {'AB'[report]} {mae(best, key, report):.3f} (OBO {obo(best, key, report):.2f})   "
                f"all {mae(best, key, None):.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
