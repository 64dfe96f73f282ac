"""Evaluate a tagger on labeled sentences: predictions with confidences, scores, the error analysis
(:mod:`tagger.analysis`), and the files ``evaluate --errors`` / ``--predictions`` write.

Only :func:`tag_sentences` runs a model (through a :class:`tagger.predict.Predictor` passed in);
the rest is pure, so the app and the CLI share one path.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .analysis import Analysis, SentenceErrors, analyse
from .data import Sentence
from .metrics import score

SCORE_KEYS = ("precision", "recall", "f1", "accuracy", "per_type")
_SPACE = re.compile(r"\s+")


class _Tags(Protocol):
    def tag_words(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None) -> list[list[tuple[str, float]]]: ...


@dataclass
class Evaluation:
    """A model's predictions on gold sentences, their scores and the error analysis."""

    words: list[list[str]]
    gold: list[list[str]]
    pred: list[list[str]]
    confidences: list[list[float]]
    scores: dict[str, Any]  # tagger.metrics.score
    lines: list[int]

    @cached_property
    def analysis(self) -> Analysis:
        """Computed on first use: a plain ``evaluate`` (scores only) does not pay for it."""
        return analyse(self.gold, self.pred, self.confidences, self.words, self.lines)

    @property
    def error_sentences(self) -> list[SentenceErrors]:
        return self.analysis.sentences

    def to_json(self) -> dict[str, Any]:
        """What ``evaluate --json`` prints: the scores, ``errors`` and ``confusion``."""
        return {**{k: self.scores[k] for k in SCORE_KEYS}, "errors": self.analysis.errors, "confusion": self.analysis.confusion}


def tag_sentences(
    predictor: _Tags,
    words: Sequence[Sequence[str]],
    chunk: int = 512,
    on_progress: Callable[[int, int], None] | None = None,
    docs: Sequence[int] | None = None,
) -> tuple[list[list[str]], list[list[float]]]:
    """Labels and confidences of pre-split sentences, ``chunk`` sentences per call so that
    ``on_progress(done, total)`` can report; the result does not depend on ``chunk``. With
    ``docs`` (document ids, for taggers with document context) a chunk never ends inside a document."""
    labels: list[list[str]] = []
    confidences: list[list[float]] = []
    i = 0
    while i < len(words):
        end = min(i + chunk, len(words))
        while docs is not None and 0 < end < len(words) and docs[end] == docs[end - 1]:
            end += 1
        tagged_all = predictor.tag_words(words[i:end]) if docs is None else predictor.tag_words(words[i:end], docs[i:end])
        for tagged in tagged_all:
            labels.append([label for label, _ in tagged])
            confidences.append([c for _, c in tagged])
        i = end
        if on_progress is not None:
            on_progress(i, len(words))
    return labels, confidences


def evaluate_predictions(
    sentences: Sequence[Sentence], pred: Sequence[Sequence[str]], confidences: Sequence[Sequence[float]] | None = None
) -> Evaluation:
    """Scores and error analysis of given predictions (pure).

    >>> ev = evaluate_predictions([Sentence(["Ann", "ran"], ["B-PER", "O"])], [["B-LOC", "O"]], [[0.6, 0.99]])
    >>> ev.scores["f1"], ev.analysis.errors["wrong_type"], ev.error_sentences[0].min_confidence
    (0.0, 1, 0.6)
    """
    words = [list(s.words) for s in sentences]
    gold = [list(s.tags) for s in sentences]
    pred_l = [list(p) for p in pred]
    conf = [list(c) for c in confidences] if confidences is not None else [[1.0] * len(w) for w in words]
    lines = [s.line for s in sentences]
    return Evaluation(words, gold, pred_l, conf, score(gold, pred_l), lines)


def evaluate(
    predictor: _Tags, sentences: Sequence[Sentence], chunk: int = 512, on_progress: Callable[[int, int], None] | None = None
) -> Evaluation:
    """Tag ``sentences`` with ``predictor`` and evaluate against their gold tags."""
    tagger = getattr(predictor, "tagger", None)
    context = bool(getattr(getattr(tagger, "config", None), "doc_context", False))  # sentences read within their documents
    pred, conf = tag_sentences(predictor, [s.words for s in sentences], chunk, on_progress, [s.doc for s in sentences] if context else None)
    return evaluate_predictions(sentences, pred, conf)


def _word(w: str) -> str:
    """A word as one whitespace-free CoNLL field (conlleval splits on whitespace).

    >>> _word("New York"), _word("")
    ('New_York', '_')
    """
    return _SPACE.sub("_", w) or "_"


def predictions_conll(ev: Evaluation) -> str:
    """``word gold predicted`` per line, a blank line after each sentence: the input of conlleval.

    >>> ev = evaluate_predictions([Sentence(["Ann", "ran"], ["B-PER", "O"])], [["B-PER", "O"]])
    >>> print(predictions_conll(ev), end="")
    Ann B-PER B-PER
    ran O O
    <BLANKLINE>
    """
    out = []
    for words, gold, pred in zip(ev.words, ev.gold, ev.pred):
        out += [f"{_word(w)} {g} {p}\n" for w, g, p in zip(words, gold, pred)]
        out.append("\n")
    return "".join(out)


def predictions_jsonl(ev: Evaluation) -> str:
    """One object per sentence: ``tokens``, ``gold``, ``pred``, ``confidences``."""
    return "".join(
        json.dumps({"tokens": w, "gold": g, "pred": p, "confidences": [round(x, 4) for x in c]}, ensure_ascii=False) + "\n"
        for w, g, p, c in zip(ev.words, ev.gold, ev.pred, ev.confidences)
    )


def errors_jsonl(sentences: Sequence[SentenceErrors]) -> str:
    """One object per sentence with errors (:meth:`tagger.analysis.SentenceErrors.to_dict`)."""
    return "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in sentences)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` atomically (a temporary sibling, then a rename): never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
