"""Two training runs one after the other (all cores each) against the same two side by side (one
thread each), measured in one run: the time to rebuild a seed average on a small CPU. Each run is
the real ``python -m tagger train`` (casing head, the default recipe) on the first N sentences of
CoNLL-2003 train, scored on the first 500 dev sentences; seeds 13 and 2.

    python bench/bench_side_by_side.py --sentences 1500 --epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CONLL, REPO

from tagger.convert import write
from tagger.data import read_file


def command(train: Path, dev: Path, epochs: int, seed: int, threads: int, out: Path) -> list[str]:
    return [sys.executable, "-m", "tagger", "train", "--train", str(train), "--dev", str(dev), "--head", "casing",
            "--epochs", str(epochs), "--keep", "last", "--fp16", "--seed", str(seed), "--threads", str(threads),
            "--out", str(out)]


def run_all(cmds: list[list[str]], side_by_side: bool) -> float:
    """Wall seconds to run ``cmds``: all at once, or one after the other."""
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if side_by_side:
        procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in cmds]
        for p in procs:
            _, err = p.communicate()
            if p.returncode:
                raise SystemExit(f"training failed: {err[-2000:]}")
    else:
        for c in cmds:
            subprocess.run(c, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - t0


def _loop_seconds(model: Path) -> float:
    """A run's optimisation-loop seconds from its tagger.json (``train_loop_seconds`` before the rename)."""
    meta = json.loads((model / "tagger.json").read_text())
    return meta["loop_seconds"] if "loop_seconds" in meta else meta["train_loop_seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(CONLL))
    ap.add_argument("--sentences", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--json", default="", help="also write the results to this file")
    a = ap.parse_args()
    data = Path(a.data)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train, dev = folder / "train.conll", folder / "dev.conll"
        write(read_file(data / "eng.train").sentences[: a.sentences], "conll", train)
        write(read_file(data / "eng.testa").sentences[:500], "conll", dev)
        seeds = (13, 2)
        one_by_one = run_all([command(train, dev, a.epochs, s, 0, folder / f"seq-{s}") for s in seeds], side_by_side=False)
        together = run_all([command(train, dev, a.epochs, s, 1, folder / f"par-{s}") for s in seeds], side_by_side=True)
        loops = {name: [_loop_seconds(folder / f"{name}-{s}") for s in seeds]
                 for name in ("seq", "par")}
    result = {
        "cpus": os.cpu_count(), "sentences": a.sentences, "epochs": a.epochs,
        "one_after_the_other_s": round(one_by_one, 1), "side_by_side_s": round(together, 1),
        "speedup": round(one_by_one / together, 2), "train_loop_s": loops,
    }
    print(f"{a.sentences} sentences x {a.epochs} epoch(s), seeds 13 and 2, {os.cpu_count()} CPUs:")
    print(f"  one after the other, all threads: {one_by_one:.1f} s (train loops {loops['seq']})")
    print(f"  side by side, 1 thread each:      {together:.1f} s (train loops {loops['par']})")
    print(f"  side by side is {one_by_one / together:.2f}x as fast")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
