"""The models the Tag tab offers, by name: the shipped default, models trained in this app
session, and model folders found under ``--models-dir``.

Names are only ever looked up in this registry; a name is never joined to a filesystem path.
App-trained models live in one folder, capped in number (oldest removed first); nothing
outside that folder is ever deleted.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_NAME = "default"
STALE_TEMP_S = 3600  # temp folders of an interrupted save older than this are removed at start-up


class UnknownModel(ValueError):
    """A model name that is not in the registry."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    source: str  # "default" | "trained" | "folder"


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def read_meta(path: Path) -> dict[str, Any]:
    """``tagger.json`` of a checkpoint (or a stand-in built from ``config.json``), without loading weights."""
    meta_file = path / "tagger.json"
    if meta_file.is_file():
        return json.loads(meta_file.read_text(encoding="utf-8"))
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    id2label = config.get("id2label", {})
    labels = [id2label[k] for k in sorted(id2label, key=int)] if id2label else []
    return {"labels": labels, "config": {"base": config.get("_name_or_path", ""), "head": "linear"}}


def max_positions(path: str | Path) -> int | None:
    """``max_position_embeddings`` of a local model folder, if it says."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    value = json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings")
    return int(value) if isinstance(value, int) else None


class ModelRegistry:
    def __init__(
        self,
        default_model: Path | None,
        models_dirs: list[Path],
        app_models_dir: Path,
        max_app_models: int = 5,
        cache_size: int = 3,
    ) -> None:
        self.default_model = default_model
        self.models_dirs = list(models_dirs)
        self.app_models_dir = Path(app_models_dir)
        self.max_app_models = max_app_models
        self.cache_size = cache_size
        self._trained: dict[str, Path] = {}  # this session's models, in training order
        self._predictors: OrderedDict[Path, Any] = OrderedDict()
        self._lock = threading.RLock()
        self.app_models_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()

    # -- listing and lookup ------------------------------------------------------------------
    def entries(self) -> dict[str, ModelEntry]:
        """Name -> entry, rescanning ``--models-dir`` folders (cheap: a directory listing)."""
        out: dict[str, ModelEntry] = {}
        if self.default_model is not None and is_model_folder(self.default_model):
            out[DEFAULT_NAME] = ModelEntry(DEFAULT_NAME, self.default_model, "default")
        with self._lock:
            for name, path in self._trained.items():
                if is_model_folder(path):
                    out[name] = ModelEntry(name, path, "trained")
        seen = {e.path.resolve() for e in out.values()}
        for folder in self.models_dirs:
            if not folder.is_dir():
                continue
            for sub in sorted(folder.iterdir()):
                if sub.name.startswith(".") or not is_model_folder(sub) or sub.resolve() in seen:
                    continue
                name, n = sub.name, 2
                while name in out:
                    name, n = f"{sub.name}-{n}", n + 1
                out[name] = ModelEntry(name, sub, "folder")
                seen.add(sub.resolve())
        return out

    def names(self) -> list[str]:
        return list(self.entries())

    def get(self, name: object) -> ModelEntry:
        entries = self.entries()
        if not isinstance(name, str) or name not in entries:
            shown = repr(name)[:80]
            choices = ", ".join(entries) or "none"
            raise UnknownModel(f"Unknown model {shown}. Choose one of: {choices}.")
        return entries[name]

    def predictor(self, name: str) -> Any:
        """A cached :class:`tagger.predict.Predictor` for a registered model (loads on first use)."""
        entry = self.get(name)
        with self._lock:
            pred = self._predictors.get(entry.path)
            if pred is not None:
                self._predictors.move_to_end(entry.path)
                return pred
            from tagger.predict import Predictor

            pred = Predictor.from_dir(entry.path)
            self._predictors[entry.path] = pred
            while len(self._predictors) > self.cache_size:
                self._predictors.popitem(last=False)
            return pred

    def summary(self, name: str) -> dict[str, Any]:
        entry = self.get(name)
        meta = read_meta(entry.path)
        return {"name": entry.name, "source": entry.source, **meta}

    # -- app-trained models ---------------------------------------------------------------------
    def new_model_dir(self) -> tuple[str, Path]:
        """A fresh name and folder (not created) for a model about to be trained."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with self._lock:
            n = 1
            while True:
                name = f"trained-{stamp}" + (f"-{n}" if n > 1 else "")
                path = self.app_models_dir / name
                if name not in self._trained and not path.exists():
                    return name, path
                n += 1

    def add_trained(self, name: str, path: Path) -> None:
        with self._lock:
            self._trained[name] = path
        self.prune(keep=path)

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Remove the oldest model folders in the app folder beyond ``max_app_models``."""
        folders = [p for p in self.app_models_dir.iterdir() if not p.name.startswith(".") and is_model_folder(p)]
        folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        removed = []
        for old in folders[self.max_app_models :]:
            if keep is not None and old.resolve() == keep.resolve():
                continue
            if not self._removable(old):
                continue
            with self._lock:
                for name, path in list(self._trained.items()):
                    if path.resolve() == old.resolve():
                        del self._trained[name]
                self._predictors.pop(old, None)
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
        return removed

    def discard(self, path: Path) -> None:
        """Remove an unfinished model folder and the temp folders of its save (cancel, crash)."""
        if not self._removable(path):
            return
        with self._lock:
            if path in self._trained.values():
                return  # registered: complete, keep it
        for p in self.app_models_dir.glob(f".{path.name}.*"):
            shutil.rmtree(p, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)

    def _removable(self, path: Path) -> bool:
        """Only direct children of the app models folder, never the default model."""
        path = path.resolve()
        if path.parent != self.app_models_dir.resolve():
            return False
        return not (self.default_model is not None and path == self.default_model.resolve())

    def _remove_stale_temps(self) -> None:
        now = time.time()
        for p in self.app_models_dir.glob(".*"):
            if (".tmp-" in p.name or ".old-" in p.name) and now - p.stat().st_mtime > STALE_TEMP_S:
                shutil.rmtree(p, ignore_errors=True)
