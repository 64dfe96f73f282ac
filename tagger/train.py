"""Fine-tuning: AdamW, linear warm-up/decay, gradient clipping, length-bucketed batches with
dynamic padding, dev evaluation each epoch, best epoch kept, atomic checkpoint.

A run starts from a base encoder with a fresh head, or (``TrainConfig.init_from``) continues a
trained tagger with its label map grown by the data's new labels (:mod:`tagger.continual`); the
old model is then scored on the dev data first, so that the run reports F1 before -> after.

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
from .continual import entity_types, is_plain, keep_old_predictions, only_types
from .data import DataReport, Sentence
from .device import make_accelerator
from .errors import TrainingCancelled, TrainingError
from .features import Feature, collate, length_batches, make_features
from .meta import DEV_DATA_FILE
from .metrics import score
from .model import Tagger, build_tagger, grow_head, load_tagger, save_tagger
from .predict import Predictor
from .preflight import check_init_from, continued_labels, label_list, read_training_data


@dataclass(frozen=True)
class TrainEvent:
    kind: str  # "start" | "before" | "step" | "epoch" | "saving" | "done"
    step: int
    total_steps: int
    epoch: float  # fractional during an epoch
    loss: float | None = None  # running mean of the epoch so far
    dev: dict[str, Any] | None = None  # scores after an epoch ("before": the old model's, before training)
    elapsed: float = 0.0
    message: str = ""
    step_loss: float | None = None  # this step's own loss (``loss`` is the epoch's running mean)
    before: dict[str, Any] | None = None  # with init_from: the old model's dev scores ("before", "saving", "done")


@dataclass
class TrainResult:
    out_dir: Path
    dev: dict[str, Any]
    best_epoch: int
    seconds: float  # wall time of the whole run
    loop_seconds: float  # optimisation steps only (no evaluation, no saving)
    sentences_per_second: float
    history: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, Any] | None = None  # with init_from: the old model's scores on the same dev data


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


@dataclass
class _Run:
    """What every part of a run reports to: its clock, the callback, the cancel check."""

    t0: float
    emit: Callback
    should_stop: Callable[[], bool]

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def check_stop(self) -> None:
        if self.should_stop():
            raise TrainingCancelled("training cancelled; no model was written")


@dataclass
class _Start:
    """The model a run starts from, and what it trains and is scored on."""

    tagger: Tagger
    targets: list[Sentence]  # the training sentences as trained (init_from: with the old model's tags kept, tagger.continual)
    types: set[str] | None = None  # init_from: dev scores count these types only (the data's); None: all
    before: dict[str, Any] | None = None  # init_from: the old model's dev scores
    continued: dict[str, Any] | None = None  # init_from: what the checkpoint records of it

    @property
    def config(self) -> TrainConfig:
        return self.tagger.config


def _fresh(config: TrainConfig, train_data: Sequence[Sentence], dev_data: Sequence[Sentence]) -> _Start:
    return _Start(build_tagger(config, label_list(train_data, dev_data)), list(train_data))


def _continued(config: TrainConfig, train_data: Sequence[Sentence], dev_data: Sequence[Sentence], device: str, run: _Run) -> _Start:
    """Continue the tagger at ``config.init_from``: score it on the dev data as it is (labels it
    lacks count as missed), take its tags of the types the data never annotates as training
    targets where the data says O (``config.keep_old_types``), then grow its head."""
    meta = check_init_from(config.init_from)
    config = config.inherit(meta["config"])
    labels = continued_labels(config, meta, train_data, dev_data)
    loaded = load_tagger(config.init_from, device=device)
    old = Tagger(loaded.model, loaded.tokenizer, config, {})
    plain = is_plain(labels)
    types = None if plain else entity_types(t for s in (*train_data, *dev_data) for t in s.tags)
    before = evaluate_tagger(old, dev_data, types=types)
    run.check_stop()
    targets, kept = list(train_data), 0
    if config.keep_old_types and not plain and types is not None:
        predicted = _tags(old, train_data)
        targets = [Sentence(s.words, keep_old_predictions(s.tags, p, types), s.line, s.doc) for s, p in zip(train_data, predicted)]
        kept = sum(a != b for s, t in zip(train_data, targets) for a, b in zip(s.tags, t.tags))
    run.check_stop()
    old.model.fresh_head = False  # trained: only the rows grow_head adds are new (tagger.model.TaggerModel.head_parameters)
    added = grow_head(old.model, labels)
    continued = {"model": config.init_from, "labels": list(meta["labels"]), "added": added,
                 "scored_types": sorted(types) if types is not None else None, "old_tags_kept": kept}
    return _Start(old, targets, types, before, continued)


def _tags(tagger: Tagger, sentences: Sequence[Sentence], batch_size: int = 64) -> list[list[str]]:
    """The tags ``tagger`` predicts for gold sentences (read within their documents, as trained)."""
    pred = Predictor(tagger, batch_size=batch_size).tag_words([s.words for s in sentences], [s.doc for s in sentences])
    return [[label for label, _ in p] for p in pred]


@dataclass
class _Setup:
    """The prepared training objects (wrapped by ``accelerate``), and the step counts."""

    accelerator: Any
    model: torch.nn.Module  # as prepared (DDP-wrapped under several processes)
    raw: Any  # the TaggerModel itself
    optimizer: torch.optim.Optimizer
    scheduler: Any
    loader: DataLoader
    sampler: _BucketSampler
    steps_per_epoch: int
    total: int
    augmented: dict[str, int]  # training sentences per casing mode


def _setup(start: _Start, accelerator: Any, run: _Run) -> _Setup:
    """Training windows, the length-bucketed loader, AdamW with warm-up/decay, all through ``accelerate``."""
    config, tagger = start.config, start.tagger
    label2id = {label: i for i, label in enumerate(tagger.labels)}
    run.check_stop()
    feats, augmented = training_features(tagger, config, start.targets, label2id)
    run.check_stop()
    pad_id = tagger.tokenizer.pad_token_id or 0
    # with document context a window owns several sentences: keep `batch_size` sentences per step
    n = len(start.targets)
    per_step = max(1, round(config.batch_size * len(feats) / max(n, 1))) if config.context else config.batch_size
    sampler = _BucketSampler([len(f.input_ids) for f in feats], per_step, config.seed)
    loader = DataLoader(_FeatureList(feats), batch_sampler=sampler, collate_fn=lambda b: collate(b, pad_id))
    model = tagger.model
    if config.attention_dropout is not None:
        _set_attention_dropout(model, config.attention_dropout)
    # fused AdamW: one kernel over all parameters instead of one per tensor
    optimizer = torch.optim.AdamW(_param_groups(model, config), lr=config.lr, fused=True)
    total = len(sampler) * config.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_ratio), total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    steps_per_epoch = len(loader)  # per process under `accelerate launch`
    setup = _Setup(accelerator, model, accelerator.unwrap_model(model), optimizer, scheduler, loader, sampler, steps_per_epoch,
                   steps_per_epoch * config.epochs, augmented)
    run.emit(TrainEvent("start", 0, setup.total, 0.0, elapsed=run.elapsed(), message=f"{len(feats)} windows"))
    return setup


def _param_groups(model: Any, config: TrainConfig) -> list[dict[str, Any]]:
    """Weight decay except on biases and LayerNorm; the head's fresh layers at ``head_lr``."""
    head = {id(p) for p in model.head_parameters()}
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    return [
        {"params": [p for n, p in model.named_parameters() if id(p) not in head and not n.endswith(no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if id(p) not in head and n.endswith(no_decay)], "weight_decay": 0.0},
        {"params": model.head_parameters(), "weight_decay": 0.0, "lr": config.head_lr},
    ]


def _epoch(s: _Setup, config: TrainConfig, epoch: int, step: int, run: _Run, bar: Any) -> tuple[float, int]:
    """One pass over the training windows; returns the epoch's mean loss and the step count so far."""
    s.sampler.set_epoch(epoch)
    s.model.train()
    loss_sum, loss_n = 0.0, 0
    for batch in s.loader:
        run.check_stop()
        try:
            mask = batch["labels"] != IGNORE
            logits = s.model(batch["input_ids"], batch["attention_mask"], batch["case_ids"], positions=mask)
            loss = torch.nn.functional.cross_entropy(logits, batch["labels"][mask])
            if not torch.isfinite(loss):
                raise TrainingError(f"the loss became {loss.item()} at step {step + 1}; try a lower learning rate")
            s.accelerator.backward(loss)
            s.accelerator.clip_grad_norm_(s.model.parameters(), config.grad_clip)
            s.optimizer.step()
            s.scheduler.step()
            s.optimizer.zero_grad(set_to_none=True)
        except torch.OutOfMemoryError:
            raise TrainingError("out of memory; lower the batch size or the max length") from None
        step += 1
        step_loss = loss.item()
        loss_sum += step_loss
        loss_n += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", epoch=epoch + 1)
        run.emit(TrainEvent("step", step, s.total, epoch + loss_n / s.steps_per_epoch, loss_sum / loss_n, elapsed=run.elapsed(),
                            step_loss=step_loss))
    return loss_sum / max(loss_n, 1), step


@dataclass
class _Best:
    """The epoch kept so far (best dev F1, or the last with ``keep="last"``) and its weights."""

    f1: float = -1.0
    epoch: int = 0
    dev: dict[str, Any] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None

    def consider(self, epoch: int, dev: dict[str, Any], raw: torch.nn.Module, config: TrainConfig) -> None:
        if (dev["f1"] > self.f1) if config.keep == "best" else epoch == config.epochs:
            self.f1, self.epoch, self.dev = dev["f1"], epoch, dev
            self.state = {k: v.detach().clone() for k, v in raw.state_dict().items()}


def _score_epoch(start: _Start, s: _Setup, dev_data: Sequence[Sentence]) -> dict[str, Any]:
    s.model.eval()
    try:
        return evaluate_tagger(Tagger(s.raw, start.tagger.tokenizer, start.config), dev_data, types=start.types)
    except torch.OutOfMemoryError:
        raise TrainingError("out of memory scoring the dev data; lower the max length") from None


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
    """Fine-tune ``config.base`` on ``train_data`` (or continue the tagger at ``config.init_from``,
    its labels grown by the data's), keep the epoch with the best dev F1 (or the last,
    ``config.keep``), save it atomically to ``out_dir``. Raises TrainingCancelled / TrainingError.
    ``extra_meta`` goes into the checkpoint's ``tagger.json`` as is (the app's run record).
    ``config.threads`` holds for this run only (``_own_threads``)."""
    run = _Run(time.perf_counter(), callback or (lambda event: None), should_stop or (lambda: False))
    if not train_data:
        raise TrainingError("the training data is empty: no sentence to train on")
    _seed_all(config.seed)
    accelerator, device, precision = make_accelerator(config.device, config.precision)
    start = _continued(config, train_data, dev_data, device, run) if config.init_from else _fresh(config, train_data, dev_data)
    s = _setup(start, accelerator, run)
    if start.before is not None:
        run.emit(TrainEvent("before", 0, s.total, 0.0, dev=start.before, elapsed=run.elapsed(), before=start.before,
                            message="the model before training, on the dev data"))
    bar = tqdm(total=s.total, desc="train", unit="step", disable=not (progress and accelerator.is_main_process))
    best, history = _Best(), []
    loop_seconds, step = 0.0, 0
    for epoch in range(1, start.config.epochs + 1):
        t_epoch = time.perf_counter()
        loss, step = _epoch(s, start.config, epoch - 1, step, run, bar)
        loop_seconds += time.perf_counter() - t_epoch
        run.check_stop()
        dev = _score_epoch(start, s, dev_data)
        history.append({"epoch": epoch, "loss": loss, "dev_f1": dev["f1"], "dev_precision": dev.get("precision"),
                        "dev_recall": dev.get("recall"), "seconds": round(run.elapsed(), 1)})
        best.consider(epoch, dev, s.raw, start.config)
        run.emit(TrainEvent("epoch", step, s.total, float(epoch), loss, dev, run.elapsed()))
    bar.close()
    run.check_stop()
    assert best.state is not None
    s.raw.load_state_dict(best.state)
    timing = {"wall_seconds": run.elapsed(), "loop_seconds": loop_seconds, "device": device, "precision": precision}
    out = _save(start, s, best, history, timing, dev_data, out_dir, run, report, extra_meta)
    speed = len(train_data) * start.config.epochs / max(loop_seconds, 1e-9)
    return TrainResult(out, best.dev, best.epoch, timing["wall_seconds"], loop_seconds, speed, history, start.before)


def _save(start: _Start, s: _Setup, best: _Best, history: list[dict[str, Any]], timing: dict[str, Any], dev_data: Sequence[Sentence],
          out_dir: str | Path, run: _Run, report: DataReport | None, extra_meta: dict[str, Any] | None) -> Path:
    """Save the kept epoch's model with its metadata (atomically, on the main process only)."""
    meta = {
        "data_report": report.to_dict() if report else None,
        "dev": best.dev,
        "best_epoch": best.epoch,
        "history": history,
        "wall_seconds": round(timing["wall_seconds"], 1),  # the whole run
        "loop_seconds": round(timing["loop_seconds"], 1),  # optimisation steps only
        "device": timing["device"],
        "precision": timing["precision"],
        "train_sentences": len(start.targets),
        "casing_augmentation": s.augmented,  # training sentences per casing mode (tagger.augment)
        "dev_sentences": len(dev_data),
        "dev_data": DEV_DATA_FILE,  # the dev sentences themselves, saved with the model: evaluate the run later
    }
    if start.continued is not None:  # the model before this run, on the same dev data (types: continued["scored_types"])
        meta.update(before=start.before, continued=start.continued)
    meta.update(extra_meta or {})
    run.emit(TrainEvent("saving", s.total, s.total, float(start.config.epochs), elapsed=timing["wall_seconds"], dev=best.dev,
                        before=start.before))
    out = Path(out_dir)
    if s.accelerator.is_main_process:
        save_tagger(Tagger(s.raw.cpu(), start.tagger.tokenizer, start.config, meta), out, files={DEV_DATA_FILE: _jsonl(dev_data)})
    s.accelerator.wait_for_everyone()
    run.emit(TrainEvent("done", s.total, s.total, float(start.config.epochs), dev=best.dev, elapsed=run.elapsed(), before=start.before))
    return out


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


def evaluate_tagger(tagger: Tagger, sentences: Sequence[Sentence], batch_size: int = 64, types: set[str] | None = None) -> dict[str, Any]:
    """Scores of ``tagger`` on gold sentences (see :func:`tagger.metrics.score`), each read
    within its document (``Sentence.doc``) when the tagger was trained with document context.
    ``types``: count only entities of these types, gold and predicted (a continued tagger on data
    that annotates some types only, :func:`tagger.continual.only_types`)."""
    pred = _tags(tagger, sentences, batch_size)
    gold = [s.tags for s in sentences]
    if types is not None:
        gold, pred = [only_types(g, types) for g in gold], [only_types(p, types) for p in pred]
    return score(gold, pred)


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
