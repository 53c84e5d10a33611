"""The top of the page, what a newcomer reads first: what FlowRep does in one plain line, three steps,
what it counts well and what it does not (from the model card's measured figures, weights/README.md),
and the technical detail folded away in a short "How it works" section."""

from __future__ import annotations

import gradio as gr

from flowrep.viz import FLOW_LEGEND

TITLE = (
    "# FlowRep\n"
    "Counts your exercise reps from your camera or a video, out loud and on screen. "
    "Everything runs on this computer; no picture leaves it."
)

STEPS = (
    "**1. Place the camera** about 2–3 m away, with your **whole body in view**: side-on for push-ups "
    "and sit-ups, front-on for jumping jacks and squats.",
    "**2. Press the camera**: *Click to Access Webcam* on the camera box, allow the camera, then press "
    "**Record** (it appears on the picture).",
    "**3. Move.** The big number counts each rep as it ends (the first two often show together). "
    "**Finish set** lists the set below.",
)

EXERCISES = (
    "**Counts well:** squats, push-ups, sit-ups, lunges, jumping jacks, curls, shoulder presses, dips "
    "and pull-ups (on 15 clips of real people: within 1 % of the true count for a video, 1.3 % live). "
    "**Not well:** fast jump rope (about half the jumps), moves quicker than about 0.4 s a rep on the "
    "camera, anything else that repeats in view (a fan, a swinging bag), people far away in the picture, "
    "and a clip of only one or two slow reps."
)

HOW_IT_WORKS = (
    "Each frame is compared with the last one (**optical flow**, the motion of every part of the "
    "picture). The flow view next to your camera shows it: " + FLOW_LEGEND + " (yellow-green: down, violet: up, "
    "red and cyan: sideways, dark: still). A small neural network (a CNN, 47 k parameters, trained "
    "here on rendered stick figures) reads each flow picture as moving *down*, *still* or *up*: that is the "
    "chart under the views. The count comes from the motion repeating: when the same movement comes back "
    "at a steady period, each period is a rep.\n\n"
    "A rep's **speed** in the sets' and uploads' tables is the speed of the motion in the picture, relative "
    "to the set's first reps: it shows how much a set slowed down (its *speed loss*), not metres per "
    "second. Figures and limits: `weights/README.md`."
)


def layout() -> None:
    """The intro's components, at the top of build_demo's page (page.css styles #intro, #steps,
    #exercises and #how_it_works, and moves the last two below the tabs on a phone)."""
    gr.Markdown(TITLE, elem_id="intro")
    with gr.Row(elem_id="steps", equal_height=True):
        for number, step in enumerate(STEPS, start=1):
            gr.Markdown(step, elem_id=f"step{number}", elem_classes=["step"])
    gr.Markdown(EXERCISES, elem_id="exercises")
    with gr.Accordion("How it works", open=False, elem_id="how_it_works"):
        gr.Markdown(HOW_IT_WORKS)
