"""FlowRep's demo page: `python app.py` serves a live webcam rep counter, a clip uploader and workouts.

This file reads the environment, builds the engine and launches the page; the page itself is
flowrep.ui's (one module per tab). Counting is flowrep.pipeline's; drawing and exports are flowrep.viz's
(the same ones `flowrep count --out-dir` uses); a workout's rules and summary are flowrep.workout's
(`flowrep workout` runs the same runner) and its history is flowrep.history's, so the page holds no
logic the CLI lacks.

Environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio's own; default 127.0.0.1:7860),
FLOWREP_SIGNAL (cnn, the default, or mean-flow), FLOWREP_WEIGHTS (a .safetensors file),
FLOWREP_MAX_UPLOAD_MB (200) and FLOWREP_MAX_CLIP_S (600) for the upload limits, FLOWREP_CACHE_MB (2000:
the upload cache and the downloads together, oldest deleted first; see flowrep.ui.janitor),
FLOWREP_SINGLE_USER=1 (one store of plans and workouts for a single-user install, rather than one
per visitor), FLOWREP_FRAME_LOG
(a JSONL file that gets one line per webcam frame, for tests and measurements), FLOWREP_WORKERS (the
processes that count uploads, 2 by default: a crash in one fails that clip only), and FLOWREP_DB (the
Workout tab's SQLite history of saved plans and finished workouts; default ~/.flowrep/flowrep.db).
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: nothing leaves the machine

import tempfile
from pathlib import Path

import pandas  # noqa: F401  plotly imports pandas lazily; two threads doing that at once can crash
from starlette.middleware import Middleware

from flowrep import viz
from flowrep.limits import ClipLimits
from flowrep.model import DEFAULT_WEIGHTS, use_one_thread
from flowrep.ui.engine import Engine, FrameLog, RunFolders, Services
from flowrep.ui.janitor import Janitor
from flowrep.ui.page import build_demo, page_assets
from flowrep.ui.request_limit import RequestSizeLimit, limit_decoded_pictures
from flowrep.ui.workers import CountPool, pool_size

ROOT = Path(__file__).resolve().parent


def services_from_env() -> Services:
    weights = Path(os.environ.get("FLOWREP_WEIGHTS", str(DEFAULT_WEIGHTS)))
    engine = Engine(os.environ.get("FLOWREP_SIGNAL", "cnn"), weights)
    if engine.error:
        print(f"flowrep app: {engine.error}", flush=True)
    work_dir = Path(os.environ.get("GRADIO_TEMP_DIR", tempfile.gettempdir())) / "flowrep-runs"
    pool = CountPool(engine.signal_name, engine.weights, pool_size())
    return Services(
        engine, FrameLog(os.environ.get("FLOWREP_FRAME_LOG")), RunFolders(work_dir), ClipLimits.from_env(), pool
    )


def _name_matplotlib_backend() -> None:
    """Gradio asks matplotlib for its backend around every event when matplotlib is installed. Left
    unnamed, that imports pyplot (~1 s) inside the first visitor's first event, with the event loop
    blocked for everyone; named at start-up, it costs nothing later."""
    try:
        import matplotlib
    except ImportError:  # not a dependency: Gradio then skips the question too
        return
    matplotlib.use("agg")


def main() -> None:
    use_one_thread()
    limit_decoded_pictures()
    services = services_from_env()
    if services.pool is not None:
        services.pool.warm_up()  # the workers start now, not in the first visitor's upload
    Janitor.from_env(services.runs.root).start()  # partial uploads of a killed server go; the cache is bounded
    viz.probability_figure([0.0], [[0.0, 1.0, 0.0]])  # plotly's first figure takes ~1 s: not on a visitor
    _name_matplotlib_backend()
    demo = build_demo(services, ROOT / "examples")
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        ssr_mode=False,
        footer_links=["api"],
        show_error=True,
        max_file_size=f"{services.limits.max_upload_mb}mb",
        app_kwargs={"middleware": [Middleware(RequestSizeLimit)]},  # before Gradio reads a body
        **page_assets(),
    )


if __name__ == "__main__":
    main()
