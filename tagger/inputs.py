"""Unlabeled documents to tag, streamed from a file: plain text, JSON lines (or a JSON list) with a
text field, CSV/TSV with a text column, CoNLL and CoNLL-U (already tokenized: their words are kept
exactly, sentence by sentence), spaCy DocBin, or a zip of any of these. Labels, where a file has
them, are ignored.

Every reader is a generator that holds one document at a time (a CoNLL document, ``-DOCSTART-``
to ``-DOCSTART-``, at most :data:`MAX_DOC_SENTENCES` sentences), so memory does not grow with the
file; only a JSON list and a DocBin are loaded whole (their formats cannot be read piecewise).
Torch-free: the app can show a preview without loading a model.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import DataError

INPUT_FORMATS = ("auto", "text", "jsonl", "json", "csv", "tsv", "conll", "conllu", "spacy")
MAX_DOC_SENTENCES = 1_000  # a CoNLL document longer than this goes on in a new part (bounded memory)
PART_CHARS = 100_000  # a plain-text file is read in parts of about this size, cut at blank lines
EXPECTED = "expected plain text, JSON lines, CSV/TSV, CoNLL, CoNLL-U, a spaCy DocBin (.spacy) or a zip of these"
_TAG = re.compile(r"^(O|[BIESLU][-_]\S+|[A-Z$]+|[.,:;()\"'`$#]+|_)$")  # a CoNLL label column: O, B-PER, NNP, punctuation
_ID = re.compile(r"^\d+$")


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
        """``file, line N`` (or row / record / doc)."""
        return f"{self.source}, {self.unit} {self.where}" if self.where else self.source

    @property
    def n_words(self) -> int:
        return sum(len(s) for s in self.sentences) if self.sentences is not None else len((self.text or "").split())


def split_long(text: str, limit: int) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``limit`` characters, as (offset, piece): after a blank
    line where there is one (a blank line ends a sentence anyway), else after a line end, else
    after a space, else anywhere. Pieces joined give the text back.

    >>> split_long("One.\\n\\nTwo three.\\nFour", 12)
    [(0, 'One.\\n\\n'), (6, 'Two three.\\n'), (17, 'Four')]
    >>> split_long("abcdef", 4)
    [(0, 'abcd'), (4, 'ef')]
    """
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            i = window.rfind(sep)
            if i > 0:
                cut = i + len(sep)
                break
        cut = cut if cut > 0 else limit
        out.append((start, text[start : start + cut]))
        start += cut
    out.append((start, text[start:]))
    return out


def looks_like_conll(lines: list[str]) -> bool:
    """Whether the first lines of a file are CoNLL columns (a word and labels, or a word per line)
    rather than plain text: ``-DOCSTART-``, or the same number of fields on every line with a
    label-like last field.

    >>> looks_like_conll(["EU B-ORG", "rejects O", "", "German B-MISC"]), looks_like_conll(["Angela Merkel met Macron.", "He left."])
    (True, False)
    >>> looks_like_conll(["EU", "rejects", "", "Peter"]), looks_like_conll(["Hello World"])
    (True, False)
    """
    rows = [ln for ln in lines if ln.strip()]
    if any(ln.startswith("-DOCSTART-") for ln in rows):
        return True
    if not rows:
        return False
    fields = [ln.split("\t") if "\t" in ln else ln.split() for ln in rows[:50]]
    widths = {len(f) for f in fields}
    if len(widths) != 1:
        return False
    width = widths.pop()
    if width == 1:  # one word per line: tokens (a few words alone on lines are rather text)
        return len(rows) >= 3 or len(rows) == 2 and any(not ln.strip() for ln in lines)
    return len(rows) >= 2 and width <= 12 and sum(bool(_TAG.match(f[-1].strip())) for f in fields) >= 0.9 * len(fields)


def _decoded(raw: bytes, n: int, name: str, warnings: list[str]) -> str:
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
            yield n, _decoded(raw, n, name, warnings), pos


# ---------------------------------------------------------------------------------------- plain text


def text_documents(path: Path, name: str, lines: bool, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per file (a big file in parts of about :data:`PART_CHARS`, cut at blank lines,
    each with its character ``offset``), or with ``lines`` one per non-blank line."""
    if lines:
        for n, line, pos in read_lines(path, name, warnings):
            text = line.rstrip("\r\n")
            if text.strip():
                yield Document(f"{name}:{n}", text=text, source=name, where=n, bytes_read=base + pos)
        return
    buf: list[str] = []
    size = offset = parts = before = 0
    first = 1

    def flush(pos: int) -> Document:
        nonlocal buf, size, offset, parts
        parts += 1
        doc = _part("".join(buf), name, first, offset, base + pos, parts)
        offset += size
        buf, size = [], 0
        return doc

    for n, line, pos in read_lines(path, name, warnings):
        if buf and size + len(line) > 2 * PART_CHARS:  # no blank line came in time: cut at a line end
            yield flush(before)
            first = n
        if len(line) > 2 * PART_CHARS:  # one huge line: in pieces of its own
            for _, piece in split_long(line, PART_CHARS):
                parts += 1
                yield _part(piece, name, n, offset, base + pos, parts)
                offset += len(piece)
            first = n + 1
        else:
            buf.append(line)
            size += len(line)
            if size >= PART_CHARS and not line.strip():  # a part ends after a blank line once it is big enough
                yield flush(pos)
                first = n + 1
        before = pos
    text = "".join(buf)
    if text.strip():
        yield _part(text, name, first, offset, base + before, parts + 1 if parts else 0)


def _part(text: str, name: str, line: int, offset: int, pos: int, part: int) -> Document:
    """A part of a plain-text file (``part`` 0: the whole file)."""
    if not part:
        return Document(name, text=text, source=name, where=0, bytes_read=pos)
    return Document(f"{name}:{line}", text=text, source=name, where=line, part=True, offset=offset, bytes_read=pos)


# ---------------------------------------------------------------------------------------- records


def _record_text(obj: dict[str, Any], key: str, name: str, n: int, unit: str) -> str:
    if key not in obj:
        keys = ", ".join(f'"{k}"' for k in list(obj)[:12]) or "none"
        raise DataError(name, n, f'no "{key}" field; the record has {keys} (choose the text field with --text-field)', unit=unit)
    text = obj[key]
    if not isinstance(text, str):
        raise DataError(name, n, f'"{key}" is {"null" if text is None else type(text).__name__}; expected a string', unit=unit)
    return text


def _record_id(obj: dict[str, Any], name: str, n: int) -> str:
    value = obj.get("id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else f"{name}:{n}"


def jsonl_documents(path: Path, name: str, text_field: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per JSON object per line; the object is kept whole (``fields``)."""
    for n, line, pos in read_lines(path, name, warnings):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(name, n, f"invalid JSON ({err.msg}, column {err.colno}); expected one JSON object per line") from None
        if not isinstance(obj, dict):
            raise DataError(name, n, f'a JSON {type(obj).__name__}; expected an object like {{"{text_field}": "..."}}')
        text = _record_text(obj, text_field, name, n, "line")
        yield Document(_record_id(obj, name, n), text=text, fields=obj, source=name, where=n, text_key=text_field, bytes_read=base + pos)


def json_documents(path: Path, name: str, text_field: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """A JSON list of records (loaded whole: JSON cannot be read piecewise); ``{"data": {...}}``
    (Label Studio tasks) reads the text from ``data``."""
    raw = path.read_bytes()
    try:
        loaded = json.loads(_decoded(raw.removeprefix(b"\xef\xbb\xbf"), 1, name, warnings))
    except json.JSONDecodeError as err:
        raise DataError(name, err.lineno, f"invalid JSON ({err.msg}, column {err.colno}); expected a list of records") from None
    records = loaded if isinstance(loaded, list) else [loaded]
    size = len(raw)
    for n, obj in enumerate(records, 1):
        if not isinstance(obj, dict):
            raise DataError(name, n, f"a JSON {type(obj).__name__}; expected a record (object)", unit="record")
        holder = obj["data"] if text_field not in obj and isinstance(obj.get("data"), dict) else obj
        text = _record_text(holder, text_field, name, n, "record")
        yield Document(_record_id(obj, name, n), text=text, fields=holder, source=name, where=n, unit="record", text_key=text_field,
                       bytes_read=base + size * n // len(records))


def _find_column(header: list[str], column: str, name: str) -> int:
    exact = [i for i, h in enumerate(header) if h == column]
    loose = [i for i, h in enumerate(header) if h.strip().lower() == column.strip().lower()]
    if exact or loose:
        return (exact or loose)[0]
    seen = ", ".join(f'"{h}"' for h in header[:20]) or "none"
    raise DataError(name, 1, f'no "{column}" column; the header has {seen} (choose the text column with --text-column)')


def csv_documents(path: Path, name: str, text_column: str, delimiter: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per row under a header row; the row is kept as a record (``fields``). Quoted
    cells may span lines."""
    pos = 0

    def feed() -> Iterator[str]:
        nonlocal pos
        for _, line, p in read_lines(path, name, warnings):
            pos = p
            yield line

    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a document's text may be long (the default limit: 128 KB)
    reader = csv.reader(feed(), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(name, None, "no header row; expected a header naming the text column")
        col = _find_column(header, text_column, name)
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            n = reader.line_num
            if len(row) != len(header):
                raise DataError(name, n, f"{len(row)} fields, expected {len(header)} like the header ({delimiter!r}-separated)")
            record = dict(zip(header, row))
            yield Document(_record_id(record, name, n), text=row[col], fields=record, source=name, where=n,
                           text_key=header[col], bytes_read=base + pos)
    except csv.Error as err:
        raise DataError(name, reader.line_num, f"cannot read this CSV row ({err})") from None


# ---------------------------------------------------------------------------------------- pre-tokenized


class _Sentences:
    """Sentences of words collected for one document, with the lines between them (``exact``: kept
    for the CoNLL output's layout). ``take`` hands the previous document out one step late, so that
    lines after the last sentence of the file still join the last document."""

    def __init__(self, name: str, exact: bool) -> None:
        self.name, self.exact = name, exact
        self.sentences: list[tuple[str, ...]] = []
        self.prefix: list[tuple[str, ...]] = []
        self.words: list[str] = []
        self.gap: list[str] = []
        self.first = 0
        self.docstart = False
        self.held: Document | None = None

    def word(self, word: str, n: int) -> None:
        if not self.words:
            if not self.sentences:
                self.first = n
            self.prefix.append(tuple(self.gap))
            self.gap = []
        self.words.append(word)

    def end_sentence(self) -> None:
        if self.words:
            self.sentences.append(tuple(self.words))
            self.words = []

    def take(self, pos: int, suffix: bool) -> Iterator[Document]:
        """End the document so far (if it has a sentence); ``suffix``: the pending lines end it.
        Yields the document before it."""
        self.end_sentence()
        if not self.sentences:
            return
        layout = Layout(tuple(self.prefix), tuple(self.gap) if suffix else ()) if self.exact else None
        doc = Document(f"{self.name}:{self.first}", sentences=tuple(self.sentences), source=self.name, where=self.first, layout=layout,
                       docstart=self.docstart, bytes_read=pos)
        self.sentences, self.prefix, self.docstart = [], [], False
        if suffix:
            self.gap = []
        if self.held is not None:
            yield self.held
        self.held = doc

    def finish(self, pos: int) -> Iterator[Document]:
        yield from self.take(pos, suffix=True)
        held, self.held = self.held, None
        if held is not None and held.layout is not None and self.gap:  # lines after the last sentence
            held = replace(held, layout=Layout(held.layout.prefix, held.layout.suffix + tuple(self.gap)))
        if held is not None:
            yield held


def conll_documents(path: Path, name: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """CoNLL columns: the word is the first field (tab-separated when the line has a tab, else
    whitespace-separated); a blank line ends a sentence, ``-DOCSTART-`` a document."""
    acc = _Sentences(name, exact=True)
    pos = base
    for n, line, p in read_lines(path, name, warnings):
        pos = base + p
        text = line.rstrip("\r\n")
        if text.startswith("-DOCSTART-"):
            yield from acc.take(pos, suffix=True)
            acc.docstart = True
            acc.gap.append("-DOCSTART-")
        elif not text.strip():
            acc.end_sentence()
            acc.gap.append("")
            if len(acc.sentences) >= MAX_DOC_SENTENCES:  # a long document goes on in a new part
                yield from acc.take(pos, suffix=False)
        else:
            word = text.split("\t", 1)[0].strip() if "\t" in text else text.split(None, 1)[0]
            if not word:
                raise DataError(name, n, "empty word field; expected a word in the first column")
            acc.word(word, n)
    yield from acc.finish(pos)


def conllu_documents(path: Path, name: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """CoNLL-U: words from FORM; multiword-token ranges and empty nodes skipped (their syntactic
    words are listed next to them); ``# newdoc`` starts a document."""
    acc = _Sentences(name, exact=False)
    pos = base
    for n, line, p in read_lines(path, name, warnings):
        pos = base + p
        text = line.rstrip("\r\n")
        if not text.strip():
            acc.end_sentence()
            if len(acc.sentences) >= MAX_DOC_SENTENCES:
                yield from acc.take(pos, suffix=False)
            continue
        if text.startswith("#"):
            if re.match(r"#\s*newdoc\b", text):
                yield from acc.take(pos, suffix=False)
                acc.docstart = True
            continue
        parts = text.split("\t")
        if len(parts) != 10:
            raise DataError(name, n, f"{len(parts)} tab-separated columns, expected the 10 of CoNLL-U (ID FORM LEMMA UPOS ...)")
        if not _ID.match(parts[0]):
            continue  # a multiword-token range (1-2) or an empty node (8.1)
        if not parts[1].strip():
            raise DataError(name, n, "empty FORM (column 2); expected the word")
        acc.word(parts[1].strip(), n)
    yield from acc.finish(pos)


def docbin_documents(path: Path, name: str, language: str, base: int = 0) -> Iterator[Document]:
    """A spaCy DocBin (loaded whole): each Doc's word tokens, by the Doc's own sentences when it
    has them, else by the sentencizer that prediction uses."""
    from spacy.tokens import DocBin

    from .words import _spacy_pipeline, is_word, sentence_groups

    nlp = _spacy_pipeline(language)
    try:
        docs = DocBin().from_disk(path).get_docs(nlp.vocab)
        size = path.stat().st_size
        for d, doc in enumerate(docs, 1):
            if doc.has_annotation("SENT_START"):
                groups = [[t.i for t in sent] for sent in doc.sents]
            else:
                groups = sentence_groups([t.text for t in doc], language)
            sentences = tuple(tuple(doc[i].text for i in g if is_word(doc[i].text)) for g in groups)
            yield Document(f"{name}:{d}", sentences=tuple(s for s in sentences if s), source=name, where=d, unit="doc", docstart=True,
                           bytes_read=base + size)
    except (ValueError, KeyError, TypeError, OSError) as err:  # zlib/msgpack errors are ValueErrors
        detail = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise DataError(name, None, f"cannot read it as a spaCy DocBin ({detail})") from None


# ---------------------------------------------------------------------------------------- detection, zip


def detect_input(path: Path, head: bytes) -> str:
    """The input format of a file from its name and first bytes: ``zip`` or one of :data:`INPUT_FORMATS`."""
    from . import readers

    suffix = path.suffix.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    kind = readers.detect(path, head)  # raises for binary files, images, PDFs ...
    if kind in ("parquet", "arrow"):
        raise DataError(path, None, f"{kind} files are not read for tagging; {EXPECTED}")
    if kind in ("spacy", "conllu", "json"):
        return kind
    if kind in ("jsonl", "spans", "labelstudio"):
        return "jsonl"
    if suffix in (".csv", ".tsv") or kind in ("csv", "tsv"):
        return "tsv" if suffix == ".tsv" or kind == "tsv" else "csv"
    if suffix in (".conll", ".iob", ".bio", ".iob2", ".bioes", ".conll03"):
        return "conll"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    sample = text.replace("\r\n", "\n").split("\n")
    if len(head) >= 8192:
        sample = sample[:-1]  # the last line may be cut
    return "conll" if looks_like_conll(sample[:200]) else "text"


@dataclass
class Source:
    """One file to read documents from (a zip member: ``name`` is ``archive.zip:member``)."""

    path: Path
    name: str
    fmt: str


def member_sources(path: Path, folder: Path, max_bytes: int | None, fmt: str) -> list[Source]:
    """The data members of a zip, extracted under ``folder`` (the readers' zip limits apply)."""
    from .readers.archive import expand

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
        return csv_documents(p, name, options.text_column, "\t" if source.fmt == "tsv" else _delimiter(p), warnings, base)
    if source.fmt == "conll":
        return conll_documents(p, name, warnings, base)
    if source.fmt == "conllu":
        return conllu_documents(p, name, warnings, base)
    if source.fmt == "spacy":
        return docbin_documents(p, name, options.language, base)
    raise DataError(name, None, f"unknown input format {source.fmt!r}; expected one of: {', '.join(INPUT_FORMATS)}")


def _delimiter(path: Path) -> str:
    """``,`` unless the header line has tabs or semicolons and no comma."""
    with path.open("rb") as f:
        head = f.readline(65536).decode("utf-8", errors="replace")
    if "," not in head:
        return "\t" if "\t" in head else ";" if ";" in head else ","
    return ","


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
