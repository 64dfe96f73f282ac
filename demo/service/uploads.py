"""Uploaded training files (one, several, or a zip; any format) -> the data report and the
label-column choices (numbers for CoNLL columns, names for CoNLL-U, datasets exports, tables).

Uploads are used by the paths Gradio gives them; their original names are never joined to a path.
A read is cached (by path, size and time, and the read options), so the report and the preview
that follows it read a file once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.data import Dataset, read_files
from tagger.errors import TrainingError
from tagger.preflight import label_list

PREVIEW_BYTES = 65_536


@dataclass
class Inspection:
    report: Any  # tagger.data.DataReport
    labels: list[str]  # the tag set a model trained on this file would have (tagger.preflight.label_list)
    column_choices: list[tuple[str, int | str]]  # empty unless the data has more than one label column
    label_column: int | str  # a CoNLL column number, or the name of the column read (upos, ner_tags ...)
    dataset: Dataset | None = None


_CACHE: OrderedDict[tuple, Dataset] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 4


def read_upload(paths: Sequence[str | Path], label_column: int | str = -1, fmt: str = "auto",
                labels: str | None = None) -> Dataset:
    """:func:`tagger.data.read_files` with a small cache (raises ``tagger.errors.DataError``)."""
    stats = []
    for p in paths:
        st = Path(p).stat() if Path(p).is_file() else None
        stats.append((str(p), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    key = (tuple(stats), label_column, fmt, labels or "")
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    dataset = read_files(list(paths), label_column, fmt=fmt, labels=labels)
    with _CACHE_LOCK:
        _CACHE[key] = dataset
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return dataset


def preview_rows(path: str | Path, max_rows: int = 300) -> list[list[str]]:
    """The first rows of a CoNLL-style file split into fields (for the column picker)."""
    with open(path, "rb") as f:
        text = f.read(PREVIEW_BYTES).decode("utf-8", errors="replace")
    rows = []
    for line in text.splitlines()[:-1] or text.splitlines():  # the last line may be cut
        if not line.strip() or line.startswith("-DOCSTART-"):
            continue
        rows.append([f.strip() for f in line.split("\t")] if "\t" in line else line.split())
        if len(rows) >= max_rows:
            break
    return rows


def inspect_upload(path: str | Path | Sequence[str | Path], label_column: int | str = -1, fmt: str = "auto",
                   label_names: str | None = None) -> Inspection:
    """Read the files (raises ``tagger.data.DataError``) and describe them; ``label_names``: names
    for integer tag ids."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    dataset = read_upload(paths, label_column, fmt, label_names)
    report = dataset.report
    try:
        labels = label_list(dataset.sentences)
    except TrainingError:  # a single label; the report's warnings say so
        labels = []
    choices: list[tuple[str, int | str]] = []
    if report.format == "conll" and report.columns > 2 and len(paths) == 1:
        choices = list(column_choices(preview_rows(paths[0]), report.columns))
        return Inspection(report, labels, choices, report.label_column, dataset)
    if len(report.label_choices) > 1:  # a picker by name; else each format's default (-1), which a dev file of any format reads
        choices = [(c.upper() if report.format == "conllu" else c, c) for c in report.label_choices]
    return Inspection(report, labels, choices, report.label_name if choices else -1, dataset)


def column_choices(preview: list[list[str]], ncols: int) -> list[tuple[str, int]]:
    """Label-column picker entries: ``column 3 (last): B-ORG, O, B-PER`` for columns 1..n-1."""
    out = []
    for c in range(1, ncols):
        seen = list(dict.fromkeys(row[c] for row in preview if len(row) == ncols))[:4]
        last = " (last)" if c == ncols - 1 else ""
        out.append((f"column {c}{last}: {', '.join(seen)}", c))
    return out
