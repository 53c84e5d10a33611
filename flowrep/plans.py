"""Workout plans: what a plan is, its text form, and the plans that ship with FlowRep.

Owns the plan model (an ordered list of exercises, each a target of reps or a duration, done for one
or more rounds, with rests between rounds and between exercises), its text form (what the page's
editor and `flowrep workout --plan` read, and what `Plan.to_text` writes back), the shipped plans,
finding a plan by name, the plan as the runner walks it (`plan_steps`: get ready, work and rest
steps), and the wording of counts ("1 rep", "2 reps") every screen shares.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

DEFAULT_REST_S = 30.0
MAX_ROUNDS = 100
MAX_STEP_S = 3600.0
MAX_REPS = 1000
#: A plan's size: its name's characters, its text's lines and characters (the page, the CLI and the store alike).
MAX_NAME_CHARS = 80
MAX_PLAN_LINES = 50
MAX_PLAN_CHARS = 4000


class PlanError(ValueError):
    """A plan that cannot be run: the message says what is wrong, and where."""


@dataclass(frozen=True)
class PlanExercise:
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
        one = target_text(self.reps, self.seconds)
        if self.rounds == 1:
            return one
        rest = f", rest {_seconds_text(self.round_rest_s)}" if self.round_rest_s else ""
        return f"{self.rounds} × {one}{rest}"


@dataclass(frozen=True)
class Plan:
    """An ordered list of exercises with `rest_s` of rest between one exercise and the next."""

    name: str
    exercises: tuple[PlanExercise, ...]
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
        if len(name.strip()) > MAX_NAME_CHARS:
            raise PlanError(
                f"a plan's name may have at most {MAX_NAME_CHARS} characters (this one has {len(name.strip())})"
            )
        if len(text) > MAX_PLAN_CHARS:
            raise PlanError(f"a plan may have at most {MAX_PLAN_CHARS} characters (this one has {len(text)})")
        exercises: list[PlanExercise] = []
        rest_s = DEFAULT_REST_S
        lines = [line.strip() for line in re.split(r"[\n;]", text)]
        if len(lines) > MAX_PLAN_LINES:
            raise PlanError(f"a plan may have at most {MAX_PLAN_LINES} lines (this one has {len(lines)})")
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
        exercises = tuple(PlanExercise(**e) for e in data["exercises"])
        return cls(data["name"], exercises, float(data.get("rest_s", DEFAULT_REST_S)))


def count_text(count: int, unit: str) -> str:
    """'1 rep', '2 reps', '0 reps': a count with its unit."""
    return f"{count} {unit_for(count, unit)}"


def unit_for(count: int, unit: str) -> str:
    """The unit as a count of `count` takes it: 'rep' for one, 'reps' otherwise."""
    return unit if count == 1 else f"{unit}s"


def target_text(reps: int | None, seconds: float | None) -> str:
    """One round's target: '10 reps', '1 rep' or '45 s'."""
    return count_text(reps, "rep") if reps is not None else _seconds_text(seconds or 0)


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g} s"


_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^{_NUMBER}\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes)?$", re.IGNORECASE)
_REPS = re.compile(r"^(\d+)\s*(?:reps?|x)?$", re.IGNORECASE)
_ROUNDS = re.compile(r"^(\d+)\s*[x×*]\s*(.+)$", re.IGNORECASE)


def _parse_seconds(text: str, where: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise PlanError(f"{where}: {text.strip()!r} is not a duration (write e.g. '30 s' or '2 min')")
    unit = (match.group(2) or "s").lower()
    return float(match.group(1)) * (60.0 if unit.startswith("m") else 1.0)


def _parse_exercise(name: str, target: str, where: str) -> PlanExercise:
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
        return PlanExercise(name, reps=int(match.group(1)), rounds=rounds, round_rest_s=round_rest_s)
    if _DURATION.match(work) and re.search(r"[a-z]", work, re.IGNORECASE):
        return PlanExercise(name, seconds=_parse_seconds(work, where), rounds=rounds, round_rest_s=round_rest_s)
    raise PlanError(f"{where}: {work!r} is neither reps ('10 reps') nor a duration ('30 s')")


#: Plans that ship with FlowRep; saved plans may not reuse these names.
SHIPPED_PLANS: tuple[Plan, ...] = (
    Plan(
        "Push-ups, sit-ups, squats",
        (PlanExercise("Push-ups", reps=10), PlanExercise("Sit-ups", reps=10), PlanExercise("Squats", reps=10)),
        rest_s=30,
    ),
    Plan("Tabata squats", (PlanExercise("Squats", seconds=20, rounds=8, round_rest_s=10),), rest_s=0),
    Plan(
        "Legs: squats and lunges",
        (
            PlanExercise("Squats", reps=12, rounds=3, round_rest_s=30),
            PlanExercise("Lunges", reps=10, rounds=3, round_rest_s=30),
        ),
        rest_s=60,
    ),
    Plan(
        "Cardio minutes",
        (
            PlanExercise("Jumping jacks", seconds=60),
            PlanExercise("Squats", seconds=60),
            PlanExercise("Burpees", seconds=45),
            PlanExercise("Jumping jacks", seconds=60),
        ),
        rest_s=20,
    ),
)


def shipped_plan(name: str) -> Plan | None:
    return next((p for p in SHIPPED_PLANS if p.name.lower() == name.strip().lower()), None)


def find_plan(name_or_text: str, saved: Sequence[Plan] = ()) -> Plan:
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


# ---------------------------------------------------------------- the plan as steps


class StepKind(StrEnum):
    GET_READY = "get ready"  # the countdown before the first exercise
    WORK = "work"  # one round of one exercise
    REST = "rest"  # between rounds, or between exercises


@dataclass(frozen=True)
class Step:
    """One thing the runner does: get ready, one round of one exercise, or a rest."""

    kind: StepKind
    exercise_index: int  # the exercise this step belongs to (a rest or the get-ready: the one it leads to)
    exercise: str
    round: int  # 1-based round of that exercise (a rest: the round that follows it)
    rounds: int
    reps: int | None  # the target, for a work step with one
    seconds: float | None  # the length of a timed work step, a rest or the get-ready

    @property
    def is_work(self) -> bool:
        return self.kind is StepKind.WORK

    @property
    def title(self) -> str:
        """What the screen calls it: the exercise, 'Rest' or 'Get ready'."""
        return self.exercise if self.is_work else str(self.kind).capitalize()

    @property
    def target_text(self) -> str:
        """A work step's target ('10 reps', '1 rep', '45 s'); a rest's length."""
        return target_text(self.reps, self.seconds)


def plan_steps(plan: Plan, get_ready_s: float = 0.0) -> list[Step]:
    """The plan as the runner walks it: an optional get-ready countdown, then each exercise's rounds
    with their rests, and the plan's rest between exercises (none after the last)."""
    steps: list[Step] = []
    for index, exercise in enumerate(plan.exercises):
        lead_s, lead_kind = (get_ready_s, StepKind.GET_READY) if index == 0 else (plan.rest_s, StepKind.REST)
        if lead_s > 0:
            steps.append(Step(lead_kind, index, exercise.name, 1, exercise.rounds, None, lead_s))
        for round_number in range(1, exercise.rounds + 1):
            if round_number > 1 and exercise.round_rest_s > 0:
                steps.append(
                    Step(
                        StepKind.REST, index, exercise.name, round_number, exercise.rounds, None, exercise.round_rest_s
                    )
                )
            steps.append(
                Step(
                    StepKind.WORK, index, exercise.name, round_number, exercise.rounds, exercise.reps, exercise.seconds
                )
            )
    return steps
