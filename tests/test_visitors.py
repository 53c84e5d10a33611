"""Per-visitor data on a hosted page: each visitor's saved plans and history are theirs (a random id in
the browser's localStorage), a single-user install keeps one store, plans have sane sizes and are
shown as text; the history's schema 1 databases are migrated."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import PIL.Image
import pytest
from app_support import needs_chromium, page_tabs

from flowrep.history import SCHEMA_VERSION, History
from flowrep.plans import (
    MAX_NAME_CHARS,
    MAX_PLAN_CHARS,
    MAX_PLAN_LINES,
    Plan,
    PlanError,
)
from flowrep.ui.visitor import md_text


@pytest.fixture()
def hosted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("FLOWREP_SINGLE_USER", raising=False)
    return page_tabs(tmp_path / "runs", history_path=tmp_path / "flowrep.db").workout


def finish_a_workout(page, name: str, visitor: str | None) -> None:
    live = page.start(name, "squats: 5 reps", None, visitor)[page.ui.live]
    page.frame(np.zeros((240, 320, 3), np.uint8), live)
    page.stop(live)


def test_each_visitor_sees_only_their_own_plans_and_workouts(hosted) -> None:
    ui = hosted.ui
    first, second = hosted.on_load(None)[ui.visitor], hosted.on_load("not a valid id")[ui.visitor]
    assert first != second and len(first) >= 22 and hosted.on_load(first)[ui.visitor] == first
    assert hosted.save_plan("Mine", "push-ups: 5 reps", first)[ui.plan_msg] == "Saved “Mine”."
    finish_a_workout(hosted, "Mine", first)
    assert "Mine" in [name for _, name in hosted.plan_choices(first)]
    assert "Mine" not in [name for _, name in hosted.plan_choices(second)]
    assert hosted.on_load(first)[ui.history]["plan"].tolist() == ["Mine"]
    assert hosted.on_load(second)[ui.history].empty
    [(_, mine)] = hosted.on_load(first)[ui.history_pick].choices
    assert "not in your history" in hosted.delete_workout(mine, second)[ui.history_msg]  # not theirs either
    assert "not in your history" in hosted.delete_workout(mine, None)[ui.history_msg]
    assert hosted.on_load(first)[ui.history]["plan"].tolist() == ["Mine"]
    chosen = hosted.choose_plan("Mine", second)
    assert chosen[ui.plan_msg] == "" and ui.plan_text not in chosen
    assert "No saved plan" in hosted.delete_plan("Mine", second)[ui.plan_msg]  # not theirs to delete
    assert "Deleted" in hosted.delete_plan("Mine", first)[ui.plan_msg]
    # A caller without an id (the endpoints called directly) touches no one's data.
    assert "no visitor id" in hosted.save_plan("Theirs", "squats: 3 reps", None)[ui.plan_msg]
    finish_a_workout(hosted, "Anonymous", None)
    assert hosted.history is not None and hosted.history.workouts(owner="") == []


def test_a_single_user_install_keeps_one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWREP_SINGLE_USER", "1")
    page = page_tabs(tmp_path / "runs", history_path=tmp_path / "flowrep.db").workout
    page.save_plan("Shared", "squats: 3 reps", "a" * 22)
    assert "Shared" in [name for _, name in page.plan_choices("b" * 22)]
    assert "Shared" in [name for _, name in page.plan_choices(None)]


def test_plans_have_sane_sizes() -> None:
    Plan.from_text("n" * MAX_NAME_CHARS, "squats: 3 reps\n" * (MAX_PLAN_LINES - 1))
    for name, text, words in [
        ("n" * (MAX_NAME_CHARS + 1), "squats: 3 reps", "name may have at most 80 characters"),
        ("x", "squats: 3 reps\n" * MAX_PLAN_LINES, "at most 50 lines"),
        ("x", "squats: 3 reps" + " " * MAX_PLAN_CHARS, "at most 4000 characters"),
    ]:
        with pytest.raises(PlanError, match=words):
            Plan.from_text(name, text)


def test_a_plan_named_like_html_is_shown_as_text(hosted) -> None:
    ui = hosted.ui
    visitor = hosted.on_load(None)[ui.visitor]
    name = "<img src=x onerror=alert(1)> *bold* [link](http://x)"
    message = hosted.save_plan(name, "squats: 3 reps", visitor)[ui.plan_msg]
    assert "<img" not in message and "&lt;img src=x onerror=alert\\(1\\)&gt;" in message
    assert "\\*bold\\*" in message and "\\[link\\]\\(http://x\\)" in message
    live = hosted.start(name, "<b>squats</b>: 3 reps", None, visitor)[ui.live]
    out = hosted.stop(live)
    assert "<img" not in out[ui.totals] and "<b>" not in " ".join(str(v) for v in out.values() if isinstance(v, str))
    assert md_text("a & b") == "a &amp; b"


def test_a_schema_1_database_is_migrated_with_its_data_kept_for_the_single_user(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    with sqlite3.connect(db_path) as db:
        db.executescript("""
            CREATE TABLE plans (name TEXT PRIMARY KEY, plan_json TEXT NOT NULL, saved_at TEXT NOT NULL);
            CREATE TABLE workouts (id INTEGER PRIMARY KEY AUTOINCREMENT, finished_at TEXT NOT NULL,
                plan_name TEXT NOT NULL, status TEXT NOT NULL, reps INTEGER NOT NULL, training_s REAL NOT NULL,
                working_s REAL NOT NULL, resting_s REAL NOT NULL, summary_json TEXT NOT NULL);
            PRAGMA user_version = 1;""")
        plan = Plan.from_text("Old plan", "squats: 3 reps")
        db.execute("INSERT INTO plans VALUES (?, ?, ?)", (plan.name, json.dumps(plan.to_json()), "2026-01-01T00:00:00"))
    history = History(db_path)
    assert [p.name for p in history.plans()] == ["Old plan"] and history.plans("a" * 22) == []
    history.save_plan(Plan.from_text("Old plan", "squats: 4 reps"), "a" * 22)  # the same name, another owner
    assert len(history.plans()) == len(history.plans("a" * 22)) == 1
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    History(db_path)  # opening again changes nothing


def _post_json(url: str, path: str, payload: object) -> dict:
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _send_frame(url: str, picture: PIL.Image.Image, session: str) -> dict:
    """One webcam frame (a JPEG data URL, as the page sends it) to the webcam tab's frame event through
    Gradio's queue, as the page's JavaScript does; returns the event's last message."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=10)
    frame = {
        "url": "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode(),
        "meta": {"_type": "gradio.FileData"},
    }
    config = json.loads(urllib.request.urlopen(f"{url}config", timeout=30).read())
    event = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "frame")
    _post_json(url, "gradio_api/queue/join", {"data": [frame, None, None], "fn_index": event, "session_hash": session})
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=60) as events:
        for line in events:
            message = json.loads(line[5:]) if line.startswith(b"data:") else {}
            if message.get("msg") in ("process_streaming", "process_completed"):
                return message
    raise AssertionError("the frame event never answered")


def _peak_memory_mb(pid: int) -> float:
    status = (Path("/proc") / str(pid) / "status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def test_requests_made_by_hand_are_checked_like_the_page_and_cannot_take_the_servers_memory(tmp_path: Path) -> None:
    """Gradio's api_visibility="private" hides an endpoint from the docs and gradio_client, but a raw
    POST to /gradio_api/run/<name> (or the queue, by fn_index, as the page does) still reaches it: the
    handlers are the page's, with its checks. A body over the server's cap is refused before Gradio
    reads it into memory, whether it says its length or comes in chunks; a small frame that decodes to
    a huge picture is refused before it is decoded; and the server goes on."""
    from app_support import running_app

    from flowrep.ui.request_limit import MAX_REQUEST_MB

    def run(url: str, name: str, *data: object) -> list:
        return _post_json(url, f"gradio_api/run/{name}", {"data": list(data)})["data"]

    visitor = "v" * 22
    with running_app(tmp_path / "app", FLOWREP_SINGLE_USER="") as server:
        assert "at most 80 characters" in run(server.url, "save_plan", "X" * 5_000_000, "squats: 3 reps", visitor)[1]
        assert "at most 4000 characters" in run(server.url, "save_plan", "X", "squats: 3 reps\n" * 20_000, visitor)[1]
        assert "at most 50 lines" in run(server.url, "save_plan", "X", "\n" * 60, visitor)[1]
        assert "no visitor id" in run(server.url, "save_plan", "Mine", "squats: 3 reps", None)[1]
        assert "Saved" in run(server.url, "save_plan", "<img src=x onerror=alert(1)>", "squats: 3 reps", visitor)[1]
        assert "No saved plan" in run(server.url, "delete_plan", "<img src=x onerror=alert(1)>", "w" * 22)[1]

        huge = json.dumps({"data": ["X" * (MAX_REQUEST_MB + 1) * 1024 * 1024, "squats: 3 reps", visitor]}).encode()
        address = urlparse(server.url)
        for chunked in (False, True):
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
            body = (huge[i : i + (1 << 20)] for i in range(0, len(huge), 1 << 20)) if chunked else huge
            connection.request("POST", "/gradio_api/run/save_plan", body=body, encode_chunked=chunked)
            response = connection.getresponse()
            assert (response.status, response.read()) == (
                413,
                f"The request is larger than the server's {MAX_REQUEST_MB} MB limit.".encode(),
            )
        assert "Saved" in run(server.url, "save_plan", "After", "squats: 3 reps", visitor)[1]

        assert _send_frame(server.url, PIL.Image.new("RGB", (640, 480)), "a")["success"]
        too_big = str(_send_frame(server.url, PIL.Image.new("RGB", (3840, 2160)), "b")["output"])
        assert "frames are 3840×2160, larger than the 1920×1080 limit" in too_big  # a 4K camera is told why
        before = _peak_memory_mb(server.process.pid)
        bomb = _send_frame(server.url, PIL.Image.new("RGB", (13_000, 13_000)), "c")  # 2.6 MB, 507 MB decoded
        assert not bomb["success"] and _peak_memory_mb(server.process.pid) - before < 150
        assert _send_frame(server.url, PIL.Image.new("RGB", (640, 480)), "d")["success"]
    history = History(tmp_path / "app" / "flowrep.db")
    names = [p.name for p in history.plans(visitor)]
    assert names == ["<img src=x onerror=alert(1)>", "After"] and history.plans() == []


@needs_chromium
def test_in_the_browser_a_visitor_keeps_their_plans_across_reloads_and_others_do_not_see_them(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app_support import running_app

    # Playwright on its own thread: another test module's sync Playwright may be running on this one.
    with running_app(tmp_path / "app", FLOWREP_SINGLE_USER="") as server, ThreadPoolExecutor(1) as thread:
        alice_sees, bob_sees = thread.submit(_alice_then_bob, server.url).result(timeout=120)
    assert alice_sees == ["<b>Alice</b> (saved)"] and bob_sees == []


def _alice_then_bob(url: str) -> tuple[list[str], list[str]]:
    import time

    from app_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    def open_tab(page) -> None:
        page.goto(url)
        page.get_by_role("tab", name="Workout").click()
        page.locator("#w_plan_text textarea").wait_for()

    def saved(page) -> list[str]:
        page.locator("#w_plan input").click()
        page.get_by_role("option").first.wait_for()
        names = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        return [name for name in names if name.endswith("(saved)")]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        alice = browser.new_context().new_page()
        open_tab(alice)
        alice.locator("#w_plan_name").get_by_role("textbox").fill("<b>Alice</b>")
        alice.locator("#w_plan_text textarea").fill("squats: 3 reps")
        alice.locator("#w_save").click()
        alice.locator("#w_plan_msg").get_by_text("Saved “<b>Alice</b>”.").wait_for(timeout=10_000)  # as text
        alice.reload()
        open_tab(alice)
        deadline = time.monotonic() + 10
        while not (alice_sees := saved(alice)) and time.monotonic() < deadline:
            time.sleep(0.3)
        bob = browser.new_context().new_page()
        open_tab(bob)
        time.sleep(1.0)
        bob_sees = saved(bob)
        browser.close()
    return alice_sees, bob_sees
