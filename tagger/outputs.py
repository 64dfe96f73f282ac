"""Tagged documents -> files that annotation tools import, written as a stream. The format comes
from the output file's extension (``to=`` overrides):

- ``.jsonl``: each input record plus ``"spans": [{"start", "end", "label", "score", "text"}]``
  (character offsets into the record's text: the Prodigy / doccano shape, which
  :func:`tagger.data.read_file` reads back as training data); pre-split input (CoNLL) becomes
  ``{"id", "text", "tokens", "spans"}`` with the words joined by single spaces;
- ``.csv``: one row per entity (``id, start, end, text, label, score``);
- ``.conll``: ``word<TAB>tag`` (IOB2), a blank line between sentences, ``-DOCSTART-`` lines kept:
  a CoNLL input comes back line for line;
- ``.spacy``: a DocBin whose docs carry ``doc.ents`` (kept in memory until the end: a DocBin is
  one compressed blob);
- ``.json``: Label Studio tasks with ``predictions`` (pre-annotations; the labeling config they
  fit: :func:`label_studio_config`).

Every writer writes to a temporary file in the target's folder and renames it into place when
done; an error, a cancel or Ctrl-C (anything raised inside the ``with`` block) leaves no output
and no temporary file. Torch-free.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self
from xml.sax.saxutils import quoteattr

from .errors import DataError
from .inputs import Document

OUTPUT_FORMATS = {"jsonl": ".jsonl", "csv": ".csv", "conll": ".conll", "spacy": ".spacy", "json": ".json"}
_ALIASES = {"ndjson": "jsonl", "labelstudio": "json", "label-studio": "json", "docbin": "spacy", "conll03": "conll"}
CSV_HEADER = ("id", "start", "end", "text", "label", "score")


@dataclass(frozen=True)
class Token:
    """A word of a tagged document: character offsets into the record's text, its output tag (IOB2,
    ``O`` where an entity was dropped by the threshold) and the model's confidence."""

    text: str
    start: int
    end: int
    tag: str
    score: float


@dataclass(frozen=True)
class Span:
    """An entity: character offsets into the record's text, end exclusive; ``score``: the mean of
    its words' confidences."""

    start: int
    end: int
    label: str
    score: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label, "score": round(self.score, 4), "text": self.text}


@dataclass(frozen=True)
class Tagged:
    """A document and its predictions. ``text``: the record's text (pre-split input: the words
    joined by single spaces); ``sentences``: its words, sentence by sentence; ``entities``: those
    kept by the threshold."""

    doc: Document
    text: str
    sentences: tuple[tuple[Token, ...], ...]
    entities: tuple[Span, ...]

    @property
    def n_words(self) -> int:
        return sum(len(s) for s in self.sentences)

    @property
    def score(self) -> float:
        """The document's overall score: the mean confidence of all its words (1.0 with none)."""
        n = self.n_words
        return sum(t.score for s in self.sentences for t in s) / n if n else 1.0


def output_format(path: str | Path | None, to: str | None = None) -> str:
    """The output format: ``to`` if given, else from the file's extension (``None``: stdout, JSON lines).

    >>> output_format("out/x.JSONL"), output_format("x.txt", to="CoNLL"), output_format(None), output_format("a.json")
    ('jsonl', 'conll', 'jsonl', 'json')
    """
    if to:
        name = to.strip().lower().lstrip(".")
        name = _ALIASES.get(name, name)
        if name not in OUTPUT_FORMATS:
            raise DataError(path or "output", None, f"unknown output format {to!r}; expected one of: {', '.join(OUTPUT_FORMATS)}")
        return name
    if path is None:
        return "jsonl"
    suffix = Path(path).suffix.lower()
    for name, ext in OUTPUT_FORMATS.items():
        if suffix == ext:
            return name
    said = f"extension {suffix!r}" if suffix else "no extension"
    raise DataError(path, None, (
        f"unknown output format ({said}); name the file .jsonl, .csv, .conll, .spacy or .json (Label Studio), or give --to"
    ))


# ---------------------------------------------------------------------------------------- records


def record(item: Tagged) -> dict[str, Any]:
    """The ``.jsonl`` record of a tagged document: the source record plus ``spans``."""
    spans = [e.to_dict() for e in item.entities]
    doc = item.doc
    if doc.sentences is not None:
        tokens = [{"text": t.text, "start": t.start, "end": t.end, "id": i} for i, t in enumerate(t for s in item.sentences for t in s)]
        return {"id": doc.id, "text": item.text, "tokens": tokens, "spans": spans}
    if doc.fields:  # a JSON / CSV record: written back as it was
        return {**doc.fields, "spans": spans}
    where = {"offset": doc.offset} if doc.part else {}  # a part of a big text file: where it starts in the file
    return {"id": doc.id, "text": item.text, **where, "spans": spans}


def label_studio_task(item: Tagged, model_version: str) -> dict[str, Any]:
    """A Label Studio task with the predictions as pre-annotations (``from_name="label"``,
    ``to_name="text"``: the names of :func:`label_studio_config`)."""
    data = dict(item.doc.fields) if item.doc.fields and item.doc.sentences is None else {"id": item.doc.id}
    data["text"] = item.text
    result = [
        {"id": f"e{k}", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": e.start, "end": e.end, "text": e.text, "labels": [e.label]}, "score": round(e.score, 4)}
        for k, e in enumerate(item.entities, 1)
    ]
    return {"data": data, "predictions": [{"model_version": model_version, "score": round(item.score, 4), "result": result}]}


def label_studio_config(labels: Iterable[str]) -> str:
    """The Label Studio labeling config that the ``.json`` output fits: one ``Labels`` control
    named ``label`` over a ``Text`` object named ``text``, one ``Label`` per entity type.

    >>> print(label_studio_config(["O", "B-PER", "I-PER", "B-LOC"]))
    <View>
      <Labels name="label" toName="text">
        <Label value="PER"/>
        <Label value="LOC"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>
    """
    types = list(dict.fromkeys(lab.split("-", 1)[1] if lab[:2] in ("B-", "I-") else lab for lab in labels if lab != "O"))
    inner = "".join(f"    <Label value={quoteattr(t)}/>\n" for t in types)
    return f'<View>\n  <Labels name="label" toName="text">\n{inner}  </Labels>\n  <Text name="text" value="$text"/>\n</View>'


def _clean(word: str) -> str:
    """A word as one CoNLL field: no tab or line break inside."""
    return word.replace("\t", " ").replace("\r", " ").replace("\n", " ") or "_"


def conll_lines(item: Tagged) -> list[str]:
    """The ``.conll`` lines of a tagged document. With the input's layout (a CoNLL input), the
    blank and ``-DOCSTART-`` lines come back where they were; otherwise a ``-DOCSTART-`` line opens
    each document and a blank line follows each sentence."""
    layout = item.doc.layout
    out: list[str] = []
    if layout is None:
        if item.doc.docstart or item.doc.sentences is None:
            out += ["-DOCSTART-\tO", ""]
        for sent in item.sentences:
            out += [f"{_clean(t.text)}\t{t.tag}" for t in sent]
            out.append("")
        return out
    for prefix, sent in zip(layout.prefix, item.sentences):
        out += ["-DOCSTART-\tO" if ln.startswith("-DOCSTART-") else "" for ln in prefix]
        out += [f"{_clean(t.text)}\t{t.tag}" for t in sent]
    out += ["-DOCSTART-\tO" if ln.startswith("-DOCSTART-") else "" for ln in layout.suffix]
    return out


# ---------------------------------------------------------------------------------------- writers


class Writer:
    """Writes tagged documents to ``path`` through a temporary sibling renamed into place by
    :meth:`commit`; :meth:`abort` removes it. ``path=None`` writes to ``stream`` (stdout) directly.
    As a context manager: commit on success, abort on any exception (KeyboardInterrupt too)."""

    binary = False

    def __init__(self, path: str | Path | None, *, stream: IO[str] | None = None, model_version: str = "", language: str = "en") -> None:
        self.path = Path(path) if path is not None else None
        self.model_version, self.language = model_version, language
        self.tmp: Path | None = None
        self.file: IO[Any] = stream if stream is not None else sys.stdout
        self.count = 0

    def __enter__(self) -> Self:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            except OSError as err:
                raise DataError(self.path, None, f"cannot write the output there ({err.strerror or err})") from None
            self.tmp = Path(tmp)
            self.file = os.fdopen(fd, "wb") if self.binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def start(self) -> None:
        """Write what comes before the first document (a header)."""

    def write(self, item: Tagged) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Write what comes after the last document."""

    def commit(self) -> None:
        try:
            self.finish()
            if self.tmp is None:
                self.file.flush()
                return
            self.file.close()
            assert self.path is not None
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
            self.tmp = None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


class JsonlWriter(Writer):
    def write(self, item: Tagged) -> None:
        self.file.write(json.dumps(record(item), ensure_ascii=False) + "\n")
        self.count += 1


class CsvWriter(Writer):
    def start(self) -> None:
        self.csv = csv.writer(self.file, lineterminator="\n")
        self.csv.writerow(CSV_HEADER)

    def write(self, item: Tagged) -> None:
        for e in item.entities:
            self.csv.writerow([item.doc.id, e.start, e.end, e.text, e.label, f"{e.score:.4f}"])
        self.count += 1


class ConllWriter(Writer):
    def write(self, item: Tagged) -> None:
        lines = conll_lines(item)
        if lines:
            self.file.write("\n".join(lines) + "\n")
        self.count += 1


class LabelStudioWriter(Writer):
    """A JSON list of tasks, written one task at a time."""

    def start(self) -> None:
        self.file.write("[")

    def write(self, item: Tagged) -> None:
        self.file.write(("\n" if not self.count else ",\n") + json.dumps(label_studio_task(item, self.model_version), ensure_ascii=False))
        self.count += 1

    def finish(self) -> None:
        self.file.write("\n]\n")


class DocBinWriter(Writer):
    """spaCy docs with ``doc.ents`` (plain labels, such as POS tags: ``token.tag_``) and the sentence
    starts of the tagging; ``doc.text`` is the record's text."""

    binary = True

    def start(self) -> None:
        from spacy.tokens import DocBin

        from .words import _spacy_pipeline

        self.nlp = _spacy_pipeline(self.language)
        self.bin = DocBin(store_user_data=False)

    def write(self, item: Tagged) -> None:
        from spacy.tokens import Doc

        words = [t for s in item.sentences for t in s]
        if item.doc.sentences is not None:  # pre-split: the words joined by single spaces, as item.text
            doc = Doc(self.nlp.vocab, words=[t.text for t in words], spaces=[True] * (len(words) - 1) + [False] * bool(words))
        else:
            doc = self.nlp.make_doc(item.text)  # the tokenizer that split the words
        starts = {s[0].start for s in item.sentences if s}
        tags = {t.start: t.tag for t in words}
        for tok in doc:
            tok.is_sent_start = tok.idx in starts or tok.i == 0
        plain = any(tag != "O" and tag[:2] not in ("B-", "I-") for tag in tags.values())
        if plain:
            for tok in doc:
                tok.tag_ = tags.get(tok.idx, "") if tags.get(tok.idx, "O") != "O" else ""
        else:
            doc.ents = [doc.char_span(e.start, e.end, label=e.label, alignment_mode="expand") for e in item.entities]
        self.bin.add(doc)
        self.count += 1

    def finish(self) -> None:
        self.file.write(self.bin.to_bytes())


WRITERS: dict[str, type[Writer]] = {
    "jsonl": JsonlWriter, "csv": CsvWriter, "conll": ConllWriter, "spacy": DocBinWriter, "json": LabelStudioWriter,
}


def open_writer(path: str | Path | None, to: str | None = None, *, stream: IO[str] | None = None, model_version: str = "",
                language: str = "en") -> Writer:
    """The writer for ``path``'s format (``to`` overrides); ``path=None`` writes to ``stream``
    (stdout by default), for the text formats only. Use it as a context manager."""
    fmt = output_format(path, to)
    if path is None and fmt == "spacy":
        raise DataError("output", None, "a .spacy DocBin is binary; give an output file (--output FILE.spacy)")
    return WRITERS[fmt](path, stream=stream, model_version=model_version, language=language)
