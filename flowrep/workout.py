"""The workout runner, and the workout session that runs it on a stream of camera frames.

`WorkoutRunner` owns the walk through a plan's steps: a state machine (not started → running ⇄
paused → finished) that goes get ready → work → rest → … with skip and stop, and tells its caller
what happened as events: a `Cue` (a step started, a rep, the end) or an `Outcome` (a step ended, and
how). It has no clock of its own: every call that depends on time takes `now` (seconds, any origin,
never going back), so the page feeds it arrival times, the CLI a clip's timestamps and tests a fake
clock. Reps come in as the live count of the current set (flowrep.pipeline.Session.count); the
runner counts the increases it sees while a work step runs, so it counts right whether or not the
set restarts. A rep first seen in the very update that starts a work step was made before it
(during the rest) and is not counted.

`WorkoutSession` is one workout on one stream: frames (and their timestamps) in, each frame's
result and the runner's events out. It owns the camera's set (a new set for each work step, and
when the camera changes resolution), so the page and `flowrep workout` run workouts the same way.
It also gives each work step's record the per-rep analysis of its set (flowrep.analysis), taken
from the camera's set as the step ends, before the set restarts for the next work step: so reps
made in the rest after it are not in it. A work step that ends by its time, a skip or a stop first
finishes its set, as a stream's end or the webcam tab's "Finish set" does, so a last rep not yet
shown is counted (rounded, like any set's end) rather than lost; the rest after it is a new set.
Two limits, both rare: a camera change during a step restarts the set, so the analysis has only
the reps since the change; and reps made while the workout is paused are in the set's analysis
though the step's count leaves them out.
The summary is flowrep.summary's; plans are flowrep.plans'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from .analysis import analyse_set
from .pipeline import FrameResult, FrameSizeChanged, Session
from .plans import Plan, Step, plan_steps
from .summary import Outcome, StepRecord, WorkoutSummary, summarize


class RunState(StrEnum):
    NOT_STARTED = "not started"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class Cue(StrEnum):
    """Something began, for the caller to act on (start a new set, play a sound, show the summary)."""

    WORK_STARTED = "work started"  # start a new set: the count begins again from 0
    REST_STARTED = "rest started"  # a rest, or the get-ready countdown
    REP = "rep"  # one rep for each of these
    FINISHED = "finished"  # the last step ended, or the workout was stopped


#: What the runner reports, in order: a Cue, or the Outcome of a step that just ended.
Event = Cue | Outcome


class WorkoutRunner:
    """Walks a plan. Call start(now), then update(now, count) with every new count (and often enough
    for the clock: each camera frame); pause/resume/skip/stop whenever the user asks. Each call
    returns the events it caused, in order."""

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
    def state(self) -> RunState:
        if self.index < 0:
            return RunState.NOT_STARTED
        if self.index >= len(self.steps):
            return RunState.FINISHED
        return RunState.PAUSED if self.paused else RunState.RUNNING

    @property
    def step(self) -> Step | None:
        return self.steps[self.index] if 0 <= self.index < len(self.steps) else None

    @property
    def working(self) -> bool:
        """A work step is the current step (running or paused)."""
        return self.step is not None and self.step.is_work

    @property
    def next_work_step(self) -> Step | None:
        """The next work step after the current step (or the current one, during a rest)."""
        first = self.index + 1 if self.working else self.index
        return next((s for s in self.steps[max(first, 0) :] if s.is_work), None)

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    @property
    def started(self) -> bool:
        return self.index >= 0

    @property
    def finished(self) -> bool:
        return self.index >= len(self.steps)

    def step_elapsed(self, now: float) -> float:
        """Running time of the current step (pauses left out)."""
        if self.step is None:
            return 0.0
        paused = self._step_paused_s + (now - self._paused_since if self._paused_since is not None else 0.0)
        return max(0.0, now - self._step_started_at - paused)

    def step_remaining(self, now: float) -> float | None:
        """Seconds left in a timed step, a rest or the get-ready; None for a reps target."""
        step = self.step
        if step is None or step.seconds is None:
            return None
        return max(0.0, step.seconds - self.step_elapsed(now))

    # -- commands --------------------------------------------------------------

    def start(self, now: float, count: int = 0) -> list[Event]:
        """Starts the first step; `count` is the camera set's live count now (reps are counted from it)."""
        if self.started:
            return []
        self.started_at = now
        self._last_count = count
        return self._begin(0, now)

    def update(self, now: float, count: int | None = None) -> list[Event]:
        """The clock moved to `now`; `count` is the current set's live count (None: no news). Reps are
        the increases of that count (a count that goes down is a new set, counted from 0); those
        that come while paused or resting are ignored."""
        if not self.started or self.finished:
            return []
        new_reps = self._new_reps(count)
        if self.paused:
            return []
        events = self._run_clock(now)
        # Reps seen in the update that starts a work step were made before it (the caller's set restarts now).
        if self.working and new_reps and Cue.WORK_STARTED not in events:
            events += self._add_reps(new_reps, now)
        return events

    def set_finished(self, now: float, count: int) -> list[Event]:
        """The work step's set was finished at `now` and `count` is its final count (its whole
        evidence's, which can be fewer than the live count showed): the step's reps follow it, and
        the reps it adds are the step's even when they come as the step's time runs out (`update`
        runs the clock first). Call `update(now)` next for the clock."""
        change, self._last_count = count - self._last_count, count
        if self.paused or not self.working or change == 0:
            return []
        if change < 0:  # reps the live count showed that the whole set does not bear out
            self.step_reps = max(0, self.step_reps + change)
            return []
        return self._add_reps(change, now)

    def pause(self, now: float) -> list[Event]:
        if self.state is not RunState.RUNNING:
            return []
        events = self._run_clock(now)  # a step that ran out before the pause ends first
        if not self.finished:
            self._paused_since = now
        return events

    def resume(self, now: float) -> list[Event]:
        if self._paused_since is not None:
            self._step_paused_s += now - self._paused_since
            self._paused_since = None
        return []

    def toggle_pause(self, now: float) -> list[Event]:
        return self.resume(now) if self.paused else self.pause(now)

    def skip(self, now: float) -> list[Event]:
        """Ends the current step (work, rest or get-ready) now, keeping its reps, and goes on (unpaused)."""
        if self.step is None:
            return []
        events = [] if self.paused else self._run_clock(now)
        if self.finished:
            return events
        self.resume(now)
        return [*events, *self._end_step(now, Outcome.SKIPPED)]

    def stop(self, now: float) -> list[Event]:
        """Ends the workout now; the summary has what was done."""
        if not self.started:
            self.started_at = now
            self.index = len(self.steps)
            self.finished_at, self.stopped = now, True
            return [Cue.FINISHED]
        if self.finished:
            return []
        events = [] if self.paused else self._run_clock(now)
        if self.finished:
            return events
        self.resume(now)
        self._record(now, Outcome.STOPPED)
        self.index = len(self.steps)
        self.finished_at, self.stopped = now, True
        return [*events, Outcome.STOPPED, Cue.FINISHED]

    # -- internals -------------------------------------------------------------

    def _new_reps(self, count: int | None) -> int:
        """Reps since the last count seen; a count that went down means a new set began."""
        if count is None:
            return 0
        last, self._last_count = self._last_count, count
        return count if count < last else count - last

    def _run_clock(self, now: float) -> list[Event]:
        """Ends every timed step whose time ran out by `now`, each at the moment it ran out."""
        events: list[Event] = []
        while (step := self.step) is not None and step.seconds is not None:
            overshoot = self.step_elapsed(now) - step.seconds
            if overshoot < 0:
                break
            events += self._end_step(now - overshoot, Outcome.TIME_UP if step.is_work else Outcome.REST_OVER)
        return events

    def _add_reps(self, reps: int, now: float) -> list[Event]:
        step = self.step
        assert step is not None
        self.step_reps += reps
        events: list[Event] = [Cue.REP] * reps
        if step.reps is not None and self.step_reps >= step.reps:
            events += self._end_step(now, Outcome.TARGET_REACHED)
        return events

    def _record(self, now: float, outcome: Outcome) -> None:
        step = self.step
        assert step is not None
        active = self.step_elapsed(now)
        total = max(0.0, now - self._step_started_at)
        self.records.append(StepRecord(step, active, total - active, self.step_reps, outcome))

    def _end_step(self, now: float, outcome: Outcome) -> list[Event]:
        self._record(now, outcome)
        return [outcome, *self._begin(self.index + 1, now)]

    def _begin(self, index: int, now: float) -> list[Event]:
        self.index = index
        self.step_reps = 0
        self._step_started_at, self._step_paused_s, self._paused_since = now, 0.0, None
        step = self.step
        if step is None:
            self.finished_at = now
            return [Cue.FINISHED]
        return [Cue.WORK_STARTED if step.is_work else Cue.REST_STARTED]

    # -- the result --------------------------------------------------------------

    def summary(self) -> WorkoutSummary:
        return summarize(self.plan, self.records, self.stopped)


# ---------------------------------------------------------------- a workout on a stream of frames


@dataclass(frozen=True)
class WorkoutFrame:
    result: FrameResult  # the camera set's reading of the frame
    events: list[Event]  # what the runner did on it
    camera_change: str | None = None  # set when the camera switched resolution: a new set began there


class WorkoutSession:
    """One stream's workout: the camera's set (a Session) and, once a plan starts, its runner.

    Frames come in with their timestamps (seconds, strictly increasing; they are the runner's clock
    too). Before a plan starts, and after it ends, frames are just counted. Each work step is a new
    set, and so is a frame of another size (the camera switched resolution); the runner goes on."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.runner: WorkoutRunner | None = None
        self.discarded = False
        self._set_step: Step | None = None  # the work step the camera's set was started for
        self._set_finished = False  # the set was finished as its step ended: a new one starts
        self._analysed = 0  # the runner's records that have been given their analysis

    def start(self, plan: Plan, now: float, get_ready_s: float = 0.0) -> list[Event]:
        """Starts `plan` (a workout under way is dropped) with an optional get-ready countdown."""
        self.runner = WorkoutRunner(plan, get_ready_s)
        self.discarded = False
        self._set_step, self._analysed = None, 0
        return self._follow(self.runner.start(now, self.session.count))

    def process(self, frame: np.ndarray, time_s: float) -> WorkoutFrame:
        """Counts one frame and moves the workout on. Raises pipeline.FrameError for a frame that
        cannot be counted."""
        camera_change = None
        try:
            result = self.session.process(frame, time_s)
        except FrameSizeChanged as error:
            self.session.reset()
            result = self.session.process(frame, time_s)
            camera_change = str(error)
        if self.runner is None:
            return WorkoutFrame(result, [], camera_change)
        if self._time_up(time_s):
            events = [*self._finish_set(time_s), *self.runner.update(time_s)]
        else:
            events = self.runner.update(time_s, result.count)
        return WorkoutFrame(result, self._follow(events), camera_change)

    def tick(self, now: float) -> list[Event]:
        """The clock alone moved on (no frame): rests count down and timed steps end anyway."""
        if self.runner is None:
            return []
        last_reps = self._finish_set(now) if self._time_up(now) else []
        return self._follow([*last_reps, *self.runner.update(now)])

    def toggle_pause(self, now: float) -> list[Event]:
        return self._follow(self.runner.toggle_pause(now)) if self.runner is not None else []

    def skip(self, now: float) -> list[Event]:
        if self.runner is None:
            return []
        last_reps = self._finish_set(now)
        if any(isinstance(event, Outcome) for event in last_reps):  # they ended the step (its target): skipped
            return self._follow(last_reps)
        return self._follow([*last_reps, *self.runner.skip(now)])

    def stop(self, now: float) -> list[Event]:
        if self.runner is None:
            return []
        return self._follow([*self._finish_set(now), *self.runner.stop(now)])

    def discard(self, now: float) -> list[Event]:
        """Stops the workout under way and marks it as one not to keep in the history (a workout that
        has already finished is kept)."""
        events = self.stop(now)
        self.discarded = self.discarded or Cue.FINISHED in events
        return events

    def end_of_stream(self, now: float) -> list[Event]:
        """The stream ended (a clip's last frame was at `now`): the set's last reps are counted and
        a workout still under way is stopped."""
        runner = self.runner
        if runner is None or runner.finished or not runner.working:
            self.session.finish()
            events = [] if runner is None or runner.finished else runner.stop(now)
        else:
            events = [*self._finish_set(now), *runner.update(now), *runner.stop(now)]
        self._analyse_ended_steps()
        return events

    @property
    def finished(self) -> bool:
        return self.runner is not None and self.runner.finished

    def _time_up(self, now: float) -> bool:
        """A timed work step (running) has run out of time by `now`."""
        runner = self.runner
        return runner is not None and runner.working and not runner.paused and runner.step_remaining(now) == 0.0

    def _finish_set(self, now: float) -> list[Event]:
        """A work step's set ends now (its time is up, or the user skips or stops): the set is
        finished, so its last reps count, and the runner is given its count."""
        runner = self.runner
        if runner is None or not runner.working:
            return []
        self.session.finish()
        self._set_finished = True
        return runner.set_finished(now, self.session.count)

    def _follow(self, events: list[Event]) -> list[Event]:
        """Each work step is a new set of the camera's session: its count starts from 0, and so does
        the rest after a set that was finished. The steps that just ended get their analysis first,
        from the set as it was."""
        self._analyse_ended_steps()
        if Cue.WORK_STARTED in events or self._set_finished:
            self._set_finished = False
            self.session.reset()
            runner = self.runner
            self._set_step = runner.step if runner is not None and runner.working else None
        return events

    def _analyse_ended_steps(self) -> None:
        """Gives the work steps recorded since the last call the analysis of their reps: the camera
        set's, for the step the set was started for; none (no reps) for a step that began and ended
        with no frame in between (the set was still the step before's)."""
        runner = self.runner
        if runner is None:
            return
        for index in range(self._analysed, len(runner.records)):
            record = runner.records[index]
            if record.step.is_work:
                analysis = self.session.analysis() if record.step is self._set_step else analyse_set(())
                runner.records[index] = replace(record, analysis=analysis)
        self._analysed = len(runner.records)
