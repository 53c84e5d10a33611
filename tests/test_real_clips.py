"""Counts on real people (../shared/data): the product's reason to exist, judged as folder figures
(the benchmark's own), not as any one clip's exact count."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrep.bench import BenchOptions, run_bench
from flowrep.signals import make_signal


@pytest.fixture(scope="module")
def signal():
    return make_signal("cnn")


def test_the_exercise_clips_are_counted_as_files(shared_data: Path, signal) -> None:
    report = run_bench(shared_data / "exercise", signal, BenchOptions("file"))
    assert report.mae <= 0.05 and report.obo >= 0.9, [(c.file, c.true, c.pred) for c in report.clips]


def test_the_exercise_clips_are_counted_live_as_a_webcam_delivers_them(shared_data: Path, signal) -> None:
    report = run_bench(shared_data / "exercise", signal, BenchOptions("webcam"))
    # The model card's figure is 0.013 / 1.00; the guard is issue 19's target (0.05 / 0.93), which leaves
    # room for a clip or two to move by one and fails on a real regression (squat_sumukh_1 counting 4 of 2
    # alone makes 0.080).
    assert report.mae <= 0.05 and report.obo >= 0.93, [(c.file, c.true, c.pred) for c in report.clips]
    assert report.count_delay_s is not None and report.count_delay_s["median"] <= 0.5


def test_people_filmed_from_across_the_room_are_still_counted(shared_data: Path, signal) -> None:
    # Every exercise clip as if filmed from twice as far: the person is a quarter of the picture.
    report = run_bench(shared_data / "exercise", signal, BenchOptions("file", farther=2.0))
    assert report.mae <= 0.12, [(c.file, c.true, c.pred) for c in report.clips]
