"""CoNLL-U (Universal Dependencies): 10 tab-separated columns, ``#`` comment lines, a blank line
between sentences. Words come from FORM; the label column is picked by name (UPOS by default).
Multiword-token ranges (``1-2``) and empty nodes (``8.1``) are skipped: their words are the
syntactic words listed next to them. ``# newdoc`` starts a document."""

from __future__ import annotations

import re
from pathlib import Path

from ..corpus import Sentence
from ..errors import DataError
from .base import Conversion, ReadOptions, check_count, decode_lines

COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
LABEL_COLUMNS = COLUMNS[2:]  # what a tagger can learn: lemma .. misc
PICKER = (3, 4, 7, 5, 2)  # the columns a UI offers, in this order: upos, xpos, deprel, feats, lemma
_ID = re.compile(r"^(\d+)(?:-(\d+)|\.(\d+))?$")


def looks_like(line: str) -> bool:
    """Whether a data line has the CoNLL-U shape: 10 tab-separated fields, a numeric ID.

    >>> looks_like("1\\tIntroduction\\tintroduction\\tNOUN\\tNN\\t_\\t0\\troot\\t_\\t_"), looks_like("EU B-ORG")
    (True, False)
    """
    parts = line.split("\t")
    return len(parts) == 10 and bool(_ID.match(parts[0]))


def label_index(opts: ReadOptions, path: Path) -> int:
    """The column to label with: a name (``upos``, ``xpos``, ``deprel`` ...) or a 0-based index.

    >>> label_index(ReadOptions(), Path("x")), label_index(ReadOptions("XPOS"), Path("x")), label_index(ReadOptions(7), Path("x"))
    (3, 4, 7)
    """
    name = opts.column_name
    if name is None:
        col = opts.column_number
        if col == -1:
            return COLUMNS.index("upos")
        if 2 <= col < len(COLUMNS):
            return col
        raise DataError(path, None, f"label column {col} is not a CoNLL-U label column; expected a name: {', '.join(LABEL_COLUMNS)}")
    if name not in LABEL_COLUMNS:
        raise DataError(path, None, f"label column {name!r} is not a CoNLL-U column; expected one of: {', '.join(LABEL_COLUMNS)}")
    return COLUMNS.index(name)


def read(path: Path, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    col = label_index(opts, path)
    name = COLUMNS[col]
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    start, doc, empty_labels = 0, 0, 0
    filled: set[int] = set()  # the label columns with a value somewhere (a picker offers those)

    def flush(n: int) -> None:
        nonlocal words, tags
        if words:
            sentences.append(Sentence(words, tags, start, doc))
            words, tags = [], []
            check_count(path, len(sentences), n)

    for n, ln in decode_lines(path, warnings)():
        if not ln.strip():
            flush(n)
            continue
        if ln.startswith("#"):
            if re.match(r"#\s*newdoc\b", ln):
                flush(n)
                doc += 1
            continue
        parts = ln.split("\t")
        if len(parts) != 10:
            raise DataError(path, n, (
                f"{len(parts)} tab-separated columns, expected the 10 of CoNLL-U (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC)"
            ))
        m = _ID.match(parts[0])
        if not m:
            raise DataError(path, n, f"ID {parts[0]!r} is not a word number, a range like 1-2 or an empty node like 8.1")
        if m.group(2):
            conv.count("CoNLL-U multiword tokens skipped (their words are read)", example=f"{path.name}, line {n}: {parts[1]!r}")
            continue
        if m.group(3):
            conv.count("CoNLL-U empty nodes skipped", example=f"{path.name}, line {n}: {parts[0]} {parts[1]!r}")
            continue
        form, label = parts[1].strip(), parts[col].strip()
        if not form:
            raise DataError(path, n, "empty FORM (column 2); expected the word")
        if not label or label == "_":
            empty_labels += 1
        if len(filled) < len(PICKER):
            filled.update(i for i in PICKER if parts[i] not in ("_", ""))
        if not words:
            start = n
        words.append(form)
        tags.append(label or "_")
    flush(0)
    if not sentences:
        raise DataError(path, None, "contains no sentences (only comments or blank lines)")
    total = sum(len(s.words) for s in sentences)
    if empty_labels == total:
        raise DataError(path, None, f"column {name.upper()} is empty ('_') on every word; choose another label column (upos, xpos, deprel ...)")
    if empty_labels:
        conv.count(f"words with no {name.upper()} ('_' kept as a label)", empty_labels)
    return sentences, {"format": "conllu", "separator": "tab", "columns": 10, "label_column": col, "label_name": name,
                       "label_choices": [COLUMNS[i] for i in PICKER if i in filled]}
