"""Casing augmentation for training (never applied at prediction). Pure functions.

A tagger on an uncased encoder sees case only through the casing head's word-shape feature, and
learns that capitalisation *is* the entity signal: lowercase text then gets no entity at all. A
seeded share of the training data is therefore lowercased, uppercased, or has its shape feature
hidden behind :data:`tagger.align.CASE_UNKNOWN`, so that where case carries no information the
model falls back on the words and their context. The unit is the document when the tagger reads
document context (people type whole texts in lowercase), else the sentence.

:func:`drop_context` does the same for document context: a share of the training documents is
read sentence by sentence, so that a sentence typed alone is tagged as well as one in a text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

MODES = ("keep", "lower", "upper", "unknown")


def casing_modes(units: Sequence[int], lower: float, upper: float, unknown: float, seed: int) -> list[str]:
    """One mode per item: every item of a unit (consecutive equal ids) gets the unit's mode,
    drawn from ``random.Random(seed)`` with the given shares (the rest is ``"keep"``).

    >>> casing_modes([0, 0, 1, 2], 0.0, 0.0, 0.0, seed=1)
    ['keep', 'keep', 'keep', 'keep']
    >>> casing_modes([0, 0, 1, 1], 1.0, 0.0, 0.0, seed=1)
    ['lower', 'lower', 'lower', 'lower']
    >>> m = casing_modes([7, 7, 7], 0.3, 0.3, 0.3, seed=5); len(set(m))
    1
    """
    if min(lower, upper, unknown) < 0 or lower + upper + unknown > 1 + 1e-9:
        raise ValueError(f"casing shares must be >= 0 and sum to <= 1, got {lower}, {upper}, {unknown}")
    rng = random.Random(seed)
    out: list[str] = []
    prev: int | None = None
    mode = "keep"
    for i, unit in enumerate(units):
        if i == 0 or unit != prev:
            r = rng.random()
            mode = "lower" if r < lower else "upper" if r < lower + upper else "unknown" if r < lower + upper + unknown else "keep"
            prev = unit
        out.append(mode)
    return out


def apply_casing(words: Sequence[str], mode: str) -> list[str]:
    """The words as the mode shows them (``"unknown"`` keeps the words; only their shape is hidden).

    >>> apply_casing(["Angela", "Merkel", "met", "EU"], "lower"), apply_casing(["Paris"], "upper")
    (['angela', 'merkel', 'met', 'eu'], ['PARIS'])
    """
    if mode == "lower":
        return [w.lower() for w in words]
    if mode == "upper":
        return [w.upper() for w in words]
    if mode in ("keep", "unknown"):
        return list(words)
    raise ValueError(f"unknown casing mode {mode!r}")


def drop_context(docs: Sequence[int], share: float, seed: int) -> list[int]:
    """Document ids with a seeded ``share`` of the documents split into one document per
    sentence (fresh negative ids), so training also shows sentences without context.

    >>> drop_context([0, 0, 1, 1], 0.0, seed=3), drop_context([0, 0, 1, 1], 1.0, seed=3)
    ([0, 0, 1, 1], [-1, -2, -3, -4])
    """
    rng = random.Random(seed)
    out: list[int] = []
    prev: int | None = None
    drop = False
    for i, d in enumerate(docs):
        if i == 0 or d != prev:
            drop = rng.random() < share
            prev = d
        out.append(-1 - i if drop else d)
    return out
