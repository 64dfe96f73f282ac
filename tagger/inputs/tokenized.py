"""Documents already split into words, whose words are kept exactly, sentence by sentence: CoNLL
columns (with the layout of their non-word lines, so that the ``.conll`` output lines up with the
input), CoNLL-U, and a spaCy DocBin. A CoNLL document (``-DOCSTART-`` to ``-DOCSTART-``) longer than
:data:`MAX_DOC_SENTENCES` sentences goes on in a new part: memory does not grow with the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import DataError
from .document import Document, Layout, read_lines

MAX_DOC_SENTENCES = 1_000  # a CoNLL document longer than this goes on in a new part (bounded memory)
_ID = re.compile(r"^\d+$")

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

    def blank(self, pos: int) -> Iterator[Document]:
        """A blank line: it ends the sentence (and is kept for the layout); a document that has
        :data:`MAX_DOC_SENTENCES` sentences goes on in a new part (bounded memory)."""
        self.end_sentence()
        self.gap.append("")
        if len(self.sentences) >= MAX_DOC_SENTENCES:
            yield from self.take(pos, suffix=False)

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
            yield from acc.blank(pos)
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
            yield from acc.blank(pos)
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

    from ..words import _spacy_pipeline, is_word, sentence_groups

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
