"""The whole page: one gr.Blocks with the intro (intro.py), the engine's warning banner and the three tabs, plus
the page-wide CSS and JS (page.css, page.js) that app.py hands to launch()."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from flowrep.ui import intro
from flowrep.ui.engine import Services
from flowrep.ui.upload import UploadTab
from flowrep.ui.webcam import WebcamTab
from flowrep.ui.widgets import asset_text
from flowrep.ui.workout import WorkoutTab


@dataclass(frozen=True)
class Tabs:
    """The tabs' handlers, one per server; build_demo lays them out."""

    webcam: WebcamTab
    upload: UploadTab
    workout: WorkoutTab

    @classmethod
    def create(cls, services: Services, history_path: Path | None = None) -> Tabs:
        """history_path: the Workout tab's SQLite file; None means FLOWREP_DB's (see flowrep.history)."""
        return cls(
            webcam=WebcamTab(services.engine, services.log, services.runs),
            upload=UploadTab(services.engine, services.runs, services.limits, services.pool),
            workout=WorkoutTab(services.engine, services.log, services.runs, history_path),
        )


def example_clips(examples_dir: Path | None) -> list[Path]:
    return sorted(examples_dir.glob("*.mp4")) if examples_dir is not None else []


def build_demo(services: Services, examples_dir: Path | None = None, tabs: Tabs | None = None) -> gr.Blocks:
    """The page; examples_dir holds the upload tab's example clips (*.mp4), if any."""
    tabs = tabs or Tabs.create(services)
    engine = services.engine
    with gr.Blocks(
        title="FlowRep – live rep counter", delete_cache=(300, int(services.runs.keep_s)), analytics_enabled=False
    ) as demo:
        intro.layout()
        banner = gr.Markdown(engine.banner(), elem_id="banner")
        with gr.Tab("Webcam", id="webcam"):
            tabs.webcam.layout()
        with gr.Tab("Upload a clip", id="upload"):
            tabs.upload.layout(example_clips(examples_dir))
        with gr.Tab("Workout", id="workout"):
            tabs.workout.layout(demo)
        tabs.workout.ui.visitor.render()  # outside the tabs, so that the page load reads it (flowrep.ui.visitor)
        demo.load(engine.banner, outputs=[banner], api_visibility="private", queue=False)
    return demo


def page_assets() -> dict[str, Any]:
    """launch()'s css and js: the big numbers and warnings, and the camera watchdog."""
    return {"css": asset_text("page.css"), "js": asset_text("page.js")}
