"""The fuzz suite (scripts/fuzz.py) on a small budget: bad and odd inputs — every kind the hardening
issue probed, random byte flips and truncations of a clip — through the CLI and a live server's /count.
No process crashes, each input gets a count or one clear line naming it (no traceback, no server path),
the server still counts afterwards, and nothing is left on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import SIGNAL, TEST_MAX_CLIP_S, TEST_MAX_UPLOAD_MB
from fuzz import fuzz_cli, fuzz_server, make_inputs

FLIPS, CUTS = 12, 6


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_inputs(tmp_path_factory.mktemp("fuzz"), FLIPS, CUTS, seed=1)


def test_the_cli_gives_every_bad_input_one_clear_line_and_never_crashes(inputs: list[Path]) -> None:
    report = fuzz_cli(inputs)
    assert report.ok, report.line() + "\n" + "\n".join([*report.crashes, *report.unclear])
    assert report.counted >= 1 and report.refused >= 10  # the good clip counts; the playlist and co. are refused


def test_a_live_server_answers_every_bad_input_clearly_and_leaves_nothing_behind(
    inputs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWREP_SIGNAL", SIGNAL)
    monkeypatch.setenv("FLOWREP_MAX_CLIP_S", str(TEST_MAX_CLIP_S))
    monkeypatch.setenv("FLOWREP_MAX_UPLOAD_MB", str(TEST_MAX_UPLOAD_MB))
    report = fuzz_server(inputs, tmp_path / "server")
    problems = [*report.crashes, *report.unclear, *report.leftovers]
    assert report.ok, report.line() + "\n" + "\n".join(problems)
    assert report.counted >= 1 and report.refused >= 10
