"""The data side of the CLI: the read options every command shares, ``report`` and ``convert``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .corpus import count
from .readers import FORMATS

LABEL_COLUMN_HELP = ("label column: a number for CoNLL columns (-1 = last; default), or a name: upos/xpos/deprel for CoNLL-U "
                     "(default upos), ner_tags/pos_tags for datasets exports and CSV, ents/tag/pos for .spacy")


def label_column(value: str) -> int | str:
    """``--label-column`` value: a number, or a column name.

    >>> label_column("-1"), label_column("UPOS")
    (-1, 'UPOS')
    """
    text = value.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def labels_arg(value: str) -> str:
    """``--labels``: names in id order (``O,B-PER,I-PER``), or a file holding them (one a line, or a JSON list)."""
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        return path.read_text(encoding="utf-8")
    return value


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-column", type=label_column, default=-1, help=LABEL_COLUMN_HELP)
    p.add_argument("--format", default="auto", choices=sorted(set(FORMATS) | {"doccano", "prodigy"}),
                   help="override format detection (default: detected per file)")
    p.add_argument("--labels", type=labels_arg, help="names for integer tag ids, in id order: O,B-PER,I-PER or a file of them")
    p.add_argument("--no-snap", dest="snap", action="store_false",
                   help="drop spans that cut a word (default: widen them to whole words); both are counted in the report")
    p.add_argument("--annotator", help="Label Studio: whose annotations to use (id or email; default: the most recent)")


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"label_column": args.label_column, "fmt": args.format, "labels": args.labels, "snap": args.snap,
            "annotator": args.annotator}


def read(paths: str | list[str], args: argparse.Namespace) -> Any:
    """Several files (or zips) as one data set, with the command's read options."""
    from .data import read_files

    return read_files([paths] if isinstance(paths, str) else paths, **read_options(args))


def add_report_and_convert(sub: Any) -> None:
    r = sub.add_parser("report", help="read labeled files (any format; several = one data set) and print the data report")
    r.add_argument("file", nargs="+")
    r.add_argument("--json", action="store_true", help="print the report as one JSON object")
    add_data_options(r)
    c = sub.add_parser("convert", help="convert labeled files (any format) to CoNLL, JSONL or spaCy .spacy")
    c.add_argument("inputs", nargs="+", metavar="IN", help="labeled files in any format (several, or a zip, = one data set)")
    c.add_argument("--to", nargs=2, required=True, metavar=("FORMAT", "OUT"), help="conll, jsonl or spacy, and the file to write")
    add_data_options(c)


def run_report(args: argparse.Namespace) -> None:
    import json

    report = read(args.file, args).report
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.summary())


def run_convert(args: argparse.Namespace) -> None:
    from .convert import WRITERS, write
    from .errors import DataError

    fmt, out = args.to
    if fmt not in WRITERS:
        raise DataError(out, None, f"cannot write format {fmt!r}; expected one of: {', '.join(WRITERS)}")
    data = read(args.inputs, args)
    print(data.report.summary(), file=sys.stderr)
    path = write(data.sentences, fmt, out, plain=data.report.scheme == "plain")
    print(f"wrote {count(len(data.sentences), 'sentence')} ({count(data.report.documents, 'document')}) as {fmt} to {path}")
