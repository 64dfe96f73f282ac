"""demo.service.job_queue (server-side jobs) and demo.service.worker (the worker process), without a server: jobs
queue first-in first-out, run to their end with nobody watching, register their run, show their
progress to their owner only, and cancel for real. Real worker processes on the tiny base."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from support import DEV_FILE, TRAIN_FILE, wait_for

from demo.service.job_queue import CANCELLED, DONE, FAILED, QUEUED, RESTARTED, RUNNING, JobError, JobRefused, TrainingQueue
from demo.service.owners import token_owner
from demo.service.runs import RunStore, is_complete
from demo.service.worker import IntervalLoss

pytestmark = pytest.mark.app
ALICE, BOB = token_owner("a" * 32), token_owner("b" * 32)


def config(base: Path, **changes) -> dict:
    from tagger.config import TrainConfig

    values = {"base": str(base), "head": "linear", "epochs": 3, "lr": 5e-3, "batch_size": 8, "max_length": 64, "threads": 1,
              "device": "cpu"}
    return TrainConfig(**{**values, **changes}).to_dict()


def long_file(tmp_path: Path) -> str:
    """400 sentences: with 20 epochs at batch size 1, 8,000 steps, far longer than any test waits."""
    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    return str(big)


@pytest.fixture
def store(tmp_path: Path):
    runs = RunStore(tmp_path / "models", max_per_owner=2, private=True)
    yield runs
    runs.close()


@pytest.fixture
def queue(store: RunStore):
    q = TrainingQueue(store, parallel=1, max_waiting=1, per_owner=None, prewarm=False, grace=2.0)
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
    assert len(snap["dev_f1"]) == 3 and snap["loss"] and snap["best_epoch"] in (1, 2, 3)
    # the run is complete on disk with its record: owner, name, data, per-epoch history, device
    run = store.find(job.id, ALICE)
    assert is_complete(run.path) and not (run.path / "job.json").exists() and not (run.path / "train").exists()
    meta = json.loads((run.path / "tagger.json").read_text())
    assert meta["run"]["owner"] == ALICE and meta["run"]["train_file"] == "app_train.conll" and meta["device"] == "cpu"
    assert [h["epoch"] for h in meta["history"]] == [1, 2, 3] and meta["data_report"]["file"] == "app_train.conll"
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
        assert waiting.state == QUEUED
        assert q.cancel(waiting.id, BOB) == "Training cancelled; no model was written."
        assert waiting.state == CANCELLED and not (store.root / waiting.id).exists()
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
