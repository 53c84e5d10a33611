"""Session 21: a timed work step that runs out finishes its set (flowrep.workout.WorkoutSession).
Each exercise clip is run by `flowrep workout`'s path as back-to-back timed sets of STEP seconds
(`x: 20 × STEP s`, no rests), at the page camera's 10 frames/s; the sum of the sets' reps is scored
against the clip's count, as `flowrep bench` scores a folder. See docs/experiments.md, "Session 21".

    python scripts/experiments/timed_sets.py 10 [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

from flowrep.bench import read_labels
from flowrep.cli_workout import run_plan_on_clip
from flowrep.pipeline import Session
from flowrep.plans import find_plan
from flowrep.signals import make_signal


def main() -> None:
    step_s = float(sys.argv[1])
    folder = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data/exercise")
    session = Session(make_signal("cnn"))
    errors = []
    for label in read_labels(folder):
        runner = run_plan_on_clip(str(folder / label.file), find_plan(f"x: 20 × {step_s:g} s"), session)
        reps = runner.summary().reps
        errors.append(abs(reps - label.count) / label.count)
        print(label.file, label.count, reps, [r.reps for r in runner.records if r.step.is_work])
    print(f"MAE {sum(errors) / len(errors):.3f}")


if __name__ == "__main__":
    main()
