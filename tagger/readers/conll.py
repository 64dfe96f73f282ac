"""CoNLL-style columns: a word and 1..N label columns per line (space or tab separated), a blank
line between sentences, ``-DOCSTART-`` lines between documents (CoNLL-2003)."""

from __future__ import annotations

from pathlib import Path

from ..corpus import Sentence
from ..errors import DataError
from .base import Conversion, ReadOptions, check_count, decode_lines


def read(path: Path, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    if opts.column_name is not None:
        raise DataError(path, None, (
            f"label column {opts.label_column!r} is a name, but CoNLL columns have no names; give a column "
            "number (1 is the first column after the word, -1 the last)"
        ))
    label_column = opts.column_number
    lines = decode_lines(path, warnings)
    content = ((n, ln) for n, ln in lines() if ln.strip() and not ln.startswith("-DOCSTART-"))
    head = next(content, None)
    if head is None:
        raise DataError(path, None, "contains no sentences (only blank or -DOCSTART- lines)")
    # Tab-separated files may hold spaces inside a field; otherwise any whitespace run separates.
    use_tab = "\t" in head[1] and all("\t" in ln for _, ln in content)
    sep = "tab" if use_tab else "whitespace"

    def fields(ln: str) -> list[str]:
        return [f.strip() for f in ln.split("\t")] if use_tab else ln.split()

    first_n, first = head
    ncols = len(fields(first))
    if ncols < 2:
        raise DataError(
            path, first_n, f"only one column ({first.strip()!r}); expected a word and a label separated by a space or tab"
        )
    col = label_column if label_column >= 0 else ncols + label_column
    if not 1 <= col < ncols:
        raise DataError(path, None, f"label column {label_column} does not exist; lines have columns 0..{ncols - 1} (0 is the word)")

    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    start, doc = 0, 0
    for n, ln in lines():
        if ln.startswith("-DOCSTART-") or not ln.strip():
            if words:
                sentences.append(Sentence(words, tags, start, doc))
                words, tags = [], []
                check_count(path, len(sentences), n)
            if ln.startswith("-DOCSTART-"):
                doc += 1
            continue
        parts = fields(ln)
        if len(parts) != ncols:
            raise DataError(path, n, f"{len(parts)} columns, expected {ncols} like line {first_n} ({sep}-separated)")
        if not parts[0] or not parts[col]:
            raise DataError(path, n, "empty word or label field")
        if not words:
            start = n
        words.append(parts[0])
        tags.append(parts[col])
    if words:
        sentences.append(Sentence(words, tags, start, doc))
    return sentences, {"format": "conll", "separator": sep, "columns": ncols, "label_column": col, "label_name": f"column {col}"}
