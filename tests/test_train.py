"""Training: the `flowrep train` path runs end to end in-process and learns; the shipped model is
what `flowrep train` makes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from flowrep.model import DEFAULT_WEIGHTS, Classifier
from flowrep.train import TrainConfig, train


def test_a_tiny_training_run_writes_a_model_that_loads_and_learns(tmp_path: Path) -> None:
    out = tmp_path / "tiny.safetensors"
    metrics = train(TrainConfig.tiny(), out, log=lambda line: None)
    losses = metrics["epoch_losses"]
    assert isinstance(losses, list) and len(losses) == TrainConfig.tiny().epochs
    assert losses[-1] < 0.9 * losses[0], losses  # the optimisation fits its data
    assert json.loads(out.with_suffix(".json").read_text())["epoch_losses"] == losses
    probabilities = Classifier(out)(np.zeros((72, 128, 3), np.uint8))
    assert probabilities.shape == (3,) and np.isfinite(probabilities).all()
    assert abs(float(probabilities.sum()) - 1.0) < 1e-4


def test_the_shipped_model_is_what_flowrep_train_makes_and_beats_chance_on_held_out_clips() -> None:
    metrics = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert metrics["config"] == TrainConfig().__dict__, "the shipped weights were trained with other settings"
    matrix = np.array(metrics["confusion_matrix_rows_true_cols_predicted"])
    recall = matrix.diagonal() / matrix.sum(axis=1)
    # Held-out clips are never trained on; chance, and "always still", score 1/3 per class.
    assert recall.min() > 0.5, recall
