"""Counts on real people (../shared/data): the product's reason to exist."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from flowrep.bench import farther_camera
from flowrep.pipeline import Session, count_clip

# A spread of exercises, camera angles and tempos; each must be counted within the article's 2.5 %
# (so exactly, below 40 reps), or within one rep where its label says the clip cuts a rep at its
# start or end (confidence "+-1").
CLIPS = [
    ("exercise", "pushup_sumukh_2.mp4"),
    ("exercise", "situp_sumukh_1.mp4"),
    ("exercise", "lunge_nowva_2.mp4"),
    ("exercise", "jumpingjack_mpjj_4.mp4"),
    ("exercise", "shoulderpress_sumukh_1.mp4"),
    ("quva", "060_jumping_rope.mp4"),
]


def true_count(folder: Path, name: str) -> tuple[int, int]:
    """The labelled count and the tolerance its label gives."""
    with (folder / "labels.csv").open(newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["file"] == name)
    count = int(row["count"])
    return count, max(int(0.025 * count), 1 if row.get("confidence") == "+-1" else 0)


@pytest.fixture(scope="module")
def session() -> Session:
    return Session()


@pytest.mark.parametrize("folder,name", CLIPS)
def test_real_clip_is_counted(shared_data: Path, session: Session, folder: str, name: str) -> None:
    result = count_clip(shared_data / folder / name, session)
    count, tolerance = true_count(shared_data / folder, name)
    assert abs(result.count - count) <= tolerance, f"counted {result.count}, labelled {count}"
    assert len(result.reps) == result.count
    assert all(a.end_s <= b.end_s for a, b in zip(result.reps, result.reps[1:]))


def test_a_person_filmed_from_across_the_room_is_still_counted(shared_data: Path, session: Session) -> None:
    # The same lunges, filmed as if from twice as far: the person is a fifth of the frame tall.
    name = "lunge_nowva_1.mp4"
    result = count_clip(shared_data / "exercise" / name, session, transform=farther_camera(2.0))
    count, _ = true_count(shared_data / "exercise", name)
    assert abs(result.count - count) <= 1, f"counted {result.count}, labelled {count}"
