"""Counts of real people's clips as files (../shared/data): the product's reason to exist, judged as
folder figures (the benchmark's own), not as any one clip's exact count. Live counts are
test_real_clips_live.py's."""

from __future__ import annotations

from pathlib import Path

from flowrep.bench import BenchOptions, run_bench


def test_the_exercise_clips_are_counted_as_files(shared_data: Path, cnn_signal) -> None:
    report = run_bench(shared_data / "exercise", cnn_signal, BenchOptions("file"))
    assert report.mae <= 0.05 and report.obo >= 0.9, [(c.file, c.true, c.pred) for c in report.clips]


def test_people_filmed_from_across_the_room_are_still_counted(shared_data: Path, cnn_signal) -> None:
    # Every exercise clip as if filmed from twice as far: the person is a quarter of the picture.
    report = run_bench(shared_data / "exercise", cnn_signal, BenchOptions("file", farther=2.0))
    assert report.mae <= 0.12, [(c.file, c.true, c.pred) for c in report.clips]
