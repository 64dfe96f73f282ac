"""CSV and TSV with a header row, in either shape:

- one row per sentence, list-valued ``tokens`` and ``tags`` cells (AutoTrain; JSON lists, Python
  lists, or the numpy repr ``['a' 'b']`` / ``[1 0]`` that ``datasets``/pandas ``to_csv`` write);
- one row per token with a sentence-id column (``sentence_id``, ``Sentence #`` ...); an empty id
  continues the sentence above (the Kaggle NER layout), and a blank row ends a sentence.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..corpus import Sentence
from ..errors import DataError
from .base import Conversion, LabelMapper, ReadOptions, check_count, decode_lines, names_beside

TOKEN_COLUMNS = ("tokens", "words", "token", "word", "form")
SENTENCE_COLUMNS = ("sentence_id", "sentence #", "sentence", "sent_id", "sentence_idx", "sentence_index", "sentence_no", "sid")
DOC_COLUMNS = ("doc", "document", "doc_id", "document_id")
TAG_COLUMNS = ("tags", "ner_tags", "tag", "label", "labels", "ner", "ner_tag", "pos_tags", "pos", "upos", "xpos", "chunk_tags")
_ITEM = re.compile(r"""\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+))\s*,?""")


def _header(line: str, delimiter: str) -> list[str]:
    return [f.strip().strip('"').strip().lower() for f in next(csv.reader([line], delimiter=delimiter))]


def sniff(first: str, suffix: str) -> str | None:
    """``csv``/``tsv`` when the first line is a header naming a token column and a tag or
    sentence column (a CoNLL file's first line names neither), else None.

    >>> sniff("Sentence #,Word,POS,Tag", ".txt"), sniff("id\\ttokens\\tner_tags", ".tsv"), sniff("EU\\tB-ORG", ".tsv")
    ('csv', 'tsv', None)
    """
    for delimiter, kind in (("\t", "tsv"), (",", "csv"), (";", "csv")):
        if delimiter not in first:
            continue
        names = set(_header(first, delimiter))
        if names & set(TOKEN_COLUMNS) and names & {*TAG_COLUMNS, *SENTENCE_COLUMNS}:
            return kind
    return "csv" if suffix == ".csv" else None


def parse_list(cell: str) -> list[Any] | None:
    """A list-valued cell: JSON, a Python literal, or numpy's repr; None if it is not a list.

    >>> parse_list('["New", "York"]'), parse_list("['it', \\"'s\\"]"), parse_list("['John' 'runs']"), parse_list("[1 0 2]")
    (['New', 'York'], ['it', "'s"], ['John', 'runs'], [1, 0, 2])
    >>> parse_list("New York") is None
    True
    """
    text = cell.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = json.loads(text)
        if isinstance(value, list):
            return value
    except ValueError:
        pass
    # item by item: numpy's repr has no commas (a Python literal would glue its strings together)
    inner, items, pos = text[1:-1], [], 0
    while pos < len(inner):
        m = _ITEM.match(inner, pos)
        if not m or m.end() == pos:
            if inner[pos:].strip():
                return None
            break
        items.append(int(m.group(3)) if m.group(3) is not None else ast.literal_eval(m.group(0).strip().rstrip(",").strip()))
        pos = m.end()
    return items


def _rows(path: Path, delimiter: str, warnings: list[str]) -> Iterator[tuple[int, list[str]]]:
    lines = decode_lines(path, warnings)
    reader = csv.reader((ln + "\n" for _, ln in lines()), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as err:
        raise DataError(path, reader.line_num, f"not valid {'TSV' if delimiter == chr(9) else 'CSV'} ({err})") from None


def _pick(columns: list[str], wanted: str | None, usual: tuple[str, ...], path: Path, what: str) -> int | None:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(path, 1, f"no column named {wanted!r}; the header has: {', '.join(columns)}")
        return columns.index(wanted)
    return next((columns.index(c) for c in usual if c in columns), None)


@dataclass(frozen=True)
class _Columns:
    """The header's column names and which of them hold the tokens, tags, sentence ids and documents."""

    names: list[str]
    tok: int
    tag: int
    sent: int | None
    doc: int | None

    @property
    def choices(self) -> list[str]:
        """The columns that could be the labels (a UI picker's choices)."""
        return [c for i, c in enumerate(self.names) if i not in (self.tok, self.sent, self.doc)]


def _columns(path: Path, header_line: int, header: list[str], opts: ReadOptions, warnings: list[str]) -> _Columns:
    columns = [h.strip().strip("\ufeff").lower() for h in header]
    expected = f"expected a header row naming a tokens column ({', '.join(TOKEN_COLUMNS)}) and a tags column"
    tok = _pick(columns, None, TOKEN_COLUMNS, path, "tokens")
    if tok is None:
        raise DataError(path, header_line, f"{expected}; the header has: {', '.join(columns)[:200]}")
    tag = _pick(columns, opts.column_name, TAG_COLUMNS, path, "tags")
    sent = _pick(columns, None, SENTENCE_COLUMNS, path, "sentence")
    doc_col = _pick(columns, None, DOC_COLUMNS, path, "document")
    if tag is None:  # the last column that is not the token, sentence or document column
        tag = next((i for i in range(len(columns) - 1, -1, -1) if i not in (tok, sent, doc_col)), None)
    if tag is None:
        raise DataError(path, header_line, f"{expected}; the header has: {', '.join(columns)}")
    opts.ignore_number(warnings, f"column {columns[tag]!r}")
    return _Columns(columns, tok, tag, sent, doc_col)


def _list_row(path: Path, n: int, row: list[str], cols: _Columns) -> tuple[list[str], list[Any]]:
    """A row of the list-valued shape: its tokens (stripped) and tags, checked."""
    toks, labs = parse_list(row[cols.tok]), parse_list(row[cols.tag])
    if toks is None or labs is None:
        bad = cols.names[cols.tok] if toks is None else cols.names[cols.tag]
        raise DataError(path, n, f'"{bad}" is not a list; expected a list like ["EU", "rejects"] in every row')
    if len(toks) != len(labs):
        raise DataError(path, n, (f'"{cols.names[cols.tok]}" has {len(toks)} items but "{cols.names[cols.tag]}" has {len(labs)}; '
                                  "expected equal lengths"))
    if not all(isinstance(w, str) and w.strip() for w in toks):
        raise DataError(path, n, "every token must be a non-empty string")
    return [w.strip() for w in toks], labs


def read(path: Path, fmt: str, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    with path.open("rb") as f:
        first = f.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    delimiter = "\t" if fmt == "tsv" or "\t" in first else (";" if ";" in first and "," not in first else ",")
    rows = _rows(path, delimiter, warnings)
    header_line, header = next(rows, (1, []))
    cols = _columns(path, header_line, header, opts, warnings)
    mapper = LabelMapper(path, cols.names[cols.tag], opts.labels, names_beside(path))
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[Any] = []
    start = 0
    doc, last_doc, last_sent = 0, None, None
    list_shape: bool | None = None

    def flush(n: int) -> None:
        nonlocal words, tags
        if words:
            sentences.append(Sentence(words, mapper(tags, start), start, doc))
            words, tags = [], []
            check_count(path, len(sentences), n)

    for n, row in rows:
        if not any(c.strip() for c in row):
            flush(n)
            continue
        if len(row) != len(cols.names):
            raise DataError(path, n, f"{len(row)} fields, expected {len(cols.names)} like the header ({fmt.upper()})")
        if cols.doc is not None and row[cols.doc].strip() and row[cols.doc] != last_doc:
            if last_doc is not None:
                flush(n)
                doc += 1
            last_doc = row[cols.doc]
        if list_shape is None:
            list_shape = parse_list(row[cols.tok]) is not None
        conv.count("rows")
        if list_shape:
            toks, labs = _list_row(path, n, row, cols)
            if toks:
                sentences.append(Sentence(toks, mapper(labs, n), n, doc))
                check_count(path, len(sentences), n)
            continue
        sid = row[cols.sent].strip() if cols.sent is not None else None
        if sid and sid != last_sent:
            flush(n)
            last_sent = sid
        word, label = row[cols.tok].strip(), row[cols.tag].strip()
        if not word or not label:
            raise DataError(path, n, f'empty "{cols.names[cols.tok] if not word else cols.names[cols.tag]}" field; expected a word and its label')
        if not words:
            start = n
        words.append(word)
        tags.append(int(label) if label.isdigit() else label)
    flush(0)
    if not sentences:
        raise DataError(path, None, "contains no sentences (only the header)")
    shape = "list-valued rows" if list_shape else "one row per token"
    sep = {"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter]
    return sentences, {"format": fmt, "separator": f"{sep}, {shape}", "columns": len(cols.names), "label_column": cols.tag,
                       "label_name": cols.names[cols.tag], "label_choices": cols.choices}
