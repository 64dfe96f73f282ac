"""Fine-tuning: AdamW, linear warm-up/decay, gradient clipping, length-bucketed batches with
dynamic padding, dev evaluation each epoch, best epoch kept, atomic checkpoint.

Runs single-process on CPU, and unchanged under ``accelerate launch`` on several GPUs.
Progress goes to a callback that knows nothing of any UI; ``should_stop`` cancels cleanly.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from .align import IGNORE
from .config import TrainConfig
from .data import DataReport, Sentence, read_file, split_holdout
from .errors import TrainingCancelled, TrainingError
from .features import Feature, collate, length_batches, make_features
from .metrics import score
from .model import Tagger, build_tagger, save_tagger
from .predict import Predictor
from .schemes import split_tag


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


def label_list(train: Sequence[Sentence], dev: Sequence[Sentence] = ()) -> list[str]:
    """The label set: ``O`` then ``B-``/``I-`` for each entity type (both, even if the data
    only has single-word entities), or the sorted plain labels."""
    train_tags = {t for s in train for t in s.tags}
    plain = any(split_tag(t)[0] == "" for t in train_tags)
    types = sorted(train_tags) if plain else sorted({split_tag(t)[1] for t in train_tags if t != "O"})
    if not types or (plain and len(types) < 2):
        raise TrainingError("the training data has a single label ('O' everywhere?); a tagger needs at least two")
    dev_types = {t if plain else split_tag(t)[1] for s in dev for t in s.tags if t != "O"}
    unseen = sorted(dev_types - set(types))
    if unseen:
        raise TrainingError(f"the dev data has labels the training data lacks: {', '.join(unseen[:10])}")
    if plain:
        return (["O"] if "O" in types else []) + [t for t in types if t != "O"]
    return ["O"] + [f"{p}-{t}" for t in types for p in "BI"]


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
# mask per layer, kept for backward: one step of 32 windows of 256 sub-tokens peaks at 4.1 GB RSS
# with it and 2.2 GB without (MiniLM, both tagger.bert and transformers' BERT), and the small
# SEC job runs 99 s vs 72 s. Hence TrainConfig.attention_dropout=0.0 by default; None keeps
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


def train(
    config: TrainConfig,
    train_data: Sequence[Sentence],
    dev_data: Sequence[Sentence],
    out_dir: str | Path,
    callback: Callback | None = None,
    should_stop: Callable[[], bool] | None = None,
    report: DataReport | None = None,
    progress: bool = False,
) -> TrainResult:
    """Fine-tune ``config.base`` on ``train_data``, keep the epoch with the best dev F1,
    save it atomically to ``out_dir``. Raises TrainingCancelled / TrainingError."""
    t0 = time.perf_counter()
    emit = callback or (lambda event: None)
    stop = should_stop or (lambda: False)

    def check_stop() -> None:
        if stop():
            raise TrainingCancelled("training cancelled; no model was written")

    if config.threads:
        torch.set_num_threads(config.threads)
    _seed_all(config.seed)
    accelerator = Accelerator(cpu=config.device == "cpu")
    labels = label_list(train_data, dev_data)
    label2id = {label: i for i, label in enumerate(labels)}
    tagger = build_tagger(config, labels)
    check_stop()
    feats = make_features(
        tagger.tokenizer,
        [s.words for s in train_data],
        config.max_length,
        label_ids=[[label2id[t] for t in s.tags] for s in train_data],
        overlap=False,
    )
    check_stop()
    pad_id = tagger.tokenizer.pad_token_id or 0
    sampler = _BucketSampler([len(f.input_ids) for f in feats], config.batch_size, config.seed)
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
    # fused AdamW: one kernel over all parameters; ~4x faster steps on CPU than the default
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
            loss_sum += loss.item()
            loss_n += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", epoch=epoch + 1)
            emit(TrainEvent("step", step, total, epoch + loss_n / steps_per_epoch, loss_sum / loss_n, elapsed=time.perf_counter() - t0))
        train_seconds += time.perf_counter() - t_epoch
        check_stop()
        model.eval()
        try:
            dev = evaluate_tagger(Tagger(raw, tagger.tokenizer, config), dev_data)
        except torch.OutOfMemoryError:
            raise TrainingError("out of memory scoring the dev data; lower the max length") from None
        history.append({"epoch": epoch + 1, "loss": loss_sum / max(loss_n, 1), "dev_f1": dev["f1"]})
        if dev["f1"] > best_f1:
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
        "train_sentences": len(train_data),
        "dev_sentences": len(dev_data),
    }
    emit(TrainEvent("saving", step, total, float(config.epochs), elapsed=seconds, dev=best_dev))
    out = Path(out_dir)
    if accelerator.is_main_process:
        save_tagger(Tagger(raw.cpu(), tagger.tokenizer, config, meta), out)
    accelerator.wait_for_everyone()
    emit(TrainEvent("done", step, total, float(config.epochs), dev=best_dev, elapsed=time.perf_counter() - t0))
    return TrainResult(out, best_dev, best_epoch, seconds, train_seconds, speed, history)


class _FeatureList(torch.utils.data.Dataset):
    def __init__(self, feats: list[Feature]) -> None:
        self.feats = feats

    def __len__(self) -> int:
        return len(self.feats)

    def __getitem__(self, i: int) -> Feature:
        return self.feats[i]


def evaluate_tagger(tagger: Tagger, sentences: Sequence[Sentence], batch_size: int = 64) -> dict[str, Any]:
    """Scores of ``tagger`` on gold sentences (see :func:`tagger.metrics.score`)."""
    pred = Predictor(tagger, batch_size=batch_size).tag_words([s.words for s in sentences])
    return score([s.tags for s in sentences], [[label for label, _ in p] for p in pred])


def train_files(
    config: TrainConfig,
    train_path: str | Path,
    dev_path: str | Path | None,
    out_dir: str | Path,
    **kwargs: Any,
) -> TrainResult:
    """Read the files (holding out ``config.dev_fraction`` when there is no dev file) and train."""
    train_set = read_file(train_path, config.label_column)
    sentences = train_set.sentences
    if dev_path:
        dev = read_file(dev_path, config.label_column).sentences
    else:
        sentences, dev = split_holdout(sentences, config.dev_fraction, config.seed)
    return train(config, sentences, dev, out_dir, report=train_set.report, **kwargs)
