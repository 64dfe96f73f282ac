"""Unlabeled documents to tag, streamed from a file: plain text, JSON lines (or a JSON list) with a
text field, CSV/TSV with a text column, CoNLL and CoNLL-U (already tokenized: their words are kept
exactly, sentence by sentence), spaCy DocBin, or a zip of any of these. Labels, where a file has
them, are ignored.

Every reader is a generator that holds one document at a time (a CoNLL document, ``-DOCSTART-``
to ``-DOCSTART-``, at most :data:`~tagger.inputs.tokenized.MAX_DOC_SENTENCES` sentences), so memory
does not grow with the file; only a JSON list and a DocBin are loaded whole (their formats cannot be
read piecewise). Torch-free: the app can show a preview without loading a model.

The package: :mod:`.document` (what a reader yields, how it reads lines), :mod:`.text`,
:mod:`.records` (JSONL, JSON, CSV/TSV), :mod:`.tokenized` (CoNLL, CoNLL-U, DocBin), :mod:`.detect`
(which format a file is); here, the entry point :class:`Documents` (checks, zip members, dispatch).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .detect import detect_input, looks_like_conll
from .document import EXPECTED, Document, Layout, read_lines
from .records import csv_delimiter, csv_documents, json_documents, jsonl_documents
from .text import split_long, text_documents
from .tokenized import conll_documents, conllu_documents, docbin_documents

__all__ = [
    "EXPECTED", "INPUT_FORMATS", "Document", "Documents", "Layout", "ReadSettings", "Source", "check_file", "conll_documents",
    "conllu_documents", "csv_documents", "detect_input", "docbin_documents", "documents_of", "json_documents", "jsonl_documents",
    "looks_like_conll", "member_sources", "read_lines", "size_text", "split_long", "text_documents",
]

INPUT_FORMATS = ("auto", "text", "jsonl", "json", "csv", "tsv", "conll", "conllu", "spacy")


# ---------------------------------------------------------------------------------------- zip members, dispatch


@dataclass
class Source:
    """One file to read documents from (a zip member: ``name`` is ``archive.zip:member``)."""

    path: Path
    name: str
    fmt: str


def member_sources(path: Path, folder: Path, max_bytes: int | None, fmt: str) -> list[Source]:
    """The data members of a zip, extracted under ``folder`` (the readers' zip limits apply)."""
    from ..readers.archive import expand

    members, _ = expand(path, folder, max_bytes or 1 << 62)
    out = []
    for m in members:
        name = f"{path.name}:{m.name}"
        if m.stat().st_size == 0:
            raise DataError(name, None, f"the file is empty; {EXPECTED}")
        with m.open("rb") as f:
            head = f.read(8192)
        kind = detect_input(m, head) if fmt == "auto" else fmt
        if kind == "zip":
            raise DataError(name, None, f"a zip inside a zip; {EXPECTED}")
        out.append(Source(m, name, kind))
    if not out:
        raise DataError(path, None, f"the archive holds no data files; {EXPECTED}")
    return out


def documents_of(source: Source, options: ReadSettings, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """The documents of one (non-zip) file."""
    p, name = source.path, source.name
    if source.fmt == "text":
        return text_documents(p, name, options.lines, warnings, base)
    if source.fmt == "jsonl":
        return jsonl_documents(p, name, options.text_field, warnings, base)
    if source.fmt == "json":
        return json_documents(p, name, options.text_field, warnings, base)
    if source.fmt in ("csv", "tsv"):
        return csv_documents(p, name, options.text_column, "\t" if source.fmt == "tsv" else csv_delimiter(p), warnings, base)
    if source.fmt == "conll":
        return conll_documents(p, name, warnings, base)
    if source.fmt == "conllu":
        return conllu_documents(p, name, warnings, base)
    if source.fmt == "spacy":
        return docbin_documents(p, name, options.language, base)
    raise DataError(name, None, f"unknown input format {source.fmt!r}; expected one of: {', '.join(INPUT_FORMATS)}")


# ---------------------------------------------------------------------------------------- the entry point


@dataclass(frozen=True)
class ReadSettings:
    text_field: str = "text"
    text_column: str = "text"
    lines: bool = False
    language: str = "en"


class Documents(Iterable[Document]):
    """The documents of an input file, read lazily. Opening checks what can be checked before any
    work (the file exists, is not empty, is under ``max_bytes``, has a known format), so a bad
    file fails before an output file is opened or a model is loaded.

    ``format`` is the detected (or given) format, ``total_bytes`` the size to read (a zip: its
    members unpacked), ``warnings`` what was read leniently (Latin-1 lines ...)."""

    def __init__(self, path: str | Path, fmt: str = "auto", max_bytes: int | None = None, settings: ReadSettings | None = None) -> None:
        self.path = Path(path)
        self.settings = settings or ReadSettings()
        self.warnings: list[str] = []
        self.max_bytes = max_bytes
        fmt = (fmt or "auto").strip().lower()
        if fmt not in INPUT_FORMATS:
            raise DataError(self.path, None, f"unknown input format {fmt!r}; expected one of: {', '.join(INPUT_FORMATS)}")
        head = check_file(self.path, max_bytes)
        self.format = detect_input(self.path, head) if fmt == "auto" or head.startswith(b"PK\x03\x04") else fmt
        self.total_bytes = self.path.stat().st_size
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.sources = [Source(self.path, self.path.name, self.format)]
        if self.format == "zip":
            self._tmp = tempfile.TemporaryDirectory(prefix="tagger-input-")
            try:
                self.sources = member_sources(self.path, Path(self._tmp.name), max_bytes, fmt)
            except BaseException:
                self.close()
                raise
            self.total_bytes = sum(s.path.stat().st_size for s in self.sources)

    def __iter__(self) -> Iterator[Document]:
        base, empty = 0, True
        try:
            for source in self.sources:
                for doc in documents_of(source, self.settings, self.warnings, base):
                    empty = False
                    yield doc
                base += source.path.stat().st_size
            if empty:
                raise DataError(self.path, None, f"contains no documents (only blank lines, or records with no text); {EXPECTED}")
        finally:
            self.close()

    def close(self) -> None:
        """Remove a zip's extracted members (also done when iteration ends)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def check_file(path: Path, max_bytes: int | None) -> bytes:
    """Existence, emptiness and size checks; the file's first 8 KB."""
    if not path.is_file():
        raise DataError(path, None, "file not found")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, None, f"the file is empty; {EXPECTED}")
    if max_bytes is not None and size > max_bytes:
        raise DataError(path, None, (
            f"the file is {size_text(size)}, over the limit of {size_text(max_bytes)}; raise the limit "
            "(--max-mb on the command line, max_bytes= in Python) or split the file"
        ))
    with path.open("rb") as f:
        return f.read(8192)


def size_text(n: int) -> str:
    """A byte count for people.

    >>> size_text(2_400_000), size_text(6_000), size_text(3_000_000_000)
    ('2.4 MB', '6.0 KB', '3.0 GB')
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 1e3:,.1f} KB"
