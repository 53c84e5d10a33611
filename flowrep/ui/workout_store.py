"""The Workout tab's saved plans and history, per owner (see flowrep.ui.visitor): flowrep.history's
store, opened again when it failed (it may have been fixed), and the message to show when it cannot
be used."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flowrep.history import History, HistoryError, WorkoutRecord
from flowrep.plans import SHIPPED_PLANS, Plan
from flowrep.summary import WorkoutSummary, clock_text
from flowrep.ui import workout_text

HISTORY_SHOWN = 20
NO_VISITOR = "this page has no visitor id yet (the browser keeps none?); reload the page"


class WorkoutStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.history: History | None = None
        self.error = ""  # Markdown, or ""
        self.open()

    def open(self) -> History | None:
        if self.history is None:
            try:
                self.history, self.error = History(self.path), ""
            except HistoryError as error:
                self.history, self.error = None, f"**{error}**"
        return self.history

    def saved_plans(self, owner: str | None) -> list[Plan]:
        if owner is None or self.history is None:
            return []
        try:
            return self.history.plans(owner)
        except HistoryError as error:
            self.error = f"**{error}**"
            return []

    def plans(self, owner: str | None) -> list[Plan]:
        return [*SHIPPED_PLANS, *self.saved_plans(owner)]

    def plan_choices(self, owner: str | None) -> list[tuple[str, str]]:
        saved = [(f"{p.name} (saved)", p.name) for p in self.saved_plans(owner)]
        return [(p.name, p.name) for p in SHIPPED_PLANS] + saved

    def save_plan(self, plan: Plan, owner: str | None) -> str | None:
        """Saves the plan; None, or why it was not saved (plain text)."""
        if owner is None:
            return NO_VISITOR
        if self.open() is None or self.history is None:
            return self.error.strip("*")
        try:
            self.history.save_plan(plan, owner)
        except HistoryError as error:
            return str(error)
        return None

    def delete_plan(self, name: str, owner: str | None) -> bool:
        """Raises HistoryError."""
        return owner is not None and self.history is not None and self.history.delete_plan(name, owner)

    def record(self, summary: WorkoutSummary, owner: str | None) -> None:
        if owner is not None and self.open() is not None and self.history is not None:
            try:
                self.history.record_workout(summary, owner=owner)
            except HistoryError as error:
                self.error = f"**{error}**"

    def workouts(self, owner: str | None) -> list[WorkoutRecord]:
        """The owner's latest workouts, newest first (none where the store cannot be read)."""
        if owner is None or self.history is None:
            return []
        try:
            return self.history.workouts(HISTORY_SHOWN, owner)
        except HistoryError as error:
            self.error = f"**{error}**"
            return []

    def delete_workout(self, workout_id: int, owner: str | None) -> bool:
        """Raises HistoryError."""
        return owner is not None and self.history is not None and self.history.delete_workout(workout_id, owner)


def history_table(records: list[WorkoutRecord]) -> pd.DataFrame:
    rows = [
        [
            workout_label_time(record),
            record.summary.plan_name,
            record.summary.status,
            record.summary.reps,
            clock_text(record.summary.training_s),
            clock_text(record.summary.working_s),
            clock_text(record.summary.resting_s),
        ]
        for record in records
    ]
    return pd.DataFrame(rows, columns=workout_text.HISTORY_HEADERS)


def history_choices(records: list[WorkoutRecord]) -> list[tuple[str, int]]:
    """The history's workouts as (label, id) for the list a workout is deleted from."""
    return [(f"{workout_label_time(r)} · {r.summary.plan_name} · {r.summary.status}", r.id) for r in records]


def workout_label_time(record: WorkoutRecord) -> str:
    return record.finished_at.strftime("%Y-%m-%d %H:%M")
