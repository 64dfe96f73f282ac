"""Evaluation results -> values for the Evaluate tab's components. Pure functions.

The error browser shows a sentence as two HighlightedText lines (gold, predicted) built with
:func:`demo.ui.render.entity_value`; entities that take part in an error carry a ``✗`` after their
type. User-controlled text (words, labels, file names) is escaped (:func:`demo.ui.render.md`,
``html.escape``) before it goes into Markdown or HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tagger.analysis import ERROR_KINDS, MISSED, SPURIOUS, Match, SentenceErrors
from tagger.schemes import iob2_spans

from . import render

ERROR_MARK = " ✗"
KIND_NAMES = {
    "correct": "correct", "wrong_type": "wrong type", "wrong_boundary": "wrong boundary",
    "wrong_type_and_boundary": "wrong type and boundary", "missed": "missed", "spurious": "spurious",
}
ERROR_COLUMNS = ["type", *ERROR_KINDS]  # the keys, as in the JSON of `evaluate --json` (the API returns this table)
COMPARE_COLUMNS = ["type", "F1 A", "F1 B", "B - A", "support"]
DISAGREE_COLUMNS = ["#", "sentence", "gold", "A", "B", "errors A", "errors B"]


@dataclass(frozen=True)
class _Entity:
    text: str
    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True)
class _Line:
    text: str
    entities: tuple[_Entity, ...]


def sentence_value(words: Sequence[str], tags: Sequence[str], marked: set[tuple[int, int]] = frozenset(),
                   confidences: Sequence[float] | None = None) -> dict[str, Any]:
    """A HighlightedText value of a tagged sentence (words joined by spaces); spans in ``marked``
    (``(start, end)`` word indices) get :data:`ERROR_MARK` after their type.

    >>> v = sentence_value(["Ann", "met", "Bob"], ["B-PER", "O", "B-ORG"], {(2, 3)})
    >>> v["text"], [(v["text"][e["start"]:e["end"]], e["entity"]) for e in v["entities"]]
    ('Ann met Bob', [('Ann', 'PER'), ('Bob', 'ORG ✗')])
    """
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    ents = []
    for sp in iob2_spans(tags):
        a, b = starts[sp.start], starts[sp.end - 1] + len(words[sp.end - 1])
        score = sum(confidences[sp.start : sp.end]) / (sp.end - sp.start) if confidences else 1.0
        label = sp.label + (ERROR_MARK if (sp.start, sp.end) in marked else "")
        ents.append(_Entity(" ".join(words[sp.start : sp.end]), a, b, label, score))
    return render.entity_value(_Line(" ".join(words), tuple(ents)))


def marked_spans(errors: Sequence[Match]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(gold spans, predicted spans) that take part in an error."""
    gold = {(m.gold.start, m.gold.end) for m in errors if m.gold}
    pred = {(m.pred.start, m.pred.end) for m in errors if m.pred}
    return gold, pred


def browser_color_map(types: Sequence[str]) -> dict[str, str]:
    """Each type's colour (:func:`demo.ui.render.color_map`), also for its ``✗`` variant.

    >>> browser_color_map(["PER"]) == {"PER": "#f87171", "PER ✗": "#f87171"}
    True
    """
    out = {}
    for t, c in render.color_map(list(types)).items():
        out[t] = out[t + ERROR_MARK] = c
    return out


def describe_error(m: Match, words: Sequence[str]) -> str:
    """One error in words, as Markdown (user text escaped).

    >>> from tagger.schemes import Span
    >>> describe_error(Match("wrong_type", Span("PER", 0, 1), Span("LOC", 0, 1)), ["China"])
    'wrong type: “China” PER → LOC'
    >>> describe_error(Match("spurious", None, Span("MISC", 1, 2)), ["Group", "C"])
    'spurious: “C” MISC'
    """
    def text(s: Any) -> str:
        return "“" + render.md(" ".join(words[s.start : s.end])) + "”"

    name = KIND_NAMES.get(m.kind, m.kind)
    if m.gold and m.pred:
        if m.kind == "wrong_type":
            return f"{name}: {text(m.gold)} {render.md(m.gold.label)} → {render.md(m.pred.label)}"
        return f"{name}: {text(m.gold)} {render.md(m.gold.label)} → {text(m.pred)} {render.md(m.pred.label)}"
    side = m.gold or m.pred
    assert side is not None
    return f"{name}: {text(side)} {render.md(side.label)}"


def sentence_header(s: SentenceErrors) -> str:
    """The browser's line above a sentence: number, source line, errors, lowest confidence."""
    where = f" (line {s.line})" if s.line else ""
    n = len(s.errors)
    errs = "; ".join(describe_error(m, s.words) for m in s.errors)
    return f"**#{s.index + 1}**{where} · {n} error{'s' if n != 1 else ''} · lowest confidence {s.min_confidence:.2f} — {errs}"


def error_table(errors: dict[str, Any]) -> pd.DataFrame:
    """The error-type table: one row per type, then ``total``.

    >>> error_table({"per_type": {"PER": dict.fromkeys(ERROR_KINDS, 1)}, **dict.fromkeys(ERROR_KINDS, 1)}).values.tolist()[-1]
    ['total', 1, 1, 1, 1, 1, 1]
    """
    rows = [[t, *(c[k] for k in ERROR_KINDS)] for t, c in (errors.get("per_type") or {}).items()]
    rows.append(["total", *(errors.get(k, 0) for k in ERROR_KINDS)])
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def _cell_style(n: int, top: int, diagonal: bool) -> str:
    if not n:
        return "background:#ffffff;color:#9ca3af"
    share = n / max(top, 1)
    alpha = 0.12 + 0.78 * share
    rgb = "34,197,94" if diagonal else "239,68,68"  # green where types agree, red for confusions
    color = "#ffffff" if alpha > 0.55 else "#111827"
    return f"background:rgba({rgb},{alpha:.2f});color:{color}"


OTHER = "other"
WIDE_TYPES, NARROW_TYPES = 10, 5  # types shown by name on a wide screen / a phone; the rest are summed as "other"
CONFUSION_NOTE = {
    "entities": ("Entity level: each gold entity is paired with at most one predicted entity (the same span first, then "
                 "the largest overlap). The diagonal counts pairs of the same type, wrong spans included, so it can be "
                 "larger than “correct” in the error table below, which counts exact matches only. “missed”: gold "
                 "entities paired with nothing; “spurious”: predictions paired with nothing."),
    "plain": "Word level: each word's gold tag (row) against its predicted tag (column); the diagonal is the correct words.",
}


def fold_types(confusion: dict[str, dict[str, int]], keep: int, extra: set[str]) -> dict[str, dict[str, int]]:
    """The matrix with all but the ``keep`` most frequent types (by gold and predicted counts) summed
    as ``other``, so that a data set with many types still fits a screen.

    >>> fold_types({"A": {"A": 5, "B": 1}, "B": {"B": 2}, "C": {"C": 1, "missed": 1}}, 1, {"missed"})
    {'A': {'A': 5, 'other': 1}, 'other': {'other': 3, 'missed': 1}}
    """
    totals: dict[str, int] = {}
    for row, cols in confusion.items():
        for col, n in cols.items():
            for t in (row, col):
                if t not in extra:
                    totals[t] = totals.get(t, 0) + n
    if len(totals) <= keep:
        return confusion
    kept = set(sorted(totals, key=lambda t: (-totals[t], t))[:keep])
    out: dict[str, dict[str, int]] = {}
    for row, cols in confusion.items():
        r = row if row in kept or row in extra else OTHER
        for col, n in cols.items():
            c = col if col in kept or col in extra else OTHER
            out.setdefault(r, {})
            out[r][c] = out[r].get(c, 0) + n
    return out


def _matrix_table(confusion: dict[str, dict[str, int]], task: str) -> str:
    extra = {SPURIOUS, MISSED} if task == "entities" else set()
    found = (set(confusion) | {c for row in confusion.values() for c in row}) - extra
    labels = sorted(found - {OTHER}) + ([OTHER] if OTHER in found else [])
    rows, cols = labels, labels
    if task == "entities":
        rows, cols = [*labels, SPURIOUS], [*labels, MISSED]
    cells = [(r, c, confusion.get(r, {}).get(c, 0)) for r in rows for c in cols]
    top_diag = max((n for r, c, n in cells if r == c), default=1)
    top_off = max((n for r, c, n in cells if r != c), default=1)
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for r in rows:
        tds = "".join(
            f'<td style="{_cell_style(n, top_diag if r == c else top_off, r == c)}" title="gold {esc(r)}, predicted {esc(c)}: {n}">{n}</td>'
            for c in cols for n in [confusion.get(r, {}).get(c, 0)]
        )
        body.append(f'<tr><th class="cm-row">{esc(r)}</th>{tds}</tr>')
    return (f'<table class="cm"><thead><tr><th class="cm-row">gold ↓ predicted →</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def confusion_html(confusion: dict[str, dict[str, int]], task: str = "entities") -> str:
    """The confusion matrix as an HTML heat map (no fonts or scripts fetched), with what it counts.
    Rows: gold; columns: predicted; entities add a ``missed`` column and a ``spurious`` row.
    Cells where gold and predicted agree are green, confusions red, deeper for larger counts
    (each relative to the largest count of its kind). It never scrolls sideways: beyond
    :data:`WIDE_TYPES` types (:data:`NARROW_TYPES` on a phone) the least frequent are summed as "other".

    >>> h = confusion_html({"PER": {"PER": 3, MISSED: 1}, SPURIOUS: {"PER": 2}})
    >>> h.count("<tr>"), "rgba(34,197,94,0.90)" in h, "&lt;" in confusion_html({"<b>": {"<b>": 1}})
    (6, True, True)
    """
    if not confusion:
        return "<p>No entities in the gold data or the predictions: nothing to confuse.</p>"
    extra = {SPURIOUS, MISSED} if task == "entities" else set()
    wide = _matrix_table(fold_types(confusion, WIDE_TYPES, extra), task)
    narrow = _matrix_table(fold_types(confusion, NARROW_TYPES, extra), task)
    note = html.escape(CONFUSION_NOTE.get(task, CONFUSION_NOTE["entities"]))
    return f'<div class="cm-wide">{wide}</div><div class="cm-narrow">{narrow}</div><p class="cm-note">{note}</p>'


def compare_table(per_type: dict[str, dict[str, Any]], f1_a: float, f1_b: float) -> pd.DataFrame:
    """Per-type F1 of two models side by side, then the micro average."""
    rows = [[t, round(v["a"], 2), round(v["b"], 2), round(v["delta"], 2), v["support"]] for t, v in per_type.items()]
    rows.append(["micro avg", round(f1_a, 2), round(f1_b, 2), round(f1_b - f1_a, 2), sum(r[4] for r in rows)])
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def entity_list(words: Sequence[str], tags: Sequence[str]) -> str:
    """Entities as ``text/TYPE`` separated by ``; `` (a table cell).

    >>> entity_list(["Ann", "in", "New", "York"], ["B-PER", "O", "B-LOC", "I-LOC"])
    'Ann/PER; New York/LOC'
    """
    return "; ".join(f"{' '.join(words[s.start : s.end])}/{s.label}" for s in iob2_spans(tags)) or "–"


def disagreement_table(disagreements: Sequence[Any], limit: int = 200) -> pd.DataFrame:
    """The sentences two models tag differently (:class:`tagger.analysis.Disagreement`), those
    whose numbers of errors differ most first, at most ``limit``."""
    ordered = sorted(disagreements, key=lambda d: (-abs(len(d.errors_a) - len(d.errors_b)), d.index))[:limit]
    rows = [
        [d.index + 1, " ".join(d.words), entity_list(d.words, d.gold), entity_list(d.words, d.a), entity_list(d.words, d.b),
         len(d.errors_a), len(d.errors_b)]
        for d in ordered
    ]
    return pd.DataFrame(rows, columns=DISAGREE_COLUMNS)


def page_of(items: Sequence[Any], page: Any, size: int) -> tuple[list[Any], int, int]:
    """(the items of page ``page`` (1-based, clamped), that page, number of pages).

    >>> page_of(list(range(12)), 9, 5)
    ([10, 11], 3, 3)
    >>> page_of([], 1, 5)
    ([], 1, 1)
    """
    pages = max(1, -(-len(items) // size))
    try:
        p = min(max(1, int(page)), pages)
    except (TypeError, ValueError):
        p = 1
    return list(items[(p - 1) * size : p * size]), p, pages


def summary_markdown(model: str, file: str, ev: Any, seconds: float, model_types: Sequence[str] = ()) -> str:
    """Overall figures of an evaluation (:class:`tagger.evaluation.Evaluation`)."""
    a, s = ev.analysis, ev.scores
    n_words = sum(len(w) for w in ev.words)
    unit = "labelled words" if a.task == "plain" else "entities"
    lines = [
        f"Model `{render.md(model)}` on **{render.md(file)}**: {render.count(len(ev.words), 'sentence')}, {render.count(n_words, 'word')}, in {seconds:.1f} s",
        (f"**F1 {s['f1']:.2f}** (precision {s['precision']:.2f}, recall {s['recall']:.2f}) · word accuracy "
         f"{s['accuracy']:.2f} · gold {unit} {a.n_gold:,}, predicted {a.n_pred:,} · "
         f"**{render.count(len(a.sentences), 'sentence')} with errors**"),
    ]
    gold_types = {t for g in ev.gold for t in (render.entity_type(x) for x in g) if t != "O"}
    unknown = sorted(gold_types - set(model_types)) if model_types else []
    if unknown:
        lines.append(f"⚠ labels in the data that the model does not have: {render.md(', '.join(unknown[:10]))}")
    return "  \n".join(lines)
