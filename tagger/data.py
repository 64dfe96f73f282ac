"""Read labeled data as users have it: CoNLL-style columns or JSONL, any common tag scheme.

Everything is normalised to IOB2 (or kept as plain labels for POS/chunk-like columns).
Bad input raises :class:`DataError` naming the file, the line and what was expected.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError
from .schemes import SchemeError, breaks_scheme, detect_scheme, iob2_spans, to_iob2

MAX_FILE_BYTES = 50_000_000  # a Space has little RAM; CoNLL-2003 train is 3 MB
MAX_SENTENCES = 200_000
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"PK\x03\x04": "a zip archive",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}


@dataclass
class Sentence:
    words: list[str]
    tags: list[str]
    line: int = 0  # first line in the source file, for error messages
    doc: int = 0  # document index (-DOCSTART- boundaries)


@dataclass
class DataReport:
    file: str
    format: str  # "conll" or "jsonl"
    separator: str  # "tab", "whitespace" or "-"
    columns: int
    label_column: int
    scheme: str  # scheme found in the file (the data itself is IOB2 or plain from here on)
    sentences: int
    words: int
    documents: int
    labels: dict[str, int]  # entity type -> entity count (plain: label -> word count)
    repaired: int  # sentences whose ill-formed tags were repaired
    longest_sentence: int  # in words
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        labels = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items(), key=lambda kv: -kv[1]))
        lines = [
            f"{self.file}: {self.sentences:,} sentences, {self.words:,} words, {self.documents} documents",
            (
                f"format {self.format} ({self.separator}, {self.columns} columns, labels from column "
                f"{self.label_column}); scheme {self.scheme}; {self.repaired} sentences repaired; "
                f"longest sentence {self.longest_sentence} words"
            ),
            f"labels: {labels}",
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class Dataset:
    sentences: list[Sentence]
    report: DataReport

    @property
    def tag_set(self) -> list[str]:
        """All IOB2 tags seen, ``O`` first, then sorted."""
        tags = {t for s in self.sentences for t in s.tags}
        return sorted(tags, key=lambda t: (t != "O", t.split("-", 1)[-1], t))


def _check_binary(path: Path, head: bytes) -> None:
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DataError(path, None, f"this is {what}, not a text file; expected CoNLL columns or JSONL")
    if b"\x00" in head:
        raise DataError(path, None, "this is a binary file (NUL bytes); expected CoNLL columns or JSONL text")


Lines = Callable[[], Iterator[tuple[int, str]]]  # a fresh (line number, line) iterator per call


def _decode_lines(path: Path, warnings: list[str]) -> Lines:
    """Decode once, then hand out lazy line iterators: a list of line tuples would take ~70x
    the file size in memory (a 5 MB file of one-word sentences peaked at 360 MB)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        warnings.append(f"not valid UTF-8 (byte {err.start}); read as Latin-1")
        text = raw.decode("latin-1")
    del raw
    if "\r" in text:  # \r\n and \r end a line too, as when reading the file in text mode
        text = text.replace("\r\n", "\n").replace("\r", "\n")

    def lines() -> Iterator[tuple[int, str]]:
        pos, n = 0, 0
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            n += 1
            yield n, text[pos:end]
            pos = end + 1

    return lines


def _read_conll(path: Path, lines: Lines, label_column: int) -> tuple[list[Sentence], dict]:
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
                if len(sentences) > MAX_SENTENCES:
                    raise DataError(path, n, f"more than {MAX_SENTENCES:,} sentences; split the file")
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
    return sentences, {"format": "conll", "separator": sep, "columns": ncols, "label_column": col, "documents": max(doc, 1)}


def _read_jsonl(path: Path, lines: Lines) -> tuple[list[Sentence], dict]:
    sentences: list[Sentence] = []
    for n, ln in lines():
        if not ln.strip():
            continue
        try:
            obj = json.loads(ln)
        except json.JSONDecodeError as err:
            raise DataError(path, n, f"invalid JSON ({err.msg}); expected one object per line") from None
        if not isinstance(obj, dict):
            raise DataError(path, n, 'expected an object like {"tokens": [...], "tags": [...]}')
        words = obj.get("tokens", obj.get("words"))
        tags = next((obj[k] for k in ("tags", "ner_tags", "labels") if k in obj), None)
        if not isinstance(words, list) or not isinstance(tags, list):
            raise DataError(path, n, 'expected keys "tokens" and "tags", each a list')
        if len(words) != len(tags):
            raise DataError(path, n, f'"tokens" has {len(words)} items but "tags" has {len(tags)}; expected equal lengths')
        if not all(isinstance(t, str) and t for t in tags):
            raise DataError(path, n, 'every tag must be a non-empty string (label names, not integer ids)')
        if not all(isinstance(w, str) and w.strip() for w in words):
            raise DataError(path, n, "every token must be a non-empty string")
        if words:
            sentences.append(Sentence([w.strip() for w in words], [t.strip() for t in tags], n, 0))
        if len(sentences) > MAX_SENTENCES:
            raise DataError(path, n, f"more than {MAX_SENTENCES:,} sentences; split the file")
    if not sentences:
        raise DataError(path, None, "contains no sentences")
    return sentences, {"format": "jsonl", "separator": "-", "columns": 2, "label_column": 1, "documents": 1}


def read_file(path: str | Path, label_column: int = -1, max_bytes: int = MAX_FILE_BYTES) -> Dataset:
    """Read a CoNLL-style or JSONL file into IOB2 sentences plus a :class:`DataReport`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, None, "the file is empty; expected CoNLL columns or JSONL")
    if size > max_bytes:
        raise DataError(path, None, f"the file is {size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    with path.open("rb") as f:
        head = f.read(8192)
    _check_binary(path, head)
    warnings: list[str] = []
    lines = _decode_lines(path, warnings)
    first = next((ln.lstrip("\ufeff").strip() for _, ln in lines() if ln.strip()), "")
    if not first:
        raise DataError(path, None, "contains only blank lines; expected CoNLL columns or JSONL")
    if path.suffix.lower() in (".jsonl", ".json") or first.startswith("{"):
        sentences, meta = _read_jsonl(path, lines)
    else:
        sentences, meta = _read_conll(path, lines, label_column)
    return _normalise(path, sentences, meta, warnings)


def _normalise(path: Path, sentences: list[Sentence], meta: dict, warnings: list[str]) -> Dataset:
    try:
        scheme = detect_scheme([s.tags for s in sentences])
    except SchemeError as err:
        line = None
        if err.index:
            s = sentences[err.index[0]]
            line = s.line + err.index[1] if meta["format"] == "conll" else s.line
        raise DataError(path, line, str(err)) from None
    repaired = 0
    for s in sentences:
        repaired += breaks_scheme(s.tags, scheme)
        s.tags = to_iob2(s.tags, scheme)
    if repaired:
        warnings.append(f"{repaired} sentences break the {scheme} scheme; repaired (read as seqeval reads them)")
    if scheme == "IOB1+IOB2":
        warnings.append("IOB1 and IOB2 tags mixed; read with the IOB1 rule (I- after O opens an entity)")
    counts: Counter[str] = Counter()
    for s in sentences:
        counts.update(sp.label for sp in iob2_spans(s.tags))
    if not counts:
        warnings.append("no entities at all: every word is labelled O")
    rare = sorted(k for k, v in counts.items() if v == 1)
    if rare:
        warnings.append(f"labels seen only once: {', '.join(rare[:10])}")
    report = DataReport(
        file=path.name,
        scheme=scheme,
        sentences=len(sentences),
        words=sum(len(s.words) for s in sentences),
        labels=dict(counts.most_common()),
        repaired=repaired,
        longest_sentence=max(len(s.words) for s in sentences),
        warnings=warnings,
        **meta,
    )
    return Dataset(sentences, report)


def split_holdout(sentences: Sequence[Sentence], fraction: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    """Split off ``fraction`` of the sentences (at least one) as dev, reproducibly for a seed."""
    if len(sentences) < 2:  # a DataError (a ValueError) so the CLI reports it in one line
        raise DataError("training data", None, "need at least 2 sentences to hold out a dev set; upload a dev file")
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    n_dev = max(1, round(len(sentences) * fraction))
    dev_ids = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in dev_ids]
    dev = [s for i, s in enumerate(sentences) if i in dev_ids]
    return train, dev
