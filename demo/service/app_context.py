"""What every part of the app shares, with no Gradio: :class:`AppContext` holds the settings, the
runs on disk, the model registry, the training job queue and the model zips made for downloads.

The UI (:mod:`demo.ui`) builds one at start-up and passes it to every handler; tests build one
from :class:`~demo.service.settings.AppSettings` and call the service directly.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from tagger.meta import META_FILE

from .job_queue import TrainingQueue
from .registry import DEFAULT_NAME, ModelRegistry
from .runs import Run, RunStore
from .settings import AppSettings
from .tagging import Tagging

log = logging.getLogger(__name__)

KEEP_ZIPS = 8
SECRET_FILE = ".browser-secret"


class AppContext:
    """Everything the handlers share: settings, the runs on disk, the model registry, the
    training job queue, model zips."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.runs = RunStore(settings.app_models_dir, settings.max_app_models, settings.private_runs, settings.max_runs)
        self.registry = ModelRegistry(settings.default_model, settings.models_dirs, self.runs)
        self.jobs = TrainingQueue(
            self.runs, parallel=settings.train_parallel, max_waiting=settings.train_queue,
            per_owner=1 if settings.private_runs else None, prewarm=False, grace=settings.cancel_grace_s,
            on_change=self.registry.forget_missing, threads=settings.worker_threads(),
        )
        self.tagging = Tagging(settings)  # /tag's batcher and serving backends, the file jobs
        self.browser_secret = browser_secret(self.runs.root)
        self.zip_dir = Path(tempfile.mkdtemp(prefix="bert-tagger-zips-"))
        self._zips: dict[tuple[str, int], Path] = {}
        self._zip_lock = threading.Lock()
        self._closed = False

    def warm_up(self) -> None:
        """Load the default model and run it once (spaCy, torch kernels), then let the job queue
        keep a spare worker (not before: both would import torch at once)."""
        try:
            if self.settings.warmup and DEFAULT_NAME in self.registry.names():
                predictor = self.registry.predictor(DEFAULT_NAME)
                predictor.predict("Warm-up sentence from Paris.")
                self.tagging.serving.settle(predictor, str(self.registry.get(DEFAULT_NAME).path), timeout=300)  # ONNX Runtime, if it agrees
        except Exception:  # start-up must go on; the first Tag click shows the real error
            log.exception("warm-up of the default model failed")
        self.jobs.prewarm_enabled = self.settings.prewarm_worker

    def start_warm_up(self) -> None:
        threading.Thread(target=self.warm_up, name="tagger-warm-up", daemon=True).start()

    def make_zip(self, run: Run) -> Path:
        """The run as ``<name>.zip`` (a Hugging Face folder), in a folder of its own (two owners'
        runs may share a name); the last few zips are kept."""
        folder = self.zip_dir / secrets.token_hex(8)
        folder.mkdir()
        target = self.runs.zip(run, folder)
        for old in sorted(self.zip_dir.iterdir(), key=lambda p: p.stat().st_mtime)[:-KEEP_ZIPS]:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def zip_for(self, run: Run) -> Path:
        """:meth:`make_zip`, made once per run version (a page reload does not zip it again)."""
        key = (run.id, (run.path / META_FILE).stat().st_mtime_ns)
        with self._zip_lock:
            path = self._zips.get(key)
            if path is None or not path.is_file():
                path = self._zips[key] = self.make_zip(run)
            return path

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.jobs.shutdown()
        self.tagging.close()
        self.runs.close()
        shutil.rmtree(self.zip_dir, ignore_errors=True)


def browser_secret(folder: Path) -> str:
    """The key the browser's owner token is encrypted with: ``TAGGER_BROWSER_SECRET``, else
    one made once and kept beside the runs. It must outlive restarts: with a new key each
    start, browsers could no longer read their token, and would lose their private runs."""
    value = os.environ.get("TAGGER_BROWSER_SECRET", "").strip()
    if value:
        return value
    path = Path(folder) / SECRET_FILE
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        value = ""
    if len(value) < 16:
        value = secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value)
    return value
