"""One reader per data format, behind :func:`tagger.data.read_file`. Each ``read`` takes a path, the
:class:`~tagger.readers.base.ReadOptions`, a :class:`~tagger.readers.base.Conversion` tally and a
warnings list, and returns the sentences (raw tags: the scheme is normalised by ``tagger.data``)
with the report fields it knows. The format is detected from the content (and the name's suffix).
Readers build :class:`tagger.corpus.Sentence` values and never import :mod:`tagger.data`, which sits
on top of them.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from ..errors import DataError
from .base import Conversion, ReadOptions

# name -> what the UI and ``--format`` show
FORMATS: dict[str, str] = {
    "auto": "detect from the file",
    "conll": "CoNLL columns (word ... label; -DOCSTART-)",
    "conllu": "CoNLL-U (Universal Dependencies)",
    "jsonl": "JSONL with tokens + tags / ner_tags / pos_tags (names or ids)",
    "spans": "span JSONL: doccano, Prodigy, spaCy (text + character offsets)",
    "labelstudio": "Label Studio JSON export",
    "json": "JSON: a list of records (datasets export, doccano, Label Studio)",
    "parquet": "Parquet (datasets export)",
    "arrow": "Arrow (datasets save_to_disk)",
    "spacy": "spaCy DocBin (.spacy)",
    "csv": "CSV: list-valued tokens/tags columns, or one row per token",
    "tsv": "TSV: like CSV, tab-separated",
}
ALIASES = {"doccano": "spans", "prodigy": "spans", "docbin": "spacy", "hf": "auto", "datasets": "auto", "table": "csv", "conll-u": "conllu"}
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}


def canonical(fmt: str | None) -> str:
    """A format name as given by a user -> the reader's name.

    >>> canonical("Doccano"), canonical(None), canonical("conllu")
    ('spans', 'auto', 'conllu')
    """
    name = (fmt or "auto").strip().lower()
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        raise DataError("format", None, f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return name


def _is_zlib(head: bytes) -> bool:
    """Whether bytes start a zlib stream (a DocBin is one); text that happens to start with a valid
    zlib header ("x " ...) does not inflate."""
    if len(head) < 2 or head[0] != 0x78 or (head[0] * 256 + head[1]) % 31:
        return False
    try:
        zlib.decompressobj().decompress(head[:4096])
    except zlib.error:
        return False
    return True


def detect(path: Path, head: bytes) -> str:
    """The format of a file from its first bytes and its suffix (``zip`` for an archive)."""
    suffix = path.suffix.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if suffix == ".arrow" or head.startswith((b"ARROW1", b"\xff\xff\xff\xff")):
        return "arrow"
    if suffix == ".spacy" or _is_zlib(head):
        return "spacy"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DataError(path, None, f"this is {what}, not a text file; expected CoNLL, CoNLL-U, JSON(L), CSV, Parquet or .spacy")
    if b"\x00" in head:
        raise DataError(path, None, "this is a binary file (NUL bytes); expected CoNLL columns, CoNLL-U, JSON(L) or CSV text")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [ln for ln in text.replace("\r", "\n").split("\n") if ln.strip()]
    if not lines:
        if len(head) < 8192:
            raise DataError(path, None, "contains only blank lines; expected CoNLL columns, CoNLL-U, JSON lines or CSV")
        return "conll"  # the CoNLL reader says what is missing
    first = lines[0].strip()
    if first.startswith("["):
        return "jsonl" if suffix == ".jsonl" else "json"
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return "json" if suffix == ".json" or len(lines) > 1 and not lines[1].lstrip().startswith("{") else "jsonl"
        if not isinstance(obj, dict):
            return "jsonl"
        from .jsonfiles import record_kind

        return record_kind(obj)
    from . import conllu, table

    if suffix == ".conllu" or any(conllu.looks_like(ln) for ln in lines[:50] if not ln.startswith("#")):
        return "conllu"
    kind = table.sniff(first, suffix)
    return kind or "conll"


def read(path: Path, fmt: str, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    """Sentences and report fields of one file in format ``fmt`` (not ``auto`` or ``zip``)."""
    if fmt == "conll":
        from . import conll

        return conll.read(path, opts, conv, warnings)
    if fmt == "conllu":
        from . import conllu

        return conllu.read(path, opts, conv, warnings)
    if fmt in ("jsonl", "spans", "labelstudio", "json"):
        from . import jsonfiles

        return jsonfiles.read(path, fmt, opts, conv, warnings)
    if fmt in ("parquet", "arrow"):
        from . import columnar

        return columnar.read_columnar(path, fmt, opts, conv, warnings)
    if fmt == "spacy":
        from . import docbin

        return docbin.read(path, opts, conv, warnings)
    if fmt in ("csv", "tsv"):
        from . import table

        return table.read(path, fmt, opts, conv, warnings)
    raise DataError(path, None, f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
