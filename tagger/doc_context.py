"""Document context (FLERT-style, Schweter & Akbik 2020): which words go into each model window
when sentences are read together with their neighbours. Pure functions.

Consecutive sentences of one document are packed into a window: a block of *owned* sentences
(labelled in training, predicted at inference), plus up to ``context`` sub-tokens of the words
just before and just after the block, from the same document only. The owned block gets what
the window leaves after both context sides (``budget - 2 * context``), so each window computes
at most twice the sub-tokens it labels with the defaults (256-token windows, 64 each side):
the cost of context stays within 2x of sentence-only tagging, in training and at prediction.
Training and prediction call the same planner, so a sentence sees the same context in both.

A document of one sentence gives the window sentence-only tagging would give; a sentence longer
than the whole window is cut by :func:`tagger.align.plan_windows` as without context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DocWindow:
    """``left`` and ``right`` are (sentence, word) pairs of context, in text order; ``owned`` are
    the sentences this window labels. ``split`` marks a sentence too long for any context."""

    left: tuple[tuple[int, int], ...]
    owned: tuple[int, ...]
    right: tuple[tuple[int, int], ...]
    split: bool = False


def documents(docs: Sequence[int]) -> list[range]:
    """Runs of consecutive equal document ids (a document never spans a change of id).

    >>> documents([0, 0, 1, 1, 1, 0])
    [range(0, 2), range(2, 5), range(5, 6)]
    """
    runs: list[range] = []
    start = 0
    for i in range(1, len(docs) + 1):
        if i == len(docs) or docs[i] != docs[start]:
            runs.append(range(start, i))
            start = i
    return runs


def plan_context(counts: Sequence[Sequence[int]], docs: Sequence[int], budget: int, context: int) -> list[DocWindow]:
    """Windows for sentences whose words have ``counts`` sub-tokens (each capped at ``budget``),
    with ``budget`` sub-tokens per window (specials excluded) and up to ``context`` on each side.

    >>> plan_context([[2, 2], [1, 1], [2]], [0, 0, 0], budget=8, context=2)
    [DocWindow(left=(), owned=(0,), right=((1, 0), (1, 1)), split=False), DocWindow(left=((0, 1),), owned=(1, 2), right=(), split=False)]
    >>> plan_context([[1], [1]], [0, 1], budget=8, context=2)  # never across documents
    [DocWindow(left=(), owned=(0,), right=(), split=False), DocWindow(left=(), owned=(1,), right=(), split=False)]
    >>> plan_context([[1], [1], [1]], [0, 0, 0], budget=8, context=2)  # short sentences share a window
    [DocWindow(left=(), owned=(0, 1, 2), right=(), split=False)]
    """
    if context < 0 or budget < 1:
        raise ValueError("context must be >= 0 and budget >= 1")
    capped = [[min(max(c, 1), budget) for c in sent] for sent in counts]
    totals = [sum(c) for c in capped]
    own_budget = max(1, budget - 2 * context)
    out: list[DocWindow] = []
    for doc in documents(docs):
        i = doc.start
        while i < doc.stop:
            if totals[i] > budget:
                out.append(DocWindow((), (i,), (), split=True))
                i += 1
                continue
            used, j = totals[i], i + 1
            while j < doc.stop and totals[j] <= budget and used + totals[j] <= own_budget:
                used += totals[j]
                j += 1
            side = min(context, (budget - used) // 2)
            out.append(DocWindow(_take(capped, range(i - 1, doc.start - 1, -1), side, reverse=True), tuple(range(i, j)),
                                 _take(capped, range(j, doc.stop), side, reverse=False)))
            i = j
    return out


def _take(capped: Sequence[Sequence[int]], sentences: range, limit: int, reverse: bool) -> tuple[tuple[int, int], ...]:
    """Whole words from ``sentences`` (walked in the given order; words from the end when
    ``reverse``) while their sub-tokens fit in ``limit``; returned in text order."""
    taken: list[tuple[int, int]] = []
    used = 0
    for s in sentences:
        words = range(len(capped[s]) - 1, -1, -1) if reverse else range(len(capped[s]))
        for w in words:
            if used + capped[s][w] > limit:
                return tuple(reversed(taken)) if reverse else tuple(taken)
            used += capped[s][w]
            taken.append((s, w))
    return tuple(reversed(taken)) if reverse else tuple(taken)
