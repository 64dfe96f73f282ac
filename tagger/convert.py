"""Sentences -> files that :func:`tagger.data.read_file` (and other tools) read back unchanged:
CoNLL columns, token JSONL, spaCy DocBin. Documents are kept: ``-DOCSTART-`` lines, a ``doc``
key, one Doc per document."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path

from .data import Sentence
from .errors import DataError

WRITERS = ("conll", "jsonl", "spacy")


def _documents(sentences: Sequence[Sentence]) -> Iterator[list[Sentence]]:
    for _, group in groupby(sentences, key=lambda s: s.doc):
        yield list(group)


def _clean(word: str) -> str:
    return " ".join(word.split("\t")).replace("\n", " ")


def conll_text(sentences: Sequence[Sentence]) -> str:
    """Tab-separated ``word<TAB>label`` lines; a ``-DOCSTART-`` line opens each document when
    there are several.

    >>> conll_text([Sentence(["EU", "rejects"], ["B-ORG", "O"], doc=0), Sentence(["Hi"], ["O"], doc=1)]).splitlines()
    ['-DOCSTART-\\tO', '', 'EU\\tB-ORG', 'rejects\\tO', '', '-DOCSTART-\\tO', '', 'Hi\\tO', '']
    """
    docs = list(_documents(sentences))
    out: list[str] = []
    for doc in docs:
        if len(docs) > 1:
            out.append("-DOCSTART-\tO\n\n")
        for s in doc:
            out.append("".join(f"{_clean(w)}\t{t}\n" for w, t in zip(s.words, s.tags)) + "\n")
    return "".join(out)


def jsonl_text(sentences: Sequence[Sentence]) -> str:
    """One ``{"tokens", "tags", "doc"}`` object per sentence.

    >>> jsonl_text([Sentence(["EU"], ["B-ORG"], doc=3)])
    '{"tokens": ["EU"], "tags": ["B-ORG"], "doc": 3}\\n'
    """
    return "".join(json.dumps({"tokens": s.words, "tags": s.tags, "doc": s.doc}, ensure_ascii=False) + "\n" for s in sentences)


def docbin_bytes(sentences: Sequence[Sentence], plain: bool, language: str = "en") -> bytes:
    """A DocBin with one Doc per document, its sentence starts set; IOB2 tags as ``doc.ents``,
    plain labels as ``token.tag_``."""
    from spacy.tokens import Doc, DocBin

    from .words import _spacy_pipeline

    vocab = _spacy_pipeline(language).vocab
    db = DocBin(store_user_data=False)
    for doc in _documents(sentences):
        words = [w for s in doc for w in s.words]
        tags = [t for s in doc for t in s.tags]
        starts = [i == 0 for s in doc for i in range(len(s.words))]
        if plain:
            db.add(Doc(vocab, words=words, sent_starts=starts, tags=tags))
        else:
            db.add(Doc(vocab, words=words, sent_starts=starts, ents=tags))
    return db.to_bytes()


def write(sentences: Sequence[Sentence], fmt: str, out: str | Path, plain: bool = False, language: str = "en") -> Path:
    """Write ``sentences`` as ``fmt`` (one of :data:`WRITERS`) to ``out``, atomically."""
    out = Path(out)
    if fmt not in WRITERS:
        raise DataError(out, None, f"cannot write format {fmt!r}; expected one of: {', '.join(WRITERS)}")
    if fmt == "spacy":
        data = docbin_bytes(sentences, plain, language)
    else:
        data = (conll_text(sentences) if fmt == "conll" else jsonl_text(sentences)).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
