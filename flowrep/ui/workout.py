"""The Workout tab: plans (shipped and saved), a plan run on the webcam with the same engine as the
Webcam tab, sounds (see workout_sounds.js), the summary with its CSV, and the history. The rules
(targets, rests, pause) are flowrep.workout's WorkoutSession (which `flowrep workout` uses too), plans
flowrep.plans', the summary flowrep.summary's; storage is flowrep.history's; what the tab's texts say
is flowrep.ui.workout_text's; its components and their events are flowrep.ui.workout_layout's. This
module owns the handlers: the plans, the run, and what the screen shows of it (with a word when the
camera's pictures come too slowly to count well, as the Webcam tab says it)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
import pandas as pd

from flowrep.history import History, HistoryError
from flowrep.pipeline import FrameError
from flowrep.plans import MAX_NAME_CHARS, SHIPPED_PLANS, Plan, PlanError, shipped_plan
from flowrep.ui import visitor as visitor_of
from flowrep.ui import workout_layout, workout_text
from flowrep.ui.engine import Engine, FrameLog, RunFolders
from flowrep.ui.visitor import md_text
from flowrep.ui.widgets import CameraRate, side_by_side
from flowrep.ui.workout_chart import work_sets, workout_reps_figure
from flowrep.ui.workout_layout import WORKOUT_TICK_S, Updates, WorkoutComponents
from flowrep.ui.workout_store import WorkoutStore, history_choices, history_table
from flowrep.workout import Event, WorkoutRunner, WorkoutSession

GET_READY_S = 5.0  # the countdown before a workout's first exercise
NO_PICTURE_AFTER_S = 2.0
RECENT_SOUNDS = 6  # cues the hidden sound box repeats (see workout_sounds.js)


def _now() -> float:
    """The tab's clock (monotonic seconds); tests replace it to feed frames at a pace of their own."""
    return time.monotonic()


@dataclass
class WorkoutLive:
    """One browser session's workout (the camera's set and the runner, made on the first frame or
    Start) and what the page last showed. The stream's thread and the buttons' threads both touch it,
    hence the lock. Its clock, for the set and the runner alike, is the monotonic clock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    workout: WorkoutSession | None = None
    last_frame_at: float = -1e9
    rate: CameraRate = field(default_factory=CameraRate)  # of the frames since the camera last came back
    sound_number: int = 0
    recent_sounds: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_SOUNDS))
    shown: dict[str, Any] = field(default_factory=dict)  # last text sent per output: unchanged ones are skipped
    summary_shown: bool = False
    owner: str | None = None  # whose history a finished workout goes into (flowrep.ui.visitor)

    @property
    def runner(self) -> WorkoutRunner | None:
        return self.workout.runner if self.workout is not None else None

    def clock(self, now: float) -> float:
        """The workout's clock (the set's timestamps and the runner's alike): the monotonic clock."""
        return now


class WorkoutTab:
    """The tab's handlers, one instance per server, shared by every visitor; layout() makes its components."""

    def __init__(self, engine: Engine, frame_log: FrameLog, runs: RunFolders, history_path: Path | None = None) -> None:
        self.engine = engine
        self.log = frame_log
        self.runs = runs
        self.store = WorkoutStore(history_path)
        self.single_user = visitor_of.single_user()
        self._ui: WorkoutComponents | None = None

    @property
    def ui(self) -> WorkoutComponents:
        if self._ui is None:
            raise RuntimeError("WorkoutTab.layout() makes the components; call it inside a gr.Blocks first")
        return self._ui

    # plans and history (per visitor: see flowrep.ui.visitor) -----------------

    def owner(self, visitor: object) -> str | None:
        return visitor_of.owner_of(visitor, self.single_user)

    @property
    def history(self) -> History | None:
        return self.store.history

    @property
    def history_error(self) -> str:
        return self.store.error

    def plan_choices(self, visitor: object = None) -> list[tuple[str, str]]:
        return self.store.plan_choices(self.owner(visitor))

    def on_load(self, visitor: object = None, live: WorkoutLive | None = None) -> Updates:
        """A page (re)load: the visitor's id (a new one on a first visit), their plans and history as
        they are now (the database may have been fixed), and the session's WorkoutLive. Made here, before
        any button or frame: the camera's stream and Start each return the session's WorkoutLive, so if
        each made its own (the first frame and a Start at once), the last to answer would replace the
        other's, and a started workout could be lost under the camera's."""
        visitor = visitor_of.valid_id(visitor) or visitor_of.new_id()
        self.store.open()
        ui = self.ui
        return {
            ui.live: live if isinstance(live, WorkoutLive) else WorkoutLive(),
            ui.visitor: visitor,
            ui.plan_pick: gr.Dropdown(choices=self.plan_choices(visitor)),
            **self._history(self.owner(visitor)),
        }

    def _history(self, owner: str | None, message: str = "") -> Updates:
        """The history table, the list to delete from, and the store's error (or `message`)."""
        records = self.store.workouts(owner)
        ui = self.ui
        return {
            ui.history: history_table(records),
            ui.history_pick: gr.Dropdown(choices=history_choices(records), value=None),
            ui.history_msg: self.store.error or message,
        }

    def delete_workout(self, workout_id: object, visitor: object = None) -> Updates:
        """Deletes one of the visitor's finished workouts from their history."""
        owner = self.owner(visitor)
        if not isinstance(workout_id, int | str) or not str(workout_id).isdigit():
            return self._history(owner, "Pick a workout from the list to delete it.")
        try:
            deleted = self.store.delete_workout(int(workout_id), owner)
        except HistoryError as error:
            return self._history(owner, f"**Not deleted:** {md_text(str(error))}")
        return self._history(owner, "Deleted from the history." if deleted else "That workout is not in your history.")

    # plans -------------------------------------------------------------------

    def choose_plan(self, name: str | None, visitor: object = None) -> Updates:
        ui = self.ui
        plan = next((p for p in reversed(self.store.plans(self.owner(visitor))) if p.name == name), None)
        if plan is None:
            return {ui.plan_msg: ""}
        return {ui.plan_name: plan.name, ui.plan_text: plan.to_text(), ui.plan_msg: ""}

    def follow_plan(self, name: str, visitor: object = None) -> Updates:
        """The plan list shows the plan whose name is being edited, or none for a new name."""
        choices = self.plan_choices(visitor)
        value = name if name in {value for _, value in choices} else None
        return {self.ui.plan_pick: gr.Dropdown(choices=choices, value=value)}

    def save_plan(self, name: str, text: str, visitor: object = None) -> Updates:
        ui = self.ui
        try:
            plan = Plan.from_text(name or "", text or "")
        except PlanError as error:
            return {ui.plan_msg: f"**Not saved:** {md_text(str(error))}"}
        if shipped_plan(plan.name) is not None:
            return {ui.plan_msg: f"**Not saved:** “{md_text(plan.name)}” is a shipped plan; give yours another name."}
        if (problem := self.store.save_plan(plan, self.owner(visitor))) is not None:
            return {ui.plan_msg: f"**Not saved:** {md_text(problem)}"}
        return {
            ui.plan_pick: gr.Dropdown(choices=self.plan_choices(visitor), value=plan.name),
            ui.plan_msg: f"Saved “{md_text(plan.name)}”.",
        }

    def delete_plan(self, name: str, visitor: object = None) -> Updates:
        ui = self.ui
        name = (name or "")[: MAX_NAME_CHARS + 1]
        if shipped_plan(name) is not None:
            return {ui.plan_msg: "Shipped plans cannot be deleted."}
        try:
            deleted = self.store.delete_plan(name, self.owner(visitor))
        except HistoryError as error:
            return {ui.plan_msg: f"**Not deleted:** {md_text(str(error))}"}
        if not deleted:
            return {ui.plan_msg: f"No saved plan is called “{md_text(name)}”."}
        first = SHIPPED_PLANS[0].name
        return {
            ui.plan_pick: gr.Dropdown(choices=self.plan_choices(visitor), value=first),
            ui.plan_msg: f"Deleted “{md_text(name)}”.",
        }

    # the run -----------------------------------------------------------------

    def start(self, name: str, text: str, live: WorkoutLive | None, visitor: object = None) -> Updates:
        """Starts the plan in the editor: a get-ready countdown, then the first exercise."""
        ui = self.ui
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        live.owner = self.owner(visitor)
        try:
            plan = Plan.from_text(name or "My plan", text or "")
        except PlanError as error:
            return self._screen(live, _now(), [], status=f"**Cannot start:** {md_text(str(error))}")
        now = _now()
        if not self.engine.ready():
            return self._screen(live, now, [], status=f"**{self.engine.error}**")
        with live.lock:
            live.workout = live.workout or WorkoutSession(self.engine.new_session())
            live.summary_shown = False
            live.shown.clear()
            cues = live.workout.start(plan, live.clock(now), GET_READY_S)
            no_summary = pd.DataFrame([], columns=workout_text.SUMMARY_HEADERS)
            return {
                ui.totals: "",
                ui.summary: no_summary,
                ui.reps_chart: gr.Plot(None, visible=False),
                ui.csv: None,
                ui.timer: gr.Timer(active=True),
                **self._screen(live, now, cues),
            }

    def toggle_pause(self, live: WorkoutLive | None) -> Updates:
        return self._command(live, WorkoutSession.toggle_pause)

    def skip(self, live: WorkoutLive | None) -> Updates:
        return self._command(live, WorkoutSession.skip)

    def stop(self, live: WorkoutLive | None) -> Updates:
        return self._command(live, WorkoutSession.stop)

    def discard(self, live: WorkoutLive | None) -> Updates:
        """Stops the workout without keeping it in the history."""
        return self._command(live, WorkoutSession.discard)

    def _command(self, live: WorkoutLive | None, command: Callable[[WorkoutSession, float], list[Event]]) -> Updates:
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        now = _now()
        with live.lock:
            if live.workout is None or live.runner is None or live.runner.finished:
                return self._screen(live, now, [], status="Start a workout first.")
            cues = command(live.workout, live.clock(now))
            return self._screen(live, now, cues)

    def frame(self, frame_rgb: np.ndarray | None, live: WorkoutLive | None) -> Updates:
        """One camera frame: counted by the engine, fed to the runner; the screen and cues out."""
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        arrived, arrived_wall = _now(), time.time()
        if not self.engine.ready():
            return self._screen(live, arrived, [], status=f"**{self.engine.error}**")
        if frame_rgb is None or frame_rgb.size == 0:
            return self._screen(live, arrived, [], status="**The camera sent an empty frame.**")
        frame = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        with live.lock:
            if arrived - live.last_frame_at > NO_PICTURE_AFTER_S:
                live.rate.restart()
            live.rate.add(arrived)
            live.last_frame_at = arrived
            live.workout = live.workout or WorkoutSession(self.engine.new_session())
            try:
                counted = live.workout.process(frame, live.clock(arrived))
            except FrameError as error:
                return self._screen(live, arrived, [], status=f"**The camera's picture cannot be counted:** {error}.")
            result, runner = counted.result, live.runner
            # The picture's count is the count box's: a work step's reps, no number in a get-ready, a
            # rest or before a start (the camera's own count there is motion nobody is counting).
            shown = runner.step_reps if runner is not None and runner.working else None
            step = runner.step if runner is not None else None
            self.log.write(
                tab="workout",
                wall=arrived_wall,
                t=result.time_s,
                count=result.count,
                step=str(step.kind) if step else None,
                step_reps=shown,
            )
            return {self.ui.view: side_by_side(frame, result, shown), **self._screen(live, arrived, counted.events)}

    def tick(self, live: WorkoutLive | None) -> Updates:
        """The clock's refresh when no frame comes: rests count down and timed steps end anyway."""
        if not isinstance(live, WorkoutLive) or live.runner is None or live.runner.finished and live.summary_shown:
            return {self.ui.timer: gr.Timer(active=False)}
        now = _now()
        if now - live.last_frame_at < WORKOUT_TICK_S:
            return gr.skip()  # the frames keep the screen fresh
        with live.lock:
            assert live.workout is not None
            return self._screen(live, now, live.workout.tick(live.clock(now)))

    # what the page shows -----------------------------------------------------

    def _screen(self, live: WorkoutLive, now: float, cues: list[Event], status: str | None = None) -> Updates:
        """The run's texts that changed since last shown, the newest sound, and the summary once finished."""
        ui = self.ui
        runner = live.runner
        texts = {ui.status: self._status(live, now) if status is None else status}
        # Before the first Start the page already shows the idle texts (the layout's values), and a
        # runner is never taken away; sending them again let a camera frame answered just after Start
        # put "Choose a plan" back over the workout's first step.
        if runner is not None:
            texts[ui.step] = workout_text.step_markdown(runner)
            texts[ui.count] = workout_text.step_count_markdown(runner, live.clock(now))
            texts[ui.clock] = workout_text.clock_markdown(runner, live.clock(now))
        updates: Updates = {ui.live: live}
        for component, text in texts.items():
            key = str(component.elem_id)
            if live.shown.get(key) != text:
                live.shown[key] = updates[component] = text
        pause_label = "Resume" if runner is not None and runner.paused else "Pause"
        if live.shown.get("pause") != pause_label:
            live.shown["pause"] = pause_label
            updates[ui.pause] = gr.Button(pause_label)
        if kind := workout_text.sound_for(cues):
            live.sound_number += 1
            live.recent_sounds.append(f"{live.sound_number}:{kind}")
            updates[ui.sound] = " ".join(live.recent_sounds)
        if runner is not None and runner.finished and not live.summary_shown:
            live.summary_shown = True
            keep = live.workout is not None and not live.workout.discarded
            updates.update(self._finish(runner, live.owner, keep=keep))
        return updates

    def _status(self, live: WorkoutLive, now: float) -> str:
        runner = live.runner
        if runner is None or runner.finished:
            return ""
        if runner.paused:
            return "Paused: press **Resume** to go on."
        if now - live.last_frame_at > NO_PICTURE_AFTER_S:
            return "No camera picture: press **Record** on the camera (the clock runs on)."
        return live.rate.status()

    def _finish(self, runner: WorkoutRunner, owner: str | None, keep: bool) -> Updates:
        """The summary on screen, with the per-rep chart, and as CSV; the workout into the history
        unless not to `keep`; the clock stops."""
        ui = self.ui
        summary = runner.summary()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        csv_path = summary.write_csv(self.runs.new() / f"workout-{stamp}.csv")
        discarded = "" if keep else " (discarded: not in the history)"
        heading = f"### {md_text(summary.plan_name)}: {summary.status}{discarded}"
        if keep:
            self.store.record(summary, owner)
        sets = work_sets(runner.records)
        return {
            ui.totals: f"{heading}\n{md_text(summary.totals_text())}",
            ui.summary: workout_text.summary_table(summary),
            ui.reps_chart: gr.Plot(workout_reps_figure(sets), visible=True) if sets else gr.Plot(None, visible=False),
            ui.csv: str(csv_path),
            **self._history(owner),
            ui.timer: gr.Timer(active=False),
        }

    # layout ------------------------------------------------------------------

    def layout(self, demo: gr.Blocks) -> None:
        """The tab's components and events (inside build_demo's Workout tab): flowrep.ui.workout_layout."""
        self._ui = workout_layout.layout(self, demo)
