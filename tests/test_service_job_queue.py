"""demo.service.job_queue (server-side jobs) and demo.service.worker (the worker process), without a server: jobs
queue first-in first-out, run to their end with nobody watching, register their run (a model that learned the
fixture), show their progress to their owner only, and cancel for real: cooperatively, then SIGTERM, then SIGKILL
for a worker that neither polls the stop event nor dies on SIGTERM. Real worker processes on the tiny base."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from learning import assert_learned, assert_loss_fell
from support import DEV_FILE, TINY_TRAIN, TRAIN_FILE, wait_for

from demo.service.job_queue import CANCELLED, DONE, FAILED, QUEUED, RESTARTED, RUNNING, JobError, JobRefused, TrainingQueue
from demo.service.owners import token_owner
from demo.service.runs import RunStore, is_complete
from demo.service.worker import IntervalLoss

pytestmark = pytest.mark.app
ALICE, BOB = token_owner("a" * 32), token_owner("b" * 32)
GRACE = 2.0  # the cooperative window of a cancel (the app's cancel_grace_s in the tests)
# after the grace: SIGTERM and up to 2 s for it to act, then SIGKILL and up to 5 s (worker.halt); the rest is slack
# for a loaded 2-core machine
CANCEL_BOUND = 15.0


def config(base: Path, **changes) -> dict:
    """The Fine-tune tab's config for the tiny base (:data:`support.TINY_TRAIN`), one torch thread."""
    from tagger.config import TrainConfig

    s = TINY_TRAIN
    values = {"base": str(base), "head": s["head"], "epochs": s["epochs"], "lr": s["lr"], "batch_size": s["batch_size"],
              "max_length": s["max_length"], "threads": 1, "device": "cpu"}
    return TrainConfig(**{**values, **changes}).to_dict()


def long_file(tmp_path: Path) -> str:
    """400 sentences: with 20 epochs at batch size 1, 8,000 steps, far longer than any test waits."""
    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    return str(big)


def slow_to_read(tmp_path: Path) -> str:
    """A 12 MB doccano file (120,000 sentences of spaCy words): the worker spends tens of seconds in
    the reader (0.2-0.4 MB/s on 2 busy cores, a few times that on a quiet machine), a C-heavy loop
    that never polls the stop event: only a signal ends it early."""
    text = "Angela Merkel met the board of Siemens in Berlin on Monday and discussed the plans for next year . " * 10
    org = text.index("Siemens")
    record = json.dumps({"text": text, "label": [[0, 13, "PER"], [org, org + 7, "ORG"]]}) + "\n"
    path = tmp_path / "slow.jsonl"
    path.write_text(record * (12_000_000 // len(record)), encoding="utf-8")
    return str(path)


def ignores_sigterm(pid: int) -> bool:
    """Whether SIGTERM is in the process's ignored-signal mask (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def gone(pid: int) -> bool:
    """The process has exited and been reaped (no /proc entry), or is a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] == "Z"
    except OSError:
        return True


def leftovers(store: RunStore, job_id: str) -> list[str]:
    """What a job left in the models folder: its run folder, or temporary folders of a save."""
    return sorted(p.name for p in store.root.iterdir() if job_id in p.name)


@pytest.fixture
def store(tmp_path: Path):
    runs = RunStore(tmp_path / "models", max_per_owner=2, private=True)
    yield runs
    runs.close()


@pytest.fixture
def queue(store: RunStore):
    q = TrainingQueue(store, parallel=1, max_waiting=1, per_owner=None, prewarm=False, grace=GRACE)
    yield q
    q.shutdown()


def test_job_queue_interval_loss_is_the_mean_since_the_last_reading() -> None:
    m = IntervalLoss()
    for loss in (4.0, 2.0):
        m.add(loss)
    assert m.take() == 3.0 and m.take() is None


def test_job_queue_run_to_the_end_unwatched_and_register_their_run(queue: TrainingQueue, store: RunStore, tiny_base: Path) -> None:
    job = queue.submit(ALICE, config(tiny_base), str(TRAIN_FILE), str(DEV_FILE), train_name="app_train.conll",
                       dev_name="app_dev.conll")
    assert job.state in (QUEUED, RUNNING) and (store.root / job.id / "job.json").is_file()
    wait_for(lambda: job.finished, 300, what="the job to finish")  # nobody polls it meanwhile
    assert job.state == DONE, job.error
    snap = queue.snapshot(job)
    assert snap["state"] == "done" and snap["device"] == "cpu" and snap["status"].startswith("✓ Done")
    assert len(snap["dev_f1"]) == 8 and 1 <= snap["best_epoch"] <= 8
    # the worker learned: the dev F1 it reports, and its loss curve
    assert_learned(snap["dev"]["f1"], "the worker's dev F1")
    assert_loss_fell(snap["loss"], "the worker's loss points")
    assert max(f1 for _, f1 in snap["dev_f1"]) == pytest.approx(snap["dev"]["f1"])  # the best epoch is the one kept
    # the run is complete on disk with its record: owner, name, data, per-epoch history, device
    run = store.find(job.id, ALICE)
    assert is_complete(run.path) and not (run.path / "job.json").exists() and not (run.path / "train").exists()
    meta = json.loads((run.path / "tagger.json").read_text())
    assert meta["run"]["owner"] == ALICE and meta["run"]["train_file"] == "app_train.conll" and meta["device"] == "cpu"
    assert [h["epoch"] for h in meta["history"]] == list(range(1, 9)) and meta["data_report"]["file"] == "app_train.conll"
    assert_loss_fell([h["loss"] for h in meta["history"]], "the recorded per-epoch loss")
    # and the saved weights are the learned ones: the model on disk scores what the worker reported
    from tagger.data import read_file
    from tagger.evaluation import evaluate
    from tagger.predict import Predictor

    saved = evaluate(Predictor.from_dir(run.path), read_file(DEV_FILE).sentences).scores["f1"]
    assert saved == pytest.approx(snap["dev"]["f1"], abs=1e-6)
    # only the owner sees the job
    assert queue.latest(ALICE) is job and queue.latest(BOB) is None
    with pytest.raises(JobError, match="among yours"):
        queue.get(job.id, BOB)
    assert queue.cancel(job.id, ALICE).startswith("Training had already finished")


def test_job_queue_queue_first_in_first_out_bounded_with_positions(queue: TrainingQueue, store: RunStore, tiny_base: Path,
                                                              tmp_path: Path) -> None:
    first = queue.submit(ALICE, config(tiny_base, epochs=20, batch_size=1), long_file(tmp_path), None)
    wait_for(lambda: first.state == RUNNING, 30, what="the first job to start")
    second = queue.submit(BOB, config(tiny_base, epochs=1), str(TRAIN_FILE), None)
    assert second.state == QUEUED and queue.position(second) == 1
    assert queue.snapshot(second)["status"].startswith("Waiting in the training queue: position 1 of 1")
    with pytest.raises(JobRefused, match="the training queue is full"):
        queue.submit(BOB, config(tiny_base), str(TRAIN_FILE), None)
    assert len([p for p in store.root.iterdir() if p.name.startswith("trained-")]) == 2  # the refused one left nothing
    # Bob cannot cancel Alice's job; Alice can
    with pytest.raises(JobError):
        queue.cancel(first.id, BOB)
    wait_for(lambda: queue.snapshot(first)["loss"], 120, what="progress of the first job")
    assert queue.cancel(first.id, ALICE) == "Cancelling…"
    wait_for(lambda: first.finished, 30, what="the cancel")
    assert first.state == CANCELLED and not first.worker.alive()
    wait_for(lambda: not (store.root / first.id).exists(), 10, what="its folder to go")
    wait_for(lambda: second.state in (RUNNING, DONE), 30, what="the next job to start")  # first in, first out
    wait_for(lambda: second.finished, 300, what="the second job")
    assert second.state == DONE


def test_job_queue_cancel_a_waiting_job_and_one_active_job_per_owner(store: RunStore, tiny_base: Path, tmp_path: Path) -> None:
    q = TrainingQueue(store, parallel=1, max_waiting=3, per_owner=1, prewarm=False, grace=2.0)
    try:
        running = q.submit(ALICE, config(tiny_base, epochs=20, batch_size=1), long_file(tmp_path), None)
        with pytest.raises(JobRefused, match="you already have a training job"):
            q.submit(ALICE, config(tiny_base), str(TRAIN_FILE), None)
        waiting = q.submit(BOB, config(tiny_base), str(TRAIN_FILE), None)
        assert waiting.state == QUEUED and (store.root / waiting.id / "job.json").is_file()
        assert q.cancel(waiting.id, BOB) == "Training cancelled; no model was written."
        # cancelled before its first step, before a worker was even given to it: its folder goes at once
        assert waiting.state == CANCELLED and waiting.worker is None and leftovers(store, waiting.id) == []
        assert q.snapshot(waiting)["status"] == "Training cancelled; no model was written."
        wait_for(lambda: running.state == RUNNING and running.worker.alive(), 60, what="the long job")
        os.kill(running.worker.process.pid, signal.SIGKILL)  # the OOM killer, say
        wait_for(lambda: running.finished, 30, what="the dead worker to be noticed")
        assert running.state == FAILED and "stopped unexpectedly (killed by signal 9)" in running.error
        wait_for(lambda: not (store.root / running.id).exists(), 10, what="its folder to go")
    finally:
        q.shutdown()


def test_job_queue_interrupted_by_a_restart_are_reported_to_their_owner(tmp_path: Path) -> None:
    root = tmp_path / "models"
    (root / "trained-1").mkdir(parents=True)
    (root / "trained-1" / "job.json").write_text(json.dumps({"id": "trained-1", "owner": ALICE, "created": 1.0,
                                                             "config": {"epochs": 2}}))
    store = RunStore(root)
    q = TrainingQueue(store, prewarm=False)
    try:
        job = q.latest(ALICE)
        assert job is not None and job.state == FAILED and q.snapshot(job)["status"] == f"Training failed: {RESTARTED}"
        assert q.latest(BOB) is None and not (root / "trained-1").exists()
    finally:
        q.shutdown()
        store.close()


# ---------------------------------------------------------------------------------- cancel escalation
def cancel_and_time(q: TrainingQueue, job, owner: str) -> float:
    """Cancel ``job`` and wait for it to end; returns the seconds from the cancel to the end."""
    t0 = time.monotonic()
    assert q.cancel(job.id, owner) == "Cancelling…"
    wait_for(lambda: job.finished, GRACE + CANCEL_BOUND + 30, interval=0.1, what="the cancelled job to end")
    return time.monotonic() - t0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the signal masks in /proc")
@pytest.mark.parametrize("sigterm", ["default", "ignored"])
def test_job_queue_cancel_escalates_for_a_worker_busy_reading(store: RunStore, tiny_base: Path, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture, sigterm: str) -> None:
    """Cancel a job whose worker is deep in reading a large upload (it polls the stop event only between
    training steps): after the grace, SIGTERM ends it; a worker that ignores SIGTERM (inherited: a
    signal ignored by the process that spawns it stays ignored across exec) is SIGKILLed. Either way
    the job ends as cancelled within the grace plus a bound, the process is gone and nothing is left."""
    q = TrainingQueue(store, parallel=1, max_waiting=1, prewarm=False, grace=GRACE)
    try:
        data = slow_to_read(tmp_path)
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN if sigterm == "ignored" else signal.SIG_DFL)
        try:  # only while the dispatcher spawns this job's worker
            job = q.submit(ALICE, config(tiny_base), data, str(DEV_FILE))
            wait_for(lambda: job.worker is not None, 60, interval=0.05, what="the job's worker to be spawned")
        finally:
            signal.signal(signal.SIGTERM, previous)
        pid = job.worker.process.pid
        assert ignores_sigterm(pid) == (sigterm == "ignored")
        wait_for(lambda: job.device or job.finished, 300, what="the worker to start the job (it then reads the data)")
        assert job.state == RUNNING and job.view.progress == 0, (job.state, job.error)  # reading: no step yet
        with caplog.at_level(logging.INFO, logger="demo.service.worker"):
            seconds = cancel_and_time(q, job, ALICE)
        assert job.state == CANCELLED and q.snapshot(job)["status"] == "Training cancelled; no model was written."
        assert seconds <= GRACE + CANCEL_BOUND, f"the cancel took {seconds:.1f} s"
        assert seconds >= GRACE - 0.5  # it did wait for a cooperative stop first
        expected = signal.SIGKILL if sigterm == "ignored" else signal.SIGTERM
        assert job.worker.process.exitcode == -expected  # what ended it: the stop event could not
        assert "did not stop within" in caplog.text
        assert gone(pid)
        wait_for(lambda: leftovers(store, job.id) == [], 30, what="the job's folder to be removed")
        assert q.latest(ALICE) is job and job.result is None
    finally:
        q.shutdown()


def test_job_queue_cancel_while_the_worker_is_still_loading(queue: TrainingQueue, store: RunStore, tiny_base: Path) -> None:
    """Cancel right after the job got its worker, while that worker still imports torch (before it
    can read the job, let alone take a step): the job ends cancelled, with no process and no folder left."""
    job = queue.submit(ALICE, config(tiny_base), str(TRAIN_FILE), str(DEV_FILE))
    wait_for(lambda: job.state == RUNNING, 60, interval=0.02, what="the job to get its worker")
    pid = job.worker.process.pid
    assert job.state == RUNNING and not job.device  # the worker has not started the job yet
    seconds = cancel_and_time(queue, job, ALICE)
    assert job.state == CANCELLED and job.result is None
    assert seconds <= GRACE + CANCEL_BOUND, f"the cancel took {seconds:.1f} s"
    assert job.worker.process.exitcode is not None and gone(pid)
    wait_for(lambda: leftovers(store, job.id) == [], 30, what="the job's folder to be removed")
    assert queue.snapshot(job)["loss"] == []  # not one training step
