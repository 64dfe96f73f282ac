"""Where a tagger goes wrong: entity error classes, a type confusion matrix, per-sentence error lists.

Pure functions over gold and predicted IOB2 (or plain) tag sequences; nothing here loads a model.

**Error classes** (SemEval-2013 task 9.1 / ``nervaluate``). Every gold entity and every predicted
entity of a sentence ends up in exactly one :class:`Match`:

- ``correct``: same span, same type;
- ``wrong_type``: same span, different type;
- ``wrong_boundary``: overlapping span, same type;
- ``wrong_type_and_boundary``: overlapping span, different type;
- ``missed``: a gold entity paired with no prediction;
- ``spurious``: a prediction paired with no gold entity.

**Matching rule** (per sentence, deterministic): gold and predicted entities are paired one to one.
Pairs with identical spans come first (entities read from one tag sequence never overlap, so
such a pair is unique; nested spans given directly are paired the same way). The remaining overlapping pairs are taken greedily, the pair sharing the
most words first, then a same-type pair before a different-type one, then by the gold and the
predicted start. Each entity is paired at most once, so when one prediction covers two gold
entities (or one gold entity two predictions) the entity left over is ``missed`` (``spurious``)
although it overlaps something. This keeps the two invariants exact:

- correct + wrong_type + wrong_boundary + wrong_type_and_boundary + missed = gold entities;
- correct + wrong_type + wrong_boundary + wrong_type_and_boundary + spurious = predicted entities.

Per type, a match counts under its gold type, a spurious one under its predicted type.

**Plain-label tasks** (POS, chunk labels without ``B-``/``I-``): every labelled word is its own
one-word entity (as :func:`tagger.schemes.iob2_spans` reads them), so the same classes apply
(a wrong tag is ``wrong_type``); :func:`tag_confusion` gives the word-level tag confusion matrix
and :func:`tagger.metrics.score` the accuracy and per-tag P/R/F1.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from .data import count
from .schemes import Span, iob2_spans, split_tag

ERROR_KINDS = ("correct", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed", "spurious")
WRONG_KINDS = ("wrong_type", "wrong_boundary", "wrong_type_and_boundary")
MISSED = "missed"  # confusion matrix: the predicted-side column of gold entities nothing was paired with
SPURIOUS = "spurious"  # confusion matrix: the gold-side row of predictions nothing was paired with


@dataclass(frozen=True)
class Match:
    """One gold entity, one predicted entity, or a pair of them, and its error class."""

    kind: str
    gold: Span | None
    pred: Span | None

    @property
    def type(self) -> str:
        """The type it is counted under: the gold type, or the predicted one for a spurious entity."""
        return self.gold.label if self.gold else self.pred.label if self.pred else ""

    @property
    def types(self) -> set[str]:
        return {s.label for s in (self.gold, self.pred) if s}

    @property
    def words(self) -> range:
        """Word indices covered by the gold or the predicted span."""
        spans = [s for s in (self.gold, self.pred) if s]
        return range(min(s.start for s in spans), max(s.end for s in spans))

    def to_dict(self, words: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON-ready; spans as ``[start, end)`` word indices, with their text when ``words`` is given.

        >>> Match("wrong_type", Span("ORG", 0, 1), Span("LOC", 0, 1)).to_dict(["Paris"])
        {'kind': 'wrong_type', 'gold': {'type': 'ORG', 'start': 0, 'end': 1, 'text': 'Paris'}, \
'pred': {'type': 'LOC', 'start': 0, 'end': 1, 'text': 'Paris'}}
        """

        def side(s: Span | None) -> dict[str, Any] | None:
            if s is None:
                return None
            d: dict[str, Any] = {"type": s.label, "start": s.start, "end": s.end}
            if words is not None:
                d["text"] = " ".join(words[s.start : s.end])
            return d

        return {"kind": self.kind, "gold": side(self.gold), "pred": side(self.pred)}


def _overlap(a: Span, b: Span) -> int:
    return min(a.end, b.end) - max(a.start, b.start)


def _disjoint(spans: Sequence[Span]) -> bool:
    return all(a.end <= b.start for a, b in pairwise(spans))


def _overlapping_pairs(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """Index pairs of overlapping spans of two lists sorted by start. Spans read from tags are
    disjoint: one linear sweep. Nested spans (given directly): every pair is tested."""
    if not (_disjoint(gold) and _disjoint(pred)):
        return [(i, j) for i, g in enumerate(gold) for j, q in enumerate(pred) if _overlap(g, q) > 0]
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(gold) and j < len(pred):
        if _overlap(gold[i], pred[j]) > 0:
            pairs.append((i, j))
        if gold[i].end <= pred[j].end:
            i += 1
        else:
            j += 1
    return pairs


def match_entities(gold: Sequence[Span], pred: Sequence[Span]) -> list[Match]:
    """Pair the entities of one sentence (see the module docstring for the rule), in text order.

    >>> [m.kind for m in match_entities([Span("PER", 0, 2)], [Span("PER", 0, 1), Span("PER", 1, 2)])]
    ['wrong_boundary', 'spurious']
    >>> [m.kind for m in match_entities([Span("LOC", 0, 1), Span("LOC", 2, 3)], [Span("ORG", 0, 3)])]
    ['wrong_type_and_boundary', 'missed']
    """
    gold = sorted(gold, key=lambda s: (s.start, s.end))
    pred = sorted(pred, key=lambda s: (s.start, s.end))
    pairs = _overlapping_pairs(gold, pred)

    def rank(p: tuple[int, int]) -> tuple[bool, int, bool, int, int]:
        g, q = gold[p[0]], pred[p[1]]
        exact = (g.start, g.end) == (q.start, q.end)
        return (not exact, -_overlap(g, q), g.label != q.label, g.start, q.start)

    gold_used: dict[int, Match] = {}
    pred_used: set[int] = set()
    for gi, pi in sorted(pairs, key=rank):
        if gi in gold_used or pi in pred_used:
            continue
        g, q = gold[gi], pred[pi]
        same_span, same_type = (g.start, g.end) == (q.start, q.end), g.label == q.label
        kind = ("correct" if same_type else "wrong_type") if same_span else ("wrong_boundary" if same_type else "wrong_type_and_boundary")
        gold_used[gi] = Match(kind, g, q)
        pred_used.add(pi)
    out = [gold_used.get(gi) or Match("missed", g, None) for gi, g in enumerate(gold)]
    out += [Match("spurious", None, q) for pi, q in enumerate(pred) if pi not in pred_used]
    return sorted(out, key=lambda m: (m.words.start, m.gold is None))


def classify(gold_tags: Sequence[str], pred_tags: Sequence[str]) -> list[Match]:
    """Error classes of one sentence's entities from its gold and predicted tags.

    >>> [(m.kind, m.type) for m in classify(["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-ORG"])]
    [('correct', 'PER'), ('wrong_type', 'LOC')]
    >>> [m.kind for m in classify(["O", "O"], ["B-MISC", "O"])]
    ['spurious']
    """
    return match_entities(iob2_spans(gold_tags), iob2_spans(pred_tags))


def is_plain(tags: Iterable[Sequence[str]]) -> bool:
    """Whether any tag is a plain label (no ``B-``/``I-``/... prefix, not ``O``).

    >>> is_plain([["NNP", "VBZ"]]), is_plain([["B-PER", "O"]])
    (True, False)
    """
    return any(t != "O" and not split_tag(t)[0] for s in tags for t in s)


def count_errors(matches: Iterable[Match]) -> dict[str, Any]:
    """The six counts overall, and per type (``per_type``, types sorted).

    >>> c = count_errors(classify(["B-PER", "O", "B-LOC"], ["B-PER", "B-ORG", "O"]))
    >>> {k: v for k, v in c.items() if k != "per_type" and v}
    {'correct': 1, 'missed': 1, 'spurious': 1}
    >>> sorted(c["per_type"])
    ['LOC', 'ORG', 'PER']
    """
    total: Counter[str] = Counter()
    per_type: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for m in matches:
        total[m.kind] += 1
        per_type[m.type][m.kind] += 1
    out: dict[str, Any] = {k: total[k] for k in ERROR_KINDS}
    out["per_type"] = {t: {k: per_type[t][k] for k in ERROR_KINDS} for t in sorted(per_type)}
    return out


def confusion_matrix(matches: Iterable[Match]) -> dict[str, dict[str, int]]:
    """Gold type x predicted type over paired entities, plus a ``missed`` column (gold entities
    paired with nothing) and a ``spurious`` row (predictions paired with nothing).

    >>> confusion_matrix(classify(["B-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "O", "B-PER"]))
    {'PER': {'ORG': 1}, 'LOC': {'missed': 1}, 'spurious': {'PER': 1}}
    """
    out: dict[str, dict[str, int]] = {}
    for m in matches:
        row = m.gold.label if m.gold else SPURIOUS
        col = m.pred.label if m.pred else MISSED
        out.setdefault(row, {})
        out[row][col] = out[row].get(col, 0) + 1
    return out


def tag_confusion(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, dict[str, int]]:
    """Word-level confusion of tags ``{gold tag: {predicted tag: count}}`` (for plain-label tasks).

    >>> tag_confusion([["NN", "VB", "NN"]], [["NN", "NN", "NN"]])
    {'NN': {'NN': 2}, 'VB': {'NN': 1}}
    """
    counts: Counter[tuple[str, str]] = Counter((a, b) for g, p in zip(gold, pred) for a, b in zip(g, p))
    out: dict[str, dict[str, int]] = {}
    for (a, b), n in sorted(counts.items()):
        out.setdefault(a, {})[b] = n
    return out


@dataclass
class SentenceErrors:
    """One sentence with at least one error: its words, gold and predicted tags, the model's
    confidence in each predicted tag, and the non-correct matches."""

    index: int  # position in the evaluated data
    words: list[str]
    gold: list[str]
    pred: list[str]
    confidences: list[float]
    errors: list[Match]
    line: int = 0  # first line in the source file (0: unknown)

    @property
    def min_confidence(self) -> float:
        """Lowest confidence over the words an error covers (1.0 without confidences)."""
        ws = {w for m in self.errors for w in m.words}
        return min((self.confidences[w] for w in ws if w < len(self.confidences)), default=1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "line": self.line, "words": self.words, "gold": self.gold, "pred": self.pred,
            "confidences": [round(c, 4) for c in self.confidences],
            "errors": [m.to_dict(self.words) for m in self.errors],
        }


@dataclass
class Analysis:
    """Error analysis of a whole data set (see :func:`analyse`)."""

    task: str  # "entities", or "plain" for labels without B-/I- prefixes
    errors: dict[str, Any]  # count_errors: the six kinds + per_type
    confusion: dict[str, dict[str, int]]  # entities: confusion_matrix; plain: tag_confusion
    sentences: list[SentenceErrors] = field(default_factory=list)  # those with >= 1 error, in data order
    n_gold: int = 0  # gold entities (plain: labelled words)
    n_pred: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "errors": self.errors, "confusion": self.confusion}


def analyse(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    confidences: Sequence[Sequence[float]] | None = None,
    words: Sequence[Sequence[str]] | None = None,
    lines: Sequence[int] | None = None,
) -> Analysis:
    """Error classes, confusion matrix and the sentences with errors for a whole data set.

    >>> a = analyse([["B-PER", "O"], ["O", "B-LOC"]], [["B-PER", "O"], ["B-LOC", "O"]], words=[["Ann", "ran"], ["in", "Rome"]])
    >>> a.errors["correct"], a.errors["wrong_boundary"], a.errors["spurious"], a.errors["missed"]
    (1, 0, 1, 1)
    >>> [(s.index, [m.kind for m in s.errors]) for s in a.sentences]
    [(1, ['spurious', 'missed'])]
    """
    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise ValueError("gold and predicted tags differ in shape")
    plain = is_plain(gold) or is_plain(pred)
    all_matches: list[Match] = []
    sentences: list[SentenceErrors] = []
    n_gold = n_pred = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        matches = classify(g, p)
        all_matches += matches
        n_gold += sum(m.gold is not None for m in matches)
        n_pred += sum(m.pred is not None for m in matches)
        errs = [m for m in matches if m.kind != "correct"]
        if errs:
            sentences.append(SentenceErrors(
                i, list(words[i]) if words is not None else [""] * len(g), list(g), list(p),
                [float(c) for c in confidences[i]] if confidences is not None else [1.0] * len(g),
                errs, lines[i] if lines is not None else 0,
            ))
    confusion = tag_confusion(gold, pred) if plain else confusion_matrix(all_matches)
    return Analysis("plain" if plain else "entities", count_errors(all_matches), confusion, sentences, n_gold, n_pred)


def filter_sentences(sentences: Iterable[SentenceErrors], types: Iterable[str] = (), kinds: Iterable[str] = ()) -> list[SentenceErrors]:
    """Sentences with an error of one of ``kinds`` that involves (as gold or predicted type) one of
    ``types``; an empty filter lets everything through.

    >>> a = analyse([["B-PER", "O", "B-LOC"]], [["B-ORG", "O", "O"]])
    >>> len(filter_sentences(a.sentences, types=["LOC"], kinds=["missed"])), len(filter_sentences(a.sentences, ["LOC"], ["wrong_type"]))
    (1, 0)
    """
    types, kinds = set(types), set(kinds)
    return [
        s for s in sentences
        if any((not types or m.types & types) and (not kinds or m.kind in kinds) for m in s.errors)
    ]


SORT_KEYS = ("errors", "confidence", "order")


def sort_sentences(sentences: Iterable[SentenceErrors], by: str = "errors") -> list[SentenceErrors]:
    """``errors``: most errors first; ``confidence``: lowest :attr:`~SentenceErrors.min_confidence`
    first; ``order``: data order. Ties keep data order.

    >>> a = analyse([["B-PER"], ["B-PER", "B-LOC"]], [["O"], ["O", "O"]], confidences=[[0.2], [0.9, 0.8]])
    >>> [s.index for s in sort_sentences(a.sentences, "errors")], [s.index for s in sort_sentences(a.sentences, "confidence")]
    ([1, 0], [0, 1])
    """
    keys = {
        "errors": lambda s: (-len(s.errors), s.index),
        "confidence": lambda s: (s.min_confidence, s.index),
        "order": lambda s: s.index,
    }
    if by not in keys:
        raise ValueError(f"sort by one of {', '.join(SORT_KEYS)}, not {by!r}")
    return sorted(sentences, key=keys[by])


def format_errors(errors: dict[str, Any]) -> str:
    """The six counts as a fixed-width table, one row per type, then the total.

    >>> print(format_errors(count_errors(classify(["B-PER"], ["B-ORG"]))))
    type                 correct wrong_type wrong_boundary wrong_type_and_boundary  missed spurious
    PER                        0          1              0                       0       0        0
    total                      0          1              0                       0       0        0
    """
    widths = [len(k) for k in ERROR_KINDS]
    widths[-2] = max(widths[-2], 7)

    def row(name: str, counts: dict[str, int]) -> str:
        return f"{name:<20} " + " ".join(f"{counts[k]:>{w}d}" for k, w in zip(ERROR_KINDS, widths))

    head = f"{'type':<20} " + " ".join(f"{k:>{w}}" for k, w in zip(ERROR_KINDS, widths))
    return "\n".join([head, *(row(t, c) for t, c in errors["per_type"].items()), row("total", errors)])


@dataclass
class Disagreement:
    """A sentence two models tag differently, with each one's number of errors."""

    index: int
    words: list[str]
    gold: list[str]
    a: list[str]
    b: list[str]
    errors_a: list[Match]
    errors_b: list[Match]

    @property
    def better(self) -> str:
        """"a" or "b" (fewer errors), or "same"."""
        na, nb = len(self.errors_a), len(self.errors_b)
        return "a" if na < nb else "b" if nb < na else "same"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "words": self.words, "gold": self.gold, "a": self.a, "b": self.b,
            "errors_a": [m.to_dict(self.words) for m in self.errors_a], "errors_b": [m.to_dict(self.words) for m in self.errors_b],
            "better": self.better,
        }


def compare(
    gold: Sequence[Sequence[str]],
    pred_a: Sequence[Sequence[str]],
    pred_b: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Two models on the same data: scores of each (:func:`tagger.metrics.score`), per-type F1 side
    by side (``per_type``: ``{type: {"a", "b", "delta", "support"}}``, ``delta`` = b - a) and the
    sentences where their tags differ (``disagreements``: :class:`Disagreement`, data order).

    >>> c = compare([["B-PER", "O"], ["B-LOC", "O"]], [["B-PER", "O"], ["O", "O"]], [["B-PER", "O"], ["B-LOC", "O"]])
    >>> c["per_type"]["LOC"]["a"], c["per_type"]["LOC"]["b"], [(d.index, d.better) for d in c["disagreements"]]
    (0.0, 100.0, [(1, 'b')])
    """
    from .metrics import score  # seqeval: imported on use

    if len(pred_a) != len(gold) or len(pred_b) != len(gold):
        raise ValueError("gold and predicted tags differ in shape")
    sa, sb = score(gold, pred_a), score(gold, pred_b)
    types = sorted(set(sa["per_type"]) | set(sb["per_type"]))
    per_type = {}
    for t in types:
        fa = sa["per_type"].get(t, {}).get("f1", 0.0)
        fb = sb["per_type"].get(t, {}).get("f1", 0.0)
        support = sa["per_type"].get(t, sb["per_type"].get(t, {})).get("support", 0)
        per_type[t] = {"a": fa, "b": fb, "delta": fb - fa, "support": support}
    disagreements = []
    for i, (g, a, b) in enumerate(zip(gold, pred_a, pred_b)):
        if list(a) != list(b):
            ea = [m for m in classify(g, a) if m.kind != "correct"]
            eb = [m for m in classify(g, b) if m.kind != "correct"]
            ws = list(words[i]) if words is not None else [""] * len(g)
            disagreements.append(Disagreement(i, ws, list(g), list(a), list(b), ea, eb))
    return {"a": sa, "b": sb, "per_type": per_type, "disagreements": disagreements}


def format_comparison(comparison: dict[str, Any], name_a: str = "A", name_b: str = "B", show: int = 10) -> str:
    """Per-type F1 of two models side by side, the micro average, how many sentences differ, and
    the first ``show`` of those whose numbers of errors differ most."""
    head = f"{'type':<20} {name_a[:10]:>10} {name_b[:10]:>10} {'delta':>7} {'support':>8}"
    rows = [head]
    for t, v in comparison["per_type"].items():
        rows.append(f"{t:<20} {v['a']:10.2f} {v['b']:10.2f} {v['delta']:+7.2f} {v['support']:8d}")
    fa, fb = comparison["a"]["f1"], comparison["b"]["f1"]
    rows.append(f"{'micro avg':<20} {fa:10.2f} {fb:10.2f} {fb - fa:+7.2f}")
    ds = comparison["disagreements"]
    better = Counter(d.better for d in ds)
    rows.append(
        f"{count(len(ds), 'sentence')} tagged differently: {name_a} has fewer errors in {better['a']}, "
        f"{name_b} in {better['b']}, the same number in {better['same']}"
    )
    for d in sorted(ds, key=lambda d: (-abs(len(d.errors_a) - len(d.errors_b)), d.index))[:show]:
        text = " ".join(d.words)
        rows.append(f"  #{d.index}: {name_a} {len(d.errors_a)} errors, {name_b} {len(d.errors_b)}: {text[:80]}")
    return "\n".join(rows)
