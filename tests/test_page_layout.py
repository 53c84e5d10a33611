"""The page as a newcomer first sees it, in Chromium: on a laptop (1280×800) the first screen says what
to do and shows the count; on a phone (390×844) the camera and the count share the first screen on the
Webcam and Workout tabs and no number breaks across lines. (A webcam set with a target is
test_app.py's, on the same stream as its other webcam checks.) Chromium runs on a thread of its own
(app_support.chromium), as in test_workout_page.py."""

from __future__ import annotations

from pathlib import Path

from app_support import (  # noqa: F401
    WEBCAM_REPS,
    BrowserRun,
    Server,
    chromium,
    count_on,
    needs_chromium,
    server,
    shots,
    start_webcam,
    wait_for_count,
)

PAGE_BOX = (
    "(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
    " return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, height: r.height}; }"
)
#: How many lines the text of an element's first heading takes on screen (its line boxes).
HEADING_LINES = (
    "(sel) => { const h = document.querySelector(sel + ' h1'); const range = document.createRange();"
    " range.selectNodeContents(h); const tops = new Set();"
    " for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));"
    " return tops.size; }"
)

WORKOUT_BUTTONS = ["#w_start", "#w_pause", "#w_skip", "#w_stop", "#w_discard", "#w_mute"]
#: The viewport's width, and each element's box in the viewport and whether its content fits in it.
BUTTON_BOXES = (
    "(sels) => ({width: document.documentElement.clientWidth, boxes: sels.map(s => {"
    " const e = document.querySelector(s); const r = e.getBoundingClientRect();"
    " return {sel: s, left: r.left, right: r.right, top: Math.round(r.top), height: r.height,"
    " fits: e.scrollWidth <= e.clientWidth + 1}; })})"
)


def page_box(page, selector: str) -> dict[str, float]:
    """An element's top and bottom in page coordinates (from the top of the page, whatever the scroll)."""
    return page.evaluate(PAGE_BOX, selector)


def assert_on_first_screen(page, height: int, *selectors: str) -> None:
    for selector in selectors:
        page.locator(selector).first.wait_for()  # the page renders its blocks one after another
        box = page_box(page, selector)
        assert box["height"] > 0 and 0 <= box["top"] and box["bottom"] <= height, (selector, box)


def assert_buttons_fit(page, selectors: list[str], max_lines: int) -> None:
    """The buttons lie within the viewport's width, each label fits its button (one line: no button
    taller than a line's two), and they take at most `max_lines` lines, not one each."""
    found = page.evaluate(BUTTON_BOXES, selectors)
    for box in found["boxes"]:
        assert 0 <= box["left"] and box["right"] <= found["width"] and box["fits"], box
        assert 0 < box["height"] <= 56, box
    tops = sorted(box["top"] for box in found["boxes"])
    lines = 1 + sum(below - above > 8 for above, below in zip(tops, tops[1:]))  # a checkbox sits a pixel lower
    assert lines <= max_lines, found


@needs_chromium
def test_the_first_screen_on_a_laptop_says_what_to_do_and_shows_the_count(
    server: Server, chromium: BrowserRun, shots: Path
) -> None:
    chromium(first_screen_on_a_laptop, server, shots)


def first_screen_on_a_laptop(browser, server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, permissions=["camera"])
    page = context.new_page()
    try:
        page.goto(server.url)
        page.locator("#steps").wait_for()
        assert_on_first_screen(page, 800, "#intro", "#steps", "#exercises", "#cam", "#live_count")
        steps = page.locator("#steps").inner_text()
        for words in (
            "whole body in view",
            "side-on for push-ups and sit-ups",
            "front-on for jumping jacks",
            "Click to Access Webcam",
            "Record",
            "Move",
        ):
            assert words in steps, words
        exercises = page.locator("#exercises").inner_text()
        assert "squats" in exercises and "jump rope" in exercises.split("Not well")[1]
        assert not page.get_by_text("optical flow").first.is_visible()  # the detail is folded away
        page.locator("#how_it_works").get_by_text("How it works").click()
        page.get_by_text("optical flow").first.wait_for(state="visible")
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#live_count h1')).fontSize)")
        assert size >= 120, size  # readable from two metres
        page.screenshot(path=str(shots / "first_screen_1280x800.png"))
    finally:
        context.close()


@needs_chromium
def test_on_a_phone_camera_and_count_share_the_first_screen(server: Server, chromium: BrowserRun, shots: Path) -> None:
    chromium(first_screen_on_a_phone, server, shots)


def first_screen_on_a_phone(browser, server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, permissions=["camera"])
    page = context.new_page()
    try:
        start_webcam(page, server.url)
        assert_on_first_screen(page, 844, "#cam", "#live_count")
        assert page.evaluate(HEADING_LINES, "#live_count") == 1
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "phone_webcam.png"))
        page.get_by_role("tab", name="Workout").click()
        page.locator("#w_cam").get_by_text("Click to Access Webcam").wait_for()
        assert_on_first_screen(page, 844, "#w_cam", "#w_count", "#w_clock")
        for readout in ("#w_count", "#w_clock"):
            assert page.evaluate(HEADING_LINES, readout) == 1, page.locator(readout).inner_text()
        page.locator("#w_start").click()  # the get-ready countdown: the clock shows 0:0N
        page.wait_for_function("() => /0:0[1-4]/.test(document.querySelector('#w_clock').innerText)", timeout=10_000)
        assert page.evaluate(HEADING_LINES, "#w_clock") == 1
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "phone_workout.png"))
        assert_buttons_fit(page, WORKOUT_BUTTONS, max_lines=3)
        page.locator("#w_discard").click()
    finally:
        context.close()
