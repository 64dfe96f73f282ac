"""What every input reader yields (:class:`Document`, with the :class:`Layout` of a CoNLL file) and
how every reader takes a file in: line by line (:func:`read_lines`), a UTF-8 BOM dropped, lines that
are not UTF-8 read as Latin-1 with one warning, NUL bytes refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError

EXPECTED = "expected plain text, JSON lines, CSV/TSV, CoNLL, CoNLL-U, a spaCy DocBin (.spacy) or a zip of these"


@dataclass(frozen=True)
class Layout:
    """The non-word lines of a CoNLL document, kept so that the ``.conll`` output lines up with the
    input: ``prefix[i]`` are the lines before sentence ``i`` (blank, ``-DOCSTART-``), ``suffix``
    those after the last one (at the end of the file)."""

    prefix: tuple[tuple[str, ...], ...]
    suffix: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """One document to tag: raw ``text``, or pre-split ``sentences`` of words (CoNLL, CoNLL-U, DocBin).

    ``fields`` is the source record (JSON, CSV row) as read, text included under ``text_key``; it is
    written back with the predictions. ``source``/``where``/``unit`` say where it came from, for
    error messages; ``bytes_read`` is how far into the input it ends (progress)."""

    id: str
    text: str | None = None
    sentences: tuple[tuple[str, ...], ...] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    where: int = 0
    unit: str = "line"
    text_key: str = "text"
    layout: Layout | None = None
    docstart: bool = False  # a -DOCSTART- line opens it in CoNLL output (CoNLL-U: # newdoc)
    part: bool = False  # a part of a plain-text file read in parts
    offset: int = 0  # its character offset in the file
    bytes_read: int = 0

    @property
    def location(self) -> str:
        """``file, line N`` (or row / record / doc).

        >>> Document("a", text="x", source="in.jsonl", where=3).location, Document("b", text="x", source="in.txt").location
        ('in.jsonl, line 3', 'in.txt')
        """
        return f"{self.source}, {self.unit} {self.where}" if self.where else self.source

    @property
    def n_words(self) -> int:
        return sum(len(s) for s in self.sentences) if self.sentences is not None else len((self.text or "").split())


def decoded(raw: bytes, n: int, name: str, warnings: list[str]) -> str:
    """Bytes of line ``n`` of file ``name`` as text: UTF-8, else Latin-1 (warned once per file).

    >>> w: list[str] = []
    >>> decoded("café".encode(), 1, "a.txt", w), decoded("café".encode("latin-1"), 2, "a.txt", w), w
    ('café', 'café', ['a.txt: not valid UTF-8 (line 2, byte 3); such lines read as Latin-1'])
    """
    if b"\x00" in raw:
        raise DataError(name, n, f"binary data (NUL bytes); {EXPECTED}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if not any(w.startswith(f"{name}: not valid UTF-8") for w in warnings):
            warnings.append(f"{name}: not valid UTF-8 (line {n}, byte {err.start}); such lines read as Latin-1")
        return raw.decode("latin-1")


def read_lines(path: Path, name: str, warnings: list[str]) -> Iterator[tuple[int, str, int]]:
    """(line number, line with its line end, bytes read so far), one line at a time; a UTF-8 BOM
    is dropped, lines that are not UTF-8 read as Latin-1 (with one warning), NUL bytes are an error."""
    pos = 0
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            pos += len(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield n, decoded(raw, n, name, warnings), pos
