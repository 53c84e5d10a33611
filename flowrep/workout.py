"""Workouts: the plan model, the shipped plans, the runner that walks a plan, and its summary.

Owns what a plan is (an ordered list of exercises, each a target of reps or a duration, done for one
or more rounds, with rests), its text form (what the page's editor and `flowrep workout --plan` read),
the plans that ship with FlowRep, the runner (a state machine: get ready → work → rest → … →
finished, with pause, skip and stop), and the summary with its CSV export.

Pure Python, no clock of its own: every call that depends on time takes `now` (seconds, any origin,
never going back), so the page feeds it arrival times, the CLI a clip's timestamps and tests a fake
clock. Reps come in as the live count of the current set (flowrep.pipeline.Session.count); each work
step is meant to be a new set (the caller resets its session on WORK_STARTED), but the runner only
ever counts increases it sees while a work step runs, so it counts right either way. A rep first seen
in the very update that starts a work step was made before it (during the rest) and is not counted.

Time accounting: every moment between start and finish belongs to exactly one step, either running
or paused. working = running time of work steps, resting = running time of rests (the get-ready
countdown included), paused = time spent paused, and training = working + resting + paused, the wall
time from start to finish. A rest belongs to the exercise that follows it (the get-ready countdown to
the first), so the exercises' rows add up to the totals. Tempo = working seconds / reps.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_REST_S = 30.0
MAX_ROUNDS = 100
MAX_STEP_S = 3600.0
MAX_REPS = 1000


class PlanError(ValueError):
    """A plan that cannot be run: the message says what is wrong, and where."""


# ---------------------------------------------------------------- the plan model


@dataclass(frozen=True)
class Exercise:
    """One exercise of a plan: `rounds` times a target of `reps` reps or `seconds` of work, with
    `round_rest_s` of rest between rounds (a tabata: 8 rounds of 20 s, 10 s rest)."""

    name: str
    reps: int | None = None
    seconds: float | None = None
    rounds: int = 1
    round_rest_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PlanError("an exercise needs a name")
        if (self.reps is None) == (self.seconds is None):
            raise PlanError(f"{self.name}: give a number of reps or a duration, not both or neither")
        if self.reps is not None and not 1 <= self.reps <= MAX_REPS:
            raise PlanError(f"{self.name}: reps must be between 1 and {MAX_REPS}")
        if self.seconds is not None and not 1 <= self.seconds <= MAX_STEP_S:
            raise PlanError(f"{self.name}: a duration must be between 1 s and {MAX_STEP_S:g} s")
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise PlanError(f"{self.name}: rounds must be between 1 and {MAX_ROUNDS}")
        if not 0 <= self.round_rest_s <= MAX_STEP_S:
            raise PlanError(f"{self.name}: a rest must be between 0 and {MAX_STEP_S:g} s")

    @property
    def target_text(self) -> str:
        """'10 reps', '20 s', '8 × 20 s, rest 10 s'."""
        if self.reps is not None:
            one = f"{self.reps} rep" if self.reps == 1 else f"{self.reps} reps"
        else:
            one = _seconds_text(self.seconds or 0)
        if self.rounds == 1:
            return one
        rest = f", rest {_seconds_text(self.round_rest_s)}" if self.round_rest_s else ""
        return f"{self.rounds} × {one}{rest}"


@dataclass(frozen=True)
class Plan:
    """An ordered list of exercises with `rest_s` of rest between one exercise and the next."""

    name: str
    exercises: tuple[Exercise, ...]
    rest_s: float = DEFAULT_REST_S

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PlanError("a plan needs a name")
        if not self.exercises:
            raise PlanError("a plan needs at least one exercise")
        if not 0 <= self.rest_s <= MAX_STEP_S:
            raise PlanError(f"the rest between exercises must be between 0 and {MAX_STEP_S:g} s")

    def to_text(self) -> str:
        """The editor's text form; Plan.from_text(name, plan.to_text()) gives the plan back."""
        lines = [f"{e.name}: {e.target_text}" for e in self.exercises]
        return "\n".join([*lines, f"rest: {_seconds_text(self.rest_s)}"])

    @classmethod
    def from_text(cls, name: str, text: str) -> Plan:
        """Reads one exercise per line (or ';'-separated), e.g.

            push-ups: 10 reps
            plank: 45 s
            squats: 8 x 20 s, rest 10 s
            rest: 30 s            (between exercises; 30 s when left out)

        Raises PlanError naming the line that cannot be read."""
        exercises: list[Exercise] = []
        rest_s = DEFAULT_REST_S
        lines = [line.strip() for line in re.split(r"[\n;]", text)]
        for number, line in enumerate(lines, start=1):
            if not line or line.startswith("#"):
                continue
            label, colon, target = line.partition(":")
            if not colon or not label.strip():
                raise PlanError(f"line {number} ({line!r}): write 'exercise: target', e.g. 'squats: 10 reps'")
            if label.strip().lower() == "rest":
                rest_s = _parse_seconds(target, f"line {number} ({line!r})")
                continue
            exercises.append(_parse_exercise(label.strip(), target, f"line {number} ({line!r})"))
        return cls(name.strip(), tuple(exercises), rest_s)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rest_s": self.rest_s, "exercises": [asdict(e) for e in self.exercises]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        exercises = tuple(Exercise(**e) for e in data["exercises"])
        return cls(data["name"], exercises, float(data.get("rest_s", DEFAULT_REST_S)))


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g} s"


_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^{_NUMBER}\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes)?$", re.I)
_REPS = re.compile(r"^(\d+)\s*(?:reps?|x)?$", re.I)
_ROUNDS = re.compile(r"^(\d+)\s*[x×*]\s*(.+)$", re.I)


def _parse_seconds(text: str, where: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise PlanError(f"{where}: {text.strip()!r} is not a duration (write e.g. '30 s' or '2 min')")
    unit = (match.group(2) or "s").lower()
    return float(match.group(1)) * (60.0 if unit.startswith("m") else 1.0)


def _parse_exercise(name: str, target: str, where: str) -> Exercise:
    """'10 reps', '45 s', '8 x 20 s, rest 10 s', '3 x 12 reps, rest 1 min'."""
    work, _, rest = (part.strip() for part in target.partition(","))
    round_rest_s = 0.0
    if rest:
        if not rest.lower().startswith("rest"):
            raise PlanError(f"{where}: after the comma write 'rest 10 s'")
        round_rest_s = _parse_seconds(rest[4:], where)
    rounds = 1
    if match := _ROUNDS.match(work):
        rounds, work = int(match.group(1)), match.group(2).strip()
    if match := _REPS.match(work):
        return Exercise(name, reps=int(match.group(1)), rounds=rounds, round_rest_s=round_rest_s)
    if _DURATION.match(work) and re.search(r"[a-z]", work, re.I):
        return Exercise(name, seconds=_parse_seconds(work, where), rounds=rounds, round_rest_s=round_rest_s)
    raise PlanError(f"{where}: {work!r} is neither reps ('10 reps') nor a duration ('30 s')")


#: Plans that ship with FlowRep; saved plans may not reuse these names.
SHIPPED_PLANS: tuple[Plan, ...] = (
    Plan("Push-ups, sit-ups, squats", (Exercise("Push-ups", reps=10), Exercise("Sit-ups", reps=10),
                                      Exercise("Squats", reps=10)), rest_s=30),
    Plan("Tabata squats", (Exercise("Squats", seconds=20, rounds=8, round_rest_s=10),), rest_s=0),
    Plan("Legs: squats and lunges", (Exercise("Squats", reps=12, rounds=3, round_rest_s=30),
                                     Exercise("Lunges", reps=10, rounds=3, round_rest_s=30)), rest_s=60),
    Plan("Cardio minutes", (Exercise("Jumping jacks", seconds=60), Exercise("Squats", seconds=60),
                            Exercise("Burpees", seconds=45), Exercise("Jumping jacks", seconds=60)), rest_s=20),
)


def shipped_plan(name: str) -> Plan | None:
    return next((p for p in SHIPPED_PLANS if p.name.lower() == name.strip().lower()), None)


def find_plan(name_or_text: str, saved: list[Plan] = ()) -> Plan:  # type: ignore[assignment]
    """A shipped or saved plan by name (any case), or a plan written out ('squats: 10 reps; rest: 20 s',
    named 'Custom'). Raises PlanError."""
    wanted = name_or_text.strip().lower()
    for plan in (*saved, *SHIPPED_PLANS):
        if plan.name.lower() == wanted:
            return plan
    if ":" in name_or_text:
        return Plan.from_text("Custom", name_or_text)
    names = ", ".join(repr(p.name) for p in (*SHIPPED_PLANS, *saved))
    raise PlanError(f"no plan is called {name_or_text!r}; the plans are {names}")


# ---------------------------------------------------------------- the runner


class Phase(StrEnum):
    READY = "ready"  # not started
    WORK = "work"
    REST = "rest"
    FINISHED = "finished"


class Cue(StrEnum):
    """What just happened, for the caller to act on (start a new set, play a sound, show the summary)."""

    WORK_STARTED = "work started"  # start a new set: the count begins again from 0
    REST_STARTED = "rest started"
    REP = "rep"  # one rep for each of these
    TARGET_REACHED = "target reached"  # the reps target of a work step
    TIME_UP = "time up"  # a timed work step's time is over
    SKIPPED = "skipped"
    FINISHED = "finished"  # the last step ended, or the workout was stopped


class Outcome(StrEnum):
    TARGET_REACHED = "target reached"
    TIME_UP = "time up"
    REST_OVER = "rest over"
    SKIPPED = "skipped"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Step:
    """One thing the runner does: a work step (one round of one exercise) or a rest."""

    phase: Phase  # WORK or REST
    exercise_index: int  # the exercise this step belongs to (a rest: the one it leads to)
    exercise: str
    round: int  # 1-based round of that exercise (a rest: the round that follows it)
    rounds: int
    reps: int | None  # the target, for a work step with one
    seconds: float | None  # the length of a timed work step or of a rest
    label: str = ""  # a rest's name: "Get ready", "Rest"

    @property
    def timed(self) -> bool:
        return self.seconds is not None


@dataclass(frozen=True)
class StepRecord:
    step: Step
    active_s: float  # running time, pauses left out
    paused_s: float
    reps: int
    outcome: Outcome


def plan_steps(plan: Plan, get_ready_s: float = 0.0) -> list[Step]:
    """The plan as the runner walks it: an optional get-ready rest, then each exercise's rounds with
    their rests, and the plan's rest between exercises (none after the last)."""
    steps: list[Step] = []
    for index, exercise in enumerate(plan.exercises):
        lead_rest = get_ready_s if index == 0 else plan.rest_s
        if lead_rest > 0:
            steps.append(Step(Phase.REST, index, exercise.name, 1, exercise.rounds, None, lead_rest,
                              "Get ready" if index == 0 else "Rest"))
        for round_number in range(1, exercise.rounds + 1):
            if round_number > 1 and exercise.round_rest_s > 0:
                steps.append(Step(Phase.REST, index, exercise.name, round_number, exercise.rounds, None,
                                  exercise.round_rest_s, "Rest"))
            steps.append(Step(Phase.WORK, index, exercise.name, round_number, exercise.rounds, exercise.reps,
                              exercise.seconds))
    return steps


class WorkoutRunner:
    """Walks a plan. Call start(now), then update(now, count) with every new count (and often enough
    for the clock: each camera frame); pause/resume/skip/stop whenever the user asks. Each call
    returns the cues it caused, in order."""

    def __init__(self, plan: Plan, get_ready_s: float = 0.0) -> None:
        self.plan = plan
        self.steps = plan_steps(plan, get_ready_s)
        self.records: list[StepRecord] = []
        self.index = -1  # into steps; -1 before start, len(steps) when finished
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.stopped = False
        self.step_reps = 0
        self._step_started_at = 0.0
        self._step_paused_s = 0.0
        self._paused_since: float | None = None
        self._last_count = 0

    # -- state -----------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        if self.index < 0:
            return Phase.READY
        if self.index >= len(self.steps):
            return Phase.FINISHED
        return self.steps[self.index].phase

    @property
    def step(self) -> Step | None:
        return self.steps[self.index] if 0 <= self.index < len(self.steps) else None

    @property
    def next_work_step(self) -> Step | None:
        """The next work step after the current step (or the current one, during a rest)."""
        first = self.index if self.phase is Phase.REST else self.index + 1
        return next((s for s in self.steps[max(first, 0):] if s.phase is Phase.WORK), None)

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    @property
    def finished(self) -> bool:
        return self.phase is Phase.FINISHED

    def step_elapsed(self, now: float) -> float:
        """Running time of the current step (pauses left out)."""
        if self.step is None:
            return 0.0
        paused = self._step_paused_s + (now - self._paused_since if self._paused_since is not None else 0.0)
        return max(0.0, now - self._step_started_at - paused)

    def step_remaining(self, now: float) -> float | None:
        """Seconds left in a timed step or a rest; None for a reps target."""
        step = self.step
        if step is None or step.seconds is None:
            return None
        return max(0.0, step.seconds - self.step_elapsed(now))

    # -- commands --------------------------------------------------------------

    def start(self, now: float, count: int = 0) -> list[Cue]:
        """Starts the first step; `count` is the camera set's live count now (reps are counted from it)."""
        if self.phase is not Phase.READY:
            return []
        self.started_at = now
        self._last_count = count
        return self._begin(0, now)

    def update(self, now: float, count: int | None = None) -> list[Cue]:
        """The clock moved to `now`; `count` is the current set's live count (None: no news). Reps are
        the increases of that count (a count that goes down is a new set, counted from 0); those
        that come while paused or resting are ignored."""
        if self.phase in (Phase.READY, Phase.FINISHED):
            return []
        new_reps = self._new_reps(count)
        if self.paused:
            return []
        cues = self._run_clock(now)
        # Reps seen in the update that starts a work step were made before it (the caller's set restarts now).
        if self.phase is Phase.WORK and new_reps and Cue.WORK_STARTED not in cues:
            cues += self._add_reps(new_reps, now)
        return cues

    def pause(self, now: float) -> list[Cue]:
        if self.phase in (Phase.WORK, Phase.REST) and not self.paused:
            cues = self._run_clock(now)  # a step that ran out before the pause ends first
            if not self.finished:
                self._paused_since = now
            return cues
        return []

    def resume(self, now: float) -> list[Cue]:
        if self._paused_since is not None:
            self._step_paused_s += now - self._paused_since
            self._paused_since = None
        return []

    def toggle_pause(self, now: float) -> list[Cue]:
        return self.resume(now) if self.paused else self.pause(now)

    def skip(self, now: float) -> list[Cue]:
        """Ends the current step (work or rest) now, keeping its reps, and goes on (unpaused)."""
        if self.phase not in (Phase.WORK, Phase.REST):
            return []
        cues = [] if self.paused else self._run_clock(now)
        if self.finished:
            return cues
        self.resume(now)
        return [*cues, Cue.SKIPPED, *self._end_step(now, Outcome.SKIPPED)]

    def stop(self, now: float) -> list[Cue]:
        """Ends the workout now; the summary has what was done."""
        if self.phase is Phase.READY:
            self.started_at = now
            self.index = len(self.steps)
            self.finished_at, self.stopped = now, True
            return [Cue.FINISHED]
        if self.finished:
            return []
        cues = [] if self.paused else self._run_clock(now)
        if self.finished:
            return cues
        self.resume(now)
        self._record(now, Outcome.STOPPED)
        self.index = len(self.steps)
        self.finished_at, self.stopped = now, True
        return [*cues, Cue.FINISHED]

    # -- internals -------------------------------------------------------------

    def _new_reps(self, count: int | None) -> int:
        """Reps since the last count seen; a count that went down means a new set began."""
        if count is None:
            return 0
        last, self._last_count = self._last_count, count
        return count if count < last else count - last

    def _run_clock(self, now: float) -> list[Cue]:
        """Ends every timed step whose time ran out by `now`, each at the moment it ran out."""
        cues: list[Cue] = []
        while (step := self.step) is not None and step.seconds is not None:
            overshoot = self.step_elapsed(now) - step.seconds
            if overshoot < 0:
                break
            outcome = Outcome.TIME_UP if step.phase is Phase.WORK else Outcome.REST_OVER
            if outcome is Outcome.TIME_UP:
                cues.append(Cue.TIME_UP)
            cues += self._end_step(now - overshoot, outcome)
        return cues

    def _add_reps(self, reps: int, now: float) -> list[Cue]:
        step = self.step
        assert step is not None
        self.step_reps += reps
        cues = [Cue.REP] * reps
        if step.reps is not None and self.step_reps >= step.reps:
            cues += [Cue.TARGET_REACHED, *self._end_step(now, Outcome.TARGET_REACHED)]
        return cues

    def _record(self, now: float, outcome: Outcome) -> None:
        step = self.step
        assert step is not None
        active = self.step_elapsed(now)
        total = max(0.0, now - self._step_started_at)
        self.records.append(StepRecord(step, active, total - active, self.step_reps, outcome))

    def _end_step(self, now: float, outcome: Outcome) -> list[Cue]:
        self._record(now, outcome)
        return self._begin(self.index + 1, now)

    def _begin(self, index: int, now: float) -> list[Cue]:
        self.index = index
        self.step_reps = 0
        self._step_started_at, self._step_paused_s, self._paused_since = now, 0.0, None
        step = self.step
        if step is None:
            self.finished_at = now
            return [Cue.FINISHED]
        return [Cue.WORK_STARTED if step.phase is Phase.WORK else Cue.REST_STARTED]

    # -- the result --------------------------------------------------------------

    def summary(self) -> WorkoutSummary:
        return summarize(self.plan, self.records, self.stopped)


# ---------------------------------------------------------------- the summary


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
    status: str  # done, skipped, stopped, not started

    @property
    def tempo_s(self) -> float | None:
        """Average seconds per rep (working time / reps); None without reps."""
        return self.work_s / self.reps if self.reps else None

    @property
    def time_s(self) -> float:
        return self.work_s + self.rest_s + self.paused_s


CSV_HEADER = ["exercise", "target", "rounds", "reps", "work_s", "rest_s", "paused_s", "time_s", "tempo_s_per_rep",
              "status"]


@dataclass(frozen=True)
class WorkoutSummary:
    plan_name: str
    exercises: tuple[ExerciseSummary, ...]
    stopped: bool = False

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
        """Start to finish: working + resting + paused."""
        return self.working_s + self.resting_s + self.paused_s

    @property
    def tempo_s(self) -> float | None:
        return self.working_s / self.reps if self.reps else None

    @property
    def status(self) -> str:
        return "stopped" if self.stopped else "finished"

    def rows(self) -> list[list[Any]]:
        """The CSV's rows: one per exercise, then the totals."""
        rows = [[e.name, e.target, e.rounds_done, e.reps, _r(e.work_s), _r(e.rest_s), _r(e.paused_s), _r(e.time_s),
                 _r(e.tempo_s), e.status] for e in self.exercises]
        rows.append(["total", "", sum(e.rounds_done for e in self.exercises), self.reps, _r(self.working_s),
                     _r(self.resting_s), _r(self.paused_s), _r(self.training_s), _r(self.tempo_s), self.status])
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

    def totals_text(self) -> str:
        """One line: 'training 3:05 · working 2:10 · resting 0:55 · 34 reps'."""
        paused = f" · paused {clock_text(self.paused_s)}" if self.paused_s >= 0.5 else ""
        tempo = f" · {self.tempo_s:.1f} s/rep" if self.tempo_s else ""
        return (f"training {clock_text(self.training_s)} · working {clock_text(self.working_s)} · "
                f"resting {clock_text(self.resting_s)}{paused} · {self.reps} reps{tempo}")

    def to_json(self) -> dict[str, Any]:
        return {"plan_name": self.plan_name, "stopped": self.stopped, "exercises": [asdict(e) for e in self.exercises]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkoutSummary:
        return cls(data["plan_name"], tuple(ExerciseSummary(**e) for e in data["exercises"]), bool(data["stopped"]))


def _r(value: float | None) -> float | str:
    return "" if value is None else round(value, 2)


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


def _status(tally: _Tally, planned_rounds: int) -> str:
    if Outcome.STOPPED in tally.outcomes and tally.rounds:
        return "stopped"
    if tally.rounds == 0:
        return "not started"
    if Outcome.SKIPPED in tally.outcomes:
        return "skipped"
    return "done" if tally.rounds == planned_rounds else "stopped"


def summarize(plan: Plan, records: list[StepRecord], stopped: bool) -> WorkoutSummary:
    """Per exercise: rounds, reps, working/resting/paused time and status; from the steps walked."""
    tallies = [_Tally() for _ in plan.exercises]
    for record in records:
        tally = tallies[record.step.exercise_index]
        tally.paused_s += record.paused_s
        if record.step.phase is Phase.WORK:
            tally.rounds += 1
            tally.reps += record.reps
            tally.work_s += record.active_s
            tally.outcomes.append(record.outcome)
        else:
            tally.rest_s += record.active_s
    exercises = tuple(ExerciseSummary(e.name, e.target_text, e.rounds, t.rounds, t.reps, t.work_s, t.rest_s,
                                      t.paused_s, _status(t, e.rounds)) for e, t in zip(plan.exercises, tallies))
    return WorkoutSummary(plan.name, exercises, stopped)
