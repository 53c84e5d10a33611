"""The demo page (app.py, flowrep.ui), as a visitor and an API client use it: a real server, a real browser.

The browser tests drive Debian's Chromium with a fake camera that loops a scripted clip (still,
three slow squats, still), and upload clips through the page; they skip without Chromium.
"""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from app_support import (  # noqa: F401
    ROOT,
    SIGNAL,
    TEST_MAX_UPLOAD_MB,
    WEBCAM_REPS,
    AppClips,
    Server,
    app_clips,
    browser,
    cli_count,
    context,
    count_on,
    needs_chromium,
    open_camera,
    page_tabs,
    plot_series,
    readme_shot,
    record_in_a_still_spell,
    running_app,
    server,
    shots,
    start_webcam,
    wait_for_count,
    watch_stillness,
)

from flowrep import viz
from flowrep.counter import Rep

SERIES = ["P(down)", "P(still)", "P(up)"]


def video_codec(path: Path) -> str:
    """The first video stream's codec name, as ffmpeg reports it."""
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    line = next(line for line in probe.stderr.splitlines() if "Video:" in line)
    return line.split("Video:")[1].split()[0]


def is_local(url: str) -> bool:
    return urlparse(url).hostname in ("127.0.0.1", "localhost", None) or url.startswith(("data:", "blob:"))


def frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    n = 0
    while capture.read()[0]:
        n += 1
    return n


def duration_s(path: Path) -> float:
    return frame_count(path) / cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS)


# ---------------------------------------------------------------- viz and the CLI's exports


def test_side_by_side_is_original_then_flow_at_one_even_height() -> None:
    frame = np.full((480, 270, 3), 90, np.uint8)  # portrait
    flow = np.zeros((128, 72, 3), np.uint8)
    flow[...] = (0, 40, 0)  # dim green: slow motion in one direction
    view = viz.side_by_side(frame, flow, 7, height=360)
    assert view.shape[0] == 360 and view.shape[1] % 2 == 0 and view.shape[1] == 2 * round(270 * 360 / 480)
    left, right = view[:, : view.shape[1] // 2], view[:, view.shape[1] // 2 :]
    assert np.median(left) == 90
    shown = np.median(right.reshape(-1, 3), axis=0)  # brighter for the eye, the same hue
    assert shown[1] == pytest.approx(40 * viz.FLOW_DISPLAY_GAIN, abs=2) and shown[0] == shown[2] == 0
    assert np.median(viz.side_by_side(frame, None, 0)[:, 300:]) == 0  # no flow yet: a dark right half


def test_side_by_side_outlines_the_part_the_cnn_looks_at_and_nothing_else() -> None:
    frame = np.full((360, 640, 3), 90, np.uint8)
    plain = viz.side_by_side(frame, None, 0)
    framed = viz.side_by_side(frame, None, 0, crop=(0.25, 0.25, 0.75, 0.75))
    changed = np.argwhere((framed != plain).any(axis=2))
    rows, cols = changed[:, 0], changed[:, 1]
    assert rows.min() == pytest.approx(90, abs=3) and rows.max() == pytest.approx(270, abs=3)
    assert cols.min() == pytest.approx(160, abs=3) and cols.max() == pytest.approx(480, abs=3)
    assert (framed[150:210, 200:440] == plain[150:210, 200:440]).all()  # an outline, the inside untouched


def test_probability_figure_shows_the_last_seconds_of_three_series() -> None:
    times = np.arange(0, 20, 0.1)
    probabilities = np.tile([0.2, 0.5, 0.3], (len(times), 1))
    figure = viz.probability_figure(times, probabilities, window_s=8.0)
    assert [trace.name for trace in figure.data] == SERIES
    assert min(figure.data[0].x) >= 11.9 and max(figure.data[0].x) == pytest.approx(19.9)
    whole = viz.probability_figure(times, probabilities, None, rep_ends=[5.0, 10.0])
    assert len(whole.data[0].x) == len(times) and len(whole.layout.shapes) == 2


def test_reps_csv_has_one_row_per_rep(tmp_path: Path) -> None:
    reps = [
        Rep(number=1, start_s=0.5, turn_s=1.0, end_s=1.6, counted_s=1.8),
        Rep(number=2, start_s=1.6, turn_s=2.2, end_s=2.9, counted_s=3.1),
    ]
    with open(viz.write_reps_csv(reps, tmp_path / "r.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["number"] for r in rows] == ["1", "2"] and rows[1]["duration_s"] == "1.300"


def test_annotated_video_keeps_the_colours_of_the_view(tmp_path: Path) -> None:
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[:, :80] = (0, 0, 230)  # red | blue, in BGR
    frame[:, 80:] = (230, 0, 0)
    writer = viz.AnnotatedVideoWriter(tmp_path / "colours.mp4", fps=10.0, height=120)
    for _ in range(5):
        writer.write(frame, np.full((120, 160, 3), (0, 80, 0), np.uint8), 3)  # shown 2.5 times brighter
    writer.close()
    capture = cv2.VideoCapture(str(tmp_path / "colours.mp4"))
    ok, shown = capture.read()
    assert ok and shown.shape == (120, 320, 3)
    for (y, x), bgr in {(40, 40): (0, 0, 230), (40, 120): (230, 0, 0), (40, 240): (0, 200, 0)}.items():
        assert np.abs(shown[y, x].astype(int) - bgr).max() < 20, (y, x, shown[y, x])


def test_cli_out_dir_writes_a_browser_playable_video_and_the_reps_csv(app_clips: AppClips, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            "python",
            "-m",
            "flowrep.cli",
            "count",
            str(app_clips.webcam_mp4),
            "--signal",
            SIGNAL,
            "--out-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    count = int(run.stdout.split("\t")[1])
    assert count == WEBCAM_REPS
    video, reps_csv = tmp_path / "webcam_squats.annotated.mp4", tmp_path / "webcam_squats.reps.csv"
    assert video_codec(video) == "h264"
    assert duration_s(video) >= duration_s(app_clips.webcam_mp4) - 0.1  # every moment of the clip is in it
    with open(reps_csv) as handle:
        assert len(list(csv.DictReader(handle))) == count


# ---------------------------------------------------------------- the webcam handler, in process


@pytest.fixture(scope="module")
def webcam_tab(tmp_path_factory: pytest.TempPathFactory):
    return page_tabs(tmp_path_factory.mktemp("runs")).webcam


def test_webcam_handler_says_when_the_camera_sends_black_frames(webcam_tab, monkeypatch) -> None:
    from flowrep.ui import webcam

    monkeypatch.setattr(webcam, "BLANK_AFTER_S", 0.0)
    ui = webcam_tab.ui
    out = webcam_tab.frame(np.zeros((240, 320, 3), np.uint8), None)
    assert "black" in out[ui.status] and out[ui.view].shape == (360, 960, 3)
    picture = np.broadcast_to(np.arange(320, dtype=np.uint8)[None, :, None], (240, 320, 3)).copy()
    out = webcam_tab.frame(picture, out[ui.live])
    assert out[ui.status] == ""  # a real picture clears the message


def test_webcam_handler_says_when_the_camera_reaches_it_too_slowly(webcam_tab, monkeypatch) -> None:
    """Frames at 3 a second (a busy machine's camera stream) get a message once the set has run 3 s;
    at the camera's 10 a second there is none."""
    from flowrep.ui import webcam

    ui = webcam_tab.ui
    picture = np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8)
    statuses, clock = {}, [0.0]
    monkeypatch.setattr(webcam, "_now", lambda: clock[0])
    for fps in (3.0, 10.0):
        live, clock[0] = None, 1000.0 * fps
        for _ in range(int(5 * fps)):
            out = webcam_tab.frame(picture, live)
            live, clock[0] = out[ui.live], clock[0] + 1 / fps
        statuses[fps] = live.status
        webcam_tab.reset(live)
    assert "at only 3 a second" in statuses[3.0], statuses
    assert statuses[10.0] == "", statuses


def test_workout_handler_says_when_the_camera_reaches_it_too_slowly(tmp_path: Path, monkeypatch) -> None:
    """The Workout tab says it as the Webcam tab does; a camera back after a break is judged afresh
    (its first frames are no slow stream)."""
    from flowrep.ui import workout

    tab = page_tabs(tmp_path / "runs").workout
    ui = tab.ui
    picture = np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8)
    clock = [0.0]
    monkeypatch.setattr(workout, "_now", lambda: clock[0])

    def stream(live, fps: float, seconds: float) -> list[str]:
        statuses = []
        for _ in range(int(seconds * fps)):
            statuses.append(tab.frame(picture, live).get(ui.status, statuses[-1] if statuses else ""))
            clock[0] += 1 / fps
        return statuses

    live = tab.start("Slow camera", "squats: 100 reps", None)[ui.live]
    slow = stream(live, 3.0, 5.0)
    assert "at only 3 a second" in slow[-1] and not any(slow[:5]), slow
    tab.stop(live)
    live = tab.start("Camera at 10", "squats: 100 reps", None)[ui.live]
    steady = stream(live, 10.0, 5.0)
    clock[0] += 3.0  # the camera stops for 3 s, then comes back
    back = stream(live, 10.0, 2.0)
    assert not any(steady + back), steady + back
    tab.stop(live)


def test_webcam_handler_survives_a_resolution_change_and_resets_on_request(webcam_tab) -> None:
    ui = webcam_tab.ui
    frames = [np.random.default_rng(k).integers(0, 255, (240, 320, 3), np.uint8) for k in range(3)]
    live = None
    for frame in frames:
        live = webcam_tab.frame(frame, live)[ui.live]
    times = list(live.times)
    assert all(b > a for a, b in zip(times, times[1:]))
    out = webcam_tab.frame(np.zeros((480, 640, 3), np.uint8) + 90, live)
    assert "new set" in out[ui.status]
    out = webcam_tab.reset(out[ui.live])
    live = out[ui.live]
    assert out[ui.count].startswith("# 0") and len(live.times) == 0
    live = webcam_tab.frame(frames[0][:, :, ::-1].copy(), live)[ui.live]
    assert len(live.times) == 1 and live.sets.sets == []  # a discarded set is not listed


# ---------------------------------------------------------------- the API (gradio_client)


def test_api_count_matches_the_cli(server: Server, app_clips: AppClips) -> None:
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False)
    for clip in (app_clips.webcam_mp4, app_clips.portrait_mov):
        result = client.predict(handle_file(str(clip)), api_name="/count")
        expected = cli_count(clip)
        assert result["count"] == expected["count"] and result["reps"] == expected["reps"], clip.name
        assert result["file"] == clip.name
    assert client.predict(handle_file(str(app_clips.webcam_mp4)), api_name="/count")["count"] == WEBCAM_REPS


def test_api_refuses_bad_clips_with_a_message(server: Server, app_clips: AppClips) -> None:
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False)
    cases = {
        app_clips.not_video: "not a video we accept",
        app_clips.too_long_mp4: "limit",
        app_clips.truncated: "truncated",
    }
    for clip, words in cases.items():
        with pytest.raises(Exception) as error:
            client.predict(handle_file(str(clip)), api_name="/count")
        assert clip.name in str(error.value) and words in str(error.value)
    with pytest.raises(ValueError, match="exceeds the maximum file size"):  # gradio_client checks the limit
        client.predict(handle_file(str(app_clips.too_big_mp4)), api_name="/count")


def test_analyze_streams_progress_then_the_exports(server: Server, app_clips: AppClips) -> None:
    from gradio_client import Client, handle_file

    job = Client(server.url, verbose=False).submit(handle_file(str(app_clips.webcam_mp4)), api_name="/analyze")
    updates = list(job)
    view, count_md, _, status, table, video, files, summary, reps_chart = job.result()
    assert len(updates) >= 2  # progress yields, then the final one
    assert summary["count"] == WEBCAM_REPS and "Done" in status and f"# {WEBCAM_REPS}" in count_md
    assert len(table["data"]) == WEBCAM_REPS and table["headers"][-3:] == list(viz.ANALYSIS_TABLE_HEADERS)
    assert all(row[-1] is not None and row[-1] > 0 for row in table["data"])  # each rep's speed
    assert reps_chart is not None  # the per-rep chart is shown
    assert sorted(Path(f).name for f in files) == ["webcam_squats.annotated.mp4", "webcam_squats.reps.csv"]


# ---------------------------------------------------------------- the page in a browser


def camera_page(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 1300}, permissions=["camera"], accept_downloads=True
    )
    return context.new_page()


@needs_chromium
def test_webcam_sets_count_each_rep_once_keep_to_their_visitor_and_are_listed(
    server: Server, browser, shots: Path, tmp_path: Path
) -> None:
    """One visitor's set counted on the camera; then a second visitor's, with a target, alongside: its
    count starts at 0, the first one's Reset leaves it alone, and Finish set lists it with its CSV.
    (One test, two real-time camera streams: each stream costs the suite about a core.)

    The second visitor records when its camera's picture has just gone still after the squats, so
    that its set sees three whole squats wherever Chromium's fake camera is in its file for a second
    capture (that depends on load: sets that began mid-squat were counted 4 on their whole evidence,
    the first squat's rise and the next loop's first descent adding up to a rep)."""
    first, second = camera_page(browser), camera_page(browser)
    elsewhere: list[str] = []
    for page in (first, second):
        page.on("request", lambda request: elsewhere.append(request.url) if not is_local(request.url) else None)
    try:
        second.goto(server.url)  # ready to record as soon as the first set is done
        second.locator("#live_target input").fill("2")
        second.locator("#live_target input").press("Enter")
        start_webcam(first, server.url)
        wait_for_count(first, "live_count", 1, timeout_s=30)
        first.screenshot(path=str(shots / "webcam_moving.png"), full_page=True)  # mid-set: flow on screen
        highest, waited = wait_for_count(first, "live_count", WEBCAM_REPS, timeout_s=30)
        assert highest == WEBCAM_REPS, f"count reached {highest} after {waited:.0f} s"
        # The clip is still for 6 s after its last rep before Chromium loops it: no count may be added.
        for _ in range(25):
            assert count_on(first, "live_count") == WEBCAM_REPS
            time.sleep(0.1)
        frames = server.frames()  # the first visitor's alone
        open_camera(second)  # not sooner: a second capture opened during the first set can add to its count
        watch_stillness(second)
        record_in_a_still_spell(second)
        first.screenshot(path=str(shots / "webcam_counted.png"), full_page=True)
        readme_shot(first, "webcam.png", "#intro", "#live_plot")  # the README's: the first screen, with the count
        view = first.evaluate(
            "() => { const i = document.querySelector('#live_view img');"
            " return i ? [i.naturalWidth, i.naturalHeight] : null; }"
        )
        assert view is not None and view[0] == 2 * round(view[1] * 4 / 3), view  # 4:3 camera | 4:3 flow
        series = plot_series(first, "live_plot")
        assert list(series) == SERIES and min(series.values()) >= 10, series
        assert sum(f["flow"] for f in frames) >= 40 and max(f["count"] for f in frames) == WEBCAM_REPS
        assert all(b["t"] > a["t"] for a, b in zip(frames, frames[1:]))

        webcam_set_with_a_target(second, first, shots, tmp_path)

        # A camera that stops delivering pictures gets a message (the page's own watchdog).
        first.evaluate("() => document.querySelector('#cam video').pause()")
        first.wait_for_function(
            "() => document.querySelector('#cam_watchdog').textContent.includes('no picture')", timeout=8000
        )
        first.screenshot(path=str(shots / "webcam_stalled.png"), full_page=True)
        assert elsewhere == [], f"the page requested other hosts: {elsewhere[:5]}"
    finally:
        for page in (first, second):
            page.context.close()


def webcam_set_with_a_target(page, other, shots: Path, tmp_path: Path) -> None:
    """A set with a target of 2 on `page`, just recording, while `other` (another visitor) streams too:
    the target sounds, Finish set lists the set and its CSV, and the two counts never mix."""
    assert count_on(page, "live_count") == 0  # not the other visitor's reps
    assert wait_for_count(page, "live_count", 1, timeout_s=30)[0] >= 1
    other.locator("#reset_btn").click()
    other.wait_for_function("() => /\\b0\\s*reps/.test(document.querySelector('#live_count').innerText)", timeout=3000)
    highest, waited = wait_for_count(page, "live_count", WEBCAM_REPS, timeout_s=30)  # the other's Reset left it alone
    assert highest == WEBCAM_REPS, f"count reached {highest} after {waited:.0f} s"
    assert "of 2 ✓" in page.locator("#live_count").inner_text()
    sounds = page.evaluate("() => window.flowrepSounds || []")
    assert "target" in sounds and all(s in ("rep", "target") for s in sounds), sounds
    page.locator("#finish_btn").click()
    page.locator("#live_status").get_by_text("Set 1 listed below").wait_for(timeout=5000)
    assert count_on(page, "live_count") == 0
    page.wait_for_function(
        "() => document.querySelector('#live_sets [role=grid]').getAttribute('aria-rowcount') === '2'", timeout=5000
    )  # the header and set 1
    table = page.locator("#live_sets").inner_text()
    assert "2 ✓" in table and "tempo (s/rep)" in table, table
    page.screenshot(path=str(shots / "webcam_set_listed.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#live_sets_csv a[download]").first.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["set"], r["reps"], r["target"]) for r in rows] == [("1", str(WEBCAM_REPS), "2")]
    assert float(rows[0]["tempo_s_per_rep"]) > 1.0  # the clip's squats take 2.2 s each


def upload(page, clip: Path) -> None:
    """Puts a clip in the upload box (clearing the last one first), which starts the count."""
    file_input = page.locator("#vid_in input[type=file]")
    clear = page.locator("#vid_in button[aria-label='Clear']").first
    file_input.or_(clear).first.wait_for(state="attached")  # a tab just opened may not be drawn yet
    if not file_input.count():  # the box shows the last clip
        # Dispatched, not clicked: while Gradio's player loads a clip, its icon layer can sit over the
        # button for longer than a click waits on a loaded machine.
        clear.dispatch_event("click")
        file_input.wait_for(state="attached")
    file_input.set_input_files(str(clip))


def wait_for_status(page, name: str, timeout_s: float = 60) -> str:
    """Waits until the upload status says the clip `name` is done or could not be counted."""
    page.wait_for_function(
        "(name) => { const t = document.querySelector('#up_status').innerText;"
        " return t.includes(name) && (t.includes('Done') || t.includes('Could not') || t.includes('weights')); }",
        arg=name,
        timeout=timeout_s * 1000,
    )
    return page.locator("#up_status").inner_text()


@needs_chromium
def test_upload_in_the_browser_counts_like_the_cli_and_downloads(
    server: Server, context, app_clips: AppClips, shots: Path, tmp_path: Path
) -> None:
    expected = cli_count(app_clips.upload_webm)["count"]
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("tab", name="Upload a clip").click()
    upload(page, app_clips.upload_webm)
    status = wait_for_status(page, app_clips.upload_webm.name)
    assert "Done" in status, status
    assert count_on(page, "up_count") == expected
    assert int(page.locator("#up_table [role=grid]").get_attribute("aria-rowcount")) == 1 + expected  # + header
    assert min(plot_series(page, "up_plot").values()) > 30
    page.wait_for_function(
        "() => { const v = document.querySelector('#up_video video');"
        " return v && v.readyState >= 1 && v.duration > 1; }",
        timeout=15000,
    )
    page.screenshot(path=str(shots / "upload_done.png"), full_page=True)
    readme_shot(page, "upload.png", "#limits", "#up_speed_note")  # the README's: the count and per-rep chart
    saved = {}
    links = page.locator("#up_files a[download]")
    assert links.count() == 2
    for k in range(2):
        with page.expect_download() as download:
            links.nth(k).click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        saved[path.suffix] = path
    assert video_codec(saved[".mp4"]) == "h264" and frame_count(saved[".mp4"]) > 30
    with open(saved[".csv"]) as handle:
        assert len(list(csv.DictReader(handle))) == expected


@needs_chromium
def test_bad_files_show_a_message_and_the_page_keeps_working(
    server: Server, context, app_clips: AppClips, shots: Path
) -> None:
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("tab", name="Upload a clip").click()
    assert f"{TEST_MAX_UPLOAD_MB} MB" in page.locator("#limits").inner_text()
    for clip, words in ((app_clips.not_video, "not a video we accept"), (app_clips.truncated, "truncated")):
        upload(page, clip)
        status = wait_for_status(page, clip.name)
        assert "Could not" in status and words in status, status
        page.screenshot(path=str(shots / f"bad_{clip.stem}.png"), full_page=True)
        # One message per failure, the page's: not also Gradio's "Video not playable" toast.
        page.wait_for_timeout(1000)
        assert not page.locator(".toast-body:visible").filter(has_text="not playable").count()
    upload(page, app_clips.too_big_mp4)  # refused by Gradio in the browser, before any upload
    page.locator(".toast-body").get_by_text("exceed the maximum allowed size").wait_for(timeout=5000)
    upload(page, app_clips.upload_webm)
    assert "Done" in wait_for_status(page, app_clips.upload_webm.name)


@needs_chromium
def test_missing_weights_are_shown_on_the_page(browser, tmp_path: Path, app_clips: AppClips, shots: Path) -> None:
    absent = tmp_path / "absent.safetensors"
    with running_app(tmp_path / "app", FLOWREP_SIGNAL="cnn", FLOWREP_WEIGHTS=str(absent)) as broken:
        page = browser.new_page()
        page.goto(broken.url)
        banner = page.locator("#banner")
        banner.get_by_text("weights not found").wait_for(timeout=10000)
        assert absent.name in banner.inner_text() and str(tmp_path) not in banner.inner_text()  # no server paths
        page.get_by_role("tab", name="Upload a clip").click()
        upload(page, app_clips.upload_webm)
        assert "weights not found" in wait_for_status(page, app_clips.upload_webm.name)
        page.screenshot(path=str(shots / "missing_weights.png"), full_page=True)
        page.close()


@needs_chromium
def test_an_example_clip_is_counted_when_clicked(server: Server, context, shots: Path) -> None:
    examples = sorted((ROOT / "examples").glob("*.mp4"))
    assert examples, "examples/ ships no clips: run scripts/make_examples.py"
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("tab", name="Upload a clip").click()
    true_count = int(examples[0].stem.split("_")[-1].removesuffix("reps"))
    page.locator("#examples").get_by_text(f"({true_count} reps)").first.click()
    status = wait_for_status(page, examples[0].name)
    page.screenshot(path=str(shots / "example.png"), full_page=True)
    assert "Done" in status and count_on(page, "up_count") == true_count, status
