"""Constrained decoding for IOB2 taggers (``TrainConfig.decode="viterbi"``). Pure numpy.

A token-classification head picks each word's label on its own, so it can emit an ``I-X`` that
follows ``O`` or another type, which the scorer then reads as a new entity. Viterbi decoding over
the per-word log-probabilities with the IOB2 transition constraints (``I-X`` only after ``B-X`` or
``I-X``) picks the best *well-formed* sequence instead: the decoding half of a CRF, without
learned transition scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .schemes import split_tag


def transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(allowed[prev, next], allowed_at_start) for IOB2 labels, or None for plain labels.

    >>> allowed, start = transitions(["O", "B-PER", "I-PER"])
    >>> allowed.astype(int).tolist(), start.astype(int).tolist()
    ([[1, 1, 0], [1, 1, 1], [1, 1, 1]], [1, 1, 0])
    """
    parsed = [split_tag(label) for label in labels]
    if not any(prefix == "I" for prefix, _ in parsed):
        return None
    n = len(labels)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    for j, (prefix, kind) in enumerate(parsed):
        if prefix == "I":  # I-X only after B-X or I-X
            start[j] = False
            for i, prev in enumerate(parsed):
                allowed[i, j] = prev in (("B", kind), ("I", kind))
    return allowed, start


def viterbi(logp: np.ndarray, allowed: np.ndarray, start: np.ndarray) -> list[int]:
    """Best label sequence under the constraints (``logp``: [words, labels] log-probabilities).

    >>> lp = np.log(np.array([[0.5, 0.4, 0.1], [0.1, 0.1, 0.8]]))  # argmax: O, I-PER (ill-formed)
    >>> viterbi(lp, *transitions(["O", "B-PER", "I-PER"]))
    [1, 2]
    """
    n_words = logp.shape[0]
    if n_words == 0:
        return []
    neg = np.float32(-1e30)
    penalty = np.where(allowed, 0.0, neg).astype(np.float32)
    score = np.where(start, logp[0], neg)
    back = np.zeros((n_words, logp.shape[1]), dtype=np.int64)
    for t in range(1, n_words):
        cand = score[:, None] + penalty  # [prev, next]
        back[t] = cand.argmax(0)
        score = cand.max(0) + logp[t]
    path = [int(score.argmax())]
    for t in range(n_words - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]
