"""The web app under load and at its limits, through its API (gradio_client): 20 concurrent Tag
requests while a training job runs, and a full queue.

Each test launches its own app in-process on a free 127.0.0.1 port (different queue sizes);
training uses the tiny random base (``tiny_base``) on a file big enough to keep the worker busy
far longer than the test needs it, and is cancelled at the end. Nothing here asserts a time:
the latencies are only reported (``pytest -s`` prints them; also in the test's user properties).
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import DEV_FILE, TINY_TRAIN, TRAIN_FILE, app_model_dirs, start_app, wait_for

pytestmark = [pytest.mark.app, pytest.mark.slow]

N_REQUESTS = 20
SENTENCE = "Angela Merkel visited Paris today."
FIRST = ["Angela", "John", "Maria", "Pierre", "Olaf"]
LAST = ["Merkel", "Smith", "Garcia", "Dubois"]
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Vienna"]


def texts(n: int) -> list[str]:
    """n distinct texts of different lengths, names and places."""
    out = []
    for i in range(n):
        who = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        where = CITIES[(i * 3) % len(CITIES)]
        extra = " ".join(["and then walked home"] * (i % 4))
        out.append(f"{who} visited {where} today {extra} (request {i}).".replace("  ", " "))
    assert len(set(out)) == n
    return out


def answer(result) -> tuple:
    """The parts of a tag answer that depend only on the text and the model (not the timing line):
    the entity value with scores and the per-word table with labels and confidences."""
    return result[2], result[4]["data"]


def make_client(url: str, downloads: Path | None = None):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=str(downloads) if downloads else False)


def start_long_job(app, client, tmp_path: Path):
    """A training job far longer than the test (20 epochs of 400 sentences at batch size 1, 8,000
    steps on the tiny base); returns (client job, app job) once the worker reports training steps."""
    from gradio_client import handle_file

    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    s = dict(TINY_TRAIN, epochs=20, batch_size=1)
    job = client.submit(handle_file(str(big)), handle_file(str(DEV_FILE)), s["base_label"], s["head"], s["epochs"], s["lr"],
                        s["batch_size"], s["max_length"], s["label_column"], api_name="/train")
    # the job's own progress (server side): the /train stream's text is a view of it, sent at its own pace
    train_job = wait_for(lambda: next(iter(app.ctx.jobs.active_jobs()), None), 120, what="the job to be queued")
    wait_for(lambda: train_job.finished or train_job.view.progress > 0, 300, what="the job's first training steps")
    assert not train_job.finished, f"the job ended ({train_job.state}) before the test: {train_job.error}"
    outputs = wait_for(lambda: [o for o in job.outputs() if o[6]], 60, what="the job's id in the /train stream")
    job_id, token = outputs[-1][6:8]
    assert job_id == train_job.id and train_job.worker.alive()
    train_job.token = token  # for stop_job
    return job, train_job


def stop_job(app, job, train_job, before: set[str]) -> None:
    """Cancel the job (through /cancel: a client that stops listening leaves a job running)."""
    make_client(app.url).predict(train_job.id, train_job.token, api_name="/cancel")
    wait_for(lambda: not train_job.worker.alive(), 60, what="the worker to stop")
    wait_for(lambda: app_model_dirs(app) == before, 30, what="clean-up of the unfinished model")
    assert train_job.state == "cancelled"


def test_app_load_concurrent_tags_during_training(tiny_base: Path, tiny_tagger: Path, tmp_path: Path,
                                                  record_property) -> None:
    # 20 requests at once, 2 running (the tag event's concurrency limit): 18 wait; the default queue holds them
    from demo.service.settings import AppSettings

    app = start_app(tmp_path / "app", tiny_base, tiny_tagger, queue_max_size=AppSettings.queue_max_size)
    try:
        inputs = texts(N_REQUESTS)
        solo = make_client(app.url, tmp_path / "downloads")
        expected = [answer(solo.predict(t, "tiny", api_name="/tag")) for t in inputs]  # each text tagged alone
        assert any(e[0]["entities"] for e in expected)
        clients = [make_client(app.url) for _ in range(N_REQUESTS)]  # one session per simulated user
        before = app_model_dirs(app)
        job, train_job = start_long_job(app, solo, tmp_path)

        start = threading.Barrier(N_REQUESTS)

        def one(i: int) -> tuple[tuple, float]:
            start.wait(timeout=60)
            t0 = time.perf_counter()
            result = clients[i].predict(inputs[i], "tiny", api_name="/tag")
            return answer(result), time.perf_counter() - t0

        with ThreadPoolExecutor(N_REQUESTS) as pool:
            done = list(pool.map(one, range(N_REQUESTS), timeout=300))
        # the training job was running the whole time (it is sized to outlast this test many times over)
        assert not train_job.finished and train_job.worker.alive()
        assert not job.done()
        for i, (got, _) in enumerate(done):
            assert got == expected[i], f"request {i} ({inputs[i]!r}) answered differently under load"

        ms = sorted(1000 * s for _, s in done)
        p95 = ms[math.ceil(0.95 * len(ms)) - 1]  # nearest rank
        print(f"\n{N_REQUESTS} concurrent tags during training: p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
              f"max {ms[-1]:.0f} ms")
        record_property("tag_p50_ms", round(statistics.median(ms)))
        record_property("tag_p95_ms", round(p95))

        stop_job(app, job, train_job, before)
        # the app goes on tagging, for a new session too
        assert answer(make_client(app.url).predict(inputs[0], "tiny", api_name="/tag")) == expected[0]
    finally:
        app.close()


def test_app_load_full_queue_gives_clear_message(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    import httpx
    from gradio_client import handle_file
    from gradio_client.utils import QueueError, Status

    # train_queue=0: one /train stream at a time (the running job's); more /train requests wait in Gradio's queue
    app = start_app(tmp_path / "app", tiny_base, tiny_tagger, queue_max_size=2, train_queue=0)
    try:
        client = make_client(app.url, tmp_path / "downloads")
        expected = answer(client.predict(SENTENCE, "tiny", api_name="/tag"))
        before = app_model_dirs(app)
        job, train_job = start_long_job(app, client, tmp_path)
        # one job at a time and none waiting in the training queue: two more training requests (other
        # sessions: Gradio's cancel stops every event of a session's endpoint) wait in Gradio's queue and fill it
        s = TINY_TRAIN
        waiting = [
            make_client(app.url, tmp_path / "downloads").submit(handle_file(str(TRAIN_FILE)), None, s["base_label"], s["head"], s["epochs"], s["lr"], s["batch_size"],
                          s["max_length"], s["label_column"], api_name="/train")
            for _ in range(2)
        ]
        wait_for(lambda: all(w.status().code == Status.IN_QUEUE for w in waiting), 60, what="two requests waiting in the queue")

        # a third request is refused at once, with a message that says why and what to do
        with pytest.raises(QueueError, match=r"^Queue is full! Please try again\.$"):
            make_client(app.url).predict(SENTENCE, "tiny", api_name="/tag")
        # the plain HTTP API: 503 with the queue's size in the detail
        resp = httpx.post(f"{app.url}gradio_api/call/tag", json={"data": [SENTENCE, "tiny"]}, timeout=60)
        assert resp.status_code == 503
        assert resp.json()["detail"].startswith("Queue is full. Max size is 2")
        assert not train_job.finished  # the running job is not disturbed

        # once the waiting requests leave, the queue takes requests again (while training goes on)
        for w in waiting:
            w.cancel()

        def tagged() -> tuple | None:
            try:
                return answer(client.predict(SENTENCE, "tiny", api_name="/tag"))
            except QueueError:
                return None

        assert wait_for(tagged, 60, interval=0.5, what="the queue to take requests again") == expected
        assert train_job.worker.alive()
        stop_job(app, job, train_job, before)
    finally:
        app.close()
