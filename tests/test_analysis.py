"""Per-rep analysis: each rep's down / up times and relative speed, and a set's speed loss — on
numbers, on rendered clips counted in-process, and in the CSV, the JSON and the chart."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from flowrep import viz
from flowrep.analysis import analyse_set, reference_reps
from flowrep.counter import Rep
from flowrep.pipeline import Session, count_clip

FPS = 25.0
OLD_JSON_KEYS = {"file", "count", "reps", "frames", "fps_processed", "warnings"}
OLD_CSV_COLUMNS = ["number", "start_s", "turn_s", "end_s", "duration_s"]


def reps_of(durations: list[float], start_s: float = 1.0) -> list[Rep]:
    """Back-to-back reps of the given durations, each turning a third of the way through."""
    reps, t = [], start_s
    for number, duration in enumerate(durations, 1):
        reps.append(Rep(number, t, t + duration / 3, t + duration, t + duration))
        t += duration
    return reps


def frame_speeds(reps: list[Rep], amplitude: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame flow speed of a body covering the same distance each rep: faster in shorter reps."""
    times = np.arange(0.0, reps[-1].end_s + 1.0, 1 / FPS)
    speeds = np.zeros_like(times)
    for rep in reps:
        inside = (times > rep.start_s) & (times <= rep.end_s)
        speeds[inside] = 2 * amplitude / rep.duration_s
    return times, speeds


def test_down_and_up_make_the_duration_and_a_steady_set_loses_no_speed() -> None:
    reps = reps_of([1.5] * 8)
    analysis = analyse_set(reps, *frame_speeds(reps))
    for rep, analysed in zip(reps, analysis.reps):
        assert analysed.down_s + analysed.up_s == pytest.approx(rep.duration_s)
        assert analysed.down_s == pytest.approx(rep.turn_s - rep.start_s)
        assert analysed.relative_speed == pytest.approx(1.0)
    assert analysis.speed_loss == pytest.approx(0.0, abs=1e-9)


def test_reps_that_slow_down_show_their_speed_loss() -> None:
    reps = reps_of([1.0, 1.0, 1.0, 1.25, 1.25, 2.0, 2.0, 2.0])  # the last three at half the first three's speed
    analysis = analyse_set(reps, *frame_speeds(reps))
    assert analysis.speed_loss == pytest.approx(0.5)
    assert [a.relative_speed for a in analysis.reps] == pytest.approx([1, 1, 1, 0.8, 0.8, 0.5, 0.5, 0.5])


def test_one_odd_rep_at_either_end_does_not_make_the_speed_loss() -> None:
    # Real clips: the first rep takes in getting into position, the last one the stop.
    reps = reps_of([1.5] * 8)
    times, speeds = frame_speeds(reps)
    speeds[(times > reps[0].start_s) & (times <= reps[0].end_s)] *= 2.0
    speeds[(times > reps[-1].start_s) & (times <= reps[-1].end_s)] *= 0.2
    assert analyse_set(reps, times, speeds).speed_loss == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("count, first", [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3), (20, 3)])
def test_short_sets_compare_their_first_half(count: int, first: int) -> None:
    assert reference_reps(count) == first


def test_a_set_too_short_or_without_speeds_says_so() -> None:
    reps = reps_of([1.5] * 3)
    assert analyse_set(reps, *frame_speeds(reps)).speed_loss is None
    assert analyse_set([]).reps == () and analyse_set([]).speed_loss is None
    timed_only = analyse_set(reps_of([1.5] * 6))
    assert timed_only.speed_loss is None
    assert all(a.flow_speed is None and a.relative_speed is None and a.down_s > 0 for a in timed_only.reps)


# --- rendered clips, counted by the session ----------------------------------------------------------------


def bobbing_frames(durations: list[float], size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    """A textured square going down and back up over a textured background, one rep of each duration
    (the same depth every rep, so a longer rep is a slower one), after and before a second still. The
    depth, a quarter of the frame, keeps the fastest rep's motion between a live set's frames (the
    camera's 10 a second) within what the flow measures; twice as deep, a live set read every rep's
    speed alike."""
    rng = np.random.default_rng(3)
    width, height = size
    background = cv2.resize(rng.integers(0, 256, (12, 16, 3)).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    square = cv2.resize(rng.integers(0, 256, (4, 4, 3)).astype(np.uint8), (40, 40), interpolation=cv2.INTER_NEAREST)
    offsets = [0.0] * round(FPS)
    for duration in durations:
        n = round(duration * FPS)
        offsets += [0.5 - 0.5 * np.cos(2 * np.pi * k / n) for k in range(n)]
    offsets += [0.0] * round(FPS)
    frames = []
    for offset in offsets:
        frame = background.copy()
        top = 10 + round(offset * height / 4)
        frame[top : top + 40, width // 2 - 20 : width // 2 + 20] = square
        frames.append(frame)
    return frames


STEADY = [1.4] * 8
SLOWING = list(np.linspace(1.0, 2.2, 8))


def counted(frames: list[np.ndarray], live: bool) -> Session:
    session = Session("mean-flow", live=live)
    for index, frame in enumerate(frames):
        session.process(frame, index / FPS)
    session.finish()
    return session


@pytest.mark.parametrize("live", [False, True])
def test_a_steady_set_keeps_its_speed_and_a_slowing_one_loses_it(live: bool) -> None:
    steady, slowing = counted(bobbing_frames(STEADY), live), counted(bobbing_frames(SLOWING), live)
    assert steady.count == len(STEADY) and slowing.count == len(SLOWING)
    steady_analysis, slowing_analysis = steady.analysis(), slowing.analysis()
    assert steady_analysis.speed_loss == pytest.approx(0.0, abs=0.1)
    assert slowing_analysis.speed_loss > 0.25
    for session, analysis in ((steady, steady_analysis), (slowing, slowing_analysis)):
        for rep, analysed in zip(session.reps, analysis.reps):
            assert analysed.down_s > 0 and analysed.up_s > 0
            assert analysed.down_s + analysed.up_s == pytest.approx(rep.duration_s)


def test_a_live_set_is_analysed_rep_by_rep() -> None:
    session = Session("mean-flow", live=True)
    seen = []
    for index, frame in enumerate(bobbing_frames(SLOWING)):
        if session.process(frame, index / FPS).rep is not None:
            seen.append(session.analysis())
    assert [len(a.reps) for a in seen][-1] == len(session.reps) >= 6
    assert all(a.reps[0].relative_speed is not None for a in seen)
    assert seen[-1].speed_loss is not None and seen[-1].speed_loss > 0.2
    session.reset()
    assert session.analysis().reps == ()


@pytest.fixture(scope="module")
def slowing_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "slowing.mp4"
    frames = bobbing_frames(SLOWING)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def test_the_clip_json_keeps_its_keys_and_adds_the_analysis(slowing_clip: Path) -> None:
    result = count_clip(slowing_clip, Session("mean-flow"))
    line = result.as_json()
    assert set(line) == OLD_JSON_KEYS | {"rep_analysis", "speed_loss"}
    assert line["count"] == len(SLOWING) and line["frames"] == len(bobbing_frames(SLOWING))
    assert line["reps"] == [{"start_s": round(r.start_s, 3), "end_s": round(r.end_s, 3)} for r in result.reps]
    assert [a["number"] for a in line["rep_analysis"]] == list(range(1, len(SLOWING) + 1))
    assert set(line["rep_analysis"][0]) == {"number", "duration_s", "down_s", "up_s", "flow_speed", "relative_speed"}
    assert line["speed_loss"] > 0.25


def test_the_reps_csv_adds_its_columns_after_the_old_ones(slowing_clip: Path, tmp_path: Path) -> None:
    result = count_clip(slowing_clip, Session("mean-flow"))
    with open(viz.write_reps_csv(result.reps, tmp_path / "r.csv", result.analysis)) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == OLD_CSV_COLUMNS + ["down_s", "up_s", "flow_speed", "relative_speed"]
    header, first = rows[0], dict(zip(rows[0], rows[1]))
    assert len(rows) == 1 + len(SLOWING) and all(len(row) == len(header) for row in rows)
    assert float(first["down_s"]) + float(first["up_s"]) == pytest.approx(float(first["duration_s"]), abs=0.002)
    assert float(dict(zip(header, rows[-1]))["relative_speed"]) < 0.8
    with open(viz.write_reps_csv(result.reps, tmp_path / "timed.csv")) as handle:
        timed_only = list(csv.DictReader(handle))
    assert timed_only[0]["relative_speed"] == "" and timed_only[0]["down_s"] == first["down_s"]


def test_the_table_rows_and_the_chart() -> None:
    reps = reps_of([1.0, 1.0, 1.2, 1.5, 2.0])
    analysis = analyse_set(reps, *frame_speeds(reps))
    assert viz.reps_rows(reps) == [
        [r.number, round(r.start_s, 2), round(r.end_s, 2), round(r.duration_s, 2)] for r in reps
    ]
    rows = viz.reps_rows(reps, analysis)
    assert len(rows[0]) == 4 + len(viz.ANALYSIS_TABLE_HEADERS) and rows[-1][-1] == 0.5
    figure = viz.rep_analysis_figure(analysis)
    assert [trace.name for trace in figure.data] == ["down (s)", "up (s)", "speed (× first reps)"]
    assert list(figure.data[2].y) == pytest.approx([1, 1, 0.833, 0.667, 0.5], abs=1e-3)
    assert figure.layout.title.text == "speed loss 42 %"  # the last two reps' median against the first two's
    assert viz.rep_analysis_figure(analyse_set([])).data[0].x in (None, ())
