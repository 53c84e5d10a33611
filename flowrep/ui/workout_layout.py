"""The Workout tab's layout: its components (the plan editor, the camera and the run's readout, the
summary and the history), gathered in WorkoutComponents, and the events that wire them to the
WorkoutTab's handlers (flowrep.ui.workout, seen here as WorkoutHandlers: this module imports none of
it). Nothing here runs a workout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import gradio as gr
import numpy as np
import pandas as pd

from flowrep.plans import SHIPPED_PLANS
from flowrep.ui import visitor as visitor_of
from flowrep.ui import workout_text
from flowrep.ui.widgets import STREAM_EVERY_S, asset_text, camera
from flowrep.ui.workout_store import WorkoutStore, history_table

WORKOUT_TICK_S = 0.5  # the workout clock's refresh when no camera frame comes (camera off or stalled)

Updates = dict[Any, Any]  # {output component: its new value}; outputs left out stay as they are


@dataclass(frozen=True)
class WorkoutComponents:
    """The components the WorkoutTab's handlers read or update (the buttons that only send are _wire's)."""

    live: gr.State
    plan_pick: gr.Dropdown
    plan_name: gr.Textbox
    plan_text: gr.Textbox
    plan_msg: gr.Markdown
    view: gr.Image
    step: gr.Markdown
    count: gr.Markdown
    clock: gr.Markdown
    status: gr.Markdown
    pause: gr.Button
    sound: gr.Textbox
    totals: gr.Markdown
    summary: gr.Dataframe
    reps_chart: gr.Plot  # each rep of the workout (flowrep.ui.workout_chart), shown once it is over
    csv: gr.File
    history_msg: gr.Markdown
    history: gr.Dataframe
    history_pick: gr.Dropdown  # the history's workouts, to delete one
    timer: gr.Timer
    visitor: gr.BrowserState  # the visitor's random id (flowrep.ui.visitor)

    def run_outputs(self) -> list[Any]:
        """What the camera, the clock and the run's buttons may update."""
        return [
            self.view,
            self.step,
            self.count,
            self.clock,
            self.sound,
            self.status,
            self.pause,
            self.totals,
            self.summary,
            self.reps_chart,
            self.csv,
            self.history,
            self.history_pick,
            self.history_msg,
            self.timer,
            self.live,
        ]


class WorkoutHandlers(Protocol):
    """What the layout reads and wires its events to: flowrep.ui.workout's WorkoutTab (`live` is its
    WorkoutLive, or None before the first frame or press)."""

    store: WorkoutStore

    def plan_choices(self, visitor: object = None) -> list[tuple[str, str]]: ...
    def on_load(self, visitor: object = None, live: Any = None) -> Updates: ...
    def choose_plan(self, name: str | None, visitor: object = None) -> Updates: ...
    def follow_plan(self, name: str, visitor: object = None) -> Updates: ...
    def save_plan(self, name: str, text: str, visitor: object = None) -> Updates: ...
    def delete_plan(self, name: str, visitor: object = None) -> Updates: ...
    def delete_workout(self, workout_id: object, visitor: object = None) -> Updates: ...
    def start(self, name: str, text: str, live: Any, visitor: object = None) -> Updates: ...
    def toggle_pause(self, live: Any) -> Updates: ...
    def skip(self, live: Any) -> Updates: ...
    def stop(self, live: Any) -> Updates: ...
    def discard(self, live: Any) -> Updates: ...
    def frame(self, frame_rgb: np.ndarray | None, live: Any) -> Updates: ...
    def tick(self, live: Any) -> Updates: ...


def layout(tab: WorkoutHandlers, demo: gr.Blocks) -> WorkoutComponents:
    """The tab's components and events (inside build_demo's Workout tab), wired to `tab`'s handlers."""
    live = gr.State(None)  # a WorkoutLive, made on the first frame or button press
    first = SHIPPED_PLANS[0]
    with gr.Row(elem_id="w_main"):
        with gr.Column(scale=1, min_width=280, elem_id="w_plan_col"):
            plan_pick = gr.Dropdown(tab.plan_choices(None), value=first.name, label="Plan", elem_id="w_plan")
            plan_name = gr.Textbox(first.name, label="Name", elem_id="w_plan_name")
            plan_text = gr.Textbox(first.to_text(), label="Exercises", lines=6, elem_id="w_plan_text")
            gr.Markdown(workout_text.PLAN_FORMAT)
            with gr.Row():
                save_btn = gr.Button("Save plan", size="sm", elem_id="w_save")
                delete_btn = gr.Button("Delete plan", size="sm", elem_id="w_delete")
            plan_msg = gr.Markdown("", elem_id="w_plan_msg")
        with gr.Column(scale=2, elem_id="w_run_col"):
            with gr.Row(elem_id="w_cam_row"):
                cam = camera("w_cam")
                view = gr.Image(label="Camera | flow", format="jpeg", interactive=False, elem_id="w_view")
            with gr.Row(elem_id="w_buttons"):
                start_btn = gr.Button("Start workout", variant="primary", elem_id="w_start")
                pause_btn = gr.Button("Pause", elem_id="w_pause")
                skip_btn = gr.Button("Skip", elem_id="w_skip")
                stop_btn = gr.Button("Stop workout", variant="stop", elem_id="w_stop")
                discard_btn = gr.Button("Stop and discard", elem_id="w_discard")
                mute = gr.Checkbox(False, label="Mute sounds", elem_id="w_mute")
            with gr.Row(elem_id="w_readout"):
                step_md = gr.Markdown(workout_text.step_markdown(None), elem_id="w_step")
                count_md = gr.Markdown(workout_text.step_count_markdown(None, 0.0), elem_id="w_count")
                clock_md = gr.Markdown(workout_text.clock_markdown(None, 0.0), elem_id="w_clock")
            status_md = gr.Markdown("", elem_id="w_status")
            gr.Markdown(
                "*Click to Access Webcam*, then **Record** on the camera, and **Start workout**; each "
                "exercise moves on by itself when its target is reached or its time is up."
            )
    sound = gr.Textbox(visible="hidden", elem_id="w_sound")
    gr.Markdown("### Summary")
    totals_md = gr.Markdown("", elem_id="w_totals")
    summary_df = gr.Dataframe(
        pd.DataFrame([], columns=workout_text.SUMMARY_HEADERS),
        interactive=False,
        show_label=False,
        elem_id="w_summary",
    )
    reps_chart = gr.Plot(label="Each rep: down and up times, speed", visible=False, elem_id="w_reps")
    csv_file = gr.File(label="Summary as CSV", interactive=False, height=90, elem_id="w_csv")
    gr.Markdown("### History")
    history_msg = gr.Markdown(tab.store.error, elem_id="w_history_msg")
    history_df = gr.Dataframe(history_table([]), interactive=False, show_label=False, elem_id="w_history")
    with gr.Row(elem_id="w_history_edit"):
        history_pick = gr.Dropdown([], value=None, label="Workout", scale=3, elem_id="w_history_pick")
        history_delete_btn = gr.Button("Delete from history", size="sm", scale=1, elem_id="w_history_delete")
    # page.py renders it outside the tabs: a tab's components mount (and read localStorage) only once opened
    visitor = gr.BrowserState(None, storage_key=visitor_of.STORAGE_KEY, secret=visitor_of.STORAGE_KEY, render=False)
    timer = gr.Timer(WORKOUT_TICK_S, active=False)
    ui = WorkoutComponents(
        live=live,
        plan_pick=plan_pick,
        plan_name=plan_name,
        plan_text=plan_text,
        plan_msg=plan_msg,
        view=view,
        step=step_md,
        count=count_md,
        clock=clock_md,
        status=status_md,
        pause=pause_btn,
        sound=sound,
        totals=totals_md,
        summary=summary_df,
        reps_chart=reps_chart,
        csv=csv_file,
        history_msg=history_msg,
        history=history_df,
        history_pick=history_pick,
        timer=timer,
        visitor=visitor,
    )
    _wire(tab, demo, ui, cam, mute, start_btn, skip_btn, stop_btn, discard_btn, save_btn, delete_btn)
    history_delete_btn.click(
        tab.delete_workout,
        inputs=[history_pick, visitor],
        outputs=[history_df, history_pick, history_msg],
        queue=False,
        api_visibility="private",
        show_progress="hidden",
    )
    return ui


def _wire(
    tab: WorkoutHandlers,
    demo: gr.Blocks,
    ui: WorkoutComponents,
    cam: gr.Image,
    mute: gr.Checkbox,
    start_btn: gr.Button,
    skip_btn: gr.Button,
    stop_btn: gr.Button,
    discard_btn: gr.Button,
    save_btn: gr.Button,
    delete_btn: gr.Button,
) -> None:
    outputs = ui.run_outputs()
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    cam.stream(
        tab.frame,
        inputs=[cam, ui.live],
        outputs=outputs,
        stream_every=STREAM_EVERY_S,
        time_limit=None,
        concurrency_limit=None,
        **private,
    )
    ui.timer.tick(tab.tick, inputs=[ui.live], outputs=outputs, concurrency_limit=None, **private)
    start_btn.click(
        tab.start,
        inputs=[ui.plan_name, ui.plan_text, ui.live, ui.visitor],
        outputs=outputs,
        queue=False,
        **private,
    )
    ui.pause.click(tab.toggle_pause, inputs=[ui.live], outputs=outputs, queue=False, **private)
    skip_btn.click(tab.skip, inputs=[ui.live], outputs=outputs, queue=False, **private)
    stop_btn.click(tab.stop, inputs=[ui.live], outputs=outputs, queue=False, **private)
    discard_btn.click(tab.discard, inputs=[ui.live], outputs=outputs, queue=False, **private)
    ui.sound.change(None, inputs=[ui.sound, mute], js=asset_text("workout_sounds.js"), **private)
    plan_outputs = [ui.plan_pick, ui.plan_msg]
    ui.plan_pick.input(
        tab.choose_plan,
        inputs=[ui.plan_pick, ui.visitor],
        outputs=[ui.plan_name, ui.plan_text, ui.plan_msg],
        queue=False,
        **private,
    )
    ui.plan_name.input(
        tab.follow_plan, inputs=[ui.plan_name, ui.visitor], outputs=[ui.plan_pick], queue=False, **private
    )
    save_btn.click(
        tab.save_plan,
        inputs=[ui.plan_name, ui.plan_text, ui.visitor],
        outputs=plan_outputs,
        queue=False,
        **private,
    )
    delete_btn.click(tab.delete_plan, inputs=[ui.plan_name, ui.visitor], outputs=plan_outputs, queue=False, **private)
    demo.load(
        tab.on_load,
        inputs=[ui.visitor, ui.live],
        outputs=[ui.live, ui.visitor, ui.plan_pick, ui.history, ui.history_pick, ui.history_msg],
        queue=False,
        **private,
    )
