"""Checks that a change to the counter or its evidence leaves every count where it was: replays the
counter inputs recorded from the dev clips through `RepCounter` and keeps everything a user would see
(each rep the live count showed, with its start, turn, end and counted time; the live count as each
stream ended; the final reps), then compares two such replays exactly.

    python scripts/tune_evidence.py ...            # or: python scripts/replay_counts.py record
    python scripts/replay_counts.py replay /tmp/before.pkl        # on the code before (a checkout)
    python scripts/replay_counts.py replay /tmp/after.pkl         # on the code after
    python scripts/replay_counts.py compare /tmp/before.pkl /tmp/after.pkl

`record` runs every clip of ../shared/data once through the engine, as a file and as a browser webcam
delivers it, and caches what its counter receives (`scripts/tune_evidence.py`'s recording, in
--cache, default /tmp/flowrep-tune). `replay` counts each recording live where a webcam delivered it,
as a file where it is a file, and the exercise files live on every frame too; it runs the code that
`flowrep` imports (point PYTHONPATH at a checkout, and run from outside the repo, to replay another).
Session 25 used it for the live re-read: 107 runs, identical.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNS = [("webcam", folder, True) for folder in ("exercise", "quva", "jumprope")]
RUNS += [("file", folder, False) for folder in ("exercise", "quva", "jumprope")]
RUNS += [("file", "exercise", True)]

Rep = tuple[int, float, float, float, float]


def _reps(reps) -> list[Rep]:
    return [(r.number, r.start_s, r.turn_s, r.end_s, r.counted_s) for r in reps]


def replay_clip(clip, live: bool) -> tuple[list[Rep], int, list[Rep]]:
    """(reps shown as they were counted, the count as the stream ended, the final reps)."""
    from flowrep.counter import CounterSettings, RepCounter

    counter = RepCounter(CounterSettings(), live=live)
    shown: list[Rep] = []
    for t, p, field, has_field, repeated in zip(
        clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
    ):
        shown += _reps(counter.update(float(t), p, field if has_field else None, bool(repeated)))
    at_end = counter.count
    counter.finish()
    return shown, at_end, _reps(counter.reps)


def replay(cache: Path, out: Path) -> None:
    import flowrep

    print(f"replaying with {Path(flowrep.__file__).parent}", flush=True)
    results = {}
    for mode, folder, live in RUNS:
        started = time.perf_counter()
        for path in sorted((cache / mode / folder).glob("*.npz")):
            results[(mode, folder, live, path.stem)] = replay_clip(np.load(path), live)
        print(f"{mode} {folder} {'live' if live else 'as a file'}: {time.perf_counter() - started:.1f} s", flush=True)
    with out.open("wb") as file:
        pickle.dump(results, file)


def compare(before: Path, after: Path) -> int:
    with before.open("rb") as a, after.open("rb") as b:
        old, new = pickle.load(a), pickle.load(b)
    if old.keys() != new.keys():
        print(f"different runs: {len(old)} and {len(new)}")
        return 1
    differ = [key for key in old if old[key] != new[key]]
    print(f"{len(old)} runs; {len(differ)} differ")
    for key in differ[:20]:
        print(f"  {key}: count at end {old[key][1]} -> {new[key][1]}, final {len(old[key][2])} -> {len(new[key][2])}")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/flowrep-tune"))
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("record")
    commands.add_parser("replay").add_argument("out", type=Path)
    pair = commands.add_parser("compare")
    pair.add_argument("before", type=Path)
    pair.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        import tune_evidence

        from flowrep.model import use_one_thread

        use_one_thread()
        tune_evidence.record(args.data, args.cache)
        return 0
    if args.command == "replay":
        replay(args.cache, args.out)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
