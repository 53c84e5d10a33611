"""The Webcam tab's finished sets: each set's reps, target, time, tempo and speed loss, as the tab's
table and as CSV. A set ends with the "Finish set" button or when the camera stops sending pictures;
a set without reps is not listed. A set's count is its final one (its whole evidence's, as an uploaded
clip's), which can differ from what the live count showed: the tab's message then says so.

- **time**: from the first rep's start to the last rep's end (the set's working time: standing in front
  of the camera before and after it does not count);
- **tempo**: that time per rep (seconds a rep), as a workout's summary reports it;
- **speed loss**: the set's, from `Session.analysis()` (see flowrep.analysis): None for fewer than four reps.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowrep.analysis import SetAnalysis
from flowrep.counter import Rep
from flowrep.plans import count_text

TABLE_HEADERS = ["set", "reps", "target", "time (s)", "tempo (s/rep)", "speed loss"]
CSV_HEADER = ("set", "reps", "target", "time_s", "tempo_s_per_rep", "speed_loss")


@dataclass(frozen=True)
class SetRecord:
    number: int
    reps: int
    target: int | None
    time_s: float
    speed_loss: float | None

    @property
    def tempo_s(self) -> float:
        return self.time_s / self.reps

    @property
    def target_reached(self) -> bool:
        return self.target is not None and self.reps >= self.target

    def table_row(self) -> list[object]:
        target = "" if self.target is None else f"{self.target}{' ✓' if self.target_reached else ''}"
        loss = "–" if self.speed_loss is None else f"{100 * self.speed_loss:.0f} %"
        return [self.number, self.reps, target, round(self.time_s, 1), round(self.tempo_s, 2), loss]

    def csv_row(self) -> list[object]:
        loss = "" if self.speed_loss is None else f"{self.speed_loss:.3f}"
        return [
            self.number,
            self.reps,
            "" if self.target is None else self.target,
            f"{self.time_s:.3f}",
            f"{self.tempo_s:.3f}",
            loss,
        ]


@dataclass
class SetList:
    """One browser session's finished sets, in order."""

    sets: list[SetRecord] = field(default_factory=list)

    def add(self, reps: Sequence[Rep], analysis: SetAnalysis, target: int | None) -> SetRecord | None:
        """Lists a finished set; None (and nothing listed) for a set without reps."""
        if not reps:
            return None
        record = SetRecord(
            number=len(self.sets) + 1,
            reps=len(reps),
            target=target,
            time_s=max(reps[-1].end_s - reps[0].start_s, 1e-3),
            speed_loss=analysis.speed_loss,
        )
        self.sets.append(record)
        return record

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([s.table_row() for s in self.sets], columns=TABLE_HEADERS)

    def write_csv(self, path: Path) -> Path:
        with open(path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CSV_HEADER)
            writer.writerows(s.csv_row() for s in self.sets)
        return path


def empty_table() -> pd.DataFrame:
    return pd.DataFrame([], columns=TABLE_HEADERS)


def set_message(record: SetRecord | None, live_count: int | None = None) -> str:
    """What the tab says when a set ends; `live_count` is what the count showed before the set's final
    count (its whole evidence's, see flowrep.counter), which the message names where they differ."""
    reps = 0 if record is None else record.reps
    recounted = "" if live_count in (None, reps) else f" (the live count showed {live_count}; counted on the whole set)"
    if record is None:
        return f"No reps in that set{recounted}: nothing listed. The count starts again from 0."
    reached = " Target reached." if record.target_reached else ""
    listed = f"{count_text(record.reps, 'rep')} in {record.time_s:.0f} s"
    return f"Set {record.number} listed below: {listed}{recounted}.{reached}"
