"""``python -m tagger train|average|evaluate|predict|report|convert``, plus the commands installed
packages register (``app``: the web app). Errors print one line and exit 2."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import readers
from .cli_data import add_data_options, add_report_and_convert, run_convert, run_report
from .cli_data import read as read_data
from .cli_predict import add_predict, run_predict
from .config import DECODES, DEFAULT_BASE, HEADS, TrainConfig
from .device import PRECISIONS, launched, resolve_device
from .errors import TaggerError
from .meta import default_model_path
from .readers.base import parse_label_list

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .model import Tagger

DEFAULT_MODEL = default_model_path()  # $TAGGER_DEFAULT_MODEL, the installed package data, or the checkout's models/default
DEVICE_HELP = "auto (default): CUDA when available, then Apple MPS, else the CPU; or cpu, cuda, cuda:N, mps"
BACKEND_HELP = (
    "onnx: ONNX Runtime on a cached export of the model (same labels as torch, faster on the CPU: see docs/BENCHMARKS.md; "
    "the first use of a model exports it, seconds)"
)
# Commands from other installed packages: entry points in this group, name -> a callable main(argv, prog).
# The library never imports the app; the app registers `tagger app` here (pyproject.toml).
PLUGIN_GROUP = "tagger.commands"
APP = "app"
PLUGIN_HELP = {APP: "launch the web app (options: tagger app --help)"}
APP_MISSING = ("error: the web app is not installed here (no package provides `tagger app`); "
               "start it from a checkout of bert-tagger with `python app.py`")


def _parser(plugins: Iterable[str] = ()) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tagger", description="Fine-tune and run BERT sequence taggers.")
    sub = p.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_evaluate(sub)
    add_predict(sub)  # tagger/cli_predict.py: text, --file, and whole files (--input) in every format
    _add_average(sub)
    add_report_and_convert(sub)  # report FILE..., convert IN... --to FORMAT OUT
    for name in dict.fromkeys([APP, *plugins]):  # listed here; run by main() with their own options
        help_text = PLUGIN_HELP.get(name, f"a command from an installed plugin (options: tagger {name} --help)")
        sub.add_parser(name, help=help_text, add_help=False)
    return p


def _add_train(sub: Any) -> None:
    t = sub.add_parser("train", help="fine-tune a tagger on a labeled file")
    t.add_argument("--train", required=True, nargs="+", help="labeled files in any format (several, or a zip, = one data set)")
    t.add_argument("--dev", nargs="+", help="dev files, any format (default: hold out 10%% of --train, 20%% with --init-from)")
    t.add_argument("--base", default=DEFAULT_BASE, help="hub id, local folder, or packaged:<pypi-name>")
    t.add_argument("--init-from", metavar="MODEL", default="",
                   help="continue this trained tagger (models/default, a run folder): its encoder, head, decoding, max length and "
                        "labels, grown by the data's new ones; --base/--head are then ignored (the summary says so)")
    t.add_argument("--head", default=TrainConfig.head, choices=HEADS)
    add_data_options(t)  # --label-column, --format, --labels, --no-snap, --annotator
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
    t.add_argument("--device", default=TrainConfig.device, help=DEVICE_HELP)
    t.add_argument("--threads", type=int, default=TrainConfig.threads,
                   help="torch threads on the CPU (default 0: all cores); two runs side by side with 1 each "
                        "finish sooner than one after the other on a small CPU (docs/BENCHMARKS.md)")
    t.add_argument("--precision", default=TrainConfig.precision, choices=PRECISIONS,
                   help="auto: bf16 on GPUs that support it, fp16 autocast with loss scaling on older GPUs, fp32 on the CPU")
    _add_train_recipe(t)
    t.add_argument("--fp16", action="store_true", help="store weights in fp16 (half the size)")
    t.add_argument("--test", nargs="+", help="also score these files and store the result in the checkpoint")
    t.add_argument("--out", required=True, help="checkpoint folder to write")


def _add_train_recipe(t: argparse.ArgumentParser) -> None:
    """The training recipe beyond the optimiser: casing augmentation, document context, decoding, which epoch to keep."""
    t.add_argument(
        "--case-augment", type=float, nargs=3, metavar=("LOWER", "UPPER", "UNKNOWN"),
        default=(TrainConfig.case_lower, TrainConfig.case_upper, TrainConfig.case_unknown),
        help="shares of training sentences shown lowercased / UPPERCASED / with word shapes hidden (training only, seeded); "
        "0 0 0 turns casing augmentation off",
    )
    t.add_argument("--doc-context", action=argparse.BooleanOptionalAction, default=TrainConfig.doc_context,
                   help="read each sentence with its neighbours in the same document, in training and at prediction")
    t.add_argument("--context-tokens", type=int, default=TrainConfig.context_tokens, help="context sub-tokens on each side")
    t.add_argument("--context-dropout", type=float, default=TrainConfig.context_dropout,
                   help="share of training documents read sentence by sentence anyway (lone sentences stay well tagged)")
    t.add_argument("--decode", choices=DECODES, default=TrainConfig.decode,
                   help="viterbi: the best well-formed IOB2 sequence instead of each word's most likely label; auto (default): viterbi for the casing head, argmax for linear (recorded in the model)")
    t.add_argument("--keep", choices=("best", "last"), default=TrainConfig.keep,
                   help="which epoch to save: best dev F1, or the last (a refit on train+dev with a fixed epoch count)")


def _add_evaluate(sub: Any) -> None:
    e = sub.add_parser("evaluate", help="precision/recall/F1 of a tagger on a labeled file")
    e.add_argument("--data", required=True, nargs="+", help="labeled files in any format (several = one data set)")
    e.add_argument("--model", default=str(DEFAULT_MODEL))
    add_data_options(e)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--backend", choices=("torch", "onnx"), default="torch", help=BACKEND_HELP)
    e.add_argument("--device", default="auto", help=DEVICE_HELP)
    e.add_argument("--errors", metavar="OUT.jsonl", help="write each sentence with an error (words, gold and predicted tags, "
                   "confidences, the errors) and print the error-type table")
    e.add_argument("--predictions", metavar="OUT.conll", help="write word / gold / predicted columns (conlleval reads them)")
    e.add_argument("--compare", metavar="MODEL", help="a second model: per-type F1 side by side and the sentences the two tag differently")


def _add_average(sub: Any) -> None:
    a = sub.add_parser("average", help="average the weights of taggers trained with different seeds (one model, same speed)")
    a.add_argument("models", nargs="+", help="two or more checkpoint folders of one base, head and label set")
    a.add_argument("--out", required=True, help="checkpoint folder to write")
    a.add_argument("--dev", nargs="+", help="score these files and store the result in the checkpoint")
    a.add_argument("--test", nargs="+", help="also score these files (final figures) and store the result")
    add_data_options(a)
    a.add_argument("--decode", choices=DECODES, help="decoding of the average (default: the first model's)")
    a.add_argument("--fp16", action="store_true", help="store weights in fp16 (half the size)")


def _train(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from .model import load_tagger, save_tagger
    from .preflight import preflight
    from .train import TrainEvent, train

    config = TrainConfig(
        base=args.base, head=args.head, epochs=args.epochs, lr=args.lr, head_lr=args.head_lr, batch_size=args.batch_size,
        max_length=args.max_length, label_column=args.label_column, seed=args.seed, device=args.device,
        threads=args.threads, data_format=readers.canonical(args.format), label_names=parse_label_list(args.labels) or (), snap_spans=args.snap,
        annotator=args.annotator or "",
        precision=args.precision, attention_dropout=args.attention_dropout,
        case_lower=args.case_augment[0], case_upper=args.case_augment[1], case_unknown=args.case_augment[2],
        doc_context=args.doc_context, context_tokens=args.context_tokens, context_dropout=args.context_dropout,
        decode=args.decode,
        keep=args.keep, init_from=args.init_from,
    )
    def on_event(event: TrainEvent) -> None:
        if event.kind == "epoch" and event.dev is not None:
            tqdm.write(f"epoch {event.epoch:.0f}: loss {event.loss:.4f}, dev F1 {event.dev['f1']:.2f}")

    if not launched():  # a device asked for by name that is not there: say so before reading any data
        resolve_device(config.device, config.precision)
    checked = preflight(config, args.train, args.dev)  # the checks the UI runs too, before any model loads
    print(checked.summary, file=sys.stderr)
    data = checked.data
    result = train(checked.config, data.train, data.dev, args.out, report=data.report, callback=on_event, progress=True)
    if result.before is not None:  # --init-from: the model continued, on the same dev data
        print(f"dev F1 before this run {result.before['f1']:.2f}", file=sys.stderr)
    print(f"best epoch {result.best_epoch}: dev F1 {result.dev['f1']:.2f}; {result.seconds:.0f} s, "
          f"{result.sentences_per_second:.1f} sentences/s -> {result.out_dir}")
    if args.fp16:  # re-score below so the stored scores are those of the weights as shipped
        save_tagger(load_tagger(result.out_dir, device="cpu"), result.out_dir, fp16=True)
    if args.test or args.fp16:
        tagger = load_tagger(result.out_dir, device="cpu")
        # train() stored the dev scores of the fp32 weights: re-scored only when the weights changed
        _score_into(tagger, args, args.dev if args.fp16 else None, args.test)
        save_tagger(tagger, result.out_dir, fp16=args.fp16)


def _score_into(tagger: Tagger, args: argparse.Namespace, dev: list[str] | None, test: list[str] | None) -> None:
    """Score ``tagger`` on the ``dev`` / ``test`` files and keep the scores in its metadata."""
    from .train import evaluate_tagger

    if dev:
        tagger.meta["dev"] = evaluate_tagger(tagger, read_data(dev, args).sentences)
        print(f"dev F1 {tagger.meta['dev']['f1']:.2f}")
    if test:
        tagger.meta["test"] = evaluate_tagger(tagger, read_data(test, args).sentences)
        tagger.meta["test_file"] = ", ".join(Path(t).name for t in test)
        print(f"test F1 {tagger.meta['test']['f1']:.2f}")


def _average(args: argparse.Namespace) -> None:
    from .average import average_taggers
    from .model import load_tagger, save_tagger

    out = save_tagger(average_taggers(args.models, args.decode), args.out, fp16=args.fp16)
    if args.dev or args.test:  # scored as saved (fp16 weights if --fp16)
        tagger = load_tagger(out, device="cpu")
        _score_into(tagger, args, args.dev, args.test)
        save_tagger(tagger, out, fp16=args.fp16)
    print(f"averaged {len(args.models)} models -> {out}")


def _evaluate(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from .analysis import compare, format_comparison, format_errors
    from .evaluation import Evaluation, errors_jsonl, evaluate, predictions_conll, write_text
    from .metrics import format_scores
    from .predict import Predictor

    sents = read_data(args.data, args).sentences

    def run(model: str) -> Evaluation:
        predictor = Predictor.from_dir(model, backend=args.backend, device=args.device)
        with tqdm(total=len(sents), desc="evaluate", unit="sentence", disable=args.json or len(sents) <= 512) as bar:
            return evaluate(predictor, sents, on_progress=lambda done, _total: bar.update(done - bar.n))

    ev = run(args.model)
    if args.predictions:
        write_text(args.predictions, predictions_conll(ev))
    if args.errors:
        write_text(args.errors, errors_jsonl(ev.error_sentences))
        have = "sentence has" if len(sents) == 1 else "sentences have"
        print(f"{len(ev.error_sentences):,} of {len(sents):,} {have} errors -> {args.errors}", file=sys.stderr)
    if args.compare:
        other = run(args.compare)
        comparison = compare(ev.gold, ev.pred, other.pred, ev.words)
        if args.json:
            print(json.dumps({
                "a": {"model": args.model, **ev.to_json()}, "b": {"model": args.compare, **other.to_json()},
                "per_type": comparison["per_type"], "disagreements": [d.to_dict() for d in comparison["disagreements"]],
            }))
        else:
            print(format_comparison(comparison, Path(args.model).name or "A", Path(args.compare).name or "B"))
    elif args.json:
        print(json.dumps(ev.to_json()))
    else:
        print(format_scores(ev.scores))
        if args.errors:
            print("\n" + format_errors(ev.analysis.errors))


# a command returns None (success) or its exit code (predict: 2 for bad input, 130 for Ctrl-C)
_COMMANDS: dict[str, Callable[[argparse.Namespace], int | None]] = {
    "train": _train, "average": _average, "evaluate": _evaluate, "predict": run_predict, "report": run_report, "convert": run_convert,
}


def _plugins() -> dict[str, EntryPoint]:
    """Commands that installed packages add (entry-point group ``tagger.commands``); the built-in ones win."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name not in _COMMANDS}


def _run_plugin(name: str, argv: list[str], plugins: dict[str, EntryPoint]) -> int:
    """Run a plugin's ``main(argv, prog)``: it parses its own options; a return value other than an int counts as 0."""
    try:
        rc = plugins[name].load()(argv, prog=f"tagger {name}")
    except (TaggerError, ImportError) as err:  # a plugin that cannot load (its dependencies missing), in one line
        print(f"error: tagger {name}: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    return rc if isinstance(rc, int) else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    plugins = _plugins()
    if argv[:1] == [APP] and APP not in plugins:
        print(APP_MISSING, file=sys.stderr)
        return 2
    if argv and argv[0] in plugins:  # it parses its own options (the app: pyproject.toml names it)
        return _run_plugin(argv[0], argv[1:], plugins)
    args = _parser(plugins).parse_args(argv)
    t0 = time.perf_counter()
    try:
        rc = _COMMANDS[args.command](args) or 0
    except (TaggerError, FileNotFoundError, ImportError) as err:  # every user-facing library error; a missing file or package
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]  # transformers' messages span lines
        print(f"error: {' '.join(lines)}", file=sys.stderr)
        return 2
    if args.command == "train":
        print(f"done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return rc
