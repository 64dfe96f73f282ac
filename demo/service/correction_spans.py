"""What a correction holds, checked and shaped, without storing anything: the checks of a dataset
name, a label, an answer and a text (:class:`CorrectionError` says what is wrong), a person's
selection snapped to the entity it means (:func:`snap`), the entities of a correction checked
(:func:`check_spans`), a prediction's entities offered for correction (:func:`suggestions`), and a
correction in Prodigy's span shape (:func:`prodigy_record`). The store, :mod:`demo.service.corrections`,
keeps them.

Spans snap to words as the readers snap them, and never end in trailing punctuation: the rule
prediction follows too (:func:`tagger.words.entity_end`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

from tagger.errors import TaggerError
from tagger.readers.spanalign import covered_words, span_problem, trim
from tagger.words import _spacy_pipeline, entity_end, is_punctuation, split_words

ANSWERS = ("accept", "reject")
MAX_NAME = 64
MAX_LABEL = 40
MAX_TEXT = 20_000  # characters of one correction (a file's longer documents are cut into parts first)
LANGUAGE = "en"  # the word splitter's language (the readers' default)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
_PREFIX = re.compile(r"[BIESLU][-_]", re.IGNORECASE)


class CorrectionError(TaggerError, ValueError):
    """A correction, a dataset name or a label the store refuses; the message says why."""


# ---------------------------------------------------------------------------------------------- names
def check_dataset_name(name: Any) -> str:
    """A dataset name, trimmed: 1 to 64 letters, digits, spaces, ``.``, ``_``, ``-``, starting with
    a letter or digit (it becomes a file name: no path characters, no leading dot).

    >>> check_dataset_name("  ner fixes_v2 ")
    'ner fixes_v2'
    >>> check_dataset_name("../runs")
    Traceback (most recent call last):
    ...
    demo.service.correction_spans.CorrectionError: dataset name '../runs': use 1 to 64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit
    """
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise CorrectionError("dataset name: empty; name the dataset (e.g. 'my-corrections')")
    if len(text) > MAX_NAME or not _NAME.fullmatch(text):
        raise CorrectionError(f"dataset name {text[:80]!r}: use 1 to {MAX_NAME} letters, digits, spaces, '.', '_' or '-', "
                              "starting with a letter or digit")
    return text


def check_label(label: Any) -> str:
    """An entity label as IOB2 tags can carry it: 1 to 40 printable characters, no whitespace,
    not ``O``, not starting with a dash or with a scheme prefix (``B-``, ``I-``, ``E-``, ``S-``,
    ``L-``, ``U-``, or with ``_``), no control characters. Case is kept.

    >>> check_label("DRUG"), check_label(" Product-Line "), check_label("GPE:city")
    ('DRUG', 'Product-Line', 'GPE:city')
    >>> for bad in ["", "NEW LABEL", "B-PER", "i_loc", "-X", "O", "A\\x00"]:
    ...     try:
    ...         check_label(bad)
    ...     except CorrectionError as err:
    ...         print(err)
    label '': empty; give the entity type a name (e.g. PRODUCT)
    label 'NEW LABEL': no spaces or other whitespace (IOB tags and CoNLL columns are split on them); try 'NEW_LABEL'
    label 'B-PER': starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone (e.g. 'PER')
    label 'i_loc': starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone (e.g. 'loc')
    label '-X': cannot start with a dash
    label 'O': 'O' means outside any entity; choose another name
    label 'A\\x00': no control characters
    """
    text = label.strip() if isinstance(label, str) else ""
    shown = repr(text[:60])
    if not text:
        raise CorrectionError("label '': empty; give the entity type a name (e.g. PRODUCT)")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise CorrectionError(f"label {shown}: no control characters")
    if any(c.isspace() for c in text):
        raise CorrectionError(f"label {shown}: no spaces or other whitespace (IOB tags and CoNLL columns are split on them); "
                              f"try {'_'.join(text.split())[:60]!r}")
    if len(text) > MAX_LABEL:
        raise CorrectionError(f"label {shown}: at most {MAX_LABEL} characters")
    if text.startswith("-"):
        raise CorrectionError(f"label {shown}: cannot start with a dash")
    if text == "O":
        raise CorrectionError("label 'O': 'O' means outside any entity; choose another name")
    if _PREFIX.match(text):
        raise CorrectionError(f"label {shown}: starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone "
                              f"(e.g. {text[2:]!r})")
    if not text.isprintable():
        raise CorrectionError(f"label {shown}: only printable characters")
    return text


def check_answer(answer: Any) -> str:
    """``accept`` (default when empty) or ``reject``.

    >>> check_answer(""), check_answer("Reject")
    ('accept', 'reject')
    """
    text = (answer.strip().lower() if isinstance(answer, str) else "") or "accept"
    if text not in ANSWERS:
        raise CorrectionError(f"answer {str(answer)[:40]!r}: expected 'accept' or 'reject' (a skipped text is not saved)")
    return text


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise CorrectionError("text: empty; a correction needs the text it annotates")
    if len(text) > MAX_TEXT:
        raise CorrectionError(f"text: {len(text):,} characters; a correction holds at most {MAX_TEXT:,} (cut the text into parts)")
    return text


def text_id(text: str) -> str:
    """The id of a text in a dataset (the same text is stored once).

    >>> text_id("Angela Merkel visited Paris.")
    '674b7623743cdc9e'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- spans
@lru_cache(maxsize=64)
def _words(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((s, e) for _, s, e in split_words(text, LANGUAGE))


def snap(text: str, start: Any, end: Any) -> tuple[int, int]:
    """Character offsets of a selection -> those of the entity it means, as the readers snap
    (:mod:`tagger.readers.spanalign`): edge whitespace trimmed, a cut word widened to the whole
    word (words of :func:`tagger.words.split_words`, the splitter prediction uses), punctuation-only
    words at either edge left out, and the closing punctuation of the last word left out as
    prediction leaves it out (:func:`tagger.words.entity_end`: "M&M." -> "M&M", "U.S." kept). A
    :class:`CorrectionError` says why a selection is no entity.

    >>> t = "I love M&M. And Apple Inc. too"
    >>> [t[a:b] for a, b in (snap(t, 8, 10), snap(t, 7, 11), snap(t, 16, 26), snap(t, 15, 20))]
    ['M&M', 'M&M', 'Apple Inc.', 'Apple']
    >>> snap(t, 10, 12)
    Traceback (most recent call last):
    ...
    demo.service.correction_spans.CorrectionError: span [10, 12) '. ': holds no word, only punctuation or spaces
    """
    problem = span_problem(len(text), start, end)
    if problem:
        raise CorrectionError(f"span [{start}, {end}): {problem}")
    if start >= end:
        raise CorrectionError(f"span [{start}, {end}): empty (start must be before end)")
    words = _words(text)
    s, e = trim(text, start, end)
    covered = covered_words(words, s, e) if s < e else None
    a, b = covered or (0, 0)

    def counts(i: int) -> bool:  # a word the selection touches beyond its punctuation
        ws, we = words[i]
        word = text[ws:we]
        return not is_punctuation(word) and s < ws + entity_end(word, LANGUAGE)

    while a < b and not counts(a):
        a += 1
    while b > a and not counts(b - 1):
        b -= 1
    if a >= b:
        raise CorrectionError(f"span [{start}, {end}) {text[start:end][:40]!r}: holds no word, only punctuation or spaces")
    first, last = words[a], words[b - 1]
    return first[0], last[0] + entity_end(text[last[0]:last[1]], LANGUAGE)


def _entry(entity: Any, n: int) -> tuple[Any, Any, Any]:
    if isinstance(entity, dict):
        label = entity.get("label", entity.get("entity"))
        return entity.get("start"), entity.get("end"), label
    if isinstance(entity, list | tuple) and len(entity) == 3:
        return entity[0], entity[1], entity[2]
    raise CorrectionError(f"entity {n}: expected {{\"start\", \"end\", \"label\"}} or [start, end, label], got {str(entity)[:60]}")


def check_spans(text: str, entities: Any) -> list[dict[str, Any]]:
    """Entities (``{"start", "end", "label"}`` or ``[start, end, label]``, a JSON string of them
    accepted) -> checked, snapped spans sorted by start. Errors name the entity: offsets outside
    the text or not start < end, a bad label (:func:`check_label`), two entities that overlap.

    >>> check_spans("Angela Merkel visited Paris.", [[22, 28, "LOC"], {"start": 0, "end": 13, "label": "PER"}])
    [{'start': 0, 'end': 13, 'label': 'PER'}, {'start': 22, 'end': 27, 'label': 'LOC'}]
    >>> check_spans("Angela Merkel visited Paris.", [[0, 6, "PER"], [7, 13, "PER"], [0, 13, "PER"]])
    Traceback (most recent call last):
    ...
    demo.service.correction_spans.CorrectionError: entity 3 'Angela Merkel' (PER) overlaps entity 1 'Angela' (PER); entities cannot overlap
    """
    if isinstance(entities, str):
        try:
            entities = json.loads(entities) if entities.strip() else []
        except ValueError as err:
            raise CorrectionError(f"entities: not JSON ({err.msg}); expected a list of {{\"start\", \"end\", \"label\"}}") from None
    if entities is None:
        entities = []
    if not isinstance(entities, list | tuple):
        raise CorrectionError("entities: expected a list of {\"start\", \"end\", \"label\"}")
    spans: list[tuple[int, int, str, int]] = []
    for n, entity in enumerate(entities, 1):
        start, end, label = _entry(entity, n)
        try:
            s, e = snap(text, start, end)
            spans.append((s, e, check_label(label), n))
        except CorrectionError as err:
            raise CorrectionError(f"entity {n}: {err}") from None
    spans.sort()
    for (s1, e1, l1, n1), (s2, e2, l2, n2) in pairwise(spans):
        if s2 < e1:
            (a, b) = sorted([(n1, f"{text[s1:e1]!r} ({l1})"), (n2, f"{text[s2:e2]!r} ({l2})")])
            raise CorrectionError(f"entity {b[0]} {b[1]} overlaps entity {a[0]} {a[1]}; entities cannot overlap")
    return [{"start": s, "end": e, "label": label} for s, e, label, _ in spans]


def suggestions(prediction: Any) -> list[dict[str, Any]]:
    """A :class:`tagger.predict.Prediction` -> the entities offered for correction, snapped as a
    person's selection would be (``{"start", "end", "label", "score", "text"}``)."""
    text = prediction.text
    out: list[dict[str, Any]] = []
    for ent in prediction.entities:
        try:
            s, e = snap(text, ent.start, ent.end)
        except CorrectionError:
            continue  # a punctuation-only entity: nothing to offer
        out.append({"start": s, "end": e, "label": ent.label, "score": round(float(ent.score), 4), "text": text[s:e]})
    return out


# ---------------------------------------------------------------------------------------------- Prodigy's shape
def tokens(text: str, spans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The words of ``text`` (spaCy's tokens, whitespace tokens included: they end sentences at
    blank lines) cut where a span starts or ends inside one ("M&M." -> "M&M", "."), as Prodigy
    tokens ``{"text", "start", "end", "id", "ws"}``.

    >>> [t["text"] for t in tokens("I love M&M.", [{"start": 7, "end": 10, "label": "BRAND"}])]
    ['I', 'love', 'M&M', '.']
    """
    cuts = sorted({s["start"] for s in spans} | {s["end"] for s in spans})
    pieces: list[tuple[int, int]] = []
    for tok in _spacy_pipeline(LANGUAGE).tokenizer(text):
        a, b = tok.idx, tok.idx + len(tok.text)
        for c in cuts:
            if a < c < b:
                pieces.append((a, c))
                a = c
        pieces.append((a, b))
    return [{"text": text[a:b], "start": a, "end": b, "id": i, "ws": b < len(text) and text[b] == " "}
            for i, (a, b) in enumerate(pieces)]


def prodigy_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stored correction as a Prodigy-style task: text, tokens, spans with token indices, answer."""
    text, spans = record["text"], record["spans"]
    toks = tokens(text, spans)
    first = {t["start"]: t["id"] for t in toks}
    last = {t["end"]: t["id"] for t in toks}
    out_spans = [{"start": s["start"], "end": s["end"], "label": s["label"], "token_start": first[s["start"]],
                  "token_end": last[s["end"]]} for s in spans]
    return {"text": text, "tokens": toks, "spans": out_spans, "answer": record["answer"],
            "meta": {k: record[k] for k in ("model", "source") if record.get(k)}}
