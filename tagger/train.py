"""Fine-tuning: AdamW, linear warm-up/decay, gradient clipping, length-bucketed batches with
dynamic padding, dev evaluation each epoch, best epoch kept, atomic checkpoint.

Runs single-process on CPU, and unchanged under ``accelerate launch`` on several GPUs.
Progress goes to a callback that knows nothing of any UI; ``should_stop`` cancels cleanly.
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from .align import IGNORE
from .augment import MODES, apply_casing, casing_modes, drop_context
from .config import TrainConfig
from .data import DataReport, Sentence
from .device import make_accelerator
from .errors import TrainingCancelled, TrainingError
from .features import Feature, collate, length_batches, make_features
from .meta import DEV_DATA_FILE
from .metrics import score
from .model import Tagger, build_tagger, save_tagger
from .predict import Predictor
from .preflight import label_list, read_training_data


@dataclass(frozen=True)
class TrainEvent:
    kind: str  # "start" | "step" | "epoch" | "saving" | "done"
    step: int
    total_steps: int
    epoch: float  # fractional during an epoch
    loss: float | None = None  # running mean of the epoch so far
    dev: dict[str, Any] | None = None  # scores after an epoch
    elapsed: float = 0.0
    message: str = ""
    step_loss: float | None = None  # this step's own loss (``loss`` is the epoch's running mean)


@dataclass
class TrainResult:
    out_dir: Path
    dev: dict[str, Any]
    best_epoch: int
    seconds: float  # wall time of the whole run
    train_seconds: float  # optimisation steps only (no evaluation, no saving)
    sentences_per_second: float
    history: list[dict[str, Any]] = field(default_factory=list)


Callback = Callable[[TrainEvent], None]


class _BucketSampler:
    """Length-bucketed batches, reshuffled per epoch (``set_epoch``) from a fixed seed."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int) -> None:
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        return iter(length_batches(self.lengths, self.batch_size, seed=self.seed + self.epoch))

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


# Dropout on the attention probabilities (BERT's 0.1) materialises a random [batch, heads, T, T]
# mask per layer, kept for backward: on long windows that dominates peak memory and slows each
# step (docs/BENCHMARKS.md). Hence TrainConfig.attention_dropout=0.0 by default; None keeps
# the base's own value (bench/bench_small_job.py, bench/bench_train.py compare both).


def _set_attention_dropout(model: torch.nn.Module, p: float) -> None:
    """Set the dropout applied to attention probabilities (BERT-style ``*SelfAttention.dropout``)."""
    for module in model.modules():
        drop = getattr(module, "dropout", None)
        if type(module).__name__.endswith("SelfAttention") and isinstance(drop, torch.nn.Dropout):
            drop.p = p


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _own_threads(fn: Callable[..., TrainResult]) -> Callable[..., TrainResult]:
    """``config.threads`` (the first argument) holds for the call only; the caller's torch thread count comes back after."""

    @functools.wraps(fn)
    def run(config: TrainConfig, *args: Any, **kwargs: Any) -> TrainResult:
        before = torch.get_num_threads()
        if config.threads:
            torch.set_num_threads(config.threads)
        try:
            return fn(config, *args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return run


@_own_threads
def train(
    config: TrainConfig,
    train_data: Sequence[Sentence],
    dev_data: Sequence[Sentence],
    out_dir: str | Path,
    callback: Callback | None = None,
    should_stop: Callable[[], bool] | None = None,
    report: DataReport | None = None,
    progress: bool = False,
    extra_meta: dict[str, Any] | None = None,
) -> TrainResult:
    """Fine-tune ``config.base`` on ``train_data``, keep the epoch with the best dev F1 (or the
    last, ``config.keep``), save it atomically to ``out_dir``. Raises TrainingCancelled / TrainingError.
    ``extra_meta`` goes into the checkpoint's ``tagger.json`` as is (the app's run record).
    ``config.threads`` holds for this run only (``_own_threads``)."""
    t0 = time.perf_counter()
    emit = callback or (lambda event: None)
    stop = should_stop or (lambda: False)

    def check_stop() -> None:
        if stop():
            raise TrainingCancelled("training cancelled; no model was written")

    _seed_all(config.seed)
    accelerator, device, precision = make_accelerator(config.device, config.precision)
    labels = label_list(train_data, dev_data)
    label2id = {label: i for i, label in enumerate(labels)}
    tagger = build_tagger(config, labels)
    check_stop()
    feats, augmented = training_features(tagger, config, train_data, label2id)
    check_stop()
    pad_id = tagger.tokenizer.pad_token_id or 0
    # with document context a window owns several sentences: keep `batch_size` sentences per step
    per_step = max(1, round(config.batch_size * len(feats) / max(len(train_data), 1))) if config.context else config.batch_size
    sampler = _BucketSampler([len(f.input_ids) for f in feats], per_step, config.seed)
    loader = DataLoader(_FeatureList(feats), batch_sampler=sampler, collate_fn=lambda b: collate(b, pad_id))
    model = tagger.model
    if config.attention_dropout is not None:
        _set_attention_dropout(model, config.attention_dropout)
    head = {id(p) for p in model.head_parameters()}
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in model.named_parameters() if id(p) not in head and not n.endswith(no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if id(p) not in head and n.endswith(no_decay)], "weight_decay": 0.0},
        {"params": model.head_parameters(), "weight_decay": 0.0, "lr": config.head_lr},
    ]
    # fused AdamW: one kernel over all parameters instead of one per tensor
    optimizer = torch.optim.AdamW(groups, lr=config.lr, fused=True)
    steps_per_epoch = len(sampler)
    total = steps_per_epoch * config.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_ratio), total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    steps_per_epoch = len(loader)  # per process under `accelerate launch`
    total = steps_per_epoch * config.epochs
    emit(TrainEvent("start", 0, total, 0.0, elapsed=time.perf_counter() - t0, message=f"{len(feats)} windows"))

    bar = tqdm(total=total, desc="train", unit="step", disable=not (progress and accelerator.is_main_process))
    best_f1, best_epoch, best_state = -1.0, 0, None
    history: list[dict[str, Any]] = []
    train_seconds, step = 0.0, 0
    raw = accelerator.unwrap_model(model)
    for epoch in range(config.epochs):
        sampler.set_epoch(epoch)
        model.train()
        loss_sum, loss_n = 0.0, 0
        t_epoch = time.perf_counter()
        for batch in loader:
            check_stop()
            try:
                mask = batch["labels"] != IGNORE
                logits = model(batch["input_ids"], batch["attention_mask"], batch["case_ids"], positions=mask)
                loss = torch.nn.functional.cross_entropy(logits, batch["labels"][mask])
                if not torch.isfinite(loss):
                    raise TrainingError(f"the loss became {loss.item()} at step {step + 1}; try a lower learning rate")
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            except torch.OutOfMemoryError:
                raise TrainingError("out of memory; lower the batch size or the max length") from None
            step += 1
            step_loss = loss.item()
            loss_sum += step_loss
            loss_n += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", epoch=epoch + 1)
            emit(TrainEvent("step", step, total, epoch + loss_n / steps_per_epoch, loss_sum / loss_n, elapsed=time.perf_counter() - t0,
                           step_loss=step_loss))
        train_seconds += time.perf_counter() - t_epoch
        check_stop()
        model.eval()
        try:
            dev = evaluate_tagger(Tagger(raw, tagger.tokenizer, config), dev_data)
        except torch.OutOfMemoryError:
            raise TrainingError("out of memory scoring the dev data; lower the max length") from None
        history.append({"epoch": epoch + 1, "loss": loss_sum / max(loss_n, 1), "dev_f1": dev["f1"], "dev_precision": dev.get("precision"),
                        "dev_recall": dev.get("recall"), "seconds": round(time.perf_counter() - t0, 1)})
        if (dev["f1"] > best_f1) if config.keep == "best" else epoch + 1 == config.epochs:
            best_f1, best_epoch = dev["f1"], epoch + 1
            best_state = {k: v.detach().clone() for k, v in raw.state_dict().items()}
            best_dev = dev
        emit(TrainEvent("epoch", step, total, float(epoch + 1), loss_sum / max(loss_n, 1), dev, time.perf_counter() - t0))
    bar.close()
    check_stop()
    assert best_state is not None
    raw.load_state_dict(best_state)
    seconds = time.perf_counter() - t0
    speed = len(train_data) * config.epochs / max(train_seconds, 1e-9)
    meta = {
        "data_report": report.to_dict() if report else None,
        "dev": best_dev,
        "best_epoch": best_epoch,
        "history": history,
        "train_seconds": round(seconds, 1),
        "train_loop_seconds": round(train_seconds, 1),  # optimisation steps only
        "device": device,
        "precision": precision,
        "train_sentences": len(train_data),
        "casing_augmentation": augmented,  # training sentences per casing mode (tagger.augment)
        "dev_sentences": len(dev_data),
        "dev_data": DEV_DATA_FILE,  # the dev sentences themselves, saved with the model: evaluate the run later
    }
    meta.update(extra_meta or {})
    emit(TrainEvent("saving", step, total, float(config.epochs), elapsed=seconds, dev=best_dev))
    out = Path(out_dir)
    if accelerator.is_main_process:
        save_tagger(Tagger(raw.cpu(), tagger.tokenizer, config, meta), out, files={DEV_DATA_FILE: _jsonl(dev_data)})
    accelerator.wait_for_everyone()
    emit(TrainEvent("done", step, total, float(config.epochs), dev=best_dev, elapsed=time.perf_counter() - t0))
    return TrainResult(out, best_dev, best_epoch, seconds, train_seconds, speed, history)


def _jsonl(sentences: Sequence[Sentence]) -> str:
    """Sentences as JSONL ``{"tokens": [...], "tags": [...]}`` (IOB2), which :func:`tagger.data.read_file` reads back."""
    return "".join(json.dumps({"tokens": s.words, "tags": s.tags}, ensure_ascii=False) + "\n" for s in sentences)


class _FeatureList(torch.utils.data.Dataset):
    def __init__(self, feats: list[Feature]) -> None:
        self.feats = feats

    def __len__(self) -> int:
        return len(self.feats)

    def __getitem__(self, i: int) -> Feature:
        return self.feats[i]


def training_features(
    tagger: Tagger, config: TrainConfig, train_data: Sequence[Sentence], label2id: dict[str, int]
) -> tuple[list[Feature], dict[str, int]]:
    """Training windows, with the casing augmentation of ``config`` (seeded; training only) and
    its document context. Returns the windows and how many sentences each casing mode got."""
    units = [s.doc for s in train_data] if config.context else list(range(len(train_data)))
    modes = casing_modes(units, config.case_lower, config.case_upper, config.case_unknown, config.seed)
    feats = make_features(
        tagger.tokenizer,
        [apply_casing(s.words, m) for s, m in zip(train_data, modes)],
        config.max_length,
        label_ids=[[label2id[t] for t in s.tags] for s in train_data],
        overlap=False,
        docs=drop_context([s.doc for s in train_data], config.context_dropout, config.seed + 1) if config.context else None,
        context=config.context,
        hide_case=[m == "unknown" for m in modes],
    )
    return feats, {m: modes.count(m) for m in MODES}


def evaluate_tagger(tagger: Tagger, sentences: Sequence[Sentence], batch_size: int = 64) -> dict[str, Any]:
    """Scores of ``tagger`` on gold sentences (see :func:`tagger.metrics.score`), each read
    within its document (``Sentence.doc``) when the tagger was trained with document context."""
    pred = Predictor(tagger, batch_size=batch_size).tag_words([s.words for s in sentences], [s.doc for s in sentences])
    return score([s.tags for s in sentences], [[label for label, _ in p] for p in pred])


def train_files(
    config: TrainConfig,
    train_path: str | Path | Sequence[str | Path],
    dev_path: str | Path | Sequence[str | Path] | None,
    out_dir: str | Path,
    **kwargs: Any,
) -> TrainResult:
    """Read the files (see :func:`tagger.preflight.read_training_data`: any format, several
    paths or a zip as one data set, ``config.dev_fraction`` held out without a dev file) and train."""
    data = read_training_data(config, train_path, dev_path)
    return train(config, data.train, data.dev, out_dir, report=data.report, **kwargs)
