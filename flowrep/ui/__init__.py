"""FlowRep's demo page (Gradio), served by app.py: page.py lays out the whole page, intro.py its first
screen, one module per tab (webcam.py with webcam_sets.py, upload.py, workout.py with workout_text.py),
engine.py holds what the tabs share (the engine, the frame log, the run folders, the upload limits)
and widgets.py the pieces they reuse.
The page holds no counting logic the CLI lacks: that is flowrep.pipeline's, flowrep.viz's,
flowrep.workout's and flowrep.history's."""
