"""A workout's summary: what was done, per exercise and in all, on screen, in CSV and in JSON.

Owns the record of each step walked (`StepRecord`: how long it ran, how long it was paused, its
reps, and how it ended), the summary made from those records, the summary table's columns (the
CSV's and the screens' headers, defined once here), and the statuses of an exercise and a workout.

Time accounting: every moment between start and finish belongs to exactly one step, running or
paused. The get-ready countdown is reported on its own (`get_ready_s`, pauses in it included) and is
no part of training. working = running time of work steps, resting = running time of rests,
paused = time paused after the countdown, and training = working + resting + paused, the wall time
from the end of the countdown to the finish. A rest belongs to the exercise that follows it, so the
exercises' rows add up to the totals. Tempo = working seconds / reps.

Speed loss (flowrep.analysis: how much slower a set ended than it began): each work step is a set,
and its record carries that set's analysis. An exercise's speed loss is the median of its rounds'
speed losses, over the rounds that have one (a round of fewer than analysis.MIN_REPS_FOR_SPEED_LOSS
reps has none); None when no round has one. With one round it is that round's, with two their mean.
The CSV writes it as a fraction (0.2: 20 % slower), the screens as a percentage; the totals row
leaves it blank (exercises' speed losses are not comparable). Summaries kept before it existed read
back with None.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import SetAnalysis
from .plans import Plan, Step, StepKind, count_text


class Outcome(StrEnum):
    """How a step ended."""

    TARGET_REACHED = "target reached"  # a work step's reps target
    TIME_UP = "time up"  # a timed work step's time is over
    REST_OVER = "rest over"  # a rest's (or the get-ready's) time is over
    SKIPPED = "skipped"
    STOPPED = "stopped"  # the workout was stopped during the step


class ExerciseStatus(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    STOPPED = "stopped"
    NOT_STARTED = "not started"


class WorkoutStatus(StrEnum):
    FINISHED = "finished"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StepRecord:
    step: Step
    active_s: float  # running time, pauses left out
    paused_s: float
    reps: int
    outcome: Outcome
    analysis: SetAnalysis | None = None  # a work step's reps, from its camera set (flowrep.workout)


@dataclass(frozen=True)
class Column:
    key: str  # the CSV's header
    label: str  # the screens' header


SUMMARY_COLUMNS = (
    Column("exercise", "exercise"),
    Column("target", "target"),
    Column("rounds", "rounds"),
    Column("reps", "reps"),
    Column("work_s", "work (s)"),
    Column("rest_s", "rest (s)"),
    Column("paused_s", "paused (s)"),
    Column("time_s", "time (s)"),
    Column("tempo_s_per_rep", "s/rep"),
    Column("status", "status"),
    Column("speed_loss", "speed loss"),  # appended: the columns before it read as before
)
CSV_HEADER = [c.key for c in SUMMARY_COLUMNS]
TABLE_HEADERS = [c.label for c in SUMMARY_COLUMNS]


@dataclass(frozen=True)
class ExerciseSummary:
    name: str
    target: str
    rounds_planned: int
    rounds_done: int  # work steps started (including one skipped or stopped midway)
    reps: int
    work_s: float
    rest_s: float  # the rests that led to this exercise and to its rounds
    paused_s: float
    status: ExerciseStatus
    speed_loss: float | None = None  # the median of its rounds' (see the module's docstring)

    @property
    def tempo_s(self) -> float | None:
        """Average seconds per rep (working time / reps); None without reps."""
        return self.work_s / self.reps if self.reps else None

    @property
    def time_s(self) -> float:
        return self.work_s + self.rest_s + self.paused_s

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExerciseSummary:
        return cls(**{**data, "status": ExerciseStatus(data["status"])})


@dataclass(frozen=True)
class WorkoutSummary:
    plan_name: str
    exercises: tuple[ExerciseSummary, ...]
    stopped: bool = False
    get_ready_s: float = 0.0  # the countdown before the first exercise, apart from training

    @property
    def reps(self) -> int:
        return sum(e.reps for e in self.exercises)

    @property
    def working_s(self) -> float:
        return sum(e.work_s for e in self.exercises)

    @property
    def resting_s(self) -> float:
        return sum(e.rest_s for e in self.exercises)

    @property
    def paused_s(self) -> float:
        return sum(e.paused_s for e in self.exercises)

    @property
    def training_s(self) -> float:
        """From the end of the countdown to the finish: working + resting + paused."""
        return self.working_s + self.resting_s + self.paused_s

    @property
    def tempo_s(self) -> float | None:
        return self.working_s / self.reps if self.reps else None

    @property
    def status(self) -> WorkoutStatus:
        return WorkoutStatus.STOPPED if self.stopped else WorkoutStatus.FINISHED

    def rows(self) -> list[list[Any]]:
        """The table's rows (columns as SUMMARY_COLUMNS): one per exercise, then the totals."""
        rows = [
            [
                e.name,
                e.target,
                e.rounds_done,
                e.reps,
                _r(e.work_s),
                _r(e.rest_s),
                _r(e.paused_s),
                _r(e.time_s),
                _r(e.tempo_s),
                str(e.status),
                "" if e.speed_loss is None else round(e.speed_loss, 3),
            ]
            for e in self.exercises
        ]
        rows.append(
            [
                "total",
                "",
                sum(e.rounds_done for e in self.exercises),
                self.reps,
                _r(self.working_s),
                _r(self.resting_s),
                _r(self.paused_s),
                _r(self.training_s),
                _r(self.tempo_s),
                str(self.status),
                "",
            ]
        )
        return rows

    def screen_rows(self) -> list[list[Any]]:
        """The rows as the screens show them: the speed loss as a percentage ('12 %'), '–' when unknown."""
        rows = self.rows()
        for row, exercise in zip(rows, self.exercises):
            row[-1] = _percent(exercise.speed_loss)
        return rows

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(self.rows())
        return out.getvalue()

    def write_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.csv_text())
        return path

    def table_text(self) -> str:
        """The table as plain text, for a terminal: names left-aligned, figures right-aligned."""
        cells = [TABLE_HEADERS, *([str(cell) for cell in row] for row in self.screen_rows())]
        widths = [max(len(row[i]) for row in cells) for i in range(len(TABLE_HEADERS))]
        return "\n".join(_text_row(row, widths) for row in cells)

    def totals_text(self) -> str:
        """One line: 'get ready 0:05 · training 3:05 · working 2:10 · resting 0:55 · 34 reps · 3.8 s/rep'."""
        get_ready = f"get ready {clock_text(self.get_ready_s)} · " if clock_text(self.get_ready_s) != "0:00" else ""
        paused = f" · paused {clock_text(self.paused_s)}" if self.paused_s >= 0.5 else ""
        tempo = f" · {self.tempo_s:.1f} s/rep" if self.tempo_s else ""
        return (
            f"{get_ready}training {clock_text(self.training_s)} · working {clock_text(self.working_s)} · "
            f"resting {clock_text(self.resting_s)}{paused} · {count_text(self.reps, 'rep')}{tempo}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "plan_name": self.plan_name,
            "stopped": self.stopped,
            "get_ready_s": self.get_ready_s,
            "exercises": [asdict(e) for e in self.exercises],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkoutSummary:
        exercises = tuple(ExerciseSummary.from_json(e) for e in data["exercises"])
        return cls(data["plan_name"], exercises, bool(data["stopped"]), float(data.get("get_ready_s", 0.0)))


def _r(value: float | None) -> float | str:
    return "" if value is None else round(value, 2)


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.0f} %"


_TEXT_LEFT = {"exercise", "target", "status"}  # words, left-aligned; the figures are right-aligned


def _text_row(cells: list[str], widths: list[int]) -> str:
    aligned = [
        f"{cell:{width}s}" if column.key in _TEXT_LEFT else f"{cell:>{width}s}"
        for cell, width, column in zip(cells, widths, SUMMARY_COLUMNS)
    ]
    return "  ".join(aligned).rstrip()


def clock_text(seconds: float) -> str:
    """m:ss (h:mm:ss from an hour up)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class _Tally:
    rounds: int = 0
    reps: int = 0
    work_s: float = 0.0
    rest_s: float = 0.0
    paused_s: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    speed_losses: list[float] = field(default_factory=list)  # the rounds' that have one

    @property
    def speed_loss(self) -> float | None:
        return float(np.median(self.speed_losses)) if self.speed_losses else None


def _status(tally: _Tally, planned_rounds: int) -> ExerciseStatus:
    if Outcome.STOPPED in tally.outcomes and tally.rounds:
        return ExerciseStatus.STOPPED
    if tally.rounds == 0:
        return ExerciseStatus.NOT_STARTED
    if Outcome.SKIPPED in tally.outcomes:
        return ExerciseStatus.SKIPPED
    return ExerciseStatus.DONE if tally.rounds == planned_rounds else ExerciseStatus.STOPPED


def summarize(plan: Plan, records: Iterable[StepRecord], stopped: bool) -> WorkoutSummary:
    """Per exercise: rounds, reps, working/resting/paused time and status; from the steps walked."""
    tallies = [_Tally() for _ in plan.exercises]
    get_ready_s = 0.0
    for record in records:
        tally = tallies[record.step.exercise_index]
        if record.step.kind is StepKind.GET_READY:
            get_ready_s += record.active_s + record.paused_s
            continue
        tally.paused_s += record.paused_s
        if record.step.kind is StepKind.WORK:
            tally.rounds += 1
            tally.reps += record.reps
            tally.work_s += record.active_s
            tally.outcomes.append(record.outcome)
            if record.analysis is not None and record.analysis.speed_loss is not None:
                tally.speed_losses.append(record.analysis.speed_loss)
        else:
            tally.rest_s += record.active_s
    exercises = tuple(
        ExerciseSummary(
            e.name,
            e.target_text,
            e.rounds,
            t.rounds,
            t.reps,
            t.work_s,
            t.rest_s,
            t.paused_s,
            _status(t, e.rounds),
            t.speed_loss,
        )
        for e, t in zip(plan.exercises, tallies)
    )
    return WorkoutSummary(plan.name, exercises, stopped, get_ready_s)
