"""The workout history (SQLite): plans and workouts survive a reopen; a bad file is one clear error."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from flowrep.history import History, HistoryError, default_db_path
from flowrep.plans import Plan, PlanExercise
from flowrep.workout import WorkoutRunner


def finished_workout() -> WorkoutRunner:
    plan = Plan("Two", (PlanExercise("Push-ups", reps=2), PlanExercise("Squats", seconds=10)), rest_s=5)
    runner = WorkoutRunner(plan)
    runner.start(0.0)
    for now, count in ((1.0, 1), (2.0, 2), (7.0, 0), (12.0, 1), (16.5, 2), (17.5, 2)):
        runner.update(now, count)
    assert runner.finished
    return runner


def test_the_database_is_created_on_first_use_where_flowrep_db_says(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "deep" / "folder" / "flowrep.db"
    monkeypatch.setenv("FLOWREP_DB", str(path))
    assert default_db_path() == path
    History()
    assert path.is_file()
    monkeypatch.delenv("FLOWREP_DB")
    assert default_db_path() == Path.home() / ".flowrep" / "flowrep.db"


def test_a_saved_plan_is_there_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "flowrep.db"
    plan = Plan(
        "Mine",
        (PlanExercise("Squats", reps=12, rounds=3, round_rest_s=30), PlanExercise("Plank", seconds=45)),
        rest_s=20,
    )
    History(path).save_plan(plan)
    again = History(path)
    assert again.plans() == [plan]
    changed = Plan("Mine", (PlanExercise("Squats", reps=15),), rest_s=20)
    again.save_plan(changed)  # same name: replaced
    assert History(path).plans() == [changed]
    assert History(path).delete_plan("Mine") and History(path).plans() == []


def test_a_finished_workout_is_recorded_with_its_summary(tmp_path: Path) -> None:
    path = tmp_path / "flowrep.db"
    summary = finished_workout().summary()
    when = datetime(2026, 5, 1, 7, 30)
    History(path).record_workout(summary, when)
    History(path).record_workout(summary)
    records = History(path).workouts()
    assert len(records) == 2 and records[1].finished_at == when  # newest first
    assert records[1].summary == summary
    assert records[1].summary.reps == 4 and records[1].summary.training_s == pytest.approx(17.0)


def test_a_recorded_workout_can_be_deleted(tmp_path: Path) -> None:
    history = History(tmp_path / "flowrep.db")
    summary = finished_workout().summary()
    first, second = history.record_workout(summary), history.record_workout(summary)
    assert history.delete_workout(first) and not history.delete_workout(first)
    assert [record.id for record in History(tmp_path / "flowrep.db").workouts()] == [second]


def test_a_corrupt_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "flowrep.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(HistoryError) as error:
        History(path)
    assert path.name in str(error.value) and "not a FlowRep database" in str(error.value)
    assert str(tmp_path) not in str(error.value), "the page shows this message: no server paths"
    assert error.value.path == path
    assert "Workouts still run" in str(error.value)


def test_a_file_damaged_after_opening_is_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "flowrep.db"
    history = History(path)
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(HistoryError):
        history.plans()
    with pytest.raises(HistoryError):
        history.record_workout(finished_workout().summary())


def test_a_path_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the folder should be\n")
    with pytest.raises(HistoryError, match="cannot be created or written") as error:
        History(not_a_folder / "flowrep.db")
    assert "flowrep.db" in str(error.value) and str(tmp_path) not in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only files")
def test_a_read_only_database_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "flowrep.db"
    History(path)
    path.chmod(0o444)
    with pytest.raises(HistoryError, match="cannot be written"):
        History(path).save_plan(Plan("Mine", (PlanExercise("Squats", reps=1),)))
