"""The Workout tab's per-rep chart: every rep of the workout's work steps in order, each step being a
set (flowrep.analysis), drawn as the Upload tab's chart draws one set (flowrep.viz.rep_analysis_figure):
its down and up times as stacked bars, its speed relative to its own set's first reps as a line
(broken between sets: each set is compared with its own start), and dotted lines between the sets,
each named over its reps, with its speed loss when known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from flowrep import viz
from flowrep.analysis import SetAnalysis
from flowrep.summary import StepRecord


@dataclass(frozen=True)
class WorkSet:
    label: str  # 'Squats', or 'Squats 2/3' for a round
    analysis: SetAnalysis


def work_sets(records: Sequence[StepRecord]) -> list[WorkSet]:
    """The work steps with reps in their analysis, in the order they were done."""
    sets = []
    for record in records:
        step, analysis = record.step, record.analysis
        if step.is_work and analysis is not None and analysis.reps:
            rounds = f" {step.round}/{step.rounds}" if step.rounds > 1 else ""
            sets.append(WorkSet(f"{step.exercise}{rounds}", analysis))
    return sets


def workout_reps_figure(sets: Sequence[WorkSet]) -> go.Figure:
    """x: the rep's number in the whole workout; hover: its set and its number in the set."""
    xs: list[int] = []
    downs: list[float] = []
    ups: list[float] = []
    hover: list[str] = []
    line_x: list[int | None] = []  # the speed line: None between sets breaks it
    line_y: list[float | None] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for work in sets:
        reps, first = work.analysis.reps, len(xs) + 1
        numbers = list(range(first, first + len(reps)))
        xs += numbers
        downs += [round(a.down_s, 2) for a in reps]
        ups += [round(a.up_s, 2) for a in reps]
        hover += [f"{work.label}, rep {a.number}" for a in reps]
        line_x += [*numbers, None]
        line_y += [*(None if a.relative_speed is None else round(a.relative_speed, 3) for a in reps), None]
        loss = "" if work.analysis.speed_loss is None else f" · loss {100 * work.analysis.speed_loss:.0f} %"
        at = (numbers[0] + numbers[-1]) / 2
        notes.append({"x": at, "y": 1.0, "yref": "paper", "yanchor": "bottom", "showarrow": False})
        notes[-1].update({"text": f"{work.label}{loss}", "font": {"size": 11}})
        if first > 1:
            line = {"type": "line", "x0": first - 0.5, "x1": first - 0.5, "y0": 0, "y1": 1, "yref": "paper"}
            shapes.append({**line, "line": {"dash": "dot", "width": 1, "color": "#888"}})
    return viz.rep_times_figure(
        xs,
        downs,
        ups,
        (line_x, line_y),
        speed_name="speed (× its set's first reps)",
        x_title="rep of the workout",
        speed_axis={"title": {"text": "speed"}},
        legend_y=1.12,
        bar_options={"customdata": hover, "hovertemplate": "%{customdata}: %{y} s"},
        height=300,
        margin={"l": 40, "r": 45, "t": 70, "b": 35},
        shapes=shapes,
        annotations=notes,
    )
