"""A checkpoint's ``tagger.json`` as one typed, versioned record, for every reader that does not
load weights (the app's runs, its model registry and job queue, model cards). No torch.

``tagger.json`` is written by :func:`tagger.model.save_tagger` (config, labels, head) with what
training adds (data report, scores, history, timings, device) and, for runs trained in the app,
a ``run`` record (display name, owner, date, file names). Files of every earlier version still
read: :meth:`ModelRecord.from_json` maps their keys, and keys it does not know are kept as they
are (``extra``), so a read-modify-write (a rename) never drops anything.

Versions: 1 (no ``record_version`` key): ``train_seconds`` was the whole run's wall time and
``train_loop_seconds`` the optimisation steps; 2: ``wall_seconds`` and ``loop_seconds`` say so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError
from .meta import read_meta

RECORD_VERSION = 2
# old key -> new key (version 1 files)
_RENAMED = {"train_seconds": "wall_seconds", "train_loop_seconds": "loop_seconds"}


def f1_of(scores: Any) -> float | None:
    """The F1 of a scores dict, in %, rounded to one decimal (None without one).

    >>> f1_of({"f1": 90.106}), f1_of(None), f1_of({"f1": "n/a"})
    (90.1, None, None)
    """
    if isinstance(scores, dict) and isinstance(scores.get("f1"), int | float) and not isinstance(scores.get("f1"), bool):
        return round(float(scores["f1"]), 1)
    return None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class RunInfo:
    """The app's record of a run it trained (``tagger.json["run"]``).

    >>> RunInfo.from_json({"id": "trained-1", "name": "ner v2", "owner": "t-1", "created": 5, "x": 1}).name
    'ner v2'
    >>> RunInfo.from_json({"id": "trained-1"}).display_name
    'trained-1'
    """

    id: str = ""
    name: str = ""
    owner: str | None = None
    created: float | None = None
    train_file: str | None = None
    dev_file: str | None = None
    init_from: str | None = None  # the model a correction run started from (its display name)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @classmethod
    def from_json(cls, value: Any) -> RunInfo | None:
        if not isinstance(value, dict):
            return None
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(
            id=_str(value.get("id")), name=_str(value.get("name")), owner=_str(value.get("owner")) or None,
            created=_num(value.get("created")), train_file=_str(value.get("train_file")) or None,
            dev_file=_str(value.get("dev_file")) or None, init_from=_str(value.get("init_from")) or None,
            extra={k: v for k, v in value.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        out = {**self.extra, "id": self.id, "name": self.name, "owner": self.owner, "created": self.created,
               "train_file": self.train_file, "dev_file": self.dev_file}
        if self.init_from:
            out["init_from"] = self.init_from
        return out


@dataclass(frozen=True)
class ModelRecord:
    """What ``tagger.json`` says of a model, typed. Build with :meth:`from_json` (any version).

    >>> r = ModelRecord.from_json({"labels": ["O", "B-PER", "I-PER"], "config": {"base": "packaged:x", "head": "casing"},
    ...                            "dev": {"f1": 91.26}, "train_seconds": 60.5, "run": {"id": "trained-1"}})
    >>> r.types, r.base, r.head, r.dev_f1, r.wall_seconds, r.run.id, r.version
    (['PER'], 'packaged:x', 'casing', 91.3, 60.5, 'trained-1', 1)
    >>> ModelRecord.from_json(r.to_json()) == r
    True
    """

    labels: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig.to_dict(), raw: an unknown field survives
    head: str = ""
    dev: dict[str, Any] | None = None  # scores on the dev data (see dev_in_training)
    test: dict[str, Any] | None = None
    test_file: str = ""
    before: dict[str, Any] | None = None  # a run that continued a model: that model's scores on the same dev data
    best_epoch: int | None = None
    history: tuple[dict[str, Any], ...] = ()
    wall_seconds: float | None = None  # the whole training run
    loop_seconds: float | None = None  # optimisation steps only
    device: str = "cpu"
    precision: str = "fp32"
    train_sentences: int | None = None
    dev_sentences: int | None = None
    data_report: dict[str, Any] | None = None
    dev_in_training: bool = False  # refit on train + dev: the dev scores are not a held-out measure
    domain: str = ""  # what the training text was, in words ("news (Reuters, CoNLL-2003)")
    run: RunInfo | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # every other key, kept as is
    version: int = field(default=RECORD_VERSION, compare=False)  # the version the file was written at

    # -- derived --------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return _str(self.config.get("base"))

    @property
    def language(self) -> str:
        return _str(self.config.get("language"), "en")

    @property
    def types(self) -> list[str]:
        """Entity types (plain tasks: the labels), in label order, ``O`` dropped."""
        from .schemes import split_tag

        return list(dict.fromkeys(split_tag(label)[1] for label in self.labels if label != "O"))

    @property
    def dev_f1(self) -> float | None:
        return f1_of(self.dev)

    @property
    def test_f1(self) -> float | None:
        return f1_of(self.test)

    @property
    def held_out_dev_f1(self) -> float | None:
        """The dev F1, or None when the model trained on its dev data (a refit)."""
        return None if self.dev_in_training else self.dev_f1

    @property
    def training_file(self) -> str:
        """The training data's name(s), as the data report gives them."""
        return _str((self.data_report or {}).get("file"))

    # -- JSON -------------------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ModelRecord:
        """A record from ``tagger.json``'s object, of any version (unknown keys kept in ``extra``)."""
        if not isinstance(value, dict):
            raise ModelError(f"tagger.json: expected a JSON object, got {type(value).__name__}")
        data = dict(value)
        version = _int(data.pop("record_version", None)) or 1
        for old, new in _RENAMED.items():
            if old in data and new not in data:
                data[new] = data.pop(old)
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "version"}
        config = _dict(data.get("config")) or {}
        return cls(
            labels=tuple(str(x) for x in data.get("labels") or ()),
            config=config,
            head=_str(data.get("head")) or _str(config.get("head")),
            dev=_dict(data.get("dev")), test=_dict(data.get("test")), test_file=_str(data.get("test_file")),
            before=_dict(data.get("before")),
            best_epoch=_int(data.get("best_epoch")),
            history=tuple(h for h in data.get("history") or () if isinstance(h, dict)),
            wall_seconds=_num(data.get("wall_seconds")), loop_seconds=_num(data.get("loop_seconds")),
            device=_str(data.get("device"), "cpu"), precision=_str(data.get("precision"), "fp32"),
            train_sentences=_int(data.get("train_sentences")), dev_sentences=_int(data.get("dev_sentences")),
            data_report=_dict(data.get("data_report")),
            dev_in_training=bool(data.get("dev_in_training", False)),
            domain=_str(data.get("domain")),
            run=RunInfo.from_json(data.get("run")),
            extra={k: v for k, v in data.items() if k not in known},
            version=version,
        )

    def to_json(self) -> dict[str, Any]:
        """``tagger.json``'s object at :data:`RECORD_VERSION` (empty optional fields left out)."""
        out: dict[str, Any] = dict(self.extra)
        out.update({"record_version": RECORD_VERSION, "labels": list(self.labels), "config": self.config, "head": self.head})
        optional = {
            "dev": self.dev, "test": self.test, "test_file": self.test_file or None, "before": self.before,
            "best_epoch": self.best_epoch, "history": list(self.history) or None, "wall_seconds": self.wall_seconds,
            "loop_seconds": self.loop_seconds, "train_sentences": self.train_sentences, "dev_sentences": self.dev_sentences,
            "data_report": self.data_report, "domain": self.domain or None,
            "run": self.run.to_json() if self.run is not None else None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out["device"], out["precision"] = self.device, self.precision
        if self.dev_in_training:
            out["dev_in_training"] = True
        return out

    def replace(self, **changes: Any) -> ModelRecord:
        return dataclasses.replace(self, **changes)


def read_record(folder: str | Path) -> ModelRecord:
    """The record of a model folder (``tagger.json``, or a stand-in from ``config.json`` for a plain
    Hugging Face token classifier). Raises :class:`~tagger.errors.ModelError` when neither reads."""
    return ModelRecord.from_json(read_meta(folder))
