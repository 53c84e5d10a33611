"""Counting on Ray (`--ray`): the same results as the plain run, on a local Ray and on a simulated
two-node cluster, and a clip whose worker is killed mid-run is still counted.

Four real exercise clips, each cut to its first few seconds (re-encoded: both runs read the same
files), keep the file short: Ray's own start-up is most of its time. Skips when Ray is not installed
(`pip install -e '.[ray]'`; requirements-dev.txt installs it) or the real clips are absent.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
from pathlib import Path

import cv2
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]' (requirements-dev.txt has it)")

from cli_support import run_cli  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from flowrep.bench import BenchOptions, run_bench  # noqa: E402
from flowrep.cluster import Engine, bench_folder, count_clips  # noqa: E402
from flowrep.pipeline import Session, count_clip  # noqa: E402
from flowrep.signals import make_signal  # noqa: E402
from flowrep.video import VideoError  # noqa: E402

CLIPS = ("pushup_sumukh_1.mp4", "squat_sumukh_1.mp4", "dip_sumukh_1.mp4", "curl_sumukh_1.mp4")
CLIP_S = 5.0  # the part of each clip counted: every run here counts each clip several times
TASK_TITLE = b"ray::_count_task"  # a Ray worker's process title while it counts a clip


def _without_speed(line: dict | VideoError) -> dict | str:
    """A count's JSON line without its speed (which no two runs share); an error as its text."""
    if isinstance(line, VideoError):
        return str(line)
    return {key: value for key, value in line.items() if key != "fps_processed"}


def _first_seconds(source: Path, target: Path, seconds: float) -> None:
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(round(seconds * fps)):
        ok, image = capture.read()
        if not ok:
            break
        writer.write(image)
    writer.release()
    capture.release()


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four clips' first seconds and their labels.csv rows, in a folder of their own."""
    folder = tmp_path_factory.mktemp("ray-clips")
    with (shared_data / "exercise" / "labels.csv").open(newline="") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["file"] in CLIPS]
        with (folder / "labels.csv").open("w", newline="") as target:
            writer = csv.DictWriter(target, reader.fieldnames or [])
            writer.writeheader()
            writer.writerows(rows)
    for name in CLIPS:
        _first_seconds(shared_data / "exercise" / name, folder / name, CLIP_S)
    return folder


@pytest.fixture(scope="module")
def plain_lines(folder: Path) -> list[dict]:
    session = Session(make_signal("cnn"))
    return [_without_speed(count_clip(str(folder / name), session).as_json()) for name in CLIPS]


class TestLocalRay:
    @pytest.fixture(scope="class", autouse=True)
    def local_ray(self):
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield
        ray.shutdown()

    def test_counts_are_the_plain_runs_and_the_model_loads_once_per_worker(
        self, folder: Path, plain_lines: list[dict]
    ) -> None:
        shown: list[str] = []
        clips = [str(folder / name) for name in CLIPS] * 2
        lines, run = count_clips(clips, on_clip=lambda clip, line: shown.append(clip))
        assert [_without_speed(line) for line in lines] == plain_lines * 2
        assert shown == clips  # in input order, whatever order the workers finished in
        assert len(run.workers) <= 2 and run.model_loads == len(run.workers)
        assert sum(run.clips_per_node.values()) == len(clips)

    def test_bench_gives_the_plain_scores_and_says_its_fps_is_the_clusters(self, folder: Path) -> None:
        plain = run_bench(folder, make_signal("cnn"))
        on_ray = bench_folder(folder, BenchOptions())
        strip = lambda row: {k: v for k, v in row.items() if k != "seconds"}  # noqa: E731
        assert [strip(c.as_json()) for c in on_ray.clips] == [strip(c.as_json()) for c in plain.clips]
        plain_json, ray_json = plain.as_json(), on_ray.as_json()
        assert set(ray_json) == set(plain_json) | {"ray"}
        assert (ray_json["mae"], ray_json["obo"], ray_json["count_delay_s"]) == (
            plain_json["mae"],
            plain_json["obo"],
            plain_json["count_delay_s"],
        )
        assert "aggregate over the cluster" in ray_json["ray"]["fps_is"]
        assert on_ray.signal_ms_per_frame > 0 and ray_json["peak_rss_mb"] > 0

    def test_a_bad_file_is_its_own_error_and_the_rest_are_counted(
        self, folder: Path, clips: dict[str, Path], plain_lines: list[dict]
    ) -> None:
        names = [str(folder / CLIPS[0]), str(clips["text"]), str(clips["missing"]), str(folder / CLIPS[1])]
        for ship_bytes in (False, True):
            lines, _ = count_clips(names, ship_bytes=ship_bytes)
            assert [_without_speed(lines[0]), _without_speed(lines[3])] == plain_lines[:2]
            assert isinstance(lines[1], VideoError) and lines[1].path == names[1]
            assert "text, not a video" in lines[1].problem
            assert isinstance(lines[2], VideoError) and lines[2].problem == "no such file"

    def test_bench_with_shipped_bytes_names_a_bad_clip_as_its_folder_does(self, folder: Path, tmp_path: Path) -> None:
        for name in CLIPS[:2]:
            (tmp_path / name).symlink_to(folder / name)
        (tmp_path / "broken.mp4").write_text("not a video\n")
        (tmp_path / "labels.csv").write_text("file,count\n" + "".join(f"{n},2\n" for n in (*CLIPS[:2], "broken.mp4")))
        report = bench_folder(tmp_path, ship_bytes=True)
        assert [c.pred for c in report.clips] == [c.pred for c in run_bench(tmp_path, make_signal("cnn")).clips]
        assert (
            report.clips[2].error
            == f"{tmp_path / 'broken.mp4'}: "
            + "this file is text, not a video we accept (mp4, mov, m4v, webm, mkv or avi)"
        )

    def test_the_command_prints_what_the_plain_command_prints(self, folder: Path, clips: dict[str, Path]) -> None:
        # In this process: `--ray` uses the Ray this class started, as it would a caller's.
        args = ["count", "--json", str(folder / CLIPS[0]), str(clips["text"]), str(folder / CLIPS[2])]
        runs = [run_cli([*args, *extra]) for extra in ([], ["--ray"])]
        assert [run.returncode for run in runs] == [2, 2]
        plain, on_ray = ([_without_speed(json.loads(line)) for line in run.stdout.splitlines()] for run in runs)
        assert on_ray == plain and "error" in plain[1]
        errors = [[line for line in run.stderr.splitlines() if line.startswith("flowrep: ")] for run in runs]
        assert errors[0] == errors[1] == [f"flowrep: {clips['text']}: " + plain[1]["error"]]
        assert "ray: counted 3 clips on 1 node(s)" in runs[1].stderr


def _counting(pid: int) -> bool:
    """Whether this process is a Ray worker counting a clip right now (by its process title)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().startswith(TASK_TITLE)
    except OSError:
        return False


def _kill_one_busy_worker(killed: list[int], stop: threading.Event) -> None:
    """Kills (SIGKILL, as a native crash would end it) the first worker seen counting a clip, 0.1 s into it."""
    while not stop.is_set() and not killed:
        for pid in (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()):
            if _counting(pid):
                time.sleep(0.1)
                if _counting(pid):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                break
        time.sleep(0.02)


def test_two_nodes_share_the_clips_and_a_killed_worker_loses_none(folder: Path, plain_lines: list[dict]) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        killed: list[int] = []
        stop = threading.Event()
        killer = threading.Thread(target=_kill_one_busy_worker, args=(killed, stop), daemon=True)
        killer.start()
        try:
            lines, run = count_clips([str(folder / name) for name in CLIPS] * 2, Engine())
        finally:
            stop.set()
            killer.join()
        assert killed, "no worker was found counting a clip, so none was killed"
        assert [_without_speed(line) for line in lines] == plain_lines * 2  # none lost: the killed clip was retried
        assert len(run.clips_per_node) == 2, run.line()
    finally:
        ray.shutdown()
        cluster.shutdown()
