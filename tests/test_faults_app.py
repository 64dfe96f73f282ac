"""The app killed with SIGKILL in the middle of a training job (the OOM killer, a Space restart):
on the next start the half-written run is removed, the complete runs are listed, the job's owner
is told what happened, and nothing outside the models folder is touched.

The app runs as its own process (``python app.py``) on the tiny base.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import DEV_FILE, REPO, TRAIN_FILE, free_port, wait_for

pytestmark = [pytest.mark.app, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the worker process")]
SENTENCE = "Angela Merkel visited Paris today."


def children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.update(int(c) for c in text)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except OSError:
        return False
    return state != "Z"


def start(models: Path, tiny_base: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, TAGGER_MODELS_DIR=str(models), TAGGER_WARMUP="0", TAGGER_PREWARM_WORKER="0", TAGGER_PRIVATE_RUNS="0",
               TAGGER_TRAIN_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "app.py", "--port", str(port), "--base", f"tiny={tiny_base}"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        import urllib.request

        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(url + "config", timeout=2):
                return True
        except OSError:
            return False

    wait_for(up, 180, interval=0.5, what="the app to start")
    return proc


def test_faults_app_sigkill_during_a_job(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(tiny_tagger, models / "trained-earlier")  # a complete run from before
    outside = tmp_path / "outside"  # a sibling of the models folder: must stay as it is
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    (outside / "notes.txt").write_text("mine")
    before_outside = sorted((p.name, p.stat().st_mtime_ns) for p in outside.iterdir())
    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    log = tmp_path / "app.log"

    app = start(models, tiny_base, free_port(), log)
    try:
        url = f"http://127.0.0.1:{app.args[app.args.index('--port') + 1]}/"
        client = Client(url, verbose=False)
        job = client.submit(handle_file(str(big)), handle_file(str(DEV_FILE)), "tiny", "linear", 20, 0.005, 1, 64, -1,
                            api_name="/train")
        wait_for(lambda: any("step" in (o[0] or "") for o in job.outputs()), 300, what="training steps")
        job_id, token = job.outputs()[-1][6:8]
        workers = children(app.pid)
        assert workers and (models / job_id / "job.json").is_file()  # a run in the making
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
    # the kernel ends the worker with the app (no orphan keeps training or writing)
    wait_for(lambda: not any(alive(pid) for pid in workers), 30, what="the worker to die with the app")
    assert (models / job_id).is_dir()  # the half-written run is still there...
    (models / f".{job_id}.tmp-x1y2z3").mkdir()  # ...with what a save killed mid-write leaves

    again = start(models, tiny_base, free_port(), log)
    try:
        url = f"http://127.0.0.1:{again.args[again.args.index('--port') + 1]}/"
        client = Client(url, verbose=False)
        assert not (models / job_id).exists() and not (models / f".{job_id}.tmp-x1y2z3").exists()  # ...removed at start-up
        names = {m["name"]: m for m in client.predict("", api_name="/models")}
        assert "trained-earlier" in names and job_id not in names  # the complete run is listed
        assert client.predict(SENTENCE, "trained-earlier", "", api_name="/tag")[2]["text"] == SENTENCE
        status = client.predict(job_id, token, api_name="/status")  # the owner learns what happened
        assert status["state"] == "failed" and "restarted during this job" in status["status"]
        assert sorted((p.name, p.stat().st_mtime_ns) for p in outside.iterdir()) == before_outside
        assert sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) == ["trained-earlier"]
        meta = json.loads((models / "trained-earlier" / "tagger.json").read_text())
        assert meta["labels"]  # untouched, still readable
    finally:
        again.send_signal(signal.SIGINT)
        try:
            again.wait(timeout=30)
        except subprocess.TimeoutExpired:
            again.kill()
        time.sleep(0.2)
