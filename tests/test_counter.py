"""The counter on synthetic streams: what a person exercising sees counted, live and for a file."""

from __future__ import annotations

import pickle

import pytest
from streams import Stream, exercise, noise_only, one_movement, then

from flowrep.counter import CounterSettings, Rep, RepCounter
from flowrep.periodicity import Evidence


def run(stream: Stream, live: bool) -> tuple[RepCounter, list[tuple[float, list[Rep]]]]:
    """Feeds a stream; returns the counter and, per frame that counted any, (time, reps counted)."""
    counter = RepCounter(live=live)
    counted = []
    for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
        if reps := counter.update(t, p, field):
            counted.append((t, reps))
    if reps := counter.finish():
        counted.append((stream.times[-1], reps))
    return counter, counted


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("reps, period_s", [(2, 2.0), (5, 1.0), (12, 1.5), (8, 3.5)])
def test_steady_reps_are_counted(live: bool, reps: int, period_s: float) -> None:
    counter, _ = run(exercise(reps, period_s), live)
    assert counter.count == reps


@pytest.mark.parametrize("live", [False, True])
def test_pauses_between_reps_and_a_slowing_tempo_add_nothing(live: bool) -> None:
    counter, _ = run(exercise(8, 1.2, pause_s=0.8, tempo_end=1.6), live)
    assert counter.count == 8


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("reps, period_s, pause_s", [(8, 1.0, 0.9), (10, 1.0, 2.0), (6, 2.0, 2.5)])
def test_a_pause_after_every_rep_as_long_as_the_rep_loses_none(
    live: bool, reps: int, period_s: float, pause_s: float
) -> None:
    # The pause is part of each rep's cycle, and the last rep, with no pause after it, still counts.
    counter, _ = run(exercise(reps, period_s, pause_s=pause_s), live)
    assert counter.count == reps


@pytest.mark.parametrize("live", [False, True])
def test_a_movement_that_does_not_repeat_counts_nothing(live: bool) -> None:
    counter, _ = run(one_movement(), live)
    assert counter.count == 0


@pytest.mark.parametrize("live", [False, True])
def test_standing_still_with_noise_counts_nothing(live: bool) -> None:
    counter, _ = run(noise_only(), live)
    assert counter.count == 0


@pytest.mark.parametrize("live", [False, True])
def test_getting_into_position_then_exercising_counts_only_the_reps(live: bool) -> None:
    counter, _ = run(then(one_movement(tail_s=2.0), exercise(6, 1.5)), live)
    assert counter.count == 6


@pytest.mark.parametrize("live", [False, True])
def test_a_reading_that_turns_twice_a_rep_counts_each_rep_once(live: bool) -> None:
    # A jumping jack: the body hops out and back in (two turns of the reading) while the arms go up once.
    counter, _ = run(exercise(10, 1.0, hop=True), live)
    assert counter.count == 10


def test_fast_reps_of_five_frames_are_counted() -> None:  # speed jump rope: 6 reps a second
    counter, _ = run(exercise(90, 5 / 30), live=False)
    assert 85 <= counter.count <= 92


@pytest.mark.parametrize("period_s", [1.0, 2.0, 3.0])
def test_live_the_first_rep_counts_once_the_motion_repeats_and_each_later_one_as_it_ends(period_s: float) -> None:
    stream = exercise(6, period_s)
    counter, counted = run(stream, live=True)
    assert counter.count == 6
    first_time, first_reps = counted[0]
    # Not before the first rep has ended; at the latest as the second one ends.
    assert stream.rep_ends[0] <= first_time <= stream.rep_ends[1] + 0.5
    reps = [(t, rep) for t, batch in counted for rep in batch]
    for t, rep in reps:
        if t > stream.rep_ends[1] + 0.5:
            true_end = stream.rep_ends[rep.number - 1]
            assert abs(t - true_end) <= 0.5, f"rep {rep.number} counted at {t:.2f} s, ended at {true_end:.2f} s"


def test_live_counts_come_one_rep_at_a_time_once_a_set_is_under_way() -> None:
    _, counted = run(exercise(15, 1.0, tempo_end=1.3), live=True)
    assert all(len(reps) == 1 for _, reps in counted[1:])  # no bursts after the first two


@pytest.mark.parametrize("live", [False, True])
def test_reps_tile_the_set_and_end_where_the_true_reps_end(live: bool) -> None:
    stream = exercise(6, 2.0, lead_s=2.0)
    counter, _ = run(stream, live)
    reps = counter.reps
    assert [rep.number for rep in reps] == list(range(1, 7))
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(reps, reps[1:]))
    assert all(rep.start_s <= rep.turn_s <= rep.end_s for rep in reps)
    assert reps[0].start_s == pytest.approx(2.0, abs=0.4)
    for rep, true_end in zip(reps, stream.rep_ends):
        assert rep.end_s == pytest.approx(true_end, abs=0.5)


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("period_s, pause_s", [(1.0, 1.5), (2.0, 1.0)])
def test_a_rep_lasts_as_long_as_its_motion_and_the_pause_after_it_is_no_part_of_it(
    live: bool, period_s: float, pause_s: float
) -> None:
    stream = exercise(6, period_s, pause_s=pause_s)
    counter, _ = run(stream, live)
    starts = [1.0] + [end + pause_s for end in stream.rep_ends[:-1]]  # after 1 s still, then after each pause
    assert counter.count == 6
    for rep, true_start, true_end in zip(counter.reps, starts, stream.rep_ends):
        assert rep.start_s == pytest.approx(true_start, abs=0.2)
        assert rep.end_s == pytest.approx(true_end, abs=0.2)
        assert rep.start_s < rep.turn_s < rep.end_s


@pytest.mark.parametrize("period_s, pause_s", [(1.0, 1.5), (2.0, 1.0), (1.0, 0.8)])
def test_live_a_rep_followed_by_a_pause_counts_as_the_pause_begins_not_as_the_next_rep_does(
    period_s: float, pause_s: float
) -> None:
    stream = exercise(6, period_s, pause_s=pause_s)
    _, counted = run(stream, live=True)
    shown = [t for t, reps in counted for _ in reps]
    assert len(shown) == 6
    # From the third rep on (the first two wait for the motion to be seen to repeat, on evidence that
    # cannot yet see a period as long as the rep and its pause): each shows once the picture has been
    # still for `still_s` (0.5 s) and the count is read again, never as the next rep is under way.
    for t, true_end in zip(shown[2:], stream.rep_ends[2:]):
        assert 0.0 <= t - true_end <= 0.8


@pytest.mark.parametrize("live", [False, True])
def test_sets_parted_by_rests_are_each_counted_whole(live: bool) -> None:
    """Three sets of five with a 5 s rest between them: each set's reps are whole (its phase is
    rounded at the rest, not the stream's at its end), and each rep lies within its own set."""
    sets = [exercise(5, 1.5, lead_s=1.0 if k == 0 else 2.5, tail_s=2.5, seed=5 + k) for k in range(3)]
    stream = then(then(sets[0], sets[1]), sets[2])
    counter, _ = run(stream, live)
    assert counter.count == 15
    assert [rep.number for rep in counter.reps] == list(range(1, 16))
    for rep, true_end in zip(counter.reps, stream.rep_ends):
        assert rep.end_s == pytest.approx(true_end, abs=0.5)
    rests = [(stream.rep_ends[k], stream.rep_ends[k + 1]) for k in (4, 9)]
    for rest_start, rest_end in rests:  # no rep starts in a rest (the next set's first starts near its end)
        assert not any(rest_start + 0.5 < rep.start_s < rest_end - 1.5 for rep in counter.reps)


def test_the_turn_of_a_rep_is_where_the_reading_reverses() -> None:
    counter, _ = run(exercise(4, 2.0, lead_s=2.0), live=False)
    for rep in counter.reps:
        assert rep.turn_s == pytest.approx(0.5 * (rep.start_s + rep.end_s), abs=0.3)


def quiet_stream_read_clear(clear_readings: int) -> tuple[RepCounter, int]:
    """A live counter fed 3 s of a still stream whose first `clear_readings` readings of the evidence
    (the windows ending now) find one second repeating at a 0.5 s period: two periods, clearly.
    Returns it and how many readings it made."""
    counter = RepCounter(live=True)
    readings = 0

    def scripted() -> list[Evidence]:
        nonlocal readings
        frame_s = counter._evidence.frame_s
        if frame_s is None:
            return []
        readings += 1
        if readings > clear_readings:
            return []
        return [Evidence(k * frame_s, 0.5, 0.9, True) for k in range(1, round(1.0 / frame_s) + 1)]

    counter._evidence.provisional = scripted  # type: ignore[method-assign]
    quiet = noise_only(seconds=3.0)
    for t, p, field in zip(quiet.times, quiet.probabilities, quiet.fields):
        counter.update(t, p, field)
    return counter, readings


@pytest.mark.parametrize("clear_readings, counted", [(1, 0), (2, 2)])
def test_live_a_sets_first_reps_need_the_repetition_clear_on_two_successive_readings(
    clear_readings: int, counted: int
) -> None:
    """A spike of repetition evidence at a stream's start (a camera settling, a moving background)
    that lasts one reading must not count the two reps it would imply; the same evidence read twice
    in a row counts them."""
    counter, readings = quiet_stream_read_clear(clear_readings)
    assert readings > clear_readings
    assert counter.count == counted


def test_live_a_set_whose_repetition_is_never_clear_at_the_leading_edge_counts_once_it_is_judged() -> None:
    # A noisy picture: the repetition's strength stays under `first_strength` at the stream's edge,
    # but the evidence judged for good (what the set's final count is) finds it after about 16 s.
    stream = exercise(20, 1.0, noise=0.08)
    counter, counted = run(stream, live=True)
    shown_before_the_end = [t for t, reps in counted if t < stream.rep_ends[-1]]
    assert shown_before_the_end and shown_before_the_end[0] < 18.0  # the old rule showed nothing until the end
    assert counter.count >= 18


def test_live_reps_that_the_whole_set_does_not_bear_out_are_taken_back_when_it_ends() -> None:
    """Two readings of clear repetition at a still stream's start count two reps live (the test
    above); the set's whole evidence holds no repetition, so when the set ends they are taken back."""
    counter, _ = quiet_stream_read_clear(2)
    assert counter.count == 2
    assert counter.finish() == [] and counter.count == 0 and counter.reps == []


def test_a_finished_live_set_has_a_files_reps_each_counted_when_the_live_count_showed_it() -> None:
    stream = exercise(7, 1.4, lead_s=1.5, tempo_end=1.9)
    live, counted = run(stream, live=True)
    as_file, _ = run(stream, live=False)
    shown = {rep.number: t for t, batch in counted for rep in batch}
    assert [(r.start_s, r.end_s) for r in live.reps] == [(r.start_s, r.end_s) for r in as_file.reps]
    assert [r.counted_s for r in live.reps] == [shown[r.number] for r in live.reps]


def test_a_live_set_left_running_while_nobody_moves_holds_no_more_however_long_it_runs() -> None:
    # A webcam page left open in front of an empty room: the counter used to keep every sample's
    # evidence, about 7 MB an hour. What it holds now is its windows' fixed rings and, while the
    # motion repeats, a few numbers a sample (pickled size stands for what it holds).
    def held_after(seconds: float) -> int:
        counter = RepCounter(CounterSettings(reading_memory_s=1.0), live=True)
        stream = noise_only(seconds, fps=10.0)
        for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
            counter.update(t, p, field)
        assert counter.count == 0
        return len(pickle.dumps(counter))

    assert held_after(80.0) - held_after(40.0) < 1000  # 400 more samples; each kept cost about 50 bytes
