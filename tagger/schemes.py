"""Tag-scheme detection and conversion to IOB2, and IOB2 -> spans. Pure functions.

Internally every tagger speaks IOB2 (``B-X`` starts an entity, ``I-X`` continues it) or,
for POS/chunk-like columns without prefixes, plain labels ("plain").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import SchemeError

OUTSIDE = "O"
_PREFIXED = re.compile(r"([BIESLU])-(.*)", re.DOTALL)  # fullmatch: a type may hold any character


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag into (prefix, type). ``O`` has neither; a plain label has no prefix.

    >>> split_tag("B-PER")
    ('B', 'PER')
    >>> split_tag("O")
    ('O', '')
    >>> split_tag("NNP")
    ('', 'NNP')
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    m = _PREFIXED.fullmatch(tag)
    if m:
        return m.group(1), m.group(2)
    return "", tag


def entity_type(tag: str) -> str:
    """The group a tag belongs to: the entity type of a prefixed tag, else the tag itself (a plain
    label, ``O``, or a prefix without a type). ``O`` stays ``O`` so that
    ``{entity_type(t) for t in tags} - {"O"}`` is the set of types.

    >>> [entity_type(t) for t in ("B-PER", "I-PER", "S-LOC", "O", "NNP", "-LRB-", "B-")]
    ['PER', 'PER', 'LOC', 'O', 'NNP', '-LRB-', 'B-']
    """
    prefix, typ = split_tag(tag)
    return typ if prefix not in ("", OUTSIDE) and typ else tag


def detect_scheme(sentences: Sequence[Sequence[str]]) -> str:
    """Name the scheme of tagged sentences: "IOB1", "IOB2", "IOB1+IOB2", "BIOES", "BILOU" or "plain".

    IOB1 uses ``B-`` only between two adjacent entities of one type, so an ``I-`` after
    ``O`` is normal there; IOB2 starts every entity with ``B-``.

    >>> detect_scheme([["I-PER", "I-PER", "O", "I-LOC"]])
    'IOB1'
    >>> detect_scheme([["B-PER", "I-PER", "O", "B-LOC"]])
    'IOB2'
    >>> detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]])
    'BIOES'
    >>> detect_scheme([["U-PER", "O", "B-LOC", "L-LOC"]])
    'BILOU'
    >>> detect_scheme([["NNP", "VBZ", "O"]])
    'plain'
    >>> detect_scheme([["B-", "O"]])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    tagger.schemes.SchemeError: tag 'B-' has a prefix but no entity type (expected e.g. 'B-PER')
    """
    prefixed = plain = 0
    first_plain: tuple[int, int, str] | None = None
    first_prefixed: tuple[int, int, str] | None = None
    bioes = bilou = i_opens = b_opens = 0
    for s, tags in enumerate(sentences):
        prev_type = ""
        for w, tag in enumerate(tags):
            prefix, typ = split_tag(tag)
            if prefix == OUTSIDE:
                prev_type = ""
                continue
            if prefix and not typ:
                raise SchemeError(
                    f"tag {tag!r} has a prefix but no entity type (expected e.g. '{prefix}-PER')", (s, w)
                )
            if not prefix:
                plain += 1
                first_plain = first_plain or (s, w, tag)
                continue
            prefixed += 1
            first_prefixed = first_prefixed or (s, w, tag)
            if prefix in "ESLU":
                bioes += 1
                bilou += prefix in "LU"
            elif prefix == "I" and typ != prev_type:
                i_opens += 1
            elif prefix == "B" and typ != prev_type:
                b_opens += 1
            prev_type = typ
    if plain and prefixed:
        assert first_plain and first_prefixed
        s, w, tag = first_plain
        raise SchemeError(
            f"unknown tag scheme: plain label {tag!r} mixed with prefixed labels such as "
            f"{first_prefixed[2]!r} (expected all labels like B-TYPE/I-TYPE/O, or all without prefixes)",
            (s, w),
        )
    if plain or not prefixed:
        return "plain" if plain else "IOB2"
    if bioes:
        return "BILOU" if bilou else "BIOES"
    # A few entities opened the other way are annotation slips (CoNLL-2003 train has two stray
    # B- after O): name the majority scheme and let the caller count them as repairs.
    if min(i_opens, b_opens) > 0.05 * max(i_opens, b_opens):
        return "IOB1+IOB2"
    return "IOB1" if i_opens > b_opens else "IOB2"


def breaks_scheme(tags: Sequence[str], scheme: str) -> bool:
    """Whether a sentence breaks its file's scheme: an entity opened by ``I-`` in IOB2, or by
    ``B-`` after something other than its own type in IOB1. (Both are read correctly anyway.)

    >>> breaks_scheme(["O", "I-PER"], "IOB2"), breaks_scheme(["O", "B-PER"], "IOB1"), breaks_scheme(["O", "I-PER"], "IOB1")
    (True, True, False)
    """
    if scheme not in ("IOB1", "IOB2"):
        return False
    opener = "I" if scheme == "IOB2" else "B"
    prev = ""
    for tag in tags:
        prefix, typ = split_tag(tag)
        if prefix == opener and typ != prev:
            return True
        prev = typ if prefix in ("B", "I") else ""
    return False


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one sentence's tags to IOB2, repairing ill-formed sequences as seqeval reads them.

    An ``I-X`` that does not follow ``B-X``/``I-X`` opens a new entity (IOB1 reading), so
    IOB1, IOB2 and a mix of both are all handled by the same rule.

    >>> to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], "IOB1")
    ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC']
    >>> to_iob2(["S-PER", "B-ORG", "I-ORG", "E-ORG"], "BIOES")
    ['B-PER', 'B-ORG', 'I-ORG', 'I-ORG']
    >>> to_iob2(["NN", "VB"], "plain")
    ['NN', 'VB']
    """
    if scheme == "plain":
        return list(tags)
    out: list[str] = []
    prev_type = ""
    for tag in tags:
        prefix, typ = split_tag(tag)
        if prefix == OUTSIDE:
            out.append(OUTSIDE)
            prev_type = ""
            continue
        if prefix in ("B", "S", "U") or (prefix in ("I", "E", "L") and typ != prev_type):
            out.append(f"B-{typ}")
        else:
            out.append(f"I-{typ}")
        prev_type = "" if prefix in ("S", "U", "E", "L") else typ
    return out


@dataclass(frozen=True)
class Span:
    """Entity over words ``start`` (inclusive) .. ``end`` (exclusive)."""

    label: str
    start: int
    end: int


def iob2_spans(tags: Sequence[str]) -> list[Span]:
    """Entity spans of a tag sequence, over word indices. Ill-formed input is read like seqeval:
    an ``I-X`` after something other than ``X`` opens a new entity. Plain labels give one span
    per word (so POS tags still highlight).

    >>> iob2_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    [Span(label='PER', start=0, end=2), Span(label='LOC', start=3, end=4), Span(label='LOC', start=4, end=5)]
    >>> iob2_spans(["NNP", "O", "VBZ"])
    [Span(label='NNP', start=0, end=1), Span(label='VBZ', start=2, end=3)]
    """
    spans: list[Span] = []
    label, start = "", -1
    for i, tag in enumerate(tags):
        prefix, typ = split_tag(tag)
        continues = prefix in ("I", "E", "L") and typ == label
        if label and not continues:
            spans.append(Span(label, start, i))
            label = ""
        if prefix == OUTSIDE:
            continue
        if not prefix:  # plain label: one word, one span
            spans.append(Span(typ, i, i + 1))
            continue
        if not continues:
            label, start = typ, i
    if label:
        spans.append(Span(label, start, len(tags)))
    return spans
