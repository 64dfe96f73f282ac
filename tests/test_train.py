"""tagger.train data-parallel: the multi-GPU path (``accelerate launch --multi_gpu`` = torchrun +
Accelerator/DDP), exercised with 2 CPU processes and gloo under torchrun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow  # the torchrun test; the keep test is quick

SCRIPT = """
import sys
from tagger.config import TrainConfig
from tagger.data import Sentence
from tagger.train import train

sents = [
    Sentence(["Angela", "Merkel", "visited", "Paris", "today", "."], ["B-PER", "I-PER", "O", "B-LOC", "O", "O"]),
    Sentence(["John", "lives", "in", "Berlin", "now"], ["B-PER", "O", "O", "B-LOC", "O"]),
] * 4
cfg = TrainConfig(base=sys.argv[1], head="casing", epochs=30, lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0, max_length=64,
                  device="cpu")  # 2 gloo ranks on the CPU, also on a machine with one GPU
result = train(cfg, sents, sents[:2], sys.argv[2])
import torch.distributed as dist
# one file per rank: lines printed by two processes to one pipe can interleave
with open(f"{sys.argv[3]}/rank{dist.get_rank()}.txt", "w") as f:
    f.write(f"{dist.get_world_size()} {result.best_epoch} {result.dev['f1']}")
"""


def test_train_data_parallel_with_two_processes(tiny_base: Path, tmp_path: Path) -> None:
    """Two data-parallel processes (gloo on the CPU, as DDP on GPUs): the same train() runs
    unchanged, only the main process writes the checkpoint, and the result tags as trained."""
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    out = tmp_path / "model"
    ranks_dir = tmp_path / "ranks"
    ranks_dir.mkdir()
    # `accelerate launch --cpu` starts one process (several need mpirun); its --multi_gpu launcher
    # is torchrun, which on the CPU gives Accelerator two gloo ranks: the DDP code path of GPUs
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script), str(tiny_base), str(out), str(ranks_dir)]
    run = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    # world size 2, and both ranks ran the whole loop to the same best epoch
    assert sorted(f.name for f in ranks_dir.iterdir()) == ["rank0.txt", "rank1.txt"], run.stdout
    results = {f.read_text() for f in ranks_dir.iterdir()}
    assert len(results) == 1 and results.pop().startswith("2 "), results
    from tagger.predict import Predictor

    pred = Predictor.from_dir(out).predict("Angela Merkel visited Paris today.")
    assert [(e.text, e.label) for e in pred.entities] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert sorted(p.name for p in out.parent.iterdir()) == ["job.py", "model", "ranks"]  # no temp folder left


@pytest.mark.parametrize("keep", ["best", "last"])
def test_train_keeps_the_best_or_the_last_epoch(keep: str, tiny_base: Path, tmp_path: Path) -> None:
    """``keep="last"`` (a refit on train + dev) saves the final epoch whatever its dev score;
    ``"best"`` the epoch with the best dev F1. The saved weights are that epoch's."""
    from support import two_sentences

    from tagger.config import TrainConfig
    from tagger.model import load_tagger
    from tagger.train import evaluate_tagger, train

    sents = two_sentences()
    cfg = TrainConfig(base=str(tiny_base), head="linear", epochs=4, lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0,
                      max_length=64, case_lower=0.0, case_upper=0.0, case_unknown=0.0, keep=keep)
    result = train(cfg, sents, sents, tmp_path / "m")
    f1s = [h["dev_f1"] for h in result.history]
    assert result.best_epoch == (4 if keep == "last" else f1s.index(max(f1s)) + 1)
    saved = load_tagger(tmp_path / "m", device="cpu")
    assert saved.meta["best_epoch"] == result.best_epoch and saved.config.keep == keep
    assert evaluate_tagger(saved, sents)["f1"] == pytest.approx(f1s[result.best_epoch - 1], abs=1e-6)
    with pytest.raises(Exception, match="keep"):
        TrainConfig(keep="first")
