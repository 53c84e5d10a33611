"""Workout plans and the runner that walks them, driven by a fake clock and a fake rep stream,
and `flowrep workout` / `flowrep plans` as a user runs them."""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import run_cli

from flowrep.analysis import RepAnalysis, SetAnalysis, analyse_set
from flowrep.counter import Rep
from flowrep.history import History
from flowrep.pipeline import FrameResult, FrameSizeChanged
from flowrep.plans import SHIPPED_PLANS, Plan, PlanError, PlanExercise, StepKind, count_text, find_plan, plan_steps
from flowrep.summary import (
    CSV_HEADER,
    ExerciseStatus,
    ExerciseSummary,
    Outcome,
    StepRecord,
    WorkoutStatus,
    WorkoutSummary,
    summarize,
)
from flowrep.workout import Cue, Event, RunState, WorkoutRunner, WorkoutSession

ROOT = Path(__file__).resolve().parent.parent


class FakeSet:
    """A camera's live count: reps end at the given times; a new set starts the count from 0."""

    def __init__(self, rep_times: list[float]) -> None:
        self.rep_times = sorted(rep_times)
        self.set_started = -math.inf

    def count(self, now: float) -> int:
        return sum(self.set_started < t <= now for t in self.rep_times)

    def new_set(self, now: float) -> None:
        self.set_started = now


def drive(
    runner: WorkoutRunner, camera: FakeSet, start: float, end: float, dt: float = 0.1
) -> list[tuple[float, Event]]:
    """Feeds the runner a frame every dt seconds from start to end, like the page does; returns the cues
    with their times. Starts the runner at `start` if it has not started."""
    cues: list[tuple[float, Event]] = []
    ticks = int(round((end - start) / dt))
    for k in range(ticks + 1):
        now = round(start + k * dt, 6)
        new = runner.start(now) if not runner.started else []
        new += runner.update(now, camera.count(now))
        if Cue.WORK_STARTED in new:
            camera.new_set(now)
        cues += [(now, cue) for cue in new]
        if runner.finished:
            break
    return cues


def times_of(cues: list[tuple[float, Event]], wanted: Event) -> list[float]:
    return [t for t, cue in cues if cue is wanted]


def two_exercises(rest_s: float = 10.0) -> Plan:
    return Plan("Two", (PlanExercise("Push-ups", reps=3), PlanExercise("Squats", reps=2)), rest_s=rest_s)


# ---------------------------------------------------------------- the runner


def test_reaching_a_reps_target_rests_then_starts_the_next_exercise() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0))
    camera = FakeSet([2.0, 4.0, 6.0, 8.0, 11.0, 19.0, 21.0, 23.0])
    cues = drive(runner, camera, 0.0, 40.0)
    assert [cue for _, cue in cues] == [
        Cue.WORK_STARTED,
        Cue.REP,
        Cue.REP,
        Cue.REP,
        Outcome.TARGET_REACHED,
        Cue.REST_STARTED,  # push-ups: 3 reps
        Outcome.REST_OVER,
        Cue.WORK_STARTED,
        Cue.REP,
        Cue.REP,
        Outcome.TARGET_REACHED,  # squats: 2 reps
        Cue.FINISHED,
    ]  # no rest after the last exercise
    assert times_of(cues, Outcome.TARGET_REACHED) == [6.0, 21.0]
    assert times_of(cues, Cue.WORK_STARTED) == [0.0, 16.0]  # the rest ran its 10 s; reps at 8 and 11 were ignored
    summary = runner.summary()
    assert [(e.name, e.reps, e.status) for e in summary.exercises] == [("Push-ups", 3, "done"), ("Squats", 2, "done")]
    assert summary.exercises[0].work_s == pytest.approx(6.0) and summary.exercises[1].work_s == pytest.approx(5.0)
    assert summary.exercises[1].rest_s == pytest.approx(10.0)  # a rest belongs to the exercise it leads to
    assert summary.reps == 5 and summary.training_s == pytest.approx(21.0) and not summary.stopped


def test_the_rest_counts_down_and_says_what_comes_next() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0))
    camera = FakeSet([1.0, 2.0, 3.0])
    drive(runner, camera, 0.0, 7.0)
    assert runner.step is not None and runner.step.kind is StepKind.REST and runner.step.title == "Rest"
    assert runner.step_remaining(7.0) == pytest.approx(6.0)
    assert runner.next_work_step is not None and runner.next_work_step.exercise == "Squats"


def test_a_rep_seen_as_a_rest_ends_belongs_to_the_rest() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0), get_ready_s=5.0)
    runner.start(0.0)
    # A rep made during the countdown, counted just after it:
    assert runner.update(5.05, 1) == [Outcome.REST_OVER, Cue.WORK_STARTED]
    assert runner.step_reps == 0 and runner.update(5.15, 0) == []  # the caller's new set
    assert runner.update(7.0, 1) == [Cue.REP]


def test_a_get_ready_countdown_comes_first_and_is_reported_apart_from_resting() -> None:
    runner = WorkoutRunner(two_exercises(), get_ready_s=5.0)
    assert runner.start(0.0) == [Cue.REST_STARTED] and runner.step is not None and runner.step.title == "Get ready"
    assert runner.update(4.9, 0) == [] and runner.update(5.05, 0) == [Outcome.REST_OVER, Cue.WORK_STARTED]
    runner.stop(8.0)
    summary = runner.summary()
    assert summary.get_ready_s == pytest.approx(5.0) and summary.resting_s == 0.0
    assert summary.working_s == pytest.approx(3.0) and summary.training_s == pytest.approx(3.0)
    assert summary.totals_text().startswith("get ready 0:05 · training 0:03 · working 0:03 · resting 0:00")


def test_a_timed_step_ends_when_its_time_is_up_and_still_counts_reps() -> None:
    plan = Plan("Plank and jacks", (PlanExercise("Jumping jacks", seconds=30),), rest_s=0)
    runner = WorkoutRunner(plan)
    camera = FakeSet([5.0, 10.0, 15.0, 29.0, 31.0])
    runner.start(0.0)
    runner.update(29.9, camera.count(29.9))
    assert runner.working and runner.step_remaining(29.9) == pytest.approx(0.1)
    assert runner.update(30.7, camera.count(30.7)) == [Outcome.TIME_UP, Cue.FINISHED]
    summary = runner.summary()
    assert summary.exercises[0].reps == 4  # the rep after the time was up is not counted
    assert summary.working_s == pytest.approx(30.0)  # ended when the time was up, not at the late update
    assert summary.exercises[0].tempo_s == pytest.approx(7.5) and summary.exercises[0].status == "done"


def test_tabata_runs_eight_rounds_of_work_and_rest() -> None:
    tabata = next(p for p in SHIPPED_PLANS if p.name == "Tabata squats")
    steps = plan_steps(tabata)
    assert [s.kind for s in steps] == [StepKind.WORK, *[StepKind.REST, StepKind.WORK] * 7]
    runner = WorkoutRunner(tabata)
    camera = FakeSet([t + 0.5 for t in range(0, 300, 2)])  # a rep every 2 s, whatever the runner does
    cues = drive(runner, camera, 0.0, 300.0)
    assert times_of(cues, Outcome.TIME_UP) == pytest.approx([20.0 + 30.0 * k for k in range(8)], abs=0.11)
    assert times_of(cues, Cue.FINISHED) == pytest.approx([230.0], abs=0.11)
    summary = runner.summary()
    squats = summary.exercises[0]
    assert squats.rounds_done == 8 and squats.status == "done"
    assert squats.work_s == pytest.approx(160.0, abs=0.01) and squats.rest_s == pytest.approx(70.0, abs=0.01)
    assert squats.reps == 80  # 10 reps in each 20 s round, none in the rests


def test_pause_freezes_the_clock_and_ignores_reps() -> None:
    plan = Plan("Timed", (PlanExercise("Squats", seconds=30), PlanExercise("Lunges", reps=2)), rest_s=10)
    runner = WorkoutRunner(plan)
    camera = FakeSet([5.0, 12.0, 14.0, 16.0, 60.0, 62.0, 80.0])
    drive(runner, camera, 0.0, 10.0)
    runner.pause(10.0)
    assert runner.paused
    drive(runner, camera, 10.1, 70.0)  # reps at 12, 14, 16, 60 and 62 come in while paused
    assert runner.working and runner.state is RunState.PAUSED and runner.step_reps == 1
    assert runner.step_remaining(70.0) == pytest.approx(20.0)  # the clock stood still
    runner.resume(70.0)
    assert runner.update(89.9, camera.count(89.9)) == [Cue.REP]  # the rep at 80 s
    assert runner.update(90.0, camera.count(90.0)) == [Outcome.TIME_UP, Cue.REST_STARTED]
    runner.stop(95.0)
    summary = runner.summary()
    assert summary.exercises[0].reps == 2 and summary.paused_s == pytest.approx(60.0)
    assert summary.working_s == pytest.approx(30.0) and summary.resting_s == pytest.approx(5.0)
    assert summary.training_s == pytest.approx(95.0)  # = working + resting + paused


def test_a_paused_rest_does_not_count_down() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0))
    drive(runner, FakeSet([1.0, 2.0, 3.0]), 0.0, 5.0)  # resting since 3 s
    runner.toggle_pause(5.0)
    assert runner.update(100.0, 3) == [] and runner.step is not None and runner.step.kind is StepKind.REST
    runner.toggle_pause(100.0)
    assert runner.step_remaining(100.0) == pytest.approx(8.0)
    assert runner.update(108.0, 3) == [Outcome.REST_OVER, Cue.WORK_STARTED]


def test_skip_ends_work_or_rest_early_and_keeps_the_reps() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0))
    camera = FakeSet([1.0, 2.0])
    drive(runner, camera, 0.0, 4.0)
    assert runner.skip(4.0) == [Outcome.SKIPPED, Cue.REST_STARTED]  # push-ups skipped at 2 of 3
    assert runner.skip(6.0) == [Outcome.SKIPPED, Cue.WORK_STARTED]  # rest cut short
    runner.pause(7.0)
    assert runner.skip(9.0) == [Outcome.SKIPPED, Cue.FINISHED]  # skipping while paused works too
    summary = runner.summary()
    assert [(e.reps, e.status) for e in summary.exercises] == [(2, "skipped"), (0, "skipped")]
    assert summary.resting_s == pytest.approx(2.0) and summary.paused_s == pytest.approx(2.0)
    assert runner.skip(10.0) == [] and runner.update(11.0, 5) == []  # nothing happens after the end


def test_stop_finishes_with_what_was_done() -> None:
    plan = Plan(
        "Three",
        (PlanExercise("Push-ups", reps=3), PlanExercise("Sit-ups", reps=3), PlanExercise("Squats", reps=3)),
        rest_s=5,
    )
    runner = WorkoutRunner(plan)
    camera = FakeSet([1.0, 2.0, 3.0, 10.0])
    drive(runner, camera, 0.0, 12.0)
    assert runner.working and runner.step is not None and runner.step.exercise == "Sit-ups"
    assert runner.stop(12.0) == [Outcome.STOPPED, Cue.FINISHED]
    summary = runner.summary()
    assert summary.stopped and summary.status == "stopped"
    assert [(e.reps, e.status) for e in summary.exercises] == [(3, "done"), (1, "stopped"), (0, "not started")]
    assert summary.training_s == pytest.approx(12.0) and summary.working_s == pytest.approx(7.0)
    assert runner.stop(13.0) == []


def test_stopping_before_the_start_gives_an_empty_summary() -> None:
    runner = WorkoutRunner(two_exercises())
    assert runner.stop(3.0) == [Cue.FINISHED]
    summary = runner.summary()
    assert summary.reps == 0 and summary.training_s == 0 and {e.status for e in summary.exercises} == {"not started"}


def test_reps_are_counted_from_the_live_count_whether_or_not_the_set_restarts() -> None:
    plan = Plan("Two", (PlanExercise("A", reps=2), PlanExercise("B", reps=2)), rest_s=0)
    runner = WorkoutRunner(plan)
    runner.start(0.0, count=7)  # the camera's set was already at 7: reps are counted from there
    assert runner.update(0.1, 7) == []
    assert runner.update(1.0, 8) == [Cue.REP]
    assert runner.update(2.0, 9) == [Cue.REP, Outcome.TARGET_REACHED, Cue.WORK_STARTED]
    assert runner.update(3.0, 0) == []  # the caller started a new set
    assert runner.update(4.0, 2) == [Cue.REP, Cue.REP, Outcome.TARGET_REACHED, Cue.FINISHED]


def test_summary_csv_has_a_row_per_exercise_and_the_totals() -> None:
    runner = WorkoutRunner(two_exercises(rest_s=10.0))
    drive(runner, FakeSet([2.0, 4.0, 6.0, 18.0, 20.0]), 0.0, 30.0)
    rows = list(csv.DictReader(io.StringIO(runner.summary().csv_text())))
    assert [r["exercise"] for r in rows] == ["Push-ups", "Squats", "total"]
    assert [int(r["reps"]) for r in rows] == [3, 2, 5]
    assert float(rows[0]["tempo_s_per_rep"]) == pytest.approx(2.0) and float(rows[1]["rest_s"]) == 10.0
    total = rows[2]
    assert float(total["time_s"]) == pytest.approx(float(total["work_s"]) + float(total["rest_s"]))
    assert float(total["work_s"]) == pytest.approx(10.0) and float(total["tempo_s_per_rep"]) == pytest.approx(2.0)
    assert "training 0:20 · working 0:10 · resting 0:10 · 5 reps" in runner.summary().totals_text()


def test_one_rest_is_reported_as_that_rest_and_the_countdown_apart() -> None:
    # Issue 21: a plan with one 5 s rest reported 10 s of rest, the get-ready countdown counted as rest.
    runner = WorkoutRunner(two_exercises(rest_s=5.0), get_ready_s=5.0)
    drive(runner, FakeSet([6.0, 7.0, 8.0, 14.0, 15.0]), 0.0, 30.0)
    summary = runner.summary()
    assert summary.resting_s == pytest.approx(5.0) and summary.get_ready_s == pytest.approx(5.0)
    assert summary.training_s == pytest.approx(10.0)  # from the end of the countdown: 3 s + 5 s rest + 2 s
    assert [e.rest_s for e in summary.exercises] == pytest.approx([0.0, 5.0])
    assert "get ready 0:05 · training 0:10 · working 0:05 · resting 0:05 · 5 reps" in summary.totals_text()


def test_statuses_are_enums_that_read_as_before() -> None:
    runner = WorkoutRunner(two_exercises())
    drive(runner, FakeSet([1.0, 2.0, 3.0]), 0.0, 4.0)
    runner.stop(4.0)
    summary = runner.summary()
    assert summary.status is WorkoutStatus.STOPPED and runner.state is RunState.FINISHED
    assert [e.status for e in summary.exercises] == [ExerciseStatus.DONE, ExerciseStatus.NOT_STARTED]
    assert summary.rows()[1][-2] == "not started" and CSV_HEADER[-2] == "status"
    assert type(summary).from_json(summary.to_json()) == summary


def test_one_rep_is_one_rep_not_one_reps() -> None:
    assert [count_text(n, "rep") for n in (0, 1, 2)] == ["0 reps", "1 rep", "2 reps"]
    assert PlanExercise("Squats", reps=1).target_text == "1 rep"
    assert PlanExercise("Squats", reps=1, rounds=3).target_text == "3 × 1 rep"
    runner = WorkoutRunner(Plan("One", (PlanExercise("Squats", reps=1),), rest_s=0))
    drive(runner, FakeSet([1.0]), 0.0, 2.0)
    assert runner.summary().totals_text().endswith("· 1 rep · 1.0 s/rep")
    assert runner.steps[0].target_text == "1 rep"


# ---------------------------------------------------------------- a workout on a stream of frames


class FakeCameraSet:
    """Stands in for pipeline.Session: counts a rep at each of `rep_times` (from the set's start on),
    each rep the second before its time, shown `shown_after_s` after it unless the set is finished
    first; like the Session, refuses a frame of another size than the set's first, and analyses the
    set's reps with the flow speed `speed(t)` of each frame."""

    def __init__(self, rep_times: list[float], speed=lambda t: 1.0, shown_after_s: float = 0.0) -> None:
        self.rep_times = rep_times
        self.speed = speed
        self.shown_after_s = shown_after_s
        self._finished_at = -math.inf
        self.resets: list[float] = []
        self._now = 0.0
        self._set_started = -math.inf
        self._frame_times: list[float] = []
        self._size: tuple[int, ...] | None = None
        self.finished = False

    def _counted(self) -> list[float]:
        shown = [t for t in self.rep_times if t + self.shown_after_s <= self._now or t <= self._finished_at]
        return [t for t in shown if self._set_started < t]

    @property
    def count(self) -> int:
        return len(self._counted())

    def analysis(self) -> SetAnalysis:
        ends = self._counted()
        reps = [Rep(n, t - 1.0, t - 0.5, t, t) for n, t in enumerate(ends, 1)]
        return analyse_set(reps, self._frame_times, [self.speed(t) for t in self._frame_times])

    def reset(self) -> None:
        self._set_started, self._size, self._frame_times = self._now, None, []
        self.resets.append(self._now)

    def process(self, frame: np.ndarray, time_s: float) -> FrameResult:
        self._now = time_s
        self._frame_times.append(time_s)
        if self._size is not None and frame.shape != self._size:
            raise FrameSizeChanged(f"frame size changed to {frame.shape}")
        self._size = frame.shape
        return FrameResult(time_s, None, np.array([0.0, 1.0, 0.0]), self.count, None)

    def finish(self) -> list:
        self.finished = True
        self._finished_at = self._now
        return []


SMALL, LARGE = np.zeros((240, 320, 3), np.uint8), np.zeros((480, 640, 3), np.uint8)


def stream(
    workout: WorkoutSession, start: float, end: float, frame: np.ndarray = SMALL, dt: float = 0.1
) -> list[Event]:
    events: list[Event] = []
    for k in range(int(round((end - start) / dt)) + 1):
        events += workout.process(frame, round(start + k * dt, 6)).events
    return events


def test_a_workout_session_starts_a_new_set_for_each_work_step() -> None:
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0, 9.0, 10.0])  # 4.0: after the first target, in the rest
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    stream(workout, 0.0, 0.5)  # frames before the start are only counted
    assert workout.runner is None and camera.resets == []
    assert workout.start(two_exercises(rest_s=5.0), 0.5) == [Cue.WORK_STARTED] and camera.resets == [0.5]
    events = stream(workout, 0.6, 12.0)
    assert events.count(Cue.REP) == 5 and workout.finished
    assert camera.resets == [0.5, 8.0]  # the second exercise began after the 5 s rest from 3.0
    assert [e.reps for e in workout.runner.summary().exercises] == [3, 2]


def test_a_camera_that_changes_resolution_starts_a_new_set_and_the_workout_goes_on() -> None:
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0])
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(Plan("Four", (PlanExercise("Squats", reps=4),), rest_s=0), 0.0)
    stream(workout, 0.1, 2.5)
    changed = workout.process(LARGE, 2.6)
    assert changed.camera_change and "size changed" in changed.camera_change and camera.resets[-1] == 2.6
    stream(workout, 2.7, 5.0, LARGE)  # the set counts again from 0: reps at 3.0 and 4.0
    assert workout.finished and workout.runner.summary().reps == 4


def test_a_stream_that_ends_early_stops_the_workout_with_the_last_reps() -> None:
    camera = FakeCameraSet([1.0, 2.0])
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(two_exercises(), 0.0)
    stream(workout, 0.0, 1.5)
    camera._now = 2.0  # the last rep is only judged when the stream ends
    assert workout.end_of_stream(2.0) == [Cue.REP, Outcome.STOPPED, Cue.FINISHED] and camera.finished
    assert workout.runner.summary().reps == 2 and workout.runner.stopped and not workout.discarded


def test_a_timed_step_that_runs_out_counts_the_rep_just_made_and_rests_as_a_new_set() -> None:
    # The live count shows a rep 0.5 s after it ends; the fifth squat ends 0.2 s before the time is up.
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0, 4.8, 7.0], shown_after_s=0.5)
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    plan = Plan("Timed", (PlanExercise("Squats", seconds=5), PlanExercise("Lunges", reps=2)), rest_s=10)
    workout.start(plan, 0.0)
    events = stream(workout, 0.1, 8.0)
    first = workout.runner.records[0]
    assert (first.reps, first.outcome) == (5, Outcome.TIME_UP) and events.count(Cue.REP) == 5
    assert len(first.analysis.reps) == 5 and camera.finished
    assert camera.resets == [0.0, 5.0]  # the rest is a new set: the squat at 7.0 is no lunge's
    stream(workout, 8.1, 15.5)
    assert workout.runner.step.exercise == "Lunges" and workout.runner.step_reps == 0


def test_a_timed_step_that_runs_out_with_no_frame_coming_still_counts_the_last_rep() -> None:
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0, 4.8], shown_after_s=0.5)  # the camera stops at 4.9
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(Plan("Timed", (PlanExercise("Squats", seconds=5),), rest_s=0), 0.0)
    stream(workout, 0.1, 4.9)
    assert workout.tick(5.2) == [Cue.REP, Outcome.TIME_UP, Cue.FINISHED]
    assert workout.runner.records[0].reps == 5 and workout.runner.records[0].active_s == pytest.approx(5.0)


def test_a_timed_step_keeps_the_reps_its_whole_set_bears_out_when_the_live_count_showed_more() -> None:
    # The live count showed 4; finished, the set's whole evidence counts 3 (flowrep.counter).
    plan = Plan("Timed", (PlanExercise("Squats", seconds=5),), rest_s=0)
    runner = WorkoutRunner(plan)
    runner.start(0.0)
    runner.update(4.0, 4)
    assert runner.step_reps == 4
    assert runner.set_finished(5.0, 3) == [] and runner.step_reps == 3
    assert runner.update(5.0) == [Outcome.TIME_UP, Cue.FINISHED]
    assert runner.summary().exercises[0].reps == 3


@pytest.mark.parametrize("command", [WorkoutSession.skip, WorkoutSession.stop])
def test_skipping_or_stopping_a_work_step_counts_the_rep_just_made(command) -> None:
    camera = FakeCameraSet([1.0, 2.0, 2.9], shown_after_s=0.5)
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(Plan("Ten", (PlanExercise("Squats", reps=10), PlanExercise("Lunges", reps=2)), rest_s=10), 0.0)
    stream(workout, 0.1, 3.0)
    assert workout.runner.step_reps == 2
    events = command(workout, 3.0)
    assert events[:2] == [Cue.REP, Outcome.SKIPPED if command is WorkoutSession.skip else Outcome.STOPPED]
    assert workout.runner.records[0].reps == 3 and len(workout.runner.records[0].analysis.reps) == 3


def test_a_skip_that_the_last_rep_answers_ends_only_that_step() -> None:
    # The last rep, seen as the set ends, reaches the target: the step ends by it, and the rest is not skipped.
    camera = FakeCameraSet([1.0, 2.0, 2.9], shown_after_s=0.5)
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(Plan("Three", (PlanExercise("Squats", reps=3), PlanExercise("Lunges", reps=2)), rest_s=10), 0.0)
    stream(workout, 0.1, 3.0)
    assert workout.skip(3.0) == [Cue.REP, Outcome.TARGET_REACHED, Cue.REST_STARTED]


def test_a_discarded_workout_is_stopped_and_marked_not_to_keep() -> None:
    workout = WorkoutSession(FakeCameraSet([]))  # type: ignore[arg-type]
    assert workout.discard(1.0) == [] and not workout.discarded  # nothing to discard before a start
    workout.start(two_exercises(), 0.0)
    assert workout.discard(3.0) == [Outcome.STOPPED, Cue.FINISHED] and workout.discarded and workout.finished
    workout.start(two_exercises(), 4.0)
    assert not workout.discarded
    workout.stop(5.0)
    assert workout.discard(6.0) == [] and not workout.discarded  # a workout already over is kept


def test_each_work_step_keeps_the_analysis_of_its_own_reps() -> None:
    # Push-ups slow down (flow speed 1.0 in the first three reps, 0.5 in the last three); a rep in the rest after them
    # (at 9.0) belongs to no step; the squats, done in the second set, keep their own reps.
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0, 13.0, 14.0], speed=lambda t: 1.0 if t < 3.05 else 0.5)
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    plan = Plan("Two", (PlanExercise("Push-ups", reps=6), PlanExercise("Squats", reps=2)), rest_s=5.0)
    workout.start(plan, 0.0)
    stream(workout, 0.1, 15.0)
    assert workout.finished
    push_ups, squats = [r.analysis for r in workout.runner.records if r.step.is_work]
    assert push_ups is not None and squats is not None
    assert [r.number for r in push_ups.reps] == [1, 2, 3, 4, 5, 6]  # not the rep at 9.0, made in the rest
    assert push_ups.speed_loss == pytest.approx(0.5) and push_ups.reps[-1].relative_speed == pytest.approx(0.5)
    assert len(squats.reps) == 2 and squats.speed_loss is None  # too few reps to say
    summary = workout.runner.summary()
    assert [e.speed_loss for e in summary.exercises] == [pytest.approx(0.5), None]
    assert summary.rows()[0][-1] == 0.5 and summary.rows()[1][-1] == "" and summary.rows()[2][-1] == ""


def test_a_stream_that_ends_mid_step_still_analyses_it() -> None:
    camera = FakeCameraSet([1.0, 2.0, 3.0, 4.0])
    workout = WorkoutSession(camera)  # type: ignore[arg-type]
    workout.start(two_exercises(), 0.0)
    plan = Plan("Long", (PlanExercise("Squats", reps=10),), rest_s=0)
    workout.start(plan, 0.0)
    stream(workout, 0.1, 4.5)
    workout.end_of_stream(4.5)
    (record,) = workout.runner.records
    assert record.outcome is Outcome.STOPPED and record.analysis is not None and len(record.analysis.reps) == 4
    assert record.analysis.speed_loss == pytest.approx(0.0)


def a_set(speed_loss: float | None, reps: int = 5) -> SetAnalysis:
    return SetAnalysis(tuple(RepAnalysis(n, 1.0, 0.5, 0.5, 1.0, 1.0) for n in range(1, reps + 1)), speed_loss)


def test_an_exercise_of_several_rounds_has_the_median_of_its_rounds_speed_losses() -> None:
    plan = Plan("Rounds", (PlanExercise("Squats", reps=5, rounds=4, round_rest_s=10),), rest_s=0)
    work = [s for s in plan_steps(plan) if s.is_work]
    losses = [0.1, None, 0.3, 0.25]  # the second round had too few reps to say
    records = [StepRecord(step, 5.0, 0.0, 5, Outcome.TARGET_REACHED, a_set(loss)) for step, loss in zip(work, losses)]
    assert summarize(plan, records, stopped=False).exercises[0].speed_loss == pytest.approx(0.25)
    none_known = [StepRecord(step, 5.0, 0.0, 3, Outcome.TARGET_REACHED, a_set(None, 3)) for step in work]
    assert summarize(plan, none_known, stopped=False).exercises[0].speed_loss is None
    no_analysis = [StepRecord(step, 5.0, 0.0, 3, Outcome.TARGET_REACHED) for step in work]  # the bare runner's
    assert summarize(plan, no_analysis, stopped=False).exercises[0].speed_loss is None


def test_the_summary_csv_appends_the_speed_loss_and_old_history_still_reads() -> None:
    plan = Plan("Two", (PlanExercise("Push-ups", reps=5), PlanExercise("Squats", reps=3)), rest_s=0)
    work = [s for s in plan_steps(plan) if s.is_work]
    records = [
        StepRecord(work[0], 10.0, 0.0, 5, Outcome.TARGET_REACHED, a_set(0.1234)),
        StepRecord(work[1], 6.0, 0.0, 3, Outcome.TARGET_REACHED, a_set(None, 3)),
    ]
    summary = summarize(plan, records, stopped=False)
    old_columns = ["exercise", "target", "rounds", "reps", "work_s", "rest_s", "paused_s", "time_s", "tempo_s_per_rep"]
    assert CSV_HEADER == [*old_columns, "status", "speed_loss"]
    rows = list(csv.DictReader(io.StringIO(summary.csv_text())))
    assert [(r["exercise"], r["reps"], r["status"], r["speed_loss"]) for r in rows] == [
        ("Push-ups", "5", "done", "0.123"),
        ("Squats", "3", "done", ""),
        ("total", "8", "finished", ""),
    ]
    assert [row[-1] for row in summary.screen_rows()] == ["12 %", "–", ""]
    lines = summary.table_text().splitlines()
    assert lines[0].split()[-3:] == ["status", "speed", "loss"] and lines[1].split()[-3:] == ["done", "12", "%"]
    assert lines[1].index("12 %") + 4 == lines[0].index("speed loss") + 10, lines  # right-aligned
    assert WorkoutSummary.from_json(summary.to_json()) == summary
    # A summary kept in the history before speed loss existed reads back without one.
    old = summary.to_json()
    for exercise in old["exercises"]:
        del exercise["speed_loss"]
    assert [e.speed_loss for e in WorkoutSummary.from_json(old).exercises] == [None, None]
    assert ExerciseSummary.from_json(old["exercises"][0]).reps == 5


# ---------------------------------------------------------------- plans


def test_plans_read_from_text_and_write_back() -> None:
    plan = Plan.from_text("Mine", "push-ups: 10 reps\nplank: 45 s\nsquats: 8 x 20 s, rest 10 s\nrest: 1 min")
    assert plan.exercises == (
        PlanExercise("push-ups", reps=10),
        PlanExercise("plank", seconds=45.0),
        PlanExercise("squats", seconds=20.0, rounds=8, round_rest_s=10.0),
    )
    assert plan.rest_s == 60.0
    assert Plan.from_text("Mine", plan.to_text()) == plan
    assert Plan.from_json(plan.to_json()) == plan
    for shipped in SHIPPED_PLANS:
        assert Plan.from_text(shipped.name, shipped.to_text()) == shipped


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("squats 10 reps", "line 1"),
        ("squats: 10 reps\nlunges: ten", "line 2"),
        ("squats: 10 reps, 20 s", "rest"),
        ("", "at least one exercise"),
        ("squats: 0 reps", "between 1"),
    ],
)
def test_a_plan_that_cannot_be_read_says_where(text: str, words: str) -> None:
    with pytest.raises(PlanError, match=words):
        Plan.from_text("Bad", text)


def test_find_plan_by_name_or_written_out() -> None:
    assert find_plan("tabata SQUATS").name == "Tabata squats"
    saved = [Plan("Mine", (PlanExercise("Curls", reps=12),))]
    assert find_plan("mine", saved) == saved[0]
    assert find_plan("squats: 2 reps; rest: 5 s").exercises == (PlanExercise("squats", reps=2),)
    with pytest.raises(PlanError, match="Tabata squats"):
        find_plan("no such plan")


# ---------------------------------------------------------------- the command line


def flowrep(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(list(args), env={"FLOWREP_DB": str(db)})


def test_cli_runs_a_plan_on_a_clip_and_writes_the_summary(clips: dict[str, Path], tmp_path: Path) -> None:
    # The clip: 1 s still, then 4 reps of 1.2 s. A clip that ends mid-plan stops the workout.
    out = tmp_path / "summary.csv"
    run = flowrep(
        "workout",
        str(clips["good"]),
        "--plan",
        "bob: 2 reps; hold: 30 s; rest: 0.5 s",
        "--csv",
        str(out),
        "--signal",
        "mean-flow",
        db=tmp_path / "h.db",
    )
    assert run.returncode == 0, run.stderr
    assert "Custom (stopped)" in run.stdout
    rows = list(csv.DictReader(out.open()))
    assert [(r["exercise"], r["reps"], r["status"]) for r in rows[:1]] == [("bob", "2", "done")]
    assert rows[1]["status"] == "stopped" and int(rows[2]["reps"]) <= 4
    assert list(rows[0])[-1] == "speed_loss" and rows[0]["speed_loss"] == ""  # 2 reps: too few to say
    assert "speed loss" in run.stdout.splitlines()[0]
    assert float(rows[1]["rest_s"]) == pytest.approx(0.5, abs=0.05)


def test_cli_lists_plans_and_finds_saved_ones(clips: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    History(db).save_plan(Plan("My two", (PlanExercise("bob", reps=2),), rest_s=0))
    listed = flowrep("plans", db=db)
    assert listed.returncode == 0 and "Tabata squats (shipped)" in listed.stdout and "My two (saved)" in listed.stdout
    run = flowrep("workout", str(clips["good"]), "--plan", "my two", "--signal", "mean-flow", db=db)
    assert run.returncode == 0, run.stderr
    assert "My two (finished)" in run.stdout and "2 reps" in run.stdout
    missing = flowrep("workout", str(clips["good"]), "--plan", "nothing", db=db)
    assert missing.returncode == 2 and "no plan is called 'nothing'" in missing.stderr


def test_listing_plans_starts_without_the_engine(tmp_path: Path) -> None:
    # `flowrep plans` is a text command: it must not pay torch's second of import.
    code = (
        "import sys; from flowrep.cli import main; main(['plans']); print(sorted({'torch', 'cv2'} & set(sys.modules)))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "FLOWREP_DB": str(tmp_path / "h.db")},
    )
    assert run.returncode == 0, run.stderr
    assert "Tabata squats" in run.stdout and run.stdout.strip().splitlines()[-1] == "[]"
