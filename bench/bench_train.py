"""Training speed of our trainer vs the Hugging Face ``Trainer`` (run_ner recipe).

Both fine-tune the packaged MiniLM with a linear head on the same CoNLL-2003 train subset, with
the same batch size, peak learning rate, max length and number of epochs, then tag eng.testa
(dev) and score it with seqeval (tagger.metrics.score). Each trainer runs in its own fresh
process (so peak RSS is its own). The HF side follows examples/pytorch/token-classification/
run_ner.py: AutoModelForTokenClassification, label on the first sub-token, -100 elsewhere,
DataCollatorForTokenClassification (dynamic padding, no padding to max length), Trainer
defaults for everything else (random batches, no warm-up, weight decay 0).

    python bench/bench_train.py [--sentences 3000] [--epochs 1] [--write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from common import CONLL, fmt, header, peak_rss_mb, publish, section_suffix, window_lengths

from tagger.config import DEFAULT_BASE, TrainConfig
from tagger.data import Sentence, read_file


def load(args: argparse.Namespace) -> tuple[list[Sentence], list[Sentence]]:
    train = read_file(Path(args.data) / "eng.train").sentences[: args.sentences]
    dev = read_file(Path(args.data) / "eng.testa").sentences
    return train, dev[: args.dev_sentences] if args.dev_sentences else dev


def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from tagger.train import train

    train_set, dev = load(args)
    config = TrainConfig(
        base=args.base, head="linear", epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_length=args.max_length,
        seed=args.seed, **({} if args.attention_dropout is None else {"attention_dropout": args.attention_dropout}),
    )
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        t0 = time.perf_counter()
        result = train(config, train_set, dev, Path(tmp) / "model")
        wall = time.perf_counter() - t0
    return {
        "sentences_per_second": result.sentences_per_second,
        "train_seconds": result.loop_seconds,  # the optimisation loop (TrainResult.loop_seconds)
        "wall_seconds": wall,
        "dev_f1": result.dev["f1"],
        "peak_rss_mb": peak_rss_mb(),
    }


def run_hf(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    from tagger.metrics import score
    from tagger.model import resolve_base
    from tagger.train import label_list

    hf_logging.set_verbosity_error()
    train_set, dev = load(args)
    labels = label_list(train_set, dev)
    label2id = {label: i for i, label in enumerate(labels)}
    base = resolve_base(args.base)
    tok = AutoTokenizer.from_pretrained(base)

    def encode(s: Sentence) -> tuple[dict[str, Any], list[int]]:
        """run_ner's tokenize_and_align_labels (label_all_tokens=False); also the word index
        of each first sub-token (-1 elsewhere), to map predictions back to words."""
        enc = tok(s.words, truncation=True, max_length=args.max_length, is_split_into_words=True)
        prev = None
        first = []
        for wid in enc.word_ids():
            first.append(-1 if wid is None or wid == prev else wid)
            prev = wid
        return {**enc, "labels": [label2id[s.tags[w]] if w >= 0 else -100 for w in first]}, first

    train_ds = [encode(s)[0] for s in train_set]
    dev_enc = [encode(s) for s in dev]
    dev_ds = [{k: v for k, v in item.items() if k != "labels"} for item, _ in dev_enc]
    set_seed(args.seed)  # as run_ner: before the model, so the new classifier's initial weights are seeded
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id, dtype=torch.float32
    )
    with tempfile.TemporaryDirectory(prefix="bench-hf-") as tmp:
        targs = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=64,
            learning_rate=args.lr, num_train_epochs=args.epochs, seed=args.seed, report_to="none",
            save_strategy="no", logging_strategy="no", use_cpu=True, disable_tqdm=True,
        )
        trainer = Trainer(model=model, args=targs, train_dataset=train_ds, data_collator=DataCollatorForTokenClassification(tok))
        t0 = time.perf_counter()
        out = trainer.train()
        wall = time.perf_counter() - t0
        pred = trainer.predict(dev_ds)
    best = np.argmax(pred.predictions, axis=-1)
    tags = []
    for i, s in enumerate(dev):
        words = ["O"] * len(s.words)  # words cut off by truncation stay "O", as in run_ner
        for j, wid in enumerate(dev_enc[i][1]):
            if wid >= 0:
                words[wid] = labels[int(best[i, j])]
        tags.append(words)
    return {
        "sentences_per_second": out.metrics["train_samples_per_second"],
        "train_seconds": out.metrics["train_runtime"],
        "wall_seconds": wall,
        "dev_f1": score([s.tags for s in dev], tags)["f1"],
        "peak_rss_mb": peak_rss_mb(),
        "optimizer": getattr(targs.optim, "value", str(targs.optim)),
    }


def padding(args: argparse.Namespace) -> dict[str, int]:
    """Sub-tokens per epoch: real, in our length-bucketed batches, and in a seeded random order
    padded to each batch's longest (the Trainer's RandomSampler + DataCollatorForTokenClassification)."""
    import random

    from tagger.features import length_batches

    train_set, _ = load(args)
    lengths = window_lengths(args.base, [s.words for s in train_set], args.max_length)
    order = list(range(len(lengths)))
    random.Random(args.seed).shuffle(order)
    shuffled = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]

    def padded(batches: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) for b in batches)

    return {"real": sum(lengths), "ours": padded(length_batches(lengths, args.batch_size, seed=args.seed)), "random": padded(shuffled)}


def child(args: argparse.Namespace, which: str) -> dict[str, Any]:
    """Run one trainer in a fresh process; return its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [sys.executable, __file__, "--only", which, "--json", f.name] + _pass_through(args)
        print(f"running {which} ...", file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=sys.stderr)  # the Trainer prints its metrics dict
        return json.loads(Path(f.name).read_text())


def _pass_through(args: argparse.Namespace) -> list[str]:
    return [
        "--sentences", str(args.sentences), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
        "--lr", str(args.lr), "--max-length", str(args.max_length), "--seed", str(args.seed), "--base", args.base,
        "--data", str(args.data), "--dev-sentences", str(args.dev_sentences),
    ] + ([] if args.attention_dropout is None else ["--attention-dropout", str(args.attention_dropout)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=3000, help="first N sentences of eng.train")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--max-length", type=int, default=TrainConfig.max_length)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--base", default=DEFAULT_BASE)
    ap.add_argument("--data", default=str(CONLL), help="folder with eng.train and eng.testa")
    ap.add_argument("--dev-sentences", type=int, default=0, help="first N dev sentences only (0 = all)")
    ap.add_argument("--only", choices=["ours", "hf"], help="run one trainer in this process")
    ap.add_argument("--json", help="with --only: write the result here")
    ap.add_argument(
        "--attention-dropout", type=float, default=None,
        help=f"ours: TrainConfig.attention_dropout (default: ours, {TrainConfig.attention_dropout}; the Trainer's model has BERT's 0.1)",
    )
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")

    if args.only:
        result = run_ours(args) if args.only == "ours" else run_hf(args)
        text = json.dumps(result)
        Path(args.json).write_text(text) if args.json else print(text)
        return 0

    variant = "" if args.attention_dropout is None else f", ours with attention_dropout={args.attention_dropout:g}"
    lines = header(f"Training: our trainer vs Hugging Face Trainer{variant}")  # before the runs: warns if others are training
    ours = child(args, "ours")
    hf = child(args, "hf")
    ratio = ours["sentences_per_second"] / hf["sentences_per_second"]
    pad = padding(args)
    lines += [
        (f"Packaged MiniLM (`{args.base}`), linear head; first {args.sentences:,} sentences of CoNLL-2003 eng.train, "
        f"{args.epochs} epoch(s), batch {args.batch_size}, lr {args.lr:g}, max length {args.max_length}, torch default "
        "threads; dev F1 = seqeval entity F1 on eng.testa after training. Sentences/s count the optimisation loop only "
        "(ours: `TrainResult.sentences_per_second`; Trainer: `train_samples_per_second`)."),
        "",
        "| trainer | sentences/s | train s | dev F1 | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
        (f"| ours (`tagger.train.train`) | {ours['sentences_per_second']:.1f} | {ours['train_seconds']:.1f} | "
        f"{ours['dev_f1']:.2f} | {fmt(ours['peak_rss_mb'])} |"),
        (f"| HF Trainer (run_ner recipe, optim {hf.get('optimizer', '?')}) | {hf['sentences_per_second']:.1f} | "
        f"{hf['train_seconds']:.1f} | {hf['dev_f1']:.2f} | {fmt(hf['peak_rss_mb'])} |"),
        "",
        f"Ours vs Trainer: **{ratio:.2f}x** sentences/s, dev F1 {ours['dev_f1'] - hf['dev_f1']:+.2f}.",
        "",
        (f"Where the difference comes from: the Trainer's random batches are padded to their longest sentence "
        f"({pad['random'] / pad['real']:.1f}x the real sub-tokens on this subset, for a seeded random order); ours are "
        f"length-bucketed ({pad['ours'] / pad['real'] - 1:.0%} padding), and our BERT's training forward skips even that "
        "padding in its position-wise layers (projections, feed-forward, LayerNorm, dropout) and runs the last layer "
        "only for the scored first sub-tokens. Our dropout masks take one 64-bit random draw per 4 elements (torch: one "
        "per element). Both use fused AdamW. Attention-probability dropout: "
        + f"{TrainConfig.attention_dropout if args.attention_dropout is None else args.attention_dropout:g} in ours "
        + ("(our default)" if args.attention_dropout is None else "(`--attention-dropout`)")
        + ", 0.1 in the Trainer's model (BERT's own value, as run_ner leaves it)."),
    ]
    publish("train" + section_suffix(args.attention_dropout), lines, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
