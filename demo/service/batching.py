"""Concurrent Tag requests tagged together, with no Gradio (:class:`Batcher`): requests wait up to
``TAGGER_TAG_BATCH_MS`` for each other and are tagged in one :meth:`~tagger.predict.Predictor.predict_batch`
call of at most ``TAGGER_TAG_BATCH`` texts (each result equals tagging that text alone; a text that fails
fails alone). Where batching does not pay (a model on the CPU, ``auto``), requests are tagged alone, a few
at a time. Figures: docs/BENCHMARKS.md, "Serving".
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

AUTO_BATCH = 16  # TAGGER_TAG_BATCH=auto: the largest batch, for a model on a GPU (on the CPU requests are tagged alone)
BATCH_WORKERS = 2  # batches tagged at once (the 2 cores of a small Space)
ALONE = 2  # requests tagged alone at once, without batching (tried on 2 cores: 1 and 3 answered 20 callers later)


@dataclass(eq=False)
class _Request:
    predictor: Any
    text: str
    arrived: float = field(default_factory=time.monotonic)
    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Batcher:
    """Tag requests that arrive together, tagged together: a request waits up to ``wait_s`` (counted
    from the oldest waiting request) for others, then a worker thread tags up to ``max_batch`` texts of
    the same model in one call; requests that come meanwhile form the next batch (``workers`` batches
    at once). Where batching does not pay, requests are tagged alone, ``alone`` at a time, each in its
    caller's thread: with ``max_batch <= 1``, and for a model on the CPU unless ``cpu`` (there a batch
    costs as much per text as tagging each alone, and its answers wait for the whole batch:
    docs/BENCHMARKS.md, "Serving")."""

    def __init__(self, max_batch: int, wait_s: float, workers: int = 2, cpu: bool = True, alone: int = ALONE) -> None:
        self.max_batch, self.wait_s, self.workers, self.cpu = max_batch, wait_s, max(1, workers), cpu
        self._slots = threading.BoundedSemaphore(max(1, alone))
        self._pending: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.sizes: dict[int, int] = {}  # batch size -> how many batches had it (stats: tests, benchmarks)

    @property
    def enabled(self) -> bool:
        return self.max_batch > 1

    def batches(self, predictor: Any) -> bool:
        """Whether ``predictor``'s requests are batched."""
        return self.enabled and (self.cpu or getattr(getattr(predictor, "device", None), "type", "cpu") != "cpu")

    def predict(self, predictor: Any, text: str) -> Any:
        """``predictor.predict(text)``, tagged together with the other requests waiting now."""
        if not self.batches(predictor):
            with self._slots:
                return predictor.predict(text)
        request = _Request(predictor, text)
        with self._cond:
            if self._closed:
                return predictor.predict(text)
            self._pending.append(request)
            if not self._threads:
                self._threads = [threading.Thread(target=self._loop, name=f"tagger-batcher-{i}", daemon=True) for i in range(self.workers)]
                for thread in self._threads:
                    thread.start()
            self._cond.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def _take(self) -> list[_Request] | None:
        with self._cond:
            while True:
                while not self._pending:
                    if self._closed:
                        return None
                    self._cond.wait()
                deadline = self._pending[0].arrived + self.wait_s
                while self._pending and len(self._pending) < self.max_batch and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._pending:  # (another worker may have taken them meanwhile)
                    break
            first = self._pending[0].predictor
            batch = [r for r in self._pending if r.predictor is first][: self.max_batch]
            for r in batch:
                self._pending.remove(r)
            self.sizes[len(batch)] = self.sizes.get(len(batch), 0) + 1
            return batch

    def _loop(self) -> None:
        while (batch := self._take()) is not None:
            run_batch(batch)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def run_batch(batch: Sequence[_Request]) -> None:
    """Tag the requests' texts in one call; if that fails (a text too long, say), each alone, so
    that every request gets its own answer or its own error."""
    try:
        for request, pred in zip(batch, batch[0].predictor.predict_batch([r.text for r in batch]), strict=True):
            request.result = pred
    except Exception:  # noqa: BLE001 -- retried one by one below, where each error is the request's own
        for request in batch:
            try:
                request.result = request.predictor.predict(request.text)
            except Exception as err:  # noqa: BLE001 -- handed to the request's thread, raised there
                request.error = err
    for request in batch:
        request.done.set()
