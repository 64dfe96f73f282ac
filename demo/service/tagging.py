"""Tagging in the app, with no Gradio: one object (:class:`Tagging`, in the app context) for single texts
served to a crowd (:mod:`.batching` and :mod:`.serving`) and whole files as jobs (:mod:`.file_jobs`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from tagger.meta import META_FILE
from tagger.record import ModelRecord, read_record

from .batching import ALONE, AUTO_BATCH, BATCH_WORKERS, Batcher
from .file_jobs import FileJobs, Limits
from .serving import Serving
from .settings import AppSettings


class Tagging:
    """The app's tagging services: the batcher and the serving backends for ``/tag``, the file jobs."""

    def __init__(self, settings: AppSettings) -> None:
        batch = AUTO_BATCH if settings.tag_batch is None else settings.tag_batch
        self.batcher = Batcher(batch, settings.tag_batch_ms / 1000.0, workers=BATCH_WORKERS, cpu=settings.tag_batch is not None)
        self.serving = Serving(settings.tag_backend)
        self.files = FileJobs(Limits.from_settings(settings))
        self._records: OrderedDict[tuple[str, int], ModelRecord] = OrderedDict()
        self._records_lock = threading.Lock()

    def record(self, folder: Path) -> ModelRecord:
        """A model folder's record, read once per version of its ``tagger.json`` (not at every request)."""
        meta = Path(folder) / META_FILE
        key = (str(folder), meta.stat().st_mtime_ns if meta.is_file() else -1)
        with self._records_lock:
            found = self._records.get(key)
        if found is None:
            found = read_record(folder)
            with self._records_lock:
                self._records[key] = found
                while len(self._records) > 16:
                    self._records.popitem(last=False)
        return found

    @property
    def concurrency(self) -> int:
        """How many Tag requests the request queue lets in at once: as many as the batches take where
        requests may be batched, else two (the tagging places; the others wait in the bounded queue).
        ``auto`` batches only on a GPU: whether there is one is guessed without importing torch (its
        driver's files), and a wrong guess only lets requests wait here instead of in the queue."""
        batcher = self.batcher
        may_batch = batcher.enabled and (batcher.cpu or Path("/proc/driver/nvidia/gpus").is_dir())
        return batcher.max_batch * batcher.workers if may_batch else ALONE

    def predict(self, predictor: Any, text: str, key: str = "") -> Any:
        """Tag one text with the backend that serves the model, together with concurrent requests."""
        return self.batcher.predict(self.serving.predictor(predictor, key), text)

    def close(self) -> None:
        self.batcher.close()
        self.files.close()

