"""The models a caller may tag with, by name: the shipped default, the app's runs (trained in
the app, on disk under the models folder, see :mod:`demo.service.runs`; with private runs only the
caller's own), and model folders found under ``--models-dir``.

Names are only ever looked up in this registry; a name is never joined to a filesystem path.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import ModelError, TaggerError
from tagger.meta import is_model_folder
from tagger.record import ModelRecord, read_record

from .owners import can_change
from .runs import Run, RunStore

DEFAULT_NAME = "default"


class UnknownModel(TaggerError, ValueError):
    """A model name that is not in the registry (the message lists the choices)."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    source: str  # "default" | "run" | "folder"
    run: Run | None = None


class ModelRegistry:
    """``owner`` in the methods below is the caller (:mod:`demo.service.owners`); None: an anonymous
    caller, who sees the runs only when runs are shared."""

    def __init__(self, default_model: Path | None, models_dirs: list[Path], runs: RunStore, cache_size: int = 3) -> None:
        self.default_model = default_model
        self.models_dirs = list(models_dirs)
        self.runs = runs
        self.cache_size = cache_size
        self._predictors: OrderedDict[Path, Any] = OrderedDict()
        self._lock = threading.RLock()

    @property
    def app_models_dir(self) -> Path:
        return self.runs.root

    # -- listing and lookup ------------------------------------------------------------------
    def entries(self, owner: str | None = None) -> dict[str, ModelEntry]:
        """Name -> entry: the default, the caller's visible runs (newest first), then the
        ``--models-dir`` folders (rescanned: a directory listing)."""
        out: dict[str, ModelEntry] = {}
        if self.default_model is not None and is_model_folder(self.default_model):
            out[DEFAULT_NAME] = ModelEntry(DEFAULT_NAME, self.default_model, "default")
        for run in self.runs.visible(owner):
            name = run.name if run.name not in out else run.id
            if name not in out:
                out[name] = ModelEntry(name, run.path, "run", run)
        seen = {e.path.resolve() for e in out.values()}
        for folder in self.models_dirs:
            if not folder.is_dir():
                continue
            for sub in sorted(folder.iterdir()):
                if sub.name.startswith(".") or not is_model_folder(sub) or sub.resolve() in seen:
                    continue
                if sub.resolve().parent == self.runs.root.resolve():
                    continue  # the runs folder given as --models-dir too: runs are listed (or hidden) above
                name, n = sub.name, 2
                while name in out:
                    name, n = f"{sub.name}-{n}", n + 1
                out[name] = ModelEntry(name, sub, "folder")
                seen.add(sub.resolve())
        return out

    def names(self, owner: str | None = None) -> list[str]:
        return list(self.entries(owner))

    def get(self, name: object, owner: str | None = None) -> ModelEntry:
        entries = self.entries(owner)
        if not isinstance(name, str) or name not in entries:
            shown = repr(name)[:80]
            choices = ", ".join(entries) or "none"
            raise UnknownModel(f"Unknown model {shown}. Choose one of: {choices}.")
        return entries[name]

    def predictor(self, name: str, owner: str | None = None) -> Any:
        """A cached :class:`tagger.predict.Predictor` for a model the caller may use (loads on
        first use, on the GPU when there is one). A folder that fails to load raises
        :class:`~tagger.errors.ModelError` naming the model (UnknownModel: not one the caller may use)."""
        entry = self.get(name, owner)
        with self._lock:
            pred = self._predictors.get(entry.path)
            if pred is not None:
                self._predictors.move_to_end(entry.path)
                return pred
            from tagger.predict import Predictor

            try:
                pred = Predictor.from_dir(entry.path)
            except (ModelError, OSError) as err:  # a broken model folder
                raise ModelError(f"Cannot load model {name!r}: {err}") from None
            self._predictors[entry.path] = pred
            while len(self._predictors) > self.cache_size:
                self._predictors.popitem(last=False)
            return pred

    def record(self, name: str, owner: str | None = None) -> ModelRecord:
        """The model's typed ``tagger.json`` (a run's as cached by the run store)."""
        entry = self.get(name, owner)
        return entry.run.record if entry.run is not None else read_record(entry.path)

    def models(self, owner: str | None = None) -> list[dict[str, Any]]:
        """The ``/models`` answer: each model the caller may use (:func:`model_summary`)."""
        out = []
        for entry in self.entries(owner).values():
            try:
                out.append(model_summary(entry, self.record(entry.name, owner) if entry.run is None else entry.run.record))
            except (TaggerError, OSError):
                continue  # an unreadable folder is not offered
        return out

    def run_summaries(self, owner: str | None = None) -> list[dict[str, Any]]:
        """The runs the caller sees (newest first) as :func:`model_summary` rows for the Runs table,
        each with whose it is (``owner``: "you", "another user", or "nobody" for a run from before
        owners existed) and whether the caller may rename and delete it (``changeable``)."""
        out = []
        for run in self.runs.visible(owner):
            row = model_summary(ModelEntry(run.name, run.path, "run", run), run.record)
            row["owner"] = "nobody" if run.owner is None else "you" if run.owner == owner else "another user"
            row["changeable"] = can_change(run.owner, owner, self.runs.private)
            out.append(row)
        return out

    # -- changes ------------------------------------------------------------------------------
    def rename(self, name: str, new_name: str, owner: str | None) -> Run:
        """Rename one of the caller's runs (names the caller sees elsewhere are taken)."""
        entry = self.get(name, owner)
        if entry.run is None:
            raise UnknownModel(f"{name!r} is not one of your runs; only runs can be renamed.")
        taken = {n for n, e in self.entries(owner).items() if e.run is None or e.run.id != entry.run.id}
        return self.runs.rename(entry.run.id, new_name, owner, taken=taken)

    def delete(self, name: str, owner: str | None) -> Run:
        entry = self.get(name, owner)
        if entry.run is None:
            raise UnknownModel(f"{name!r} is not one of your runs; only runs can be deleted.")
        run = self.runs.delete(entry.run.id, owner)
        self.forget_missing()
        return run

    def run_entry(self, name: str, owner: str | None) -> Run:
        entry = self.get(name, owner)
        if entry.run is None:
            raise UnknownModel(f"{name!r} is not one of your runs.")
        return entry.run

    def forget_missing(self) -> None:
        """Drop cached predictors of models that are gone (deleted, evicted by the cap)."""
        with self._lock:
            for path in [p for p in self._predictors if not is_model_folder(p)]:
                del self._predictors[path]


def model_summary(entry: ModelEntry, record: ModelRecord) -> dict[str, Any]:
    """What the Runs table and the ``/models`` API show of a model: name, source (default, run,
    folder), labels, base, head, dev_f1 (None for a model that trained on its dev data),
    test_f1 and the test file, and for runs their id, owner, date and training details."""
    run = entry.run
    report = record.data_report or {}
    return {
        "name": entry.name,
        "id": run.id if run is not None else None,
        "source": entry.source,
        "labels": list(record.labels),
        "base": record.base,
        "head": record.head,
        "dev_f1": record.held_out_dev_f1,
        "test_f1": record.test_f1,
        "test_file": record.test_file or None,
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created)) if run is not None else None,
        "train_file": run.info.train_file if run is not None else (record.training_file or None),
        "sentences": report.get("sentences") or record.train_sentences,  # the data as uploaded
        "epochs": record.config.get("epochs"),
        "best_epoch": record.best_epoch,
        "seconds": record.wall_seconds,
        "device": record.device,
        "precision": record.precision,
    }
