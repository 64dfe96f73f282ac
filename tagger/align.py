"""Words -> sub-token windows, and word labels <-> sub-token labels. Pure functions.

Training and prediction both go through :func:`plan_windows` and :func:`build_window`, so a
sentence is tokenized the same way at train and inference time. Each word's label sits on its
first sub-token; later sub-tokens, ``[CLS]``, ``[SEP]`` and padding carry ``IGNORE`` (-100),
so the loss and the prediction see one position per word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

IGNORE = -100

# Word-shape classes for the "casing" head: an uncased WordPiece vocabulary cannot see case.
CASE_PAD, CASE_LOWER, CASE_TITLE, CASE_UPPER, CASE_MIXED, CASE_DIGIT, CASE_OTHER, CASE_ALNUM = range(8)
# "case unknown": casing augmentation (tagger.augment) hides a training sentence's shapes behind it,
# so the model learns to tag from the words alone where case carries no information
CASE_UNKNOWN = 8
N_CASE_CLASSES = 9


def casing_class(word: str) -> int:
    """Word-shape class of a word (0 is reserved for special tokens and padding).

    >>> [casing_class(w) for w in ["paris", "Paris", "EU", "iPhone", "1999", ",", "A4"]]
    [1, 2, 3, 4, 5, 6, 7]
    >>> casing_class("I")
    3
    """
    letters = [c for c in word if c.isalpha()]
    has_digit = any(c.isdigit() for c in word)
    if not letters:
        return CASE_DIGIT if has_digit else CASE_OTHER
    if has_digit:
        return CASE_ALNUM
    if all(c.islower() for c in letters):
        return CASE_LOWER
    if all(c.isupper() for c in letters):
        return CASE_UPPER
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return CASE_TITLE
    return CASE_MIXED


@dataclass(frozen=True)
class Window:
    """Words ``start``..``end`` go into one model input; words ``own_start``..``own_end`` take
    their prediction from it (the rest is context shared with a neighbouring window)."""

    start: int
    end: int
    own_start: int
    own_end: int


def plan_windows(token_counts: Sequence[int], max_tokens: int, overlap: bool = True) -> list[Window]:
    """Cut a sentence into windows of at most ``max_tokens`` sub-tokens, at word boundaries.

    Without ``overlap`` (training) windows tile the sentence. With it (prediction) each window
    after the first starts a quarter window back, so every word has context on both sides, and
    each word is owned by exactly one window. A word with more sub-tokens than fit is counted
    as ``max_tokens`` (its first sub-token is all the label needs).

    >>> plan_windows([1, 1, 1], 8)
    [Window(start=0, end=3, own_start=0, own_end=3)]
    >>> plan_windows([2, 2, 2, 2], 4, overlap=False)
    [Window(start=0, end=2, own_start=0, own_end=2), Window(start=2, end=4, own_start=2, own_end=4)]
    >>> plan_windows([1] * 8, 4)
    [Window(start=0, end=4, own_start=0, own_end=3), Window(start=2, end=6, own_start=3, own_end=5), Window(start=4, end=8, own_start=5, own_end=8)]
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    counts = [min(max(c, 1), max_tokens) for c in token_counts]
    n = len(counts)
    windows: list[Window] = []
    start, own_start = 0, 0
    while True:
        end, used = start, 0
        while end < n and used + counts[end] <= max_tokens:
            used += counts[end]
            end += 1
        if end >= n:
            windows.append(Window(start, n, own_start, n))
            return windows
        if not overlap:
            windows.append(Window(start, end, start, end))
            start = own_start = end
            continue
        width = end - start
        own_end = max(own_start + 1, end - width // 4)  # keep a quarter of right context
        windows.append(Window(start, end, own_start, own_end))
        start = max(start + 1, own_end - width // 4)  # and a quarter of left context next time
        own_start = own_end


def build_window(
    word_pieces: Sequence[Sequence[int]],
    window: Window,
    cls_id: int,
    sep_id: int,
    max_tokens: int,
    word_labels: Sequence[int] | None = None,
    word_cases: Sequence[int] | None = None,
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Model input for one window: (input_ids, labels, case_ids, first-sub-token positions of
    the owned words). Labels are ``IGNORE`` except on owned words' first sub-tokens.

    >>> ids, labels, cases, pos = build_window([[7], [8, 9], [5]], Window(0, 3, 0, 3), 101, 102, 8, [1, 2, 0], [2, 1, 6])
    >>> ids, labels, cases, pos
    ([101, 7, 8, 9, 5, 102], [-100, 1, 2, -100, 0, -100], [0, 2, 1, 1, 6, 0], [1, 2, 4])
    """
    ids, labels, cases, positions = [cls_id], [IGNORE], [CASE_PAD], []
    for w in range(window.start, window.end):
        pieces = list(word_pieces[w])[:max_tokens]  # never empty: see model.tokenize_words
        owned = window.own_start <= w < window.own_end
        if owned:
            positions.append(len(ids))
        ids.extend(pieces)
        first = word_labels[w] if (owned and word_labels is not None) else IGNORE
        labels.extend([first] + [IGNORE] * (len(pieces) - 1))
        cases.extend([word_cases[w] if word_cases is not None else CASE_PAD] * len(pieces))
    ids.append(sep_id)
    labels.append(IGNORE)
    cases.append(CASE_PAD)
    return ids, labels, cases, positions


def first_subtoken_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Label sequence for a ``word_ids()`` list from a fast tokenizer (``is_split_into_words=True``):
    the word's label on its first sub-token, ``IGNORE`` elsewhere.

    >>> first_subtoken_labels([None, 0, 0, 1, None], [3, 5])
    [-100, 3, -100, 5, -100]
    """
    out, prev = [], None
    for wid in word_ids:
        out.append(IGNORE if wid is None or wid == prev else word_labels[wid])
        prev = wid
    return out
