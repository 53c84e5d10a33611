"""The demo page's figures, measured on a real server and a real (headless) browser.

    python scripts/measure_app.py [--webcam-seconds 30] [--upload-seconds 60] [--upload-runs 3]
                                  [--concurrent N] [--uploads N] [--json out.json]

1. Webcam: Chromium's fake camera plays a scripted 640×480 clip of slow squats into the page for
   --webcam-seconds; from the server's frame log (FLOWREP_FRAME_LOG): server-side milliseconds per
   frame (decode to the returned view, Gradio's own overhead excluded) p50/p95, and frames/s.
2. Rep end → page count: for each rep, the time from its end to the page's count changing. "End"
   is taken two ways: the engine's Rep.end_s (the return swing's extreme; split into the counter's
   confirmation wait and the delivery from the counting frame's arrival to the page), and the
   clip's own schedule: every frame of the camera clip carries its number as a 12-bit Gray-code
   strip in its top-left corner; the page reads it off the camera's <video> every 10 ms, so the
   wall time at which the frame where a rep ends (the figure back up) appeared is known exactly,
   whatever rate or loop phase Chromium plays the file at.
3. Upload: a --upload-seconds 1280×720 30 fps H.264 clip sent to the page's /analyze endpoint
   (previews, chart, annotated video and CSV, as a visitor gets them) and to /count (JSON only):
   frames per second of wall time, upload included; the median of --upload-runs runs, each listed.
   With --concurrent N, N callers at once send it to /count (twice each): p50/p95 seconds a call,
   frames per second all together, and every count.
4. With --uploads N: N uploads of a short clip through /analyze, one after another, and the server's
   resident memory (its process and the upload workers) before, after 10 and after N.

Needs Debian's Chromium at /usr/bin/chromium for part 1 and 2. Uses the engine app.py would
(FLOWREP_SIGNAL, default cnn).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import democlips  # noqa: E402
from apprunner import CHROMIUM, CHROMIUM_ARGS, Server, running_app, start_webcam  # noqa: E402

PERIOD_S, LEAD_IN_S, TAIL_S = 2.5, 3.0, 4.0
CAMERA_FPS = 30.0
# Records, in the page, when the count text changes and when the camera's video first plays.
STAMP_BITS, STAMP_BLOCK = 12, 8
PROBE_JS = """
window.__counts = []; window.__shown = [];
const __canvas = document.createElement('canvas');
function __stamp(v) {  // the clip's frame number, from the Gray-code strip in the top-left corner
  const bits = %(bits)d, block = %(block)d;
  __canvas.width = bits * block; __canvas.height = block;
  const ctx = __canvas.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(v, 0, 0, bits * block, block, 0, 0, bits * block, block);
  const px = ctx.getImageData(0, 0, bits * block, block).data;
  let gray = 0;
  for (let b = 0; b < bits; b++) {
    const i = 4 * (Math.floor(block / 2) * bits * block + b * block + Math.floor(block / 2));
    gray = (gray << 1) | (px[i + 1] > 128 ? 1 : 0);
  }
  let n = gray;
  for (let shift = gray >> 1; shift; shift >>= 1) n ^= shift;
  return n;
}
setInterval(() => {
  const v = document.querySelector('#cam video');
  if (v && v.readyState >= 2 && v.videoWidth > 0) {
    const n = __stamp(v), shown = window.__shown;
    if (!shown.length || shown[shown.length - 1][1] !== n) shown.push([Date.now(), n]);
  }
  const el = document.querySelector('#live_count');
  const m = el && el.innerText.match(/(\\d+)\\s*reps/);
  const n = m ? parseInt(m[1]) : null;
  const last = window.__counts.length ? window.__counts[window.__counts.length - 1][1] : 0;
  if (n !== null && n !== last) window.__counts.push([Date.now(), n]);
}, 10);
""" % {"bits": STAMP_BITS, "block": STAMP_BLOCK}  # noqa: UP031  (the JavaScript braces stay as they are)


def stamped(frames, bits: int = STAMP_BITS, block: int = STAMP_BLOCK):
    """Frames with their number drawn as a Gray-code strip (white = 1) in the top-left corner;
    one block changes from a frame to the next, so the strip adds next to no motion."""
    for index, frame in enumerate(frames):
        gray = index ^ (index >> 1)
        for b in range(bits):
            on = (gray >> (bits - 1 - b)) & 1
            frame[:block, b * block : (b + 1) * block] = 255 if on else 0
        yield frame


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
        "n": len(values),
    }


def measure_webcam(server: Server, y4m: Path, seconds: float, reps: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        page.add_init_script(PROBE_JS)
        start_webcam(page, server.url)
        time.sleep(seconds)
        counts, shown = page.evaluate("[window.__counts, window.__shown]")
        browser.close()
    frames = [f for f in server.frames() if f["flow"]]
    span = frames[-1]["wall"] - frames[0]["wall"] if len(frames) > 1 else 0.0
    rep_frames = [f for f in server.frames() if "rep_end_wall" in f]
    changes = [t / 1000 for t, _ in counts]
    engine_latency = [1000 * (shown - f["rep_end_wall"]) for shown, f in zip(changes, rep_frames)]
    confirm_latency = [1000 * (f["wall"] - f["rep_end_wall"]) for f in rep_frames]
    delivery_latency = [1000 * (shown - f["wall"]) for shown, f in zip(changes, rep_frames)]
    # The schedule: rep k (from 1) ends LEAD_IN_S + k·PERIOD_S into each pass of the looping file,
    # and the camera showed that frame when its stamp first appeared in the page's <video>.
    end_frames = {round((LEAD_IN_S + k * PERIOD_S) * CAMERA_FPS) for k in range(1, reps + 1)}
    ends = []  # the page may skip a frame: an end is the first frame shown at or past it, in each pass
    for (_, before), (t, n) in zip(shown, shown[1:]):
        start = before + 1 if n > before else 0  # a smaller number: the file looped
        ends += [t / 1000 for e in end_frames if start <= e <= n]
    schedule_latency = []
    for shown_at in changes:  # the nearest end: the count may rise as the figure settles at the top
        nearest = min(ends, key=lambda e: abs(shown_at - e), default=None)
        if nearest is not None and abs(shown_at - nearest) < PERIOD_S / 2:
            schedule_latency.append(1000 * (shown_at - nearest))
    played = [n for _, n in shown]
    steps = np.diff(played) if len(played) > 1 else np.array([])
    return {
        "frame_size": f"{frames[0]['w']}x{frames[0]['h']}" if frames else None,
        "server_ms_per_frame": percentiles([f["ms"] for f in frames]),
        "frames_per_s": round(len(frames) / span, 1) if span else 0.0,
        "rep_end_to_page_ms_engine_end": percentiles(engine_latency),
        "of_which_rep_end_to_counting_frame_ms": percentiles(confirm_latency),
        "of_which_counting_frame_arrival_to_page_ms": percentiles(delivery_latency),
        "rep_end_to_page_ms_clip_schedule": percentiles(schedule_latency),
        "rep_end_to_page_ms_clip_schedule_each": [round(v) for v in schedule_latency],
        "rep_end_to_page_ms_engine_end_each": [round(v) for v in engine_latency],
        "camera_frames_seen_in_page": len(played),
        "camera_frame_steps_seen": {int(k): int(v) for k, v in zip(*np.unique(steps, return_counts=True))},
        "page_counts": [n for _, n in counts],
    }


def _fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


def measure_upload(server: Server, clip: Path, frames: int, runs: int) -> dict[str, object]:
    """Each endpoint `runs` times in turn: this 2-core VM's speed varies by ±10 % from run to run,
    so the figure is the median, with every run listed.

    The client fetches what a visitor keeps (the annotated video and the CSV), inside the timing,
    but not every preview image: gradio_client's handling of those costs ~1.7 s of CPU per clip on
    the same two cores as the server, where a visitor's browser runs on their own machine."""
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False, download_files=False)
    analyze_fps, count_fps, updates, analyze_counts, api_counts = [], [], [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        job = client.submit(handle_file(str(clip)), api_name="/analyze")
        updates.append(sum(1 for _ in job))
        outputs = job.result()
        analyze_counts.append(outputs[7]["count"])  # the outputs: UploadComponents.outputs()'s order
        downloads = outputs[6]  # the annotated video and the reps CSV
        if len(downloads) != 2 or not all(_fetch(d["url"]) for d in downloads):
            raise RuntimeError(f"the page's downloads are missing or empty: {downloads}")
        analyze_fps.append(round(frames / (time.perf_counter() - started), 1))
        started = time.perf_counter()
        api_counts.append(client.predict(handle_file(str(clip)), api_name="/count")["count"])
        count_fps.append(round(frames / (time.perf_counter() - started), 1))
    return {
        "frames": frames,
        "runs": runs,
        "analyze_frames_per_s": float(np.median(analyze_fps)),
        "analyze_frames_per_s_each": analyze_fps,
        "analyze_updates_each": updates,
        "analyze_counts": analyze_counts,
        "count_api_frames_per_s": float(np.median(count_fps)),
        "count_api_frames_per_s_each": count_fps,
        "count_api_counts": api_counts,
    }


def measure_concurrent(server: Server, clip: Path, frames: int, callers: int) -> dict[str, object]:
    """`callers` clients sending the clip to /count at once, twice: each call's seconds (p50, p95),
    the frames per second of wall time all together (the pool's use of the cores), and the counts."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    def one_call(_: int) -> tuple[float, int]:
        client = Client(server.url, verbose=False, download_files=False)
        started = time.perf_counter()
        count = client.predict(handle_file(str(clip)), api_name="/count")["count"]
        return time.perf_counter() - started, count

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as threads:
        calls = list(threads.map(one_call, range(2 * callers)))
    wall = time.perf_counter() - started
    seconds = [round(s, 2) for s, _ in calls]
    return {
        "callers": callers,
        "calls": len(calls),
        "seconds_p50": float(np.percentile(seconds, 50)),
        "seconds_p95": float(np.percentile(seconds, 95)),
        "seconds_each": seconds,
        "frames_per_s_all": round(len(calls) * frames / wall, 1),
        "counts": [c for _, c in calls],
    }


def _rss_mb(pid: int) -> float:
    """A process's resident memory and its descendants' (the upload workers), in MB, from /proc."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0) / 1024
        todo += [int(child) for child in children]
    return round(total, 1)


def measure_many_uploads(server: Server, clip: Path, uploads: int) -> dict[str, object]:
    """`uploads` uploads of a short clip through the page's /analyze, one after another: the server's
    memory (its process and the upload workers) before, after 10 and after all, and the counts seen."""
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False, download_files=False)
    rss = {"before": _rss_mb(server.process.pid)}
    counts = set()
    for number in range(1, uploads + 1):
        counts.add(client.predict(handle_file(str(clip)), api_name="/analyze")[7]["count"])
        if number in (10, uploads):
            rss[f"after_{number}"] = _rss_mb(server.process.pid)
    return {"uploads": uploads, "server_rss_mb": rss, "counts_seen": sorted(counts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webcam-seconds", type=float, default=30.0)
    parser.add_argument("--upload-seconds", type=float, default=60.0)
    parser.add_argument("--upload-runs", type=int, default=3)
    parser.add_argument("--skip-webcam", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument(
        "--concurrent", type=int, default=0, help="also send the upload clip to /count from this many callers at once"
    )
    parser.add_argument(
        "--uploads", type=int, default=0, help="also send a short clip through /analyze this many times (memory)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="measure-app-") as scratch, running_app(Path(scratch) / "app") as server:
        work = Path(scratch)
        if not args.skip_webcam:
            reps = 4
            clip = democlips.iter_scripted_clip(
                "squat",
                reps=reps,
                period_s=PERIOD_S,
                lead_in_s=LEAD_IN_S,
                tail_s=TAIL_S,
                fps=CAMERA_FPS,
                size=(640, 480),
                noise=1.0,
            )
            y4m = democlips.write_y4m(stamped(clip), CAMERA_FPS, work / "webcam.y4m")
            figures["webcam"] = measure_webcam(server, y4m, args.webcam_seconds, reps)
            y4m.unlink()
        if not args.skip_upload:
            n = int(args.upload_seconds * 30)
            reps = max(1, int((args.upload_seconds - 2.0) // PERIOD_S))
            clip = democlips.iter_scripted_clip(
                "squat",
                reps=reps,
                period_s=PERIOD_S,
                lead_in_s=1.0,
                tail_s=args.upload_seconds - 1.0 - reps * PERIOD_S,
                fps=30.0,
                size=(1280, 720),
                noise=0.0,
            )
            mp4 = democlips.write_mp4(itertools.islice(clip, n), 30.0, work / "upload_720p.mp4")
            figures["upload_720p"] = {"true_reps": reps, **measure_upload(server, mp4, n, args.upload_runs)}
            if args.concurrent:
                figures["count_concurrent"] = measure_concurrent(server, mp4, n, args.concurrent)
        if args.uploads:
            frames = democlips.scripted_clip("squat", reps=3, period_s=1.2, lead_in_s=0.5, tail_s=0.5, size=(320, 240))
            short = democlips.write_mp4(frames, 15.0, work / "short.mp4")
            figures["many_uploads"] = measure_many_uploads(server, short, args.uploads)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
