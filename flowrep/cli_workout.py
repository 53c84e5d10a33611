"""The plan commands: `flowrep workout` runs a plan on a clip (run_plan_on_clip, the same
WorkoutSession as the page's Workout tab, on the clip's own clock and at the page camera's
frame rate) and prints its summary;
`flowrep plans` lists the shipped plans and those saved from the page. Neither imports the engine
(torch, OpenCV) until a clip is counted: `flowrep plans` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .cli_count import EXIT_BAD_INPUT, session_for
from .plans import SHIPPED_PLANS, Plan, PlanError, find_plan
from .summary import WorkoutSummary

if TYPE_CHECKING:
    from .pipeline import Session
    from .workout import WorkoutRunner


def _saved_plans() -> list[Plan]:
    """Plans saved from the page (FLOWREP_DB); none, with a warning, when the history cannot be read."""
    from .history import History, HistoryError

    try:
        return History().plans()
    except HistoryError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return []


def run_plan_on_clip(clip: str, plan: Plan, session: Session, get_ready_s: float = 0.0) -> WorkoutRunner:
    """Runs a plan on a clip with the clip's own timestamps as the clock, the way the page runs it
    on a camera (a WorkoutSession fed the frames the page's camera would send, `CAMERA_FPS` a
    second). Stops the workout if the clip ends first."""
    from .conditions import camera_rate
    from .pipeline import FrameError
    from .video import ClipReader, VideoError
    from .workout import WorkoutSession

    workout = WorkoutSession(session)
    session.reset()
    last_t = 0.0
    for frame in camera_rate()(ClipReader(clip)):
        if workout.runner is None:
            workout.start(plan, frame.time_s, get_ready_s)
        try:
            workout.process(frame.image, frame.time_s)
        except FrameError as error:
            raise VideoError(clip, f"{error} at frame {frame.index}") from error
        last_t = frame.time_s
        if workout.finished:
            break
    if workout.runner is None:  # a clip without a frame
        workout.start(plan, last_t, get_ready_s)
    workout.end_of_stream(last_t)
    assert workout.runner is not None
    return workout.runner


def _print_summary(summary: WorkoutSummary) -> None:
    print(summary.table_text())
    print(f"\n{summary.plan_name} ({summary.status}): {summary.totals_text()}", flush=True)


def workout_command(args: argparse.Namespace) -> int:
    from .video import VideoError

    try:
        plan = find_plan(args.plan, _saved_plans())
    except PlanError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        runner = run_plan_on_clip(args.clip, plan, session_for(args), args.get_ready)
    except VideoError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = runner.summary()
    _print_summary(summary)
    if args.csv:
        summary.write_csv(args.csv)
    return 0


def plans_command(args: argparse.Namespace) -> int:
    saved = _saved_plans()
    for label, plans in (("shipped", list(SHIPPED_PLANS)), ("saved", saved)):
        for plan in plans:
            print(f"{plan.name} ({label})")
            print("".join(f"    {line}\n" for line in plan.to_text().splitlines()), end="", flush=True)
    return 0
