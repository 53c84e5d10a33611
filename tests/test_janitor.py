"""Nothing piles up: partial uploads go at start and once stale, the cache is kept under its size
(oldest first, never a file still being written), empty folders go, the roots stay."""

from __future__ import annotations

import os
from pathlib import Path

from flowrep.ui.janitor import MIN_AGE_S, PARTIAL_AFTER_S, Janitor


def make(path: Path, size: int, age_s: float, now: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(size))
    for touched in (path, path.parent):
        os.utime(touched, (now - age_s, now - age_s))
    return path


def test_partial_uploads_go_at_start_and_later_once_stale(tmp_path: Path) -> None:
    uploads, runs = tmp_path / "gradio", tmp_path / "gradio" / "flowrep-runs"
    runs.mkdir(parents=True)
    now = 1_000_000.0
    killed = make(uploads / "tmpab12cd", 0, 5, now)
    kept = make(uploads / "f00d" / "clip.mp4", 10, 5, now)
    Janitor((uploads, runs), max_bytes=10**9).sweep(partial_after_s=0.0, now=now)
    assert not killed.exists() and kept.exists() and runs.is_dir()
    writing, stale = make(uploads / "tmpnew", 5, 1, now), make(uploads / "tmpold", 5, PARTIAL_AFTER_S + 1, now)
    Janitor((uploads, runs), max_bytes=10**9).sweep(now=now)
    assert writing.exists() and not stale.exists()


def test_the_cache_is_kept_under_its_size_oldest_first(tmp_path: Path) -> None:
    uploads, runs = tmp_path / "gradio", tmp_path / "gradio" / "flowrep-runs"
    now = 1_000_000.0
    old = [make(uploads / f"h{i}" / "clip.mp4", 1000, 3600 - i, now) for i in range(5)]
    exports = make(runs / "run-x" / "clip.annotated.mp4", 1000, 1800, now)
    fresh = make(uploads / "hnew" / "clip.mp4", 5000, MIN_AGE_S / 2, now)  # maybe still being counted
    janitor = Janitor((uploads, runs), max_bytes=8000)
    janitor.sweep(now=now)
    assert [f.exists() for f in old] == [False, False, False, True, True] and exports.exists() and fresh.exists()
    assert janitor.swept_bytes == 3000
    assert not (uploads / "h0").exists() and runs.is_dir() and uploads.is_dir()  # empty folders go, roots stay
    Janitor((uploads, runs), max_bytes=1000).sweep(now=now)
    assert fresh.exists() and not exports.exists()  # never a file written in the last MIN_AGE_S
