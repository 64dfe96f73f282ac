"""``python -m tagger train|evaluate|predict|report``. Errors print one line and exit 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .config import DEFAULT_BASE, HEADS, ConfigError, TrainConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = Path(os.environ.get("TAGGER_DEFAULT_MODEL", REPO_ROOT / "models" / "default"))
BACKEND_HELP = (
    "onnx: ONNX Runtime on a cached export of the model (same labels as torch, 1.6-2.2x faster for one sentence; "
    "the first use of a model exports it, seconds)"
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tagger", description="Fine-tune and run BERT sequence taggers.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune a tagger on a labeled file")
    t.add_argument("--train", required=True, help="CoNLL-style columns or JSONL")
    t.add_argument("--dev", help="dev file (default: hold out 10%% of --train)")
    t.add_argument("--base", default=DEFAULT_BASE, help="hub id, local folder, or packaged:<pypi-name>")
    t.add_argument("--head", default=TrainConfig.head, choices=HEADS)
    t.add_argument("--label-column", type=int, default=-1, help="column with the labels (default: last)")
    t.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    t.add_argument("--lr", type=float, default=TrainConfig.lr)
    t.add_argument("--head-lr", type=float, default=TrainConfig.head_lr)
    t.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    t.add_argument("--max-length", type=int, default=TrainConfig.max_length)
    t.add_argument(
        "--attention-dropout", type=float, default=TrainConfig.attention_dropout,
        help="dropout on attention probabilities (default 0: less memory, faster steps; BERT's own value is 0.1)",
    )
    t.add_argument("--seed", type=int, default=TrainConfig.seed)
    t.add_argument("--device", default=TrainConfig.device)
    t.add_argument("--fp16", action="store_true", help="store weights in fp16 (half the size)")
    t.add_argument("--test", help="also score this file and store the result in the checkpoint")
    t.add_argument("--out", required=True, help="checkpoint folder to write")

    e = sub.add_parser("evaluate", help="precision/recall/F1 of a tagger on a labeled file")
    e.add_argument("--data", required=True)
    e.add_argument("--model", default=str(DEFAULT_MODEL))
    e.add_argument("--label-column", type=int, default=-1)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--backend", choices=("torch", "onnx"), default="torch", help=BACKEND_HELP)

    pr = sub.add_parser("predict", help="tag text; prints JSON lines")
    pr.add_argument("text", nargs="?", help="text to tag")
    pr.add_argument("--file", help="tag this file (one document unless --lines)")
    pr.add_argument("--lines", action="store_true", help="each line of --file is its own text")
    pr.add_argument("--model", default=str(DEFAULT_MODEL))
    pr.add_argument("--quantize", action="store_true", help="int8 dynamic quantisation (faster on CPU, scores differ slightly)")
    pr.add_argument("--backend", choices=("torch", "onnx"), default="torch", help=BACKEND_HELP)

    r = sub.add_parser("report", help="read a labeled file and print its data report")
    r.add_argument("file")
    r.add_argument("--label-column", type=int, default=-1)
    return p


def _train(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from .data import read_file
    from .model import load_tagger, save_tagger
    from .train import TrainEvent, evaluate_tagger, train_files

    config = TrainConfig(
        base=args.base, head=args.head, epochs=args.epochs, lr=args.lr, head_lr=args.head_lr, batch_size=args.batch_size,
        max_length=args.max_length, label_column=args.label_column, seed=args.seed, device=args.device,
        attention_dropout=args.attention_dropout,
    )
    def on_event(event: TrainEvent) -> None:
        if event.kind == "epoch" and event.dev is not None:
            tqdm.write(f"epoch {event.epoch:.0f}: loss {event.loss:.4f}, dev F1 {event.dev['f1']:.2f}")

    result = train_files(config, args.train, args.dev, args.out, callback=on_event, progress=True)
    print(f"best epoch {result.best_epoch}: dev F1 {result.dev['f1']:.2f}; {result.seconds:.0f} s, "
          f"{result.sentences_per_second:.1f} sentences/s -> {result.out_dir}")
    if args.fp16:  # re-score below so the stored scores are those of the weights as shipped
        save_tagger(load_tagger(result.out_dir), result.out_dir, fp16=True)
    if args.test or args.fp16:
        tagger = load_tagger(result.out_dir)
        if args.fp16 and args.dev:
            tagger.meta["dev"] = evaluate_tagger(tagger, read_file(args.dev, args.label_column).sentences)
            print(f"dev F1 (fp16 weights) {tagger.meta['dev']['f1']:.2f}")
        if args.test:
            tagger.meta["test"] = evaluate_tagger(tagger, read_file(args.test, args.label_column).sentences)
            tagger.meta["test_file"] = Path(args.test).name
            print(f"test F1 {tagger.meta['test']['f1']:.2f}")
        save_tagger(tagger, result.out_dir, fp16=args.fp16)


def _evaluate(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from .data import read_file
    from .metrics import format_scores, score
    from .predict import Predictor

    data = read_file(args.data, args.label_column)
    predictor = Predictor.from_dir(args.model, backend=args.backend)
    sents = data.sentences
    pred: list[list[str]] = []
    chunk = 512
    for i in tqdm(range(0, len(sents), chunk), desc="evaluate", unit="chunk", disable=args.json or len(sents) <= chunk):
        pred += [[label for label, _ in p] for p in predictor.tag_words([s.words for s in sents[i : i + chunk]])]
    scores = score([s.tags for s in sents], pred)
    if args.json:
        print(json.dumps({k: scores[k] for k in ("precision", "recall", "f1", "accuracy", "per_type")}))
    else:
        print(format_scores(scores))


def _predict(args: argparse.Namespace) -> None:
    from .predict import Predictor

    if args.file:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
        texts = [ln for ln in text.splitlines() if ln.strip()] if args.lines else [text]
    elif args.text is not None:
        texts = [args.text]
    else:
        texts = [ln.rstrip("\n") for ln in sys.stdin if ln.strip()]
    predictor = Predictor.from_dir(args.model, quantize=args.quantize, backend=args.backend)
    for pred in predictor.predict_batch(texts):
        d = pred.to_dict()
        print(json.dumps({"text": d["text"], "entities": d["entities"], "words": d["words"]}, ensure_ascii=False))


def _report(args: argparse.Namespace) -> None:
    from .data import read_file

    print(read_file(args.file, args.label_column).report.summary())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .data import DataError
    from .model import ModelError
    from .predict import InputError
    from .train import TrainingCancelled, TrainingError

    t0 = time.perf_counter()
    try:
        {"train": _train, "evaluate": _evaluate, "predict": _predict, "report": _report}[args.command](args)
    except (DataError, ConfigError, ModelError, InputError, TrainingError, TrainingCancelled, FileNotFoundError, ImportError) as err:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]  # transformers' messages span lines
        print(f"error: {' '.join(lines)}", file=sys.stderr)
        return 2
    if args.command == "train":
        print(f"done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0
