"""The Workout tab's saved plans and history, per owner (see flowrep.ui.visitor): flowrep.history's
store, opened again when it failed (it may have been fixed), and the message to show when it cannot
be used."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flowrep.history import History, HistoryError
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

    def table(self, owner: str | None) -> pd.DataFrame:
        rows = []
        if owner is not None and self.history is not None:
            try:
                records = self.history.workouts(HISTORY_SHOWN, owner)
            except HistoryError as error:
                self.error, records = f"**{error}**", []
            for record in records:
                s = record.summary
                rows.append(
                    [
                        record.finished_at.strftime("%Y-%m-%d %H:%M"),
                        s.plan_name,
                        s.status,
                        s.reps,
                        clock_text(s.training_s),
                        clock_text(s.working_s),
                        clock_text(s.resting_s),
                    ]
                )
        return pd.DataFrame(rows, columns=workout_text.HISTORY_HEADERS)
