"""Continuing the shipped default tagger on a new domain (``TrainConfig.init_from``): does the new
type get learnt, and do the old ones (CoNLL-2003 PER/LOC/ORG/MISC) survive?

For each data set: the default scored on the new domain's test data and on CoNLL-2003 test,
a continued run with the default init-from settings (20% of the training data held out), the new
model scored on both again. New-domain scores count the data's own types only (an old type the
data does not annotate is neither right nor wrong there; tagger.continual).

    python bench/bench_init_from.py                          # both data sets, CoNLL test in full
    python bench/bench_init_from.py --limit 100 --conll-limit 1000 --sets drugs   # the speed check
    python bench/bench_init_from.py --no-keep-old-types      # the ablation: train on the data's O as it is
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import CONLL, DATA, header, publish

from tagger.config import TrainConfig
from tagger.continual import entity_types
from tagger.data import Sentence, read_files, split_holdout
from tagger.meta import default_model_path
from tagger.model import load_tagger
from tagger.train import evaluate_tagger, train

SETS = {
    "drugs": (["prodigy-drugs/drugs_training.jsonl"], ["prodigy-drugs/drugs_eval.jsonl"]),
    "multileg": (["doccano-multileg-en/train"], ["doccano-multileg-en/test"]),
}


def _files(parts: list[str]) -> list[Path]:
    out: list[Path] = []
    for part in parts:
        path = DATA / part
        out += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return out


def _first_docs(sentences: list[Sentence], limit: int) -> list[Sentence]:
    """The sentences of the first ``limit`` documents (records of a span file), all when 0."""
    if not limit:
        return sentences
    docs = sorted({s.doc for s in sentences})[:limit]
    keep = set(docs)
    return [s for s in sentences if s.doc in keep]


def _scores(model: Any, sentences: list[Sentence], types: set[str] | None) -> dict[str, Any]:
    return evaluate_tagger(model, sentences, types=types)


def run_set(name: str, args: argparse.Namespace, conll: list[Sentence], conll_before: dict[str, Any]) -> dict[str, Any]:
    train_parts, test_parts = SETS[name]
    train_set = _first_docs(read_files(_files(train_parts)).sentences, args.limit)
    test_set = read_files(_files(test_parts)).sentences
    types = entity_types(t for s in train_set for t in s.tags)
    default = load_tagger(args.model, device="cpu")
    before = _scores(default, test_set, types)
    config = TrainConfig(init_from=str(args.model), keep_old_types=not args.no_keep_old_types, device="cpu",
                         **{k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("head_lr", args.head_lr)) if v is not None})
    # held out as tagger.preflight.read_training_data does without a dev file (config.dev_fraction, seeded)
    train_part, dev_part = split_holdout(train_set, config.dev_fraction, config.seed)
    with tempfile.TemporaryDirectory(prefix="bench-init-from-") as tmp:
        out = args.keep_models / name if args.keep_models else Path(tmp) / "model"
        t0 = time.perf_counter()
        result = train(config, train_part, dev_part, out)
        seconds = time.perf_counter() - t0
        new = load_tagger(out, device="cpu")
        labels = new.labels
    after = _scores(new, test_set, types)
    conll_after = _scores(new, conll, None)
    return {"set": name, "train_sentences": len(train_part), "train_docs": len({s.doc for s in train_set}), "types": sorted(types),
            "before": before, "after": after, "conll_before": conll_before, "conll_after": conll_after, "seconds": seconds,
            "loop_seconds": result.loop_seconds, "held_out_before": result.before, "held_out_after": result.dev,
            "best_epoch": result.best_epoch, "labels": labels, "config": config.to_dict()}


def _cell(typ: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """``F1 before -> after (support)`` of one type, empty where neither scored it."""
    b, a = before["per_type"].get(typ), after["per_type"].get(typ)
    if a is None and b is None:
        return ""
    return f"{(b or {}).get('f1', 0.0):.1f} -> {(a or {}).get('f1', 0.0):.1f} ({(a or b or {}).get('support', 0):,})"


def table(rows: list[dict[str, Any]]) -> list[str]:
    out = [("| data set | train sentences (docs) | new-domain F1 before -> after | held-out F1 before -> after | "
            "CoNLL test F1 before -> after | seconds (loop) |"),
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['set']} | {r['train_sentences']:,} ({r['train_docs']:,}) | {r['before']['f1']:.2f} -> {r['after']['f1']:.2f} | "
                   f"{r['held_out_before']['f1']:.2f} -> {r['held_out_after']['f1']:.2f} | "
                   f"{r['conll_before']['f1']:.2f} -> {r['conll_after']['f1']:.2f} | {r['seconds']:.0f} ({r['loop_seconds']:.0f}) |")
    out += ["", "Per type (F1 before -> after; support):", "",
            "| data set | type | new domain | CoNLL test |", "| --- | --- | ---: | ---: |"]
    for r in rows:
        for typ in sorted(set(r["after"]["per_type"]) | set(r["conll_after"]["per_type"])):
            out.append(f"| {r['set']} | {typ} | {_cell(typ, r['before'], r['after'])} | {_cell(typ, r['conll_before'], r['conll_after'])} |")
    return out


def _overrides(args: argparse.Namespace) -> str:
    given = [f"--{k.replace('_', '-')} {v:g}" for k, v in (("epochs", args.epochs), ("lr", args.lr), ("head_lr", args.head_lr)) if v is not None]
    return f" except {', '.join(given)}" if given else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["drugs", "multileg"])
    ap.add_argument("--limit", type=int, default=0, help="train on the first N documents (records) only (0: all)")
    ap.add_argument("--conll-limit", type=int, default=0, help="score the first N CoNLL-2003 test sentences (0: all 3,453)")
    ap.add_argument("--model", type=Path, default=default_model_path(), help="the tagger to continue (default: the shipped default)")
    ap.add_argument("--epochs", type=int, help="override the init-from default")
    ap.add_argument("--lr", type=float, help="override the init-from default")
    ap.add_argument("--head-lr", type=float, help="override the init-from default")
    ap.add_argument("--no-keep-old-types", action="store_true", help="train on the data's O as it is (the ablation)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    ap.add_argument("--keep-models", type=Path, help="save the continued models in this folder (one per data set)")
    ap.add_argument("--write", action="store_true", help="put the section into docs/BENCHMARKS.md")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"needs the data sets at {DATA}", file=sys.stderr)
        return 2
    conll = read_files([CONLL / "eng.testb"]).sentences
    conll = conll[: args.conll_limit] if args.conll_limit else conll
    conll_before = _scores(load_tagger(args.model, device="cpu"), conll, None)
    rows = [run_set(name, args, conll, conll_before) for name in args.sets]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    lines = header("Continuing a tagger on a new domain (init_from)") + [
        (f"The shipped default continued on each data set's training part ({f'first {args.limit}' if args.limit else 'all'} documents; 20% of them held "
         f"out for the best epoch and the before/after F1), CoNLL-2003 test: {len(conll):,} sentences. "
         f"Settings: the init-from defaults{_overrides(args)}: epochs {rows[0]['config']['epochs']}, lr {rows[0]['config']['lr']:g} "
         f"(encoder, old rows), head_lr {rows[0]['config']['head_lr']:g} (new rows), keep_old_types={not args.no_keep_old_types}. "
         "Seconds: the whole run (loading, scoring the old model, training, dev scoring per epoch, saving), in brackets the "
         "optimisation loop."), ""] + table(rows)
    name = "init-from" + (f"-limit-{args.limit}" if args.limit else "") + ("-ablation" if args.no_keep_old_types else "")
    publish(name, lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
