"""What the Workout tab's texts and tables say: the step, its reps, its clock, the sound a cue makes,
the summary's and history's columns, and the plan format's help line. Pure functions of a runner."""

from __future__ import annotations

import math

import pandas as pd

from flowrep.plans import count_text, unit_for
from flowrep.summary import TABLE_HEADERS as SUMMARY_HEADERS
from flowrep.summary import Outcome, WorkoutSummary, clock_text
from flowrep.ui.visitor import md_text
from flowrep.workout import Cue, Event, WorkoutRunner

HISTORY_HEADERS = ["finished", "plan", "status", "reps", "training", "working", "resting"]
PLAN_FORMAT = (
    "One exercise a line: `push-ups: 10 reps`, `plank: 45 s`, `squats: 8 x 20 s, rest 10 s` (rounds), "
    "and `rest: 30 s` for the rest between exercises."
)


def sound_for(cues: list[Event]) -> str | None:
    """The one sound workout_sounds.js plays for these cues: 'target', 'rep', 'go' or none."""
    if Outcome.TARGET_REACHED in cues or Outcome.TIME_UP in cues:
        return "target"
    if Cue.REP in cues:
        return "rep"
    if Cue.WORK_STARTED in cues:
        return "go"
    return None


def step_markdown(runner: WorkoutRunner | None) -> str:
    if runner is None:
        return "### Choose a plan and press **Start workout**"
    step = runner.step
    if runner.finished or step is None:
        return f"## {'Stopped' if runner.stopped else 'Done!'}\n{md_text(runner.plan.name)}: the summary is below."
    rounds = f" · round {step.round} of {step.rounds}" if step.rounds > 1 else ""
    if step.is_work:
        return f"## {md_text(step.exercise)}\n{step.target_text}{rounds}"
    coming = runner.next_work_step
    after = f"next: **{md_text(coming.exercise)}**, {coming.target_text}{rounds}" if coming else ""
    return f"## {md_text(step.title)}\n{after}"


def step_count_markdown(runner: WorkoutRunner | None, clock: float) -> str:
    """A reps target's count ('1 rep of 3'); a timed step's (a plank's) time so far, and its reps if
    any; once the workout is over, its reps in all ('12 reps in all'); a dash in a rest."""
    step = runner.step if runner is not None else None
    if runner is not None and runner.finished:
        done = runner.summary().reps
        return f"# {done}\n{unit_for(done, 'rep')} in all"
    if runner is None or step is None or not step.is_work:
        return "# –\nreps"
    if step.seconds is not None:
        reps = f" · {count_text(runner.step_reps, 'rep')}" if runner.step_reps else ""
        return f"# {clock_text(runner.step_elapsed(clock))}\nof {clock_text(step.seconds)}{reps}"
    return f"# {runner.step_reps}\n{unit_for(runner.step_reps, 'rep')} of {step.reps}"


def clock_markdown(runner: WorkoutRunner | None, clock: float) -> str:
    if runner is None or runner.step is None:
        training = runner.summary().training_s if runner is not None and runner.finished else 0.0
        return f"# {clock_text(training)}\n{'in all' if training else ' '}"
    remaining = runner.step_remaining(clock)
    paused = " (paused)" if runner.paused else ""
    if remaining is None:
        return f"# {clock_text(runner.step_elapsed(clock))}\nelapsed{paused}"
    return f"# {clock_text(math.ceil(remaining - 1e-6))}\nleft{paused}"


def summary_table(summary: WorkoutSummary) -> pd.DataFrame:
    return pd.DataFrame(summary.screen_rows(), columns=SUMMARY_HEADERS)
