"""Character-offset spans -> one IOB2 tag per word. Pure functions.

A span is kept as annotated when it starts at a word's first character and ends at a word's last.
Otherwise, visibly (every outcome is returned, and the readers count and show them):

- leading and trailing whitespace is trimmed;
- a span that cuts a word is snapped to the whole word (``snap=True``) or dropped;
- of overlapping or nested spans the one covering the most words is kept (then the longest in
  characters, then the first); an exact repeat of a kept span is a duplicate;
- an empty span (or one of whitespace only) is dropped.

A span outside its text, negative or reversed is an error: :func:`span_problem` says what is wrong.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

KEPT = "spans: kept"
TRIMMED = "spans: edge whitespace trimmed"
SNAPPED = "spans: snapped to whole words"
CUT = "spans: dropped, cut a word (snapping off)"
OVERLAP = "spans: dropped, overlap a longer span"
DUPLICATE = "spans: dropped, duplicate"
EMPTY = "spans: dropped, empty or whitespace only"
NO_WORD = "spans: dropped, no word inside"


@dataclass(frozen=True)
class CharSpan:
    start: int  # character offsets, end exclusive
    end: int
    label: str


@dataclass(frozen=True)
class Outcome:
    span: CharSpan  # as annotated
    start: int  # character offsets after trimming / snapping
    end: int
    trimmed: bool = False
    snapped: bool = False
    dropped: str = ""  # one of the dropped kinds above, "" when kept
    words: tuple[int, int] | None = None  # word range [first, last + 1) when kept
    kept_instead: CharSpan | None = None  # for overlaps and duplicates: the span kept


def span_problem(n_chars: int, start: object, end: object) -> str | None:
    """Why offsets cannot be a span of a text of ``n_chars`` characters, or None.

    >>> span_problem(10, 2, 5) is None, span_problem(10, 5, 5) is None
    (True, True)
    >>> span_problem(10, -1, 3)
    'negative offset'
    >>> span_problem(10, 6, 2)
    'reversed (start after end)'
    >>> span_problem(10, 4, 12)
    'outside the text (10 characters)'
    >>> span_problem(10, "4", 5)
    'offsets must be integers'
    """
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        return "offsets must be integers"
    assert isinstance(start, int) and isinstance(end, int)
    if start < 0 or end < 0:
        return "negative offset"
    if start > end:
        return "reversed (start after end)"
    if end > n_chars:
        return f"outside the text ({n_chars} characters)"
    return None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets without leading and trailing whitespace.

    >>> trim(" New York ", 0, 10)
    (1, 9)
    >>> trim("a   b", 1, 4)
    (4, 4)
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def covered_words(words: Sequence[tuple[int, int]], start: int, end: int, ends: Sequence[int] | None = None) -> tuple[int, int] | None:
    """The range [first, last + 1) of the words (sorted character ranges) that overlap [start, end).

    >>> covered_words([(0, 3), (4, 9), (10, 12)], 5, 11)
    (1, 3)
    >>> covered_words([(0, 3), (4, 9)], 3, 4) is None
    True
    """
    ends = ends if ends is not None else [e for _, e in words]
    first = bisect_right(ends, start)  # the first word ending after the span's start
    last = first
    while last < len(words) and words[last][0] < end:
        last += 1
    return (first, last) if last > first else None


def align(text: str, words: Sequence[tuple[int, int]], spans: Sequence[CharSpan], snap: bool = True) -> tuple[list[str], list[Outcome]]:
    """IOB2 tags for ``words`` (character ranges into ``text``, sorted) from valid ``spans``, and
    what happened to each span, in input order.

    >>> text = " Angela Merkel visited Pariser Platz"
    >>> words = [(1, 7), (8, 14), (15, 22), (23, 30), (31, 36)]
    >>> tags, out = align(text, words, [CharSpan(0, 14, "PER"), CharSpan(23, 28, "LOC"), CharSpan(8, 14, "PER")])
    >>> tags
    ['B-PER', 'I-PER', 'O', 'B-LOC', 'O']
    >>> [(o.trimmed, o.snapped, o.dropped) for o in out]
    [(True, False, ''), (False, True, ''), (False, False, 'spans: dropped, overlap a longer span')]
    >>> align(text, words, [CharSpan(23, 28, "LOC")], snap=False)[0]
    ['O', 'O', 'O', 'O', 'O']
    """
    ends = [e for _, e in words]
    outcomes: list[Outcome] = []
    candidates: list[tuple[int, Outcome]] = []
    for i, span in enumerate(spans):
        start, end = trim(text, span.start, span.end)
        trimmed = (start, end) != (span.start, span.end)
        if start >= end:
            outcomes.append(Outcome(span, start, end, trimmed, dropped=EMPTY))
            continue
        covered = covered_words(words, start, end, ends)
        if covered is None:
            outcomes.append(Outcome(span, start, end, trimmed, dropped=NO_WORD))
            continue
        w_start, w_end = words[covered[0]][0], words[covered[1] - 1][1]
        # only cutting inside a word snaps: a span that takes in non-word characters around its
        # words (a zero-width space, say) is narrowed to them without counting as a change
        cuts = w_start < start or w_end > end
        if cuts and not snap:
            outcomes.append(Outcome(span, start, end, trimmed, dropped=CUT))
            continue
        outcome = Outcome(span, w_start, w_end, trimmed, snapped=cuts, words=covered)
        outcomes.append(outcome)
        candidates.append((i, outcome))
    # longest first (words, then characters), ties by position: greedy keeps what overlaps nothing kept
    order = sorted(candidates, key=lambda c: (-(c[1].words[1] - c[1].words[0]), -(c[1].end - c[1].start), c[0]))  # type: ignore[index]
    owner: list[int | None] = [None] * len(words)
    kept: dict[int, Outcome] = {}
    for i, o in order:
        a, b = o.words  # type: ignore[misc]
        clash = next((owner[w] for w in range(a, b) if owner[w] is not None), None)
        if clash is None:
            kept[i] = o
            for w in range(a, b):
                owner[w] = i
            continue
        winner = kept[clash]
        same = winner.words == o.words and winner.span.label == o.span.label
        outcomes[i] = Outcome(o.span, o.start, o.end, o.trimmed, o.snapped, DUPLICATE if same else OVERLAP, None, winner.span)
    tags = ["O"] * len(words)
    for o in kept.values():
        a, b = o.words  # type: ignore[misc]
        tags[a] = f"B-{o.span.label}"
        for w in range(a + 1, b):
            tags[w] = f"I-{o.span.label}"
    return tags, outcomes
