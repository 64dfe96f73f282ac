"""Scores: seqeval entity-level P/R/F1 for IOB2 tags, token-level for plain labels."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

from seqeval.metrics import classification_report

from .schemes import OUTSIDE, split_tag


def _is_iob2(tag: str) -> bool:
    """Whether seqeval can score this tag as an entity tag: ``O``, or ``B-``/``I-`` with a type.

    >>> [_is_iob2(t) for t in ("O", "B-PER", "I-PER", "B-", "E-PER", "NNP")]
    [True, True, True, False, False, False]
    """
    prefix, typ = split_tag(tag)
    return prefix == OUTSIDE or (prefix in ("B", "I") and bool(typ))


def _is_plain(tags: Sequence[Sequence[str]]) -> bool:
    return not all(_is_iob2(t) for s in tags for t in s)


def score(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``{"precision", "recall", "f1", "accuracy", "per_type": {type: {precision, recall, f1, support}}}``
    in percent. IOB2 tags are scored per entity (seqeval, default mode as in conlleval);
    plain labels (POS, ...) per word, where micro F1 equals accuracy.

    >>> s = score([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    >>> s["precision"], s["recall"], round(s["f1"], 2)
    (100.0, 50.0, 66.67)
    """
    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise ValueError("gold and predicted tags differ in shape")
    n_words = sum(len(g) for g in gold)
    correct = sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p))
    accuracy = 100.0 * correct / max(n_words, 1)
    if _is_plain(gold) or _is_plain(pred):
        return {**_token_scores(gold, pred), "accuracy": accuracy}
    with warnings.catch_warnings():  # no entities at all: seqeval averages an empty array ("Mean of empty slice")
        warnings.simplefilter("ignore", RuntimeWarning)
        report = classification_report([list(g) for g in gold], [list(p) for p in pred], output_dict=True, zero_division=0)
    per_type = {
        k: {"precision": 100 * float(v["precision"]), "recall": 100 * float(v["recall"]), "f1": 100 * float(v["f1-score"]), "support": int(v["support"])}
        for k, v in report.items()
        if not k.endswith(" avg")
    }
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    return {
        "precision": 100 * float(micro["precision"]),  # seqeval gives numpy floats; callers want plain ones
        "recall": 100 * float(micro["recall"]),
        "f1": 100 * float(micro["f1-score"]),
        "accuracy": accuracy,
        "per_type": per_type,
    }


def _token_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for g, p in zip(gold, pred):
        for a, b in zip(g, p):
            n_gold[a] += 1
            n_pred[b] += 1
            tp[a] += a == b

    def prf(t: int, n_p: int, n_g: int) -> dict[str, float]:
        prec = 100.0 * t / n_p if n_p else 0.0
        rec = 100.0 * t / n_g if n_g else 0.0
        return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}

    per_type = {k: {**prf(tp[k], n_pred[k], n_gold[k]), "support": n_gold[k]} for k in sorted(n_gold)}
    return {**prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())), "per_type": per_type}


def format_scores(scores: dict[str, Any]) -> str:
    """A small fixed-width table: one row per type, then the micro average."""
    rows = [f"{'type':<20} {'prec':>6} {'rec':>6} {'f1':>6} {'support':>8}"]
    for k, v in scores["per_type"].items():
        rows.append(f"{k:<20} {v['precision']:6.2f} {v['recall']:6.2f} {v['f1']:6.2f} {v['support']:8d}")
    rows.append(f"{'micro avg':<20} {scores['precision']:6.2f} {scores['recall']:6.2f} {scores['f1']:6.2f}")
    return "\n".join(rows)
