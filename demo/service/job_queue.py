"""Training jobs as server-side objects, detached from any browser request.

A :class:`Job` has an id (its run's folder id), an owner, a state (``queued`` -> ``running`` ->
``done`` | ``cancelled`` | ``failed``) and the progress folded from its worker's events (status
line, loss and dev-F1 points), so a page opened later redraws the plots. The
:class:`TrainingQueue` runs jobs first-in, first-out, ``parallel`` at a time (default 1), with a
bounded number waiting; each runs to its end whether or not a browser follows it. Only the
owner sees or cancels a job; cancel is cooperative, then terminate, then kill.

One dispatcher thread owns the worker processes: it starts them (so the kernel can kill a
worker when the app dies, see ``jobs._die_with_parent``), reads their events, and when a job
ends, registers its run itself (cap and eviction per owner) or removes what an unfinished job
left. A spare worker with torch imported waits while no job runs, so a job starts without
paying the import.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tagger.device import describe
from tagger.errors import TaggerError
from tagger.record import read_record

from . import progress as ev
from .runs import RunStore, is_complete
from .worker import EXIT_GRACE_S, _Worker

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
ACTIVE = (QUEUED, RUNNING)
TICK_S = 0.5  # how often the dispatcher reads worker events (they come once a second)
KEEP_FINISHED = 200  # finished jobs remembered (their progress, for a page opened later)
SPARE_RETRY_S = 60.0  # a spare that died is not restarted sooner than this
RESTARTED = "The app restarted during this job, so it was lost and no model was written; start it again."


class JobRefused(TaggerError, RuntimeError):
    """A training job cannot start now (another one runs, the app is shutting down)."""


class JobError(TaggerError, LookupError):
    """A job id that is not among the caller's jobs."""


class Job:
    """One training job and its progress (read it through :meth:`TrainingQueue.snapshot`)."""

    def __init__(self, job_id: str, owner: str | None, spec: dict[str, Any], epochs: int, created: float | None = None) -> None:
        self.id = job_id
        self.owner = owner
        self.spec = spec
        self.epochs = epochs
        self.created = created if created is not None else time.time()
        self.state = QUEUED
        self.view = ev.TrainView(epochs=epochs)
        self.view.status = "Waiting in the training queue…"
        self.device = ""
        self.precision = ""
        self.error = ""
        self.result: dict[str, Any] | None = None
        self.started: float | None = None
        self.ended: float | None = None
        self.version = 0  # bumped on every change: a poller redraws only when it moved
        self.worker: _Worker | None = None
        self.cancel_requested = False
        self.settings = ""  # what it was started with, one line (events.job_settings)
        self.clock: tuple[float, float] | None = None  # (time, progress) when progress was first seen: the ETA counts from it

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def name(self) -> str:
        return self.id

    def apply(self, events: list[dict[str, Any]]) -> None:
        """Fold worker events in (progress, device, the end)."""
        progress = []
        for event in events:
            kind = event.get("kind")
            if kind == "device":
                self.device, self.precision = str(event.get("device", "")), str(event.get("precision", ""))
            elif kind == "result":
                self.state, self.result = DONE, event
            elif kind == "cancelled":
                self.state = CANCELLED
            elif kind == "error":
                self.state, self.error = FAILED, str(event.get("message", ""))
            else:
                progress.append(event)
        if progress:
            self.view.apply(progress)
            if self.clock is None and self.view.progress > 0:
                self.clock = (time.monotonic(), self.view.progress)
        if events:
            self.version += 1

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left for a running job, from its pace since its progress was first seen (None
        until it has moved enough to say)."""
        if self.state != RUNNING or self.clock is None:
            return None
        (t0, p0), p = self.clock, self.view.progress
        if p - p0 < 0.01:
            return None
        return max(0.0, ((now or time.monotonic()) - t0) / (p - p0) * (1.0 - p))

    def status_line(self, position: int | None, waiting: int, wait_s: float | None = None) -> str:
        if self.state == QUEUED:
            ahead = "next to start" if position == 1 else f"{(position or 1) - 1} job(s) ahead"
            when = f" Expected to start in {ev.about(wait_s)}." if wait_s is not None else ""
            return f"Waiting in the training queue: position {position} of {waiting} ({ahead}).{when}"
        if self.state == RUNNING:
            where = f" · {describe(self.device, self.precision)}" if self.device else ""
            return f"{self.view.status}{where}"
        if self.state == DONE and self.result is not None:
            where = f" Trained on {describe(self.device, self.precision)}." if self.device else ""
            return ev.done_status(self.result, self.name) + where
        if self.state == CANCELLED:
            return ev.CANCELLED
        return f"Training failed: {self.error}"


class TrainingQueue:
    """First-in, first-out training jobs, ``parallel`` running at once, at most ``max_waiting``
    waiting, and (``per_owner``) at most that many active jobs per owner."""

    def __init__(
        self,
        store: RunStore,
        parallel: int = 1,
        max_waiting: int = 4,
        per_owner: int | None = None,
        prewarm: bool = True,
        grace: float = 3.0,
        on_change: Callable[[], None] | None = None,
        threads: int = 0,
    ) -> None:
        self.store = store
        self.parallel = max(1, parallel)
        self.max_waiting = max(0, max_waiting)
        self.per_owner = per_owner
        self.prewarm_enabled = prewarm
        self.grace = grace
        self.threads = threads  # torch threads of a worker (0: torch's default)
        self.on_change = on_change or (lambda: None)  # runs were added or removed
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: deque[Job] = deque()
        self._running: list[Job] = []
        self._spare: _Worker | None = None
        self._spare_failed_at = 0.0
        self._idle_since = time.monotonic()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = False  # no new jobs, no spare
        self._exit = False  # the dispatcher ends (and with it, by PDEATHSIG, any worker it started)
        for record in store.interrupted:  # jobs an earlier app was running: tell their owners
            job = Job(str(record.get("id", "")), record.get("owner"), {}, int((record.get("config") or {}).get("epochs", 1)),
                      float(record.get("created") or time.time()))
            job.state, job.error = FAILED, RESTARTED
            job.settings = ev.job_settings(record.get("config") or {}, record.get("train_file"), record.get("dev_file"))
            self._jobs[job.id] = job
        self._thread = threading.Thread(target=self._loop, name="tagger-train-dispatch", daemon=True)
        self._thread.start()

    # -- submitting and reading -----------------------------------------------------------------
    def _check_room(self, owner: str | None) -> None:
        if self._closed:
            raise JobRefused("Cannot start training: the app is shutting down.")
        if self.per_owner is not None and owner is not None:
            mine = [j for j in self._jobs.values() if j.owner == owner and not j.finished]
            if len(mine) >= self.per_owner:
                raise JobRefused("Cannot start training: you already have a training job queued or running; "
                                 "wait for it to finish, or cancel it.")
        if len(self._running) >= self.parallel and len(self._waiting) >= self.max_waiting:
            raise JobRefused(f"Cannot start training: the training queue is full ({len(self._waiting)} jobs waiting); "
                             "try again later.")

    def submit(self, owner: str | None, config: dict[str, Any], train_path: str, dev_path: str | None,
               train_name: str = "", dev_name: str | None = None, init_from: str | None = None) -> Job:
        """Queue a job: reserve its run folder (with copies of the uploads) and wait for a free slot.
        ``init_from``: the display name of the model the run continues, for its record."""
        with self._lock:
            self._check_room(owner)
        created = time.time()
        record = {"owner": owner, "created": created, "train_file": train_name or None, "dev_file": dev_name, "config": config}
        run_id, path, copies = self.store.reserve(record, {"train": train_path, "dev": dev_path})
        run = {"id": run_id, "name": run_id, "owner": owner, "created": created, "train_file": train_name or None,
               "dev_file": dev_name}
        if init_from:  # the display name of the model it continues (its folder is in the config)
            run["init_from"] = init_from
        spec = {"config": config, "train": copies["train"], "dev": copies["dev"], "out": str(path), "name": run_id,
                "meta": {"run": run}}
        job = Job(run_id, owner, spec, int(config.get("epochs", 1)), created)
        job.settings = ev.job_settings(config, train_name, dev_name)
        with self._lock:
            try:
                self._check_room(owner)  # again: another submit may have taken the last place meanwhile
            except JobRefused:
                self.store.discard(run_id)
                raise
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._forget_old()
        self._wake.set()
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def get(self, job_id: Any, owner: str | None) -> Job:
        """The caller's job by id (nobody else's, also when runs are shared)."""
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None or owner is None or job.owner != owner:
            raise JobError(f"No training job {str(job_id)[:80]!r} among yours.")
        return job

    def latest(self, owner: str | None) -> Job | None:
        """The owner's queued or running job, else their most recent finished one."""
        if owner is None:
            return None
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner]
        active = [j for j in mine if not j.finished]
        if active:
            return active[0]
        return max(mine, key=lambda j: j.created, default=None)

    def active_jobs(self) -> list[Job]:
        """Running jobs, then the waiting ones in queue order (everyone's: for the server side only)."""
        with self._lock:
            return [*self._running, *self._waiting]

    def position(self, job: Job) -> int | None:
        with self._lock:
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def snapshot(self, job: Job) -> dict[str, Any]:
        """Everything a page or an API client shows of a job (plain JSON values)."""
        with self._lock:
            position, waiting = self.position(job), len(self._waiting)
            wait_s = self.expected_wait(job) if job.state == QUEUED else None
            eta_s = job.eta()
            result = job.result or {}
            return {
                "id": job.id,
                "name": job.name,
                "state": job.state,
                "position": position,
                "waiting": waiting,
                "status": job.status_line(position, waiting, wait_s),
                "eta_s": round(eta_s, 1) if eta_s is not None else None,  # running: seconds left
                "wait_s": round(wait_s, 1) if wait_s is not None else None,  # queued: seconds until it starts
                "settings": job.settings,
                "progress": round(job.view.progress, 4),
                "epochs": job.epochs,
                "loss": [list(p) for p in job.view.loss],
                "dev_f1": [list(p) for p in job.view.f1],
                "device": job.device,
                "precision": job.precision,
                "error": job.error,
                "dev": result.get("dev"),
                "best_epoch": result.get("best_epoch"),
                "seconds": result.get("seconds"),
                "created": job.created,
                "version": job.version,
            }

    def typical_seconds(self) -> float | None:
        """The median duration of the last finished jobs (what a job ahead in the queue is expected to take)."""
        with self._lock:
            done = [j.ended - j.started for j in self._jobs.values() if j.state == DONE and j.started and j.ended][-20:]
        return statistics.median(done) if done else None

    def expected_wait(self, job: Job) -> float | None:
        """Seconds until a queued job starts: the soonest end of a running job, then a typical job for
        each job ahead of it in its slot; None when nothing is known yet (no finished job, no pace)."""
        with self._lock:
            position = self.position(job)
            etas = [j.eta() for j in self._running]
        if position is None:
            return None
        typical = self.typical_seconds()
        known = [e for e in etas if e is not None]
        first = min(known) if known else typical
        if first is None or (position > self.parallel and typical is None):
            return None
        return first + (position - 1) // self.parallel * (typical or 0.0)

    def others(self, owner: str | None) -> dict[str, Any]:
        """Other users' jobs, without anything about them but counts and the soonest end: what a
        visitor without a job of their own is told (their job would wait for these)."""
        with self._lock:
            running = [j for j in self._running if j.owner != owner]
            waiting = [j for j in self._waiting if j.owner != owner]
        etas = [e for e in (j.eta() for j in running) if e is not None]
        return {"running": len(running), "waiting": len(waiting), "eta_s": min(etas) if etas else None,
                "slots": self.parallel}

    # -- cancel ----------------------------------------------------------------------------------
    def cancel(self, job_id: Any, owner: str | None) -> str:
        """Cancel the caller's job: a waiting one leaves the queue; a running one is stopped
        (cooperative, then terminate, then kill) in the background. Returns a message."""
        job = self.get(job_id, owner)
        with self._lock:
            if job.state == DONE:
                return f"Training had already finished; the model was kept as {job.name!r}."
            if job.finished:
                return ev.CANCELLED
            if job.state == QUEUED:
                self._waiting.remove(job)
                job.state, job.ended = CANCELLED, time.time()
                job.version += 1
                queued = True
            else:
                if job.cancel_requested:
                    return "Cancelling…"
                job.cancel_requested = True
                queued = False
        if queued:
            self.store.discard(job.id)
            return ev.CANCELLED
        threading.Thread(target=self._reap_cancelled, args=(job,), name="tagger-train-cancel", daemon=True).start()
        return "Cancelling…"

    def _reap_cancelled(self, job: Job) -> None:
        assert job.worker is not None
        events = job.worker.halt(self.grace)
        with self._lock:
            job.apply(events)
            saved = job.state == DONE or is_complete(self.store.root / job.id)
            if not saved:
                job.state = CANCELLED
            elif job.state != DONE:  # saved, but the result event was lost in the kill: read it from the run
                job.state, job.result = DONE, _result_from_disk(self.store.root / job.id)
            job.ended = time.time()
            job.version += 1
            if job in self._running:
                self._running.remove(job)
            self._idle_since = time.monotonic()
        if saved:
            self._registered(job)
        else:
            self.store.discard(job.id)
        self._wake.set()

    # -- the dispatcher --------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._exit:
            self._wake.wait(TICK_S)
            self._wake.clear()
            if self._exit:
                break
            try:
                self._tick()
            except Exception:  # the dispatcher must live on
                log.exception("training dispatcher")

    def _tick(self) -> None:
        ended: list[Job] = []
        with self._lock:
            running = [j for j in self._running if not j.cancel_requested]
        for job in running:
            assert job.worker is not None
            events = job.worker.drain()
            with self._lock:
                if job.cancel_requested:
                    continue  # the cancel's reaper owns it now
                job.apply(events)
                if not job.finished and not events and not job.worker.alive():
                    job.apply(job.worker.drain())
                    if not job.finished:
                        job.state, job.error = FAILED, _died(job.worker)
                        job.version += 1
                if job.finished:
                    job.ended = time.time()
                    self._running.remove(job)
                    self._idle_since = time.monotonic()
                    ended.append(job)
        for job in ended:
            self._ended(job)
        with self._lock:
            while len(self._running) < self.parallel and self._waiting and not self._closed:
                self._start(self._waiting.popleft())
            self._keep_spare()

    def _start(self, job: Job) -> None:
        worker, self._spare = self._spare, None
        if worker is None or not worker.alive():
            worker = _Worker(die_with_parent=True, threads=self.threads)
        worker.jobs_q.put(job.spec)
        job.worker, job.state, job.started = worker, RUNNING, time.time()
        job.view.status = ev.STARTING
        job.version += 1
        self._running.append(job)

    def _keep_spare(self) -> None:
        """One idle worker with torch imported while no job runs (not during a job: it would take
        CPU from it), started a second after the last job ended."""
        if not self.prewarm_enabled or self._closed or self._running:
            return
        if self._spare is not None:
            if self._spare.alive():
                return
            self._spare.halt(0.0)
            self._spare, self._spare_failed_at = None, time.monotonic()
        now = time.monotonic()
        if now - self._idle_since >= 1.0 and now - self._spare_failed_at >= SPARE_RETRY_S:
            self._spare = _Worker(die_with_parent=True, threads=self.threads)

    def _ended(self, job: Job) -> None:
        worker = job.worker
        if job.state == DONE:
            self._registered(job)
        # the worker exits by itself after its last event; make sure, then clean up after a failure
        def reap() -> None:
            if worker is not None:
                worker.halt(EXIT_GRACE_S if job.state == DONE else self.grace)
            if job.state != DONE:
                self.store.discard(job.id)

        threading.Thread(target=reap, name="tagger-train-reaper", daemon=True).start()

    def _registered(self, job: Job) -> None:
        """The job's run is complete on disk: apply the cap (per owner) and tell the listeners."""
        removed = self.store.enforce_cap(job.owner, keep=job.id)
        if removed:
            log.info("run cap: removed %s", ", ".join(r.id for r in removed))
        self.on_change()

    # -- shutdown --------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop everything: waiting jobs are dropped, running ones stopped; their folders removed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiting, self._waiting = list(self._waiting), deque()
            running, self._running = list(self._running), []
            spare, self._spare = self._spare, None
            for job in waiting + running:
                if not job.finished:
                    job.state, job.ended = CANCELLED, time.time()
        self._wake.set()
        if spare is not None:
            spare.halt(0.5)
        for job in running:
            if job.worker is not None:
                job.worker.halt(self.grace)
        for job in waiting + running:
            if not is_complete(self.store.root / job.id):
                self.store.discard(job.id)
        self._exit = True  # only now: the workers were stopped cooperatively above
        self._wake.set()
        self._thread.join(5.0)


def _result_from_disk(folder: Path) -> dict[str, Any]:
    """The result event of a job whose worker was killed after its save (the event was lost)."""
    record = read_record(folder)
    return {"kind": "result", "dev": record.dev or {"f1": 0.0}, "best_epoch": record.best_epoch or 0,
            "seconds": record.wall_seconds or 0.0, "history": list(record.history), "before": record.before}


def _died(worker: _Worker) -> str:
    code = worker.process.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    hint = " (SIGKILL: often the system running out of memory; try a smaller batch size or max length)" if code == -9 else ""
    return f"the training worker stopped unexpectedly ({how}){hint}; no model was written"
