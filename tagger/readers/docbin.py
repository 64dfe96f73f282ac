"""spaCy ``.spacy`` files (``DocBin``): entities (``doc.ents`` -> IOB2), or ``tag_`` / ``pos_`` /
``dep_`` for taggers. Each Doc is a document; its sentences are the Doc's own when it has them,
else those of the sentencizer prediction uses. Whitespace tokens carry no label and are left out,
as at prediction time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpus import Sentence
from ..errors import DataError
from ..words import _spacy_pipeline, is_word, sentence_groups
from .base import Conversion, ReadOptions, check_count

ATTRS = {"ents": "ENT_IOB", "tag": "TAG", "pos": "POS", "dep": "DEP", "lemma": "LEMMA"}
ALIASES = {"ner": "ents", "ent": "ents", "entities": "ents", "tag_": "tag", "xpos": "tag", "pos_": "pos", "upos": "pos",
           "dep_": "dep", "deprel": "dep", "lemma_": "lemma"}


def _choose(docs: list[Any], opts: ReadOptions, path: Path) -> str:
    name = opts.column_name
    if name is not None:
        name = ALIASES.get(name, name)
        if name not in ATTRS:
            raise DataError(path, None, f"label column {opts.label_column!r} is not a Doc attribute; expected one of: {', '.join(ATTRS)}")
        if not any(d.has_annotation(ATTRS[name]) for d in docs):
            raise DataError(path, None, f"no Doc in this file has {name} annotation; choose another label column ({', '.join(ATTRS)})")
        return name
    for name in ("ents", "pos", "tag"):
        if any(d.has_annotation(ATTRS[name]) for d in docs):
            return name
    raise DataError(path, None, "no Doc in this file has entities, POS or tags; expected a DocBin with doc.ents, token.pos_ or token.tag_")


def _label(token: Any, attr: str) -> str:
    if attr == "ents":
        return "O" if token.ent_iob_ in ("O", "") else f"{token.ent_iob_}-{token.ent_type_}"
    return getattr(token, f"{attr}_") or "_"


def read(path: Path, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    from spacy.tokens import DocBin

    nlp = _spacy_pipeline(opts.language)
    try:
        docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    except (ValueError, KeyError, TypeError, OSError) as err:  # zlib/msgpack errors are ValueErrors
        raise DataError(path, None, f"cannot read it as a spaCy DocBin ({str(err).splitlines()[0][:120] if str(err) else type(err).__name__})") from None
    if not docs:
        raise DataError(path, None, "the DocBin holds no Docs")
    attr = _choose(docs, opts, path)
    opts.ignore_number(warnings, attr)
    sentences: list[Sentence] = []
    for d, doc in enumerate(docs, 1):
        conv.count("records")
        if attr == "ents":
            missing = sum(1 for t in doc if t.ent_iob_ == "" and is_word(t.text))
            if missing:
                conv.count("words with no entity annotation (missing in spaCy; read as O)", missing,
                           example=f"{path.name}, doc {d}: {doc.text[:50]!r}")
        if doc.has_annotation("SENT_START"):
            groups = [[t.i for t in sent] for sent in doc.sents]
        else:
            groups = sentence_groups([t.text for t in doc], opts.language)
        for g in groups:
            kept = [doc[i] for i in g if is_word(doc[i].text)]
            if kept:
                sentences.append(Sentence([t.text for t in kept], [_label(t, attr) for t in kept], d, d))
        check_count(path, len(sentences), d, "doc")
    if not sentences:
        raise DataError(path, None, "contains no sentences (every Doc is empty)")
    choices = [name for name, a in ATTRS.items() if any(d.has_annotation(a) for d in docs)]
    return sentences, {"format": "spacy", "separator": "-", "columns": 0, "label_column": -1, "label_name": attr, "label_choices": choices}
