"""``python -m tagger predict``: tag a text (``TEXT``, ``--file``, stdin; JSON lines with the words
and entities) or a whole file (``--input``: any input :mod:`tagger.inputs` reads, written by
:mod:`tagger.outputs` as JSONL, CSV, CoNLL, spaCy DocBin or Label Studio JSON).

``add_predict(sub)`` adds the subcommand to the ``python -m tagger`` parser; ``run_predict(args)``
runs it and returns the exit status: 0, or 2 after one ``error: ...`` line (130 on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .bulk import BATCH_WORDS
from .errors import InputError, TaggerError
from .inputs import INPUT_FORMATS
from .meta import default_model_path

DEVICE_HELP = "auto (default): CUDA when available, then Apple MPS, else the CPU; or cpu, cuda, cuda:N, mps"
BACKEND_HELP = (
    "torch or onnx (ONNX Runtime on a cached export of the model: same labels, faster on the CPU; the first use of a model "
    "exports it, seconds). Default: torch for a text; for --input, auto: ONNX Runtime once it gave torch's labels on the "
    "file's first batch (files over 100 KB, with more than one thread)"
)


def add_predict(sub: Any) -> argparse.ArgumentParser:
    """The ``predict`` subparser (``sub``: the parser's ``add_subparsers()``)."""
    pr = sub.add_parser("predict", help="tag a text or whole files (JSONL, CSV, CoNLL, .spacy, Label Studio)",
                        description="Tag a text (prints JSON lines) or a whole file with --input.")
    pr.add_argument("text", nargs="?", help="text to tag")
    pr.add_argument("--file", help="tag this plain-text file (one document unless --lines); prints JSON lines")
    pr.add_argument("--lines", action="store_true", help="each line of --file / a plain-text --input is its own document")
    pr.add_argument("--model", default=str(default_model_path()))
    pr.add_argument("--quantize", action="store_true", help="int8 dynamic quantisation (faster on CPU, scores differ slightly)")
    pr.add_argument("--backend", choices=("torch", "onnx", "auto"), default=None, help=BACKEND_HELP)
    pr.add_argument("--device", default="auto", help=DEVICE_HELP)
    f = pr.add_argument_group("whole files (--input)")
    f.add_argument("--input", metavar="PATH", help="tag every document of this file: plain text, JSONL/JSON with a text field, "
                   "CSV/TSV with a text column, CoNLL, CoNLL-U, .spacy, or a zip of these")
    f.add_argument("--output", metavar="PATH", help="write here; the extension picks the format: .jsonl, .csv, .conll, .spacy, "
                   ".json (Label Studio tasks with predictions). Default: JSON lines on stdout")
    f.add_argument("--to", metavar="FMT", help="output format, overriding the extension: jsonl, csv, conll, spacy, json")
    f.add_argument("--threshold", type=float, default=0.0, metavar="X",
                   help="drop entities whose score (the mean confidence of their words) is below X, 0..1 (default 0)")
    f.add_argument("--text-field", default="text", help="the text's field in JSON records (default: text)")
    f.add_argument("--text-column", default="text", help="the text's column in CSV/TSV files (default: text)")
    f.add_argument("--format", default="auto", choices=INPUT_FORMATS, help="the input's format (default: detected)")
    f.add_argument("--max-mb", type=float, default=None, metavar="MB", help="refuse input files over MB megabytes (default: no limit)")
    f.add_argument("--batch-size", type=int, default=BATCH_WORDS, metavar="WORDS",
                   help=f"words per model call, gathered across documents (default {BATCH_WORDS})")
    f.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")
    return pr


def run_predict(args: argparse.Namespace) -> int:
    """Run ``predict``; errors print one ``error: ...`` line on stderr and return 2."""
    try:
        if args.input is not None:
            _tag_input(args)
        else:
            _tag_texts(args)
    except (TaggerError, FileNotFoundError, ImportError) as err:  # every user-facing library error; a missing file or package
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        print(f"error: {' '.join(lines)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output file was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (| head): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _only_with_input(args: argparse.Namespace) -> None:
    given = [name for name, value, default in (
        ("--output", args.output, None), ("--to", args.to, None), ("--threshold", args.threshold, 0.0),
        ("--text-field", args.text_field, "text"), ("--text-column", args.text_column, "text"), ("--format", args.format, "auto"),
        ("--max-mb", args.max_mb, None),
    ) if value != default]
    if given:
        raise InputError(f"{', '.join(given)} {'goes' if len(given) == 1 else 'go'} with --input FILE")


def _tag_texts(args: argparse.Namespace) -> None:
    """``predict TEXT``, ``--file F [--lines]`` or stdin: one JSON line per text."""
    from .predict import Predictor

    _only_with_input(args)
    if args.file:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
        texts = [ln for ln in text.splitlines() if ln.strip()] if args.lines else [text]
    elif args.text is not None:
        texts = [args.text]
    else:
        texts = [ln.rstrip("\n") for ln in sys.stdin if ln.strip()]
    backend = "torch" if args.backend in (None, "auto") else args.backend
    predictor = Predictor.from_dir(args.model, quantize=args.quantize, backend=backend, device=args.device)
    for pred in predictor.predict_batch(texts):
        d = pred.to_dict()
        print(json.dumps({"text": d["text"], "entities": d["entities"], "words": d["words"]}, ensure_ascii=False))


def _tag_input(args: argparse.Namespace) -> None:
    """``--input PATH [--output PATH]``: the file's documents, tagged in batches, to a file or stdout."""
    from tqdm.auto import tqdm

    from .bulk import check_threshold, preview, tag_file
    from .data import count
    from .outputs import output_format
    from .predict import Predictor

    if args.text is not None or args.file:
        raise InputError("give TEXT, --file or --input, one of them")
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_mb is not None and args.max_mb <= 0:
        raise InputError(f"--max-mb must be positive, got {args.max_mb:g}")
    max_bytes = None if args.max_mb is None else int(args.max_mb * 1e6)
    # what can be checked before the model loads (seconds) is checked first
    threshold = check_threshold(args.threshold)
    fmt = output_format(args.output, args.to)
    if args.output is None and fmt == "spacy":
        raise InputError("a .spacy DocBin is binary; give an output file (--output FILE.spacy)")
    # the first document, read before the model loads: a missing text field or column shows at once
    preview(args.input, 1, text_field=args.text_field, text_column=args.text_column, lines=args.lines, fmt=args.format,
            max_bytes=max_bytes)
    backend = "torch" if args.backend in (None, "auto") else args.backend
    predictor = Predictor.from_dir(args.model, quantize=args.quantize, backend=backend, device=args.device)
    quiet = args.quiet or not sys.stderr.isatty()
    t0 = time.perf_counter()
    with tqdm(total=1, unit="B", unit_scale=True, unit_divisor=1024, desc="tag", disable=quiet, file=sys.stderr, leave=False) as bar:

        def progress(docs: int, words: int, done: int, total: int) -> None:
            bar.total = total  # bytes: the ETA comes from the bytes read
            bar.set_postfix_str(f"{words / max(time.perf_counter() - t0, 1e-9):,.0f} words/s, {docs:,} documents", refresh=False)
            bar.update(done - bar.n)
            bar.refresh()  # once per batch (thousands of words): cheap, and the words/s shows at once

        summary = tag_file(
            predictor, args.input, args.output, to=args.to, threshold=threshold, text_field=args.text_field,
            text_column=args.text_column, lines=args.lines, fmt=args.format, batch_size=args.batch_size, max_bytes=max_bytes,
            backend="auto" if args.backend in (None, "auto") else "keep", on_progress=progress, stream=sys.stdout,
            model_version=Path(args.model).name or None,
        )
    if not args.quiet:
        for warning in summary.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        dropped = f" ({summary.dropped:,} more under the threshold)" if summary.dropped else ""
        where = f" -> {summary.output}" if summary.output else ""
        print(f"tagged {count(summary.documents, 'document')}, {count(summary.sentences, 'sentence')}, {count(summary.words, 'word')}: "
              f"{count(summary.entities, 'entity', 'entities')}{dropped}; {summary.seconds:.1f} s, {summary.words_per_second:,.0f} words/s "
              f"({summary.input_format} in, {summary.format} out, {summary.backend}){where}", file=sys.stderr)
