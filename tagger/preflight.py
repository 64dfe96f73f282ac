"""Checks before training, in one place for the CLI and the UI, without torch: the data reads,
it has at least two labels, a dev set exists or can be held out, the dev labels are a subset
of the training labels, the base model resolves, and ``max_length`` fits the base. With
``init_from``: the folder is a tagger checkpoint, its labels and the data's are of one kind, and
the run's settings are its (:meth:`TrainConfig.inherit`).

:func:`preflight` reads and splits the data with :func:`read_training_data`, as
:func:`tagger.train.train_files` does, so a run that passes it fails later only for reasons that
need the model (memory, NaN loss).
Every failure is a :class:`~tagger.errors.TaggerError` whose message names the file or setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .continual import grow_labels
from .data import DataReport, Sentence, count, read_files, split_holdout
from .errors import ConfigError, ModelError, TrainingError
from .meta import META_FILE, is_model_folder, max_positions, read_meta, resolve_base
from .schemes import split_tag


def label_list(train: Sequence[Sentence], dev: Sequence[Sentence] = ()) -> list[str]:
    """The label set: ``O`` then ``B-``/``I-`` for each entity type (both, even if the data
    only has single-word entities), or the sorted plain labels.

    >>> from tagger.data import Sentence
    >>> label_list([Sentence(["Paris"], ["B-LOC"]), Sentence(["is"], ["O"])])
    ['O', 'B-LOC', 'I-LOC']
    """
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


Paths = str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class TrainingData:
    """The sentences a run trains and scores on: ``dev`` is held out of ``train`` (fixed seed)
    when no dev file is given (``dev_report`` is then None)."""

    train: list[Sentence]
    dev: list[Sentence]
    report: DataReport
    dev_report: DataReport | None


def read_training_data(config: TrainConfig, train_path: Paths, dev_path: Paths | None) -> TrainingData:
    """Read the files (each a path, several paths or a zip: any format, read as one data set with
    ``config.read_options()``), holding out ``config.dev_fraction`` when there is no dev file."""

    def paths(p: Paths) -> list[str | Path]:
        return [p] if isinstance(p, str | Path) else list(p)

    train_set = read_files(paths(train_path), **config.read_options())
    if dev_path:
        dev_set = read_files(paths(dev_path), **config.read_options())
        return TrainingData(list(train_set.sentences), list(dev_set.sentences), train_set.report, dev_set.report)
    train, dev = split_holdout(train_set.sentences, config.dev_fraction, config.seed)
    return TrainingData(train, dev, train_set.report, None)


@dataclass(frozen=True)
class Preflight:
    """A checked run: its config, the data as training will see it, the label set, the base."""

    config: TrainConfig
    data: TrainingData
    labels: list[str]
    base_path: str  # a local folder or a hub id
    max_positions: int | None  # None when the base does not say (hub id)
    new_labels: list[str] = field(default_factory=list)  # with init_from: the labels the data adds to the model's
    ignored: list[str] = field(default_factory=list)  # with init_from: settings the model's own replace

    @property
    def summary(self) -> str:
        """One line for a log: sizes, labels, base (or the tagger continued, what it gains, what it overrides).

        >>> data = TrainingData([Sentence(["a"], ["O"])] * 9, [Sentence(["b"], ["O"])], report=None, dev_report=None)
        >>> Preflight(TrainConfig(), data, ["O", "B-X", "I-X"], "bert-base-cased", None).summary
        '9 training sentences, 1 dev sentence (held out), 3 labels; base bert-base-cased'
        >>> print(Preflight(TrainConfig(init_from="models/default"), data, ["O", "B-X", "I-X", "B-Y", "I-Y"], "models/default",
        ...                 None, ["B-Y", "I-Y"], ["head"]).summary)  # doctest: +NORMALIZE_WHITESPACE
        9 training sentences, 1 dev sentence (held out), 5 labels; continuing models/default (its encoder, head and labels,
        + B-Y, I-Y); the head setting is ignored (the model's own is kept)
        """
        dev = "held out" if self.data.dev_report is None else "dev file"
        sizes = f"{count(len(self.data.train), 'training sentence')}, {count(len(self.data.dev), 'dev sentence')} ({dev}), "
        if not self.config.init_from:
            return f"{sizes}{len(self.labels)} labels; base {self.base_path}"
        gained = f", + {', '.join(self.new_labels)}" if self.new_labels else ", no new label"
        text = f"{sizes}{len(self.labels)} labels; continuing {self.config.init_from} (its encoder, head and labels{gained})"
        if self.ignored:
            what = "setting is ignored (the model's own is kept)" if len(self.ignored) == 1 else "settings are ignored (the model's own are kept)"
            text += f"; the {'/'.join(self.ignored)} {what}"
        return text


def check_base(config: TrainConfig, labels: Sequence[str] | None = None) -> tuple[str, int | None]:
    """Resolve ``config.base`` and check ``max_length`` against its positions; a base that is
    one of our checkpoints must have ``labels`` and ``config.head``. Returns (path, positions)."""
    base = resolve_base(config.base)
    path = Path(base).expanduser()
    if path.exists() and not is_model_folder(path):
        raise ModelError(f"{config.base}: not a model folder (no config.json)")
    if not path.exists() and (path.is_absolute() or config.base.startswith((".", "~"))):
        raise ModelError(f"{config.base}: no such model folder")
    limit = max_positions(path) if path.exists() else None
    if limit is not None and config.max_length > limit:
        raise ConfigError(f"Max length {config.max_length} is more than the base model's limit of {limit} positions")
    if labels is not None and (path / META_FILE).is_file():
        meta = read_meta(path)
        if list(meta.get("labels") or []) != list(labels):
            raise ModelError(
                f"{config.base}: its labels ({', '.join(meta.get('labels') or [])}) differ from the data's "
                f"({', '.join(labels)}); start from a base encoder instead, or continue it with init_from (--init-from), "
                "which grows its labels"
            )
        head = (meta.get("config") or {}).get("head")
        if head and head != config.head:
            raise ModelError(f"{config.base}: has a {head!r} head, the settings ask for {config.head!r}")
    return base, limit


def check_init_from(path: str) -> dict[str, Any]:
    """The ``tagger.json`` of the tagger a run continues (``TrainConfig.init_from``); a
    :class:`ModelError` naming the path when it is no folder, or not a tagger checkpoint."""
    folder = Path(resolve_base(path)).expanduser()
    if not folder.is_dir():
        raise ModelError(f"init_from {path}: no such model folder")
    if not is_model_folder(folder) or not (folder / META_FILE).is_file():
        raise ModelError(f"init_from {path}: not a tagger checkpoint (it needs config.json and {META_FILE}, as a trained "
                         "tagger has); to fine-tune a bare encoder, pass it as the base instead")
    meta = read_meta(folder)
    if not meta.get("labels") or not isinstance(meta.get("config"), dict):
        raise ModelError(f"init_from {path}: its {META_FILE} lacks the labels or the config of the tagger")
    return meta


def continued_labels(config: TrainConfig, meta: dict[str, Any], train: Sequence[Sentence], dev: Sequence[Sentence]) -> list[str]:
    """The label map of a run continuing the tagger of ``meta``: its labels, then the data's new ones."""
    return grow_labels(list(meta["labels"]), label_list(train, dev), config.init_from)


def preflight(config: TrainConfig, train_path: Paths, dev_path: Paths | None = None) -> Preflight:
    """Run every check a training run with these arguments needs before loading a model. With
    ``config.init_from`` the returned config is the continued model's (:meth:`TrainConfig.inherit`)."""
    if config.init_from:
        meta = check_init_from(config.init_from)
        ignored, config = config.ignored_by_inherit(meta["config"]), config.inherit(meta["config"])
    data = read_training_data(config, train_path, dev_path)
    if not config.init_from:
        labels = label_list(data.train, data.dev)
        base, limit = check_base(config, labels)
        return Preflight(config, data, labels, base, limit)
    labels = continued_labels(config, meta, data.train, data.dev)
    folder = resolve_base(config.init_from)
    return Preflight(config, data, labels, folder, max_positions(folder), labels[len(meta["labels"]):], ignored)
