"""Training in a separate worker process, so Cancel can really stop it and a crash (or a
SIGKILL from the OOM killer) of the worker leaves the app running.

One worker process runs one job and exits; the job queue (:mod:`demo.service.job_queue`) starts
them, keeps one idle worker with torch already imported (a spare), so a job starts without paying
the import time, and reads their events. Progress comes
back over a multiprocessing queue as plain dicts; cancel is cooperative first (an event the
trainer polls between steps), then ``terminate``, then ``kill``.

This module imports no torch itself: the worker imports ``tagger.train`` in its own process.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
from typing import Any

from tagger.errors import TaggerError

log = logging.getLogger(__name__)
_CTX = mp.get_context("spawn")
STEP_EVENT_INTERVAL_S = 1.0  # the worker sends at most one step event a second (the loss plot's resolution)
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
EXIT_GRACE_S = 30.0  # a worker that sent its result gets this long to exit before it is terminated


# ---------------------------------------------------------------------------------------------
# worker process side
def _die_with_parent() -> None:
    """Linux: the kernel SIGKILLs this process when the app's thread that started it ends (the
    app killed, say), so no orphan trains on, or writes into the models folder of an app that
    has restarted. Elsewhere the worker notices the missing parent between steps."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class IntervalLoss:
    """The mean of the step losses since the last reading: what the loss plot shows (the
    epoch's running mean would smooth the curve and jump at each epoch start).

    >>> m = IntervalLoss()
    >>> m.add(2.0); m.add(1.0); m.take()
    1.5
    >>> m.add(0.5); m.take(), m.take()
    (0.5, None)
    """

    def __init__(self) -> None:
        self.total, self.n = 0.0, 0

    def add(self, loss: float) -> None:
        self.total += loss
        self.n += 1

    def take(self) -> float | None:
        value = self.total / self.n if self.n else None
        self.total, self.n = 0.0, 0
        return value


def _worker_main(jobs_q: Any, events_q: Any, stop: Any, parent_pid: int, die_with_parent: bool = False, threads: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the app's terminal: the app stops us
    for name in _THREAD_ENV:  # before torch is imported: the app's own value (1, for tagging) is not ours
        if threads:
            os.environ[name] = str(threads)
        else:
            os.environ.pop(name, None)
    if die_with_parent:
        _die_with_parent()
    if os.getppid() != parent_pid:
        return  # the app died before the line above took effect
    try:
        from tagger.config import TrainConfig
        from tagger.device import resolve_device
        from tagger.train import TrainingCancelled, train_files
    except Exception as err:  # noqa: BLE001 -- a broken install: say so instead of dying silently
        events_q.put({"kind": "error", "message": f"the training worker cannot start: {type(err).__name__}: {err}"})
        return
    events_q.put({"kind": "ready", "pid": os.getpid()})
    spec = None
    while spec is None:
        try:
            spec = jobs_q.get(timeout=2.0)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return  # the app is gone
            continue
        if spec == "exit":
            return

    def should_stop() -> bool:
        return stop.is_set() or os.getppid() != parent_pid

    last_step = 0.0
    interval = IntervalLoss()

    def callback(ev: Any) -> None:
        nonlocal last_step
        loss = ev.loss
        if ev.kind == "step":
            interval.add(ev.step_loss if getattr(ev, "step_loss", None) is not None else ev.loss)
            now = time.monotonic()
            if now - last_step < STEP_EVENT_INTERVAL_S and ev.step != ev.total_steps:
                return
            last_step = now
            loss = interval.take()
        events_q.put(
            {"kind": ev.kind, "step": ev.step, "total": ev.total_steps, "epoch": ev.epoch, "loss": loss,
             "dev": ev.dev, "elapsed": ev.elapsed, "message": ev.message}
        )

    try:
        config = TrainConfig.from_dict(spec["config"])
        device, precision = resolve_device(config.device, config.precision)
        events_q.put({"kind": "device", "device": device, "precision": precision})
        result = train_files(config, spec["train"], spec.get("dev"), spec["out"], callback=callback, should_stop=should_stop,
                             extra_meta=spec.get("meta"))
        events_q.put({"kind": "result", "dev": result.dev, "best_epoch": result.best_epoch, "seconds": result.seconds,
                      "history": result.history, "before": result.before})
    except TrainingCancelled:
        events_q.put({"kind": "cancelled"})
    except (TaggerError, OSError) as err:  # a message for the user
        events_q.put({"kind": "error", "message": str(err)})
    except MemoryError:
        events_q.put({"kind": "error", "message": "out of memory; lower the batch size or the max length"})
    except Exception as err:  # noqa: BLE001 -- process boundary: traceback to the log, one line to the user
        traceback.print_exc()
        events_q.put({"kind": "error", "message": f"training failed unexpectedly ({type(err).__name__}: {err})"})


# ---------------------------------------------------------------------------------------------
# app side
class _Worker:
    """``die_with_parent``: killed by the kernel when the thread that starts it ends (so start
    it from a thread that lives as long as the app)."""

    def __init__(self, die_with_parent: bool = False, threads: int = 0) -> None:
        self.jobs_q = _CTX.Queue()
        self.events_q = _CTX.Queue()
        self.stop = _CTX.Event()
        self.process = _CTX.Process(
            target=_worker_main, args=(self.jobs_q, self.events_q, self.stop, os.getpid(), die_with_parent, threads),
            name="tagger-train-worker", daemon=True
        )
        self.process.start()
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.process.is_alive()

    def drain(self) -> list[dict[str, Any]]:
        """The events that arrived, without waiting."""
        events: list[dict[str, Any]] = []
        try:
            while True:
                events.append(self.events_q.get_nowait())
        except (queue.Empty, OSError, ValueError, EOFError):
            pass
        return events

    def halt(self, grace: float) -> list[dict[str, Any]]:
        """Cooperative stop, then SIGTERM, then SIGKILL; returns once the process is gone, with
        the events it sent meanwhile (read while waiting: a worker blocked on a full pipe
        could not exit)."""
        self.stop.set()
        try:
            self.jobs_q.put_nowait("exit")  # an idle spare waits for a job, not for the stop event
        except (ValueError, OSError, queue.Full):
            pass
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + grace
        while self.process.is_alive() and time.monotonic() < deadline:
            events += self.drain()
            self.process.join(0.1)
        if self.process.is_alive():
            (log.warning if grace >= 1 else log.info)("training worker %s did not stop within %.1f s; terminating",
                                                      self.process.pid, grace)
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)
        events += self.drain()
        for q in (self.jobs_q, self.events_q):
            q.cancel_join_thread()
            q.close()
        return events
