"""Training: synthetic clips → the flow encoder used at inference → labelled frames → the CNN.

Owns `flowrep train`: data generation from a fixed seed (rendered on every core), the clip-level
train/held-out split, the optimisation, the held-out accuracy and confusion matrix, and writing
weights/ with its metrics.
No real clip from ../shared/data is used, so every benchmark folder stays unseen.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .flow import FlowEncoder
from .model import CLASSES, DEFAULT_WEIGHTS, FlowNet, letterbox, save_weights, to_tensor
from .synth import SyntheticClip, clip_number

DOWN, STILL, UP = range(3)
#: Speed (diagonals/s) below which a label point counts as still, and the share of the clip's
#: typical peak speed below which a slow turn counts as still too.
STILL_SPEED = 0.03
STILL_SHARE_OF_PEAK = 0.15


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 7
    clips: int = 1600  # twice the 800 of the first model: which 800 were drawn changed real counts a lot
    epochs: int = 8
    batch_size: int = 256
    learning_rate: float = 3e-3
    held_out_share: float = 0.15

    @classmethod
    def quick(cls) -> TrainConfig:
        return cls(clips=90, epochs=3)

    @classmethod
    def tiny(cls) -> TrainConfig:
        """The whole path in seconds, for tests: too little data to judge the model by."""
        return cls(clips=12, epochs=3, batch_size=128)


def frame_labels(velocity_along_axis: np.ndarray) -> np.ndarray:
    """down / still / up per frame from the label point's velocity along the motion axis."""
    peak = np.percentile(np.abs(velocity_along_axis), 90) if len(velocity_along_axis) else 0.0
    threshold = max(STILL_SPEED, STILL_SHARE_OF_PEAK * peak)
    labels = np.full(len(velocity_along_axis), STILL, np.int64)
    labels[velocity_along_axis > threshold] = DOWN
    labels[velocity_along_axis < -threshold] = UP
    return labels


def encode_clip(clip: SyntheticClip) -> tuple[np.ndarray, np.ndarray]:
    """CNN inputs and labels for every frame of a clip but the first (which has no flow)."""
    encoder = FlowEncoder(skip_repeats=False, framing=False)  # every frame has a label, and rendered clips repeat none
    images, along_axis = [], []
    for frame, velocity in zip(clip.frames, clip.label_velocity):
        encoded = encoder(frame, 1.0 / clip.fps)
        if encoded is None:
            continue
        images.append(letterbox(encoded.aligned_bgr))
        along_axis.append(float(velocity @ encoded.axis))
    return np.stack(images), frame_labels(np.array(along_axis))


def _encoded_clip(seed_and_index: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return encode_clip(clip_number(*seed_and_index))


def _one_thread_each() -> None:
    cv2.setNumThreads(1)  # the workers already fill the cores


def build_dataset(config: TrainConfig, log=print) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images, labels, and the clip index of each frame (for a split that never cuts a clip).
    The same for any number of workers: each clip has its own seed."""
    images, labels, clip_ids = [], [], []
    started = time.time()
    jobs = [(config.seed, index) for index in range(config.clips)]
    workers = max(1, min(os.cpu_count() or 1, config.clips))
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_one_thread_each) as pool:
        rendered = pool.imap(_encoded_clip, jobs, chunksize=4)
        for index, (x, y) in enumerate(tqdm(rendered, "rendering", config.clips, unit="clip", disable=_quiet())):
            images.append(x)
            labels.append(y)
            clip_ids.append(np.full(len(y), index))
    log(f"rendered {config.clips} clips ({time.time() - started:.0f} s)")
    return np.concatenate(images), np.concatenate(labels), np.concatenate(clip_ids)


def _quiet() -> bool:
    """Progress bars only where a person watches (a terminal), not in logs or tests."""
    return not sys.stderr.isatty()


def confusion_matrix(model: FlowNet, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    matrix = np.zeros((3, 3), np.int64)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(images), 1024):
            predicted = model(to_tensor(images[start : start + 1024])).argmax(1).numpy()
            np.add.at(matrix, (labels[start : start + 1024], predicted), 1)
    return matrix


def accuracy(matrix: np.ndarray) -> float:
    return float(np.trace(matrix) / max(1, matrix.sum()))


def train(config: TrainConfig, out: Path = DEFAULT_WEIGHTS, log=print) -> dict[str, object]:
    torch.manual_seed(config.seed)
    started = time.time()
    log(f"rendering {config.clips} synthetic clips (seed {config.seed})")
    images, labels, clip_ids = build_dataset(config, log)
    held_out_clips = np.random.default_rng(config.seed).permutation(config.clips)[
        : max(1, int(config.clips * config.held_out_share))
    ]
    held_out = np.isin(clip_ids, held_out_clips)
    train_x, train_y = images[~held_out], labels[~held_out]
    test_x, test_y = images[held_out], labels[held_out]
    log(
        f"{len(train_y)} training frames, {len(test_y)} held-out frames; "
        f"class shares {np.bincount(labels, minlength=3) / len(labels)}"
    )

    model = FlowNet()
    counts = np.bincount(train_y, minlength=3).astype(np.float32)
    class_weights = torch.tensor(counts.sum() / (3 * np.maximum(counts, 1)))
    loss_fn = nn.CrossEntropyLoss(weight=class_weights, label_smoothing=0.05)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    steps = config.epochs * int(np.ceil(len(train_y) / config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.learning_rate, total_steps=steps)
    order_rng = np.random.default_rng(config.seed + 1)
    epoch_losses = []
    for epoch in range(config.epochs):
        model.train()
        order = order_rng.permutation(len(train_y))
        total = 0.0
        batches = range(0, len(order), config.batch_size)
        for start in tqdm(batches, f"epoch {epoch + 1}/{config.epochs}", unit="batch", leave=False, disable=_quiet()):
            batch = order[start : start + config.batch_size]
            loss = loss_fn(model(to_tensor(train_x[batch])), torch.from_numpy(train_y[batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(batch)
        epoch_losses.append(total / len(order))
        matrix = confusion_matrix(model, test_x, test_y)
        log(
            f"epoch {epoch + 1}/{config.epochs}: loss {epoch_losses[-1]:.3f}, "
            f"held-out accuracy {accuracy(matrix):.3f} ({time.time() - started:.0f} s)"
        )

    matrix = confusion_matrix(model, test_x, test_y)
    metrics = {
        "config": config.__dict__,
        "classes": CLASSES,
        "train_frames": int(len(train_y)),
        "held_out_frames": int(len(test_y)),
        "epoch_losses": [round(loss, 4) for loss in epoch_losses],
        "held_out_accuracy": accuracy(matrix),
        "confusion_matrix_rows_true_cols_predicted": matrix.tolist(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(time.time() - started, 1),
    }
    save_weights(model, out, {"classes": list(CLASSES), "input_size": 64})
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB); held-out accuracy {metrics['held_out_accuracy']:.3f}")
    return metrics
