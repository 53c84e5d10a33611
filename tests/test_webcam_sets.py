"""The Webcam tab's sets, in process: a target with its sounds, the sets listed when they end (the
"Finish set" button, or the camera stopping) with their reps, time, tempo and speed loss, and their CSV.
The tab's handlers are called directly, as the page calls them, on the fake camera's clip (still,
three slow squats, still) fed at its own pace through the tab's clock."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import democlips  # scripts/, on sys.path (conftest.py)
import pytest
from app_support import WEBCAM_CLIP, WEBCAM_REPS, page_tabs

from flowrep.analysis import analyse_set
from flowrep.counter import Rep
from flowrep.ui import webcam
from flowrep.ui.webcam_sets import CSV_HEADER, SetList, set_message


def test_a_set_list_gives_time_tempo_and_speed_loss_per_set(tmp_path: Path) -> None:
    reps = [
        Rep(number=k + 1, start_s=1.0 + 2 * k, turn_s=2.0 + 2 * k, end_s=3.0 + 2 * k, counted_s=3.0 + 2 * k)
        for k in range(4)
    ]
    times = [0.1 * k for k in range(100)]
    speeds = [1.0 if k <= 50 else 0.5 for k in range(100)]  # reps 3 and 4 (after 5 s) at half the speed
    sets = SetList()
    assert sets.add([], analyse_set([]), None) is None and sets.sets == []  # no reps: not listed
    first = sets.add(reps, analyse_set(reps, times, speeds), target=4)
    second = sets.add(reps[:2], analyse_set(reps[:2]), target=5)
    assert first is not None and second is not None
    assert (first.number, first.reps, first.time_s, first.tempo_s) == (1, 4, 8.0, 2.0)
    assert first.speed_loss == pytest.approx(0.5)
    table = sets.table()
    assert table.values.tolist() == [[1, 4, "4 ✓", 8.0, 2.0, "50 %"], [2, 2, "5", 4.0, 2.0, "–"]]
    assert "Target reached" in set_message(first) and "2 reps in 4 s" in set_message(second)
    # The set's final count is its whole evidence's; where the live count showed another, it says so.
    assert "showed" not in set_message(second, live_count=2)
    assert "2 reps in 4 s (the live count showed 3; counted on the whole set)" in set_message(second, live_count=3)
    assert "the live count showed 2" in set_message(None, live_count=2)
    with open(sets.write_csv(tmp_path / "sets.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[0] == {
        "set": "1",
        "reps": "4",
        "target": "4",
        "time_s": "8.000",
        "tempo_s_per_rep": "2.000",
        "speed_loss": "0.500",
    }
    assert rows[1]["target"] == "5" and rows[1]["speed_loss"] == ""


@pytest.fixture()
def clock(monkeypatch):
    """The webcam tab's clock, moved on by hand: now[0] seconds."""
    now = [1000.0]
    monkeypatch.setattr(webcam, "_now", lambda: now[0])
    return now


def feed(tab, frames, live, target, clock, fps) -> tuple[object, list[str], list[str]]:
    """Feeds frames (BGR) at fps; returns the state, every count text and every sound box text shown."""
    counts, sounds = [], []
    for frame in frames:
        out = tab.frame(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), live, target)
        live = out[tab.ui.live]
        counts += [out[tab.ui.count]] if tab.ui.count in out else []
        sounds += [out[tab.ui.sound]] if tab.ui.sound in out else []
        clock[0] += 1 / fps
    return live, counts, sounds


def test_a_webcam_set_with_a_target_sounds_and_is_listed_when_the_camera_stops(tmp_path: Path, clock) -> None:
    tab = page_tabs(tmp_path / "runs").webcam
    ui = tab.ui
    frames = democlips.scripted_clip(**WEBCAM_CLIP, size=(320, 240), noise=0.0)
    first = tab.frame(cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB), None, 2)
    assert first[ui.timer].active  # the page now watches for the camera stopping
    live, counts, sounds = feed(tab, frames[1:], first[ui.live], 2, clock, WEBCAM_CLIP["fps"])
    assert counts[-1] == f"# {WEBCAM_REPS}\nreps of 2 ✓", counts
    cues = sounds[-1].split()
    assert cues[0] == "webcam" and any(c.endswith(":target") for c in cues), sounds  # the chord at the target
    assert len(sounds) == len(set(sounds)) and all(c.split(":")[1] in ("rep", "target") for c in cues[1:])

    assert tab.tick(live, 2) is not None and not live.sets.sets  # frames came just now: the set goes on
    clock[0] += webcam.CAMERA_STOPPED_S + 0.5  # the camera stops
    out = tab.tick(live, 2)
    assert out[ui.timer].active is False and out[ui.count] == "# 0\nreps of 2"
    assert f"Set 1 listed below: {WEBCAM_REPS} reps" in out[ui.status] and "Target reached" in out[ui.status]
    row = out[ui.sets].values.tolist()
    assert len(row) == 1 and row[0][:3] == [1, WEBCAM_REPS, "2 ✓"]
    period = WEBCAM_CLIP["period_s"]
    assert row[0][3] == pytest.approx(WEBCAM_REPS * period, rel=0.3) and row[0][4] == pytest.approx(period, rel=0.3)
    with open(out[ui.sets_csv]) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["set"], r["reps"], r["target"]) for r in rows] == [("1", str(WEBCAM_REPS), "2")]
    assert float(rows[0]["tempo_s_per_rep"]) == pytest.approx(period, rel=0.3)

    # The camera comes back: a new set, from 0; "Finish set" before any rep lists nothing.
    live, counts, _ = feed(tab, frames[:20], live, None, clock, WEBCAM_CLIP["fps"])
    assert counts == ["# 0\nreps"]
    out = tab.finish_set(live, None)
    assert "No reps" in out[ui.status] and ui.sets not in out and len(live.sets.sets) == 1
    # "Finish set" after reps lists it as set 2, without a target.
    live, _, _ = feed(tab, frames, live, 0, clock, WEBCAM_CLIP["fps"])
    out = tab.finish_set(live, 0)
    assert out[ui.sets].values.tolist()[1][:3] == [2, WEBCAM_REPS, ""]
    with open(out[ui.sets_csv]) as handle:
        assert len(list(csv.DictReader(handle))) == 2


def test_a_set_whose_camera_stops_as_the_last_rep_ends_lists_that_rep(tmp_path: Path, clock) -> None:
    # The live count shows a rep a little after it ends (or once the picture is still); a camera that
    # stops as the last squat comes up must not lose it: the set is counted to its end, as the webcam
    # bench counts a stream's end. (Listed 2 of 3 before.)
    tab = page_tabs(tmp_path / "runs").webcam
    frames = democlips.scripted_clip(**WEBCAM_CLIP, size=(320, 240), noise=0.0)
    fps, period = WEBCAM_CLIP["fps"], WEBCAM_CLIP["period_s"]
    last_rep_nearly_up = round((WEBCAM_CLIP["lead_in_s"] + (WEBCAM_REPS - 0.1) * period) * fps)
    live, counts, _ = feed(tab, frames[:last_rep_nearly_up], None, None, clock, fps)
    assert counts[-1].startswith(f"# {WEBCAM_REPS - 1}\n"), counts  # not yet shown live
    clock[0] += webcam.CAMERA_STOPPED_S + 0.5
    out = tab.tick(live, None)
    assert out[tab.ui.sets].values.tolist()[0][:2] == [1, WEBCAM_REPS]


def test_discard_set_starts_again_without_listing(tmp_path: Path, clock) -> None:
    tab = page_tabs(tmp_path / "runs").webcam
    frames = democlips.scripted_clip(**WEBCAM_CLIP, size=(320, 240), noise=0.0)
    live, counts, _ = feed(tab, frames, None, None, clock, WEBCAM_CLIP["fps"])
    assert counts[-1].startswith(f"# {WEBCAM_REPS}")
    out = tab.reset(live, None)
    assert out[tab.ui.count] == "# 0\nreps" and "starts again" in out[tab.ui.status]
    clock[0] += webcam.CAMERA_STOPPED_S + 0.5
    out = tab.tick(live, None)
    assert live.sets.sets == [] and tab.ui.sets not in out
