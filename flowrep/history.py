"""The workout history: saved plans and finished workouts, in an embedded SQLite database.

Owns the database file and its schema. The path comes from FLOWREP_DB, else ~/.flowrep/flowrep.db;
the folder and the file are created on first use. Every failure to read or write it (a corrupt file,
a path that cannot be written, a locked database) raises HistoryError, one clear message naming the
file, so the page can say so and carry on without history. Each call opens its own short
connection, so the store can be shared by the page's threads and by several processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .plans import Plan
from .redact import file_name, without_paths
from .summary import WorkoutSummary

T = TypeVar("T")
ENV_VAR = "FLOWREP_DB"
SCHEMA_VERSION = 2
#: Each plan and workout belongs to an owner: a visitor's random id on a hosted page, "" on a
#: single-user install (and for everything saved before owners existed, schema 1).
SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    owner TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (owner, name)
);
CREATE TABLE IF NOT EXISTS workouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    status TEXT NOT NULL,
    reps INTEGER NOT NULL,
    training_s REAL NOT NULL,
    working_s REAL NOT NULL,
    resting_s REAL NOT NULL,
    summary_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workouts_by_owner ON workouts (owner, id);
"""
#: Schema 1 → 2: plans keyed by (owner, name), workouts with an owner; what was there becomes "".
MIGRATE_1_TO_2 = """
ALTER TABLE plans RENAME TO plans_v1;
CREATE TABLE plans (owner TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, plan_json TEXT NOT NULL,
                    saved_at TEXT NOT NULL, PRIMARY KEY (owner, name));
INSERT INTO plans (owner, name, plan_json, saved_at) SELECT '', name, plan_json, saved_at FROM plans_v1;
DROP TABLE plans_v1;
ALTER TABLE workouts ADD COLUMN owner TEXT NOT NULL DEFAULT '';
"""


class HistoryError(Exception):
    """The history database cannot be used; str() is a message for people, naming the file by its name
    (the page shows it to visitors, so never the server's path); `path` is the full path, for logs."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"The workout history {path.name} cannot be used ({without_paths(problem)}). "
            "Workouts still run, but plans and results are not saved."
        )
        self.path = path
        self.problem = problem


def default_db_path() -> Path:
    """FLOWREP_DB, else ~/.flowrep/flowrep.db."""
    configured = os.environ.get(ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".flowrep" / "flowrep.db"


@dataclass(frozen=True)
class WorkoutRecord:
    id: int
    finished_at: datetime
    summary: WorkoutSummary


class History:
    """Saved plans and finished workouts. Opening checks (and on first run creates) the database."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(self.path, f"it was written by a newer FlowRep (schema {version})")
            if version == 1:
                db.executescript(f"BEGIN; {MIGRATE_1_TO_2} COMMIT;")  # one transaction: all or nothing
            db.executescript(SCHEMA)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success; any database or file error becomes HistoryError."""
        db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5.0)
            with db:  # commits, or rolls back on an exception
                yield db
        except sqlite3.DatabaseError as error:
            raise HistoryError(self.path, _problem(error)) from error
        except OSError as error:
            where = f": {file_name(error.filename)}" if error.filename else ""
            problem = f"it cannot be created or written ({error.strerror or error}{where})"
            raise HistoryError(self.path, problem) from error
        finally:
            if db is not None:
                db.close()

    # plans -------------------------------------------------------------------

    def save_plan(self, plan: Plan, owner: str = "") -> None:
        """Saves an owner's plan under its name, replacing one they saved before with that name."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO plans (owner, name, plan_json, saved_at) VALUES (?, ?, ?, ?)",
                (owner, plan.name, json.dumps(plan.to_json()), _now()),
            )

    def plans(self, owner: str = "") -> list[Plan]:
        """An owner's saved plans, by name."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT plan_json FROM plans WHERE owner = ? ORDER BY name COLLATE NOCASE", (owner,)
            ).fetchall()
        return [plan for row in rows if (plan := _read(Plan.from_json, row[0])) is not None]

    def delete_plan(self, name: str, owner: str = "") -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM plans WHERE owner = ? AND name = ?", (owner, name)).rowcount > 0

    # workouts ----------------------------------------------------------------

    def record_workout(self, summary: WorkoutSummary, finished_at: datetime | None = None, owner: str = "") -> int:
        """Records an owner's finished (or stopped) workout; returns its id."""
        when = (finished_at or datetime.now()).isoformat(timespec="seconds")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO workouts (owner, finished_at, plan_name, status, reps, training_s, working_s, resting_s,"
                " summary_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    owner,
                    when,
                    summary.plan_name,
                    str(summary.status),
                    summary.reps,
                    summary.training_s,
                    summary.working_s,
                    summary.resting_s,
                    json.dumps(summary.to_json()),
                ),
            )
            return int(cursor.lastrowid or 0)

    def workouts(self, limit: int = 50, owner: str = "") -> list[WorkoutRecord]:
        """An owner's latest workouts, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, finished_at, summary_json FROM workouts WHERE owner = ? ORDER BY id DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        records = []
        for row_id, finished_at, summary_json in rows:
            summary = _read(WorkoutSummary.from_json, summary_json)
            if summary is not None:
                records.append(WorkoutRecord(row_id, datetime.fromisoformat(finished_at), summary))
        return records

    def delete_workout(self, workout_id: int, owner: str = "") -> bool:
        """Deletes one of an owner's recorded workouts; False if they have none with that id."""
        with self._connect() as db:
            return db.execute("DELETE FROM workouts WHERE id = ? AND owner = ?", (workout_id, owner)).rowcount > 0


def _problem(error: sqlite3.DatabaseError) -> str:
    text = str(error)
    if "not a database" in text or "malformed" in text:
        return f"the file is damaged or is not a FlowRep database: {text}"
    if "readonly" in text or "unable to open" in text:
        return f"it cannot be written here: {text}"
    return text


def _read(parse: Callable[[dict[str, Any]], T], text: str) -> T | None:
    """A row's JSON, parsed; None for a row that cannot be read (it is left out, not fatal)."""
    try:
        return parse(json.loads(text))
    except (ValueError, KeyError, TypeError):
        return None


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
