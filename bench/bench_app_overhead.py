"""In-app overhead of fine-tuning: the same training job through the app's API (``gradio_client``,
no browser) and through the CLI, in one run, in alternating order (CLI, app, app, CLI, ...).

- CLI: ``python -m tagger train --train FILE --epochs N --out DIR``, wall time from process start
  to exit (imports, reading, model load, training, dev evaluation, saving).
- App: ``python app.py`` started beforehand and left to warm up (default model loaded, spare
  training worker with torch imported), then ``/train`` with the same file and settings; wall
  time from the call to its final answer (the run saved and registered, the zip made).

Both also report the ``train()`` wall time the run recorded in its ``tagger.json``, which splits
the difference into "around training" (process, imports, queue, events, zip) and "inside
training" (a slower loop, e.g. from threads competing with the app process), and the CPU time
each path used (CLI: the process; app: the training worker plus the app process itself, read
from /proc while the job runs). On a machine other work shares, wall times of identical runs
vary; the CPU time of the app process during the job is its own cost, whatever else runs.

    python bench/bench_app_overhead.py [--train FILE] [--epochs 1] [--rounds 2] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import DATA, REPO, header, publish, running_app

TARGET = 0.10  # at most 10% more wall time in the app
SETTLE_S = 600


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


class CpuSampler:
    """While a job runs in the app: the app process's own CPU, and each child's CPU growth (the
    training worker's, sampled every 0.2 s until it exits)."""

    def __init__(self, app_pid: int) -> None:
        self.app_pid, self.start = app_pid, {}
        self.last: dict[int, float] = {}
        self.app0 = cpu_of(app_pid)
        for child in child_pids(app_pid):
            self.start[child] = self.last[child] = cpu_of(child)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for child in child_pids(self.app_pid):
                try:
                    self.last[child] = cpu_of(child)
                except OSError:
                    continue
                self.start.setdefault(child, 0.0)  # started during the job: all its CPU is the job's

    def stop(self) -> tuple[float, float]:
        """(app process CPU s, busiest child's CPU s) during the job."""
        self._stop.set()
        self._thread.join()
        worker = max((self.last[c] - self.start[c] for c in self.last), default=0.0)
        return cpu_of(self.app_pid) - self.app0, worker


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_idle(pid: int, quiet_s: float = 3.0, limit: float = SETTLE_S) -> float:
    """Wait until the app (and its workers) used < 5% of a core for ``quiet_s`` seconds: warm-up
    and the spare worker's imports are over. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = tree_cpu_seconds(pid)
        time.sleep(quiet_s)
        if tree_cpu_seconds(pid) - before < 0.05 * quiet_s:
            return time.monotonic() - t0
    raise RuntimeError("the app did not settle")


def cli_run(train: str, epochs: int, out: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "tagger", "train", "--train", train, "--epochs", str(epochs), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "train": json.loads((out / "tagger.json").read_text())["wall_seconds"], "cpu": cpu, "app_cpu": 0.0}


def app_run(client: object, app_pid: int, train: str, epochs: int, models_dir: Path) -> dict[str, float]:
    from gradio_client import handle_file

    from tagger.config import TrainConfig

    c = TrainConfig()
    sampler = CpuSampler(app_pid)
    t0 = time.perf_counter()
    result = client.predict(handle_file(train), None, "MiniLM-L6 (packaged, uncased)", c.head, epochs, c.lr, c.batch_size,  # type: ignore[attr-defined]
                            c.max_length, -1, api_name="/train")
    wall = time.perf_counter() - t0
    app_cpu, worker_cpu = sampler.stop()
    assert result[0].startswith("✓ Done"), result[0]
    train_s = json.loads((models_dir / result[6] / "tagger.json").read_text())["wall_seconds"]
    return {"wall": wall, "train": train_s, "cpu": worker_cpu + app_cpu, "app_cpu": app_cpu}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", default=str(DATA / "sec-filings" / "FIN5.txt"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2, help="each round runs CLI+app, in alternating order (ABBA...)")
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    from gradio_client import Client

    lines = header(f"In-app overhead of a training job: app API vs CLI ({Path(args.train).name}, {args.epochs} epoch(s))")
    runs: dict[str, list[dict[str, float]]] = {"cli": [], "app": []}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        models = Path(tmp) / "app-models"
        with running_app(models) as (proc, url, _):
            client = None
            for _ in range(600):
                try:
                    client = Client(url, verbose=False)
                    break
                except Exception:  # noqa: BLE001 -- not up yet
                    time.sleep(0.5)
            assert client is not None, "the app did not start"
            settled = wait_idle(proc.pid)
            order = [("cli", "app") if r % 2 == 0 else ("app", "cli") for r in range(args.rounds)]
            for r, pair in enumerate(order):
                for kind in pair:
                    if kind == "cli":
                        runs["cli"].append(cli_run(args.train, args.epochs, Path(tmp) / f"cli-{r}"))
                    else:
                        wait_idle(proc.pid)  # the spare worker is back (started a second after the last job)
                        runs["app"].append(app_run(client, proc.pid, args.train, args.epochs, models))
                    print(f"round {r + 1} {kind}: {runs[kind][-1]}", flush=True)

    def mean(kind: str, key: str) -> float:
        return statistics.mean(r[key] for r in runs[kind])

    def walls(kind: str) -> str:
        return ", ".join(f"{r['wall']:.1f}" for r in runs[kind])

    cli_wall, app_wall = mean("cli", "wall"), mean("app", "wall")
    cli_train, app_train = mean("cli", "train"), mean("app", "train")
    extra = app_wall / cli_wall - 1
    lines += [
        (f"Same job both ways: `{Path(args.train).name}`, {args.epochs} epoch(s), default config, 10% held out as dev. "
         f"Order: {', '.join('/'.join(p) for p in order)} ({args.rounds} rounds). The app was started and left to "
         f"settle first ({settled:.0f} s: default model loaded, spare worker ready); the CLI pays its imports each run."),
        "",
        "| path | wall s, each run | wall s, mean | train() s, mean | outside train() s | CPU s, mean | of which the app process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        (f"| CLI `python -m tagger train` | {walls('cli')} | {cli_wall:.1f} | "
         f"{cli_train:.1f} | {cli_wall - cli_train:.1f} | {mean('cli', 'cpu'):.1f} | – |"),
        (f"| app `/train` (gradio_client) | {walls('app')} | {app_wall:.1f} | "
         f"{app_train:.1f} | {app_wall - app_train:.1f} | {mean('app', 'cpu'):.1f} | {mean('app', 'app_cpu'):.1f} |"),
        "",
        (f"App / CLI wall time: **{app_wall / cli_wall:.3f}** ({extra:+.1%}; target at most +{TARGET:.0%}: "
         f"{'met' if extra <= TARGET else 'missed'}). Inside `train()` the app's run took {app_train / cli_train:.3f}x the CLI's. "
         f"CPU time, app / CLI: {mean('app', 'cpu') / mean('cli', 'cpu'):.3f}; the app process itself (server, queue, "
         f"event polling, the /train stream, the zip) used {mean('app', 'app_cpu') / app_wall:.1%} of one core during the job."),
    ]
    publish("app-overhead", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
